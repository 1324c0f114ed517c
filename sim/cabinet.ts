/**
 * The simulated cabinet: boards × channels of lock, door switch and occupancy sensor, the
 * firmware of each board (sim/board.ts), the wire with its faults, and the links the controller
 * reaches it by (in-process pipe, TCP, serial/pty). It speaks the protocol from the firmware side
 * through the shared codec, exactly as real boards would.
 *
 *   controller ──line──▶ LineLink ──▶ receive(): wire faults → decode → BoardFirmware.handle
 *   BoardFirmware ──reply/event──▶ transmit(): wire faults → encode → LineLink(s)
 *
 * Replies go back on the link the command came in on; unsolicited events go to every bus link.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  DEFAULT_BAUD,
  DEFAULT_PULSE_MS,
  decode,
  encode,
  isCommand,
  MAX_CHANNELS_V2,
  MAX_SEQ,
  type BoardEvent,
  type BootReason,
  type FaultCode,
  type LedMode,
  type Message,
  type ProtocolVersion,
  type SwitchLevel,
} from '../firmware-protocol/index.js';
import { BoardFirmware } from './board.js';
import {
  DEFAULT_FIRMWARE,
  DEFAULT_FRAME_LOG_SIZE,
  EVENT_QUIET_BASE_MS,
  EVENT_QUIET_PER_ADDRESS_MS,
  DEFAULT_LAYOUT,
  DEFAULT_SEED,
  DEFAULT_SERIAL_RETRY_MS,
  DEFAULT_SPRING_MS,
  faultPatchSchema,
  familyBauds,
  firstIssue,
  MAX_SCAN_LENGTH,
  NO_COMPARTMENT_FAULTS,
  NO_LINK_FAULTS,
  parseLayout,
  simOptionsSchema,
  type CompartmentFaults,
  type FaultPatch,
  type Layout,
  type LinkFaults,
  type Polarity,
  type SimOptions,
} from './config.js';
import { SimError } from './errors.js';
import { duplexPair } from './links/duplex-pair.js';
import { LineLink, type LinkInfo, type LinkKind, type LinkRole } from './links/line-link.js';
import { SerialEndpoint } from './links/serial.js';
import { TcpEndpoint } from './links/tcp.js';
import { seededRng, type Rng } from './rng.js';
import { VendorFrameStream } from './personalities/frame-stream.js';
import { VendorBoardPersonality } from './personalities/vendor-board.js';
import { VENDOR_CODECS, type BoardFamily } from '../firmware-protocol/vendors/index.js';

// ---- public types --------------------------------------------------------------------------

export interface CompartmentState extends CompartmentFaults {
  /** Compartment number, 1..N across boards in order. */
  n: number;
  addr: number;
  channel: number;
  /** The physical door. */
  doorOpen: boolean;
  /** The physical item (what the occupancy sensor sees). */
  item: boolean;
  /** The door-switch level the board reads and reports (polarity and a stuck switch applied). */
  doorLevel: SwitchLevel;
  /** True while the lock coil is energised. */
  lockReleased: boolean;
  led: LedMode;
  /** UNLOCKs that pulsed this compartment's coil (duplicates not counted). */
  unlocks: number;
  /** Times the physical door opened since the sim started (by an unlock, a person or a fault; never reset). */
  openings: number;
}

export interface BoardState {
  addr: number;
  channels: number;
  firmware: string;
  /** The protocol version the board speaks (native boards). */
  protocol: ProtocolVersion;
  /** Per channel, the door-switch contact's C → O changes since the board started, modulo 256 (version 2 reports them). */
  openings: number[];
  /** Counter of the newest event generated (STATUS reports the newest that left the queue). */
  eventCounter: number;
  /** Events waiting for the bus to allow sending (PROTOCOL.md §11.3). */
  queuedEvents: number;
  droppedEvents: number;
  boots: number;
  /** False while the board is rebooting (it answers nothing). */
  online: boolean;
}

export interface SimCounters {
  /** Lines from the controller that reached the boards (after dropping, while connected). */
  framesReceived: number;
  badCrc: number;
  /** Lines ignored because they could not be decoded (noise, framing, bad address). */
  undecodable: number;
  /** Frames addressed to a board this sim does not have, or board→controller frames on the bus. */
  notForMe: number;
  repliesSent: number;
  naksSent: number;
  /** Events that left the boards' queues onto the wire (or to no link). */
  eventsSent: number;
  /** Events lost because a board's queue (32) overflowed. */
  eventsDropped: number;
  /** UNLOCKs that pulsed a coil, per compartment number (1..N). */
  unlocksExecuted: Record<number, number>;
  /** UNLOCK retransmissions answered ACK DUP without pulsing. */
  duplicates: number;
  dropped: { toBoard: number; toController: number };
  corrupted: { toBoard: number; toController: number };
  /** Lines discarded by the bounded line reader for being too long, and their bytes. */
  overlongLines: number;
  discardedBytes: number;
  /** Lines that arrived while the sim was disconnected ('silent' mode). */
  ignoredWhileDisconnected: number;
}

export type FrameFate = 'ok' | 'dropped' | 'corrupted' | 'bad-crc' | 'undecodable' | 'not-for-me' | 'nak' | 'ignored' | 'unsent';

export interface FrameLogEntry {
  /** Date.now() when it happened. */
  at: number;
  /** 'in' = controller → board, 'out' = board → controller. */
  dir: 'in' | 'out';
  /** Link id, or '-' when no link was attached. */
  link: string;
  /** The line as it went over the wire (without LF), truncated to 300 characters. */
  text: string;
  fate: FrameFate;
  note?: string;
}

