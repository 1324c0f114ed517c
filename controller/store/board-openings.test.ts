/**
 * A version 2 board's door-opening counts kept across restarts of the controller (PROTOCOL.md §21.3): written with
 * the openings found by count in one transaction, with the position of the door record they go with.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../domain/types.js';
import { readPragmas } from './db.js';
import { applyLayout, DOOR_CHANGES_SINCE, keptOpeningsBaselines, layoutGrid, listAudit, recordCountedOpenings, recordDoorFact } from './index.js';
import { BOARD_OPENINGS_MIGRATION, MIGRATIONS } from './migrations.js';
import { openTestStore, type TestStore } from './test-support.js';

const stores: TestStore[] = [];
afterEach(() => {
  while (stores.length) stores.pop()!.close();
});
function opened(options: Parameters<typeof openTestStore>[0] = {}): TestStore {
  const s = openTestStore(options);
  stores.push(s);
  applyLayout(s.ctx, layoutGrid(1, 24), SYSTEM_ACTOR);
  return s;
}
const baseline = (counts: number[], eventCounter = 7) => ({ addr: 1, protocol: 2 as const, firmware: 'sim-2.0', eventCounter, counts });

describe('kept door-opening counts', () => {
  it('the migration adds the table to an existing database and keeps what is there', () => {
    const before = MIGRATIONS.findIndex((m) => m.name === BOARD_OPENINGS_MIGRATION);
    expect(before).toBeGreaterThan(0);
    const old = openTestStore({ migrations: MIGRATIONS.slice(0, before) });
    applyLayout(old.ctx, layoutGrid(1, 24), SYSTEM_ACTOR);
    recordDoorFact(old.ctx, { compartmentNo: 2, door: 'closed', source: 'poll' });
    old.close();
    const s = openTestStore({ dir: old.dir, clock: old.clock });
    stores.push(s);
    expect(readPragmas(s.db).userVersion).toBe(MIGRATIONS.length);
    expect(keptOpeningsBaselines(s.ctx)).toEqual([]);
    recordCountedOpenings(s.ctx, { found: [], baseline: baseline(new Array(24).fill(0)) });
    expect(keptOpeningsBaselines(s.ctx)).toHaveLength(1);
  });

  it('a baseline is kept with the door record up to it: door changes written after it are listed as recorded since', () => {
    const s = opened();
    recordDoorFact(s.ctx, { compartmentNo: 3, door: 'open', source: 'event' });
    recordDoorFact(s.ctx, { compartmentNo: 3, door: 'closed', source: 'event' });
    recordCountedOpenings(s.ctx, { found: [], baseline: baseline([0, 0, 1, ...new Array(21).fill(0)]) });
    recordDoorFact(s.ctx, { compartmentNo: 4, door: 'open', source: 'event' });
    recordDoorFact(s.ctx, { compartmentNo: 4, door: 'closed', source: 'event' });
    recordDoorFact(s.ctx, { compartmentNo: 4, door: 'open', source: 'event' });
    const [kept] = keptOpeningsBaselines(s.ctx);
    expect(kept).toMatchObject({ addr: 1, protocol: 2, firmware: 'sim-2.0', eventCounter: 7 });
    expect(kept!.counts[2]).toBe(1);
    expect([...kept!.recordedSince]).toEqual([[4, { opened: 2, closed: 1 }]]);
    // replaced, one row a board
    recordCountedOpenings(s.ctx, { found: [], baseline: baseline(new Array(24).fill(2), 9) });
    expect(keptOpeningsBaselines(s.ctx)).toMatchObject([{ eventCounter: 9, recordedSince: new Map() }]);
  });

  it('the door changes since a baseline are read from its position on, not over the whole door history', () => {
    const s = opened();
    const plan = s.db
      .prepare(`EXPLAIN QUERY PLAN ${DOOR_CHANGES_SINCE}`)
      .all(0)
      .map((r) => (r as { detail: string }).detail);
    expect(plan.join('; ')).toMatch(/SEARCH door_events USING INTEGER PRIMARY KEY \(rowid>\?\)/);
  });

  it('openings found and the baseline are one transaction: one that cannot be written leaves the old baseline and no fact', () => {
    const s = opened();
    recordCountedOpenings(s.ctx, { found: [], baseline: baseline(new Array(24).fill(0)) });
    expect(() =>
      recordCountedOpenings(s.ctx, {
        found: [
          { compartmentNo: 5, count: 1, ageMs: null },
          { compartmentNo: 99, count: 1, ageMs: null },
        ],
        baseline: baseline(new Array(24).fill(1), 8),
      }),
    ).toThrow();
    expect(keptOpeningsBaselines(s.ctx)).toMatchObject([{ eventCounter: 7 }]);
    expect(listAudit(s.db, { compartmentNo: 5 }).map((a) => a.action)).not.toContain('door.opened_by_count_unexplained');
    // found with the baseline: the opening is written before the position, so not listed as recorded since
    const [done] = recordCountedOpenings(s.ctx, {
      found: [{ compartmentNo: 5, count: 1, ageMs: null }],
      baseline: baseline(new Array(24).fill(1), 8),
    });
    expect(done?.outcome).toEqual({ explainedBy: [], unexplained: 1 });
    expect(keptOpeningsBaselines(s.ctx)).toMatchObject([{ eventCounter: 8, recordedSince: new Map() }]);
  });

  it('a baseline that is not one is refused and changes nothing', () => {
    const s = opened();
    expect(() => recordCountedOpenings(s.ctx, { found: [], baseline: baseline([256]) })).toThrow(/not a baseline/);
    expect(() => recordCountedOpenings(s.ctx, { found: [], baseline: baseline([1], 70_000) })).toThrow(/not a baseline/);
    expect(keptOpeningsBaselines(s.ctx)).toEqual([]);
  });
});
