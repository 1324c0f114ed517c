/**
 * Structured logging (pino). Each part of the controller takes a child logger with its namespace,
 * e.g. `logger.child({ ns: 'link:serial' })`; serial traffic is logged at debug with its direction.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
}

/** A logger that writes nothing: for tests and embedded use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
