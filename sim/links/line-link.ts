/**
 * One attached byte stream (in-process pipe, TCP socket or serial port) seen as lines.
 * Reading goes through the shared BoundedReadlineParser, so no input can grow a buffer without
 * bound. Stream errors never escape as unhandled 'error' events; the link reports `closed` once.
 */
import type { Duplex, Transform } from 'node:stream';
import { BoundedReadlineParser, type LineCounters } from '../../firmware-protocol/index.js';
import { Pacer } from './pacer.js';

export type LinkKind = 'inprocess' | 'tcp' | 'serial';
/** 'bus' carries the lock-board protocol; 'scanner' is a QR scanner's output (text lines). */
export type LinkRole = 'bus' | 'scanner';

export interface LinkInfo {
  id: string;
  kind: LinkKind;
  role: LinkRole;
  description: string;
}

export interface LinkHandlers {
  line(link: LineLink, line: string): void;
  closed(link: LineLink, reason: string): void;
}

export interface WireTiming {
  pacing(): boolean;
  baudRate(): number;
}

/** What splits the incoming bytes into frames: the bounded line reader, or a vendor family's framer. */
export type FrameSplitter = Transform & { readonly counters: Readonly<LineCounters> };

export class LineLink {
  private readonly parser: FrameSplitter;
  private readonly pacer: Pacer;
  private isClosed = false;
  private inFreeAt = 0;
  private readonly pending = new Set<NodeJS.Timeout>();

  constructor(
    readonly info: LinkInfo,
    private readonly stream: Duplex,
    private readonly handlers: LinkHandlers,
    private readonly timing: WireTiming,
    splitter?: FrameSplitter,
  ) {
    this.parser = splitter ?? new BoundedReadlineParser();
    this.pacer = new Pacer(
      (chunk) => this.rawWrite(chunk),
      () => this.timing.baudRate() / 10 / 1000,
    );
    stream.on('error', (e: Error) => this.close(`error: ${e.message}`));
    stream.on('close', () => this.close('closed'));
    stream.on('end', () => this.close('ended by the other side'));
    this.parser.on('data', (line: string) => this.received(line));
    this.parser.on('error', () => undefined);
    stream.pipe(this.parser);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get counters(): Readonly<LineCounters> {
    return this.parser.counters;
  }

  /** Write text (latin1 by default: one byte per character), paced at the baud rate when pacing is on. */
  send(text: string, encoding: 'latin1' | 'utf8' = 'latin1'): void {
    if (this.isClosed) return;
    const bytes = Buffer.from(text, encoding);
    if (this.timing.pacing() || this.pacer.busy) this.pacer.push(bytes);
    else this.rawWrite(bytes);
  }

  close(reason = 'closed by the sim'): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.pacer.stop();
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    this.stream.unpipe(this.parser);
    if (!this.stream.destroyed) this.stream.destroy();
    this.handlers.closed(this, reason);
  }

  private received(line: string): void {
    if (this.isClosed) return;
    if (!this.timing.pacing()) {
      this.handlers.line(this, line);
      return;
    }
    // The line is only complete once its last byte would have crossed the wire.
    const now = performance.now();
    const wireMs = ((line.length + 1) * 10 * 1000) / this.timing.baudRate();
    this.inFreeAt = Math.max(now, this.inFreeAt) + wireMs;
    const t = setTimeout(() => {
      this.pending.delete(t);
      if (!this.isClosed) this.handlers.line(this, line);
    }, this.inFreeAt - now);
    this.pending.add(t);
  }

  private rawWrite(chunk: Buffer): void {
    if (this.isClosed || this.stream.destroyed || !this.stream.writable) return;
    this.stream.write(chunk);
  }
}
