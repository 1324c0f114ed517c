/**
 * A serial device or pty opened with `serialport`. If the path is missing or disappears (USB
 * unplugged, socat killed) the sim does not crash: it closes the link and tries to open the path
 * again every `retryMs` until it is back, suspended (disconnect) or closed.
 *
 * While the port is open, the path is looked at every `retryMs` too: when it is gone, or names
 * another device than the one opened, the link is closed and the path reopened. Serialport alone
 * does not always tell: Linux hangs a tty up when its device goes away (socat's pty master closed,
 * a USB adapter pulled), and a hung-up tty reads 0 bytes, which serialport takes for "no data yet"
 * and reads again, for ever. Only a write would fail (EIO) — and a board that is asked nothing
 * writes nothing, so the sim kept the dead pty while the controller wrote into the new one.
 */
import fs from 'node:fs';
import type { Duplex } from 'node:stream';
import type { SerialPort } from 'serialport';
import type { LineLink, LinkRole } from './line-link.js';

/** The serialport package, loaded the first time a simulated cabinet opens a serial device (the embedded one never does). */
let SerialPortClass: typeof SerialPort | null = null;
let loading: Promise<typeof SerialPort> | null = null;
function loadSerialPort(): Promise<typeof SerialPort> {
  loading ??= import('serialport').then((m) => (SerialPortClass = m.SerialPort));
  return loading;
}

export type SerialAttachFn = (stream: Duplex, description: string, onClosed: () => void) => LineLink | null;

/** A SerialPort class: a test may give one that holds back a port's reading; the serialport package's otherwise. */
export type SerialPortCtor = new (options: ConstructorParameters<typeof SerialPort>[0]) => SerialPort;

/** Which device a path names: its node's identity (a pty re-made by socat, a USB adapter plugged in again: another one). */
type DeviceIdentity = Pick<fs.Stats, 'dev' | 'ino' | 'rdev'>;

export class SerialEndpoint {
  private link: LineLink | null = null;
  private port: SerialPort | null = null;
  private retryTimer: NodeJS.Timeout | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
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
    private readonly Port?: SerialPortCtor,
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
    this.clearWatch();
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
    this.clearWatch();
    this.link?.close('sim closed');
    this.link = null;
    if (this.port?.isOpen) this.port.close(() => undefined);
    this.port = null;
  }

  private tryOpen(): void {
    if (this.stopped || this.suspended || this.opening || this.isOpen) return;
    this.clearRetry();
    this.opening = true;
    const Port = this.Port ?? SerialPortClass;
    if (!Port) {
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
    // Taken before the open: if the path changes in between, the watch finds a mismatch and opens it again.
    const identity = deviceIdentity(this.path);
    let port: SerialPort;
    try {
      port = new Port({ path: this.path, baudRate: this.baudRate, dataBits: 8, parity: 'none', stopBits: 1, autoOpen: false });
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
        this.clearWatch();
        this.scheduleRetry();
      });
      if (!this.link) {
        port.close(() => undefined);
        this.scheduleRetry();
        return;
      }
      if (identity) this.watch(port, identity);
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

  /** Every `retryMs` while open: close the link when the path no longer names the device that was opened. */
  private watch(port: SerialPort, identity: DeviceIdentity): void {
    this.clearWatch();
    this.watchTimer = setTimeout(() => {
      this.watchTimer = undefined;
      fs.stat(this.path, (err, now) => {
        const link = this.link;
        if (this.port !== port || !link || link.closed) return; // closed meanwhile
        if (!err && sameDevice(identity, now)) {
          this.watch(port, identity);
          return;
        }
        const why = err ? `${this.path} is gone` : `${this.path} names another device now`;
        this.warn(`serial device went away (${why}); reopening every ${this.retryMs} ms`);
        link.close(`device gone: ${why}`);
      });
    }, this.retryMs);
    this.watchTimer.unref();
  }

  private clearWatch(): void {
    if (this.watchTimer) clearTimeout(this.watchTimer);
    this.watchTimer = undefined;
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}

function deviceIdentity(path: string): DeviceIdentity | null {
  try {
    const { dev, ino, rdev } = fs.statSync(path);
    return { dev, ino, rdev };
  } catch {
    return null; // missing: the open fails and is retried
  }
}

function sameDevice(a: DeviceIdentity, b: DeviceIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.rdev === b.rdev;
}
