import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../domain/types.js';
import { isCabinetError } from '../errors.js';
import { appendAudit, DB_FILE, listAudit, openStore, readPragmas } from '../store/index.js';
import { MIGRATIONS, type Migration } from '../store/migrations.js';
import { tempDir } from '../store/test-support.js';
import { backupBeforeMigration, backupDatabase, backupKeyFile, checkBackupFile, listBackups } from './backup.js';
import { silentLogger } from '../log.js';
import { BackupSchedule } from './backup-schedule.js';
import { PID_FILE } from './pidfile.js';
import { restoreBackup } from './restore.js';

function storeWithAudit(n: number): { dir: string; close: () => void; db: Database.Database; fingerprint: string } {
  const dir = tempDir();
  const s = openStore({ dataDir: dir });
  s.db.transaction(() => {
    for (let i = 0; i < n; i++) appendAudit(s.db, Date.now(), { actor: SYSTEM_ACTOR, action: 'test.row', detail: { i } });
  })();
  return { dir, db: s.db, close: () => s.close(), fingerprint: s.keys.fingerprint() };
}

const auditCount = (db: Database.Database, action: string) =>
  (db.prepare('SELECT count(*) AS n FROM audit_log WHERE action = ?').get(action) as { n: number }).n;

describe('backupDatabase', () => {
  it('writes one self-contained file that passes integrity_check, with the schema version and no WAL', async () => {
    const s = storeWithAudit(5);
    const dir = path.join(tempDir(), 'stick');
    const r = await backupDatabase(s.db, { dir, keep: 3 });
    s.close();
    expect(r.name).toMatch(/^cabinet-\d{8}T\d{9}Z\.sqlite3$/);
    expect(fs.readdirSync(dir)).toEqual([r.name]);
    const check = checkBackupFile(r.file);
    expect(check).toMatchObject({ ok: true, detail: 'ok', schemaVersion: MIGRATIONS.length });
    expect(check.keyFingerprint).toBe(s.fingerprint);
    const copy = new Database(r.file, { readonly: true });
    expect(String(copy.pragma('journal_mode', { simple: true }))).toBe('delete');
    expect(auditCount(copy, 'test.row')).toBe(5);
    copy.close();
    expect(fs.statSync(r.file).mode & 0o777).toBe(0o600);
  });

  it('keeps the newest N and removes older ones and leftovers of a cut-off backup', async () => {
    const s = storeWithAudit(1);
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'cabinet-20260101T000000000Z.sqlite3.partial'), 'half');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not ours');
    const times = ['2026-11-01T03:00:00Z', '2026-11-02T03:00:00Z', '2026-11-03T03:00:00Z', '2026-11-04T03:00:00Z'];
    const results = [];
    for (const t of times) results.push(await backupDatabase(s.db, { dir, keep: 2, now: () => new Date(t) }));
    s.close();
    expect(listBackups(dir).map((b) => b.takenAt.toISOString())).toEqual(['2026-11-04T03:00:00.000Z', '2026-11-03T03:00:00.000Z']);
    expect(results[3]!.removed).toEqual(['cabinet-20261102T030000000Z.sqlite3']);
    expect(fs.readdirSync(dir).sort()).toEqual(['cabinet-20261103T030000000Z.sqlite3', 'cabinet-20261104T030000000Z.sqlite3', 'notes.txt']);
  });

  it('refuses a folder it cannot write to, with the folder named', async () => {
    const s = storeWithAudit(0);
    const file = path.join(tempDir(), 'a-file');
    fs.writeFileSync(file, '');
    const err = await backupDatabase(s.db, { dir: path.join(file, 'sub'), keep: 2 }).catch((e: unknown) => e);
    s.close();
    expect(isCabinetError(err, 'BACKUP_FAILED')).toBe(true);
    expect(String((err as Error).message)).toContain(file);
  });

  it('copies the key apart, named by its fingerprint, mode 0600', () => {
    const s = storeWithAudit(0);
    s.close();
    const keys = tempDir();
    const written = backupKeyFile(s.dir, keys, s.fingerprint);
    expect(path.basename(written)).toBe(`server-${s.fingerprint.slice(0, 12)}.key`);
    expect(fs.readFileSync(written)).toEqual(fs.readFileSync(path.join(s.dir, 'server.key')));
    expect(fs.statSync(written).mode & 0o777).toBe(0o600);
  });
});

