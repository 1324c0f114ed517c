/**
 * The board driver: everything between "open compartment 7" and the bytes on the bus.
 *
 * - One command in flight on the (half-duplex) bus at a time. Waiting commands are served by
 *   priority, then in order: unlocks first, then other commands, and the STATUS heartbeat last —
 *   it starts only on an idle bus, only for a board not heard from for `pollMs` (a STATUS or an
 *   in-order event), and gives up its retries when an unlock is waiting (README, "The bus").
 * - The reply matcher is registered before the frame is written; every attempt has a deadline;
 *   a command without reply is retransmitted with the SAME sequence number (the firmware
 *   de-duplicates unlocks, so a retry never pulses twice), at most `retries` times.
 * - Unlocks carry a deadline: an unlock that cannot be (re)sent within its time to live is dropped,
 *   never sent late. The deadline is kept on the monotonic clock (performance.now()), never the wall
 *   clock: a clock set forward (NTP, a fixed RTC) does not drop an unlock, nor does one set back keep it sendable. There is no way to open several at once. (Whether an unlock may be decided at
 *   all — the per-minute cap — is the unlock policy's, domain/unlock-policy.ts, applied by the store.)
 * - Board events arrive as a typed stream. Each board's event counter is checked: a gap, a BOOT,
 *   a (re)connect or a poll that shows a newer counter makes the driver re-read full STATUS and
 *   report every difference from what it knew.
 * - A board speaking protocol version 2 also reports per channel how often its door contact opened
 *   (PROTOCOL.md §21): the driver compares the counts with the openings it applied since the last
 *   STATUS and reports the openings it never saw ('hidden-openings'), confirmed by the next STATUS.
 * - "Unlock acknowledged" and "door opened" are separate facts. The driver reports what doors did,
 *   with how old the change may be (`ageMs`); which openings are tamper is the unlock policy's call.
 * - Frames are handled in arrival order, and a frame that breaks a verb rule is dropped before it
 *   touches any state.
 * - When the port goes away the driver reports 'offline', fails what was pending, and reconnects
 *   with back-off. Nothing here throws out of an event handler.
 */
import { EventEmitter } from 'node:events';
import {
  decode,
  encodeLine,
  isEvent,
  isReply,
  MAX_CHANNELS_V2,
  MAX_SEQ,
  OPENINGS_MODULUS,
  PROTOCOL_VERSIONS,
  replyVerb,
  type BoardEvent,
  type BoardStatus,
  type Command,
  type FaultCode,
  type IdentAck,
  type LedMode,
  type Nak,
  type ProtocolVersion,
  type Reply,
  type StatusAck,
  type SwitchLevel,
  type UnlockAck,
} from '../../firmware-protocol/index.js';
import type { Config } from '../config.js';
import { CabinetError, ErrorCodes, isCabinetError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Endpoint } from '../transport/endpoints.js';
import { KeptLink } from '../transport/kept-link.js';
import type { Link } from '../transport/link.js';
import { CompartmentMap, type Place } from './layout.js';

export type LinkState = 'connecting' | 'online' | 'offline' | 'stopped';
export type ChangeSource = 'event' | 'resync';
export type ResyncReason = 'connect' | 'boot' | 'lost-event' | 'stale-event' | 'poll' | 'recovered';

/** The lock-bus settings of the configuration (see config.ts for their meaning and ranges), plus the port. */
export type DriverOptions = Pick<
  Config,
  'layout' | 'doorPolarity' | 'pulseMs' | 'responseTimeoutMs' | 'retries' | 'pollMs' | 'reconnectMinMs' | 'reconnectMaxMs' | 'unlockTtlMs'
> & {
  endpoint: Endpoint;
  logger: Logger;
  /** The monotonic clock of unlock deadlines, the heartbeat and the age of a change a STATUS finds (ms); performance.now() unless a test injects one. */
  monotonicNow?: () => number;
};

export interface DriverEvents {
  link: [{ state: LinkState; reason?: string }];
  board: [{ addr: number; online: boolean; reason?: string }];
  /**
   * A door changed. `ageMs`: how long before now the change may have happened — 0 for an event in
   * order; for a change found by STATUS, the time since the board was last fully known (the last
   * STATUS or in-order event), e.g. a lost DOOR event found by the next poll, or a change while
   * offline; null for the first reading since the driver started (it may date from before the start).
   */
  door: [{ compartment: number; open: boolean; source: ChangeSource; ageMs: number | null }];
  item: [{ compartment: number; present: boolean; source: ChangeSource }];
  fault: [{ compartment: number; fault: FaultCode; source: ChangeSource }];
  /**
   * Door openings a version 2 board counted and the driver never saw (both DOOR events lost, PROTOCOL.md §21.3), as
   * found by two consecutive STATUS replies. `ageMs`: how long before now they may have happened at the earliest (on
   * the monotonic clock). The door is in the same state as before each of them: each is an opening and a closing.
   */
  'hidden-openings': [{ compartment: number; count: number; ageMs: number | null }];
  /**
   * What one STATUS of a version 2 board settled about its door-opening counts: the openings found (as
   * 'hidden-openings'; `ageMs` null for openings made before this process started, compared with a kept baseline) and
   * the board's baseline when it moved (`counts`: the board's less those still to be confirmed), to be kept together.
   * Not emitted when neither changed.
   */
  openings: [{ addr: number; found: { compartment: number; count: number; ageMs: number | null }[]; baseline: OpeningsBaselineFact | null }];
  boot: [{ addr: number; reason: string }];
  resync: [{ addr: number; reason: ResyncReason; changes: number }];
}

export interface CompartmentSnapshot {
  compartment: number;
  board: number;
  channel: number;
  door: 'open' | 'closed' | 'unknown';
  item: 'present' | 'absent' | 'unknown';
  fault: FaultCode | 'unknown';
}

export interface BoardSnapshot {
  addr: number;
  online: boolean;
  firmware: string | null;
  channels: number | null;
  lastSeenAt: string | null;
}

