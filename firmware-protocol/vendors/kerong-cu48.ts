/**
 * Kerong KR-CU48 lock control board (48 locks): 19200 8N1, frames `02 ADDR LOCK CMD … 03 SUM`,
 * SUM = low byte of the sum of every byte before it (STX to ETX included). The command bytes of
 * this generation are 50 (read) and 51 (unlock); other Kerong generations use other bytes for the
 * same shape (CU12/CU16: 30/31 or 60/61) — they are in this one table and nowhere else.
 *
 *   read the board   02 AA 00 50 03 SUM              →  02 AA 00 50 B0 B1 B2 B3 B4 B5 03 SUM
 *   unlock one lock  02 AA LL 51 03 SUM   LL 1..48   →  02 AA LL 51 B0 B1 B2 B3 B4 B5 03 SUM
 *
 * B0..B5: the 48 latch bits, bit 0 of B0 = lock 1; 1 = latch set (closed). ADDR on the wire is the
 * board's DIP address, numbered from 0: layout board 1 is ADDR 00. The reply layout follows the
 * published CU12/CU16 drivers (status bytes between CMD and ETX, lock 1 in the low bit) stretched to
 * 48 locks; check it against the manual of the board you install (docs/adr/0004-vendor-lock-boards.md).
 * LOCK 00 with unlock would be a board-wide form: never encoded.
 */
import {
  bitsToBools,
  boolsToBits,
  hexBytes,
  VendorEncodeError,
  type Direction,
  type FrameMatch,
  type VendorCodec,
  type VendorCommand,
  type VendorDecodeResult,
  type VendorReply,
} from './types.js';

const STX = 0x02;
const ETX = 0x03;
export const KERONG_CU48_COMMANDS = { status: 0x50, unlock: 0x51 } as const;
const { status: CMD_STATUS, unlock: CMD_UNLOCK } = KERONG_CU48_COMMANDS;
const LOCKS = 48;
const LATCH_BYTES = 6;
const COMMAND_LENGTH = 6;
const REPLY_LENGTH = 12;

function sum(bytes: ArrayLike<number>, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += bytes[i]!;
  return s & 0xff;
}

function frame(bytes: number[]): Uint8Array {
  return Uint8Array.from([...bytes, sum(bytes, bytes.length)]);
}

function wireAddr(board: number): number {
  if (!Number.isInteger(board) || board < 1 || board > 31) throw new VendorEncodeError('BAD_BOARD', `board ${board} is outside 1..31`);
  return board - 1;
}

function checkLock(lock: number): void {
  if (lock === 0) throw new VendorEncodeError('ALL_LOCKS', 'lock 0 is a board-wide form: never sent with an unlock');
  if (!Number.isInteger(lock) || lock < 1 || lock > LOCKS) throw new VendorEncodeError('BAD_LOCK', `lock ${lock} is outside 1..${LOCKS}`);
}

const knownCmd = (c: number | undefined) => c === CMD_STATUS || c === CMD_UNLOCK;

function match(b: Uint8Array, direction: Direction): FrameMatch {
  if (b[0] !== STX) return 'no';
  if (b.length >= 4 && !knownCmd(b[3])) return 'no';
  const length = direction === 'toBoard' ? COMMAND_LENGTH : REPLY_LENGTH;
  if (b.length < length) return 'more';
  return b[length - 2] === ETX && sum(b, length - 1) === b[length - 1] ? { frame: length } : 'no';
}

function decodeCommand(f: Uint8Array): VendorDecodeResult<VendorCommand> {
  if (f.length !== COMMAND_LENGTH || match(f, 'toBoard') === 'no') return { ok: false, error: `not a Kerong command: ${hexBytes(f)}` };
  const board = f[1]! + 1;
  const lock = f[2]!;
  if (f[3] === CMD_STATUS) return { ok: true, value: { kind: 'status', board } };
  if (lock === 0) return { ok: false, error: 'ALL_LOCKS: unlock of every lock of the board' };
  return { ok: true, value: { kind: 'unlock', board, lock } };
}

function decodeReply(f: Uint8Array, locks: number): VendorDecodeResult<VendorReply> {
  if (f.length !== REPLY_LENGTH || match(f, 'toController') === 'no') return { ok: false, error: `not a Kerong reply: ${hexBytes(f)}` };
  const board = f[1]! + 1;
  const set = bitsToBools(f.subarray(4, 4 + LATCH_BYTES), Math.min(locks, LOCKS));
  if (f[3] === CMD_STATUS) return { ok: true, value: { kind: 'status', board, set } };
  return { ok: true, value: { kind: 'unlock', board, lock: f[2]!, set } };
}

export const codecKerongCu48: VendorCodec = {
  family: 'kerong-cu48',
  title: 'Kerong KR-CU48 lock control board',
  defaultBaud: 19200,
  bauds: [9600, 19200, 57600, 115200],
  maxLocks: LOCKS,
  minBoard: 1,
  maxBoard: 31,
  hasItems: false,
  unlockReply: 'at-once',
  adapterFirmware: 'ADAPT-KRCU48-1.0',

  encodeCommand(c: VendorCommand): Uint8Array {
    if (c.kind === 'unlock') checkLock(c.lock); // lock 0 is refused first, whatever else is wrong
    const addr = wireAddr(c.board);
    switch (c.kind) {
      case 'unlock':
        checkLock(c.lock);
        return frame([STX, addr, c.lock, CMD_UNLOCK, ETX]);
      case 'status':
        return frame([STX, addr, 0, CMD_STATUS, ETX]);
      case 'query':
        throw new VendorEncodeError('BAD_ARGS', 'the KR-CU48 reads whole boards only');
    }
  },

  encodeReply(r: VendorReply): Uint8Array {
    const addr = wireAddr(r.board);
    if (r.kind === 'query') throw new VendorEncodeError('BAD_ARGS', 'the KR-CU48 reads whole boards only');
    if (!Array.isArray(r.set) || r.set.length > LOCKS)
      throw new VendorEncodeError('BAD_ARGS', `a KR-CU48 reply carries the latch bits of up to ${LOCKS} locks`);
    const bits = [...boolsToBits(r.set, LATCH_BYTES)];
    if (r.kind === 'unlock') {
      checkLock(r.lock);
      return frame([STX, addr, r.lock, CMD_UNLOCK, ...bits, ETX]);
    }
    return frame([STX, addr, 0, CMD_STATUS, ...bits, ETX]);
  },

  match,
  decodeCommand,
  decodeReply,
};
