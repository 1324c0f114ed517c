/**
 * A lock board played by a test, byte for byte: it decodes what the driver writes, answers IDENT,
 * STATUS, LED and UNLOCK like a healthy 24-channel board, and lets the test replace any answer —
 * swallow a reply, or put a reply and an event into one chunk, as a USB adapter or a device server
 * delivers them. It speaks protocol version 1, or version 2 (its STATUS then carries `openings`, the door-contact
 * openings it counted: `doorEvent` counts them whether or not the test sends the event). Not a test file itself.
 */
import type { Duplex } from 'node:stream';
import { decode, encodeLine, type Command, type Message, type ProtocolVersion, type SwitchLevel } from '../../firmware-protocol/index.js';
import { duplexPair } from '../../sim/links/duplex-pair.js';
import { streamEndpoint, type Endpoint } from '../transport/endpoints.js';

/** What to do with one command: the lines to send back in ONE write (empty: stay silent). */
export type Answer = Message[];

export class ScriptedBoard {
  readonly endpoint: Endpoint;
  /** Every command received, in order. */
  readonly commands: Command[] = [];
  doors: SwitchLevel[];
  eventCounter = 0;
  /** Version 2: per channel, the contact openings (C → O) counted, modulo 256 (what its STATUS reports). */
  openings: number[];
  /** Replace the answer to a command; return undefined to give the default one. */
  script: (cmd: Command, board: ScriptedBoard) => Answer | undefined = () => undefined;
  private end: Duplex | null = null;
  private readonly waiters: { test: (c: Command) => boolean; resolve: (c: Command) => void }[] = [];

  constructor(
    readonly addr = 1,
    readonly channels = 24,
    /** The protocol version it speaks (reported in IDENT; 2 adds the counts to STATUS). */
    public protocol: ProtocolVersion = 1,
  ) {
    this.doors = new Array<SwitchLevel>(channels).fill('C');
    this.openings = new Array<number>(channels).fill(0);
    this.endpoint = streamEndpoint('scripted board', () => {
      const [controller, board] = duplexPair();
      this.end = board;
      let buffer = '';
      board.on('data', (b: Buffer) => {
        buffer += b.toString('latin1');
        for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
          const line = buffer.slice(0, nl + 1);
          buffer = buffer.slice(nl + 1);
          const r = decode(line);
          if (r.ok && r.message.kind in VERBS) this.receive(r.message as Command);
        }
      });
      return controller;
    });
  }

  /** The answer a healthy board gives. */
  reply(cmd: Command): Message {
    const { addr, seq } = cmd;
    switch (cmd.kind) {
      case 'ident':
        return { kind: 'ack-ident', addr, seq, protocol: this.protocol, firmware: 'SCRIPT-1', channels: this.channels };
      case 'status':
        return {
          kind: 'ack-status',
          addr,
          seq,
          eventCounter: this.eventCounter,
          doors: [...this.doors],
          items: this.doors.map(() => false),
          faults: this.doors.map(() => 'NONE' as const),
          ...(this.protocol === 2 ? { openings: [...this.openings] } : {}),
        };
      case 'led':
        return { kind: 'ack-led', addr, seq, channel: cmd.channel, mode: cmd.mode };
      case 'unlock':
        return { kind: 'ack-unlock', addr, seq, channel: cmd.channel, duplicate: false };
    }
  }

  /** A DOOR event with the next counter value (the level is also what the next STATUS shows). */
  doorEvent(channel: number, level: SwitchLevel): Message {
    this.eventCounter = (this.eventCounter + 1) & 0xffff;
    if (channel <= this.channels) {
      if (this.doors[channel - 1] === 'C' && level === 'O') this.openings[channel - 1] = (this.openings[channel - 1]! + 1) % 256;
      this.doors[channel - 1] = level;
    }
    return { kind: 'door', addr: this.addr, seq: this.eventCounter, channel, level };
  }

  /** Write these frames in one chunk. */
  send(...messages: Message[]): void {
    this.end?.write(messages.map((m) => encodeLine(m, this.protocol)).join(''));
  }

  /** The link goes away (a cable pulled, a device server restarted): the driver reconnects; the board keeps running. */
  dropLink(): void {
    this.end?.destroy();
  }

  /** Write raw text (for frames the codec would not encode). */
  sendRaw(text: string): void {
    this.end?.write(text);
  }

  /** Resolves with the next command (received from now on) that passes the test. */
  next(test: (c: Command) => boolean = () => true): Promise<Command> {
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  private receive(cmd: Command): void {
    this.commands.push(cmd);
    for (const w of [...this.waiters]) {
      if (w.test(cmd)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(cmd);
      }
    }
    const answer = this.script(cmd, this) ?? [this.reply(cmd)];
    if (answer.length > 0) this.send(...answer);
  }
}

const VERBS: Record<Command['kind'], true> = { ident: true, status: true, unlock: true, led: true };
