/**
 * Group commit: writes that arrive together share one transaction, and one fsync of the write-ahead log makes them
 * durable, off the event loop.
 *
 * Every other commit of this store is synchronous=FULL: SQLite fdatasyncs the log inside COMMIT, on the event loop
 * (better-sqlite3 is synchronous), so nothing else runs meanwhile — a few milliseconds on a quiet disk, tens on a
 * busy one. A burst of phone submissions committed that way is bounded by it and delays every other answer (a
 * pickup at the kiosk) behind it. `groupCommit` queues the write and runs everything queued in the same turn of the
 * event loop in one transaction, each write in its own savepoint (a write that throws is undone alone and its caller
 * gets the error). That transaction commits with synchronous=NORMAL (the log written, not yet synced; in WAL mode
 * the database stays consistent either way) and the connection is put back to FULL at once; then the log file is
 * fdatasynced on libuv's thread pool, and only when that sync — started after the COMMIT — is done do the promises
 * settle. So every caller is answered only once its write is durable, as before, while the event loop goes on
 * serving. Commits made while a sync is running wait for the next one, which covers them all
 * (docs/adr/0007-submission-log-sync.md). At most MAX_BATCH writes share a commit: a batch holds the event loop
 * while it runs.
 *
 * For writes a person waits on but that need not be alone on the disk (submissions). A door flow's unlock path has
 * its own commits (holdCommit, db.ts), always synchronous=FULL, and never waits here.
 */
import fs from 'node:fs';
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
  if (own) {
    // the level cannot change inside a transaction: NORMAL before BEGIN, FULL again after COMMIT or ROLLBACK
    setSynchronous(db, 'NORMAL');
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (e) {
      setSynchronous(db, 'FULL');
      for (const p of batch) p.reject(e);
      return;
    }
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
    } finally {
      setSynchronous(db, 'FULL');
    }
  }
  const settle = () =>
    batch.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o.ok) p.resolve(o.value);
      else p.reject(o.error);
    });
  // Inside a transaction someone else holds, that transaction's own commit makes the writes durable.
  if (!own || !outcomes.some((o) => o.ok)) return settle();
  logSynced(db).then(settle, (e: unknown) => {
    // the log could not be synced: the writes are committed but may not survive a power cut — outcome unknown
    for (const p of batch) p.reject(e);
  });
}

/**
 * The connection's synchronous level; a grouped commit is NORMAL, everything else FULL (the store's default). Not a
 * cached statement: SQLite applies this pragma when it compiles it. Should putting FULL back ever fail, the throw
 * ends the process (ADR 0003), and the next start opens the store at FULL, rather than door flows going on at NORMAL.
 */
function setSynchronous(db: DB, mode: 'NORMAL' | 'FULL'): void {
  db.exec(`PRAGMA synchronous = ${mode}`);
}

/** Makes the written data of a connection's write-ahead log durable (fdatasync), on libuv's thread pool. */
export type LogSync = (db: DB) => Promise<void>;

/**
 * The descriptor of each connection's `-wal` file, opened at its first grouped commit and kept: the connection keeps
 * its log for as long as it is open (only the last connection's close removes it), so one descriptor per connection
 * names the right file. Closed by `releaseLogSync` (Store.close) or at the first sync after the connection closed.
 */
const logFds = new WeakMap<DB, number>();

export const fdatasyncLog: LogSync = (db) =>
  new Promise<void>((resolve, reject) => {
    // Closed: closing checkpoints the log into the database file and syncs it before removing the log.
    if (!db.open) {
      releaseLogSync(db);
      return resolve();
    }
    const sync = (fd: number) => fs.fdatasync(fd, (e) => (e ? reject(e) : resolve()));
    const fd = logFds.get(db);
    if (fd !== undefined) return sync(fd);
    fs.open(`${db.name}-wal`, 'r', (e, opened) => {
      if (e) return reject(e);
      if (logFds.has(db) || !db.open) {
        // another sync opened it meanwhile, or the connection closed: use one descriptor, keep none of a closed one
        fs.close(opened, () => undefined);
        return db.open ? sync(logFds.get(db)!) : resolve();
      }
      logFds.set(db, opened);
      sync(opened);
    });
  });

/** Closes the log descriptor kept for this connection, if any (before or after the connection closes). */
export function releaseLogSync(db: DB): void {
  const fd = logFds.get(db);
  if (fd === undefined) return;
  logFds.delete(db);
  fs.close(fd, () => undefined);
}

let logSync: LogSync = fdatasyncLog;

/** Tests: replace how the log is synced (a controllable or failing sync); `null` puts the real one back. */
export function setLogSyncForTests(sync: LogSync | null): void {
  logSync = sync ?? fdatasyncLog;
}

interface SyncState {
  /** the sync running now */
  running: Promise<void> | null;
  /** the sync that starts when the running one ends, for the commits made while it runs */
  next: Promise<void> | null;
}
const syncs = new WeakMap<DB, SyncState>();

/**
 * Resolves once a sync of `db`'s write-ahead log that started after this call is done: everything committed
 * before the call is then durable. One sync runs at a time; commits made meanwhile share the next one.
 */
export function logSynced(db: DB): Promise<void> {
  if (db.memory) return Promise.resolve();
  let st = syncs.get(db);
  if (!st) syncs.set(db, (st = { running: null, next: null }));
  const state = st;
  const start = (): Promise<void> => {
    const p = logSync(db).finally(() => {
      if (state.running === p) state.running = null;
    });
    state.running = p;
    return p;
  };
  if (!state.running) return start();
  if (!state.next) {
    const after = state.running.then(
      () => undefined,
      () => undefined,
    );
    state.next = after.then(() => {
      state.next = null;
      return start();
    });
  }
  return state.next;
}
