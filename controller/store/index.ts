/**
 * Opening the store: key file, database, key/database match. The repositories are plain functions taking the
 * StoreContext; they are re-exported here for convenience.
 */
import { CabinetError } from '../errors.js';
import { systemClock, type Clock } from '../domain/types.js';
import type { StoreContext } from './context.js';
import { databaseFileExists, openDatabase, type BeforeMigrate, type DB } from './db.js';
import { releaseLogSync } from './group-commit.js';
import type { Migration } from './migrations.js';
import { loadOrCreateServerKey, type ServerKeys } from './secrets.js';

export interface OpenStoreOptions {
  readonly dataDir: string;
  readonly now?: Clock;
  /** Minutes east of UTC for request-number dates (480 = China); default: the process's time zone. */
  readonly utcOffsetMinutes?: number | null;
  readonly busyTimeoutMs?: number;
  readonly migrations?: readonly Migration[];
  /** Runs before pending migrations change an existing database (a backup); see OpenDatabaseOptions. */
  readonly beforeMigrate?: BeforeMigrate;
}

export interface Store {
  readonly db: DB;
  readonly keys: ServerKeys;
  readonly ctx: StoreContext;
  /** True when this open created the server key (first start). */
  readonly keyCreated: boolean;
  close(): void;
}

/**
 * Loads (or on first start creates) the server key, opens and migrates the database, and checks the key belongs
 * to this database (a fingerprint in `meta`). A database without its key, or with another key, is refused.
 */
export function openStore(options: OpenStoreOptions): Store {
  const dbExisted = databaseFileExists(options.dataDir);
  const key = loadOrCreateServerKey(options.dataDir, { allowCreate: !dbExisted });
  const db = openDatabase({
    dataDir: options.dataDir,
    ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}),
    ...(options.migrations !== undefined ? { migrations: options.migrations } : {}),
    ...(options.beforeMigrate !== undefined ? { beforeMigrate: options.beforeMigrate } : {}),
  });
  try {
    const fp = key.keys.fingerprint();
    const stored = db.prepare<[], { value: string }>(`SELECT value FROM meta WHERE key = 'key_fingerprint'`).get();
    if (!stored) db.prepare(`INSERT INTO meta (key, value) VALUES ('key_fingerprint', ?)`).run(fp);
    else if (stored.value !== fp) {
      throw new CabinetError('KEY_MISMATCH', `${key.file} is not the key this database was created with; restore the matching key file`);
    }
  } catch (err) {
    db.close();
    throw err;
  }
  const ctx: StoreContext = { db, keys: key.keys, now: options.now ?? systemClock, utcOffsetMinutes: options.utcOffsetMinutes ?? null };
  return {
    db,
    keys: key.keys,
    ctx,
    keyCreated: key.created,
    close: () => {
      releaseLogSync(db);
      db.close();
    },
  };
}

export type { StoreContext } from './context.js';
export * from './alarms.js';
export * from './attempts.js';
export * from './audit.js';
export * from './compartments.js';
export * from './credentials.js';
export * from './db.js';
export * from './outbox.js';
export * from './reports.js';
export * from './requests.js';
export * from './residents.js';
export * from './service-items.js';
export * from './sessions.js';
export * from './staff.js';
export * from './unlocks.js';
export { localDateKey, localDateTime } from './context.js';
export { SERVER_KEY_FILE, ServerKeys, decryptField, encryptField, loadOrCreateServerKey } from './secrets.js';
