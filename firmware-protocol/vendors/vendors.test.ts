import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  codec8a80,
  codecKerongCu48,
  hexBytes,
  VENDOR_CODECS,
  VendorEncodeError,
  VendorFramer,
  type VendorCodec,
  type VendorCommand,
} from './index.js';

const bytes = (s: string) =>
  Uint8Array.from(
    s
      .trim()
      .split(/\s+/)
      .map((h) => parseInt(h, 16)),
  );
const hex = (b: Uint8Array) => hexBytes(b);

describe('8A/80 golden frames', () => {
  it('encodes the commands exactly as the vendors print them', () => {
    expect(hex(codec8a80.encodeCommand({ kind: 'unlock', board: 1, lock: 1 }))).toBe('8A 01 01 11 9B');
    expect(hex(codec8a80.encodeCommand({ kind: 'query', board: 1, lock: 1 }))).toBe('80 01 01 33 B3');
    expect(hex(codec8a80.encodeCommand({ kind: 'status', board: 1 }))).toBe('80 01 00 33 B2');
    expect(hex(codec8a80.encodeCommand({ kind: 'unlock', board: 2, lock: 24 }))).toBe('8A 02 18 11 81');
  });

  it('decodes the replies both ways: the lock reading after an unlock, one lock, the whole board', () => {
    expect(codec8a80.decodeReply(bytes('8A 01 01 00 8A'), 24)).toEqual({ ok: true, value: { kind: 'unlock', board: 1, lock: 1, set: false } });
    expect(codec8a80.decodeReply(bytes('8A 01 01 11 9B'), 24)).toEqual({ ok: true, value: { kind: 'unlock', board: 1, lock: 1, set: true } });
    expect(codec8a80.decodeReply(bytes('80 01 01 11 91'), 24)).toEqual({ ok: true, value: { kind: 'query', board: 1, lock: 1, set: true } });
    const board = codec8a80.decodeReply(bytes('80 01 01 01 01 33 B3'), 24);
    expect(board.ok && board.value.kind === 'status' && board.value.set.flatMap((s, i) => (s ? [i + 1] : []))).toEqual([1, 9, 17]);
  });

  it('the simulator side encodes the same replies and decodes the same commands', () => {
    expect(hex(codec8a80.encodeReply({ kind: 'unlock', board: 1, lock: 1, set: false }, 24))).toBe('8A 01 01 00 8A');
    const set = Array.from({ length: 24 }, (_, i) => i === 0 || i === 8 || i === 16);
    expect(hex(codec8a80.encodeReply({ kind: 'status', board: 1, set }, 24))).toBe('80 01 01 01 01 33 B3');
    expect(codec8a80.decodeCommand(bytes('8A 01 01 11 9B'))).toEqual({ ok: true, value: { kind: 'unlock', board: 1, lock: 1 } });
    expect(codec8a80.decodeCommand(bytes('80 01 00 33 B2'))).toEqual({ ok: true, value: { kind: 'status', board: 1 } });
    expect(codec8a80.decodeCommand(bytes('8A 01 00 11 9A'))).toMatchObject({ ok: false, error: expect.stringContaining('ALL_LOCKS') });
  });
});

describe('Kerong KR-CU48 golden frames', () => {
  it('encodes read and unlock with the sum of every byte before SUM', () => {
    expect(hex(codecKerongCu48.encodeCommand({ kind: 'status', board: 1 }))).toBe('02 00 00 50 03 55');
    expect(hex(codecKerongCu48.encodeCommand({ kind: 'unlock', board: 1, lock: 1 }))).toBe('02 00 01 51 03 57');
    expect(hex(codecKerongCu48.encodeCommand({ kind: 'unlock', board: 2, lock: 48 }))).toBe('02 01 30 51 03 87');
  });

  it('decodes the 6 latch bytes, lock 1 in the low bit of the first', () => {
    const all = codecKerongCu48.decodeReply(bytes('02 00 00 50 FF FF FF FF FF FF 03 4F'), 48);
    expect(all.ok && all.value.kind === 'status' && all.value.set.every(Boolean)).toBe(true);
    const one = codecKerongCu48.decodeReply(bytes('02 00 00 50 FE FF FF FF FF FF 03 4E'), 48);
    expect(one.ok && one.value.kind === 'status' && one.value.set.flatMap((s, i) => (s ? [] : [i + 1]))).toEqual([1]);
    const unlock = codecKerongCu48.decodeReply(bytes('02 00 05 51 EF FF FF FF FF FF 03 45'), 48);
    expect(unlock.ok && unlock.value.kind === 'unlock' && unlock.value.lock).toBe(5);
    expect(unlock.ok && unlock.value.kind === 'unlock' && Array.isArray(unlock.value.set) && unlock.value.set[4]).toBe(false);
  });

  it('the simulator side round-trips the same frames', () => {
    const set = Array.from({ length: 48 }, (_, i) => i !== 0);
    expect(hex(codecKerongCu48.encodeReply({ kind: 'status', board: 1, set }, 48))).toBe('02 00 00 50 FE FF FF FF FF FF 03 4E');
    expect(codecKerongCu48.decodeCommand(bytes('02 00 01 51 03 57'))).toEqual({ ok: true, value: { kind: 'unlock', board: 1, lock: 1 } });
    expect(codecKerongCu48.decodeCommand(bytes('02 00 00 51 03 56'))).toMatchObject({ ok: false, error: expect.stringContaining('ALL_LOCKS') });
  });
});

