/**
 * Where the byte stream to the lock boards comes from. One factory per kind, chosen by LOCK_PORT:
 *   'sim'          → the embedded simulated cabinet (in-process pipe)
 *   '/dev/ttyUSB0' → a serial port (serialport), at LOCK_BAUD
 *   'tcp://h:p'    → a serial device server
 * Each `open()` resolves with a fresh, connected Duplex or rejects; it never throws synchronously.
 * SerialPort.list() is deliberately never used: it spawns udevadm, missing on minimal machines.
 */
import fs from 'node:fs';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { SerialPort } from 'serialport';

export interface Endpoint {
  /** For logs and /api/health, e.g. "serial /dev/ttyUSB0 @9600". */
  readonly description: string;
  open(): Promise<Duplex>;
}

/** The SerialPort class is injectable so that a test can swap in a binding; production uses the real one. */
export type SerialPortClass = new (options: ConstructorParameters<typeof SerialPort>[0]) => SerialPort;

let serialPortClass: Promise<typeof SerialPort> | null = null;

/**
 * The serialport package (its native binding and its dependencies), loaded the first time a serial port is used:
 * the embedded simulator and a serial device server (tcp://) never need it. main.ts loads it before listening
 * when LOCK_PORT names a serial port, so that a running controller does not stop to load it.
 */
export function loadSerialPort(): Promise<typeof SerialPort> {
  serialPortClass ??= import('serialport').then((m) => m.SerialPort);
  return serialPortClass;
}

/** Which device a path names: its node's identity (a pty re-made by socat, a USB adapter plugged in again: another one). */
type DeviceIdentity = Pick<fs.Stats, 'dev' | 'ino' | 'rdev'>;

/**
 * A serial port. While it is open, its path is looked at every `watchMs` (main.ts: the first reconnect delay): when
 * the path is gone, or names another device than the one opened, the port is destroyed with an error, so the link
 * goes down and is reopened. Serialport alone does not always tell: Linux hangs a tty up when its device goes away
 * (a USB adapter pulled, socat's pty master closed), a hung-up tty reads 0 bytes, and @serialport/bindings-cpp takes
 * 0 for "no data yet" and reads again, for ever. Only the next write would fail (EIO).
 */
export function serialEndpoint(path: string, baudRate: number, Port?: SerialPortClass, watchMs = 500): Endpoint {
  return {
    description: `serial ${path} @${baudRate}`,
    open: async () => {
      const SerialPortClass = Port ?? (await loadSerialPort());
      // Taken before the open: if the path changes in between, the watch finds a mismatch and the link is reopened.
      const identity = deviceIdentity(path);
      const port = await new Promise<SerialPort>((resolve, reject) => {
        let port: SerialPort;
        try {
          port = new SerialPortClass({ path, baudRate, dataBits: 8, parity: 'none', stopBits: 1, autoOpen: false });
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
          return;
        }
        port.open((err) => (err ? reject(err) : resolve(port)));
      });
      if (identity) watchDevice(port, path, identity, watchMs);
      return port;
    },
  };
}

function watchDevice(port: SerialPort, path: string, identity: DeviceIdentity, watchMs: number): void {
  let timer: NodeJS.Timeout | undefined;
  const next = (): void => {
    timer = setTimeout(() => {
      fs.stat(path, (err, now) => {
        if (port.destroyed || !port.isOpen) return; // closed meanwhile
        if (!err && sameDevice(identity, now)) {
          next();
          return;
        }
        port.destroy(new Error(err ? `${path} is gone` : `${path} names another device now`));
      });
    }, watchMs);
    timer.unref();
  };
  port.once('close', () => clearTimeout(timer));
  next();
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

export function tcpEndpoint(host: string, port: number, connectTimeoutMs = 3000): Endpoint {
  return {
    description: `tcp ${host}:${port}`,
    open: () =>
      new Promise<Duplex>((resolve, reject) => {
        const socket = net.connect({ host, port });
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new Error(`connection to ${host}:${port} timed out`));
        }, connectTimeoutMs);
        socket.once('connect', () => {
          clearTimeout(timer);
          socket.off('error', reject);
          socket.setNoDelay(true);
          socket.setKeepAlive(true, 5000);
          resolve(socket);
        });
        socket.once('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
      }),
  };
}

/** Any other source of a Duplex, e.g. the embedded simulator's in-process pipe. */
export function streamEndpoint(description: string, open: () => Duplex | Promise<Duplex>): Endpoint {
  return { description, open: async () => open() };
}

/** Parse `tcp://host:port`; null for anything else. */
export function parseTcpUrl(spec: string): { host: string; port: number } | null {
  const m = /^tcp:\/\/([^\s:/]+):(\d{1,5})$/.exec(spec);
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1]!, port };
}
