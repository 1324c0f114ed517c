/**
 * Opening the database: pragmas on every open, schema migrations at start-up, and `inTransaction`.
 *
 * better-sqlite3 is synchronous, and so are its transactions: nothing inside `inTransaction` may await. Work that
 * waits (scrypt, HTTP) happens before or after, never in between a transaction's statements.
 *
 * An SQLite I/O error on COMMIT means "outcome unknown", not "not written" (see isOutcomeUnknown): the caller
 * should stop and let start-up reconciliation look at what the database says.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CabinetError } from '../errors.js';
import { MIGRATIONS, type Migration } from './migrations.js';

export type DB = Database.Database;

export const DB_FILE = 'cabinet.sqlite3';
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

export interface OpenDatabaseOptions {
  /** Directory holding the database (created with mode 0700 if missing). */
  readonly dataDir: string;
  /** File name inside dataDir. Default `cabinet.sqlite3`. */
  readonly fileName?: string;
  /** How long a statement waits for another connection's lock, 0–60000 ms. Default 5000. */
  readonly busyTimeoutMs?: number;
  /** The migration list; only tests pass something else. */
  readonly migrations?: readonly Migration[];
  /**
   * Called before pending migrations run on a database that already has a schema (not on a new one), outside any
   * transaction: the place for a backup. Throwing stops the open and leaves the database untouched.
   */
  readonly beforeMigrate?: BeforeMigrate;
}

export type BeforeMigrate = (db: DB, from: number, to: number) => void;

/** The pragmas we depend on, read back after open. */
export interface PragmaState {
  readonly journalMode: string;
  /** 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA */
  readonly synchronous: number;
  readonly foreignKeys: number;
  readonly busyTimeout: number;
  readonly secureDelete: number;
  readonly userVersion: number;
}

export function readPragmas(db: DB): PragmaState {
  const num = (name: string): number => Number(db.pragma(name, { simple: true }));
  return {
    journalMode: String(db.pragma('journal_mode', { simple: true })),
    synchronous: num('synchronous'),
    foreignKeys: num('foreign_keys'),
    busyTimeout: num('busy_timeout'),
    secureDelete: num('secure_delete'),
    userVersion: num('user_version'),
  };
}

function applyPragmas(db: DB, busyTimeoutMs: number): void {
  const mode = String(db.pragma('journal_mode = WAL', { simple: true }));
  if (mode.toLowerCase() !== 'wal') {
    throw new CabinetError('DB_PRAGMA_FAILED', `could not switch the database to WAL (journal_mode is "${mode}")`);
  }
  // In WAL mode better-sqlite3 would otherwise run at NORMAL, which may lose the last commits on power loss.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  // Deleted or overwritten content (blanked notification secrets, erased personal data) is zeroed on disk.
  db.pragma('secure_delete = ON');
  const p = readPragmas(db);
  if (p.synchronous !== 2 || p.foreignKeys !== 1 || p.secureDelete !== 1) {
    throw new CabinetError('DB_PRAGMA_FAILED', `pragmas not in force after open: ${JSON.stringify(p)}`);
  }
}

function tooNew(from: number, known: number): CabinetError {
  return new CabinetError(
    'DB_TOO_NEW',
    `database schema version ${from} is newer than this program knows (${known}); ` +
      'run a newer controller or restore a matching backup — it is not opened, to avoid damaging it',
    { found: from, known },
  );
}

/**
 * Runs pending migrations in one IMMEDIATE transaction; refuses a database newer than the code. `beforeMigrate`
 * (a backup) runs first when an existing schema is about to change.
 */
