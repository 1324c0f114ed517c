import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { isCabinetError } from '../errors.js';
import { SYSTEM_ACTOR } from '../domain/types.js';
import { appendAudit, listAudit } from './audit.js';
import { commitHeld, DB_FILE, holdCommit, inTransaction, openDatabase, readPragmas } from './db.js';
import { openStore } from './index.js';
import { MIGRATIONS, type Migration } from './migrations.js';
import { listServiceItems } from './service-items.js';
import { openTestStore, tempDir, walCommits, type TestStore } from './test-support.js';

describe('what the README promises of durability', () => {
  it('says plainly that WAL damage in a crash can lose the last commits without an error, and that backups are the answer', () => {
    const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    expect(readme).toContain(
      'SQLite itself can lose the last commits after WAL damage in a crash without reporting an error; the backups are the answer to that, not a promise of this program.',
    );
  });
});

describe('openDatabase', () => {
  it('has WAL, synchronous=FULL, foreign keys, busy timeout and secure_delete in force after open', () => {
    const dir = tempDir();
    const db = openDatabase({ dataDir: dir, busyTimeoutMs: 1234 });
    const p = readPragmas(db);
    expect(p.journalMode).toBe('wal');
    expect(p.synchronous).toBe(2);
    expect(p.foreignKeys).toBe(1);
    expect(p.busyTimeout).toBe(1234);
    expect(p.secureDelete).toBe(1);
    expect(p.userVersion).toBe(MIGRATIONS.length);
    db.close();
  });

  it('sets the pragmas again on every open (they are per connection)', () => {
    const dir = tempDir();
    openDatabase({ dataDir: dir }).close();
    const db = openDatabase({ dataDir: dir });
    expect(readPragmas(db)).toMatchObject({ journalMode: 'wal', synchronous: 2, foreignKeys: 1, busyTimeout: 5000 });
    // a plain connection without our open would run at NORMAL in WAL: proves the FULL above is ours
    const raw = new Database(path.join(dir, DB_FILE));
    expect(Number(raw.pragma('synchronous', { simple: true }))).not.toBe(2);
    raw.close();
    db.close();
  });

  it('migrates an empty database and seeds the catalogue once; re-opening changes nothing', () => {
    const s = openTestStore();
    const items = listServiceItems(s.ctx);
    expect(items.map((i) => i.code)).toContain('residence_certificate');
    expect(items.find((i) => i.code === 'residence_certificate')?.nameZh).toBe('居住证明');
    expect(items.length).toBeGreaterThanOrEqual(4);
    const s2 = s.reopen();
    expect(readPragmas(s2.db).userVersion).toBe(MIGRATIONS.length);
    expect(listServiceItems(s2.ctx)).toEqual(items);
    s2.close();
  });

  it('runs only the pending migrations, in order', () => {
    const dir = tempDir();
    const extra: Migration[] = [
      ...MIGRATIONS,
      { name: 'add table t', up: 'CREATE TABLE t (x INTEGER) STRICT;' },
      { name: 'fill t', up: (db) => void db.exec('INSERT INTO t VALUES (7)') },
    ];
    openDatabase({ dataDir: dir }).close();
    const db = openDatabase({ dataDir: dir, migrations: extra });
    expect(readPragmas(db).userVersion).toBe(MIGRATIONS.length + 2);
    expect(db.prepare('SELECT x FROM t').all()).toEqual([{ x: 7 }]);
    db.close();
    const again = openDatabase({ dataDir: dir, migrations: extra });
    expect(again.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 1 });
    again.close();
  });

  it('rolls a failing migration back entirely and keeps the old version', () => {
    const dir = tempDir();
    openDatabase({ dataDir: dir }).close();
    const broken: Migration[] = [...MIGRATIONS, { name: 'good', up: 'CREATE TABLE good (x INTEGER);' }, { name: 'bad', up: 'CREATE TABLE oops (' }];
    let err: unknown;
    try {
      openDatabase({ dataDir: dir, migrations: broken });
    } catch (e) {
      err = e;
    }
    expect(isCabinetError(err, 'DB_MIGRATION_FAILED')).toBe(true);
    const db = openDatabase({ dataDir: dir });
    expect(readPragmas(db).userVersion).toBe(MIGRATIONS.length);
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 'good'`).get()).toBeUndefined();
    db.close();
  });

  it('refuses a database whose schema version is newer than the code knows', () => {
    const dir = tempDir();
    openDatabase({ dataDir: dir }).close();
    const raw = new Database(path.join(dir, DB_FILE));
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    let err: unknown;
    try {
      openDatabase({ dataDir: dir });
    } catch (e) {
      err = e;
    }
    expect(isCabinetError(err, 'DB_TOO_NEW')).toBe(true);
    expect(String((err as Error).message)).toMatch(/newer than this program knows/);
    // and it was left as it was
    const check = new Database(path.join(dir, DB_FILE));
    expect(Number(check.pragma('user_version', { simple: true }))).toBe(MIGRATIONS.length + 1);
    check.close();
  });
});

describe('file modes of the data directory', () => {
  const mode = (f: string): number => fs.statSync(f).mode & 0o777;

  it('keeps the directory at 0700 and the database, its WAL and SHM at 0600, whatever the umask', () => {
    const old = process.umask(0o022);
    try {
      const dir = tempDir();
      fs.chmodSync(dir, 0o755);
      const db = openDatabase({ dataDir: dir });
      db.prepare('CREATE TABLE IF NOT EXISTS t (x)').run();
      expect(mode(dir)).toBe(0o700);
      for (const f of [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`]) expect([f, mode(path.join(dir, f))]).toEqual([f, 0o600]);
      db.close();
    } finally {
      process.umask(old);
    }
  });

  it('tightens an existing world-readable database and directory at start (an older installation)', () => {
    const dir = tempDir();
    openDatabase({ dataDir: dir }).close();
    fs.chmodSync(dir, 0o755);
    for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o644);
    const db = openDatabase({ dataDir: dir });
    expect(mode(dir)).toBe(0o700);
    for (const f of fs.readdirSync(dir)) expect([f, mode(path.join(dir, f))]).toEqual([f, 0o600]);
    db.close();
  });
});

