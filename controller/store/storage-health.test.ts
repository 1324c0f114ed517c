import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DB_FILE } from './db.js';
import { openStore } from './index.js';
import { MIGRATIONS } from './migrations.js';
import {
  CLEAN_STOP_FILE,
  NightlyDamageCheck,
  storageAccessCheck,
  storageDamageCheckInWorker,
  takeCleanStopMarker,
  writeCleanStopMarker,
} from './storage-health.js';
import { damageFirstRow } from './test-support.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) fs.rmSync(dirs.pop()!, { recursive: true, force: true });
});

/** A data directory whose database was opened and closed (cleanly: the WAL is checkpointed away). */
function closedStore(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clean-stop-'));
  dirs.push(dir);
  openStore({ dataDir: dir }).close();
  return dir;
}

describe('the clean-stop marker (the whole-file check is skipped only after a clean stop of this very file)', () => {
  it('is taken once: the start after a clean stop skips the check, a crash after it does not', () => {
    const dir = closedStore();
    writeCleanStopMarker(dir);
    expect(takeCleanStopMarker(dir)).toBe(true);
    expect(fs.existsSync(path.join(dir, CLEAN_STOP_FILE))).toBe(false);
    // this run "crashes": no marker written, so the next start checks
    expect(takeCleanStopMarker(dir)).toBe(false);
  });

  it('is not trusted when the file was written or replaced since (a restore, a copy, a change by hand)', () => {
    const dir = closedStore();
    writeCleanStopMarker(dir);
    fs.appendFileSync(path.join(dir, DB_FILE), Buffer.alloc(4096));
    expect(takeCleanStopMarker(dir)).toBe(false);
  });

  it('is not written while a WAL is left (the close did not checkpoint)', () => {
    const dir = closedStore();
    fs.writeFileSync(path.join(dir, `${DB_FILE}-wal`), '');
    writeCleanStopMarker(dir);
    expect(fs.existsSync(path.join(dir, CLEAN_STOP_FILE))).toBe(false);
  });

  it('a first start has none', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clean-stop-'));
    dirs.push(dir);
    expect(takeCleanStopMarker(dir)).toBe(false);
  });
});

describe('the nightly check', () => {
  it('runs at the next 03:00 local time', () => {
    const at = new Date(2026, 11, 3, 2, 30, 0);
    expect(NightlyDamageCheck.untilNext(at, 3)).toBe(30 * 60_000);
    const after = new Date(2026, 11, 3, 3, 0, 0);
    expect(NightlyDamageCheck.untilNext(after, 3)).toBe(24 * 3_600_000);
  });
});

describe('the whole-file check in its worker', () => {
  it('finds a sound database sound, and stops when the controller closes (its connection must not outlive the store)', async () => {
    const dir = closedStore();
    expect(await storageDamageCheckInWorker(dir)).toEqual([]);
    const stop = new AbortController();
    const checking = storageDamageCheckInWorker(dir, stop.signal);
    stop.abort();
    await expect(checking).rejects.toThrow('stopped');
  });
});

describe('what the whole-file check finds', () => {
  it('a damaged table row is damage, not a fact to serve', async () => {
    const dir = closedStore();
    damageFirstRow(dir, 'service_items');
    const found = await storageDamageCheckInWorker(dir);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ problem: 'damaged', detail: expect.stringMatching(/^integrity_check: /) });
  });
});

describe('the start-up access check (schema version, writable files)', () => {
  it('finds a sound, writable database of this schema version sound', () => {
    const dir = closedStore();
    const db = new Database(path.join(dir, DB_FILE));
    expect(storageAccessCheck(db, dir)).toEqual([]);
    db.close();
  });

  it('a schema version this program does not expect is damage', () => {
    const dir = closedStore();
    const db = new Database(path.join(dir, DB_FILE));
    db.pragma(`user_version = ${MIGRATIONS.length - 1}`);
    expect(storageAccessCheck(db, dir)).toEqual([
      { problem: 'damaged', detail: `schema version ${MIGRATIONS.length - 1}, this program expects ${MIGRATIONS.length}` },
    ]);
    db.close();
  });

  it('a database that can only be read is read-only', () => {
    const dir = closedStore();
    const db = new Database(path.join(dir, DB_FILE), { readonly: true });
    expect(storageAccessCheck(db, dir)).toEqual([{ problem: 'read_only', detail: 'the database was opened read-only' }]);
    db.close();
  });
});