export interface DriverCounters {
  framesOut: number;
  framesIn: number;
  badCrc: number;
  undecodable: number;
  overlongLines: number;
  noiseBytes: number;
  timeouts: number;
  retransmissions: number;
  naks: number;
  unmatchedReplies: number;
  /** Frames that decoded but broke a verb rule (a channel the board does not have, a reply that does not fit its command): dropped. */
  invalidFrames: number;
  lostEvents: number;
  /** Events received twice (same counter): dropped. */
  duplicateEvents: number;
  /** Events with a counter behind the last seen (not BOOT): dropped, STATUS re-read. */
  staleEvents: number;
  boots: number;
  reconnects: number;
  unlocksSent: number;
  /** Unlocks dropped before any byte went out (deadline passed, withdrawn). */
  unlocksExpired: number;
  /** Unlocks sent but not acknowledged before their deadline: outcome unknown. */
  unlocksUnconfirmed: number;
  /** Door openings the unlock policy found unexplained (counted here for /api/health, decided by the flows). */
  tampers: number;
  /** Door openings found by a version 2 board's counts that no DOOR event reported (PROTOCOL.md §21.3). */
  hiddenOpenings: number;
}

/** A version 2 board's door-opening counts as of a STATUS, with what identifies the board's run (PROTOCOL.md §21.3). */
export interface OpeningsBaselineFact {
  addr: number;
  protocol: 2;
  firmware: string;
  eventCounter: number;
  counts: number[];
}

/** A baseline kept from before this process started, with the door record since it was kept. */
export interface KeptBaseline extends OpeningsBaselineFact {
  /** Per compartment of the board: door openings and closings recorded after the baseline was kept. */
  recordedSince: ReadonlyMap<number, { opened: number; closed: number }>;
  /** Per compartment: the door as last recorded. */
  doors: ReadonlyMap<number, 'open' | 'closed' | 'unknown'>;
}

export interface DriverSnapshot {
  link: LinkState;
  port: string;
  boards: BoardSnapshot[];
  compartments: CompartmentSnapshot[];
  counters: DriverCounters;
}

interface Pending {
  addr: number;
  seq: number;
  verb: string;
  command: Command;
  /** Runs synchronously when the reply is read, before any later frame of the same read is handled. */
  onReply?: (r: Reply) => void;
  settle: (r: Reply | CabinetError) => void;
}

interface BoardState {
  addr: number;
  channels: number;
  online: boolean;
  ident: IdentAck | null;
  lastSeenAt: number | null;
  /** Seq of the last event seen; null until the first STATUS or event. */
  eventCounter: number | null;
  /**
   * When the driver last knew every input of the board (a STATUS, or an event with no gap before it), on the monotonic
   * clock: how old a change a STATUS finds may be (`ageMs`) is an interval, never changed by a wall clock that jumped.
   */
  knownAt: number | null;
  /** When the heartbeat last asked this board (answered or not), on the monotonic clock. */
  polledAt: number | null;
  resyncQueued: boolean;
  /** The protocol version its IDENT reported (1 until then): how its frames are decoded. */
  protocol: ProtocolVersion;
  /** Version 2: the door-opening counts of the last STATUS applied (the baseline), null when there is none. */
  openings: number[] | null;
  /** When that STATUS was applied (monotonic clock). */
  openingsAt: number | null;
  /** Version 2: some channel has openings left to confirm by the next STATUS (the heartbeat reads it soon). */
  openingsToConfirm: boolean;
  /** A baseline kept from before this process started, until the board's IDENT and first STATUS are compared with it. */
  kept: { firmware: string; eventCounter: number } | null;
  /** The baseline last reported in an 'openings' event (its JSON), so an unchanged one is not reported again. */
  reportedBaseline: string | null;
  /** Its first STATUS was compared with the baseline kept before this process started (same run), none rebased since. */
  countedSinceStop: boolean;
}

interface ChannelState {
  open: boolean | null;
  present: boolean | null;
  fault: FaultCode | null;
  /** The raw door-switch level last applied (PROTOCOL.md §12.1), null until the first. */
  level: SwitchLevel | null;
  /** Contact openings (C → O) applied since the last STATUS: by events, and by that STATUS's level. */
  contactOpenings: number;
  /** Version 2: openings counted by the board and not seen, still to be confirmed by the next STATUS (§21.3). */
  owed: number;
  /** When the STATUS before the one that found `owed` was applied: the earliest they may have happened. */
  owedFrom: number | null;
  /** `owed` was found against a kept baseline: the openings may have happened before this process started. */
  owedSinceStop: boolean;
}

const newChannel = (): ChannelState => ({
  open: null,
  present: null,
  fault: null,
  level: null,
  contactOpenings: 0,
  owed: 0,
  owedFrom: null,
  owedSinceStop: false,
});

interface TransactOptions {
  /** Unlocks: not (re)sent after this time, on the monotonic clock. */
  deadline?: number;
  onSent?: (sent: boolean) => void;
  beforeSend?: (seq: number) => boolean;
  /** Apply the reply's content at receipt, in arrival order with the events around it. */
  onReply?: (r: Reply) => void;
  /** The heartbeat: waits for an idle bus, and gives up its retries to a waiting unlock. */
  background?: boolean;
}

/** Lower runs first. */
const PRIORITY = { unlock: 0, command: 1, heartbeat: 2 } as const;
type Priority = (typeof PRIORITY)[keyof typeof PRIORITY];

type CommandBody = Command extends infer C ? (C extends Command ? Omit<C, 'seq'> : never) : never;

const VERB_OF: Record<Command['kind'], string> = { ident: 'IDENT', status: 'STATUS', unlock: 'UNLOCK', led: 'LED' };

const ZERO_COUNTERS: DriverCounters = {
  framesOut: 0,
  framesIn: 0,
  badCrc: 0,
  undecodable: 0,
  overlongLines: 0,
  noiseBytes: 0,
  timeouts: 0,
  retransmissions: 0,
  naks: 0,
  unmatchedReplies: 0,
  invalidFrames: 0,
  lostEvents: 0,
  duplicateEvents: 0,
  staleEvents: 0,
  boots: 0,
  reconnects: 0,
  unlocksSent: 0,
  unlocksExpired: 0,
  unlocksUnconfirmed: 0,
  tampers: 0,
  hiddenOpenings: 0,
};

