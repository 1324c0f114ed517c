import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { fdatasyncLog, groupCommit, MAX_BATCH, setLogSyncForTests, WINDOW_MS } from './group-commit.js';
import { inTransaction } from './db.js';
import { openTestStore, walCommits, type TestStore } from './test-support.js';

let s: TestStore;
afterEach(() => {
  setLogSyncForTests(null);
  s.close();
});

/** A log sync the test finishes by hand. */
function heldSyncs() {
  const calls: { file: string; done: () => void; fail: (e: Error) => void }[] = [];
  setLogSyncForTests(
    (db) =>
      new Promise<void>((resolve, reject) => {
        calls.push({ file: db.name, done: resolve, fail: reject });
      }),
  );
  return calls;
}
const settled = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return done;
};
const fdPath = (fd: string): string | null => {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
};
const synchronous = () => Number(s.db.pragma('synchronous', { simple: true }));

const put = (key: string) => () => inTransaction(s.db, () => s.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(key, 'v').changes);
const has = (key: string) => s.db.prepare('SELECT 1 FROM meta WHERE key = ?').get(key) !== undefined;

describe('group commit', () => {
  it('writes queued in one turn share one commit (one fsync), and each is answered after it', async () => {
    s = openTestStore();
    s.db.pragma('wal_checkpoint(TRUNCATE)');
    const before = walCommits(s.dir);
    const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => groupCommit(s.db, put(`k${i}`))));
    expect(answers).toEqual([1, 1, 1, 1, 1]);
    expect(walCommits(s.dir) - before).toBe(1);
    for (let i = 1; i <= 5; i++) expect(has(`k${i}`)).toBe(true);
  });

  it('a write that throws is undone alone: its caller gets the error, the others commit', async () => {
    s = openTestStore();
    const failing = groupCommit(s.db, () => {
      put('bad')();
      throw new Error('refused');
    });
    const ok = [groupCommit(s.db, put('a')), groupCommit(s.db, put('b'))];
    await expect(failing).rejects.toThrow('refused');
    await Promise.all(ok);
    expect([has('a'), has('b'), has('bad')]).toEqual([true, true, false]);
  });

  it('commits at most MAX_BATCH writes at a time', async () => {
    s = openTestStore();
    s.db.pragma('wal_checkpoint(TRUNCATE)');
    const before = walCommits(s.dir);
    await Promise.all(Array.from({ length: MAX_BATCH + 1 }, (_, i) => groupCommit(s.db, put(`n${i}`))));
    expect(walCommits(s.dir) - before).toBe(2);
  });

  it('while writes keep coming, one that arrives a moment after another still shares its commit', async () => {
    s = openTestStore();
    await groupCommit(s.db, put('warm')); // the store is busy now
    s.db.pragma('wal_checkpoint(TRUNCATE)');
    const before = walCommits(s.dir);
    const first = groupCommit(s.db, put('x1'));
    // a later turn of the event loop, inside the window
    await new Promise((r) => setImmediate(r));
    const second = groupCommit(s.db, put('x2'));
    await Promise.all([first, second]);
    expect(WINDOW_MS).toBeGreaterThan(0);
    expect(walCommits(s.dir) - before).toBe(1);
  });

  it('answers a write only once the log is synced after its commit, and leaves the connection at synchronous=FULL', async () => {
    s = openTestStore();
    const syncs = heldSyncs();
    expect(synchronous()).toBe(2); // FULL
    const w = groupCommit(s.db, put('d1'));
    await new Promise((r) => setTimeout(r, WINDOW_MS + 5));
    // committed (visible), the log sync asked for the write-ahead log, and the caller not answered yet
    expect(has('d1')).toBe(true);
    expect(syncs.map((c) => c.file)).toEqual([s.db.name]);
    expect(synchronous()).toBe(2);
    expect(await settled(w)).toBe(false);
    syncs[0]!.done();
    await expect(w).resolves.toBe(1);
  });

  it('writes committed while a sync runs wait for the next sync, which starts after it', async () => {
    s = openTestStore();
    const syncs = heldSyncs();
    const first = groupCommit(s.db, put('p1'));
    await new Promise((r) => setTimeout(r, WINDOW_MS + 5));
    expect(syncs).toHaveLength(1);
    const second = groupCommit(s.db, put('p2'));
    await new Promise((r) => setTimeout(r, WINDOW_MS + 5));
    expect(has('p2')).toBe(true);
    expect(syncs).toHaveLength(1); // one sync at a time
    syncs[0]!.done();
    await expect(first).resolves.toBe(1);
    expect(await settled(second)).toBe(false); // the first sync may have started before p2's commit
    expect(syncs).toHaveLength(2);
    syncs[1]!.done();
    await expect(second).resolves.toBe(1);
  });

  it('a log sync that fails rejects every write of its batch (committed, durability unknown)', async () => {
    s = openTestStore();
    const syncs = heldSyncs();
    const ws = [groupCommit(s.db, put('f1')), groupCommit(s.db, put('f2'))];
    await new Promise((r) => setTimeout(r, WINDOW_MS + 5));
    syncs[0]!.fail(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    for (const w of ws) await expect(w).rejects.toThrow('EIO');
    expect(synchronous()).toBe(2);
  });

  it('a batch whose every write threw is answered without a sync; the connection is FULL again', async () => {
    s = openTestStore();
    const syncs = heldSyncs();
    const w = groupCommit(s.db, () => {
      throw new Error('refused');
    });
    await expect(w).rejects.toThrow('refused');
    expect(syncs).toHaveLength(0);
    expect(synchronous()).toBe(2);
  });

  it('the real sync fdatasyncs the write-ahead log through one descriptor kept for the connection', async () => {
    s = openTestStore();
    const opened = () => fs.readdirSync('/proc/self/fd').filter((fd) => fdPath(fd) === `${s.db.name}-wal`).length;
    const before = opened(); // SQLite's own
    let syncs = 0;
    setLogSyncForTests((db) => {
      syncs++;
      return fdatasyncLog(db);
    });
    await expect(groupCommit(s.db, put('r1'))).resolves.toBe(1);
    await expect(groupCommit(s.db, put('r2'))).resolves.toBe(1);
    expect(syncs).toBe(2);
    expect(opened()).toBe(before + 1);
    // closing the store closes it; a sync after the connection closed has nothing to do
    const db = s.db;
    s.close();
    await expect(fdatasyncLog(db)).resolves.toBeUndefined();
    s = openTestStore();
  });
});
