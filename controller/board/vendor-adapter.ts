/**
 * The translating adapter between the board driver and a vendor's lock boards (PROTOCOL.md §18).
 *
 * The driver keeps speaking our protocol: this adapter is an Endpoint whose stream takes our
 * command lines and gives back our replies and events, while the real stream underneath carries
 * the vendor family's binary frames (firmware-protocol/vendors/<family>.ts). So BoardDriver and
 * the flows do not change with the family. What the adapter adds, because these boards do not:
 *
 * - One vendor command on the bus at a time; replies matched by kind, board and lock; a frame that
 *   is garbage, from the wrong board or lock, twice, or unasked is counted, logged, and never
 *   acted on. Bytes left over from a broken frame are dropped (counted) before the next command.
 * - A reply that comes after its deadline (a busy machine reads the port late) but before the next
 *   command to that board can only answer the command that timed out: the frame names the board
 *   and the lock, and the board spoke to nobody else since. It is a reading: lock states are taken
 *   from it and the count of unanswered reads starts again, so a late reply never makes a board
 *   silent. It is "answering again" (below) only if the board was already counted silent. It never
 *   answers the driver late and never lets an unlock be sent again (the retransmission is still
 *   answered from memory after a read). Counted as lateReplies.
 * - UNLOCK de-duplication as in §10, but stricter: a vendor unlock goes on the wire at most ONCE
 *   per (board, sequence number, channel), sent or not, answered or not. The driver's
 *   retransmission of the same number is answered from memory after reading the board (ACK … DUP);
 *   while the first is still being worked on, it is ignored (the first answer carries the same
 *   number). The ACK only says the board was reachable: the door opening is what the flows wait for.
 * - Events: the adapter reads whole boards on an idle bus (never while a command is in flight),
 *   compares with the last reading, and sends DOOR events with its own event counter per board.
 * - A board that does not answer `silentAfter` reads in a row is silent: commands to it get no
 *   reply, so the driver marks it offline. When it answers again, anything may have happened
 *   meanwhile, but nothing says it restarted: a vendor board cannot tell (no event counter), and a
 *   board whose replies were only slow (a busy machine, a long cable) looks the same. So the adapter
 *   does NOT send BOOT (which the driver takes for a restart and raises an alarm for); it says what is
 *   true in our protocol's words: events may have been lost. Its event counter moves on by one that
 *   is never sent, so the driver's next STATUS shows a gap (PROTOCOL.md §11.2) and the driver takes
 *   every lock state from that STATUS; a DOOR event before it shows the gap too and makes the driver
 *   read STATUS at once. An unlock in flight meanwhile was never sent twice (below) and its door is
 *   what the flows wait for.
 * - IDENT names the adapter and the family (codec.adapterFirmware) with the configured channel
 *   count; STATUS reports items as "0" (these boards have no occupancy sensors) and no coil faults.
 * - "All locks" cannot be asked for: the driver's codec refuses channel 0, the adapter refuses a
 *   channel above the board's, and the vendor codec refuses lock 0 and every all-locks form.
 *
 * Lock readings map to door-switch levels one way, set → C and clear → O; what C means (door shut
 * or open) is LOCK_DOOR_POLARITY, applied by the driver as for our own boards.
 */
import { Duplex } from 'node:stream';
import {
  BoundedReadlineParser,
  decode,
  encodeLine,
  MAX_SEQ,
  PROTOCOL_VERSION,
  type Command,
  type Message,
  type SwitchLevel,
} from '../../firmware-protocol/index.js';
import {
  hexBytes,
  VendorEncodeError,
  VendorFramer,
  type VendorCodec,
  type VendorCommand,
  type VendorReply,
} from '../../firmware-protocol/vendors/index.js';
import type { Logger } from '../log.js';
import type { Endpoint } from '../transport/endpoints.js';

