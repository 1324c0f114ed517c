/**
 * Properties of the codec, checked with fast-check over generated messages and generated junk.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode, type DecodeErrorCode, type DecodeResult } from './codec.js';
import { crc16modbus, crcHex } from './crc16.js';
import {
  BOOT_REASONS,
  FAULT_CODES,
  LED_MODES,
  MAX_ADDRESS,
  MAX_CHANNELS,
  MAX_PULSE_MS,
  MIN_ADDRESS,
  MIN_CHANNEL,
  MIN_PULSE_MS,
  NAK_REASONS,
  type Message,
  type SwitchLevel,
} from './messages.js';

// ---- arbitraries: one per message kind, respecting every range ------------------------------------
const addr = fc.integer({ min: MIN_ADDRESS, max: MAX_ADDRESS });
const seq = fc.integer({ min: 0, max: 0xffff });
const channel = fc.integer({ min: MIN_CHANNEL, max: MAX_CHANNELS });
const level = fc.constantFrom<SwitchLevel>('C', 'O');
const header = { addr, seq };

const ARBITRARIES: Record<Message['kind'], fc.Arbitrary<Message>> = {
  ident: fc.record({ kind: fc.constant('ident' as const), ...header }),
  status: fc.record({ kind: fc.constant('status' as const), ...header }),
  unlock: fc.record({ kind: fc.constant('unlock' as const), ...header, channel, pulseMs: fc.integer({ min: MIN_PULSE_MS, max: MAX_PULSE_MS }) }),
  led: fc.record({ kind: fc.constant('led' as const), ...header, channel, mode: fc.constantFrom(...LED_MODES) }),
  'ack-ident': fc.record({
    kind: fc.constant('ack-ident' as const),
    ...header,
    protocol: fc.integer({ min: 1, max: 9999 }),
    firmware: fc.stringMatching(/^[A-Za-z0-9._-]{1,24}$/),
    channels: fc.integer({ min: 1, max: MAX_CHANNELS }),
  }),
  'ack-status': fc.integer({ min: 1, max: MAX_CHANNELS }).chain((n) =>
    fc.record({
      kind: fc.constant('ack-status' as const),
      ...header,
      eventCounter: seq,
      doors: fc.array(level, { minLength: n, maxLength: n }),
      items: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      faults: fc.array(fc.constantFrom(...FAULT_CODES), { minLength: n, maxLength: n }),
    }),
  ),
  'ack-unlock': fc.record({ kind: fc.constant('ack-unlock' as const), ...header, channel, duplicate: fc.boolean() }),
  'ack-led': fc.record({ kind: fc.constant('ack-led' as const), ...header, channel, mode: fc.constantFrom(...LED_MODES) }),
  nak: fc.record({ kind: fc.constant('nak' as const), ...header, verb: fc.stringMatching(/^[A-Z]{1,12}$/), reason: fc.constantFrom(...NAK_REASONS) }),
  door: fc.record({ kind: fc.constant('door' as const), ...header, channel, level }),
  item: fc.record({ kind: fc.constant('item' as const), ...header, channel, present: fc.boolean() }),
  boot: fc.record({ kind: fc.constant('boot' as const), addr: header.addr, seq: fc.constant(0), reason: fc.constantFrom(...BOOT_REASONS) }), // BOOT carries 0000
  fault: fc.record({ kind: fc.constant('fault' as const), ...header, channel, fault: fc.constantFrom(...FAULT_CODES) }),
};
const anyMessage = fc.oneof(...Object.values(ARBITRARIES));

/** Line noise that cannot itself start a frame or end the line. */
const noise = fc.string({
  unit: fc
    .integer({ min: 0, max: 255 })
    .filter((b) => ![0x0a, 0x0d, 0x3c, 0x3e].includes(b))
    .map((b) => String.fromCharCode(b)),
  maxLength: 40,
});

const ERROR_CODES: readonly DecodeErrorCode[] = [
  'NO_FRAME',
  'TOO_LONG',
  'MALFORMED',
  'BAD_CRC',
  'BAD_ADDRESS',
  'UNKNOWN_VERB',
  'BAD_ARGS',
  'BAD_CHANNEL',
];

