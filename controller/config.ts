/**
 * Configuration from environment variables: every value documented with its default and range,
 * checked once at start-up. A bad value stops the start with a message naming the variable.
 */
import path from 'node:path';
import { z } from 'zod';
import {
  BAUD_RATES,
  DEFAULT_BAUD,
  DEFAULT_PULSE_MS,
  MAX_ADDRESS,
  MAX_CHANNELS,
  MAX_CHANNELS_V2,
  MAX_PULSE_MS,
  MIN_PULSE_MS,
} from '../firmware-protocol/index.js';
import { policyProblems, unlockPolicyFrom } from './domain/unlock-policy.js';
import { BOARD_FAMILIES, VENDOR_CODECS, type BoardFamily } from '../firmware-protocol/vendors/index.js';
import { readLayoutFile } from './board/layout-file.js';
import { defaultFace, MAX_GRID_SIDE, NUMBERINGS, type CabinetFace, type Numbering } from './domain/cabinet-face.js';
import { CabinetError, ErrorCodes } from './errors.js';

export type DoorPolarity = 'nc' | 'no';

export interface Layout {
  /** Boards in address order (1, 2, …) with their channel counts. */
  boards: { addr: number; channels: number }[];
  /**
   * Where each compartment (1..N, as painted on the doors) is wired, from LOCK_LAYOUT_FILE; absent =
   * compartments numbered across the boards in order. Channels not listed have no door.
   */
  compartments?: { compartment: number; addr: number; channel: number }[];
}

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** 'sim' | a device path | tcp://host:port */
  lockPort: string;
  /** Which lock-board family is on the bus: our protocol, or a vendor family through the adapter. */
  lockBoard: BoardFamily;
  lockBaud: number;
  /** Vendor boards: read the doors this often on an idle bus, ms. */
  vendorPollMs: number;
  /** False when the boards have no occupancy sensors (vendor families): the flows then go by the doors. */
  itemSensors: boolean;
  layout: Layout;
  /** How the doors sit on the cabinet's face, for the kiosk's drawing (CABINET_GRID, CABINET_NUMBERING). */
  cabinet: CabinetFace;
  doorPolarity: DoorPolarity;
  pulseMs: number;
  responseTimeoutMs: number;
  retries: number;
  pollMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  tamperWindowMs: number;
  simPanelPort: number;
  /** The protocol version the embedded simulator's native boards speak (LOCK_PORT=sim); 2 adds door-opening counts. */
  simProtocol: 1 | 2;
  /** Port of the kiosk listener (127.0.0.1 only): the cabinet's own screen. */
  kioskPort: number;
  logLevel: string;
  /** Base of links in QR codes and notifications; null = the controller's own address. */
  publicUrl: string | null;
  /** The residents' committee phone number the kiosk shows and speaks when the cabinet is out of service; null = none set. */
  committeePhone: string | null;
  /** Device key of a kiosk elsewhere on the network; null = only the kiosk listener is the kiosk. */
  kioskKey: string | null;
  overdueDays: number;
  /** Days after a resident's last request ended before their personal data is erased. */
  retentionDays: number;
  /** phone submissions per rolling hour across the cabinet; 0 = no such cap */
  submitMaxPerHour: number;
  unlockTtlMs: number;
  /** Unlocks allowed per rolling minute across the cabinet (local cap, against runaway or hostile callers). */
  unlockMaxPerMinute: number;
  doorOpenTimeoutMs: number;
  doorLeftOpenMs: number;
  /** null = no serial scanner (scans come from the kiosk page). */
  scannerPort: string | null;
  notifyWebhookUrl: string | null;
  /** Where backups go (absolute). */
  backupDir: string;
  /** 0 = no scheduled backups. */
  backupIntervalHours: number;
  backupKeep: number;
  /** While the database cannot be written: how often a write is tried again (StorageHealth). */
  storageRecheckMs: number;
}

