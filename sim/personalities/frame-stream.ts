/**
 * The simulator's reader for a vendor family's binary frames: bytes in, whole command frames out
 * (as latin1 strings, one character per byte, so they travel through the same link code as our
 * protocol's lines). Garbage, truncated and corrupted frames are dropped and counted, and a
 * partial frame is never buffered beyond the longest frame.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { LineCounters } from '../../firmware-protocol/index.js';
import { VendorFramer, type VendorCodec } from '../../firmware-protocol/vendors/index.js';

export class VendorFrameStream extends Transform {
  private readonly framer: VendorFramer;

  constructor(codec: VendorCodec) {
    super({ readableObjectMode: true });
    this.framer = new VendorFramer(codec, 'toBoard');
  }

  /** Same shape as the line reader's counters: frames are never "over-long", dropped bytes are counted. */
  get counters(): LineCounters {
    return { overlong: 0, discardedBytes: this.framer.counters.droppedBytes };
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    for (const f of this.framer.push(chunk)) this.push(Buffer.from(f).toString('latin1'));
    cb();
  }

  override _flush(cb: TransformCallback): void {
    this.framer.discardPartial();
    cb();
  }
}
