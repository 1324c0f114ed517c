/**
 * The firmware of one lock board, as it would run on the microcontroller: command handling,
 * UNLOCK de-duplication, LED state, the event counter, and turning sensor changes into events.
 * It touches no bytes and no timers: the cabinet (sim/cabinet.ts) owns the physical world and
 * the wire, feeds decoded commands in and sends what comes out.
 */
import {
  DEDUP_ENTRIES, DEDUP_WINDOW_MS, MAX_SEQ, PROTOCOL_VERSION,
  type BoardEvent, type BoardStatus, type BootReason, type Command, type DecodeError, type FaultCode, type LedMode,
  type Nak, type NakReason, type Reply, type SwitchLevel,
} from '../firmware-protocol/index.js';

/** What the firmware can read and drive on its board. Channels are 1-based. */
export interface BoardHardware {
  /** Raw door-switch level as the input pin reads it (polarity and a stuck switch already applied). */
  doorLevel(channel: number): SwitchLevel;
  itemPresent(channel: number): boolean;
  coilFault(channel: number): FaultCode;
  /** Energise the lock coil of a channel for pulseMs. */
  pulse(channel: number, pulseMs: number): void;
  /** True while some coil of this board is energised. */
  pulsing(): boolean;
}

/** What handling one command did, for the cabinet's counters. */
export interface CommandOutcome {
  reply: Reply;
  /** An UNLOCK that pulsed the coil. */
  executed?: boolean;
  /** An UNLOCK recognised as a retransmission (ACK DUP, no pulse). */
  duplicate?: boolean;
}

interface DedupEntry { seq: number; channel: number; at: number }

export interface BoardConfig {
  addr: number;
  channels: number;
  firmware: string;
  singleCoil: boolean;
  clock: () => number;
}

const DECODE_TO_NAK: Partial<Record<DecodeError['code'], NakReason>> = {
  UNKNOWN_VERB: 'UNKNOWN_VERB',
  BAD_ARGS: 'BAD_ARGS',
  BAD_CHANNEL: 'BAD_CHANNEL',
};

export class BoardFirmware {
  readonly addr: number;
  readonly channels: number;
  private eventCounter = 0;
  private dedup: DedupEntry[] = [];
  private leds: LedMode[];
  /** Sensor values last reported (in an event or at boot), to detect changes. */
  private seenDoor: SwitchLevel[] = [];
  private seenItem: boolean[] = [];
  private seenFault: FaultCode[] = [];
  private bootCount = 0;

  constructor(
    private readonly config: BoardConfig,
    private readonly hw: BoardHardware,
    private readonly emitEvent: (e: BoardEvent) => void,
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
    this.seenDoor = this.range().map((ch) => this.hw.doorLevel(ch));
    this.seenItem = this.range().map((ch) => this.hw.itemPresent(ch));
    this.seenFault = this.range().map((ch) => this.hw.coilFault(ch));
    this.emitEvent({ kind: 'boot', addr: this.addr, seq: 0, reason });
    for (const ch of this.range()) {
      const fault = this.seenFault[ch - 1]!;
      if (fault !== 'NONE') this.event({ kind: 'fault', addr: this.addr, seq: 0, channel: ch, fault });
    }
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
        return { reply: { kind: 'ack-ident', addr, seq, protocol: PROTOCOL_VERSION, firmware: this.config.firmware, channels: this.channels } };
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
    const reason = DECODE_TO_NAK[error.code];
    if (!reason || error.direction !== 'toBoard' || error.addr !== this.addr || error.seq === undefined || !error.verb) return null;
    return { kind: 'nak', addr: this.addr, seq: error.seq, verb: error.verb, reason };
  }

  status(): BoardStatus {
    return {
      eventCounter: this.eventCounter,
      doors: this.range().map((ch) => this.hw.doorLevel(ch)),
      items: this.range().map((ch) => this.hw.itemPresent(ch)),
      faults: this.range().map((ch) => this.hw.coilFault(ch)),
    };
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
    if (this.config.singleCoil && this.hw.pulsing()) return { reply: this.nak(cmd, 'UNLOCK', 'BUSY') };
    this.dedup.push({ seq, channel, at: now });
    if (this.dedup.length > DEDUP_ENTRIES) this.dedup.splice(0, this.dedup.length - DEDUP_ENTRIES);
    this.hw.pulse(channel, pulseMs);
    return { reply: { kind: 'ack-unlock', addr, seq, channel, duplicate: false }, executed: true };
  }

  private nak(cmd: Command, verb: string, reason: NakReason): Nak {
    return { kind: 'nak', addr: this.addr, seq: cmd.seq, verb, reason };
  }

  private event(e: BoardEvent): void {
    this.eventCounter = this.eventCounter >= MAX_SEQ ? 0 : this.eventCounter + 1;
    this.emitEvent({ ...e, seq: this.eventCounter });
  }

  /** Set the event counter (tests of the wrap-around at 0xFFFF). */
  setEventCounter(n: number): void {
    this.eventCounter = n & MAX_SEQ;
  }

  private range(): number[] {
    return Array.from({ length: this.channels }, (_, i) => i + 1);
  }
}
