/**
 * Protocol version 2 (PROTOCOL.md §21): golden frames written out as literal text, and the rules that keep each
 * version strict. Version 2 differs from version 1 in one place only: ACK STATUS carries a fifth field, the
 * per-channel door-opening counts. If one of these literals changes, the wire format of version 2 changed.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode, encodeLine, EncodeError } from './codec.js';
import { crc16modbus } from './crc16.js';
import type { Message, StatusAck, SwitchLevel } from './messages.js';

const doors24 = (open: number[]): SwitchLevel[] => Array.from({ length: 24 }, (_, i) => (open.includes(i + 1) ? 'O' : 'C'));
const flags24 = (on: number[]): boolean[] => Array.from({ length: 24 }, (_, i) => on.includes(i + 1));
const counts24 = (m: Record<number, number>): number[] => Array.from({ length: 24 }, (_, i) => m[i + 1] ?? 0);
const noFaults24 = () => Array.from({ length: 24 }, () => 'NONE' as const);

const GOLDEN_V2: [string, string, Message][] = [
  [
    'ACK IDENT reporting version 2',
    '<01 9C41 ACK IDENT 2 LB24-2.0.0 24*03CD',
    { kind: 'ack-ident', addr: 1, seq: 0x9c41, protocol: 2, firmware: 'LB24-2.0.0', channels: 24 },
  ],
  [
    'ACK STATUS right after boot: every count 00',
    '<01 9C42 ACK STATUS 0000 CCCCCCCCCCCCCCCCCCCCCCCC 000000100000000000000000 ------------------------ 000000000000000000000000000000000000000000000000*13AB',
    {
      kind: 'ack-status',
      addr: 1,
      seq: 0x9c42,
      eventCounter: 0,
      doors: doors24([]),
      items: flags24([7]),
      faults: noFaults24(),
      openings: counts24({}),
    },
  ],
  [
    'ACK STATUS, channel 5 opened once unseen, channel 7 once',
    '<01 9C52 ACK STATUS 0005 CCCCCCCCCCCCCCCCCCCCCCCC 000000000000000000000000 ------------------------ 000000000100010000000000000000000000000000000000*975E',
    {
      kind: 'ack-status',
      addr: 1,
      seq: 0x9c52,
      eventCounter: 5,
      doors: doors24([]),
      items: flags24([]),
      faults: noFaults24(),
      openings: counts24({ 5: 1, 7: 1 }),
    },
  ],
  [
    'ACK STATUS, counts up to FF',
    '<01 9C53 ACK STATUS 0102 CCOCCCCCCCCCCCCCCCCCCCCC 000000100001000000000000 ------------------------ 0000FF00000010000000000A000000000000000000000000*B493',
    {
      kind: 'ack-status',
      addr: 1,
      seq: 0x9c53,
      eventCounter: 0x0102,
      doors: doors24([3]),
      items: flags24([7, 12]),
      faults: noFaults24(),
      openings: counts24({ 3: 0xff, 7: 0x10, 12: 0x0a }),
    },
  ],
  [
    'ACK STATUS, one channel',
    '<03 0005 ACK STATUS FFFF O 1 S FF*3F6B',
    { kind: 'ack-status', addr: 3, seq: 0x0005, eventCounter: 0xffff, doors: ['O'], items: [true], faults: ['COIL_SHORT'], openings: [0xff] },
  ],
];

/** The longest version 2 frame: 32 channels, every field at its widest. */
const LONGEST: StatusAck = {
  kind: 'ack-status',
  addr: 0x1f,
  seq: 0xffff,
  eventCounter: 0xffff,
  doors: Array.from({ length: 32 }, () => 'O'),
  items: Array.from({ length: 32 }, () => true),
  faults: Array.from({ length: 32 }, () => 'COIL_SHORT'),
  openings: Array.from({ length: 32 }, () => 0xff),
};

describe('version 2 golden frames', () => {
  it.each(GOLDEN_V2)('%s: encode gives the literal frame', (_name, frame, message) => {
    expect(encode(message, 2)).toBe(frame);
    expect(encodeLine(message, 2)).toBe(`${frame}\n`);
  });

  it.each(GOLDEN_V2)('%s: decode gives the exact message', (_name, frame, message) => {
    expect(decode(frame, 2)).toEqual({ ok: true, message, noise: 0 });
    expect(decode(`${frame}\r\n`, 2)).toEqual({ ok: true, message, noise: 0 });
  });

  it('reads the counts as two hex digits a channel, channel 1 first', () => {
    const r = decode(
      '<01 9C53 ACK STATUS 0102 CCOCCCCCCCCCCCCCCCCCCCCC 000000100001000000000000 ------------------------ 0000FF00000010000000000A000000000000000000000000*B493',
      2,
    );
    expect(r.ok && r.message.kind === 'ack-status' && r.message.openings?.slice(0, 12)).toEqual([0, 0, 255, 0, 0, 0, 16, 0, 0, 0, 0, 10]);
  });

  it('keeps the longest reply of a 32-channel board within the 256-byte line', () => {
    const frame = encode(LONGEST, 2);
    expect(frame.length + 1).toBe(194);
    expect(decode(frame, 2)).toEqual({ ok: true, message: LONGEST, noise: 0 });
  });
});