/** name → [description, range, default, schema]: the single list of settings, also printed by `describeConfig`. */
const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const layoutSchema = z
  .string()
  .trim()
  .regex(/^\d+x\d+$/, 'must look like 1x24 (boards x channels)')
  .transform((s, ctx) => {
    const [b, c] = s.split('x').map(Number) as [number, number];
    if (b < 1 || b > MAX_ADDRESS) ctx.addIssue({ code: 'custom', message: `board count must be 1..${MAX_ADDRESS}` });
    if (c < 1 || c > MAX_CHANNELS) ctx.addIssue({ code: 'custom', message: `channels per board must be 1..${MAX_CHANNELS}` });
    return { boards: Array.from({ length: b }, (_, i) => ({ addr: i + 1, channels: c })) } satisfies Layout;
  });

const gridSchema = z.union([
  z.literal(''),
  z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^\d+x\d+$/, 'must look like 6x4 (columns x rows)')
    .transform((s, ctx) => {
      const [columns, rows] = s.split('x').map(Number) as [number, number];
      for (const [n, what] of [
        [columns, 'columns'],
        [rows, 'rows'],
      ] as const) {
        if (n < 1 || n > MAX_GRID_SIDE) ctx.addIssue({ code: 'custom', message: `${what} must be 1..${MAX_GRID_SIDE}` });
      }
      return { columns, rows };
    }),
]);

const lockPortSchema = z
  .string()
  .trim()
  .min(1)
  .refine(
    (s) => s === 'sim' || /^tcp:\/\/[^\s:/]+:\d{1,5}$/.test(s) || s.startsWith('/') || /^COM\d+$/i.test(s),
    'must be "sim", a device path such as /dev/ttyUSB0, or tcp://host:port',
  );

