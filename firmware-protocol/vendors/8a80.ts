/**
 * The common 24-channel "8A/80" RS-485 lock board: 9600 8N1, binary frames, check byte = XOR of
 * every byte before it, boards 1..32 by DIP switch (1..31 here: the controller's address range).
 *
 *   unlock           8A BB LL 11 XX   →  8A BB LL SS XX   SS = the lock's reading after the pulse, 11 or 00
 *   read one lock    80 BB LL 33 XX   →  80 BB LL SS XX
 *   read the board   80 BB 00 33 XX   →  80 BB G3 G2 G1 33 XX   G1 = locks 1-8 (bit 0 = lock 1), G2 = 9-16, G3 = 17-24;
 *                                                              a bit is 1 where the lock reads 11
 *
 * Examples (vendors' manuals, docs/adr/0004-vendor-lock-boards.md): `8A 01 01 11 9B` → `8A 01 01 00 8A`;
 * `80 01 01 33 B3`; `80 01 00 33 B2` → `80 01 01 01 01 33 B3` (locks 1, 9 and 17 read 11).
 * Lock 00 in an unlock means ALL LOCKS on this board: it is never encoded.
 */
import {
  hexBytes,
  VendorEncodeError,
  type Direction,
  type FrameMatch,
  type VendorCodec,
  type VendorCommand,
  type VendorDecodeResult,
  type VendorReply,
} from './types.js';

const UNLOCK = 0x8a;
const READ = 0x80;
const FN_UNLOCK = 0x11;
const FN_READ = 0x33;
const SET = 0x11;
const CLEAR = 0x00;
const LOCKS = 24;

function xor(bytes: ArrayLike<number>, n: number): number {
  let x = 0;
  for (let i = 0; i < n; i++) x ^= bytes[i]!;
  return x;
}

function frame(...bytes: number[]): Uint8Array {
  return Uint8Array.from([...bytes, xor(bytes, bytes.length)]);
}

function checkBoard(board: number): void {
  if (!Number.isInteger(board) || board < 1 || board > 31) throw new VendorEncodeError('BAD_BOARD', `board ${board} is outside 1..31`);
}

function checkLock(lock: number): void {
  if (lock === 0) throw new VendorEncodeError('ALL_LOCKS', 'lock 0 means every lock of the board: never sent');
  if (!Number.isInteger(lock) || lock < 1 || lock > LOCKS) throw new VendorEncodeError('BAD_LOCK', `lock ${lock} is outside 1..${LOCKS}`);
}

function checkSet(set: unknown): boolean {
  if (typeof set !== 'boolean') throw new VendorEncodeError('BAD_ARGS', 'an 8A/80 unlock reply carries the reading of its lock');
  return set;
}

/** Is a 5-byte frame good: header, check byte, and a reading or function byte that fits? */
function good5(b: Uint8Array, third: (v: number) => boolean): boolean {
  return third(b[3]!) && xor(b, 4) === b[4];
}
const isReading = (v: number) => v === SET || v === CLEAR;

function match(b: Uint8Array, direction: Direction, expect?: VendorReply['kind']): FrameMatch {
  const head = b[0];
  if (head !== UNLOCK && head !== READ) return 'no';
  if (direction === 'toBoard') {
    if (b.length < 5) return 'more';
    return good5(b, (v) => v === (head === UNLOCK ? FN_UNLOCK : FN_READ)) ? { frame: 5 } : 'no';
  }
  if (head === UNLOCK) {
    if (b.length < 5) return 'more';
    return good5(b, isReading) ? { frame: 5 } : 'no';
  }
  // 80: a one-lock reading (5 bytes) or a whole-board reading (7 bytes). Try the expected one first.
  const try7 = (): FrameMatch => (b.length < 7 ? 'more' : b[5] === FN_READ && xor(b, 6) === b[6] ? { frame: 7 } : 'no');
  const try5 = (): FrameMatch => (b.length < 5 ? 'more' : good5(b, isReading) ? { frame: 5 } : 'no');
  const [first, second] = expect === 'status' ? [try7, try5] : [try5, try7];
  const a = first();
  if (a !== 'no') return a;
  return second();
}