function wellTyped(r: DecodeResult): void {
  if (r.ok) {
    expect(typeof r.message.kind).toBe('string');
    expect(Number.isInteger(r.noise)).toBe(true);
  } else {
    expect(ERROR_CODES).toContain(r.error.code);
    expect(typeof r.error.detail).toBe('string');
    expect(Number.isInteger(r.error.noise)).toBe(true);
  }
}

/** Header-shaped text with a correct CRC around tokens from the protocol's own vocabulary, so that generated
 *  input gets past the CRC and exercises every argument check. */
const VOCABULARY = [
  'IDENT',
  'STATUS',
  'UNLOCK',
  'LED',
  'ACK',
  'NAK',
  'DOOR',
  'ITEM',
  'BOOT',
  'FAULT',
  'DUP',
  'ON',
  'OFF',
  'BLINK',
  'C',
  'O',
  'CO',
  'OC',
  '0',
  '1',
  '01',
  '7',
  '24',
  '48',
  '49',
  '99',
  '100',
  '300',
  '2000',
  '2001',
  '65535',
  '-',
  '--',
  'S',
  '-S',
  'POWERON',
  'NONE',
  'COIL_OPEN',
  'COIL_SHORT',
  'BUSY',
  'BAD_CHANNEL',
  'FFFF',
  '0000',
  'LB24-1.0.3',
  '',
  ' ',
  'x*',
];
const frameLike = fc
  .tuple(
    fc.constantFrom('>', '<'),
    fc.oneof(
      fc.integer({ min: 0, max: 255 }).map((n) => n.toString(16).toUpperCase().padStart(2, '0')),
      fc.constantFrom('1', '001', '1f'),
    ),
    fc.oneof(
      seq.map((n) => n.toString(16).toUpperCase().padStart(4, '0')),
      fc.constantFrom('', '12345', 'abcd'),
    ),
    fc.array(fc.oneof(fc.constantFrom(...VOCABULARY), fc.nat({ max: 70000 }).map(String)), { maxLength: 6 }),
  )
  .map(([marker, a, s, tokens]) => {
    const body = `${marker}${a} ${s}${tokens.map((t) => ` ${t}`).join('')}`;
    return `${body}*${crcHex(body)}`;
  });