export function migrate(db: DB, migrations: readonly Migration[] = MIGRATIONS, beforeMigrate?: BeforeMigrate): { from: number; to: number } {
  const known = migrations.length;
  const current = Number(db.pragma('user_version', { simple: true }));
  if (current > known) throw tooNew(current, known);
  if (beforeMigrate && current > 0 && current < known) beforeMigrate(db, current, known);
  const run = db.transaction(() => {
    const from = Number(db.pragma('user_version', { simple: true }));
    if (from > known) throw tooNew(from, known);
    for (let v = from; v < known; v++) {
      const m = migrations[v];
      if (!m) throw new CabinetError('DB_MIGRATION_FAILED', `migration ${v + 1} is missing`);
      try {
        if (typeof m.up === 'string') db.exec(m.up);
        else {
          const r: unknown = m.up(db);
          if (r instanceof Promise) throw new CabinetError('ASYNC_IN_TRANSACTION', 'a migration must be synchronous');
        }
      } catch (err) {
        if (err instanceof CabinetError) throw err;
        throw new CabinetError(
          'DB_MIGRATION_FAILED',
          `migration ${v + 1} ("${m.name}") failed: ${String(err)}`,
          {
            version: v + 1,
          },
          { cause: err },
        );
      }
      db.pragma(`user_version = ${v + 1}`);
    }
    return { from, to: Math.max(from, known) };
  });
  return run.immediate();
}

/**
 * The database holds names, full mobile numbers and addresses: the directory is 0700 and the database with its
 * WAL and SHM 0600, owned by the controller's user. The database file is created 0600 before SQLite opens it
 * (SQLite gives the WAL and SHM the database file's mode); an older installation's looser modes are tightened.
 */
function secureDataFiles(dataDir: string, file: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    fs.chmodSync(dataDir, 0o700);
    fs.closeSync(fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_RDWR, 0o600));
    for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) if (fs.existsSync(f)) fs.chmodSync(f, 0o600);
  } catch (err) {
    throw new CabinetError(
      'DB_PERMISSIONS',
      `cannot restrict the modes of ${dataDir} and its database to its owner: ${String(err)}`,
      {},
      { cause: err },
    );
  }
}

/** Start-up check: nothing of the data directory readable by group or others. */
export function checkDataFileModes(dataDir: string, file: string = path.join(dataDir, DB_FILE)): void {
  for (const f of [dataDir, file, `${file}-wal`, `${file}-shm`]) {
    if (!fs.existsSync(f)) continue;
    const m = fs.statSync(f).mode & 0o777;
    if ((m & 0o077) !== 0) {
      throw new CabinetError(
        'DB_PERMISSIONS',
        `${f} is readable by group or others (mode ${m.toString(8)}); run: chmod ${f === dataDir ? '700' : '600'} ${f}`,
      );
    }
  }
}

