/**
 * The firmware of one lock board, as it would run on the microcontroller: command handling,
 * UNLOCK de-duplication, LED state, the event counter, and turning sensor changes into events.
 * It touches no bytes and no timers: the cabinet (sim/cabinet.ts) owns the physical world and
 * the wire, feeds decoded commands in and sends what comes out.
 */
import {
  DEDUP_ENTRIES,
  DEDUP_WINDOW_MS,
  MAX_SEQ,
  nakReasonFor,
  OPENINGS_MODULUS,
  type BoardEvent,
  type BoardStatus,
  type BootReason,
  type Command,
  type DecodeError,
  type FaultCode,
  type LedMode,
  type Nak,
  type NakReason,
  type ProtocolVersion,
  type Reply,
  type SwitchLevel,
} from '../firmware-protocol/index.js';

/** What the firmware can read and drive on its board. Channels are 1-based. */
export interface BoardHardware {
  /** Raw door-switch level as the input pin reads it (polarity and a stuck switch already applied). */
  doorLevel(channel: number): SwitchLevel;
  itemPresent(channel: number): boolean;
  coilFault(channel: number): FaultCode;
  /** Energise the lock coil of a channel for pulseMs. */
  pulse(channel: number, pulseMs: number): void;
  /** True while some coil of this board (or, given a channel, that channel's coil) is energised. */
  pulsing(channel?: number): boolean;
}

/** What handling one command did, for the cabinet's counters. */
export interface CommandOutcome {
  reply: Reply;
  /** An UNLOCK that pulsed the coil. */
  executed?: boolean;
  /** An UNLOCK recognised as a retransmission (ACK DUP, no pulse). */
  duplicate?: boolean;
}

interface DedupEntry {
  seq: number;
  channel: number;
  at: number;
}

export interface BoardConfig {
  addr: number;
  channels: number;
  firmware: string;
  singleCoil: boolean;
  clock: () => number;
  /** The protocol version the firmware speaks: 2 adds the door-opening counts to STATUS (PROTOCOL.md §21). */
  protocol: ProtocolVersion;
}

/** Events waiting to be sent; beyond this the oldest is dropped (the counter gap tells the controller). */
export const EVENT_QUEUE_SIZE = 32;

export class BoardFirmware {
  readonly addr: number;
  readonly channels: number;
  private eventCounter = 0;
  /** Counter of the newest event that left the queue (sent or dropped): what STATUS reports. */
  private leftCounter = 0;
  private queue: BoardEvent[] = [];
  private dropped = 0;
  private dedup: DedupEntry[] = [];
  private leds: LedMode[];
  /** Sensor values last reported (in an event or at boot), to detect changes. */
  private seenDoor: SwitchLevel[] = [];
  private seenItem: boolean[] = [];
  private seenFault: FaultCode[] = [];
  /** Per channel, the door-switch contact's C → O changes since boot, modulo 256 (reported by version 2 only). */
  private openingCounts: number[] = [];
  private bootCount = 0;

  constructor(
    private readonly config: BoardConfig,
    private readonly hw: BoardHardware,
    /** Called with each event as it leaves the queue (flush). */
    private readonly emitEvent: (e: BoardEvent) => void,
    /** Called when the queue gained an event; the owner decides when the bus allows flush(). */
    private readonly onQueued: () => void = () => this.flush(),
  ) {
    this.addr = config.addr;
    this.channels = config.channels;
    this.leds = new Array<LedMode>(config.channels).fill('OFF');
  }

  /**
   * Start (or restart) the firmware: RAM is lost — de-duplication memory, LEDs, event counter.
   * BOOT is event 0; a FAULT event follows for every channel whose coil is faulty at start.
   */
  boot(reason: BootReason): void {
    this.bootCount++;
    this.dedup = [];
    this.leds.fill('OFF');
    this.eventCounter = 0;
    this.leftCounter = 0;
    this.queue = [];
    this.seenDoor = this.range().map((ch) => this.hw.doorLevel(ch));
    this.seenItem = this.range().map((ch) => this.hw.itemPresent(ch));
    this.seenFault = this.range().map((ch) => this.hw.coilFault(ch));
    this.openingCounts = this.range().map(() => 0);
    this.queue.push({ kind: 'boot', addr: this.addr, seq: 0, reason });
    for (const ch of this.range()) {
      const fault = this.seenFault[ch - 1]!;
      if (fault !== 'NONE') this.event({ kind: 'fault', addr: this.addr, seq: 0, channel: ch, fault }, false);
    }
    this.onQueued();
  }

  /** Send every queued event, in order (the owner calls this when the bus rules allow it). */
  flush(): void {
    while (this.queue.length > 0) {
      const e = this.queue.shift()!;
      this.leftCounter = e.seq;
      this.emitEvent(e);
    }
  }

  get queuedEvents(): number {
    return this.queue.length;
  }

  /** Events dropped because the queue was full. */
  get droppedEvents(): number {
    return this.dropped;
  }

