/**
 * What every repository function needs: the database, the derived keys and the clock.
 * `openStore` builds it; tests build it with a fixed clock.
 */
import type { Clock } from '../domain/types.js';
import type { DB } from './db.js';
import type { ServerKeys } from './secrets.js';

export interface StoreContext {
  readonly db: DB;
  readonly keys: ServerKeys;
  readonly now: Clock;
  /**
   * Minutes east of UTC used for the local date in request numbers (480 for China Standard Time);
   * null = the process's local time zone.
   */
  readonly utcOffsetMinutes: number | null;
}

/** YYYYMMDD of `ms` in the context's local time. */
export function localDateKey(ms: number, utcOffsetMinutes: number | null): string {
  let y: number, m: number, d: number;
  if (utcOffsetMinutes === null) {
    const t = new Date(ms);
    (y = t.getFullYear()), (m = t.getMonth() + 1), (d = t.getDate());
  } else {
    const t = new Date(ms + utcOffsetMinutes * 60_000);
    (y = t.getUTCFullYear()), (m = t.getUTCMonth() + 1), (d = t.getUTCDate());
  }
  return `${String(y).padStart(4, '0')}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}`;
}

/** YYYY-MM-DD HH:MM of `ms` in the context's local time (a time told to people, e.g. in an alarm). */
export function localDateTime(ms: number, utcOffsetMinutes: number | null): string {
  const t = utcOffsetMinutes === null ? new Date(ms - new Date(ms).getTimezoneOffset() * 60_000) : new Date(ms + utcOffsetMinutes * 60_000);
  return t.toISOString().slice(0, 16).replace('T', ' ');
}