describe('checkBackupFile', () => {
  it('reports a damaged file as not ok', async () => {
    const s = storeWithAudit(200);
    const r = await backupDatabase(s.db, { dir: tempDir(), keep: 2 });
    s.close();
    const bytes = fs.readFileSync(r.file);
    bytes.fill(0x5a, 4096, 4096 * 3); // overwrite pages 2 and 3
    fs.writeFileSync(r.file, bytes);
    expect(checkBackupFile(r.file).ok).toBe(false);
  });
});

describe('schema upgrades', () => {
  const extra: Migration[] = [...MIGRATIONS, { name: 'add table t', up: 'CREATE TABLE t (x INTEGER) STRICT;' }];

  it('back up the database before a migration changes it, not when nothing is pending and not on a new database', () => {
    const s = storeWithAudit(3);
    s.close();
    const backups = tempDir();
    const hook = (db: Database.Database, _from: number, to: number) => void backupBeforeMigration(db, { dir: backups, keep: 5 }, to);
    openStore({ dataDir: tempDir(), beforeMigrate: hook }).close(); // new database: nothing to keep
    openStore({ dataDir: s.dir, beforeMigrate: hook }).close(); // nothing pending
    expect(listBackups(backups)).toEqual([]);

    const upgraded = openStore({ dataDir: s.dir, migrations: extra, beforeMigrate: hook });
    expect(readPragmas(upgraded.db).userVersion).toBe(MIGRATIONS.length + 1);
    upgraded.close();
    const [b] = listBackups(backups);
    expect(b?.beforeVersion).toBe(MIGRATIONS.length + 1);
    const check = checkBackupFile(b!.file);
    expect(check).toMatchObject({ ok: true, schemaVersion: MIGRATIONS.length });
  });

  it('a failing migration leaves the database exactly as it was (its rows, its version), and its backup is there', () => {
    const s = storeWithAudit(4);
    s.close();
    const backups = tempDir();
    const dump = () => {
      const db = new Database(path.join(s.dir, DB_FILE), { readonly: true });
      const tables = db.prepare(`SELECT name, sql FROM sqlite_master ORDER BY name`).all();
      const rows = db.prepare('SELECT * FROM audit_log ORDER BY id').all();
      const v = Number(db.pragma('user_version', { simple: true }));
      db.close();
      return { tables, rows, v };
    };
    const before = dump();
    // a migration that writes, then fails half-way: injected through the parameter, the real list is untouched
    const failing: Migration[] = [
      ...MIGRATIONS,
      { name: 'good', up: 'CREATE TABLE good (x INTEGER) STRICT; INSERT INTO good VALUES (1);' },
      {
        name: 'writes then fails',
        up: (db) => {
          db.exec(`DELETE FROM meta WHERE key <> 'key_fingerprint'; CREATE TABLE half (y INTEGER);`);
          throw new Error('disk said no');
        },
      },
    ];
    let err: unknown;
    try {
      openStore({
        dataDir: s.dir,
        migrations: failing,
        beforeMigrate: (db, _f, to) => void backupBeforeMigration(db, { dir: backups, keep: 5 }, to),
      });
    } catch (e) {
      err = e;
    }
    expect(isCabinetError(err, 'DB_MIGRATION_FAILED')).toBe(true);
    expect((err as Error).message).toContain('writes then fails');
    expect(dump()).toEqual(before);
    expect(listBackups(backups)).toHaveLength(1);
    // and the release that knows only MIGRATIONS still opens it
    openStore({ dataDir: s.dir }).close();
  });

  it('an older release refuses a newer schema and does not touch it', () => {
    const s = storeWithAudit(1);
    s.close();
    openStore({ dataDir: s.dir, migrations: extra }).close();
    const file = path.join(s.dir, DB_FILE);
    const bytes = fs.readFileSync(file);
    let err: unknown;
    try {
      openStore({
        dataDir: s.dir,
        beforeMigrate: () => {
          throw new Error('no backup expected');
        },
      });
    } catch (e) {
      err = e;
    }
    expect(isCabinetError(err, 'DB_TOO_NEW')).toBe(true);
    expect((err as Error).message).toMatch(/newer than this program knows/);
    expect(fs.readFileSync(file)).toEqual(bytes);
  });
});