export interface VendorAdapterOptions {
  codec: VendorCodec;
  /** Boards by the address the layout gives them, with their channel (lock) counts. */
  boards: readonly { addr: number; channels: number }[];
  /** Read the boards this often while the bus is idle, ms (one board per tick, in turn). */
  pollMs: number;
  /** Deadline for a vendor board's reply, ms. */
  replyTimeoutMs: number;
  /** Unanswered reads in a row after which a board counts as silent (default 3). */
  silentAfter?: number;
  logger: Logger;
}

export interface AdapterCounters {
  vendorFramesOut: number;
  vendorFramesIn: number;
  /** Bytes thrown away: noise, truncated and corrupted frames. */
  droppedBytes: number;
  /** Whole frames that decoded to nothing the family knows. */
  badFrames: number;
  /** Good frames nobody asked for: wrong board or lock, twice, late after another command to the board. */
  unexpectedReplies: number;
  /** Replies after their deadline, before the next command to the board: taken as readings. */
  lateReplies: number;
  vendorTimeouts: number;
  /** Vendor unlock frames written to the bus (never more than one per unlock decision). */
  vendorUnlocks: number;
  /** Retransmitted UNLOCKs answered from memory, and those ignored while the first was in flight. */
  answeredFromMemory: number;
  ignoredRetransmissions: number;
  /** Commands the vendor codec refused to encode (lock 0, out of range). */
  refused: number;
  eventsSent: number;
  polls: number;
  /** Boards that answered again after being silent (their state read afresh; never reported as a restart). */
  answeredAgain: number;
}

const ZERO: AdapterCounters = {
  vendorFramesOut: 0,
  vendorFramesIn: 0,
  droppedBytes: 0,
  badFrames: 0,
  unexpectedReplies: 0,
  lateReplies: 0,
  vendorTimeouts: 0,
  vendorUnlocks: 0,
  answeredFromMemory: 0,
  ignoredRetransmissions: 0,
  refused: 0,
  eventsSent: 0,
  polls: 0,
  answeredAgain: 0,
};

/** De-duplication memory, as PROTOCOL.md §10: 10 s, and at least 16 entries. */
const DEDUP_MS = 10_000;
const DEDUP_MAX = 64;
/** A silent board is still tried, but not at every poll tick: at most this often, ms. */
const SILENT_RETRY_MS = 1000;

interface VBoard {
  addr: number;
  channels: number;
  /** Last reading per lock (true = set); null until the first answer. */
  set: boolean[] | null;
  eventCounter: number;
  failures: number;
  silent: boolean;
  /** performance.now() when it was last found silent (for the log when it answers again). */
  silentSince: number;
  /** performance.now() of the last read (a silent board is retried after SILENT_RETRY_MS). */
  lastTryAt: number;
  /**
   * The command whose reply deadline passed, while no command has gone to this board since: a reply that fits it
   * can only be its reply, late.
   */
  late: VendorCommand | null;
}

interface UnlockMemory {
  /** performance.now() when it was decided: the de-duplication window is an interval, never judged by the wall clock. */
  at: number;
  /** True until the vendor unlock (and the read after a missing reply) is over. */
  pending: boolean;
}

interface InFlight {
  cmd: VendorCommand;
  settle: (r: VendorReply | null) => void;
}

export class VendorAdapter {
  /** The stream the driver reads and writes: our protocol's lines. */
  readonly native: Duplex;
  readonly counters: AdapterCounters;
  private readonly codec: VendorCodec;
  private readonly log: Logger;
  private readonly boards = new Map<number, VBoard>();
  private readonly framer: VendorFramer;
  private readonly parser = new BoundedReadlineParser();
  private readonly memory = new Map<string, UnlockMemory>();
  private readonly silentAfter: number;
  private inFlight: InFlight | null = null;
  private vendorChain: Promise<unknown> = Promise.resolve();
  private nativeChain: Promise<unknown> = Promise.resolve();
  /** Vendor exchanges queued or running, and native commands being handled: the bus is idle at 0. */
  private busy = 0;
  private pollTimer: NodeJS.Timeout | null = null;
  private nextPoll = 0;
  private closed = false;