export class BoardDriver extends EventEmitter<DriverEvents> {
  readonly map: CompartmentMap;
  private readonly log: Logger;
  private readonly boards = new Map<number, BoardState>();
  private readonly channels: ChannelState[];
  private readonly counters: DriverCounters = { ...ZERO_COUNTERS };
  private readonly kept: KeptLink;
  private link: Link | null = null;
  private linkState: LinkState = 'offline';
  private seq = Math.floor(Math.random() * (MAX_SEQ + 1));
  /** Commands waiting for the bus, highest priority first, in order of arrival within a priority. */
  private readonly queue: { priority: Priority; run: () => Promise<void> }[] = [];
  private busy = false;
  private idleWaiters: (() => void)[] = [];
  private connected: Promise<void> = Promise.resolve();
  private pending: Pending | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private stopped = true;
  private readonly monotonicNow: () => number;

  constructor(private readonly opts: DriverOptions) {
    super();
    this.monotonicNow = opts.monotonicNow ?? (() => performance.now());
    this.log = opts.logger.child({ ns: 'board' });
    this.map = new CompartmentMap(opts.layout);
    for (const b of opts.layout.boards) {
      this.boards.set(b.addr, {
        addr: b.addr,
        channels: b.channels,
        online: false,
        ident: null,
        lastSeenAt: null,
        eventCounter: null,
        knownAt: null,
        polledAt: null,
        resyncQueued: false,
        protocol: 1,
        openings: null,
        openingsAt: null,
        openingsToConfirm: false,
        kept: null,
        reportedBaseline: null,
        countedSinceStop: false,
      });
    }
    this.channels = this.map.places.map(newChannel);
    this.kept = new KeptLink({ ...opts, logger: this.log });
    this.kept.on('up', (link) => {
      this.connected = this.onLinkUp(link);
    });
    this.kept.on('down', (reason) => this.onLinkDown(reason));
    this.kept.on('line', (line) => this.onLine(line));
  }

  // ------------------------------------------------------------------ lifecycle

  /** Connect (and keep reconnecting). Resolves after the first attempt, whether or not it succeeded. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.setLinkState('connecting');
    this.pollTimer = setInterval(() => void this.poll(), Math.max(50, Math.floor(this.opts.pollMs / 4)));
    this.pollTimer.unref();
    await this.kept.start();
    await this.connected;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.failPending(new CabinetError(ErrorCodes.LINK_CLOSED, 'the driver was stopped'));
    this.link = null;
    this.kept.stop();
    this.setLinkState('stopped');
    await this.whenIdle();
  }

  get state(): LinkState {
    return this.linkState;
  }

  private async onLinkUp(link: Link): Promise<void> {
    this.link = link;
    this.setLinkState('online');
    this.log.info({ port: this.opts.endpoint.description }, 'lock board port open');
    for (const board of this.boards.values()) await this.refreshBoard(board, 'connect');
  }

  private onLinkDown(reason: string): void {
    this.link = null;
    this.failPending(new CabinetError(ErrorCodes.LINK_DISCONNECTED, `the lock board port went away (${reason})`));
    for (const board of this.boards.values()) this.setBoardOnline(board, false, 'link down');
    if (this.stopped) return;
    this.setLinkState('offline', reason);
  }

  private setLinkState(state: LinkState, reason?: string): void {
    if (state === this.linkState) return;
    this.linkState = state;
    this.emit('link', reason === undefined ? { state } : { state, reason });
  }

  private setBoardOnline(board: BoardState, online: boolean, reason?: string): void {
    if (board.online === online) return;
    board.online = online;
    this.emit('board', reason === undefined ? { addr: board.addr, online } : { addr: board.addr, online, reason });
  }

  // ------------------------------------------------------------------ public commands

  /**
   * Pulse the lock of one compartment. Resolves when the board acknowledged the pulse — which
   * is NOT the door opening: that arrives later as a 'door' event. Rejects with a CabinetError
   * (UNLOCK_EXPIRED, LINK_TIMEOUT, LINK_NAK, LINK_OFFLINE, LINK_DISCONNECTED, BOARD_REBOOTED, …).
   */
  async unlock(
    compartment: number,
    options: {
      pulseMs?: number;
      /** Time to live from now (default UNLOCK_TTL_MS), judged on the monotonic clock: not (re)sent after it. */
      withinMs?: number;
      /**
       * Called once, right before the first transmission (after any wait for the bus), with the
       * command's sequence number. Returning false drops the unlock unsent (UNLOCK_EXPIRED): this
       * is where the store marks the unlock intent as sent, or finds it expired.
       */
      beforeSend?: (seq: number) => boolean;
    } = {},
  ): Promise<{ compartment: number; duplicate: boolean }> {
    const place = this.placeOf(compartment);
    const deadline = this.monotonicNow() + (options.withinMs ?? this.opts.unlockTtlMs);
    const ack = (await this.execute(
      { kind: 'unlock', addr: place.addr, channel: place.channel, pulseMs: options.pulseMs ?? this.opts.pulseMs },
      { deadline, ...(options.beforeSend ? { beforeSend: options.beforeSend } : {}) },
    )) as UnlockAck;
    this.counters.unlocksSent++;
    return { compartment, duplicate: ack.duplicate };
  }

  async setLed(compartment: number, mode: LedMode): Promise<void> {
    const place = this.placeOf(compartment);
    await this.execute({ kind: 'led', addr: place.addr, channel: place.channel, mode });
  }

  /** Read the status of the board of one compartment now (reporting differences) and return that compartment. */
  async readCompartment(compartment: number): Promise<CompartmentSnapshot> {
    const place = this.placeOf(compartment);
    const board = this.boards.get(place.addr)!;
    await this.readStatus(board, 'poll');
    return this.snapshot().compartments[compartment - 1]!;
  }

