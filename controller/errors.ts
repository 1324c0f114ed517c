/**
 * One error class for the controller, with codes in named groups. Callers switch on `code`,
 * never on message text; the HTTP layer maps codes to statuses.
 */
export const ErrorCodes = {
  // configuration (start-up)
  CONFIG_INVALID: 'CONFIG_INVALID',
  // the link to the lock boards
  LINK_TIMEOUT: 'LINK_TIMEOUT', // no reply within the deadline, after all retries
  LINK_NAK: 'LINK_NAK', // the board refused the command (reason in context)
  LINK_CRC: 'LINK_CRC', // a reply arrived but failed its CRC (counted; the command is retried)
  LINK_DISCONNECTED: 'LINK_DISCONNECTED', // the port went away while the command was pending
  LINK_OFFLINE: 'LINK_OFFLINE', // no port is open right now
  LINK_CLOSED: 'LINK_CLOSED', // the driver was stopped
  BOARD_REBOOTED: 'BOARD_REBOOTED', // the board rebooted while the command was in flight: outcome unknown
  BOARD_MISMATCH: 'BOARD_MISMATCH', // the board's protocol version or channel count is not what the layout says
  UNLOCK_EXPIRED: 'UNLOCK_EXPIRED', // the unlock could not be sent before its deadline and was dropped
  UNLOCK_RATE_LIMITED: 'UNLOCK_RATE_LIMITED', // more unlocks in a minute than the local cap allows
  NO_SUCH_COMPARTMENT: 'NO_SUCH_COMPARTMENT',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class CabinetError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly context: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'CabinetError';
  }
}

export function isCabinetError(e: unknown, code?: ErrorCode): e is CabinetError {
  return e instanceof CabinetError && (code === undefined || e.code === code);
}
