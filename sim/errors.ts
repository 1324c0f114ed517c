/**
 * One error class for the simulator. Callers (the panel API, tests) switch on `code`, never on the message.
 */
export const SimErrorCodes = {
  BAD_CONFIG: 'BAD_CONFIG', // a constructor or CLI option is out of range
  NO_SUCH_COMPARTMENT: 'NO_SUCH_COMPARTMENT',
  NO_SUCH_BOARD: 'NO_SUCH_BOARD',
  DOOR_ALREADY_OPEN: 'DOOR_ALREADY_OPEN',
  DOOR_ALREADY_CLOSED: 'DOOR_ALREADY_CLOSED',
  DOOR_CLOSED: 'DOOR_CLOSED', // items go in and out only while the door is open
  ITEM_ALREADY_PRESENT: 'ITEM_ALREADY_PRESENT',
  NO_ITEM: 'NO_ITEM',
  BAD_SCAN: 'BAD_SCAN', // scan text empty, too long or with control characters
  DISCONNECTED: 'DISCONNECTED', // the sim is disconnected: no new links until reconnect()
  CLOSED: 'CLOSED', // the sim was closed
} as const;
export type SimErrorCode = (typeof SimErrorCodes)[keyof typeof SimErrorCodes];

export class SimError extends Error {
  constructor(
    readonly code: SimErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'SimError';
  }
}

export function isSimError(e: unknown, code?: SimErrorCode): e is SimError {
  return e instanceof SimError && (code === undefined || e.code === code);
}
