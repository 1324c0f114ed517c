/**
 * Command-line options of `npm run sim`, parsed with node:util parseArgs and validated with zod.
 * Pure: argv in, options or an error message out (main.ts prints it and exits with code 2).
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEFAULT_BAUD, MAX_CHANNELS_V2, type ProtocolVersion } from '../firmware-protocol/index.js';
import { BOARD_FAMILIES, type BoardFamily } from '../firmware-protocol/vendors/index.js';
import { DEFAULT_LAYOUT, DEFAULT_SEED, familyBauds, firstIssue, layoutSchema, MAX_DELAY_MS, type Layout, type Polarity } from './config.js';
import { DEFAULT_PANEL_HOST, DEFAULT_PANEL_PORT } from './panel/server.js';

export type Address = { kind: 'tcp'; host: string; port: number } | { kind: 'serial'; path: string };

export interface CliOptions {
  /** The board family the simulated boards speak (LOCK_BOARD's values). */
  board: BoardFamily;
  /** The version of our protocol native boards speak (1 or 2). */
  protocol: ProtocolVersion;
  listen: Address[];
  scanner: Address | null;
  layout: Layout;
  polarity: Polarity;
  baudRate: number;
  panel: { host: string; port: number } | null;
  autoCloseMs: number | null;
  springMs: number | null;
  drop: number;
  corrupt: number;
  delayMs: number;
  pacing: boolean;
  seed: number;
  logFrames: boolean;
}

export const DEFAULT_LISTEN = 'tcp://127.0.0.1:7001';

export const USAGE = `Usage: npm run sim -- [options]

  --listen ADDR        where the controller reaches the lock bus: tcp://HOST:PORT or a serial/pty path
                       (repeatable; default ${DEFAULT_LISTEN})
  --board FAMILY       what the boards speak: ${BOARD_FAMILIES.join(', ')} (default native: our protocol);
                       the same values as the controller's LOCK_BOARD
  --protocol 1|2       version of our protocol the native boards speak (default 1); 2 adds per-channel
                       door-opening counts to STATUS (PROTOCOL.md §21; at most ${MAX_CHANNELS_V2} channels a board)
  --layout BxC         boards x channels, e.g. 1x24 (default) or 2x12
  --polarity nc|no     door-switch polarity (default nc: contact closed while the door is shut)
  --baud RATE          line speed (default the family's: ${DEFAULT_BAUD}, kerong-cu48 19200); for serial paths and pacing
  --pacing             emit bytes at baud/10 per second, like a real wire
  --panel HOST:PORT    developer panel address (default ${DEFAULT_PANEL_HOST}:${DEFAULT_PANEL_PORT}); "off" for none
  --auto-close-ms MS   close opened doors by themselves after MS (default: only a person closes them)
  --spring-ms MS       lock release → door springs open (default 50)
  --drop FRACTION      drop this fraction (0..1) of frames in each direction
  --corrupt FRACTION   corrupt one bit in this fraction (0..1) of frames in each direction
  --delay-ms MS        delay every reply by MS
  --seed N             seed for dropped/corrupted frames (default ${DEFAULT_SEED})
  --scanner ADDR       QR scanner output: tcp://HOST:PORT or a serial/pty path
  --log-frames         print every frame in and out
  --help               this text
`;

const TCP_RE = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;

export function parseAddress(text: string): Address | null {
  const m = TCP_RE.exec(text);
  if (m) {
    const port = Number(m[2]);
    if (port > 65535) return null;
    return { kind: 'tcp', host: m[1]!.replace(/^\[|\]$/g, ''), port };
  }
  if (text.includes('://') || text.trim() === '' || text.startsWith('-')) return null;
  return { kind: 'serial', path: text };
}

export function formatAddress(a: Address): string {
  return a.kind === 'tcp' ? `tcp://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}` : a.path;
}

const addressSchema = z.string().transform((s, ctx) => {
  const a = parseAddress(s);
  if (!a) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is neither tcp://HOST:PORT nor a device path` });
    return z.NEVER;
  }
  return a;
});
const number = (what: string) =>
  z
    .string()
    .regex(/^-?[0-9]+(\.[0-9]+)?$/, `${what} must be a number`)
    .transform(Number);
