/**
 * A TCP server in the manner of a serial device server: one client at a time; a new client
 * replaces the old one (the old socket is closed). While the sim is disconnected, new clients
 * are closed as soon as they connect.
 */
import net from 'node:net';
import type { LineLink, LinkRole } from './line-link.js';

export type AttachFn = (stream: net.Socket, description: string, onClosed: () => void) => LineLink | null;

export class TcpEndpoint {
  private readonly server: net.Server;
  private current: LineLink | null = null;
  private bound: { host: string; port: number } | null = null;

  constructor(
    readonly role: LinkRole,
    private readonly attach: AttachFn,
    private readonly accepting: () => boolean,
  ) {
    this.server = net.createServer((socket) => this.accept(socket));
    this.server.on('error', () => undefined);
  }

  /** Start listening; resolves with the bound address (port 0 picks a free port). */
  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const addr = this.server.address() as net.AddressInfo;
        this.bound = { host, port: addr.port };
        resolve(this.bound);
      });
    });
  }

  get address(): { host: string; port: number } | null {
    return this.bound;
  }

  /** Close the connected client, if any (the server keeps listening). */
  dropClient(): void {
    this.current?.close('dropped by the sim');
    this.current = null;
  }

  close(): Promise<void> {
    this.dropClient();
    return new Promise((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      this.server.close(() => resolve());
    });
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => undefined);
    if (!this.accepting()) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    this.dropClient();
    const description = `tcp ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'} → ${this.bound?.host ?? '?'}:${this.bound?.port ?? '?'}`;
    const link = this.attach(socket, description, () => {
      if (this.current === link) this.current = null;
    });
    this.current = link;
  }
}
