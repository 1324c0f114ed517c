import { afterEach, describe, expect, it } from 'vitest';
import { groupCommit, MAX_BATCH, WINDOW_MS } from './group-commit.js';
import { inTransaction } from './db.js';
import { openTestStore, walCommits, type TestStore } from './test-support.js';

let s: TestStore;
afterEach(() => s.close());

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
});