describe('each version is strict', () => {
  const v1Status = '<03 0005 ACK STATUS FFFF O 1 S*5DE6';
  const v2Status = '<03 0005 ACK STATUS FFFF O 1 S FF*3F6B';

  it('a version 1 decoder refuses a version 2 ACK STATUS, and a version 2 decoder a version 1 one', () => {
    expect(decode(v1Status, 1).ok).toBe(true);
    expect(decode(v2Status).ok).toBe(false);
    expect(!decode(v2Status, 1).ok && decode(v2Status, 1)).toMatchObject({ error: { code: 'BAD_ARGS' } });
    expect(!decode(v1Status, 2).ok && decode(v1Status, 2)).toMatchObject({ error: { code: 'BAD_ARGS' } });
  });

  it('decodes everything else the same in both versions', () => {
    for (const frame of [
      '>01 9C42 STATUS*F6FD',
      '>01 9C44 UNLOCK 7 300*BC8D',
      '<01 9C41 ACK IDENT 1 LB24-1.0.3 24*53CE',
      '<01 9C41 ACK IDENT 2 LB24-2.0.0 24*03CD',
      '<01 9C44 ACK UNLOCK 7 DUP*3374',
      '<01 0001 DOOR 7 O*19BD',
      '<01 0000 BOOT POWERON*80E9',
    ]) {
      expect(decode(frame, 2)).toEqual(decode(frame, 1));
      expect(decode(frame, 2).ok).toBe(true);
    }
  });

  it('judges each frame by the version of the board its address names', () => {
    const versionOf = (addr: number) => (addr === 3 ? 2 : 1);
    expect(decode(v2Status, versionOf).ok).toBe(true);
    expect(decode(v1Status, versionOf).ok).toBe(false);
  });

  it('refuses counts that are not two uppercase hex digits for each channel', () => {
    const body = (counts: string) => `<03 0005 ACK STATUS FFFF OC 10 S- ${counts}`;
    const frame = (counts: string) => {
      const b = body(counts);
      return `${b}*${crc16modbus(b).toString(16).toUpperCase().padStart(4, '0')}`;
    };
    expect(decode(frame('FF01'), 2)).toMatchObject({ ok: true, message: { openings: [255, 1] } });
    for (const bad of ['ff01', 'FF0', 'FF0102', 'FFG1', '+F01']) {
      expect(`${bad}: ${JSON.stringify(decode(frame(bad), 2))}`).toContain('"code":"BAD_ARGS"');
    }
  });

  it('refuses a version 2 ACK STATUS of more than 32 channels', () => {
    const b = `<01 0001 ACK STATUS 0001 ${'C'.repeat(33)} ${'0'.repeat(33)} ${'-'.repeat(33)} ${'00'.repeat(33)}`;
    const frame = `${b}*${crc16modbus(b).toString(16).toUpperCase().padStart(4, '0')}`;
    expect(decode(frame, 2)).toMatchObject({ ok: false, error: { code: 'BAD_ARGS' } });
  });

  it('does not encode counts in version 1, nor a version 2 ACK STATUS without them or with a bad count', () => {
    const [, , withCounts] = GOLDEN_V2[4]!;
    const { openings: _dropped, ...without } = withCounts as StatusAck;
    expect(() => encode(withCounts)).toThrow(EncodeError);
    expect(() => encode(without, 2)).toThrow(EncodeError);
    expect(encode(without)).toBe(v1Status);
    for (const openings of [[256], [-1], [1.5], [1, 2]]) expect(() => encode({ ...without, openings }, 2)).toThrow(EncodeError);
    const wide = {
      ...LONGEST,
      doors: [...LONGEST.doors, 'C' as const],
      items: [...LONGEST.items, false],
      faults: [...LONGEST.faults, 'NONE' as const],
    };
    expect(() => encode({ ...wide, openings: [...LONGEST.openings!, 0] }, 2)).toThrow(EncodeError);
  });

  it('detects every single-byte corruption of a version 2 ACK STATUS', () => {
    const frame = GOLDEN_V2[3]![1];
    const undetected: string[] = [];
    for (let i = 0; i < frame.length; i++) {
      for (let b = 0; b < 256; b++) {
        if (frame.charCodeAt(i) === b) continue;
        const bad = frame.slice(0, i) + String.fromCharCode(b) + frame.slice(i + 1);
        if (decode(bad, 2).ok) undetected.push(JSON.stringify(bad));
      }
    }
    expect(undetected).toEqual([]);
  });
});
