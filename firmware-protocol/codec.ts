/**
 * Encoding and decoding of single frames. Pure: strings in, strings out, no I/O.
 *
 *   frame = marker ADDR SP SEQ SP VERB *(SP ARG) "*" CRC
 *   marker = ">" (controller → board) | "<" (board → controller)
 *   ADDR = 2 hex digits, SEQ = 4 hex digits, CRC = 4 hex digits (uppercase),
 *   CRC-16/MODBUS over every character from the marker up to (not including) "*".
 *
 * How a frame is built for each message kind is in `argsOf` (encode) and `parseBody` (decode),
 * side by side per verb. PROTOCOL.md is the normative description.
 *
 * Both directions speak one protocol version, version 1 unless told: the versions differ only in ACK STATUS,
 * which in version 2 carries a fifth field, the per-channel door-opening counts (PROTOCOL.md §21). Each version
 * is strict: a version 1 decoder refuses the version 2 reply, and the other way round.
 *
 * Decode checks, in order: line length, start marker, "*CRC" shape, CRC, header shape, address,
 * verb, argument syntax, per-verb arguments. Once the header is good (from the verb check on),
 * an error carries addr, seq and verb, which is what a board needs to answer with a NAK.
 */
import { crcHex } from './crc16.js';
import {
  BOOT_REASONS,
  FAULT_CODES,
  FAULT_LETTER,
  LED_MODES,
  MAX_ADDRESS,
  MAX_CHANNELS,
  MAX_LINE_LENGTH,
  MAX_PULSE_MS,
  MAX_SEQ,
  MIN_ADDRESS,
  MIN_CHANNEL,
  MIN_PULSE_MS,
  MAX_CHANNELS_V2,
  NAK_REASONS,
  OPENINGS_MODULUS,
  PROTOCOL_VERSION,
  TO_BOARD,
  TO_CONTROLLER,
  type BoardStatus,
  type BootReason,
  type FaultCode,
  type LedMode,
  type Message,
  type NakReason,
  type ProtocolVersion,
  type SwitchLevel,
} from './messages.js';

export type DecodeErrorCode =
  | 'NO_FRAME' // no start marker in the line: noise only
  | 'TOO_LONG' // longer than MAX_LINE_LENGTH
  | 'MALFORMED' // framing or header syntax is wrong
  | 'BAD_CRC' // checksum does not match
  | 'BAD_ADDRESS' // address 00 (broadcast) or above MAX_ADDRESS
  | 'UNKNOWN_VERB' // well-formed, but the verb is not one this direction knows
  | 'BAD_ARGS' // arguments missing, extra, or malformed
  | 'BAD_CHANNEL'; // channel number outside 1..MAX_CHANNELS

export interface DecodeError {
  code: DecodeErrorCode;
  detail: string;
  /** Characters before the start marker (line noise), when one was found. */
  noise: number;
  /** Filled in once the header parsed and the CRC matched: lets a board NAK a command it cannot run. */
  addr?: number;
  seq?: number;
  verb?: string;
  direction?: 'toBoard' | 'toController';
  /** The channel argument, when it was well-formed (1..48) and a later argument was wrong (see `nakReasonFor`). */
  channel?: number;
}

/**
 * The NAK a board with `channels` channels answers to a command that failed to decode (PROTOCOL.md §8–9),
 * or null when it stays silent (no trusted header, not a command). Arguments are judged left to right and
 * the first wrong one decides: a channel that is 0, above 48 or above the board's count is BAD_CHANNEL even
 * when a later argument is also wrong; a badly spelt one, any other argument, a wrong argument count or a
 * forbidden byte inside an argument is BAD_ARGS.
 */
export function nakReasonFor(e: DecodeError, channels: number): NakReason | null {
  if (e.direction !== 'toBoard' || e.addr === undefined || e.seq === undefined || !e.verb) return null;
  switch (e.code) {
    case 'UNKNOWN_VERB':
      return 'UNKNOWN_VERB';
    case 'BAD_CHANNEL':
      return 'BAD_CHANNEL';
    case 'BAD_ARGS':
      return e.channel !== undefined && e.channel > channels ? 'BAD_CHANNEL' : 'BAD_ARGS';
    default:
      return null;
  }
}