export const SETTINGS = {
  PORT: ['HTTP port of the controller', '0–65535', '3000', int(0, 65535)],
  HOST: [
    'address the HTTP server listens on (0.0.0.0 to serve phones on the network)',
    'an address of this machine',
    '127.0.0.1',
    z.string().trim().min(1),
  ],
  DATA_DIR: ['directory for the database and keys', 'a writable directory', './data', z.string().trim().min(1)],
  LOCK_PORT: ['lock board link: sim, a device path, or tcp://host:port', '`sim`, `/dev/…`, `tcp://host:port`', 'sim', lockPortSchema],
  LOCK_BOARD: [
    'lock-board family on the bus: our protocol, or a vendor board through the adapter (README, "A real cabinet")',
    BOARD_FAMILIES.map((f) => `\`${f}\``).join(', '),
    'native',
    z.enum(BOARD_FAMILIES as [BoardFamily, ...BoardFamily[]]),
  ],
  LOCK_BAUD: [
    'serial speed; empty = the family’s own: 9600 (native, 8a80), 19200 (kerong-cu48)',
    'native 9600, 115200; 8a80 9600; kerong-cu48 9600, 19200, 57600, 115200',
    '',
    z.union([z.literal(''), int(0, 1_000_000)]),
  ],
  LOCK_LAYOUT: ['boards x channels per board (ignored when LOCK_LAYOUT_FILE is set)', '1–31 boards x 1–48 channels', '1x24', layoutSchema],
  LOCK_LAYOUT_FILE: [
    'JSON file mapping each compartment number painted on a door to its board address and lock; locks without a door allowed (README, "A real cabinet"); empty = LOCK_LAYOUT',
    'a readable file',
    '',
    z
      .string()
      .trim()
      .transform((p, ctx) => {
        if (p === '') return null;
        const r = readLayoutFile(p);
        if (!r.ok) {
          ctx.addIssue({ code: 'custom', message: r.problems.join('; ') });
          return z.NEVER;
        }
        return r.layout;
      }),
  ],
  CABINET_GRID: [
    'how the doors sit on the cabinet, for the kiosk’s drawing: columns x rows as on the real cabinet; empty = 6 wide above 12 doors, else 4',
    '1–24 x 1–24, room for every door number',
    '',
    gridSchema,
  ],
  CABINET_NUMBERING: [
    'how the doors are numbered on the cabinet: rows = left to right along each row from the top, columns = top to bottom down each column from the left',
    '`rows`, `columns`',
    'rows',
    z.enum(NUMBERINGS),
  ],
  LOCK_DOOR_POLARITY: [
    'door switch: nc = contact closed while the door is shut, no = the reverse; vendor boards: nc = the lock reads set (8A/80 `11`, Kerong bit 1) while shut',
    '`nc`, `no`',
    'nc',
    z.enum(['nc', 'no']),
  ],
  LOCK_VENDOR_POLL_MS: [
    'vendor boards only: read the doors this often while the bus is idle, ms (100 sees a door open within 250 ms on one 24-lock board at 9600 Bd)',
    '20–5000',
    '100',
    int(20, 5000),
  ],
  LOCK_PULSE_MS: ['unlock pulse length, ms', '100–2000', String(DEFAULT_PULSE_MS), int(MIN_PULSE_MS, MAX_PULSE_MS)],
  LOCK_RESPONSE_TIMEOUT_MS: ['deadline for a board reply, ms', '50–10000', '500', int(50, 10_000)],
  LOCK_RETRIES: ['retransmissions of a command without reply', '0–5', '2', int(0, 5)],
  LOCK_POLL_MS: ['status poll (heartbeat) interval, ms', '200–60000', '3000', int(200, 60_000)],
  LOCK_RECONNECT_MIN_MS: ['first reconnect delay, ms', '50–60000', '500', int(50, 60_000)],
  LOCK_RECONNECT_MAX_MS: ['longest reconnect delay, ms', '100–300000', '10000', int(100, 300_000)],
  LOCK_TAMPER_WINDOW_MS: [
    'a door opening later than this after its unlock was sent or answered is not explained by it (tamper alarm); at least DOOR_OPEN_TIMEOUT_MS, ms',
    '500–120000',
    '10000',
    int(500, 120_000),
  ],
  SIM_PANEL_PORT: ['developer panel port of the embedded simulator (LOCK_PORT=sim), 0 = any free port', '0–65535', '3001', int(0, 65535)],
  SIM_PROTOCOL: [
    'lock board protocol version the embedded simulator speaks (LOCK_PORT=sim, native boards); 2 adds per-door opening counts to STATUS (boards of at most 32 channels)',
    '1 or 2',
    '1',
    z.enum(['1', '2'], { message: 'must be 1 or 2' }).transform((v) => (v === '2' ? 2 : 1)),
  ],
  PUBLIC_URL: [
    'base URL of the phone pages, used in QR codes and notifications',
    'an http(s) URL',
    '',
    z.union([z.literal(''), z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })]),
  ],
  COMMITTEE_PHONE: [
    'phone number of the residents’ committee, shown and spoken by the kiosk when the cabinet is out of service (digits, spaces and -)',
    'empty or 3–20 characters',
    '',
    z.union([z.literal(''), z.string().regex(/^[0-9][0-9 -]{1,18}[0-9]$/, 'must be digits, spaces and - (3–20 characters)')]),
  ],
  KIOSK_PORT: [
    'port of the kiosk listener, bound to 127.0.0.1 only: the cabinet’s own screen opens /kiosk here (see Security), 0 = any free port',
    '0–65535',
    '3002',
    int(0, 65535),
  ],
  KIOSK_KEY: [
    'device key a kiosk elsewhere on the network sends (X-Kiosk-Key) to PORT; empty = only the kiosk listener is the kiosk',
    'empty or 24–128 characters',
    '',
    z.union([z.literal(''), z.string().min(24, 'must be at least 24 characters').max(128)]),
  ],
  OVERDUE_DAYS: ['days after loading when an uncollected document becomes overdue (its code stays valid)', '1–60', '7', int(1, 60)],
  RETENTION_DAYS: [
    'days after all of a resident’s requests ended before their personal data is erased (records stay, anonymous)',
    '30–3650',
    '180',
    int(30, 3650),
  ],
  SUBMIT_MAX_PER_HOUR: [
    'requests accepted from the phone pages per rolling hour across the whole cabinet (0: no such cap; the limits per address and per phone number stay)',
    '0–100000',
    '300',
    int(0, 100_000),
  ],
  UNLOCK_TTL_MS: [
    'an unlock not sent within this time is dropped, never sent late; at least (LOCK_RETRIES + 1) × LOCK_RESPONSE_TIMEOUT_MS, ms',
    '1000–30000',
    '5000',
    int(1000, 30_000),
  ],
  UNLOCK_MAX_PER_MINUTE: ['unlocks allowed per rolling minute across the whole cabinet; more are refused', '1–60', '20', int(1, 60)],
  DOOR_OPEN_TIMEOUT_MS: ['how long to wait for a door to open after its unlock, ms', '1000–30000', '5000', int(1000, 30_000)],
  DOOR_LEFT_OPEN_MS: ['alarm when a door stays open longer than this, ms', '10000–600000', '60000', int(10_000, 600_000)],
  SCANNER_PORT: [
    'serial QR scanner: a device path or tcp://host:port; empty = none',
    '`/dev/…`, `tcp://host:port`',
    '',
    z.union([z.literal(''), lockPortSchema.refine((s) => s !== 'sim', 'must be a device path or tcp://host:port')]),
  ],
  NOTIFY_WEBHOOK_URL: [
    'notifications are POSTed here (SMS/WeChat gateway); empty = written to the log',
    'an http(s) URL',
    '',
    z.union([z.literal(''), z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })]),
  ],
  BACKUP_DIR: ['folder for database backups (a USB stick’s folder, say); empty = DATA_DIR/backups', 'a writable directory', '', z.string().trim()],
  BACKUP_INTERVAL_HOURS: [
    'hours between automatic backups while running; 0 = none (a backup is still taken before every schema upgrade)',
    '0–168',
    '24',
    int(0, 168),
  ],
  BACKUP_KEEP: ['backups kept in BACKUP_DIR; older ones are removed', '1–365', '14', int(1, 365)],
  STORAGE_RECHECK_MS: ['while the database cannot be written, how often it is tried again, ms', '200–60000', '5000', int(200, 60_000)],
  LOG_LEVEL: [
    'fatal, error, warn, info, debug or trace',
    'fatal … trace, silent',
    'info',
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  ],
} as const;