  constructor(
    private readonly vendor: Duplex,
    private readonly opts: VendorAdapterOptions,
    counters?: AdapterCounters,
    /**
     * Each board's event counter as the adapter before this one (on the same port) left it. The driver keeps what
     * it saw across a reconnect, and a counter that started again from 0 would read to it as a restart of the board
     * (PROTOCOL.md §11.2), which the reconnect was not. The new adapter goes on from there, one further: events may
     * have been lost while the port was down, and the driver takes the state from its STATUS.
     */
    private readonly keptCounters?: Map<number, number>,
  ) {
    this.codec = opts.codec;
    this.counters = counters ?? { ...ZERO };
    this.log = opts.logger.child({ ns: 'board-adapter', family: opts.codec.family });
    this.silentAfter = opts.silentAfter ?? 3;
    for (const b of opts.boards) {
      this.boards.set(b.addr, {
        addr: b.addr,
        channels: b.channels,
        set: null,
        eventCounter: keptCounters?.has(b.addr) ? (keptCounters.get(b.addr)! + 1) & MAX_SEQ : 0,
        failures: 0,
        silent: false,
        silentSince: 0,
        lastTryAt: 0,
        late: null,
      });
      keptCounters?.set(b.addr, this.boards.get(b.addr)!.eventCounter);
    }
    this.framer = new VendorFramer(opts.codec, 'toController');
    this.native = new Duplex({
      allowHalfOpen: false,
      read() {
        /* lines are pushed as replies and events happen */
      },
      write: (chunk: Buffer, _enc, cb) => {
        if (!this.closed) this.parser.write(chunk);
        cb();
      },
      final: (cb) => {
        this.close('closed by the controller');
        cb();
      },
      destroy: (err, cb) => {
        this.close('closed by the controller');
        cb(err);
      },
    });
    this.parser.on('data', (line: string) => this.safely(() => this.onNativeLine(line)));
    this.parser.on('error', () => undefined);
    vendor.on('data', (chunk: Buffer) => this.safely(() => this.onVendorBytes(chunk)));
    vendor.on('error', (e: Error) => this.close(`vendor port error: ${e.message}`));
    vendor.on('close', () => this.close('vendor port closed'));
    vendor.on('end', () => this.close('vendor port ended'));
    this.schedulePoll();
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    this.inFlight?.settle(null);
    this.log.info({ reason }, 'vendor adapter closed');
    if (!this.vendor.destroyed) this.vendor.destroy();
    if (!this.native.destroyed) {
      this.native.push(null);
      this.native.destroy();
    }
  }

  // ------------------------------------------------------------------ our protocol, from the driver

  private onNativeLine(line: string): void {
    const r = decode(line);
    if (!r.ok) {
      const e = r.error;
      // Like a board (§9): NAK a command for one of our boards whose arguments are wrong, ignore the rest.
      if (
        e.direction === 'toBoard' &&
        e.addr !== undefined &&
        e.seq !== undefined &&
        e.verb &&
        this.boards.has(e.addr) &&
        (e.code === 'UNKNOWN_VERB' || e.code === 'BAD_ARGS' || e.code === 'BAD_CHANNEL')
      ) {
        this.send({ kind: 'nak', addr: e.addr, seq: e.seq, verb: e.verb, reason: e.code });
      }
      return;
    }
    const m = r.message;
    if (m.kind !== 'ident' && m.kind !== 'status' && m.kind !== 'unlock' && m.kind !== 'led') return; // not a command
    const board = this.boards.get(m.addr);
    if (!board) return; // no such board on this bus: silence, as on a real bus
    this.onCommand(board, m);
  }