describe('round trip', () => {
  for (const [kind, arb] of Object.entries(ARBITRARIES)) {
    it(`decode(encode(m)) equals m for every valid ${kind}`, () => {
      fc.assert(
        fc.property(arb, (m) => {
          const frame = encode(m);
          expect(frame.length + 1).toBeLessThanOrEqual(256);
          expect(decode(frame)).toEqual({ ok: true, message: m, noise: 0 });
          expect(decode(`${frame}\r\n`)).toEqual({ ok: true, message: m, noise: 0 });
        }),
        { numRuns: 300 },
      );
    });
  }

  it('decodes a valid frame behind line noise to the same message and counts the noise', () => {
    fc.assert(
      fc.property(noise, anyMessage, (n, m) => {
        expect(decode(`${n}${encode(m)}\n`)).toEqual({ ok: true, message: m, noise: n.length });
      }),
      { numRuns: 500 },
    );
  });

  it('has one spelling per message: whatever decodes re-encodes to the same text', () => {
    fc.assert(
      fc.property(frameLike, (frame) => {
        const r = decode(frame);
        wellTyped(r);
        if (r.ok) expect(encode(r.message)).toBe(frame);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('decode never throws', () => {
  it('on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => wellTyped(decode(s))),
      { numRuns: 2000 },
    );
  });

  it('on arbitrary byte sequences read as latin1', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => wellTyped(decode(Buffer.from(b).toString('latin1')))),
      { numRuns: 2000 },
    );
  });

  it('on frame-shaped input with a correct CRC', () => {
    fc.assert(
      fc.property(frameLike, noise, (f, n) => wellTyped(decode(n + f))),
      { numRuns: 2000 },
    );
  });
});

describe('a single corrupted character never yields a different valid message', () => {
  const corrupt = (text: string, i: number, c: string): string => text.slice(0, i) + c + text.slice(i + 1);

  it('for any message, any position (noise included) and any byte value', () => {
    const byte = fc.integer({ min: 0, max: 255 }).map((b) => String.fromCharCode(b));
    fc.assert(
      fc.property(noise, anyMessage, fc.nat(), byte, (n, m, pos, c) => {
        const line = n + encode(m);
        const i = pos % line.length;
        fc.pre(line[i] !== c);
        const r = decode(corrupt(line, i, c));
        wellTyped(r);
        if (r.ok) {
          expect(i).toBeLessThan(n.length); // only a change in the noise can still decode…
          expect(r.message).toEqual(m); // …and then to the very same message
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('exhaustively for every position and every byte value of one frame of each kind', () => {
    const messages = fc.sample(fc.tuple(...Object.values(ARBITRARIES)), { numRuns: 1, seed: 4242 })[0]!;
    const undetected: string[] = [];
    let checked = 0;
    for (const m of messages) {
      const frame = encode(m);
      const bodyLength = frame.indexOf('*');
      const bodyCrc = crc16modbus(frame.slice(0, bodyLength));
      for (let i = 0; i < frame.length; i++) {
        for (let b = 0; b < 256; b++) {
          if (frame.charCodeAt(i) === b) continue;
          const bad = corrupt(frame, i, String.fromCharCode(b));
          checked++;
          // CRC-16/MODBUS catches every error confined to one byte of the checked text…
          if (i < bodyLength && crc16modbus(bad.slice(0, bodyLength)) === bodyCrc) undetected.push(`crc ${JSON.stringify(bad)}`);
          // …and the decoder refuses every such line, whatever byte was hit.
          if (decode(bad).ok) undetected.push(JSON.stringify(bad));
        }
      }
    }
    expect(undetected).toEqual([]);
    expect(checked).toBeGreaterThan(13 * 15 * 255);
  });
});

describe('UNLOCK can only ever address one real board and one real channel', () => {
  const unlockish = fc
    .tuple(
      fc.oneof(fc.integer({ min: 0, max: 33 }), fc.integer({ min: 0, max: 255 })),
      seq,
      fc.oneof(
        fc.integer({ min: -1, max: 50 }).map(String),
        fc.integer({ min: -5, max: 70000 }).map(String),
        fc.constantFrom('00', '01', '0', '', 'ALL', '*'),
      ),
      fc.oneof(fc.integer({ min: 95, max: 2005 }).map(String), fc.integer({ min: -5, max: 70000 }).map(String), fc.constantFrom('0300', '300 1')),
    )
    .map(([a, s, ch, p]) => {
      const body = `>${a.toString(16).toUpperCase().padStart(2, '0')} ${s.toString(16).toUpperCase().padStart(4, '0')} UNLOCK ${ch} ${p}`;
      return `${body}*${crcHex(body)}`;
    });

  it('every UNLOCK that decodes has addr 1..31, channel 1..48 and pulse 100..2000', () => {
    let decoded = 0;
    fc.assert(
      fc.property(fc.oneof(unlockish, frameLike, fc.string({ unit: 'binary', maxLength: 80 })), (line) => {
        const r = decode(line);
        if (r.ok && r.message.kind === 'unlock') {
          decoded++;
          expect(r.message.addr).toBeGreaterThanOrEqual(1);
          expect(r.message.addr).toBeLessThanOrEqual(31);
          expect(r.message.channel).toBeGreaterThanOrEqual(1);
          expect(r.message.channel).toBeLessThanOrEqual(48);
          expect(r.message.pulseMs).toBeGreaterThanOrEqual(100);
          expect(r.message.pulseMs).toBeLessThanOrEqual(2000);
        }
      }),
      { numRuns: 5000 },
    );
    expect(decoded).toBeGreaterThan(20); // the generator does reach valid unlocks (about 90 in 5000 runs)
  });
});