type SettingName = keyof typeof SETTINGS;

/** Parse the environment. Throws CabinetError(CONFIG_INVALID) listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const problems: string[] = [];
  const values: Partial<Record<SettingName, unknown>> = {};
  for (const [name, [, , def, schema]] of Object.entries(SETTINGS) as [SettingName, (typeof SETTINGS)[SettingName]][]) {
    const raw = env[name] === undefined || env[name] === '' ? def : env[name]!;
    const r = (schema as z.ZodType).safeParse(raw);
    if (r.success) values[name] = r.data;
    else problems.push(`${name}=${JSON.stringify(raw)}: ${r.error.issues.map((i) => i.message).join('; ')}`);
  }
  if (problems.length === 0 && (values.LOCK_RECONNECT_MIN_MS as number) > (values.LOCK_RECONNECT_MAX_MS as number)) {
    problems.push('LOCK_RECONNECT_MIN_MS must not be larger than LOCK_RECONNECT_MAX_MS');
  }
  if (problems.length === 0) problems.push(...unlockPolicyWords(values));
  const family = values.LOCK_BOARD as BoardFamily | undefined;
  let baud = values.LOCK_BAUD as number | '' | undefined;
  const layout = (values.LOCK_LAYOUT_FILE as Layout | null | undefined) ?? (values.LOCK_LAYOUT as Layout | undefined);
  if (family !== undefined && baud !== undefined) {
    const allowed: readonly number[] = family === 'native' ? BAUD_RATES : VENDOR_CODECS[family].bauds;
    if (baud === '') baud = family === 'native' ? DEFAULT_BAUD : VENDOR_CODECS[family].defaultBaud;
    else if (!allowed.includes(baud)) problems.push(`LOCK_BAUD=${JSON.stringify(env.LOCK_BAUD)}: ${family} boards run at ${allowed.join(', ')}`);
  }
  if (family !== undefined && family !== 'native' && layout) {
    const max = VENDOR_CODECS[family].maxLocks;
    const wide = layout.boards.find((b) => b.channels > max);
    if (wide)
      problems.push(
        `${values.LOCK_LAYOUT_FILE ? 'LOCK_LAYOUT_FILE' : 'LOCK_LAYOUT'}: board ${wide.addr} has ${wide.channels} locks; a ${family} board has at most ${max}`,
      );
  }
  if (values.SIM_PROTOCOL === 2 && values.LOCK_PORT === 'sim') {
    if (family !== undefined && family !== 'native') problems.push(`SIM_PROTOCOL=2: protocol version 2 is for native boards, not ${family}`);
    const wide = layout?.boards.find((b) => b.channels > MAX_CHANNELS_V2);
    if (wide) problems.push(`SIM_PROTOCOL=2: board ${wide.addr} has ${wide.channels} channels; a version 2 board has at most ${MAX_CHANNELS_V2}`);
  }
  const cabinet = layout ? cabinetFace(layout, values.CABINET_GRID as { columns: number; rows: number } | '' | undefined, problems) : null;
  if (cabinet && values.CABINET_NUMBERING !== undefined) cabinet.numbering = values.CABINET_NUMBERING as Numbering;
  if (problems.length > 0) {
    throw new CabinetError(ErrorCodes.CONFIG_INVALID, `Invalid configuration:\n  ${problems.join('\n  ')}`, { count: problems.length });
  }
  return {
    port: values.PORT as number,
    host: values.HOST as string,
    dataDir: path.resolve(values.DATA_DIR as string),
    lockPort: values.LOCK_PORT as string,
    lockBoard: family!,
    lockBaud: baud as number,
    vendorPollMs: values.LOCK_VENDOR_POLL_MS as number,
    itemSensors: family === 'native',
    layout: layout!,
    cabinet: cabinet!,
    doorPolarity: values.LOCK_DOOR_POLARITY as DoorPolarity,
    pulseMs: values.LOCK_PULSE_MS as number,
    responseTimeoutMs: values.LOCK_RESPONSE_TIMEOUT_MS as number,
    retries: values.LOCK_RETRIES as number,
    pollMs: values.LOCK_POLL_MS as number,
    reconnectMinMs: values.LOCK_RECONNECT_MIN_MS as number,
    reconnectMaxMs: values.LOCK_RECONNECT_MAX_MS as number,
    tamperWindowMs: values.LOCK_TAMPER_WINDOW_MS as number,
    simPanelPort: values.SIM_PANEL_PORT as number,
    simProtocol: values.SIM_PROTOCOL as 1 | 2,
    kioskPort: values.KIOSK_PORT as number,
    logLevel: values.LOG_LEVEL as string,
    publicUrl: (values.PUBLIC_URL as string) === '' ? null : (values.PUBLIC_URL as string).replace(/\/+$/, ''),
    committeePhone: (values.COMMITTEE_PHONE as string) === '' ? null : (values.COMMITTEE_PHONE as string),
    kioskKey: (values.KIOSK_KEY as string) === '' ? null : (values.KIOSK_KEY as string),
    overdueDays: values.OVERDUE_DAYS as number,
    retentionDays: values.RETENTION_DAYS as number,
    submitMaxPerHour: values.SUBMIT_MAX_PER_HOUR as number,
    unlockTtlMs: values.UNLOCK_TTL_MS as number,
    unlockMaxPerMinute: values.UNLOCK_MAX_PER_MINUTE as number,
    doorOpenTimeoutMs: values.DOOR_OPEN_TIMEOUT_MS as number,
    doorLeftOpenMs: values.DOOR_LEFT_OPEN_MS as number,
    scannerPort: (values.SCANNER_PORT as string) === '' ? null : (values.SCANNER_PORT as string),
    notifyWebhookUrl: (values.NOTIFY_WEBHOOK_URL as string) === '' ? null : (values.NOTIFY_WEBHOOK_URL as string),
    backupDir:
      (values.BACKUP_DIR as string) === ''
        ? path.join(path.resolve(values.DATA_DIR as string), 'backups')
        : path.resolve(values.BACKUP_DIR as string),
    backupIntervalHours: values.BACKUP_INTERVAL_HOURS as number,
    backupKeep: values.BACKUP_KEEP as number,
    storageRecheckMs: values.STORAGE_RECHECK_MS as number,
  };
}

/** The highest door number the layout has: the drawing needs a place for each door up to it. */
function highestDoor(layout: Layout): number {
  if (layout.compartments) return Math.max(0, ...layout.compartments.map((c) => c.compartment));
  return layout.boards.reduce((n, b) => n + b.channels, 0);
}

