/**
 * Group commit: writes that arrive together share one transaction, so one fsync makes all of them durable.
 *
 * Every commit of this store is synchronous=FULL: durable before anyone is told it happened — an fsync of a few
 * milliseconds on a quiet disk, tens on a busy one, during which the event loop waits. A burst of phone submissions
 * committed one by one is bounded by that (a hundred or so a second) and delays every other answer behind it.
 * `groupCommit` queues the write and runs everything queued in the same turn of the event loop in one transaction,
 * each write in its own savepoint (a write that throws is undone alone and its caller gets the error); the
 * promises settle after the COMMIT, so every caller is answered only once its write is durable — as before, only
 * fewer fsyncs. At most MAX_BATCH writes share a commit: a batch holds the event loop while it runs.
 *
 * For writes a person waits on but that need not be alone on the disk (submissions). A door flow's unlock path has
 * its own commits (holdCommit, db.ts) and never waits here.
 */
import { performance } from 'node:perf_hooks';
import { CabinetError } from '../errors.js';
import type { DB } from './db.js';

export const MAX_BATCH = 32;

interface Pending {
  readonly fn: () => unknown;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * How long a write waits for others while writes keep coming (the last commit less than BUSY_MS ago). A request
 * reaches its handler a few turns of the event loop after its bytes arrived, so writes that arrive together do not
 * meet in one turn; a short window gathers them. When the store is quiet a write commits at the next turn.
 */
export const WINDOW_MS = 2;
const BUSY_MS = 100;

const queues = new WeakMap<DB, Pending[]>();
const lastCommit = new WeakMap<DB, number>();

/** Runs `fn` (synchronous) in a transaction shared with the other writes queued in this turn; settles after COMMIT. */
export function groupCommit<T>(db: DB, fn: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let q = queues.get(db);
    if (!q) {
      q = [];
      queues.set(db, q);
      const busy = performance.now() - (lastCommit.get(db) ?? -Infinity) < BUSY_MS;
      if (busy) setTimeout(() => flush(db), WINDOW_MS);
      else setImmediate(() => flush(db));
    }
    q.push({ fn, resolve: resolve as (v: unknown) => void, reject });
  });
}

function flush(db: DB): void {
  const all = queues.get(db) ?? [];
  queues.delete(db);
  lastCommit.set(db, performance.now());
  const batch = all.slice(0, MAX_BATCH);
  const rest = all.slice(MAX_BATCH);
  if (rest.length > 0) {
    queues.set(db, rest);
    setImmediate(() => flush(db));
  }
  // Inside a transaction someone else holds (none should be open between turns): each write joins it alone.
  const own = !db.inTransaction;
  try {
    if (own) db.exec('BEGIN IMMEDIATE');
  } catch (e) {
    for (const p of batch) p.reject(e);
    return;
  }
  const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
  for (const p of batch) {
    db.exec('SAVEPOINT group_commit');
    try {
      const value = p.fn();
      if (value instanceof Promise) {
        value.catch(() => undefined);
        throw new CabinetError('ASYNC_IN_TRANSACTION', 'a grouped write must be synchronous');
      }
      db.exec('RELEASE group_commit');
      outcomes.push({ ok: true, value });
    } catch (error) {
      db.exec('ROLLBACK TO group_commit');
      db.exec('RELEASE group_commit');
      outcomes.push({ ok: false, error });
    }
  }
  if (own) {
    try {
      db.exec('COMMIT');
    } catch (e) {
      // an I/O error on COMMIT: outcome unknown for every write of the batch
      if (db.inTransaction) {
        try {
          db.exec('ROLLBACK');
        } catch {
          // already rolled back by SQLite
        }
      }
      for (const p of batch) p.reject(e);
      return;
    }
  }
  batch.forEach((p, i) => {
    const o = outcomes[i]!;
    if (o.ok) p.resolve(o.value);
    else p.reject(o.error);
  });
}
