/**
 * What every vendor lock-board family provides: a pure codec of its binary frames (no I/O, no
 * timers), used by the controller's translating adapter (controller/board/vendor-adapter.ts) and by
 * the simulator's vendor personality (sim/personalities/vendor-board.ts) alike.
 *
 * Vocabulary, the same for every family:
 *   board  the board address as the layout names it (1..31); a family may put another number on
 *          the wire (Kerong: board - 1), which only its codec knows.
 *   lock   the lock (channel) number on that board, from 1. Lock 0, or any family's "all locks"
 *          form, is never encoded: `encodeCommand` throws VendorEncodeError instead.
 *   set    the lock-feedback reading as the board reports it: true = "set" (8A/80 `11`, Kerong
 *          latch bit 1). Whether "set" means the door is shut is the cabinet's polarity, applied
 *          by the controller (LOCK_DOOR_POLARITY), never here.
 */

export type VendorCommand =
  /** Pulse one lock. */
  | { kind: 'unlock'; board: number; lock: number }
  /** Read every lock of one board. */
  | { kind: 'status'; board: number }
  /** Read one lock (families that have the form; the adapter itself reads whole boards). */
  | { kind: 'query'; board: number; lock: number };

export type VendorReply =
  /**
   * The answer to an unlock: the lock's reading after the pulse (8A/80), or every lock of the board
   * (Kerong), as the family's frame carries it.
   */
  | { kind: 'unlock'; board: number; lock: number; set: boolean[] | boolean }
  /** Every lock of a board, lock 1 first; `items` where the board has occupancy sensors. */
  | { kind: 'status'; board: number; set: boolean[]; items?: boolean[] }
  | { kind: 'query'; board: number; lock: number; set: boolean };

export type Direction = 'toBoard' | 'toController';

/** What the framer learns about the bytes at the front of its buffer. */
export type FrameMatch =
  /** A whole frame of this many bytes with a good check value. */
  | { frame: number }
  /** Could be the start of a frame: wait for more bytes. */
  | 'more'
  /** Not a frame start (wrong header, wrong trailer or check value): drop one byte and look again. */
  | 'no';

export type VendorDecodeResult<T> = { ok: true; value: T } | { ok: false; error: string };

export class VendorEncodeError extends Error {
  constructor(
    readonly code: 'ALL_LOCKS' | 'BAD_LOCK' | 'BAD_BOARD' | 'BAD_ARGS',
    message: string,
  ) {
    super(message);
    this.name = 'VendorEncodeError';
  }
}

export interface VendorCodec {
  /** The LOCK_BOARD value, e.g. '8a80'. */
  readonly family: string;
  /** For people: what board this is. */
  readonly title: string;
  /** Line speed out of the box, and the speeds the family's boards can be set to. */
  readonly defaultBaud: number;
  readonly bauds: readonly number[];
  /** Highest lock number one board can have (its whole-board reply carries this many). */
  readonly maxLocks: number;
  /** Board addresses the family can put on the wire, as the layout names them. */
  readonly minBoard: number;
  readonly maxBoard: number;
  /** True when the status reply carries occupancy (item) sensors. */
  readonly hasItems: boolean;
  /**
   * How the family's boards answer an unlock: 'after-pulse' = only once the pulse is over, with the
   * reading taken then (8A/80); 'at-once' = right away (Kerong).
   */
  readonly unlockReply: 'after-pulse' | 'at-once';
  /** Firmware text the adapter reports in ACK IDENT, e.g. ADAPT-8A80-1.0. */
  readonly adapterFirmware: string;

  /** Bytes of a command. Throws VendorEncodeError for lock 0, an "all locks" form, or out-of-range values. */
  encodeCommand(c: VendorCommand): Uint8Array;
  /** Bytes of a reply (the simulator's side). */
  encodeReply(r: VendorReply, locks: number): Uint8Array;
  /** Is there a frame at the start of `buf`? `expect` is the reply kind the reader waits for, if any. */
  match(buf: Uint8Array, direction: Direction, expect?: VendorReply['kind']): FrameMatch;
  /** A whole frame (as `match` found it) from the controller. */
  decodeCommand(frame: Uint8Array): VendorDecodeResult<VendorCommand>;
  /** A whole frame from a board; `locks` is how many locks that board has. */
  decodeReply(frame: Uint8Array, locks: number): VendorDecodeResult<VendorReply>;
}

/** Counters of one framer: what was cut out of the byte stream, and what was thrown away. */
export interface FramerCounters {
  frames: number;
  /** Bytes dropped while looking for a frame start (noise, truncated or corrupted frames). */
  droppedBytes: number;
}

/** The longest frame any family has; a partial frame is never buffered beyond this. */
const MAX_BUFFER = 64;

/**
 * Cuts frames out of a byte stream by header, length and check value, as the codec's `match`
 * describes them. Garbage before a frame, a truncated frame, a wrong check value: the framer
 * drops one byte at a time until a good frame starts, and counts every byte it drops.
 */
export class VendorFramer {
  readonly counters: FramerCounters = { frames: 0, droppedBytes: 0 };
  private buf: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly codec: VendorCodec,
    private readonly direction: Direction,
  ) {}

  /** Feed bytes; returns the whole frames now complete, in order. */
  push(chunk: Uint8Array, expect?: VendorReply['kind']): Uint8Array[] {
    const joined = new Uint8Array(this.buf.length + chunk.length);
    joined.set(this.buf, 0);
    joined.set(chunk, this.buf.length);
    let start = 0;
    const frames: Uint8Array[] = [];
    while (start < joined.length) {
      const m = this.codec.match(joined.subarray(start), this.direction, expect);
      if (m === 'more') break;
      if (m === 'no') {
        start++;
        this.counters.droppedBytes++;
        continue;
      }
      frames.push(joined.slice(start, start + m.frame));
      this.counters.frames++;
      start += m.frame;
    }
    let rest = joined.subarray(start);
    if (rest.length > MAX_BUFFER) {
      this.counters.droppedBytes += rest.length - MAX_BUFFER;
      rest = rest.subarray(rest.length - MAX_BUFFER);
    }
    this.buf = rest.slice();
    return frames;
  }

  /**
   * Throw away a partial frame (counted). A vendor board speaks only when spoken to, so whatever
   * is left over when the next command goes out can only be the remains of a broken frame.
   */
  discardPartial(): number {
    const n = this.buf.length;
    this.counters.droppedBytes += n;
    this.buf = new Uint8Array(0);
    return n;
  }

  get pending(): number {
    return this.buf.length;
  }
}

export function hexBytes(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).toUpperCase().padStart(2, '0')).join(' ');
}

/** Lock bits, least significant bit first within a byte: bit 0 of byte 0 is lock 1. */
export function bitsToBools(bytes: Uint8Array, count: number): boolean[] {
  return Array.from({ length: count }, (_, i) => ((bytes[i >> 3]! >> (i & 7)) & 1) === 1);
}

export function boolsToBits(values: readonly boolean[], byteCount: number): Uint8Array {
  const out = new Uint8Array(byteCount);
  values.forEach((v, i) => {
    if (v && i < byteCount * 8) out[i >> 3]! |= 1 << (i & 7);
  });
  return out;
}