  private onCommand(board: VBoard, cmd: Command): void {
    const { addr, seq } = cmd;
    switch (cmd.kind) {
      case 'led':
        // These boards have no indicators: acknowledge and do nothing (PROTOCOL.md §7.4).
        if (cmd.channel > board.channels) this.send({ kind: 'nak', addr, seq, verb: 'LED', reason: 'BAD_CHANNEL' });
        else this.send({ kind: 'ack-led', addr, seq, channel: cmd.channel, mode: cmd.mode });
        return;
      case 'ident':
        this.queueNative(async () => {
          if (await this.readBoard(board)) {
            this.send({ kind: 'ack-ident', addr, seq, protocol: PROTOCOL_VERSION, firmware: this.codec.adapterFirmware, channels: board.channels });
          }
        });
        return;
      case 'status':
        this.queueNative(async () => {
          if (!(await this.readBoard(board)) || !board.set) return;
          const doors = board.set.map(levelOf);
          this.send({
            kind: 'ack-status',
            addr,
            seq,
            eventCounter: board.eventCounter,
            doors,
            items: doors.map(() => false),
            faults: doors.map(() => 'NONE' as const),
          });
        });
        return;
      case 'unlock':
        this.onUnlock(board, cmd.seq, cmd.channel);
    }
  }

  private onUnlock(board: VBoard, seq: number, channel: number): void {
    const addr = board.addr;
    if (channel > board.channels) {
      this.send({ kind: 'nak', addr, seq, verb: 'UNLOCK', reason: 'BAD_CHANNEL' });
      return;
    }
    const now = performance.now();
    for (const [k, v] of this.memory) if (now - v.at >= DEDUP_MS) this.memory.delete(k);
    const key = `${addr}:${seq}:${channel}`;
    const known = this.memory.get(key);
    if (known) {
      if (known.pending) {
        // The first transmission is still being worked on; its answer carries this same number.
        this.counters.ignoredRetransmissions++;
        return;
      }
      // A retransmission: the unlock went out once already. Read the board, answer from memory.
      this.queueNative(async () => {
        if (!(await this.readBoard(board))) return;
        this.counters.answeredFromMemory++;
        this.send({ kind: 'ack-unlock', addr, seq, channel, duplicate: true });
      });
      return;
    }
    if (this.memory.size >= DEDUP_MAX) this.memory.delete(this.memory.keys().next().value!);
    const entry: UnlockMemory = { at: now, pending: true };
    this.memory.set(key, entry); // remembered BEFORE the bytes go out: never a second vendor unlock
    this.queueNative(async () => {
      try {
        const reply = await this.vendorExchange({ kind: 'unlock', board: addr, lock: channel });
        if (reply?.kind === 'unlock') {
          this.send({ kind: 'ack-unlock', addr, seq, channel, duplicate: false });
          this.applyReply(board, reply);
          return;
        }
        // No reply: the pulse may or may not have happened. Never unlock again; read the board.
        if (await this.readBoard(board)) this.send({ kind: 'ack-unlock', addr, seq, channel, duplicate: false });
      } finally {
        entry.pending = false;
      }
    });
  }