/** CABINET_GRID for this layout (its default when empty); a grid without a place for every door is a problem. */
function cabinetFace(
  layout: Layout,
  grid: { columns: number; rows: number } | '' | undefined,
  problems: string[],
): { -readonly [K in keyof CabinetFace]: CabinetFace[K] } | null {
  const doors = highestDoor(layout);
  if (grid === undefined) return null;
  if (grid === '') return { ...defaultFace(doors) };
  if (grid.columns * grid.rows < doors) {
    problems.push(
      `CABINET_GRID=${grid.columns}x${grid.rows}: ${grid.columns * grid.rows} places for doors numbered up to ${doors} (LOCK_LAYOUT / LOCK_LAYOUT_FILE); give columns x rows as on the cabinet`,
    );
    return null;
  }
  return { ...grid, numbering: 'rows' };
}

/** The unlock policy's own rules (domain/unlock-policy.ts), in words naming the settings involved. */
function unlockPolicyWords(values: Partial<Record<SettingName, unknown>>): string[] {
  const n = (name: SettingName) => values[name] as number;
  const policy = unlockPolicyFrom({
    unlockTtlMs: n('UNLOCK_TTL_MS'),
    retries: n('LOCK_RETRIES'),
    responseTimeoutMs: n('LOCK_RESPONSE_TIMEOUT_MS'),
    unlockMaxPerMinute: n('UNLOCK_MAX_PER_MINUTE'),
    tamperWindowMs: n('LOCK_TAMPER_WINDOW_MS'),
    lockBoard: values.LOCK_BOARD as BoardFamily,
  });
  const deadline =
    policy.replyDeadlineMs === n('LOCK_RESPONSE_TIMEOUT_MS')
      ? 'LOCK_RESPONSE_TIMEOUT_MS'
      : 'the reply deadline (LOCK_RESPONSE_TIMEOUT_MS × 2 + 100 through the LOCK_BOARD adapter)';
  const attempts = `(LOCK_RETRIES + 1) × ${deadline} = ${policy.retries + 1} × ${policy.replyDeadlineMs} ms`;
  return policyProblems(policy, n('DOOR_OPEN_TIMEOUT_MS')).map((p) => {
    switch (p.code) {
      case 'TTL_BELOW_RETRY_SPAN':
        return `UNLOCK_TTL_MS=${p.ttlMs} is shorter than ${attempts} = ${p.retrySpanMs} ms: an unanswered unlock would routinely end with its outcome unknown. Raise UNLOCK_TTL_MS or lower LOCK_RETRIES / LOCK_RESPONSE_TIMEOUT_MS`;
      case 'RETRY_SPAN_OVER_DEDUP':
        return `${attempts} = ${p.retrySpanMs} ms reaches the boards' ${p.dedupWindowMs} ms de-duplication window: a late retransmission could open a door twice. Lower LOCK_RETRIES or LOCK_RESPONSE_TIMEOUT_MS`;
      case 'TAMPER_WINDOW_BELOW_DOOR_WAIT':
        return `LOCK_TAMPER_WINDOW_MS=${p.tamperWindowMs} is shorter than DOOR_OPEN_TIMEOUT_MS=${p.doorOpenTimeoutMs}: a door opening while the controller still waits for it would count as tamper`;
    }
  });
}

/** The settings table as Markdown, for the README and `--help`. */
export function describeConfig(): string {
  const rows = Object.entries(SETTINGS).map(
    ([name, [desc, range, def]]) => `| \`${name}\` | ${desc} | ${range} | ${def === '' ? '(empty)' : `\`${def}\``} |`,
  );
  return ['| variable | meaning | range | default |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
