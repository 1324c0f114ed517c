/**
 * Simulator configuration: layout, physical behaviour and fault settings, with their ranges and
 * defaults in one place. The zod schemas here validate the constructor options, the CLI and the
 * panel API alike, so a bad value is refused the same way everywhere.
 */
import { z } from 'zod';
import { BOARD_FAMILIES, VENDOR_CODECS, VENDOR_FAMILIES, type BoardFamily } from '../firmware-protocol/vendors/index.js';
import {
  BAUD_RATES,
  BOOT_REASONS,
  DEFAULT_BAUD,
  FAULT_CODES,
  MAX_ADDRESS,
  MAX_CHANNELS,
  PROTOCOL_VERSIONS,
  type FaultCode,
  type ProtocolVersion,
  type SwitchLevel,
} from '../firmware-protocol/index.js';

export type Polarity = 'nc' | 'no';

/** Every line speed some board family uses; which ones a family takes is checked with the family. */
export const ALL_BAUD_RATES = [...new Set([...BAUD_RATES, ...VENDOR_FAMILIES.flatMap((f) => VENDOR_CODECS[f].bauds)])].sort((a, b) => a - b);

/** The speeds boards of this family can be set to, and the one they come with. */
export function familyBauds(board: BoardFamily): { bauds: readonly number[]; defaultBaud: number } {
  return board === 'native'
    ? { bauds: BAUD_RATES, defaultBaud: DEFAULT_BAUD }
    : { bauds: VENDOR_CODECS[board].bauds, defaultBaud: VENDOR_CODECS[board].defaultBaud };
}

export interface Layout {
  /** Number of boards; addresses are 1..boards. */
  boards: number;
  /** Channels on each board; compartments are numbered 1..boards*channels across boards in order. */
  channels: number;
}

export const DEFAULT_LAYOUT = '1x24';
/** Delay between the lock releasing and the door springing open. */
export const DEFAULT_SPRING_MS = 50;
export const DEFAULT_FIRMWARE = 'SIM-1.0.0';
export const DEFAULT_SEED = 1;
export const DEFAULT_SERIAL_RETRY_MS = 1000;
export const DEFAULT_FRAME_LOG_SIZE = 200;
export const MAX_DELAY_MS = 60_000;
export const MAX_SCAN_LENGTH = 512;
/** PROTOCOL.md §11.3: on a shared bus a board sends events only after the bus was quiet this long + 4 ms × address. */
export const EVENT_QUIET_BASE_MS = 150;
export const EVENT_QUIET_PER_ADDRESS_MS = 4;

const LAYOUT_RE = /^([1-9][0-9]?)x([1-9][0-9]?)$/;

/** '2x12' → { boards: 2, channels: 12 }; null when the text is not a valid layout. */
export function parseLayout(text: string): Layout | null {
  const m = LAYOUT_RE.exec(text.trim());
  if (!m) return null;
  const boards = Number(m[1]);
  const channels = Number(m[2]);
  if (boards < 1 || boards > MAX_ADDRESS || channels < 1 || channels > MAX_CHANNELS) return null;
  return { boards, channels };
}

export const layoutSchema = z.string().transform((s, ctx): Layout => {
  const layout = parseLayout(s);
  if (!layout) {
    ctx.addIssue({
      code: 'custom',
      message: `layout must be BOARDSxCHANNELS with 1-${MAX_ADDRESS} boards of 1-${MAX_CHANNELS} channels, e.g. 1x24 or 2x12`,
    });
    return z.NEVER;
  }
  return layout;
});

const fraction = z.number().min(0).max(1);
export const switchLevelSchema = z.enum(['C', 'O']);
export const faultCodeSchema = z.enum(FAULT_CODES as [FaultCode, ...FaultCode[]]);
export const bootReasonSchema = z.enum(BOOT_REASONS as [(typeof BOOT_REASONS)[number], ...(typeof BOOT_REASONS)[number][]]);

/** Faults that act on the wire, for every link. */
export interface LinkFaults {
  /** Fraction 0..1 of controller→board frames lost before the boards see them. */
  dropToBoard: number;
  /** Fraction 0..1 of board→controller frames lost on the way. */
  dropToController: number;
  /** Fraction 0..1 of frames with one bit flipped, per direction. */
  corruptToBoard: number;
  corruptToController: number;
  /** Extra delay before each reply, ms (events are not delayed). */
  delayMs: number;
  /** Emit bytes at baud/10 bytes per second, and process a received line only once it would have crossed the wire. */
  pacing: boolean;
}

/** Faults of one compartment's hardware. */
export interface CompartmentFaults {
  /** The lock takes the pulse (and the board ACKs) but the door does not open. */
  jammed: boolean;
  /** The door switch reads this level whatever the door does; null = working. */
  stuckSensor: SwitchLevel | null;
  /** A broken or shorted coil: FAULT event, and UNLOCK is refused with NAK COIL_FAULT. */
  coilFault: FaultCode;
}

export const NO_LINK_FAULTS: Readonly<LinkFaults> = {
  dropToBoard: 0,
  dropToController: 0,
  corruptToBoard: 0,
  corruptToController: 0,
  delayMs: 0,
  pacing: false,
};
export const NO_COMPARTMENT_FAULTS: Readonly<CompartmentFaults> = { jammed: false, stuckSensor: null, coilFault: 'NONE' };