const fraction = (what: string) => number(what).pipe(z.number().min(0, `${what} must be between 0 and 1`).max(1, `${what} must be between 0 and 1`));
const ms = (what: string, min: number) =>
  number(what).pipe(
    z
      .number()
      .int(`${what} must be a whole number`)
      .min(min, `${what} must be at least ${min}`)
      .max(MAX_DELAY_MS, `${what} must be at most ${MAX_DELAY_MS}`),
  );

const schema = z.object({
  listen: z.array(addressSchema).prefault([DEFAULT_LISTEN]),
  scanner: addressSchema.optional(),
  layout: layoutSchema.prefault(DEFAULT_LAYOUT),
  polarity: z.enum(['nc', 'no'], { message: 'polarity must be nc or no' }).default('nc'),
  board: z
    .enum(BOARD_FAMILIES as [BoardFamily, ...BoardFamily[]], { message: `board must be one of ${BOARD_FAMILIES.join(', ')}` })
    .default('native'),
  protocol: z.enum(['1', '2'], { message: 'protocol must be 1 or 2' }).default('1'),
  baud: number('baud').optional(),
  pacing: z.boolean().default(false),
  panel: z
    .string()
    .prefault(`${DEFAULT_PANEL_HOST}:${DEFAULT_PANEL_PORT}`)
    .transform((s, ctx) => {
      if (s === 'off' || s === 'none') return null;
      const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/.exec(s);
      if (!m || Number(m[2]) > 65535) {
        ctx.addIssue({ code: 'custom', message: `panel must be HOST:PORT (or off), got "${s}"` });
        return z.NEVER;
      }
      return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
    }),
  'auto-close-ms': ms('auto-close-ms', 1).optional(),
  'spring-ms': ms('spring-ms', 0).optional(),
  drop: fraction('drop').default(0),
  corrupt: fraction('corrupt').default(0),
  'delay-ms': ms('delay-ms', 0).default(0),
  seed: number('seed').pipe(z.number().int('seed must be a whole number')).default(DEFAULT_SEED),
  'log-frames': z.boolean().default(false),
  help: z.boolean().default(false),
});

export type CliResult = { ok: true; options: CliOptions } | { ok: false; help: true } | { ok: false; help?: false; error: string };

export function parseCli(argv: string[]): CliResult {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        listen: { type: 'string', multiple: true },
        scanner: { type: 'string' },
        layout: { type: 'string' },
        board: { type: 'string' },
        protocol: { type: 'string' },
        polarity: { type: 'string' },
        baud: { type: 'string' },
        pacing: { type: 'boolean' },
        panel: { type: 'string' },
        'auto-close-ms': { type: 'string' },
        'spring-ms': { type: 'string' },
        drop: { type: 'string' },
        corrupt: { type: 'string' },
        'delay-ms': { type: 'string' },
        seed: { type: 'string' },
        'log-frames': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  const r = schema.safeParse(values);
  if (!r.success) {
    const { field, message } = firstIssue(r.error);
    return { ok: false, error: field ? `--${field.split('.')[0]}: ${message}` : message };
  }
  const v = r.data;
  if (v.help) return { ok: false, help: true };
  const family = familyBauds(v.board);
  const baud = v.baud ?? family.defaultBaud;
  if (!family.bauds.includes(baud)) return { ok: false, error: `--baud: ${v.board} boards run at ${family.bauds.join(', ')}` };
  const protocol: ProtocolVersion = v.protocol === '2' ? 2 : 1;
  if (protocol === 2 && v.board !== 'native') return { ok: false, error: `--protocol: version 2 is for native boards, not ${v.board}` };
  if (protocol === 2 && v.layout.channels > MAX_CHANNELS_V2) {
    return { ok: false, error: `--protocol: a version 2 board has at most ${MAX_CHANNELS_V2} channels, the layout has ${v.layout.channels}` };
  }
  return {
    ok: true,
    options: {
      board: v.board,
      protocol,
      listen: v.listen,
      scanner: v.scanner ?? null,
      layout: v.layout,
      polarity: v.polarity,
      baudRate: baud,
      panel: v.panel,
      autoCloseMs: v['auto-close-ms'] ?? null,
      springMs: v['spring-ms'] ?? null,
      drop: v.drop,
      corrupt: v.corrupt,
      delayMs: v['delay-ms'],
      pacing: v.pacing,
      seed: v.seed,
      logFrames: v['log-frames'],
    },
  };
}