export type DisconnectMode = 'drop' | 'silent';

export interface EndpointState {
  role: LinkRole;
  kind: 'tcp' | 'serial';
  address: string;
  connected: boolean;
  error?: string;
}

export interface CabinetSnapshot {
  /** The board family the boards speak ('native' = our protocol). */
  family: BoardFamily;
  /** The version of our protocol the native boards speak. */
  protocol: ProtocolVersion;
  layout: Layout & { compartments: number; text: string };
  polarity: Polarity;
  baudRate: number;
  springMs: number;
  autoCloseMs: number | null;
  connected: boolean;
  disconnectMode: DisconnectMode | null;
  faults: LinkFaults;
  boards: BoardState[];
  compartments: CompartmentState[];
  links: LinkInfo[];
  endpoints: EndpointState[];
  counters: SimCounters;
}

export type ChangeReason = 'door' | 'item' | 'lock' | 'led' | 'fault' | 'board' | 'link' | 'connection';
export interface SimChange {
  reason: ChangeReason;
  compartment?: number;
  addr?: number;
}

export interface UnlockRecord {
  compartment: number;
  addr: number;
  channel: number;
  seq: number;
  pulseMs: number;
}

/** Events of SimCabinet (`cabinet.on(name, listener)`). */
export interface SimEventMap {
  /** Something visible changed (door, item, lock, LED, fault, board, link, connection). */
  change: [SimChange];
  /** Every frame in or out, with its fate. */
  frame: [FrameLogEntry];
  /** Every unsolicited event a board generated (before wire faults). */
  boardEvent: [BoardEvent];
  /** An UNLOCK that pulsed a coil. */
  unlock: [UnlockRecord];
  /** A QR scan injected with injectScan(). */
  scan: [string];
  /** Something worth a log line (a serial path that cannot be opened…). Never thrown. */
  warning: [string];
}

// ---- implementation ------------------------------------------------------------------------

interface Compartment extends CompartmentFaults {
  n: number;
  addr: number;
  channel: number;
  doorOpen: boolean;
  item: boolean;
  lockReleased: boolean;
  pulseToken: number;
  autoClose: NodeJS.Timeout | undefined;
  /** Physical openings since the sim started. */
  openings: number;
}

const SCAN_RE = /^[^\x00-\x1f\x7f]+$/;
const LOG_TEXT_MAX = 300;

function zeroCounters(compartments: number): SimCounters {
  const unlocksExecuted: Record<number, number> = {};
  for (let n = 1; n <= compartments; n++) unlocksExecuted[n] = 0;
  return {
    framesReceived: 0,
    badCrc: 0,
    undecodable: 0,
    notForMe: 0,
    repliesSent: 0,
    naksSent: 0,
    eventsSent: 0,
    eventsDropped: 0,
    unlocksExecuted,
    duplicates: 0,
    dropped: { toBoard: 0, toController: 0 },
    corrupted: { toBoard: 0, toController: 0 },
    overlongLines: 0,
    discardedBytes: 0,
    ignoredWhileDisconnected: 0,
  };
}

