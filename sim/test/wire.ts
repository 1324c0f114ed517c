/**
 * Test helper: the controller's side of a link, in the simplest form. Writes encoded frames and
 * collects decoded board frames (replies and events) in arrival order. No timing assertions:
 * waits end when the expected frame arrives, or fail after a generous deadline.
 */
import type { Duplex } from 'node:stream';
import {
  BoundedReadlineParser,
  decode,
  encodeLine,
  type BoardEvent,
  type Command,
  type DecodeError,
  type Message,
  type ProtocolVersion,
  type Reply,
} from '../../firmware-protocol/index.js';

export type Received = { ok: true; message: Message; line: string } | { ok: false; error: DecodeError; line: string };

export class Wire {
  readonly received: Received[] = [];
  private waiters: Array<{ test: (r: Received) => boolean; resolve: (r: Received) => void }> = [];
  private readonly parser = new BoundedReadlineParser();
  private readonly consumed = new Set<Received>();
  private nextSeq = 0x100;

  constructor(
    readonly stream: Duplex,
    /** The protocol version board frames are decoded by (the version the boards speak). */
    readonly protocol: ProtocolVersion = 1,
  ) {
    stream.on('error', () => undefined);
    this.parser.on('data', (line: string) => {
      const r = decode(line, protocol);
      const rec: Received = r.ok ? { ok: true, message: r.message, line } : { ok: false, error: r.error, line };
      this.received.push(rec);
      for (const w of [...this.waiters]) {
        if (w.test(rec)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          this.consumed.add(rec);
          w.resolve(rec);
          break;
        }
      }
    });
    stream.pipe(this.parser);
  }

  seq(): number {
    return this.nextSeq++ & 0xffff;
  }

  send(cmd: Command): void {
    this.stream.write(encodeLine(cmd), 'latin1');
  }

  sendRaw(text: string | Buffer): void {
    this.stream.write(text);
  }

  /** Wait for the first not yet consumed decoded message matching `test` (each message is returned once). */
  async next<T extends Message = Message>(test: (m: Message) => boolean, timeoutMs = 3000): Promise<T> {
    for (const r of this.received) {
      if (r.ok && !this.consumed.has(r) && test(r.message)) {
        this.consumed.add(r);
        return r.message as T;
      }
    }
    const rec = await new Promise<Received>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no matching frame within ${timeoutMs} ms; got: ${this.received.map((r) => r.line).join(' | ')}`));
      }, timeoutMs);
      const waiter = {
        test: (r: Received) => r.ok && !this.consumed.has(r) && test(r.message),
        resolve: (r: Received) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      this.waiters.push(waiter);
    });
    return (rec as { message: Message }).message as T;
  }

  /** Send a command and wait for the reply with its address and sequence number. */
  async request<T extends Reply = Reply>(cmd: Command, timeoutMs?: number): Promise<T> {
    const p = this.next<T>((m) => (m.kind.startsWith('ack-') || m.kind === 'nak') && m.addr === cmd.addr && m.seq === cmd.seq, timeoutMs);
    this.send(cmd);
    return p;
  }

  /** Wait for the next event of a kind (optionally matching more). */
  event<K extends BoardEvent['kind']>(
    kind: K,
    more: (e: Extract<BoardEvent, { kind: K }>) => boolean = () => true,
    timeoutMs?: number,
  ): Promise<Extract<BoardEvent, { kind: K }>> {
    return this.next((m) => m.kind === kind && more(m as Extract<BoardEvent, { kind: K }>), timeoutMs);
  }

  /** Every decoded message received so far. */
  messages(): Message[] {
    return this.received.flatMap((r) => (r.ok ? [r.message] : []));
  }

  close(): void {
    this.stream.unpipe(this.parser);
    this.stream.destroy();
  }
}
