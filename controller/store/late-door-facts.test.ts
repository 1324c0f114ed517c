/**
 * Door changes written late (seen while the store could not write): in one transaction, each at the time it was seen,
 * attributed as of that time, marked as late; and the count of those that could not even be kept.
 */
import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR, staffActor } from '../domain/types.js';
import { listAudit } from './audit.js';
import { applyLayout, getCompartment, layoutGrid } from './compartments.js';
import { openTestStore } from './test-support.js';
import { claimIntentForSend, createUnlockIntent, listDoorFacts, markIntentAcked, recordLateDoorFacts } from './unlocks.js';

function cabinet() {
  const s = openTestStore();
  applyLayout(s.ctx, layoutGrid(1, 24), SYSTEM_ACTOR);
  return s;
}

describe('door changes written late', () => {
  it('are written at the times they were seen, marked late, and attributed as of then', () => {
    const s = cabinet();
    const t0 = s.clock.t;
    const i = createUnlockIntent(s.ctx, { compartmentNo: 3, actor: staffActor(1), reason: 'staff_open' });
    claimIntentForSend(s.ctx, i.id, 11);
    markIntentAcked(s.ctx, i.id);
    s.clock.advance(600_000); // written ten minutes later, long past the window
    const out = recordLateDoorFacts(s.ctx, {
      facts: [
        { compartmentNo: 3, door: 'open', source: 'event', ageMs: 0, at: t0 + 2_000 }, // two seconds after its unlock
        { compartmentNo: 3, door: 'closed', source: 'event', ageMs: 0, at: t0 + 9_000 },
        { compartmentNo: 8, door: 'open', source: 'event', ageMs: 0, at: t0 + 20_000 }, // forced
      ],
      notKept: { count: 5, from: t0 + 30_000, to: t0 + 50_000, compartments: [8] },
    });
    expect(out.map((r) => [r.compartmentNo, r.fact?.intentId ?? null, r.unexplainedOpen, r.at])).toEqual([
      [3, i.id, false, t0 + 2_000],
      [3, null, false, t0 + 9_000],
      [8, null, true, t0 + 20_000],
    ]);
    expect(listDoorFacts(s.ctx, 3).map((f) => [f.door, f.at])).toEqual([
      ['closed', t0 + 9_000],
      ['open', t0 + 2_000],
    ]);
    expect(getCompartment(s.ctx, 8)).toMatchObject({ door: 'open' });
    const rows = listAudit(s.db, { compartmentNo: 8 });
    expect(rows.map((a) => [a.action, a.at, a.detail])).toEqual([
      ['door.opened_unexplained', t0 + 20_000, { source: 'event', from: 'unknown', late: true, writtenAt: t0 + 600_000 }],
      ['door.not_recorded', t0 + 600_000, { count: 5, from: t0 + 30_000, to: t0 + 50_000, compartments: [8] }],
    ]);
    s.close();
  });

  it('all or nothing: a batch that cannot be written leaves no row of it', () => {
    const s = cabinet();
    const before = listAudit(s.db).length;
    expect(() =>
      recordLateDoorFacts(s.ctx, {
        facts: [
          { compartmentNo: 2, door: 'open', source: 'event', ageMs: 0, at: s.clock.t },
          { compartmentNo: 99, door: 'open', source: 'event', ageMs: 0, at: s.clock.t },
        ],
        notKept: null,
      }),
    ).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(listAudit(s.db)).toHaveLength(before);
    expect(listDoorFacts(s.ctx, 2)).toEqual([]);
    s.close();
  });
});
