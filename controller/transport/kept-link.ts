/**
 * A link that is kept open: it opens the endpoint, and whenever the stream goes away (USB
 * unplugged, device server gone, open failed) it tries again with exponential back-off and
 * jitter, until stopped. Used for the lock bus and for a serial QR scanner alike.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import type { Endpoint } from './endpoints.js';
import { Link } from './link.js';

export interface KeptLinkOptions {
  endpoint: Endpoint;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Longest line accepted on this link (bytes, newline included). */
  maxLineLength?: number;
  logger: Logger;
}

export interface KeptLinkEvents {
  /** A stream is open. */
  up: [link: Link];
  /** The open stream went away, or an attempt to open failed. */
  down: [reason: string];
  line: [line: string];
}

export class KeptLink extends EventEmitter<KeptLinkEvents> {
  private link: Link | null = null;
  private timer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private stopped = true;
  /** Reconnections made so far (not counting the first open). */
  reconnects = 0;
  /** Over-long lines of links already closed. */
  private closedOverlong = 0;

  constructor(private readonly opts: KeptLinkOptions) {
    super();
  }

  get description(): string {
    return this.opts.endpoint.description;
  }

  get current(): Link | null {
    return this.link;
  }

  get overlongLines(): number {
    return this.closedOverlong + (this.link?.counters.overlong ?? 0);
  }

  /** Open, and keep reopening. Resolves after the first attempt, whether or not it succeeded. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const link = this.link;
    this.link = null;
    link?.close();
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    let link: Link;
    try {
      link = new Link(await this.opts.endpoint.open(), this.opts.maxLineLength);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      this.opts.logger.warn({ port: this.description, err: reason }, 'cannot open port');
      this.emit('down', reason);
      this.scheduleRetry();
      return;
    }
    if (this.stopped) {
      link.close();
      return;
    }
    this.link = link;
    this.attempt = 0;
    link.on('line', (line) => this.emit('line', line));
    link.on('down', (reason) => {
      if (link !== this.link) return;
      this.closedOverlong += link.counters.overlong;
      this.link = null;
      if (this.stopped) return;
      this.opts.logger.warn({ port: this.description, reason }, 'port lost');
      this.emit('down', reason);
      this.scheduleRetry();
    });
    this.emit('up', link);
  }

  private scheduleRetry(): void {
    if (this.stopped || this.timer) return;
    const base = Math.min(this.opts.reconnectMaxMs, this.opts.reconnectMinMs * 2 ** this.attempt);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt = Math.min(this.attempt + 1, 30);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.reconnects++;
      void this.open();
    }, delay);
    this.timer.unref();
  }
}