describe('framing: header, length and check value; resynchronising on garbage', () => {
  it('cuts frames out of noise, a truncated frame and a corrupted one, counting every byte it drops', () => {
    const f = new VendorFramer(codec8a80, 'toController');
    const stream = bytes('FF 00 8A 01 8A 01 01 00 8A 80 01 01 01 01 33 B4 80 01 01 01 01 33 B3');
    const frames = f.push(stream.subarray(0, 5), 'unlock').concat(f.push(stream.subarray(5), 'status'));
    expect(frames.map(hex)).toEqual(['8A 01 01 00 8A', '80 01 01 01 01 33 B3']);
    // FF 00, the truncated 8A 01, then the corrupted whole-board reply (7 bytes)
    expect(f.counters.droppedBytes).toBe(2 + 2 + 7);
    expect(f.counters.frames).toBe(2);
  });

  it('keeps a partial frame until the rest comes, and drops it (counted) when told the exchange is over', () => {
    const f = new VendorFramer(codecKerongCu48, 'toController');
    expect(f.push(bytes('02 00 00 50 FF FF'))).toEqual([]);
    expect(f.pending).toBe(6);
    expect(f.discardPartial()).toBe(6);
    expect(f.counters.droppedBytes).toBe(6);
    expect(f.push(bytes('02 00 00 50 FF FF FF FF FF FF 03 4F')).map(hex)).toEqual(['02 00 00 50 FF FF FF FF FF FF 03 4F']);
  });

  it('never throws and never holds more than a frame or two of bytes, whatever arrives', () => {
    for (const codec of Object.values(VENDOR_CODECS) as VendorCodec[]) {
      fc.assert(
        fc.property(fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 20 }), (chunks) => {
          const f = new VendorFramer(codec, 'toController');
          let total = 0;
          let framed = 0;
          for (const c of chunks) {
            total += c.length;
            for (const fr of f.push(c, 'status')) framed += fr.length;
            expect(f.pending).toBeLessThanOrEqual(64);
          }
          expect(framed + f.counters.droppedBytes + f.pending).toBe(total);
        }),
        { seed: 6, numRuns: 300 },
      );
    }
  });
});

describe('no family can put "all locks" on the wire', () => {
  const command = fc.oneof(
    fc.record({
      kind: fc.constant('unlock' as const),
      board: fc.integer({ min: -3, max: 300 }),
      lock: fc.oneof(fc.constant(0), fc.integer({ min: -3, max: 300 }), fc.double()),
    }),
    fc.record({
      kind: fc.constant('query' as const),
      board: fc.integer({ min: -3, max: 300 }),
      lock: fc.oneof(fc.constant(0), fc.integer({ min: -3, max: 300 })),
    }),
    fc.record({ kind: fc.constant('status' as const), board: fc.oneof(fc.integer({ min: -3, max: 300 }), fc.double()) }),
  );

  for (const codec of Object.values(VENDOR_CODECS) as VendorCodec[]) {
    it(`${codec.family}: every encoder input either throws VendorEncodeError or is a command for exactly one lock or a read`, () => {
      fc.assert(
        fc.property(command, (c: VendorCommand) => {
          let frame: Uint8Array;
          try {
            frame = codec.encodeCommand(c);
          } catch (e) {
            expect(e).toBeInstanceOf(VendorEncodeError);
            if (c.kind === 'unlock' && c.lock === 0) expect((e as VendorEncodeError).code).toBe('ALL_LOCKS');
            return;
          }
          // What the board would understand from these bytes:
          const seen = codec.decodeCommand(frame);
          expect(seen.ok).toBe(true);
          if (!seen.ok) return;
          expect(seen.value.kind).toBe(c.kind);
          if (seen.value.kind === 'unlock') {
            expect(seen.value.lock).toBe((c as { lock: number }).lock);
            expect(seen.value.lock).toBeGreaterThanOrEqual(1);
            expect(seen.value.lock).toBeLessThanOrEqual(codec.maxLocks);
          }
        }),
        { seed: 66, numRuns: 2000 },
      );
    });

    it(`${codec.family}: lock 0 is refused by name`, () => {
      expect(() => codec.encodeCommand({ kind: 'unlock', board: 1, lock: 0 })).toThrow(/lock 0/);
    });
  }
});
