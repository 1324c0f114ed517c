/**
 * Backups of the database, online (the controller keeps running), each one checked after writing:
 *
 *   cabinet-20261202T030000Z.sqlite3               a scheduled or manual backup (`npm run backup`)
 *   cabinet-20261202T030000Z-before-v5.sqlite3     taken at start-up, before migrations change schema 4 to 5
 *
 * A backup is written as `<name>.partial`, converted to a single self-contained file (rollback journal, no WAL),
 * checked with `PRAGMA integrity_check`, fsynced and only then renamed to its name: a file with the final name is a
 * complete, verified backup. The newest `keep` backups stay; older ones are removed.
 *
 * The server key (DATA_DIR/server.key) is NOT in these files. It decrypts ID numbers and signs codes, so it is kept
 * apart (`npm run backup -- --key-to DIR`, once: it never changes): a lost backup stick then holds no readable ID
 * numbers, and a restore needs both.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CabinetError } from '../errors.js';
import type { DB } from '../store/db.js';
import { SERVER_KEY_FILE } from '../store/secrets.js';

export const BACKUP_PATTERN = /^cabinet-(\d{8}T\d{6}(?:\d{3})?Z)(?:-before-v(\d+))?\.sqlite3$/;

export interface BackupInfo {
  readonly file: string;
  readonly name: string;
  /** When it was taken (from its name). */
  readonly takenAt: Date;
  /** Set for a backup taken before a migration to this schema version. */
  readonly beforeVersion: number | null;
}

export interface BackupResult extends BackupInfo {
  readonly bytes: number;
  readonly schemaVersion: number;
  /** Older backups removed by rotation. */
  readonly removed: readonly string[];
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('.', '');
}

function parseStamp(s: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})?Z$/.exec(s)!;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +(m[7] ?? 0)));
}

/** The backups in dir, newest first. A missing dir has none. */
export function listBackups(dir: string): BackupInfo[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((name) => ({ name, m: BACKUP_PATTERN.exec(name) }))
    .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null)
    .map(({ name, m }) => ({ file: path.join(dir, name), name, takenAt: parseStamp(m[1]!), beforeVersion: m[2] ? Number(m[2]) : null }))
    .sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime() || b.name.localeCompare(a.name));
}

function fsyncPath(p: string): void {
  try {
    const fd = fs.openSync(p, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // some file systems (FAT on a USB stick) refuse fsync on a directory
  }
}

/** 0600 where the file system keeps modes (a FAT-formatted USB stick does not: there the mount options decide). */
function chmodOwnerOnly(file: string): void {
  try {
    fs.chmodSync(file, 0o600);
  } catch {
    // EPERM on vfat/exfat
  }
}

/** Result of PRAGMA integrity_check on a backup file, and its schema version. */
export function checkBackupFile(file: string): { ok: boolean; detail: string; schemaVersion: number; keyFingerprint: string | null } {
  let db: DB | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const rows = db.pragma('integrity_check') as { integrity_check: string }[];
    const detail = rows.map((r) => r.integrity_check).join('; ');
    const schemaVersion = Number(db.pragma('user_version', { simple: true }));
    let keyFingerprint: string | null = null;
    try {
      keyFingerprint = db.prepare<[], { value: string }>(`SELECT value FROM meta WHERE key = 'key_fingerprint'`).get()?.value ?? null;
    } catch {
      keyFingerprint = null;
    }
    return { ok: detail === 'ok', detail, schemaVersion, keyFingerprint };
  } catch (err) {
    return { ok: false, detail: err instanceof Error ? err.message : String(err), schemaVersion: 0, keyFingerprint: null };
  } finally {
    db?.close();
  }
}

/** Makes a copied file self-contained (no WAL), checks it, fsyncs it and gives it its final name. */
function finish(partial: string, final: string): { schemaVersion: number; bytes: number } {
  const db = new Database(partial);
  try {
    db.pragma('journal_mode = DELETE');
  } finally {
    db.close();
  }
  const check = checkBackupFile(partial);
  if (!check.ok) {
    fs.rmSync(partial, { force: true });
    throw new CabinetError('BACKUP_FAILED', `the backup written to ${partial} failed its integrity check (${check.detail}); it was removed`);
  }
  chmodOwnerOnly(partial);
  fsyncPath(partial);
  fs.renameSync(partial, final);
  fsyncPath(path.dirname(final));
  return { schemaVersion: check.schemaVersion, bytes: fs.statSync(final).size };
}

function prepareDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    throw new CabinetError(
      'BACKUP_FAILED',
      `cannot write backups to ${dir}: ${err instanceof Error ? err.message : String(err)}`,
      {},
      { cause: err },
    );
  }
}

/** Removes all but the newest `keep` backups in dir (never the one named `except`). */
export function rotateBackups(dir: string, keep: number, except?: string): string[] {
  const removed: string[] = [];
  for (const b of listBackups(dir).slice(keep)) {
    if (b.file === except) continue;
    fs.rmSync(b.file, { force: true });
    removed.push(b.name);
  }
  // leftovers of a backup cut off by a crash or a pulled stick
  for (const name of fs.readdirSync(dir))
    if (name.startsWith('cabinet-') && name.endsWith('.partial')) fs.rmSync(path.join(dir, name), { force: true });
  return removed;
}

export interface BackupOptions {
  readonly dir: string;
  /** Backups kept after this one (rotation), 1–365. */
  readonly keep: number;
  readonly now?: () => Date;
}

/**
 * A backup of the open database while it is in use (SQLite's online backup, in steps, so the event loop keeps
 * serving doors meanwhile). Writes made through `db` during the copy are included; the result is consistent.
 */
export async function backupDatabase(db: DB, options: BackupOptions): Promise<BackupResult> {
  prepareDir(options.dir);
  let at = (options.now ?? (() => new Date()))();
  let name = `cabinet-${stamp(at)}.sqlite3`;
  if (fs.existsSync(path.join(options.dir, name))) {
    at = new Date(at.getTime() + 1);
    name = `cabinet-${stamp(at)}.sqlite3`;
  }
  const final = path.join(options.dir, name);
  const partial = `${final}.partial`;
  try {
    fs.rmSync(partial, { force: true });
    await db.backup(partial);
  } catch (err) {
    fs.rmSync(partial, { force: true });
    throw new CabinetError(
      'BACKUP_FAILED',
      `backup to ${options.dir} failed: ${err instanceof Error ? err.message : String(err)}`,
      {},
      { cause: err },
    );
  }
  const { schemaVersion, bytes } = finish(partial, final);
  const removed = rotateBackups(options.dir, options.keep, final);
  return { file: final, name, takenAt: at, beforeVersion: null, bytes, schemaVersion, removed };
}

/**
 * The backup taken at start-up before migrations change the schema: synchronous (VACUUM INTO), as nothing else
 * runs yet. Throws (and so stops the start, with the database untouched) when it cannot be written.
 */
export function backupBeforeMigration(db: DB, options: BackupOptions, toVersion: number): BackupResult {
  prepareDir(options.dir);
  const at = (options.now ?? (() => new Date()))();
  const name = `cabinet-${stamp(at)}-before-v${toVersion}.sqlite3`;
  const final = path.join(options.dir, name);
  const partial = `${final}.partial`;
  try {
    fs.rmSync(partial, { force: true });
    db.prepare('VACUUM INTO ?').run(partial);
  } catch (err) {
    fs.rmSync(partial, { force: true });
    throw new CabinetError(
      'BACKUP_FAILED',
      `the backup before the schema upgrade could not be written to ${options.dir}: ${err instanceof Error ? err.message : String(err)}`,
      {},
      { cause: err },
    );
  }
  const { schemaVersion, bytes } = finish(partial, final);
  const removed = rotateBackups(options.dir, options.keep, final);
  return { file: final, name, takenAt: at, beforeVersion: toVersion, bytes, schemaVersion, removed };
}

/** Copies the server key to dir as server-<fingerprint>.key (mode 0600); returns the file written. */
export function backupKeyFile(dataDir: string, dir: string, fingerprint: string): string {
  prepareDir(dir);
  const target = path.join(dir, `server-${fingerprint.slice(0, 12)}.key`);
  const partial = `${target}.partial`;
  fs.copyFileSync(path.join(dataDir, SERVER_KEY_FILE), partial);
  chmodOwnerOnly(partial);
  fsyncPath(partial);
  fs.renameSync(partial, target);
  fsyncPath(dir);
  return target;
}
