/**
 * The one stream adapter shared by both ends of the link: bytes in, in chunks of any size; lines out, as
 * latin1 strings (one character per byte, so noise of any kind stays countable and never fails to decode),
 * without their LF. A line longer than MAX_LINE_LENGTH (LF included) is discarded whole — the part already
 * buffered and the rest up to the next LF — and counted; at most MAX_LINE_LENGTH bytes of an unfinished line
 * are ever held (PROTOCOL.md §2). An unfinished line at the end of the stream is not a frame.
 * Written on node:stream alone, with no other library's internals; the codec (codec.ts, messages.ts, crc16.ts)
 * has no I/O at all.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { MAX_LINE_LENGTH } from './messages.js';

export interface LineCounters {
  /** Lines dropped for being longer than the limit. */
  overlong: number;
  /** Bytes dropped with them (LF included). */
  discardedBytes: number;
}

const LF = 0x0a;

export class BoundedReadlineParser extends Transform {
  readonly counters: LineCounters = { overlong: 0, discardedBytes: 0 };
  /** Pieces of the unfinished line, at most maxLineLength − 1 bytes in all. */
  private pieces: Buffer[] = [];
  private held = 0;
  /** True while the rest of an over-long line is being dropped, up to its LF. */
  private discarding = false;

  constructor(private readonly maxLineLength: number = MAX_LINE_LENGTH) {
    super({ readableObjectMode: true });
  }

  /** Bytes of the unfinished line held right now (always below the line limit). */
  get buffered(): number {
    return this.held;
  }

  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, cb: TransformCallback): void {
    const data = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    let start = 0;
    while (start < data.length) {
      const nl = data.indexOf(LF, start);
      const end = nl < 0 ? data.length : nl;
      this.addRun(data.subarray(start, end), nl >= 0);
      start = end + 1;
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    // A cable pulled mid-frame: what was held is not a frame.
    this.pieces = [];
    this.held = 0;
    this.discarding = false;
    cb();
  }

  /** A run of bytes with no LF in it, and whether an LF ended it. */
  private addRun(bytes: Buffer, complete: boolean): void {
    if (this.discarding) {
      this.counters.discardedBytes += bytes.length + (complete ? 1 : 0);
      if (complete) this.discarding = false;
      return;
    }
    const length = this.held + bytes.length;
    // A complete line may be maxLineLength bytes with its LF; an unfinished one must stay below that.
    if (complete ? length + 1 > this.maxLineLength : length >= this.maxLineLength) {
      this.counters.overlong++;
      this.counters.discardedBytes += length + (complete ? 1 : 0);
      this.pieces = [];
      this.held = 0;
      this.discarding = !complete;
      return;
    }
    if (!complete) {
      if (bytes.length > 0) {
        this.pieces.push(Buffer.from(bytes)); // a copy: the caller may reuse its chunk
        this.held = length;
      }
      return;
    }
    const line = this.pieces.length === 0 ? bytes : Buffer.concat([...this.pieces, bytes]);
    this.pieces = [];
    this.held = 0;
    if (line.length > 0) this.push(line.toString('latin1')); // an empty line is ignored, not counted (PROTOCOL.md §2)
  }
}
