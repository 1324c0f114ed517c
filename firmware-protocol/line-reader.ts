/**
 * The one stream adapter shared by both ends of the link: `@serialport/parser-readline` with a bound.
 * ReadlineParser buffers without limit until it sees a newline; a noisy line or a flood of garbage
 * would grow that buffer for ever. This subclass discards any line longer than MAX_LINE_LENGTH
 * (the part already buffered and the rest up to the next newline) and counts it.
 * It uses node:stream only; the codec itself (codec.ts, messages.ts, crc16.ts) has no I/O at all.
 */
import { ReadlineParser } from '@serialport/parser-readline';
import type { TransformCallback } from 'node:stream';
import { MAX_LINE_LENGTH } from './messages.js';

export interface LineCounters {
  /** Lines dropped for being longer than the limit. */
  overlong: number;
  /** Bytes dropped with them. */
  discardedBytes: number;
}

export class BoundedReadlineParser extends ReadlineParser {
  readonly counters: LineCounters = { overlong: 0, discardedBytes: 0 };
  private discarding = false;

  constructor(private readonly maxLineLength: number = MAX_LINE_LENGTH) {
    // latin1: one character per byte, so noise of any kind stays countable and never fails to decode.
    super({ delimiter: '\n', encoding: 'latin1' });
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, cb: TransformCallback): void {
    super._transform(chunk, encoding, (err) => {
      if (!err && this.buffer.length >= this.maxLineLength) {
        // The unfinished line is already too long: drop it, and drop its tail when the newline comes.
        if (!this.discarding) this.counters.overlong++;
        this.counters.discardedBytes += this.buffer.length;
        this.buffer = Buffer.alloc(0);
        this.discarding = true;
      }
      cb(err);
    });
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk !== null && this.discarding) {
      // The first line completed after an overflow is the tail of the over-long line.
      this.discarding = false;
      if (Buffer.isBuffer(chunk)) this.counters.discardedBytes += chunk.length + 1;
      return true;
    }
    if (Buffer.isBuffer(chunk) && chunk.length >= this.maxLineLength) {
      // A complete line that arrived in one chunk but is over the limit.
      this.counters.overlong++;
      this.counters.discardedBytes += chunk.length + 1;
      return true;
    }
    return super.push(chunk, encoding);
  }

  override _flush(cb: TransformCallback): void {
    // An unfinished line at the end of the stream (a cable pulled mid-frame) is not a frame.
    this.buffer = Buffer.alloc(0);
    this.discarding = false;
    cb();
  }
}