/** A binary frame as the frame log shows it: hex bytes. */
function hexText(latin1: string): string {
  return [...latin1].map((c) => c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')).join(' ');
}

/** Flip one bit of one character (never turning it into CR or LF, which would split the line). */
function corruptText(text: string, rng: Rng): string {
  if (text.length === 0) return text;
  const i = Math.floor(rng() * text.length);
  const code = text.charCodeAt(i);
  let c = code ^ (1 << Math.floor(rng() * 7));
  if (c === 10 || c === 13) c = code ^ 0x01;
  return text.slice(0, i) + String.fromCharCode(c) + text.slice(i + 1);
}

export class SimCabinet extends EventEmitter<SimEventMap> {
  /** The board family the boards speak on the bus ('native' = our protocol). */
  readonly family: BoardFamily;
  /** The version of our protocol the native boards speak (PROTOCOL.md §19, §21). */
  readonly protocol: ProtocolVersion;
  readonly layout: Layout;
  readonly polarity: Polarity;
  readonly baudRate: number;
  readonly springMs: number;
  readonly autoCloseMs: number | null;
  readonly compartmentCount: number;

  private readonly boards: BoardFirmware[] = [];
  /** A vendor family's board behaviour, null for our own protocol (sim/personalities/). */
  private readonly personality: VendorBoardPersonality | null;
  private readonly offline = new Set<number>();
  private readonly comps: Compartment[] = [];
  private readonly links = new Set<LineLink>();
  private readonly tcpEndpoints: TcpEndpoint[] = [];
  private readonly serialEndpoints: SerialEndpoint[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly rng: Rng;
  private readonly clock: () => number;
  private readonly serialRetryMs: number;
  private readonly frameLogSize: number;
  private readonly frameLog: FrameLogEntry[] = [];
  private linkFaults: LinkFaults = { ...NO_LINK_FAULTS };
  private counters: SimCounters;
  /** Line-reader counters of links already closed. */
  private closedLineCounters = { overlong: 0, discardedBytes: 0 };
  private disconnected: DisconnectMode | null = null;
  private readonly busEvents: 'protocol' | 'immediate';
  /** performance.now() of the last line seen on the bus. */
  private lastRxAt = Number.NEGATIVE_INFINITY;
  private readonly pendingReplies = new Map<number, number>();
  private readonly flushTimers = new Map<number, NodeJS.Timeout>();
  private nextLinkId = 1;
  private isClosed = false;

  constructor(options: SimOptions = {}) {
    super();
    const parsed = simOptionsSchema.safeParse(options);
    if (!parsed.success) {
      const { field, message } = firstIssue(parsed.error);
      throw new SimError('BAD_CONFIG', field ? `${field}: ${message}` : message, field);
    }
    const o = parsed.data;
    this.layout = typeof o.layout === 'object' ? o.layout : parseLayout(DEFAULT_LAYOUT)!;
    this.polarity = o.polarity ?? 'nc';
    this.family = o.board ?? 'native';
    this.protocol = o.protocol ?? 1;
    if (this.protocol !== 1 && this.family !== 'native') {
      throw new SimError(
        'BAD_CONFIG',
        `protocol: version ${this.protocol} is for native boards; ${this.family} boards have their own protocol`,
        'protocol',
      );
    }
    if (this.protocol === 2 && this.layout.channels > MAX_CHANNELS_V2) {
      throw new SimError('BAD_CONFIG', `protocol: a version 2 board has at most ${MAX_CHANNELS_V2} channels (PROTOCOL.md §21.1)`, 'protocol');
    }
    const family = familyBauds(this.family);
    this.baudRate = o.baudRate ?? family.defaultBaud;
    if (!family.bauds.includes(this.baudRate)) {
      throw new SimError('BAD_CONFIG', `baudRate: ${this.family} boards run at ${family.bauds.join(', ')} Bd`, 'baudRate');
    }
    if (this.family !== 'native' && this.layout.channels > VENDOR_CODECS[this.family].maxLocks) {
      throw new SimError('BAD_CONFIG', `layout: a ${this.family} board has at most ${VENDOR_CODECS[this.family].maxLocks} locks`, 'layout');
    }
    this.springMs = o.springMs ?? DEFAULT_SPRING_MS;
    this.autoCloseMs = o.autoCloseMs ?? null;
    this.rng = seededRng(o.seed ?? DEFAULT_SEED);
    this.clock = o.clock ?? (() => performance.now()); // as the firmware's millis(): a wall-clock change never shortens the de-duplication window
    this.serialRetryMs = o.serialRetryMs ?? DEFAULT_SERIAL_RETRY_MS;
    this.frameLogSize = o.frameLogSize ?? DEFAULT_FRAME_LOG_SIZE;
    this.busEvents = o.busEvents ?? 'protocol';
    this.compartmentCount = this.layout.boards * this.layout.channels;
    this.counters = zeroCounters(this.compartmentCount);

    for (let n = 1; n <= this.compartmentCount; n++) {
      const { addr, channel } = this.locate(n);
      this.comps.push({
        n,
        addr,
        channel,
        doorOpen: false,
        item: false,
        lockReleased: false,
        pulseToken: 0,
        autoClose: undefined,
        openings: 0,
        ...NO_COMPARTMENT_FAULTS,
      });
    }
    const initial = o.initial ?? {};
    for (const [field, list] of [
      ['initial.items', initial.items],
      ['initial.openDoors', initial.openDoors],
    ] as const) {
      for (const n of list ?? []) {
        if (n > this.compartmentCount)
          throw new SimError('BAD_CONFIG', `${field}: compartment ${n} does not exist (1..${this.compartmentCount})`, field);
      }
    }
    for (const n of initial.items ?? []) this.comp(n).item = true;
    for (const n of initial.openDoors ?? []) this.comp(n).doorOpen = true;
    if (o.faults) this.applyFaults(o.faults);

    for (let addr = 1; addr <= this.layout.boards; addr++) {
      const board = new BoardFirmware(
        {
          addr,
          channels: this.layout.channels,
          firmware: o.firmware ?? DEFAULT_FIRMWARE,
          singleCoil: o.singleCoil ?? false,
          clock: this.clock,
          protocol: this.protocol,
        },
        {
          doorLevel: (ch) => this.doorLevel(this.compAt(addr, ch)),
          itemPresent: (ch) => this.compAt(addr, ch).item,
          coilFault: (ch) => this.compAt(addr, ch).coilFault,
          pulse: (ch, ms) => this.pulse(this.compAt(addr, ch), ms),
          pulsing: (ch) => (ch === undefined ? this.comps.some((c) => c.addr === addr && c.lockReleased) : this.compAt(addr, ch).lockReleased),
        },
        (e) => this.sendEvent(e),
        () => this.tryFlush(addr),
      );
      this.boards.push(board);
    }
    this.personality =
      this.family === 'native'
        ? null
        : new VendorBoardPersonality(VENDOR_CODECS[this.family], {
            boards: this.layout.boards,
            channels: this.layout.channels,
            springMs: this.springMs,
            online: (addr) => !this.offline.has(addr),
            doorLevel: (addr, ch) => this.doorLevel(this.compAt(addr, ch)),
            coilFault: (addr, ch) => this.compAt(addr, ch).coilFault,
            pulse: (addr, ch) => {
              const c = this.compAt(addr, ch);
              this.counters.unlocksExecuted[c.n] = (this.counters.unlocksExecuted[c.n] ?? 0) + 1;
              this.emit('unlock', { compartment: c.n, addr, channel: ch, seq: 0, pulseMs: DEFAULT_PULSE_MS });
              this.pulse(c, DEFAULT_PULSE_MS);
            },
            warn: (m) => this.emit('warning', m),
          });
    // Power-on: BOOT is event 0 (sent to whatever is attached, which at construction is nothing).
    for (const b of this.boards) b.boot('POWERON');
  }

  // ---- layout ------------------------------------------------------------------------------

  /** Board address and channel of compartment n (1-based, across boards in order). */
  locate(n: number): { addr: number; channel: number } {
    if (!Number.isInteger(n) || n < 1 || n > this.compartmentCount) {
      throw new SimError('NO_SUCH_COMPARTMENT', `compartment ${n} does not exist (1..${this.compartmentCount})`);
    }
    return { addr: Math.floor((n - 1) / this.layout.channels) + 1, channel: ((n - 1) % this.layout.channels) + 1 };
  }

  /** Compartment number of a board's channel. */
  compartmentOf(addr: number, channel: number): number {
    return (addr - 1) * this.layout.channels + channel;
  }

  // ---- links -------------------------------------------------------------------------------

  /**
   * A fresh in-process byte pipe to the bus; returns the controller's end. Each call gives a new
   * pipe (and a new link). Throws SimError DISCONNECTED while disconnected in 'drop' mode.
   */
  connectInProcess(): Duplex {
    this.assertOpen();
    if (this.disconnected === 'drop') throw new SimError('DISCONNECTED', 'the sim is disconnected; call reconnect() first');
    const [controllerEnd, simEnd] = duplexPair();
    this.attach(simEnd, 'inprocess', 'bus', 'in-process pipe');
    return controllerEnd;
  }

  /** Listen for the controller on TCP, like a serial device server. Resolves with the bound address. */
  listenTcp(host: string, port: number): Promise<{ host: string; port: number }> {
    return this.listen('bus', host, port);
  }

  /** Open a serial device or pty (e.g. socat's ttyB) as a bus link; keeps retrying while it is missing. */
  openSerial(path: string, baudRate: number = this.baudRate): SerialEndpoint {
    return this.serial('bus', path, baudRate);
  }

  /** Listen on TCP for a QR-scanner client: injected scans are written there as text lines. */
  listenScannerTcp(host: string, port: number): Promise<{ host: string; port: number }> {
    return this.listen('scanner', host, port);
  }

  openScannerSerial(path: string, baudRate: number = DEFAULT_BAUD): SerialEndpoint {
    return this.serial('scanner', path, baudRate);
  }

  private listen(role: LinkRole, host: string, port: number): Promise<{ host: string; port: number }> {
    this.assertOpen();
    const ep = new TcpEndpoint(
      role,
      (socket, description, onClosed) => this.attach(socket, 'tcp', role, description, onClosed),
      () => role === 'scanner' || this.disconnected !== 'drop',
    );
    this.tcpEndpoints.push(ep);
    return ep.listen(host, port);
  }

  private serial(role: LinkRole, path: string, baudRate: number): SerialEndpoint {
    this.assertOpen();
    const ep = new SerialEndpoint(
      path,
      baudRate,
      role,
      (stream, description, onClosed) => this.attach(stream, 'serial', role, description, onClosed),
      this.serialRetryMs,
      (m) => this.emit('warning', m),
    );
    this.serialEndpoints.push(ep);
    if (!(role === 'bus' && this.disconnected === 'drop')) ep.start();
    return ep;
  }

  private attach(stream: Duplex, kind: LinkKind, role: LinkRole, description: string, onClosed?: () => void): LineLink {
    const info: LinkInfo = { id: `${kind}-${this.nextLinkId++}`, kind, role, description };
    const link = new LineLink(
      info,
      stream,
      {
        line: (l, text) => this.receive(l, text),
        closed: (l) => {
          this.links.delete(l);
          this.closedLineCounters.overlong += l.counters.overlong;
          this.closedLineCounters.discardedBytes += l.counters.discardedBytes;
          onClosed?.();
          if (!this.isClosed) this.changed({ reason: 'link' });
        },
      },
      { pacing: () => this.linkFaults.pacing, baudRate: () => this.baudRate },
      role === 'bus' && this.personality ? new VendorFrameStream(this.personality.codec) : undefined,
    );
    this.links.add(link);
    this.changed({ reason: 'link' });
    return link;
  }

  /** Drop every bus link and refuse new ones ('drop'), or keep them and go silent ('silent'), until reconnect(). */
  disconnect(mode: DisconnectMode = 'drop'): void {
    this.assertOpen();
    this.disconnected = mode;
    if (mode === 'drop') {
      for (const ep of this.serialEndpoints) if (ep.role === 'bus') ep.suspend();
      for (const ep of this.tcpEndpoints) if (ep.role === 'bus') ep.dropClient();
      for (const l of [...this.links]) if (l.info.role === 'bus') l.close('disconnected by the sim');
    }
    this.changed({ reason: 'connection' });
  }

  reconnect(): void {
    this.assertOpen();
    this.disconnected = null;
    for (const ep of this.serialEndpoints) if (ep.role === 'bus') ep.resume();
    this.changed({ reason: 'connection' });
  }

  get connected(): boolean {
    return this.disconnected === null;
  }

  // ---- the wire ----------------------------------------------------------------------------

  private receive(link: LineLink, raw: string): void {
    if (this.isClosed || link.info.role !== 'bus') return;
    if (this.personality) {
      this.receiveVendor(link, raw, this.personality);
      return;
    }
    let line = raw;
    this.busActivity();
    if (this.disconnected) {
      this.counters.ignoredWhileDisconnected++;
      this.log('in', link, line, 'ignored', 'disconnected');
      return;
    }
    const f = this.linkFaults;
    if (f.dropToBoard > 0 && this.rng() < f.dropToBoard) {
      this.counters.dropped.toBoard++;
      this.log('in', link, line, 'dropped');
      return;
    }
    let corrupted = false;
    if (f.corruptToBoard > 0 && this.rng() < f.corruptToBoard) {
      line = corruptText(line.replace(/\r$/, ''), this.rng);
      corrupted = true;
      this.counters.corrupted.toBoard++;
    }
    this.counters.framesReceived++;
    const result = decode(line);
    if (!result.ok) {
      const e = result.error;
      if (e.code === 'BAD_CRC') {
        this.counters.badCrc++;
        this.log('in', link, line, 'bad-crc', corrupted ? 'corrupted on the wire' : e.detail);
        return;
      }
      const board = e.addr === undefined ? undefined : this.onlineBoard(e.addr);
      const nak = board && e.direction === 'toBoard' ? board.nakForDecodeError(e) : null;
      if (nak) {
        this.log('in', link, line, 'nak', e.detail);
        this.counters.naksSent++;
        this.sendReply(link, nak);
        return;
      }
      if (e.direction === 'toBoard' && e.addr !== undefined) {
        this.counters.notForMe++;
        this.log('in', link, line, 'not-for-me', e.detail);
        return;
      }
      this.counters.undecodable++;
      this.log('in', link, line, 'undecodable', `${e.code}: ${e.detail}`);
      return;
    }
    const msg = result.message;
    const board = isCommand(msg) ? this.onlineBoard(msg.addr) : undefined;
    if (!isCommand(msg) || !board) {
      this.counters.notForMe++;
      this.log('in', link, line, 'not-for-me', isCommand(msg) ? `no board ${msg.addr} online` : 'a board frame');
      return;
    }
    this.log('in', link, line, corrupted ? 'corrupted' : 'ok');
    const outcome = board.handle(msg);
    if (outcome.executed && msg.kind === 'unlock') {
      const n = this.compartmentOf(msg.addr, msg.channel);
      this.counters.unlocksExecuted[n] = (this.counters.unlocksExecuted[n] ?? 0) + 1;
      this.emit('unlock', { compartment: n, addr: msg.addr, channel: msg.channel, seq: msg.seq, pulseMs: msg.pulseMs });
    }
    if (outcome.duplicate) this.counters.duplicates++;
    if (outcome.reply.kind === 'nak') this.counters.naksSent++;
    if (msg.kind === 'led') this.changed({ reason: 'led', compartment: this.compartmentOf(msg.addr, msg.channel), addr: msg.addr });
    this.sendReply(link, outcome.reply);
  }

  /** A vendor family's command frame (latin1, one character per byte): same wire faults, the family's board behind. */
  private receiveVendor(link: LineLink, raw: string, personality: VendorBoardPersonality): void {
    this.busActivity();
    const shown = (t: string) => hexText(t);
    if (this.disconnected) {
      this.counters.ignoredWhileDisconnected++;
      this.log('in', link, shown(raw), 'ignored', 'disconnected');
      return;
    }
    const f = this.linkFaults;
    if (f.dropToBoard > 0 && this.rng() < f.dropToBoard) {
      this.counters.dropped.toBoard++;
      this.log('in', link, shown(raw), 'dropped');
      return;
    }
    let text = raw;
    let corrupted = false;
    if (f.corruptToBoard > 0 && this.rng() < f.corruptToBoard) {
      text = corruptText(raw, this.rng);
      corrupted = true;
      this.counters.corrupted.toBoard++;
    }
    this.counters.framesReceived++;
    const out = personality.handle(Buffer.from(text, 'latin1'));
    if (out.fate !== 'ok') {
      if (out.fate === 'undecodable') this.counters.badCrc++;
      else this.counters.notForMe++;
      this.log(
        'in',
        link,
        shown(text),
        corrupted && out.fate === 'undecodable' ? 'bad-crc' : out.fate,
        corrupted ? 'corrupted on the wire' : out.note,
      );
      return;
    }
    this.log('in', link, shown(text), corrupted ? 'corrupted' : 'ok', out.note);
    this.counters.repliesSent++;
    const send = () => this.transmitText(Buffer.from(out.reply()).toString('latin1'), '', [link], true);
    const wait = out.afterMs + this.linkFaults.delayMs;
    if (wait > 0) this.later(wait, send);
    else send();
  }

  private sendReply(link: LineLink, reply: Message): void {
    this.counters.repliesSent++;
    const delay = this.linkFaults.delayMs;
    if (delay <= 0) {
      this.transmit(reply, [link]);
      return;
    }
    // Events wait for the reply: never between a command and its reply (PROTOCOL.md §11.3).
    const addr = reply.addr;
    this.pendingReplies.set(addr, (this.pendingReplies.get(addr) ?? 0) + 1);
    this.later(delay, () => {
      this.transmit(reply, [link]);
      const left = (this.pendingReplies.get(addr) ?? 1) - 1;
      if (left > 0) this.pendingReplies.set(addr, left);
      else this.pendingReplies.delete(addr);
      this.tryFlush(addr);
    });
  }

  /** Send a board's queued events if the bus rules allow it now, else when they will. */
  private tryFlush(addr: number): void {
    const board = this.boards[addr - 1];
    if (!board || board.queuedEvents === 0 || this.isClosed) return;
    if ((this.pendingReplies.get(addr) ?? 0) > 0) return; // flushed after the reply
    if (this.busEvents === 'protocol' && this.layout.boards > 1) {
      const wait = this.lastRxAt + EVENT_QUIET_BASE_MS + EVENT_QUIET_PER_ADDRESS_MS * addr - performance.now();
      if (wait > 0) {
        this.armFlush(addr, wait);
        return;
      }
    }
    board.flush();
  }

  private armFlush(addr: number, ms: number): void {
    const old = this.flushTimers.get(addr);
    if (old) this.cancel(old);
    this.flushTimers.set(
      addr,
      this.later(Math.ceil(ms), () => {
        this.flushTimers.delete(addr);
        this.tryFlush(addr);
      }),
    );
  }

  /** A line on the bus: on a shared bus, boards with queued events start waiting for quiet again. */
  private busActivity(): void {
    this.lastRxAt = performance.now();
    if (this.busEvents !== 'protocol' || this.layout.boards < 2) return;
    for (const b of this.boards) {
      if (b.queuedEvents > 0) this.armFlush(b.addr, EVENT_QUIET_BASE_MS + EVENT_QUIET_PER_ADDRESS_MS * b.addr);
    }
  }

  private sendEvent(e: BoardEvent): void {
    this.emit('boardEvent', e);
    if (this.personality) return; // vendor boards push nothing: they only answer
    this.counters.eventsSent++;
    this.transmit(
      e,
      [...this.links].filter((l) => l.info.role === 'bus'),
    );
  }

  private transmit(m: Message, targets: LineLink[]): void {
    this.transmitText(encode(m, this.protocol), '\n', targets, false);
  }

  /** Send one frame (with its line ending, if the protocol has one) to the targets, through the wire faults. */
  private transmitText(frame: string, ending: string, targets: LineLink[], binary: boolean): void {
    if (this.isClosed) return;
    const shown = (t: string) => (binary ? hexText(t) : t);
    const live = this.disconnected ? [] : targets.filter((l) => !l.closed);
    if (live.length === 0) {
      this.log('out', null, shown(frame), 'unsent', this.disconnected ? 'disconnected' : 'no link attached');
      return;
    }
    const f = this.linkFaults;
    for (const link of live) {
      if (f.dropToController > 0 && this.rng() < f.dropToController) {
        this.counters.dropped.toController++;
        this.log('out', link, shown(frame), 'dropped');
        continue;
      }
      let text = frame;
      let fate: FrameFate = 'ok';
      if (f.corruptToController > 0 && this.rng() < f.corruptToController) {
        text = corruptText(frame, this.rng);
        fate = 'corrupted';
        this.counters.corrupted.toController++;
      }
      this.log('out', link, shown(text), fate);
      link.send(text + ending);
    }
  }

  private log(dir: 'in' | 'out', link: LineLink | null, text: string, fate: FrameFate, note?: string): void {
    const entry: FrameLogEntry = {
      at: Date.now(),
      dir,
      link: link?.info.id ?? '-',
      text: text.length > LOG_TEXT_MAX ? text.slice(0, LOG_TEXT_MAX) + '…' : text,
      fate,
    };
    if (note !== undefined) entry.note = note;
    if (this.frameLogSize > 0) {
      this.frameLog.push(entry);
      if (this.frameLog.length > this.frameLogSize) this.frameLog.splice(0, this.frameLog.length - this.frameLogSize);
    }
    this.emit('frame', entry);
  }

  // ---- the physical world ------------------------------------------------------------------

  /** A person opens the door. Without an unlock this is forcing a locked door (tamper). */
  openDoor(n: number): void {
    const c = this.comp(n);
    if (c.doorOpen) throw new SimError('DOOR_ALREADY_OPEN', `door ${n} is already open`);
    this.setDoor(c, true);
  }

  /** A person closes the door (the latch catches by itself). */
  closeDoor(n: number): void {
    const c = this.comp(n);
    if (!c.doorOpen) throw new SimError('DOOR_ALREADY_CLOSED', `door ${n} is already closed`);
    this.setDoor(c, false);
  }

  /** A person puts an item in; the door must be open. */
  putItem(n: number): void {
    const c = this.comp(n);
    if (!c.doorOpen) throw new SimError('DOOR_CLOSED', `door ${n} is closed: open it before putting an item in`);
    if (c.item) throw new SimError('ITEM_ALREADY_PRESENT', `compartment ${n} already holds an item`);
    c.item = true;
    this.sensed(c, 'item');
  }

  /** A person takes the item out; the door must be open. */
  takeItem(n: number): void {
    const c = this.comp(n);
    if (!c.doorOpen) throw new SimError('DOOR_CLOSED', `door ${n} is closed: open it before taking the item out`);
    if (!c.item) throw new SimError('NO_ITEM', `compartment ${n} is empty`);
    c.item = false;
    this.sensed(c, 'item');
  }

  private setDoor(c: Compartment, open: boolean): void {
    if (c.autoClose) this.cancel(c.autoClose);
    c.autoClose = undefined;
    c.doorOpen = open;
    if (open) c.openings++;
    if (open && this.autoCloseMs !== null) {
      c.autoClose = this.later(this.autoCloseMs, () => {
        c.autoClose = undefined;
        if (c.doorOpen) this.setDoor(c, false);
      });
    }
    this.sensed(c, 'door');
  }

  private pulse(c: Compartment, pulseMs: number): void {
    const token = ++c.pulseToken;
    c.lockReleased = true;
    this.changed({ reason: 'lock', compartment: c.n, addr: c.addr });
    this.later(pulseMs, () => {
      if (c.pulseToken !== token) return;
      c.lockReleased = false;
      this.changed({ reason: 'lock', compartment: c.n, addr: c.addr });
    });
    if (c.jammed || c.doorOpen) return;
    this.later(this.springMs, () => {
      if (!c.doorOpen) this.setDoor(c, true);
    });
  }

  private doorLevel(c: Compartment): SwitchLevel {
    if (c.stuckSensor) return c.stuckSensor;
    const contactClosed = this.polarity === 'nc' ? !c.doorOpen : c.doorOpen;
    return contactClosed ? 'C' : 'O';
  }

  /** The board of a compartment rereads its inputs (sending events) and the panel is told. */
  private sensed(c: Compartment, reason: ChangeReason): void {
    if (!this.offline.has(c.addr)) this.board(c.addr).scanInputs();
    this.changed({ reason, compartment: c.n, addr: c.addr });
  }

  // ---- faults ------------------------------------------------------------------------------

  /**
   * Change fault settings (see FaultPatch). Validated as a whole first: on a bad value it throws
   * SimError BAD_CONFIG (with `field`) and changes nothing. Returns the wire faults now in force.
   */
  setFaults(patch: FaultPatch): LinkFaults {
    this.assertOpen();
    this.applyFaults(patch);
    for (const b of this.boards) if (!this.offline.has(b.addr)) b.scanInputs();
    this.changed({ reason: 'fault' });
    return { ...this.linkFaults };
  }

  /** Clear every fault (wire and compartments). */
  clearFaults(): void {
    this.setFaults({ clear: true });
  }

  get faults(): LinkFaults {
    return { ...this.linkFaults };
  }

  setJammed(n: number, jammed: boolean): void {
    this.setFaults({ compartments: [{ compartment: n, jammed }] });
  }

  setStuckSensor(n: number, level: SwitchLevel | null): void {
    this.setFaults({ compartments: [{ compartment: n, stuckSensor: level }] });
  }

  setCoilFault(n: number, fault: FaultCode): void {
    this.setFaults({ compartments: [{ compartment: n, coilFault: fault }] });
  }

  private applyFaults(input: FaultPatch): void {
    const parsed = faultPatchSchema.safeParse(input);
    if (!parsed.success) {
      const { field, message } = firstIssue(parsed.error);
      throw new SimError('BAD_CONFIG', field ? `${field}: ${message}` : message, field);
    }
    const p = parsed.data;
    (p.compartments ?? []).forEach((cp, i) => {
      if (cp.compartment > this.compartmentCount) {
        throw new SimError(
          'NO_SUCH_COMPARTMENT',
          `compartment ${cp.compartment} does not exist (1..${this.compartmentCount})`,
          `compartments.${i}.compartment`,
        );
      }
    });
    const f = p.clear ? { ...NO_LINK_FAULTS } : { ...this.linkFaults };
    if (p.clear) for (const c of this.comps) Object.assign(c, NO_COMPARTMENT_FAULTS);
    if (p.drop !== undefined) f.dropToBoard = f.dropToController = p.drop;
    if (p.corrupt !== undefined) f.corruptToBoard = f.corruptToController = p.corrupt;
    if (p.dropToBoard !== undefined) f.dropToBoard = p.dropToBoard;
    if (p.dropToController !== undefined) f.dropToController = p.dropToController;
    if (p.corruptToBoard !== undefined) f.corruptToBoard = p.corruptToBoard;
    if (p.corruptToController !== undefined) f.corruptToController = p.corruptToController;
    if (p.delayMs !== undefined) f.delayMs = p.delayMs;
    if (p.pacing !== undefined) f.pacing = p.pacing;
    this.linkFaults = f;
    for (const cp of p.compartments ?? []) {
      const c = this.comp(cp.compartment);
      if (cp.jammed !== undefined) c.jammed = cp.jammed;
      if (cp.stuckSensor !== undefined) c.stuckSensor = cp.stuckSensor;
      if (cp.coilFault !== undefined) c.coilFault = cp.coilFault;
    }
  }

  /**
   * Reboot a board: RAM lost (de-duplication memory, event counter, LEDs), BOOT sent as event 0.
   * Doors and items stay as they physically are. With bootMs > 0 the board answers nothing meanwhile.
   */
  reboot(addr: number, options: { reason?: BootReason; bootMs?: number } = {}): void {
    this.assertOpen();
    const board = this.board(addr);
    const reason = options.reason ?? 'RESET';
    // A restart de-energises every coil of the board (PROTOCOL.md §14).
    for (const c of this.comps) {
      if (c.addr === addr && c.lockReleased) {
        c.pulseToken++;
        c.lockReleased = false;
        this.changed({ reason: 'lock', compartment: c.n, addr });
      }
    }
    const pendingFlush = this.flushTimers.get(addr);
    if (pendingFlush) this.cancel(pendingFlush);
    this.flushTimers.delete(addr);
    this.offline.add(addr);
    this.changed({ reason: 'board', addr });
    const start = (): void => {
      this.offline.delete(addr);
      board.boot(reason);
      this.changed({ reason: 'board', addr });
    };
    if (options.bootMs && options.bootMs > 0) this.later(options.bootMs, start);
    else start();
  }

  /** Set a board's event counter (to test the wrap-around at 0xFFFF without 65,535 events). */
  setEventCounter(addr: number, value: number): void {
    this.board(addr).setEventCounter(value & MAX_SEQ);
  }

  /** Set the door-opening count of compartment n's channel (to test the wrap-around at 0xFF without 255 openings). */
  setOpeningCount(n: number, value: number): void {
    const c = this.comp(n);
    this.board(c.addr).setOpeningCount(c.channel, value);
  }

  /**
   * The count compartment n's board keeps for its channel (PROTOCOL.md §21.2, reported by version 2): the door-switch
   * contact's C → O changes since the board started, whatever became of their DOOR events, modulo 256. With the
   * common wiring (polarity nc) these are the door's openings. For every physical opening, see `compartment(n).openings`.
   */
  openingCount(n: number): number {
    const c = this.comp(n);
    return this.board(c.addr).openings[c.channel - 1] ?? 0;
  }

  // ---- scanner -----------------------------------------------------------------------------

  /** A QR code is scanned: emits 'scan' and writes `text\n` (UTF-8) to every scanner link. Returns how many links got it. */
  injectScan(text: string): number {
    this.assertOpen();
    if (text.length < 1 || text.length > MAX_SCAN_LENGTH || !SCAN_RE.test(text)) {
      throw new SimError('BAD_SCAN', `scan text must be 1-${MAX_SCAN_LENGTH} characters without control characters`, 'text');
    }
    this.emit('scan', text);
    let sent = 0;
    for (const l of this.links) {
      if (l.info.role === 'scanner' && !l.closed) {
        l.send(text + '\n', 'utf8');
        sent++;
      }
    }
    return sent;
  }

  // ---- observation -------------------------------------------------------------------------

  getCounters(): SimCounters {
    let overlong = this.closedLineCounters.overlong;
    let discarded = this.closedLineCounters.discardedBytes;
    for (const l of this.links) {
      overlong += l.counters.overlong;
      discarded += l.counters.discardedBytes;
    }
    const c = this.counters;
    return {
      ...c,
      eventsDropped: this.boards.reduce((n, b) => n + b.droppedEvents, 0),
      unlocksExecuted: { ...c.unlocksExecuted },
      dropped: { ...c.dropped },
      corrupted: { ...c.corrupted },
      overlongLines: overlong,
      discardedBytes: discarded,
    };
  }

  /** UNLOCKs that pulsed compartment n's coil. */
  unlockCount(n: number): number {
    this.locate(n);
    return this.counters.unlocksExecuted[n] ?? 0;
  }

  compartment(n: number): CompartmentState {
    const c = this.comp(n);
    return {
      n: c.n,
      addr: c.addr,
      channel: c.channel,
      doorOpen: c.doorOpen,
      item: c.item,
      doorLevel: this.doorLevel(c),
      lockReleased: c.lockReleased,
      led: this.board(c.addr).led(c.channel),
      jammed: c.jammed,
      stuckSensor: c.stuckSensor,
      coilFault: c.coilFault,
      unlocks: this.counters.unlocksExecuted[c.n] ?? 0,
      openings: c.openings,
    };
  }

  boardState(addr: number): BoardState {
    const b = this.board(addr);
    return {
      addr,
      channels: b.channels,
      firmware: b.firmware,
      protocol: b.protocol,
      openings: b.openings,
      eventCounter: b.events,
      queuedEvents: b.queuedEvents,
      droppedEvents: b.droppedEvents,
      boots: b.boots,
      online: !this.offline.has(addr),
    };
  }

  snapshot(): CabinetSnapshot {
    const endpoints: EndpointState[] = [
      ...this.tcpEndpoints.map(
        (ep): EndpointState => ({
          role: ep.role,
          kind: 'tcp',
          address: ep.address ? `tcp://${ep.address.host}:${ep.address.port}` : '(not listening)',
          connected: [...this.links].some((l) => l.info.kind === 'tcp' && l.info.role === ep.role),
        }),
      ),
      ...this.serialEndpoints.map((ep): EndpointState => {
        const s: EndpointState = { role: ep.role, kind: 'serial', address: ep.path, connected: ep.isOpen };
        if (ep.error) s.error = ep.error;
        return s;
      }),
    ];
    return {
      family: this.family,
      protocol: this.protocol,
      layout: { ...this.layout, compartments: this.compartmentCount, text: `${this.layout.boards}x${this.layout.channels}` },
      polarity: this.polarity,
      baudRate: this.baudRate,
      springMs: this.springMs,
      autoCloseMs: this.autoCloseMs,
      connected: this.connected,
      disconnectMode: this.disconnected,
      faults: { ...this.linkFaults },
      boards: this.boards.map((b) => this.boardState(b.addr)),
      compartments: this.comps.map((c) => this.compartment(c.n)),
      links: [...this.links].map((l) => ({ ...l.info })),
      endpoints,
      counters: this.getCounters(),
    };
  }

  /** The most recent frames (oldest first), as kept for late subscribers. */
  recentFrames(): FrameLogEntry[] {
    return [...this.frameLog];
  }

  /** Stop everything: timers, links, servers, serial ports. Safe to call twice. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const ep of this.serialEndpoints) ep.close();
    await Promise.all(this.tcpEndpoints.map((ep) => ep.close()));
    for (const l of [...this.links]) l.close('sim closed');
    this.links.clear();
  }

  // ---- helpers -----------------------------------------------------------------------------

  private comp(n: number): Compartment {
    this.locate(n);
    return this.comps[n - 1]!;
  }

  private compAt(addr: number, channel: number): Compartment {
    return this.comps[this.compartmentOf(addr, channel) - 1]!;
  }

  private board(addr: number): BoardFirmware {
    const b = Number.isInteger(addr) ? this.boards[addr - 1] : undefined;
    if (!b) throw new SimError('NO_SUCH_BOARD', `board ${addr} does not exist (1..${this.layout.boards})`);
    return b;
  }

  private onlineBoard(addr: number): BoardFirmware | undefined {
    return this.offline.has(addr) ? undefined : this.boards[addr - 1];
  }

  private changed(change: SimChange): void {
    this.emit('change', change);
  }

  private later(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.isClosed) fn();
    }, ms);
    t.unref(); // physical timers never keep a process alive on their own
    this.timers.add(t);
    return t;
  }

  private cancel(t: NodeJS.Timeout): void {
    clearTimeout(t);
    this.timers.delete(t);
  }

  private assertOpen(): void {
    if (this.isClosed) throw new SimError('CLOSED', 'the sim is closed');
  }
}
