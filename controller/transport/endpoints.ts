/**
 * Where the byte stream to the lock boards comes from. One factory per kind, chosen by LOCK_PORT:
 *   'sim'          → the embedded simulated cabinet (in-process pipe)
 *   '/dev/ttyUSB0' → a serial port (serialport), at LOCK_BAUD
 *   'tcp://h:p'    → a serial device server
 * Each `open()` resolves with a fresh, connected Duplex or rejects; it never throws synchronously.
 * SerialPort.list() is deliberately never used: it spawns udevadm, missing on minimal machines.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { SerialPort } from 'serialport';

export interface Endpoint {
  /** For logs and /api/health, e.g. "serial /dev/ttyUSB0 @9600". */
  readonly description: string;
  open(): Promise<Duplex>;
}

/** The SerialPort class is injectable so that a test can swap in a binding; production uses the real one. */
export type SerialPortClass = typeof SerialPort;

let serialPortClass: Promise<SerialPortClass> | null = null;

/**
 * The serialport package (its native binding and its dependencies), loaded the first time a serial port is used:
 * the embedded simulator and a serial device server (tcp://) never need it. main.ts loads it before listening
 * when LOCK_PORT names a serial port, so that a running controller does not stop to load it.
 */
export function loadSerialPort(): Promise<SerialPortClass> {
  serialPortClass ??= import('serialport').then((m) => m.SerialPort);
  return serialPortClass;
}

export function serialEndpoint(path: string, baudRate: number, Port?: SerialPortClass): Endpoint {
  return {
    description: `serial ${path} @${baudRate}`,
    open: async () => {
      const SerialPortClass = Port ?? (await loadSerialPort());
      return new Promise<Duplex>((resolve, reject) => {
        let port: SerialPort;
        try {
          port = new SerialPortClass({ path, baudRate, dataBits: 8, parity: 'none', stopBits: 1, autoOpen: false });
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
          return;
        }
        port.open((err) => (err ? reject(err) : resolve(port)));
      });
    },
  };
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