describe('openStore', () => {
  it('refuses a database whose key file went missing, and one opened with another key', () => {
    const dir = tempDir();
    openStore({ dataDir: dir }).close();
    const keyFile = path.join(dir, 'server.key');
    const original = fs.readFileSync(keyFile);
    fs.rmSync(keyFile);
    expect(() => openStore({ dataDir: dir })).toThrow(/missing although the database already exists/);
    fs.writeFileSync(keyFile, Buffer.alloc(32, 7), { mode: 0o600 });
    let err: unknown;
    try {
      openStore({ dataDir: dir });
    } catch (e) {
      err = e;
    }
    expect(isCabinetError(err, 'KEY_MISMATCH')).toBe(true);
    fs.writeFileSync(keyFile, original, { mode: 0o600 });
    const s = openStore({ dataDir: dir });
    expect(s.keyCreated).toBe(false);
    s.close();
  });
});

describe('inTransaction', () => {
  it('commits on return and rolls back everything on throw, including nested work', () => {
    const s = openTestStore();
    inTransaction(s.db, () => appendAudit(s.db, 1, { actor: SYSTEM_ACTOR, action: 'kept' }));
    expect(() =>
      inTransaction(s.db, () => {
        appendAudit(s.db, 2, { actor: SYSTEM_ACTOR, action: 'lost-outer' });
        inTransaction(s.db, () => appendAudit(s.db, 3, { actor: SYSTEM_ACTOR, action: 'lost-inner' }));
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(listAudit(s.db).map((a) => a.action)).toEqual(['kept']);
    s.close();
  });

  it('refuses an async function and rolls its synchronous part back', () => {
    const s = openTestStore();
    let err: unknown;
    try {
      inTransaction(s.db, (async () => {
        appendAudit(s.db, 1, { actor: SYSTEM_ACTOR, action: 'before-await' });
        await Promise.resolve();
      }) as () => unknown);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    expect(listAudit(s.db)).toHaveLength(0);
    s.close();
  });
});

describe('holdCommit', () => {
  const write = (s: TestStore, action: string) => inTransaction(s.db, () => appendAudit(s.db, 1, { actor: SYSTEM_ACTOR, action }));
  const actions = (db: Database.Database) =>
    (db.prepare('SELECT action FROM audit_log ORDER BY id').all() as { action: string }[]).map((r) => r.action);
  function fresh(): TestStore {
    const s = openTestStore();
    s.db.pragma('wal_checkpoint(TRUNCATE)');
    return s;
  }

  it('makes the store calls inside it one commit, where each would commit on its own', () => {
    const s = fresh();
    write(s, 'a');
    write(s, 'b');
    expect(walCommits(s.dir)).toBe(2);
    holdCommit(s.db, () => {
      write(s, 'c');
      write(s, 'd');
      write(s, 'e');
    });
    expect(walCommits(s.dir)).toBe(3);
    expect(listAudit(s.db).map((a) => a.action)).toEqual(['a', 'b', 'c', 'd', 'e']);
    s.close();
  });

  it('commits at commitHeld: durable for another connection then, and what follows commits on its own', () => {
    const s = fresh();
    const other = new Database(path.join(s.dir, DB_FILE), { readonly: true });
    holdCommit(s.db, () => {
      write(s, 'a');
      expect(actions(other)).toEqual([]);
      commitHeld(s.db);
      expect(actions(other)).toEqual(['a']);
      expect(s.db.inTransaction).toBe(false);
      write(s, 'b');
      commitHeld(s.db); // nothing held any more: nothing to do
    });
    expect(actions(other)).toEqual(['a', 'b']);
    expect(walCommits(s.dir)).toBe(2);
    other.close();
    s.close();
  });

  it('never stays open across an await: an async function commits at its first await', async () => {
    const s = fresh();
    const done = holdCommit(s.db, async () => {
      write(s, 'a');
      await Promise.resolve();
      expect(s.db.inTransaction).toBe(false);
      write(s, 'b');
    });
    expect(s.db.inTransaction).toBe(false);
    await done;
    expect(listAudit(s.db).map((a) => a.action)).toEqual(['a', 'b']);
    expect(walCommits(s.dir)).toBe(2);
    s.close();
  });

  it('keeps the calls that succeeded before a throw, as separate commits would have', () => {
    const s = fresh();
    expect(() =>
      holdCommit(s.db, () => {
        write(s, 'a');
        expect(() => inTransaction(s.db, () => (appendAudit(s.db, 1, { actor: SYSTEM_ACTOR, action: 'undone' }), fail()))).toThrow('boom');
        fail();
      }),
    ).toThrow('boom');
    expect(listAudit(s.db).map((a) => a.action)).toEqual(['a']);
    expect(s.db.inTransaction).toBe(false);
    s.close();
  });

  it('inside another transaction joins it: commitHeld does not commit what it does not hold', () => {
    const s = fresh();
    expect(() =>
      inTransaction(s.db, () => {
        holdCommit(s.db, () => {
          write(s, 'a');
          commitHeld(s.db);
          expect(s.db.inTransaction).toBe(true);
        });
        fail();
      }),
    ).toThrow('boom');
    expect(listAudit(s.db)).toEqual([]);
    s.close();
  });

  it('throws a failed commit, and nothing of the held transaction stays', () => {
    const s = fresh();
    expect(() =>
      holdCommit(s.db, () => {
        write(s, 'a');
        // a foreign key checked only at COMMIT makes the commit itself fail
        s.db.pragma('defer_foreign_keys = ON');
        s.db.prepare(`INSERT INTO door_events (compartment_no, door, source, intent_id, at) VALUES (99, 'open', 'event', 999999, 1)`).run();
      }),
    ).toThrow(/FOREIGN KEY/);
    expect(s.db.inTransaction).toBe(false);
    expect(listAudit(s.db)).toEqual([]);
    write(s, 'after');
    expect(listAudit(s.db).map((a) => a.action)).toEqual(['after']);
    s.close();
  });
});

function fail(): never {
  throw new Error('boom');
}