function decodeCommand(f: Uint8Array): VendorDecodeResult<VendorCommand> {
  if (f.length !== 5 || xor(f, 4) !== f[4]) return { ok: false, error: `not an 8A/80 command: ${hexBytes(f)}` };
  const board = f[1]!;
  const lock = f[2]!;
  if (f[0] === UNLOCK && f[3] === FN_UNLOCK) {
    if (lock === 0) return { ok: false, error: 'ALL_LOCKS: unlock of every lock of the board' };
    return { ok: true, value: { kind: 'unlock', board, lock } };
  }
  if (f[0] === READ && f[3] === FN_READ) {
    return { ok: true, value: lock === 0 ? { kind: 'status', board } : { kind: 'query', board, lock } };
  }
  return { ok: false, error: `not an 8A/80 command: ${hexBytes(f)}` };
}

function decodeReply(f: Uint8Array, locks: number): VendorDecodeResult<VendorReply> {
  const n = Math.min(locks, LOCKS);
  if (f.length === 7 && f[0] === READ && f[5] === FN_READ && xor(f, 6) === f[6]) {
    const groups = [f[4]!, f[3]!, f[2]!]; // locks 1-8, 9-16, 17-24
    const set = Array.from({ length: n }, (_, i) => ((groups[i >> 3]! >> (i & 7)) & 1) === 1);
    return { ok: true, value: { kind: 'status', board: f[1]!, set } };
  }
  if (f.length === 5 && isReading(f[3]!) && xor(f, 4) === f[4]) {
    const set = f[3] === SET;
    if (f[0] === UNLOCK) return { ok: true, value: { kind: 'unlock', board: f[1]!, lock: f[2]!, set } };
    if (f[0] === READ) return { ok: true, value: { kind: 'query', board: f[1]!, lock: f[2]!, set } };
  }
  return { ok: false, error: `not an 8A/80 reply: ${hexBytes(f)}` };
}

export const codec8a80: VendorCodec = {
  family: '8a80',
  title: '24-channel "8A/80" RS-485 lock board',
  defaultBaud: 9600,
  bauds: [9600],
  maxLocks: LOCKS,
  minBoard: 1,
  maxBoard: 31,
  hasItems: false,
  unlockReply: 'after-pulse',
  adapterFirmware: 'ADAPT-8A80-1.0',

  encodeCommand(c: VendorCommand): Uint8Array {
    if (c.kind !== 'status') checkLock(c.lock); // lock 0 is refused first, whatever else is wrong
    checkBoard(c.board);
    switch (c.kind) {
      case 'unlock':
        checkLock(c.lock);
        return frame(UNLOCK, c.board, c.lock, FN_UNLOCK);
      case 'query':
        checkLock(c.lock);
        return frame(READ, c.board, c.lock, FN_READ);
      case 'status':
        return frame(READ, c.board, 0, FN_READ);
    }
  },

  encodeReply(r: VendorReply): Uint8Array {
    checkBoard(r.board);
    switch (r.kind) {
      case 'unlock':
        checkLock(r.lock);
        return frame(UNLOCK, r.board, r.lock, checkSet(Array.isArray(r.set) ? r.set[r.lock - 1] : r.set) ? SET : CLEAR);
      case 'query':
        checkLock(r.lock);
        return frame(READ, r.board, r.lock, r.set ? SET : CLEAR);
      case 'status': {
        if (r.set.length > LOCKS) throw new VendorEncodeError('BAD_ARGS', `an 8A/80 board has at most ${LOCKS} locks`);
        const g = [0, 0, 0];
        r.set.forEach((v, i) => {
          if (v) g[i >> 3]! |= 1 << (i & 7);
        });
        return frame(READ, r.board, g[2]!, g[1]!, g[0]!, FN_READ);
      }
    }
  },

  match,
  decodeCommand,
  decodeReply,
};