/** Opens (creating if needed) the database file under dataDir, sets the pragmas and migrates it. */
export function openDatabase(options: OpenDatabaseOptions): DB {
  const busy = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isInteger(busy) || busy < 0 || busy > 60_000) {
    throw new CabinetError('VALIDATION', `busyTimeoutMs must be an integer from 0 to 60000, got ${busy}`);
  }
  const file = path.join(options.dataDir, options.fileName ?? DB_FILE);
  secureDataFiles(options.dataDir, file);
  const db = new Database(file);
  try {
    applyPragmas(db, busy);
    checkDataFileModes(options.dataDir, file);
    migrate(db, options.migrations ?? MIGRATIONS, options.beforeMigrate);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

export function databaseFileExists(dataDir: string, fileName: string = DB_FILE): boolean {
  return fs.existsSync(path.join(dataDir, fileName));
}

/**
 * Runs fn in a transaction (BEGIN IMMEDIATE; a SAVEPOINT when already inside one) and returns its result.
 * Throwing rolls everything back. fn must be synchronous: returning a promise is refused and rolled back.
 * (What better-sqlite3's db.transaction() does, without building its four wrapper functions on every call: the
 * unlock path runs a dozen of these before its bytes go out.)
 */
export function inTransaction<T>(db: DB, fn: () => T): T {
  const nested = db.inTransaction;
  stmt(db, nested ? 'SAVEPOINT tx' : 'BEGIN IMMEDIATE').run();
  try {
    const r = fn();
    if (r !== null && typeof r === 'object' && typeof (r as { then?: unknown }).then === 'function') {
      throw new CabinetError('ASYNC_IN_TRANSACTION', 'inTransaction: the function returned a promise (no await inside a transaction)');
    }
    stmt(db, nested ? 'RELEASE tx' : 'COMMIT').run();
    return r;
  } catch (e) {
    if (db.inTransaction) {
      if (nested) {
        stmt(db, 'ROLLBACK TO tx').run();
        stmt(db, 'RELEASE tx').run();
      } else stmt(db, 'ROLLBACK').run();
    }
    throw e;
  }
}

/**
 * Copies the write-ahead log into the database file now (PASSIVE: it never waits for a reader), for a quiet moment
 * chosen by the caller. SQLite's own checkpoint runs inside whichever commit takes the log past 1000 pages, and
 * makes that commit wait for the copy and an fsync of the database file; a pickup writes about 130 pages, so
 * without this roughly one door flow in eight would find it in the commit its unlock waits for
 * (docs/adr/0005-unlock-commits.md). Returns the pages in the log and how many are copied.
 */
export function checkpointNow(db: DB): { log: number; checkpointed: number } {
  const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
  return { log: r?.log ?? 0, checkpointed: r?.checkpointed ?? 0 };
}

/** Connections with a held commit open (see holdCommit). */
const held = new WeakSet<DB>();

/**
 * One commit (one fsync) for the store calls `fn` makes in a row, where each would otherwise commit on its own:
 * a kiosk's credential check, a reservation and the unlock intent are made durable together, right before the
 * unlock's bytes go out (docs/adr/0005-unlock-commits.md). `fn` runs inside one transaction that its store calls
 * join (each still atomic on its own: a savepoint). It commits at `commitHeld(db)` or, at the latest, when `fn`
 * returns; for an async `fn` that is its first await, so the transaction never stays open across an await and no
 * unrelated write can join it. Unlike `inTransaction`, a throw does not undo the calls that succeeded before it:
 * they commit, as they would have one by one. Inside another transaction (held or not) `fn` simply joins it.
 * When the final commit fails its error is thrown, and an async `fn`'s own outcome is dropped.
 */
export function holdCommit<T>(db: DB, fn: () => T): T {
  if (db.inTransaction) return fn();
  stmt(db, 'BEGIN IMMEDIATE').run();
  held.add(db);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    commitHeld(db);
    throw e;
  }
  try {
    commitHeld(db);
  } catch (e) {
    if (result instanceof Promise) result.catch(() => undefined);
    throw e;
  }
  return result;
}

/**
 * Commits the held transaction now (see holdCommit); nothing when none is held. A failed commit is thrown (an I/O
 * error: outcome unknown, see isOutcomeUnknown), and the transaction rolled back if SQLite left it open.
 */
export function commitHeld(db: DB): void {
  if (!held.delete(db)) return;
  try {
    stmt(db, 'COMMIT').run();
  } catch (e) {
    try {
      if (db.inTransaction) stmt(db, 'ROLLBACK').run();
    } catch {
      // the commit's error is the one to report
    }
    throw e;
  }
}

const STATEMENT_CACHE_MAX = 500;
const statements = new WeakMap<DB, Map<string, Database.Statement>>();

/**
 * The prepared statement for this SQL text on this connection, compiled once and reused (compiling costs more than
 * running most of our statements). For use with .run/.get/.all only: never change a cached statement's mode
 * (.pluck/.raw/.expand/.safeIntegers). Text built from input is fine only when the variants are few; the cache is
 * emptied past 500 texts.
 */
export function stmt<P extends unknown[] | object = unknown[], R = unknown>(db: DB, sql: string): Database.Statement<P, R> {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let s = cache.get(sql);
  if (!s) {
    if (cache.size >= STATEMENT_CACHE_MAX) cache.clear();
    s = db.prepare(sql);
    cache.set(sql, s);
  }
  return s as unknown as Database.Statement<P, R>;
}

/** True for errors after which the outcome of a commit is unknown (disk I/O, full disk, corruption). */
export function isOutcomeUnknown(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(IOERR|FULL|CORRUPT|NOTADB)/.test(code);
}