export const compartmentFaultPatchSchema = z.strictObject({
  compartment: z.number().int().min(1),
  jammed: z.boolean().optional(),
  stuckSensor: switchLevelSchema.nullable().optional(),
  coilFault: faultCodeSchema.optional(),
});
export type CompartmentFaultPatch = z.infer<typeof compartmentFaultPatchSchema>;

/** A change to the fault settings. `clear` resets every fault first; `drop`/`corrupt` set both directions. */
export const faultPatchSchema = z.strictObject({
  clear: z.boolean().optional(),
  drop: fraction.optional(),
  corrupt: fraction.optional(),
  dropToBoard: fraction.optional(),
  dropToController: fraction.optional(),
  corruptToBoard: fraction.optional(),
  corruptToController: fraction.optional(),
  delayMs: z.number().int().min(0).max(MAX_DELAY_MS).optional(),
  pacing: z.boolean().optional(),
  compartments: z
    .array(compartmentFaultPatchSchema)
    .max(MAX_ADDRESS * MAX_CHANNELS)
    .optional(),
});
export type FaultPatch = z.infer<typeof faultPatchSchema>;

export interface SimOptions {
  /** Which board family the simulated boards speak: 'native' (our protocol, default), '8a80', 'kerong-cu48'. */
  board?: BoardFamily;
  /**
   * The version of our protocol the native boards speak: 1 (default) or 2, whose STATUS also carries per-channel
   * door-opening counts (PROTOCOL.md §21; boards of at most 32 channels). Native boards only.
   */
  protocol?: ProtocolVersion;
  /** '1x24' (default), '2x12', … or an object. */
  layout?: string | Layout;
  /** Door-switch polarity: 'nc' (default) reads C while the door is shut, 'no' the reverse. */
  polarity?: Polarity;
  /** 9600 (default) or 115200; used for byte pacing and when opening serial paths. */
  baudRate?: number;
  /** Lock release → door springs open, ms (default 50). */
  springMs?: number;
  /** Close an opened door by itself after this many ms; null/undefined = only a person closes it. */
  autoCloseMs?: number | null;
  /** Firmware version reported in ACK IDENT. */
  firmware?: string;
  /** Seed of the fault RNG (default 1). */
  seed?: number;
  /** Faults in force from the start. */
  faults?: FaultPatch;
  /** Physical state at power-on. */
  initial?: { items?: number[]; openDoors?: number[] };
  /**
   * When true, an UNLOCK while another coil of the same board is still pulsing gets NAK BUSY (PROTOCOL.md §7.3
   * step 4 calls this the usual board). Default false. An UNLOCK of a channel whose own pulse still runs is always BUSY.
   */
  singleCoil?: boolean;
  /**
   * When events go out. 'protocol' (default, PROTOCOL.md §11.3): never between a command and its reply; with more
   * than one board, only after the bus was quiet 150 ms + 4 ms × address. 'immediate': as soon as they happen.
   */
  busEvents?: 'protocol' | 'immediate';
  /** Clock used for the de-duplication window (ms); default performance.now() (monotonic, like the firmware's uptime). */
  clock?: () => number;
  /** How often a missing serial path is retried, ms (default 1000). */
  serialRetryMs?: number;
  /** How many recent frames the frame log keeps for late subscribers (default 200). */
  frameLogSize?: number;
}

export const simOptionsSchema = z.strictObject({
  board: z.enum(BOARD_FAMILIES as [BoardFamily, ...BoardFamily[]]).optional(),
  protocol: z.union([z.literal(1), z.literal(2)], { message: `protocol must be one of ${PROTOCOL_VERSIONS.join(', ')}` }).optional(),
  layout: z
    .union([layoutSchema, z.strictObject({ boards: z.number().int().min(1).max(MAX_ADDRESS), channels: z.number().int().min(1).max(MAX_CHANNELS) })])
    .optional(),
  polarity: z.enum(['nc', 'no']).optional(),
  baudRate: z
    .number()
    .refine((b) => (ALL_BAUD_RATES as readonly number[]).includes(b), { message: `baud rate must be one of ${ALL_BAUD_RATES.join(', ')}` })
    .optional(),
  springMs: z.number().int().min(0).max(MAX_DELAY_MS).optional(),
  autoCloseMs: z.number().int().min(1).max(3_600_000).nullable().optional(),
  firmware: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,24}$/, 'firmware must be 1-24 of A-Z a-z 0-9 . _ -')
    .optional(),
  seed: z.number().int().optional(),
  faults: faultPatchSchema.optional(),
  initial: z.strictObject({ items: z.array(z.number().int().min(1)).optional(), openDoors: z.array(z.number().int().min(1)).optional() }).optional(),
  singleCoil: z.boolean().optional(),
  busEvents: z.enum(['protocol', 'immediate']).optional(),
  clock: z.custom<() => number>((v) => typeof v === 'function').optional(),
  serialRetryMs: z.number().int().min(10).max(600_000).optional(),
  frameLogSize: z.number().int().min(0).max(100_000).optional(),
});

/** The first problem of a zod error as `{ field, message }`. */
export function firstIssue(error: z.ZodError): { field?: string; message: string } {
  const issue = error.issues[0];
  if (!issue) return { message: 'invalid input' };
  const field = issue.path.map(String).join('.');
  return field ? { field, message: issue.message } : { message: issue.message };
}