  private queueNative(job: () => Promise<void>): void {
    this.busy++;
    const run = this.nativeChain
      .then(job)
      .catch((e: unknown) => {
        this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'failed to handle a command');
      })
      .finally(() => {
        this.busy--;
      });
    this.nativeChain = run;
  }

  private send(m: Message): void {
    if (this.closed) return;
    this.native.push(encodeLine(m), 'latin1');
  }

  // ------------------------------------------------------------------ the boards' state

  /** Read a whole board; send DOOR events for what changed. Null when it did not answer. */
  private async readBoard(board: VBoard): Promise<boolean[] | null> {
    board.lastTryAt = performance.now();
    const reply = await this.vendorExchange({ kind: 'status', board: board.addr });
    if (reply?.kind !== 'status') return null;
    this.applyReading(board, reply.set);
    return board.set;
  }

  private applyReading(board: VBoard, set: readonly boolean[]): void {
    const now = set.slice(0, board.channels);
    while (now.length < board.channels) now.push(false);
    const before = board.set;
    board.set = now;
    if (!before) return; // the first reading: the driver reads STATUS, nothing to report
    for (let i = 0; i < now.length; i++) {
      if (now[i] !== before[i]) this.event(board, { kind: 'door', channel: i + 1, level: levelOf(now[i]!) });
    }
  }

  /** The lock states a board's reply carries (a whole-board reading, or the lock an unlock reply names). */
  private applyReply(board: VBoard, reply: VendorReply): void {
    if (Array.isArray(reply.set)) this.applyReading(board, reply.set);
    else if (reply.kind !== 'status') this.applyLock(board, reply.lock, reply.set);
  }

  private applyLock(board: VBoard, lock: number, set: boolean): void {
    if (!board.set) return;
    const next = [...board.set];
    next[lock - 1] = set;
    this.applyReading(board, next);
  }

  private event(board: VBoard, e: { kind: 'door'; channel: number; level: SwitchLevel }): void {
    this.advance(board);
    this.send({ kind: 'door', addr: board.addr, seq: board.eventCounter, channel: e.channel, level: e.level });
    this.counters.eventsSent++;
  }

  private answered(board: VBoard | undefined): void {
    if (!board) return;
    board.failures = 0;
    if (board.silent) {
      board.silent = false;
      this.counters.answeredAgain++;
      const silentMs = Math.round(performance.now() - board.silentSince);
      this.log.warn({ addr: board.addr, silentMs }, 'vendor board answers again after a silence: its state is read afresh, not taken for a restart');
      // What changed meanwhile was never seen: this reading is the new baseline (no events from it), and the
      // counter skips one that is never sent, so the driver sees events lost and takes its state from STATUS.
      board.set = null;
      this.advance(board);
    }
  }

  private advance(board: VBoard): void {
    board.eventCounter = (board.eventCounter + 1) & MAX_SEQ;
    this.keptCounters?.set(board.addr, board.eventCounter);
  }

  private unanswered(board: VBoard | undefined): void {
    if (!board) return;
    board.failures++;
    if (!board.silent && board.failures >= this.silentAfter) {
      board.silent = true;
      board.silentSince = performance.now();
      this.log.warn({ addr: board.addr, failures: board.failures }, 'vendor board is silent');
    }
  }

  // ------------------------------------------------------------------ the vendor bus

  /** One vendor command and its reply (null: no good reply in time), after every exchange before it. */
  private vendorExchange(cmd: VendorCommand): Promise<VendorReply | null> {
    this.busy++;
    const run = this.vendorChain
      .then(() => this.exchange(cmd))
      .finally(() => {
        this.busy--;
      });
    this.vendorChain = run.catch(() => undefined);
    return run;
  }

  private exchange(cmd: VendorCommand): Promise<VendorReply | null> {
    if (this.closed) return Promise.resolve(null);
    let bytes: Uint8Array;
    try {
      bytes = this.codec.encodeCommand(cmd);
    } catch (e) {
      this.counters.refused++;
      this.log.error({ cmd, err: e instanceof VendorEncodeError ? e.message : String(e) }, 'command refused by the vendor codec');
      return Promise.resolve(null);
    }
    const dropped = this.framer.discardPartial();
    if (dropped > 0) {
      this.counters.droppedBytes += dropped;
      this.log.warn({ bytes: dropped }, 'dropped the remains of a broken frame');
    }
    const board = this.boards.get(cmd.board);
    if (board) board.late = null; // a reply to what went before is no longer known for one
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.inFlight = null;
        this.counters.vendorTimeouts++;
        this.log.debug({ cmd }, 'no reply from vendor board');
        if (board) board.late = cmd;
        this.unanswered(board);
        resolve(null);
      }, this.opts.replyTimeoutMs);
      this.inFlight = {
        cmd,
        settle: (r) => {
          clearTimeout(timer);
          this.inFlight = null;
          resolve(r);
        },
      };
      this.counters.vendorFramesOut++;
      if (cmd.kind === 'unlock') this.counters.vendorUnlocks++;
      this.log.debug({ dir: 'out', frame: hexBytes(bytes) }, 'vendor frame');
      this.vendor.write(bytes, (err) => {
        if (err) this.inFlight?.settle(null);
      });
    });
  }

  private onVendorBytes(chunk: Buffer): void {
    const expect = this.inFlight?.cmd.kind ?? [...this.boards.values()].find((b) => b.late)?.late?.kind;
    const before = this.framer.counters.droppedBytes;
    const frames = this.framer.push(chunk, expect);
    const dropped = this.framer.counters.droppedBytes - before;
    if (dropped > 0) {
      this.counters.droppedBytes += dropped;
      this.log.warn({ bytes: dropped }, 'garbage on the vendor bus dropped');
    }
    for (const f of frames) this.onVendorFrame(f);
  }

  private onVendorFrame(frame: Uint8Array): void {
    this.counters.vendorFramesIn++;
    const r = this.codec.decodeReply(frame, this.codec.maxLocks);
    if (!r.ok) {
      this.counters.badFrames++;
      this.log.warn({ frame: hexBytes(frame), err: r.error }, 'vendor frame not understood');
      return;
    }
    const reply = r.value;
    const p = this.inFlight;
    const fits = p !== null && answers(p.cmd, reply);
    const board = this.boards.get(reply.board);
    if (!fits && board?.late && answers(board.late, reply)) {
      this.onLateReply(board, board.late, reply);
      return;
    }
    if (!p || !fits) {
      this.counters.unexpectedReplies++;
      this.log.warn({ frame: hexBytes(frame), waitingFor: p?.cmd ?? null }, 'vendor reply nobody asked for: ignored');
      return;
    }
    this.log.debug({ dir: 'in', frame: hexBytes(frame) }, 'vendor frame');
    this.answered(this.boards.get(reply.board));
    p.settle(reply);
  }

  /**
   * The reply to `cmd`, after its deadline and before any other command to the board: a reading. The silence count
   * starts again (answering again only if the board was already counted silent); nothing is sent to the driver and
   * nothing to the board.
   */
  private onLateReply(board: VBoard, cmd: VendorCommand, reply: VendorReply): void {
    board.late = null;
    this.counters.lateReplies++;
    this.log.info({ addr: board.addr, cmd, wasSilent: board.silent }, 'vendor reply after its deadline, before the next command: taken as a reading');
    this.answered(board);
    this.applyReply(board, reply);
  }

  // ------------------------------------------------------------------ polling

  private schedulePoll(): void {
    if (this.closed) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      this.safely(() => this.pollOnce());
      this.schedulePoll();
    }, this.opts.pollMs);
    this.pollTimer.unref();
  }

  private pollOnce(): void {
    if (this.busy > 0 || this.inFlight) return; // never while a command is in flight or waiting
    const list = [...this.boards.values()];
    const now = performance.now();
    for (let i = 0; i < list.length; i++) {
      const board = list[(this.nextPoll + i) % list.length]!;
      if (board.silent && now - board.lastTryAt < SILENT_RETRY_MS) continue;
      this.nextPoll = (this.nextPoll + i + 1) % list.length;
      this.counters.polls++;
      void this.readBoard(board);
      return;
    }
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'vendor adapter error');
    }
  }
}

/** Does `reply` answer `cmd`: same kind and board, and for a one-lock command the same lock? */
function answers(cmd: VendorCommand, reply: VendorReply): boolean {
  return cmd.kind === reply.kind && cmd.board === reply.board && (cmd.kind === 'status' || (reply.kind !== 'status' && cmd.lock === reply.lock));
}

function levelOf(set: boolean): SwitchLevel {
  return set ? 'C' : 'O';
}

/**
 * An Endpoint for the driver that opens `inner` (the vendor board's serial port or device server)
 * and puts a VendorAdapter in between. Each open is a fresh adapter; the counters, and each board's event
 * counter, run on.
 */
export function vendorEndpoint(
  inner: Endpoint,
  opts: VendorAdapterOptions,
): Endpoint & { readonly counters: AdapterCounters; readonly adapter: VendorAdapter | null } {
  const counters: AdapterCounters = { ...ZERO };
  const eventCounters = new Map<number, number>();
  let current: VendorAdapter | null = null;
  return {
    description: `${inner.description} (${opts.codec.family} via adapter)`,
    counters,
    get adapter() {
      return current;
    },
    async open() {
      const stream = await inner.open();
      current = new VendorAdapter(stream, opts, counters, eventCounters);
      return current.native;
    },
  };
}
