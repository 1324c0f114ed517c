/**
 * One error class for the whole controller, with codes in named groups. Callers switch on
 * `code`, never on message text; the HTTP layer maps codes to statuses. `context` carries ids
 * and numbers only: never a pickup code, PIN or ID number.
 */
import { say } from './words/catalogue.js';
import { errorSaid, type Said } from './words/keys.js';

export const ERROR_CODES = {
  // start-up: configuration, data directory, key file, schema
  startup: [
    'CONFIG_INVALID',
    'KEY_FILE_INVALID',
    'KEY_FILE_PERMISSIONS',
    'KEY_MISMATCH',
    'DB_TOO_NEW',
    'DB_PRAGMA_FAILED',
    'DB_PERMISSIONS',
    'DB_MIGRATION_FAILED',
    'LISTEN_FAILED',
  ],
  // the link to the lock boards
  link: [
    'LINK_TIMEOUT', // no reply within the deadline, after all retries
    'LINK_NAK', // the board refused the command (reason in context)
    'LINK_DISCONNECTED', // the port went away while the command was pending
    'LINK_OFFLINE', // no port is open right now
    'LINK_CLOSED', // the driver was stopped
    'BOARD_REBOOTED', // the board rebooted while the command was in flight: outcome unknown
    'BOARD_MISMATCH', // the board's protocol version or channel count is not what the layout says
    'UNLOCK_EXPIRED', // the unlock could not be sent before its deadline and was dropped: no byte of it went out
    'UNLOCK_UNCONFIRMED', // the unlock went out but was not acknowledged before its deadline: outcome unknown
    'NO_SUCH_COMPARTMENT',
  ],
  // input and lookups
  input: ['VALIDATION', 'NOT_FOUND', 'DUPLICATE'],
  // request life cycle
  request: [
    'TRANSITION_NOT_ALLOWED',
    'ACTOR_NOT_ALLOWED',
    'REASON_REQUIRED',
    'SERVICE_DISABLED',
    'RESIDENT_DETAILS_MISSING',
    'COMPARTMENT_NOT_RESERVED',
  ],
  // compartments and doors
  cabinet: ['COMPARTMENT_STATE', 'LAYOUT_CONFLICT', 'UNLOCK_RATE_LIMITED', 'UNLOCK_ALREADY_PENDING'],
  // staff alarms
  alarm: ['ALARM_ALREADY_ACKNOWLEDGED'],
  // credentials and accounts
  auth: ['CODE_SPACE_EXHAUSTED', 'PIN_POLICY'],
  // backups, restore and the health check of the installation
  ops: ['BACKUP_FAILED', 'RESTORE_REFUSED', 'STORAGE_UNAVAILABLE'],
  // programming errors that must never reach a user
  internal: ['ASYNC_IN_TRANSACTION', 'DATA_CORRUPT'],
} as const;

export type ErrorGroup = keyof typeof ERROR_CODES;
export type CabinetErrorCode = (typeof ERROR_CODES)[ErrorGroup][number];
/** Each code by name, for call sites: ErrorCodes.LINK_TIMEOUT === 'LINK_TIMEOUT'. */
export const ErrorCodes = Object.fromEntries(
  Object.values(ERROR_CODES)
    .flat()
    .map((c) => [c, c]),
) as { readonly [K in CabinetErrorCode]: K };
export type ErrorCode = CabinetErrorCode;

/** What a user reads for an error: its particular sentence, or its code's generic words. */
export function saidOf(err: CabinetError): Said {
  return err.said ?? errorSaid(`error.${err.code}`);
}

export type ErrorContext = Readonly<Record<string, string | number | boolean | null | undefined>>;

/**
 * `what` is either a developer's message for the log (English; a user then reads the code's generic words,
 * `error.<CODE>` in the word catalogue) or a Said: the particular sentence a user reads, by key and parameters,
 * turned into words at the edge (the log gets its English words).
 */
export class CabinetError extends Error {
  /** What a user is told, when more particular than the code's generic words. */
  readonly said: Said | undefined;
  constructor(
    readonly code: CabinetErrorCode,
    what: string | Said,
    readonly context: ErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(typeof what === 'string' ? what : say(what, 'en'), options);
    this.said = typeof what === 'string' ? undefined : what;
    this.name = 'CabinetError';
  }
}

export function isCabinetError(err: unknown, code?: CabinetErrorCode): err is CabinetError {
  return err instanceof CabinetError && (code === undefined || err.code === code);
}

export function errorGroup(code: CabinetErrorCode): ErrorGroup {
  for (const [group, codes] of Object.entries(ERROR_CODES) as [ErrorGroup, readonly string[]][]) if (codes.includes(code)) return group;
  return 'internal';
}