  /** Read full status of every board now and report differences. */
  async resyncAll(reason: ResyncReason = 'poll'): Promise<void> {
    for (const board of this.boards.values()) await this.refreshBoard(board, reason);
  }

  snapshot(): DriverSnapshot {
    return {
      link: this.linkState,
      port: this.opts.endpoint.description,
      boards: [...this.boards.values()].map((b) => ({
        addr: b.addr,
        online: b.online,
        firmware: b.ident?.firmware ?? null,
        channels: b.ident?.channels ?? null,
        lastSeenAt: b.lastSeenAt === null ? null : new Date(b.lastSeenAt).toISOString(),
      })),
      compartments: this.map.places.map((p) => {
        const c = this.channels[p.compartment - 1]!;
        return {
          compartment: p.compartment,
          board: p.addr,
          channel: p.channel,
          door: c.open === null ? 'unknown' : c.open ? 'open' : 'closed',
          item: c.present === null ? 'unknown' : c.present ? 'present' : 'absent',
          fault: c.fault ?? 'unknown',
        };
      }),
      counters: { ...this.counters, overlongLines: this.kept.overlongLines, reconnects: this.kept.reconnects },
    };
  }

  private placeOf(compartment: number): Place {
    const place = this.map.place(compartment);
    if (!place) {
      throw new CabinetError(ErrorCodes.NO_SUCH_COMPARTMENT, `compartment ${compartment} does not exist (1..${this.map.count})`, { compartment });
    }
    return place;
  }

  // ------------------------------------------------------------------ the command queue

  /** Run one command on the bus, after every command queued before it. */
  private execute(body: CommandBody, opts: TransactOptions = {}): Promise<Reply> {
    const priority: Priority = body.kind === 'unlock' ? PRIORITY.unlock : opts.background ? PRIORITY.heartbeat : PRIORITY.command;
    return new Promise<Reply>((resolve, reject) => {
      let at = this.queue.length;
      while (at > 0 && this.queue[at - 1]!.priority > priority) at--;
      this.queue.splice(at, 0, { priority, run: () => this.transact(body, opts).then(resolve, reject) });
      this.pump();
    });
  }

