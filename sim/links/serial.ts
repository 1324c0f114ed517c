/**
 * A serial device or pty opened with `serialport`. If the path is missing or disappears (USB
 * unplugged, socat killed) the sim does not crash: it closes the link and tries to open the path
 * again every `retryMs` until it is back, suspended (disconnect) or closed.
 */
import type { SerialPort } from 'serialport';
import type { Duplex } from 'node:stream';
import type { LineLink, LinkRole } from './line-link.js';

/** The serialport package, loaded the first time a simulated cabinet opens a serial device (the embedded one never does). */
let SerialPortClass: typeof SerialPort | null = null;
let loading: Promise<typeof SerialPort> | null = null;
function loadSerialPort(): Promise<typeof SerialPort> {
  loading ??= import('serialport').then((m) => (SerialPortClass = m.SerialPort));
  return loading;
}

export type SerialAttachFn = (stream: Duplex, description: string, onClosed: () => void) => LineLink | null;

export class SerialEndpoint {
  private link: LineLink | null = null;
  private port: SerialPort | null = null;
  private retryTimer: NodeJS.Timeout | undefined;
  private opening = false;
  private suspended = false;
  private stopped = false;
  private lastError = '';
  private waiters: Array<() => void> = [];

  constructor(
    readonly path: string,
    readonly baudRate: number,
    readonly role: LinkRole,
    private readonly attach: SerialAttachFn,
    private readonly retryMs: number,
    private readonly warn: (message: string) => void,
  ) {}

  get description(): string {
    return `serial ${this.path} @${this.baudRate}`;
  }

  get isOpen(): boolean {
    return this.link !== null && !this.link.closed;
  }

  /** The last reason opening failed, '' when open or never tried. */
  get error(): string {
    return this.lastError;
  }

  start(): void {
    this.tryOpen();
  }

  /** Resolves once the port is open (immediately if it already is). */
  whenOpen(): Promise<void> {
    if (this.isOpen) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Close the port and stop retrying until resume(). */
  suspend(): void {
    this.suspended = true;
    this.clearRetry();
    this.link?.close('disconnected by the sim');
    this.link = null;
  }

  resume(): void {
    this.suspended = false;
    this.tryOpen();
  }

  close(): void {
    this.stopped = true;
    this.clearRetry();
    this.link?.close('sim closed');
    this.link = null;
    if (this.port?.isOpen) this.port.close(() => undefined);
    this.port = null;
  }

  private tryOpen(): void {
    if (this.stopped || this.suspended || this.opening || this.isOpen) return;
    this.clearRetry();
    this.opening = true;
    if (!SerialPortClass) {
      loadSerialPort().then(
        () => {
          this.opening = false;
          this.tryOpen();
        },
        (e: unknown) => {
          this.opening = false;
          this.failed(e);
        },
      );
      return;
    }
    let port: SerialPort;
    try {
      port = new SerialPortClass({ path: this.path, baudRate: this.baudRate, dataBits: 8, parity: 'none', stopBits: 1, autoOpen: false });
    } catch (e) {
      this.opening = false;
      this.failed(e);
      return;
    }
    port.on('error', () => undefined);
    port.open((err) => {
      this.opening = false;
      if (err) {
        this.failed(err);
        return;
      }
      if (this.stopped || this.suspended) {
        port.close(() => undefined);
        return;
      }
      this.port = port;
      this.lastError = '';
      this.link = this.attach(port, this.description, () => {
        this.link = null;
        this.port = null;
        this.scheduleRetry();
      });
      if (!this.link) {
        port.close(() => undefined);
        this.scheduleRetry();
        return;
      }
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    });
  }

  private failed(e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    if (message !== this.lastError) this.warn(`cannot open ${this.path}: ${message}; retrying every ${this.retryMs} ms`);
    this.lastError = message;
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.stopped || this.suspended || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.tryOpen();
    }, this.retryMs);
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}
