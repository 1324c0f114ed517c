/**
 * One error class for the store and the domain, with codes in named groups, so callers (the flows, later the HTTP
 * layer) switch on `code` and never parse messages. `context` carries ids only: never a code, PIN or ID number.
 */

export const ERROR_CODES = {
  // start-up: data directory, key file, schema
  startup: ['KEY_FILE_INVALID', 'KEY_FILE_PERMISSIONS', 'KEY_MISMATCH', 'DB_TOO_NEW', 'DB_PRAGMA_FAILED', 'DB_MIGRATION_FAILED'],
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
  // credentials and accounts
  auth: ['CODE_SPACE_EXHAUSTED', 'PIN_POLICY'],
  // programming errors that must never reach a user
  internal: ['ASYNC_IN_TRANSACTION', 'DATA_CORRUPT'],
} as const;

export type ErrorGroup = keyof typeof ERROR_CODES;
export type CabinetErrorCode = (typeof ERROR_CODES)[ErrorGroup][number];

export type ErrorContext = Readonly<Record<string, string | number | boolean | null | undefined>>;

export class CabinetError extends Error {
  constructor(
    readonly code: CabinetErrorCode,
    message: string,
    readonly context: ErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CabinetError';
  }
}

export function isCabinetError(err: unknown, code?: CabinetErrorCode): err is CabinetError {
  return err instanceof CabinetError && (code === undefined || err.code === code);
}