  /** Read every input and send an event for each that changed since it was last reported. */
  scanInputs(): void {
    for (const ch of this.range()) {
      const i = ch - 1;
      const fault = this.hw.coilFault(ch);
      if (fault !== this.seenFault[i]) {
        this.seenFault[i] = fault;
        this.event({ kind: 'fault', addr: this.addr, seq: 0, channel: ch, fault });
      }
      const level = this.hw.doorLevel(ch);
      if (level !== this.seenDoor[i]) {
        // Counted here, when the change is detected, whatever becomes of its event (dropped, lost, unheard).
        if (level === 'O') this.openingCounts[i] = (this.openingCounts[i]! + 1) % OPENINGS_MODULUS;
        this.seenDoor[i] = level;
        this.event({ kind: 'door', addr: this.addr, seq: 0, channel: ch, level });
      }
      const present = this.hw.itemPresent(ch);
      if (present !== this.seenItem[i]) {
        this.seenItem[i] = present;
        this.event({ kind: 'item', addr: this.addr, seq: 0, channel: ch, present });
      }
    }
  }

  /** Handle a decoded command addressed to this board. */
  handle(cmd: Command): CommandOutcome {
    const { addr, seq } = cmd;
    switch (cmd.kind) {
      case 'ident':
        return { reply: { kind: 'ack-ident', addr, seq, protocol: this.config.protocol, firmware: this.config.firmware, channels: this.channels } };
      case 'status':
        return { reply: { kind: 'ack-status', addr, seq, ...this.status() } };
      case 'led':
        if (cmd.channel > this.channels) return { reply: this.nak(cmd, 'LED', 'BAD_CHANNEL') };
        this.leds[cmd.channel - 1] = cmd.mode;
        return { reply: { kind: 'ack-led', addr, seq, channel: cmd.channel, mode: cmd.mode } };
      case 'unlock':
        return this.unlock(cmd.seq, cmd.channel, cmd.pulseMs, cmd);
    }
  }

  /**
   * The NAK for a frame addressed to this board whose CRC matched but which could not be decoded,
   * or null when the firmware stays silent (framing errors, bad CRC: it cannot trust the header).
   */
  nakForDecodeError(error: DecodeError): Nak | null {
    if (error.addr !== this.addr || error.seq === undefined || !error.verb) return null;
    const reason = nakReasonFor(error, this.channels);
    return reason ? { kind: 'nak', addr: this.addr, seq: error.seq, verb: error.verb, reason } : null;
  }

  status(): BoardStatus {
    const status: BoardStatus = {
      eventCounter: this.leftCounter,
      doors: this.range().map((ch) => this.hw.doorLevel(ch)),
      items: this.range().map((ch) => this.hw.itemPresent(ch)),
      faults: this.range().map((ch) => this.hw.coilFault(ch)),
    };
    if (this.config.protocol === 2) status.openings = [...this.openingCounts];
    return status;
  }

  get protocol(): ProtocolVersion {
    return this.config.protocol;
  }

  /** Per channel, the contact openings counted since boot, modulo 256 (what a version 2 STATUS reports). */
  get openings(): number[] {
    return [...this.openingCounts];
  }

  /** Set a channel's opening count (tests of the wrap-around at 0xFF without 255 openings). */
  setOpeningCount(channel: number, value: number): void {
    if (channel >= 1 && channel <= this.channels) this.openingCounts[channel - 1] = value % OPENINGS_MODULUS;
  }

  led(channel: number): LedMode {
    return this.leds[channel - 1] ?? 'OFF';
  }

  get firmware(): string {
    return this.config.firmware;
  }

  get events(): number {
    return this.eventCounter;
  }

  get boots(): number {
    return this.bootCount;
  }

  private unlock(seq: number, channel: number, pulseMs: number, cmd: Command): CommandOutcome {
    const addr = this.addr;
    if (channel > this.channels) return { reply: this.nak(cmd, 'UNLOCK', 'BAD_CHANNEL') };
    const now = this.config.clock();
    this.dedup = this.dedup.filter((e) => now - e.at < DEDUP_WINDOW_MS);
    if (this.dedup.some((e) => e.seq === seq && e.channel === channel)) {
      return { reply: { kind: 'ack-unlock', addr, seq, channel, duplicate: true }, duplicate: true };
    }
    if (this.hw.coilFault(channel) !== 'NONE') return { reply: this.nak(cmd, 'UNLOCK', 'COIL_FAULT') };
    if (this.hw.pulsing(channel) || (this.config.singleCoil && this.hw.pulsing())) return { reply: this.nak(cmd, 'UNLOCK', 'BUSY') };
    this.dedup.push({ seq, channel, at: now });
    if (this.dedup.length > DEDUP_ENTRIES) this.dedup.splice(0, this.dedup.length - DEDUP_ENTRIES);
    this.hw.pulse(channel, pulseMs);
    return { reply: { kind: 'ack-unlock', addr, seq, channel, duplicate: false }, executed: true };
  }

  private nak(cmd: Command, verb: string, reason: NakReason): Nak {
    return { kind: 'nak', addr: this.addr, seq: cmd.seq, verb, reason };
  }

  private event(e: BoardEvent, notify = true): void {
    this.eventCounter = this.eventCounter >= MAX_SEQ ? 0 : this.eventCounter + 1;
    this.queue.push({ ...e, seq: this.eventCounter });
    if (this.queue.length > EVENT_QUEUE_SIZE) {
      const lost = this.queue.shift()!;
      this.leftCounter = lost.seq;
      this.dropped++;
    }
    if (notify) this.onQueued();
  }

  /** Set the event counter (tests of the wrap-around at 0xFFFF). */
  setEventCounter(n: number): void {
    this.flush();
    this.eventCounter = n & MAX_SEQ;
    this.leftCounter = this.eventCounter;
  }

  private range(): number[] {
    return Array.from({ length: this.channels }, (_, i) => i + 1);
  }
}