export type DecodeResult = { ok: true; message: Message; noise: number } | { ok: false; error: DecodeError };

/** Thrown by `encode` for a message that is not valid on the wire. */
export class EncodeError extends Error {
  constructor(
    readonly code: 'BAD_ADDRESS' | 'BAD_SEQ' | 'BAD_CHANNEL' | 'BAD_ARGS',
    message: string,
  ) {
    super(message);
    this.name = 'EncodeError';
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0');

const FIRMWARE_RE = /^[A-Za-z0-9._-]{1,24}$/;

function checkChannel(channel: number): void {
  if (!Number.isInteger(channel) || channel < MIN_CHANNEL || channel > MAX_CHANNELS) {
    throw new EncodeError('BAD_CHANNEL', `channel ${channel} is outside ${MIN_CHANNEL}..${MAX_CHANNELS}`);
  }
}
function checkIn<T>(value: T, allowed: readonly T[], what: string): void {
  if (!allowed.includes(value)) throw new EncodeError('BAD_ARGS', `${what} ${String(value)} is not one of ${allowed.join(', ')}`);
}
function checkInt(value: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new EncodeError('BAD_ARGS', `${what} ${value} is outside ${min}..${max}`);
  }
}

function statusArgs(s: BoardStatus, protocol: ProtocolVersion): string[] {
  const n = s.doors.length;
  if (n < 1 || n > MAX_CHANNELS || s.items.length !== n || s.faults.length !== n) {
    throw new EncodeError('BAD_ARGS', 'status arrays must have one entry per channel (1..48), all of the same length');
  }
  checkInt(s.eventCounter, 0, MAX_SEQ, 'event counter');
  for (const d of s.doors) checkIn(d, ['C', 'O'], 'door level');
  for (const f of s.faults) checkIn(f, FAULT_CODES, 'fault');
  const args = [
    hex(s.eventCounter, 4),
    s.doors.join(''),
    s.items.map((i) => (i ? '1' : '0')).join(''),
    s.faults.map((f) => FAULT_LETTER[f]).join(''),
  ];
  if (protocol === 1) {
    if (s.openings !== undefined) throw new EncodeError('BAD_ARGS', 'version 1 has no door-opening counts in ACK STATUS');
    return args;
  }
  if (s.openings === undefined) throw new EncodeError('BAD_ARGS', 'version 2 ACK STATUS carries the door-opening counts');
  if (n > MAX_CHANNELS_V2) throw new EncodeError('BAD_ARGS', `a version 2 board has at most ${MAX_CHANNELS_V2} channels, not ${n}`);
  if (s.openings.length !== n) throw new EncodeError('BAD_ARGS', 'door-opening counts must have one entry per channel');
  for (const c of s.openings) checkInt(c, 0, OPENINGS_MODULUS - 1, 'door-opening count');
  return [...args, s.openings.map((c) => hex(c, 2)).join('')];
}

/** The marker, verb and arguments of a message: the one place where each frame's layout is written. */
function argsOf(m: Message, protocol: ProtocolVersion): { marker: string; verb: string; args: string[] } {
  switch (m.kind) {
    case 'ident':
      return { marker: TO_BOARD, verb: 'IDENT', args: [] };
    case 'status':
      return { marker: TO_BOARD, verb: 'STATUS', args: [] };
    case 'unlock':
      checkChannel(m.channel);
      checkInt(m.pulseMs, MIN_PULSE_MS, MAX_PULSE_MS, 'pulse length');
      return { marker: TO_BOARD, verb: 'UNLOCK', args: [String(m.channel), String(m.pulseMs)] };
    case 'led':
      checkChannel(m.channel);
      checkIn(m.mode, LED_MODES, 'LED mode');
      return { marker: TO_BOARD, verb: 'LED', args: [String(m.channel), m.mode] };
    case 'ack-ident':
      checkInt(m.protocol, 1, 9999, 'protocol version');
      checkInt(m.channels, MIN_CHANNEL, MAX_CHANNELS, 'channel count');
      if (!FIRMWARE_RE.test(m.firmware)) throw new EncodeError('BAD_ARGS', 'firmware version must be 1-24 of A-Z a-z 0-9 . _ -');
      return { marker: TO_CONTROLLER, verb: 'ACK', args: ['IDENT', String(m.protocol), m.firmware, String(m.channels)] };
    case 'ack-status':
      return { marker: TO_CONTROLLER, verb: 'ACK', args: ['STATUS', ...statusArgs(m, protocol)] };
    case 'ack-unlock':
      checkChannel(m.channel);
      return { marker: TO_CONTROLLER, verb: 'ACK', args: ['UNLOCK', String(m.channel), ...(m.duplicate ? ['DUP'] : [])] };
    case 'ack-led':
      checkChannel(m.channel);
      checkIn(m.mode, LED_MODES, 'LED mode');
      return { marker: TO_CONTROLLER, verb: 'ACK', args: ['LED', String(m.channel), m.mode] };
    case 'nak':
      if (!VERB_RE.test(m.verb)) throw new EncodeError('BAD_ARGS', 'NAK verb must be 1-12 capital letters');
      checkIn(m.reason, NAK_REASONS, 'NAK reason');
      return { marker: TO_CONTROLLER, verb: 'NAK', args: [m.verb, m.reason] };
    case 'door':
      checkChannel(m.channel);
      checkIn(m.level, ['C', 'O'], 'door level');
      return { marker: TO_CONTROLLER, verb: 'DOOR', args: [String(m.channel), m.level] };
    case 'item':
      checkChannel(m.channel);
      return { marker: TO_CONTROLLER, verb: 'ITEM', args: [String(m.channel), m.present ? '1' : '0'] };
    case 'boot':
      checkIn(m.reason, BOOT_REASONS, 'boot reason');
      if (m.seq !== 0) throw new EncodeError('BAD_ARGS', `BOOT carries the counter 0000, not ${hex(m.seq, 4)}`);
      return { marker: TO_CONTROLLER, verb: 'BOOT', args: [m.reason] };
    case 'fault':
      checkChannel(m.channel);
      checkIn(m.fault, FAULT_CODES, 'fault');
      return { marker: TO_CONTROLLER, verb: 'FAULT', args: [String(m.channel), m.fault] };
  }
}

/**
 * The frame for a message in a protocol version (default 1), without the line ending. Throws EncodeError for a
 * message not valid on the wire in that version (an ACK STATUS with door-opening counts in version 1, without them
 * in version 2).
 */
export function encode(m: Message, protocol: ProtocolVersion = PROTOCOL_VERSION): string {
  if (!Number.isInteger(m.addr) || m.addr < MIN_ADDRESS || m.addr > MAX_ADDRESS) {
    throw new EncodeError('BAD_ADDRESS', `address ${m.addr} is outside ${MIN_ADDRESS}..${MAX_ADDRESS} (00 is broadcast and never sent)`);
  }
  if (!Number.isInteger(m.seq) || m.seq < 0 || m.seq > MAX_SEQ) {
    throw new EncodeError('BAD_SEQ', `sequence number ${m.seq} is outside 0..${MAX_SEQ}`);
  }
  const { marker, verb, args } = argsOf(m, protocol);
  const body = [marker + hex(m.addr, 2), hex(m.seq, 4), verb, ...args].join(' ');
  return `${body}*${crcHex(body)}`;
}

/** `encode` plus the line ending: what goes on the wire. */
export function encodeLine(m: Message, protocol: ProtocolVersion = PROTOCOL_VERSION): string {
  return encode(m, protocol) + '\n';
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

const ADDR_RE = /^[0-9A-F]{2}$/;
const SEQ_RE = /^[0-9A-F]{4}$/;
const VERB_RE = /^[A-Z]{1,12}$/;
const CRC_RE = /^[0-9A-F]{4}$/;
/** Visible ASCII except the framing characters * < > */
const ARG_RE = /^[\x21-\x29\x2b-\x3b\x3d\x3f-\x7e]+$/;
/** Decimal without leading zeros: exactly one spelling per number ("0" is the only one starting with 0). */
const DEC_RE = /^(?:0|[1-9][0-9]{0,4})$/;
/** Verbs each direction knows. */
const TO_BOARD_VERBS: readonly string[] = ['IDENT', 'STATUS', 'UNLOCK', 'LED'];
const TO_CONTROLLER_VERBS: readonly string[] = ['ACK', 'NAK', 'DOOR', 'ITEM', 'BOOT', 'FAULT'];

class ArgError extends Error {
  /** The frame's channel argument, when it was well-formed and an argument after it was wrong. */
  channel?: number;
  constructor(
    readonly code: 'BAD_ARGS' | 'BAD_CHANNEL',
    message: string,
  ) {
    super(message);
  }
}

/** Parse a channel, then the rest; an error in the rest carries the channel (for `nakReasonFor`). */
function withChannel<T>(raw: string, rest: (channel: number) => T): T {
  const channel = channelArg(raw);
  try {
    return rest(channel);
  } catch (e) {
    if (e instanceof ArgError) e.channel = channel;
    throw e;
  }
}

function argCount(args: string[], n: number, verb: string): void {
  if (args.length !== n) throw new ArgError('BAD_ARGS', `${verb} takes ${n} argument(s), got ${args.length}`);
}
function decimal(s: string, min: number, max: number, what: string): number {
  if (!DEC_RE.test(s)) throw new ArgError('BAD_ARGS', `${what} "${s}" is not a decimal number`);
  const n = Number(s);
  if (n < min || n > max) throw new ArgError('BAD_ARGS', `${what} ${n} is outside ${min}..${max}`);
  return n;
}
function channelArg(s: string): number {
  if (!DEC_RE.test(s)) throw new ArgError('BAD_ARGS', `channel "${s}" is not a decimal number`);
  const n = Number(s);
  if (n < MIN_CHANNEL || n > MAX_CHANNELS) throw new ArgError('BAD_CHANNEL', `channel ${n} is outside ${MIN_CHANNEL}..${MAX_CHANNELS}`);
  return n;
}
function oneOf<T extends string>(s: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(s)) throw new ArgError('BAD_ARGS', `${what} "${s}" is not one of ${allowed.join(', ')}`);
  return s as T;
}
function level(s: string): SwitchLevel {
  return oneOf<SwitchLevel>(s, ['C', 'O'], 'door level');
}

const LETTER_FAULT: Record<string, FaultCode> = Object.fromEntries(Object.entries(FAULT_LETTER).map(([code, letter]) => [letter, code as FaultCode]));

function parseStatus(args: string[], protocol: ProtocolVersion): BoardStatus {
  argCount(args, protocol === 1 ? 4 : 5, `ACK STATUS (version ${protocol})`);
  const [ev, doors, items, faults, openings] = args as [string, string, string, string, string | undefined];
  if (!SEQ_RE.test(ev)) throw new ArgError('BAD_ARGS', `event counter "${ev}" is not 4 hex digits`);
  const n = doors.length;
  if (n < 1 || n > MAX_CHANNELS || items.length !== n || faults.length !== n) {
    throw new ArgError('BAD_ARGS', 'status fields must have one character per channel (1..48), all of the same length');
  }
  if (!/^[CO]+$/.test(doors)) throw new ArgError('BAD_ARGS', 'door levels must be C or O');
  if (!/^[01]+$/.test(items)) throw new ArgError('BAD_ARGS', 'item flags must be 0 or 1');
  const faultList = [...faults].map((c) => {
    const f = LETTER_FAULT[c];
    if (!f) throw new ArgError('BAD_ARGS', `fault letter "${c}" is unknown`);
    return f;
  });
  const status: BoardStatus = {
    eventCounter: parseInt(ev, 16),
    doors: [...doors] as SwitchLevel[],
    items: [...items].map((c) => c === '1'),
    faults: faultList,
  };
  if (openings === undefined) return status;
  if (n > MAX_CHANNELS_V2) throw new ArgError('BAD_ARGS', `a version 2 board has at most ${MAX_CHANNELS_V2} channels, not ${n}`);
  if (openings.length !== 2 * n || !/^[0-9A-F]+$/.test(openings)) {
    throw new ArgError('BAD_ARGS', 'door-opening counts must be two uppercase hex digits per channel');
  }
  status.openings = Array.from({ length: n }, (_, i) => parseInt(openings.slice(2 * i, 2 * i + 2), 16));
  return status;
}

/** Arguments → message, per verb; the mirror of `argsOf`. Returns null for a verb this direction does not know. */
function parseBody(toBoard: boolean, addr: number, seq: number, verb: string, args: string[], protocol: ProtocolVersion): Message | null {
  if (toBoard) {
    switch (verb) {
      case 'IDENT':
        argCount(args, 0, verb);
        return { kind: 'ident', addr, seq };
      case 'STATUS':
        argCount(args, 0, verb);
        return { kind: 'status', addr, seq };
      case 'UNLOCK':
        argCount(args, 2, verb);
        return withChannel(args[0]!, (channel) => ({
          kind: 'unlock',
          addr,
          seq,
          channel,
          pulseMs: decimal(args[1]!, MIN_PULSE_MS, MAX_PULSE_MS, 'pulse length'),
        }));
      case 'LED':
        argCount(args, 2, verb);
        return withChannel(args[0]!, (channel) => ({ kind: 'led', addr, seq, channel, mode: oneOf<LedMode>(args[1]!, LED_MODES, 'LED mode') }));
      default:
        return null;
    }
  }
  switch (verb) {
    case 'ACK': {
      const [of, ...rest] = args;
      switch (of) {
        case 'IDENT': {
          argCount(rest, 3, 'ACK IDENT');
          const firmware = rest[1]!;
          if (!FIRMWARE_RE.test(firmware)) throw new ArgError('BAD_ARGS', 'firmware version must be 1-24 of A-Z a-z 0-9 . _ -');
          return {
            kind: 'ack-ident',
            addr,
            seq,
            protocol: decimal(rest[0]!, 1, 9999, 'protocol version'),
            firmware,
            channels: decimal(rest[2]!, MIN_CHANNEL, MAX_CHANNELS, 'channel count'),
          };
        }
        case 'STATUS':
          return { kind: 'ack-status', addr, seq, ...parseStatus(rest, protocol) };
        case 'UNLOCK': {
          if (rest.length === 2 && rest[1] !== 'DUP') throw new ArgError('BAD_ARGS', `unexpected "${rest[1]}" after ACK UNLOCK channel`);
          if (rest.length !== 1 && rest.length !== 2) throw new ArgError('BAD_ARGS', 'ACK UNLOCK takes a channel and an optional DUP');
          return { kind: 'ack-unlock', addr, seq, channel: channelArg(rest[0]!), duplicate: rest.length === 2 };
        }
        case 'LED':
          argCount(rest, 2, 'ACK LED');
          return { kind: 'ack-led', addr, seq, channel: channelArg(rest[0]!), mode: oneOf<LedMode>(rest[1]!, LED_MODES, 'LED mode') };
        default:
          throw new ArgError('BAD_ARGS', `ACK of unknown command "${of ?? ''}"`);
      }
    }
    case 'NAK': {
      argCount(args, 2, verb);
      if (!VERB_RE.test(args[0]!)) throw new ArgError('BAD_ARGS', `NAK names "${args[0]!}", which is not a verb`);
      return { kind: 'nak', addr, seq, verb: args[0]!, reason: oneOf<NakReason>(args[1]!, NAK_REASONS, 'NAK reason') };
    }
    case 'DOOR':
      argCount(args, 2, verb);
      return { kind: 'door', addr, seq, channel: channelArg(args[0]!), level: level(args[1]!) };
    case 'ITEM': {
      argCount(args, 2, verb);
      const present = oneOf(args[1]!, ['0', '1'], 'item flag') === '1';
      return { kind: 'item', addr, seq, channel: channelArg(args[0]!), present };
    }
    case 'BOOT':
      argCount(args, 1, verb);
      if (seq !== 0) throw new ArgError('BAD_ARGS', `BOOT carries the counter 0000, not ${hex(seq, 4)}`);
      return { kind: 'boot', addr, seq, reason: oneOf<BootReason>(args[0]!, BOOT_REASONS, 'boot reason') };
    case 'FAULT':
      argCount(args, 2, verb);
      return { kind: 'fault', addr, seq, channel: channelArg(args[0]!), fault: oneOf<FaultCode>(args[1]!, FAULT_CODES, 'fault') };
    default:
      return null;
  }
}

/**
 * Decode one line (with or without its CR/LF). Never throws: any input gives either a message or
 * a DecodeError saying what was wrong. Characters before the last start marker are line noise.
 *
 * `protocol`: the version the frame is judged by (default 1), or, on a bus where boards speak different versions,
 * the version of the board the frame names (its address), for example the one its ACK IDENT reported.
 */
export function decode(line: string, protocol: ProtocolVersion | ((addr: number) => ProtocolVersion) = PROTOCOL_VERSION): DecodeResult {
  // One LF, and one CR before it, end a line. The length limit counts the line as it was on the wire:
  // CR (if any) and LF included, the same measure as BoundedReadlineParser.
  let text = line.endsWith('\n') ? line.slice(0, -1) : line;
  const wireLength = text.length + 1;
  if (text.endsWith('\r')) text = text.slice(0, -1);
  const fail = (code: DecodeErrorCode, detail: string, extra: Partial<DecodeError> = {}): DecodeResult => ({
    ok: false,
    error: { code, detail, noise: 0, ...extra },
  });
  if (wireLength > MAX_LINE_LENGTH) return fail('TOO_LONG', `line of ${wireLength} bytes exceeds ${MAX_LINE_LENGTH}`);

  const start = Math.max(text.lastIndexOf(TO_BOARD), text.lastIndexOf(TO_CONTROLLER));
  if (start < 0) return fail('NO_FRAME', 'no start marker', { noise: text.length });
  const noise = start;
  const frame = text.slice(start);
  const star = frame.lastIndexOf('*');
  if (star < 0 || frame.length - star !== 5) return fail('MALFORMED', 'frame does not end in *CRC (4 hex digits)', { noise });
  const body = frame.slice(0, star);
  const crc = frame.slice(star + 1);
  if (!CRC_RE.test(crc)) return fail('MALFORMED', `CRC "${crc}" is not 4 uppercase hex digits`, { noise });
  if (crcHex(body) !== crc) return fail('BAD_CRC', `CRC ${crc} does not match ${crcHex(body)}`, { noise });

  const toBoard = body[0] === TO_BOARD;
  const direction = toBoard ? 'toBoard' : 'toController';
  const tokens = body.slice(1).split(' ');
  const [addrText, seqText, verb, ...args] = tokens;
  if (
    addrText === undefined ||
    seqText === undefined ||
    verb === undefined ||
    !ADDR_RE.test(addrText) ||
    !SEQ_RE.test(seqText) ||
    !VERB_RE.test(verb)
  ) {
    return fail('MALFORMED', 'header must be ADDR(2 hex) SEQ(4 hex) VERB, single spaces', { noise, direction });
  }
  const addr = parseInt(addrText, 16);
  const seq = parseInt(seqText, 16);
  if (addr < MIN_ADDRESS || addr > MAX_ADDRESS) {
    return fail('BAD_ADDRESS', `address ${addrText} is outside 01..${hex(MAX_ADDRESS, 2)}`, { noise, seq, verb, direction });
  }
  // From here on the header is good: errors carry addr, seq and verb so that a board can NAK.
  if (!(toBoard ? TO_BOARD_VERBS : TO_CONTROLLER_VERBS).includes(verb)) {
    return fail('UNKNOWN_VERB', `verb ${verb} is not known in this direction`, { noise, addr, seq, verb, direction });
  }
  if (args.some((a) => a.length === 0 || a.length > 64 || !ARG_RE.test(a))) {
    return fail('BAD_ARGS', 'arguments must be 1-64 visible ASCII characters, separated by single spaces', { noise, addr, seq, verb, direction });
  }
  try {
    const message = parseBody(toBoard, addr, seq, verb, args, typeof protocol === 'function' ? protocol(addr) : protocol);
    if (!message) return fail('UNKNOWN_VERB', `verb ${verb} is not known in this direction`, { noise, addr, seq, verb, direction });
    return { ok: true, message, noise };
  } catch (e) {
    if (e instanceof ArgError)
      return fail(e.code, e.message, { noise, addr, seq, verb, direction, ...(e.channel !== undefined ? { channel: e.channel } : {}) });
    throw e;
  }
}
