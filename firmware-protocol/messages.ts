/**
 * The messages of the cabinet wire protocol, versions 1 and 2 (see PROTOCOL.md; version 2 is §21).
 * Plain data: no I/O, no classes. Every message kind the codec knows is listed here.
 */

/** Version 1: what the codec speaks unless told otherwise, and what a board reports unless it speaks version 2. */
export const PROTOCOL_VERSION = 1;
/** The versions this codec implements. Version 2 adds the per-channel door-opening counts to ACK STATUS (§21). */
export type ProtocolVersion = 1 | 2;
export const PROTOCOL_VERSIONS: readonly ProtocolVersion[] = [1, 2];
/** Version 2: door-opening counts wrap after this (two hex digits a channel). */
export const OPENINGS_MODULUS = 256;
/**
 * Version 2: channels a board may have. Its openings field (two hex digits a channel) must fit one argument of at most
 * 64 characters (§3), which also keeps the reply within the 256-byte line (§2).
 */
export const MAX_CHANNELS_V2 = 32;

/** A whole frame, start marker to LF, may not be longer than this (bytes, LF included). */
export const MAX_LINE_LENGTH = 256;
/** Board addresses on one bus. 00 is reserved (broadcast) and never valid in a frame. */
export const MIN_ADDRESS = 1;
export const MAX_ADDRESS = 31;
/** Channels (compartments) per board, numbered from 1. */
export const MIN_CHANNEL = 1;
export const MAX_CHANNELS = 48;
/** Unlock pulse length, milliseconds. */
export const MIN_PULSE_MS = 100;
export const MAX_PULSE_MS = 2000;
export const DEFAULT_PULSE_MS = 300;
export const MAX_SEQ = 0xffff;
/** Supported line speeds. */
export const BAUD_RATES = [9600, 115200] as const;
export const DEFAULT_BAUD = 9600;
/** The board answers every well-formed command addressed to it within this time. */
export const RESPONSE_DEADLINE_MS = 100;
/** The board remembers executed UNLOCK sequence numbers for this long (de-duplication window). */
export const DEDUP_WINDOW_MS = 10_000;
/** …and at most this many of them. */
export const DEDUP_ENTRIES = 16;

/** '>' starts a frame sent by the controller, '<' a frame sent by a board. */
export const TO_BOARD = '>';
export const TO_CONTROLLER = '<';

export type LedMode = 'OFF' | 'ON' | 'BLINK';
export const LED_MODES: readonly LedMode[] = ['OFF', 'ON', 'BLINK'];

/** Raw door-switch level as the board reads it: C = contact closed, O = contact open. */
export type SwitchLevel = 'C' | 'O';

export type FaultCode = 'NONE' | 'COIL_OPEN' | 'COIL_SHORT';
export const FAULT_CODES: readonly FaultCode[] = ['NONE', 'COIL_OPEN', 'COIL_SHORT'];
/** One-letter form of a fault code used in the STATUS reply. */
export const FAULT_LETTER: Readonly<Record<FaultCode, string>> = { NONE: '-', COIL_OPEN: 'O', COIL_SHORT: 'S' };

export type BootReason = 'POWERON' | 'WATCHDOG' | 'BROWNOUT' | 'RESET';
export const BOOT_REASONS: readonly BootReason[] = ['POWERON', 'WATCHDOG', 'BROWNOUT', 'RESET'];

export type NakReason = 'UNKNOWN_VERB' | 'BAD_ARGS' | 'BAD_CHANNEL' | 'COIL_FAULT' | 'BUSY';
export const NAK_REASONS: readonly NakReason[] = ['UNKNOWN_VERB', 'BAD_ARGS', 'BAD_CHANNEL', 'COIL_FAULT', 'BUSY'];

export type CommandVerb = 'IDENT' | 'STATUS' | 'UNLOCK' | 'LED';
export const COMMAND_VERBS: readonly CommandVerb[] = ['IDENT', 'STATUS', 'UNLOCK', 'LED'];

interface Header {
  /** Board address, 1–31. */
  addr: number;
  /** Commands and replies: the command's sequence number. Events: the board's event counter. 0–65535. */
  seq: number;
}

// ---- controller → board ------------------------------------------------------------------
export interface IdentCommand extends Header {
  kind: 'ident';
}
export interface StatusCommand extends Header {
  kind: 'status';
}
export interface UnlockCommand extends Header {
  kind: 'unlock';
  channel: number;
  pulseMs: number;
}
export interface LedCommand extends Header {
  kind: 'led';
  channel: number;
  mode: LedMode;
}
export type Command = IdentCommand | StatusCommand | UnlockCommand | LedCommand;

// ---- board → controller: replies ---------------------------------------------------------
export interface IdentAck extends Header {
  kind: 'ack-ident';
  protocol: number;
  /** Firmware version text, 1–24 characters of [A-Za-z0-9._-]. */
  firmware: string;
  channels: number;
}
export interface BoardStatus {
  /** The board's current event counter (the seq of the last event it sent). */
  eventCounter: number;
  /** Raw door-switch level per channel, index 0 = channel 1. */
  doors: SwitchLevel[];
  /** Occupancy (infrared) sensor per channel: true = an item is present. */
  items: boolean[];
  faults: FaultCode[];
  /**
   * Version 2 only (absent in version 1): per channel, the debounced changes of the door-switch contact from closed
   * (C) to open (O) since the board started, modulo 256. Index 0 = channel 1.
   */
  openings?: number[];
}
export interface StatusAck extends Header, BoardStatus {
  kind: 'ack-status';
}
export interface UnlockAck extends Header {
  kind: 'ack-unlock';
  channel: number;
  /** True when the board recognised a retransmission and did not pulse again. */
  duplicate: boolean;
}
export interface LedAck extends Header {
  kind: 'ack-led';
  channel: number;
  mode: LedMode;
}
export interface Nak extends Header {
  kind: 'nak';
  /** The verb of the refused command, as received (may be a verb the board does not know). */
  verb: string;
  reason: NakReason;
}
export type Reply = IdentAck | StatusAck | UnlockAck | LedAck | Nak;

// ---- board → controller: unsolicited events (seq = event counter) ------------------------
export interface DoorEvent extends Header {
  kind: 'door';
  channel: number;
  level: SwitchLevel;
}
export interface ItemEvent extends Header {
  kind: 'item';
  channel: number;
  present: boolean;
}
export interface BootEvent extends Header {
  kind: 'boot';
  reason: BootReason;
}
export interface FaultEvent extends Header {
  kind: 'fault';
  channel: number;
  fault: FaultCode;
}
export type BoardEvent = DoorEvent | ItemEvent | BootEvent | FaultEvent;

export type Message = Command | Reply | BoardEvent;
export type MessageKind = Message['kind'];

export function isCommand(m: Message): m is Command {
  return m.kind === 'ident' || m.kind === 'status' || m.kind === 'unlock' || m.kind === 'led';
}
export function isReply(m: Message): m is Reply {
  return m.kind.startsWith('ack-') || m.kind === 'nak';
}
export function isEvent(m: Message): m is BoardEvent {
  return m.kind === 'door' || m.kind === 'item' || m.kind === 'boot' || m.kind === 'fault';
}
/** The command verb a reply answers. */
export function replyVerb(r: Reply): string {
  switch (r.kind) {
    case 'ack-ident':
      return 'IDENT';
    case 'ack-status':
      return 'STATUS';
    case 'ack-unlock':
      return 'UNLOCK';
    case 'ack-led':
      return 'LED';
    case 'nak':
      return r.verb;
  }
}
