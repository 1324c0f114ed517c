/**
 * A Link is one open byte stream to the bus, split into lines by the bounded readline parser.
 * It reports every line read, and exactly one 'down' when the stream ends for any reason
 * (USB unplugged, device server gone, closed by us). Errors on the stream never escape as
 * unhandled 'error' events.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { BoundedReadlineParser, type LineCounters } from '../../firmware-protocol/index.js';

export interface LinkEvents {
  line: [line: string];
  down: [reason: string];
}

export class Link extends EventEmitter<LinkEvents> {
  private readonly parser: BoundedReadlineParser;
  private isDown = false;

  constructor(
    private readonly stream: Duplex,
    maxLineLength?: number,
  ) {
    super();
    this.parser = new BoundedReadlineParser(maxLineLength);
    stream.on('error', (e: Error) => this.markDown(`error: ${e.message}`));
    stream.on('close', () => this.markDown('closed'));
    stream.on('end', () => this.markDown('ended by the other side'));
    this.parser.on('data', (line: string) => {
      if (!this.isDown) this.emit('line', line);
    });
    this.parser.on('error', () => undefined);
    stream.pipe(this.parser);
  }

  get counters(): Readonly<LineCounters> {
    return this.parser.counters;
  }

  get down(): boolean {
    return this.isDown;
  }

  /** Resolves once the bytes are handed to the OS; rejects if the stream is down. */
  write(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.isDown || this.stream.destroyed || !this.stream.writable) {
        reject(new Error('link is down'));
        return;
      }
      this.stream.write(text, 'latin1', (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    this.markDown('closed by the controller');
  }

  private markDown(reason: string): void {
    if (this.isDown) return;
    this.isDown = true;
    this.stream.unpipe(this.parser);
    this.stream.destroy();
    this.emit('down', reason);
  }
}
