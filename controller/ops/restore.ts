/**
 * Restoring a backup into a data directory, with the controller stopped:
 *
 * 1. the backup is checked (integrity, a schema this program knows) and so is the key: the key in the data
 *    directory, or the one given with --key, must be the key the backup's database was made with;
 * 2. what the data directory held is moved aside to `replaced-<time>/` (nothing is deleted);
 * 3. the backup is copied in (and the key, when given), migrated forward if it is older, and the restore is
 *    written to the audit log.
 *
 * The backup remembers the compartments as they were when it was taken. The next start reconciles with the
 * boards before any door action (controller/flows/reconcile.ts): what the item sensors and doors say now wins,
 * and every difference is an alarm for staff.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SYSTEM_ACTOR } from '../domain/types.js';
import { CabinetError } from '../errors.js';
import { appendAudit, DB_FILE, openStore, SERVER_KEY_FILE, ServerKeys } from '../store/index.js';
import { MIGRATIONS, type Migration } from '../store/migrations.js';
import { checkBackupFile } from './backup.js';
import { runningController } from './pidfile.js';

export interface RestoreOptions {
  readonly dataDir: string;
  readonly backupFile: string;
  /** A key file to restore with the database (a fresh data directory, or a key lost with the disk). */
  readonly keyFile?: string;
  readonly now?: () => Date;
  /** The migration list; only tests pass something else. */
  readonly migrations?: readonly Migration[];
}

export interface RestoreResult {
  readonly backupSchemaVersion: number;
  readonly schemaVersion: number;
  /** Where the data directory's previous database (and key, when replaced) went; null when there was none. */
  readonly replacedDir: string | null;
  readonly keyRestored: boolean;
  readonly auditId: number;
}

function refuse(message: string): CabinetError {
  return new CabinetError('RESTORE_REFUSED', message);
}

function keyFingerprintOf(file: string): string {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw refuse(`cannot read the key file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (bytes.length !== 32 || bytes.every((b) => b === 0)) throw refuse(`${file} is not a server key (32 random bytes)`);
  return new ServerKeys(bytes).fingerprint();
}

export function restoreBackup(options: RestoreOptions): RestoreResult {
  const { dataDir, backupFile } = options;
  const migrations = options.migrations ?? MIGRATIONS;
  const pid = runningController(dataDir);
  if (pid !== null) {
    throw refuse(`the controller (process ${pid}) is running on ${dataDir}; stop it first (sudo systemctl stop bangbangui), then restore`);
  }
  if (!fs.existsSync(backupFile)) throw refuse(`${backupFile} does not exist`);
  const check = checkBackupFile(backupFile);
  if (!check.ok) throw refuse(`${backupFile} is not a sound database backup (integrity check: ${check.detail})`);
  if (check.schemaVersion > migrations.length) {
    throw refuse(
      `${backupFile} has schema version ${check.schemaVersion}, newer than this program knows (${migrations.length}); restore it with the release that wrote it`,
    );
  }
  if (check.schemaVersion === 0 || check.keyFingerprint === null) throw refuse(`${backupFile} is not a backup of this product's database`);

  const keyInDir = path.join(dataDir, SERVER_KEY_FILE);
  const keySource = options.keyFile ?? keyInDir;
  if (!fs.existsSync(keySource)) {
    throw refuse(`no key: ${keyInDir} does not exist; give the key file kept with the backups: npm run restore -- ${backupFile} --key FILE`);
  }
  if (keyFingerprintOf(keySource) !== check.keyFingerprint) {
    throw refuse(`${keySource} is not the key this backup was made with; give the matching key with --key FILE`);
  }

  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const now = (options.now ?? (() => new Date()))();
  const dbFile = path.join(dataDir, DB_FILE);
  const replacing = [dbFile, `${dbFile}-wal`, `${dbFile}-shm`].filter((f) => fs.existsSync(f));
  const keyReplaced = options.keyFile !== undefined && fs.existsSync(keyInDir) && path.resolve(options.keyFile) !== path.resolve(keyInDir);
  if (keyReplaced) replacing.push(keyInDir);
  let replacedDir: string | null = null;
  if (replacing.length > 0) {
    replacedDir = path.join(dataDir, `replaced-${now.toISOString().replace(/[-:]/g, '').replace('.', '')}`);
    fs.mkdirSync(replacedDir, { mode: 0o700 });
    for (const f of replacing) fs.renameSync(f, path.join(replacedDir, path.basename(f)));
  }
  if (options.keyFile !== undefined && path.resolve(options.keyFile) !== path.resolve(keyInDir)) {
    fs.copyFileSync(options.keyFile, keyInDir);
    fs.chmodSync(keyInDir, 0o600);
  }
  const partial = `${dbFile}.restoring`;
  fs.copyFileSync(backupFile, partial);
  fs.chmodSync(partial, 0o600);
  fs.renameSync(partial, dbFile);

  const store = openStore({ dataDir, migrations });
  try {
    const schemaVersion = Number(store.db.pragma('user_version', { simple: true }));
    const auditId = appendAudit(store.db, now.getTime(), {
      actor: SYSTEM_ACTOR,
      action: 'backup.restored',
      detail: {
        backup: path.basename(backupFile),
        backupSchemaVersion: check.schemaVersion,
        schemaVersion,
        keyRestored: options.keyFile !== undefined,
        replacedDir: replacedDir === null ? null : path.basename(replacedDir),
      },
    });
    return { backupSchemaVersion: check.schemaVersion, schemaVersion, replacedDir, keyRestored: options.keyFile !== undefined, auditId };
  } finally {
    store.close();
  }
}