describe('restoreBackup', () => {
  it('restores into a fresh data directory with the key given, and writes the restore to the audit log', async () => {
    const s = storeWithAudit(7);
    const stick = tempDir();
    const b = await backupDatabase(s.db, { dir: stick, keep: 3 });
    const keyCopy = backupKeyFile(s.dir, tempDir(), s.fingerprint);
    s.close();
    const fresh = path.join(tempDir(), 'data');
    const r = restoreBackup({ dataDir: fresh, backupFile: b.file, keyFile: keyCopy });
    expect(r).toMatchObject({ keyRestored: true, replacedDir: null, schemaVersion: MIGRATIONS.length });
    const st = openStore({ dataDir: fresh });
    expect(auditCount(st.db, 'test.row')).toBe(7);
    const restored = listAudit(st.db, {}).filter((a) => a.action === 'backup.restored');
    expect(restored).toHaveLength(1);
    expect(restored[0]!.detail).toMatchObject({ backup: b.name, keyRestored: true });
    expect(st.db.pragma('integrity_check', { simple: true })).toBe('ok');
    st.close();
    expect(fs.statSync(path.join(fresh, 'server.key')).mode & 0o777).toBe(0o600);
  });

  it('moves the data it replaces aside instead of deleting it', async () => {
    const s = storeWithAudit(2);
    const b = await backupDatabase(s.db, { dir: tempDir(), keep: 3 });
    appendAudit(s.db, Date.now(), { actor: SYSTEM_ACTOR, action: 'after.backup' });
    s.close();
    const r = restoreBackup({ dataDir: s.dir, backupFile: b.file });
    expect(r.replacedDir).not.toBeNull();
    const old = new Database(path.join(r.replacedDir!, DB_FILE), { readonly: true });
    expect(auditCount(old, 'after.backup')).toBe(1);
    old.close();
    const st = openStore({ dataDir: s.dir });
    expect(auditCount(st.db, 'after.backup')).toBe(0);
    st.close();
  });

  it('refuses, changing nothing: a damaged backup, another key, no key, a running controller', async () => {
    const s = storeWithAudit(50);
    const b = await backupDatabase(s.db, { dir: tempDir(), keep: 3 });
    s.close();
    const other = storeWithAudit(0);
    other.close();
    const file = path.join(s.dir, DB_FILE);
    const before = fs.readFileSync(file);
    const refused = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        expect(isCabinetError(e, 'RESTORE_REFUSED'), String(e)).toBe(true);
        return (e as Error).message;
      }
      throw new Error('restore was not refused');
    };
    const damaged = path.join(tempDir(), 'damaged.sqlite3');
    const bytes = fs.readFileSync(b.file);
    bytes.fill(0x5a, 4096, 4096 * 3);
    fs.writeFileSync(damaged, bytes);
    expect(refused(() => restoreBackup({ dataDir: s.dir, backupFile: damaged }))).toContain('integrity');
    expect(refused(() => restoreBackup({ dataDir: other.dir, backupFile: b.file }))).toContain('not the key');
    expect(refused(() => restoreBackup({ dataDir: path.join(tempDir(), 'empty'), backupFile: b.file }))).toContain('--key');
    fs.writeFileSync(path.join(s.dir, PID_FILE), `${process.ppid}\n`);
    expect(refused(() => restoreBackup({ dataDir: s.dir, backupFile: b.file }))).toContain('stop it first');
    expect(fs.readFileSync(file)).toEqual(before);
    expect(fs.readdirSync(s.dir).filter((n) => n.startsWith('replaced-'))).toEqual([]);
  });
});

describe('BackupSchedule', () => {
  it('takes a backup when the newest in the folder is older than the interval, not before, and never with 0', async () => {
    const s = storeWithAudit(1);
    const dir = tempDir();
    let now = new Date('2026-12-01T03:00:00Z');
    const schedule = (intervalHours: number) => new BackupSchedule({ db: s.db, dir, keep: 5, intervalHours, logger: silentLogger(), now: () => now });
    expect(await schedule(0).runIfDue()).toBeNull();
    expect(listBackups(dir)).toHaveLength(0);
    const first = await schedule(24).runIfDue();
    expect(first?.takenAt.toISOString()).toBe('2026-12-01T03:00:00.000Z');
    now = new Date('2026-12-02T02:59:00Z');
    expect(await schedule(24).runIfDue()).toBeNull(); // a restart does not back up again: the folder remembers
    now = new Date('2026-12-02T03:00:00Z');
    expect((await schedule(24).runIfDue())?.name).toBe('cabinet-20261202T030000000Z.sqlite3');
    expect(listBackups(dir)).toHaveLength(2);
    s.close();
  });
});