  /** Start the next waiting command when the bus is free. */
  private pump(): void {
    if (this.busy) return;
    const next = this.queue.shift();
    if (!next) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
      return;
    }
    this.busy = true;
    void next.run().finally(() => {
      this.busy = false;
      this.pump();
    });
  }

  /** Resolves when no command is in flight or waiting. */
  private whenIdle(): Promise<void> {
    if (!this.busy && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** True when a command more urgent than the heartbeat waits for the bus. */
  private urgentWaiting(): boolean {
    return this.queue.some((j) => j.priority < PRIORITY.heartbeat);
  }

  private async transact(body: CommandBody, { deadline, onSent, beforeSend, onReply, background }: TransactOptions): Promise<Reply> {
    const board = this.boards.get(body.addr);
    const seq = this.nextSeq();
    const command = { ...body, seq } as Command;
    const line = encodeLine(command);
    const verb = VERB_OF[body.kind];
    // True while a transmission of this command is out with no answer: from then on the board may have
    // acted on it, so giving up is "outcome unknown", never "not sent" (see domain/unlock-policy.ts).
    let unanswered = false;
    let lastNak: Nak | null = null;
    for (let attempt = 0; attempt <= this.opts.retries; attempt++) {
      if (deadline !== undefined && this.monotonicNow() > deadline) {
        if (unanswered) {
          this.counters.unlocksUnconfirmed++;
          throw new CabinetError(
            ErrorCodes.UNLOCK_UNCONFIRMED,
            'the unlock was sent but not acknowledged before its deadline; no further retry is sent and the board may have pulsed',
            { addr: body.addr, seq, attempt },
          );
        }
        this.counters.unlocksExpired++;
        throw new CabinetError(
          ErrorCodes.UNLOCK_EXPIRED,
          attempt === 0
            ? 'the unlock waited too long for the bus and was dropped, never sent late'
            : 'the board refused the unlock as busy until its deadline passed; it was never executed',
          { addr: body.addr, seq, attempt },
        );
      }
      const link = this.link;
      if (!link) {
        if (unanswered)
          throw new CabinetError(ErrorCodes.LINK_DISCONNECTED, 'the lock board port went away between retransmissions; the outcome is unknown', {
            addr: body.addr,
            seq,
          });
        throw new CabinetError(ErrorCodes.LINK_OFFLINE, 'the lock board port is not open', { addr: body.addr });
      }
      if (attempt === 0 && beforeSend && !beforeSend(seq)) {
        this.counters.unlocksExpired++;
        throw new CabinetError(ErrorCodes.UNLOCK_EXPIRED, 'the unlock was withdrawn or expired before it could be sent', { addr: body.addr, seq });
      }
      if (attempt > 0) this.counters.retransmissions++;
      unanswered = true;
      const outcome = await new Promise<Reply | CabinetError>((resolve) => {
        const timer = setTimeout(() => {
          this.pending = null;
          resolve(new CabinetError(ErrorCodes.LINK_TIMEOUT, 'no reply', { addr: body.addr, seq }));
        }, this.opts.responseTimeoutMs);
        // Matcher first, then the write: a reply can never arrive before we listen for it.
        this.pending = {
          addr: body.addr,
          seq,
          verb,
          command,
          ...(onReply ? { onReply } : {}),
          settle: (r) => {
            clearTimeout(timer);
            this.pending = null;
            resolve(r);
          },
        };
        this.counters.framesOut++;
        this.log.debug({ dir: 'out', frame: line.trimEnd() }, 'frame');
        link.write(line).then(
          () => onSent?.(true),
          (e: unknown) => {
            this.pending?.settle(new CabinetError(ErrorCodes.LINK_DISCONNECTED, `write failed: ${errorText(e)}`, { addr: body.addr, seq }));
          },
        );
      });
      if (!(outcome instanceof CabinetError)) {
        if (board) {
          board.lastSeenAt = Date.now();
          this.setBoardOnline(board, true);
        }
        if (outcome.kind === 'nak') {
          // A NAK never has side effects, and a retransmission of an executed UNLOCK is answered DUP,
          // never NAK (PROTOCOL.md §8, §10): after a NAK nothing of this command was executed.
          unanswered = false;
          lastNak = outcome;
          this.counters.naks++;
          if (outcome.reason === 'BUSY') {
            // Another coil of the board is still pulsing: wait one pulse before asking again.
            await new Promise((r) => setTimeout(r, this.opts.pulseMs));
            continue;
          }
          throw new CabinetError(ErrorCodes.LINK_NAK, `board ${body.addr} refused ${verb}: ${outcome.reason}`, {
            addr: body.addr,
            seq,
            reason: outcome.reason,
          });
        }
        return outcome;
      }
      if (outcome.code !== ErrorCodes.LINK_TIMEOUT) throw outcome;
      this.counters.timeouts++;
      this.log.warn({ addr: body.addr, seq, verb, attempt }, 'no reply from board');
      if (background && this.urgentWaiting() && attempt < this.opts.retries) {
        // The heartbeat yields the bus to a waiting unlock rather than retrying; it comes again soon.
        throw new CabinetError(ErrorCodes.LINK_TIMEOUT, `heartbeat of board ${body.addr} yielded the bus`, { addr: body.addr, seq, yielded: true });
      }
    }
    if (!unanswered && lastNak) {
      throw new CabinetError(ErrorCodes.LINK_NAK, `board ${body.addr} refused ${verb}: ${lastNak.reason}`, {
        addr: body.addr,
        seq,
        reason: lastNak.reason,
      });
    }
    if (board) this.setBoardOnline(board, false, 'no reply');
    throw new CabinetError(ErrorCodes.LINK_TIMEOUT, `board ${body.addr} did not answer ${verb} (${this.opts.retries + 1} attempts)`, {
      addr: body.addr,
      seq,
    });
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) & MAX_SEQ;
    return this.seq;
  }

  private failPending(err: CabinetError): void {
    this.pending?.settle(err);
  }

  // ------------------------------------------------------------------ incoming frames

  private onLine(line: string): void {
    try {
      this.handleLine(line);
    } catch (e) {
      // A bug in handling one frame must never take the process down.
      this.log.error({ err: errorText(e), line }, 'failed to handle a frame');
    }
  }

  private handleLine(line: string): void {
    // Each board's frames are judged by the protocol version its IDENT reported (PROTOCOL.md §19).
    const result = decode(line, (addr) => this.boards.get(addr)?.protocol ?? 1);
    if (!result.ok) {
      const { code, detail } = result.error;
      if (code === 'BAD_CRC') this.counters.badCrc++;
      else this.counters.undecodable++;
      this.counters.noiseBytes += result.error.noise;
      this.log.warn({ dir: 'in', code, detail, line: printable(line) }, 'bad frame discarded');
      return;
    }
    this.counters.framesIn++;
    this.counters.noiseBytes += result.noise;
    const m = result.message;
    this.log.debug({ dir: 'in', frame: printable(line) }, 'frame');
    if (isReply(m)) {
      const p = this.pending;
      if (!p || p.addr !== m.addr || p.seq !== m.seq || p.verb !== replyVerb(m)) {
        this.counters.unmatchedReplies++;
        return;
      }
      const broken = this.replyRuleBroken(p.command, m);
      if (broken) {
        this.dropInvalid(m.addr, broken, line);
        return;
      }
      if (p.onReply) {
        try {
          p.onReply(m);
        } catch (e) {
          this.log.error({ err: errorText(e), line: printable(line) }, 'failed to apply a reply');
        }
      }
      p.settle(m);
    } else if (isEvent(m)) {
      this.onEvent(m, line);
    } else {
      this.counters.undecodable++; // a command frame echoed back to us: not for the controller
    }
  }

  /** Why a reply that matches the command in flight still breaks a rule of its verb; null when it does not. */
  private replyRuleBroken(cmd: Command, r: Reply): string | null {
    if ((r.kind === 'ack-unlock' || r.kind === 'ack-led') && (cmd.kind === 'unlock' || cmd.kind === 'led') && r.channel !== cmd.channel) {
      return `the reply names channel ${r.channel}, the command channel ${cmd.channel}`;
    }
    if (r.kind === 'ack-status') {
      const board = this.boards.get(r.addr);
      const channels = board?.ident?.channels ?? board?.channels ?? 0;
      const length = r.doors.length;
      if (board?.ident ? length !== channels : length < channels) return `STATUS of ${length} channels from a board of ${channels}`;
    }
    return null;
  }

  /** A frame that decoded but breaks a verb rule: counted and dropped before it touches any state. */
  private dropInvalid(addr: number, why: string, line: string): void {
    this.counters.invalidFrames++;
    this.log.warn({ dir: 'in', addr, why, line: printable(line) }, 'frame breaks a protocol rule: dropped');
  }

  private onEvent(ev: BoardEvent, line: string): void {
    const board = this.boards.get(ev.addr);
    if (!board) {
      this.dropInvalid(ev.addr, 'event from a board that is not in the layout', line);
      return;
    }
    if (ev.kind !== 'boot' && ev.channel > (board.ident?.channels ?? board.channels)) {
      this.dropInvalid(ev.addr, `event names channel ${ev.channel}, the board has ${board.ident?.channels ?? board.channels}`, line);
      return;
    }
    board.lastSeenAt = Date.now();
    this.setBoardOnline(board, true);
    if (ev.kind === 'boot') {
      this.counters.boots++;
      board.eventCounter = ev.seq;
      board.openings = null; // its counts restarted from 0: the next STATUS sets the baseline (PROTOCOL.md §21.3)
      board.kept = null;
      board.countedSinceStop = false;
      this.log.warn({ addr: ev.addr, reason: ev.reason }, 'board rebooted: its state was lost');
      this.emit('boot', { addr: ev.addr, reason: ev.reason });
      if (this.pending?.addr === ev.addr) {
        this.pending.settle(
          new CabinetError(ErrorCodes.BOARD_REBOOTED, `board ${ev.addr} rebooted while a command was in flight; its outcome is unknown`, {
            addr: ev.addr,
          }),
        );
      }
      this.queueResync(board, 'boot');
      return;
    }
    // PROTOCOL.md §11.2, with d = (received − last seen) mod 65536:
    //   d = 1 the next event; 1 < d < 32768 events were lost (apply, then re-read STATUS);
    //   d = 0 the same event again (a board's read-back resend): drop it;
    //   d ≥ 32768 older than what we saw: drop it without touching the counter, and let a STATUS decide
    //   (its counter behind ours is a restart whose BOOT was lost; otherwise the frame was stale).
    if (board.eventCounter !== null) {
      const d = (ev.seq - board.eventCounter) & MAX_SEQ;
      if (d === 0) {
        this.counters.duplicateEvents++;
        this.log.debug({ addr: ev.addr, seq: ev.seq }, 'event repeated: dropped');
        return;
      }
      if (d >= 0x8000) {
        this.counters.staleEvents++;
        this.log.warn({ addr: ev.addr, seen: board.eventCounter, got: ev.seq }, 'event counter behind the last seen: dropped, re-reading status');
        this.queueResync(board, 'stale-event');
        return;
      }
      if (d === 1 && board.knownAt !== null) board.knownAt = this.monotonicNow();
      if (d > 1) {
        this.counters.lostEvents++;
        this.log.warn({ addr: ev.addr, expected: (board.eventCounter + 1) & MAX_SEQ, got: ev.seq }, 'events were lost: re-reading status');
        this.queueResync(board, 'lost-event');
      }
    }
    board.eventCounter = ev.seq;
    const place = this.map.at(ev.addr, ev.channel);
    if (!place) return;
    switch (ev.kind) {
      case 'door':
        this.applyDoor(place.compartment, ev.level, 'event', 0);
        break;
      case 'item':
        this.applyItem(place.compartment, ev.present, 'event');
        break;
      case 'fault':
        this.applyFault(place.compartment, ev.fault, 'event');
        break;
    }
  }

  // ------------------------------------------------------------------ state and differences

  private applyDoor(compartment: number, level: SwitchLevel, source: ChangeSource, ageMs: number | null): boolean {
    const c = this.channels[compartment - 1]!;
    if (c.level === 'C' && level === 'O') c.contactOpenings++;
    c.level = level;
    const open = this.opts.doorPolarity === 'nc' ? level === 'O' : level === 'C';
    if (c.open === open) return false;
    c.open = open;
    this.emit('door', { compartment, open, source, ageMs });
    return true;
  }

  /** The flows found a door opening no unlock explains (the unlock policy decides): counted for /api/health. */
  countTamper(): void {
    this.counters.tampers++;
  }

  private applyItem(compartment: number, present: boolean, source: ChangeSource): boolean {
    const c = this.channels[compartment - 1]!;
    if (c.present === present) return false;
    c.present = present;
    this.emit('item', { compartment, present, source });
    return true;
  }

  private applyFault(compartment: number, fault: FaultCode, source: ChangeSource): boolean {
    const c = this.channels[compartment - 1]!;
    if (c.fault === fault) return false;
    c.fault = fault;
    this.emit('fault', { compartment, fault, source });
    return true;
  }

  private applyStatus(board: BoardState, status: BoardStatus, reason: ResyncReason): void {
    // Events ahead of the reply were handled already, so a counter ahead of ours means events lost
    // on the wire, and one behind ours means the board restarted and its BOOT event was lost.
    const seen = board.eventCounter;
    let restarted = false;
    if (seen !== null) {
      const d = (status.eventCounter - seen) & MAX_SEQ;
      if (d >= 0x8000) {
        restarted = true;
        this.counters.boots++;
        board.ident = null; // re-identify at the next poll
        this.log.warn({ addr: board.addr, seen, board: status.eventCounter }, 'event counter went backwards: the board restarted unseen');
        this.emit('boot', { addr: board.addr, reason: 'UNSEEN' });
      } else if (d > 0) {
        this.counters.lostEvents++;
        this.log.warn({ addr: board.addr, seen, board: status.eventCounter }, 'status shows events we never received');
      }
    }
    let changes = 0;
    const now = this.monotonicNow();
    const ageMs = board.knownAt === null ? null : Math.max(0, now - board.knownAt); // null: the first reading
    board.knownAt = now;
    for (let ch = 1; ch <= Math.min(board.channels, status.doors.length); ch++) {
      const place = this.map.at(board.addr, ch);
      if (!place) continue;
      if (this.applyDoor(place.compartment, status.doors[ch - 1]!, 'resync', ageMs)) changes++;
      if (this.applyItem(place.compartment, status.items[ch - 1]!, 'resync')) changes++;
      if (this.applyFault(place.compartment, status.faults[ch - 1]!, 'resync')) changes++;
    }
    board.eventCounter = status.eventCounter;
    this.compareOpenings(board, status.openings, status.eventCounter, restarted, now);
    this.emit('resync', { addr: board.addr, reason, changes });
  }

  /**
   * PROTOCOL.md §21.3. Per channel, the board's count since the last STATUS less the contact openings applied since
   * (modulo 256, as a signed difference) is added to what was owed. A board may still hold events in its queue when it
   * answers (they come after the reply, §11.2) whose openings it counted already: those are seen before the next
   * STATUS and taken off again. So an opening is reported only once two consecutive replies leave it unseen — the
   * lesser of what was owed and what is owed now. With no baseline (the first STATUS since the driver started, after a
   * BOOT, a restart the counter shows, a board re-identified as another version or firmware) the counts become the
   * baseline and nothing is inferred; so too when a channel's count moved by 128 or more (it went back), or more
   * openings were seen than counted: the counts restarted unseen (a restart the event counter cannot tell, §11.2).
   */
  private compareOpenings(board: BoardState, openings: number[] | undefined, eventCounter: number, restarted: boolean, now: number): void {
    const channels: ChannelState[] = [];
    for (let ch = 1; ch <= board.channels; ch++) {
      const place = this.map.at(board.addr, ch);
      channels.push(place ? this.channels[place.compartment - 1]! : newChannel());
    }
    const base = board.openings;
    const baseAt = board.openingsAt;
    // A kept baseline is compared with the board's first STATUS only when the board's run did not change: its event
    // counter went on from the kept one (§11.2; behind it: the board restarted since), no BOOT (which drops it).
    const kept = board.kept;
    board.kept = null;
    if (kept !== null && ((eventCounter - kept.eventCounter) & MAX_SEQ) >= 0x8000) {
      this.log.warn(
        { addr: board.addr, kept: kept.eventCounter, board: eventCounter },
        'the board restarted while the controller was stopped: its kept door-opening counts are not compared',
      );
      restarted = true;
    }
    const rebase = (): void => {
      board.countedSinceStop = false;
      for (const c of channels) {
        c.contactOpenings = 0;
        c.owed = 0;
        c.owedFrom = null;
        c.owedSinceStop = false;
      }
      board.openings = openings ? [...openings] : null;
      board.openingsAt = openings ? now : null;
      board.openingsToConfirm = false;
      this.reportOpenings(board, [], eventCounter, channels);
    };
    if (!openings || board.protocol !== 2 || base === null || baseAt === null || restarted) return rebase();
    const mod = (n: number): number => ((n % OPENINGS_MODULUS) + OPENINGS_MODULUS) % OPENINGS_MODULUS;
    const signed = (n: number): number => (n >= OPENINGS_MODULUS / 2 ? n - OPENINGS_MODULUS : n);
    const counted = channels.map((_, i) => mod(openings[i]! - base[i]!));
    const owedNow = channels.map((c, i) => c.owed + signed(mod(counted[i]! - c.contactOpenings)));
    if (counted.some((n) => n >= OPENINGS_MODULUS / 2) || owedNow.some((n) => n < 0 || n >= OPENINGS_MODULUS / 2)) {
      this.log.warn(
        { addr: board.addr, counts: openings, baseline: base },
        'door-opening counts went back: the board restarted unseen; its counts are the new baseline',
      );
      return rebase();
    }
    const found: { compartment: number; count: number; ageMs: number | null }[] = [];
    channels.forEach((c, i) => {
      const confirmed = Math.min(c.owed, owedNow[i]!);
      const place = this.map.at(board.addr, i + 1);
      if (confirmed > 0 && place)
        found.push({ compartment: place.compartment, count: confirmed, ageMs: c.owedSinceStop ? null : Math.max(0, now - (c.owedFrom ?? baseAt)) });
      c.owed = owedNow[i]! - confirmed;
      c.owedFrom = c.owed > 0 ? baseAt : null;
      // Compared with a kept baseline: what is owed may have happened before this process started.
      c.owedSinceStop = kept !== null && c.owed > 0;
      c.contactOpenings = 0;
    });
    board.openings = [...openings];
    board.openingsAt = now;
    board.openingsToConfirm = channels.some((c) => c.owed > 0);
    if (kept !== null) board.countedSinceStop = true;
    for (const f of found) {
      this.counters.hiddenOpenings += f.count;
      this.log.warn({ addr: board.addr, compartment: f.compartment, count: f.count }, 'door openings counted by the board that no event reported');
      this.emit('hidden-openings', f);
    }
    this.reportOpenings(board, found, eventCounter, channels);
  }

  /**
   * The 'openings' event: what was found, and the baseline to keep — the board's counts less the openings still to be
   * confirmed (those are either seen as events later, written after the baseline, or found by the next STATUS) —
   * when it moved since the last one reported.
   */
  private reportOpenings(
    board: BoardState,
    found: { compartment: number; count: number; ageMs: number | null }[],
    eventCounter: number,
    channels: ChannelState[],
  ): void {
    let baseline: OpeningsBaselineFact | null = null;
    if (board.openings && board.protocol === 2 && board.ident) {
      const counts = board.openings.map((n, i) => (((n - (channels[i]?.owed ?? 0)) % OPENINGS_MODULUS) + OPENINGS_MODULUS) % OPENINGS_MODULUS);
      const fact: OpeningsBaselineFact = { addr: board.addr, protocol: 2, firmware: board.ident.firmware, eventCounter, counts };
      const key = JSON.stringify(fact);
      if (key !== board.reportedBaseline) {
        board.reportedBaseline = key;
        baseline = fact;
      }
    }
    if (found.length > 0 || baseline) this.emit('openings', { addr: board.addr, found, baseline });
  }

  /**
   * Before start(): the baselines kept from before this process started (PROTOCOL.md §21.3). A board's is compared
   * with its first STATUS when its IDENT names the same version and firmware and its event counter went on from the
   * kept one; the door changes recorded since count as openings seen (by the door's polarity: the contact opens when
   * the door opens with 'nc' wiring, when it closes with 'no'), and the door as last recorded as the level before.
   */
  restoreOpenings(kept: readonly KeptBaseline[]): void {
    for (const k of kept) {
      const board = this.boards.get(k.addr);
      if (!board || k.protocol !== 2 || k.counts.length !== board.channels) continue;
      board.openings = [...k.counts];
      board.openingsAt = this.monotonicNow();
      board.kept = { firmware: k.firmware, eventCounter: k.eventCounter };
      for (let ch = 1; ch <= board.channels; ch++) {
        const place = this.map.at(board.addr, ch);
        if (!place) continue;
        const c = this.channels[place.compartment - 1]!;
        const rec = k.recordedSince.get(place.compartment);
        c.contactOpenings = rec ? (this.opts.doorPolarity === 'no' ? rec.closed : rec.opened) : 0;
        const door = k.doors.get(place.compartment);
        const contactOpen = door === 'open' ? this.opts.doorPolarity !== 'no' : this.opts.doorPolarity === 'no';
        c.level = door === 'open' || door === 'closed' ? (contactOpen ? 'O' : 'C') : null;
      }
    }
  }

  /**
   * Whether every opening of this compartment's door since the controller last stopped is known from its board's count:
   * a version 2 board whose first STATUS was compared with the baseline kept before the stop (the same run of the
   * board: same IDENT, no BOOT, its event counter not behind), with none of the door's openings left to confirm.
   * False for a version 1 board, with no kept baseline, or after the board restarted.
   */
  countedSinceStop(compartment: number): boolean {
    const place = this.map.place(compartment);
    const board = place ? this.boards.get(place.addr) : undefined;
    if (!place || !board || board.protocol !== 2 || !board.countedSinceStop) return false;
    return this.channels[compartment - 1]!.owed === 0;
  }

  /** Reads STATUS again of every board with door-opening counts left to confirm (start-up reconciliation waits for it). */
  async confirmOpenings(): Promise<void> {
    for (const board of this.boards.values()) if (board.openingsToConfirm) await this.refreshBoard(board, 'poll');
  }

  /**
   * STATUS of one board. Its content is applied the moment the reply is read — before any event that
   * came behind it in the same read — so the board's counter and levels are taken in the order the
   * board sent them (PROTOCOL.md §11.2). Settling the promise first would apply the reply after those
   * events: a counter seemingly gone backwards (a restart that did not happen) and a door shut again.
   */
  private async readStatus(board: BoardState, reason: ResyncReason, background = false): Promise<StatusAck> {
    return (await this.execute(
      { kind: 'status', addr: board.addr },
      {
        background,
        onReply: (r) => {
          if (r.kind === 'ack-status') this.applyStatus(board, r, reason);
        },
      },
    )) as StatusAck;
  }

  private queueResync(board: BoardState, reason: ResyncReason): void {
    if (board.resyncQueued) return;
    board.resyncQueued = true;
    void this.refreshBoard(board, reason).finally(() => {
      board.resyncQueued = false;
    });
  }

  /** IDENT (until the board is identified) then STATUS; failures are logged, never thrown. */
  private async refreshBoard(board: BoardState, reason: ResyncReason, background = false): Promise<void> {
    if (!this.link) return;
    try {
      // 'recovered': a board that stopped answering is identified again — its STATUS may not be readable in the
      // version it had (new firmware whose BOOT was lost); unchanged version and firmware keep its counts' baseline.
      if (!board.ident || reason === 'boot' || reason === 'stale-event' || reason === 'connect' || reason === 'recovered') {
        const ident = (await this.execute({ kind: 'ident', addr: board.addr }, { background })) as IdentAck;
        const version = PROTOCOL_VERSIONS.find((v) => v === ident.protocol);
        if (version === undefined || ident.channels < board.channels || (version === 2 && ident.channels > MAX_CHANNELS_V2)) {
          const err = new CabinetError(
            ErrorCodes.BOARD_MISMATCH,
            `board ${board.addr} speaks protocol ${ident.protocol} with ${ident.channels} channels; expected protocol ${PROTOCOL_VERSIONS.join(' or ')} with at least ${board.channels} (version 2: at most ${MAX_CHANNELS_V2})`,
            { addr: board.addr },
          );
          this.log.error({ addr: board.addr }, err.message);
          this.setBoardOnline(board, false, err.message);
          return;
        }
        // Another version or firmware behind the address: its counts are not the ones of the baseline (a kept one
        // names its own).
        const before = board.ident
          ? { protocol: board.protocol, firmware: board.ident.firmware }
          : board.kept
            ? { protocol: 2, firmware: board.kept.firmware }
            : null;
        if (version !== before?.protocol || ident.firmware !== before.firmware) {
          board.openings = null;
          board.kept = null;
        }
        board.protocol = version;
        board.ident = ident;
        this.log.info({ addr: board.addr, firmware: ident.firmware, channels: ident.channels }, 'board identified');
      }
      await this.readStatus(board, reason, background);
    } catch (e) {
      if (isCabinetError(e) && (e.code === ErrorCodes.LINK_CLOSED || e.code === ErrorCodes.LINK_OFFLINE)) return;
      this.log.warn({ addr: board.addr, reason, err: errorText(e) }, 'could not read board status');
    }
  }

  /**
   * The heartbeat, checked every quarter of `pollMs`: a STATUS of each board that has not been fully
   * heard from (a STATUS, or an event with no gap before it) for `pollMs`. It starts only on an idle bus —
   * nothing on the wire, nothing waiting — and otherwise waits for a later check rather than queueing: it never
   * takes the bus the moment a command ends, ahead of what the flow that sent it does next.
   */
  private async poll(): Promise<void> {
    if (!this.link || this.stopped) return;
    const now = this.monotonicNow();
    for (const board of this.boards.values()) {
      if (this.busy || this.queue.length > 0) return;
      if (board.resyncQueued) continue;
      const heard = Math.max(board.knownAt ?? -Infinity, board.polledAt ?? -Infinity);
      // Door-opening counts left to confirm are read again at the next check, not a whole period later.
      if (board.ident && now - heard < this.opts.pollMs && !board.openingsToConfirm) continue;
      board.polledAt = now;
      const wasOnline = board.online;
      board.resyncQueued = true;
      try {
        if (!board.ident || !wasOnline) {
          await this.refreshBoard(board, 'recovered', true);
          continue;
        }
        await this.readStatus(board, 'poll', true);
      } catch (e) {
        if (!isCabinetError(e, ErrorCodes.LINK_OFFLINE)) this.log.debug({ addr: board.addr, err: errorText(e) }, 'poll failed');
      } finally {
        board.resyncQueued = false;
      }
    }
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A line as it may be logged: control and non-ASCII bytes shown as \xNN, at most 300 characters. */
function printable(line: string): string {
  const shown = line.length > 300 ? `${line.slice(0, 300)}…` : line;
  return shown.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
