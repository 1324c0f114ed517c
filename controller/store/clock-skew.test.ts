/**
 * A wall clock that ran fast and was corrected: rows stamped "in the future" must not block unlocks nor extend
 * lock-outs by the size of the skew, and every refusal leaves an audit row.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_UNLOCK_POLICY } from '../domain/unlock-policy.js';
import { KIOSK_TYPED_POLICY, lockedFor, recordFailure } from './attempts.js';
import { listAudit } from './audit.js';
import { claimIntentForSend, createUnlockIntent, markIntentAcked } from './unlocks.js';
import { applyLayout, layoutGrid } from './index.js';
import { openTestStore } from './test-support.js';
import { SYSTEM_ACTOR } from '../domain/types.js';

const DAY = 86_400_000;
const policy = { ...DEFAULT_UNLOCK_POLICY, maxPerMinute: 5 };

describe('unlock cap after a clock correction', () => {
  it('intents stamped 400 days ahead do not count as "the last minute" once the clock is right again', () => {
    const s = openTestStore();
    applyLayout(s.ctx, layoutGrid(1, 24), SYSTEM_ACTOR);
    const real = s.clock.t;
    s.clock.t = real + 400 * DAY; // the clock ran fast
    for (let n = 1; n <= 5; n++) {
      const i = createUnlockIntent(s.ctx, { compartmentNo: n, actor: SYSTEM_ACTOR, reason: 'staff_open' }, policy);
      claimIntentForSend(s.ctx, i.id, n);
      markIntentAcked(s.ctx, i.id);
    }
    s.clock.t = real + 60_000; // corrected
    expect(() => createUnlockIntent(s.ctx, { compartmentNo: 9, actor: SYSTEM_ACTOR, reason: 'staff_open' }, policy)).not.toThrow();
    s.close();
  });

  it('a refused unlock leaves an audit row', () => {
    const s = openTestStore();
    applyLayout(s.ctx, layoutGrid(1, 24), SYSTEM_ACTOR);
    for (let n = 1; n <= 5; n++) {
      const i = createUnlockIntent(s.ctx, { compartmentNo: n, actor: SYSTEM_ACTOR, reason: 'staff_open' }, policy);
      claimIntentForSend(s.ctx, i.id, n);
      markIntentAcked(s.ctx, i.id);
    }
    expect(() => createUnlockIntent(s.ctx, { compartmentNo: 9, actor: SYSTEM_ACTOR, reason: 'staff_open' }, policy)).toThrow(
      expect.objectContaining({ code: 'UNLOCK_RATE_LIMITED' }),
    );
    expect(listAudit(s.db, { action: 'unlock.rate_limited' })).toHaveLength(1);
    s.close();
  });
});

describe('lock-outs after a clock correction', () => {
  it('a wait decided while the clock was 400 days fast lasts at most the policy maximum of real time', () => {
    const s = openTestStore();
    const real = s.clock.t;
    s.clock.t = real + 400 * DAY;
    for (let i = 0; i < 12; i++) recordFailure(s.db, 'device', 'kiosk-1', s.clock.t, KIOSK_TYPED_POLICY);
    expect(lockedFor(s.db, 'device', 'kiosk-1', s.clock.t, KIOSK_TYPED_POLICY.maxLockoutMs)).toBeGreaterThan(0);
    s.clock.t = real; // corrected
    const wait = lockedFor(s.db, 'device', 'kiosk-1', s.clock.t, KIOSK_TYPED_POLICY.maxLockoutMs);
    expect(wait).toBeLessThanOrEqual(KIOSK_TYPED_POLICY.maxLockoutMs);
    s.clock.t += KIOSK_TYPED_POLICY.maxLockoutMs + 1;
    expect(lockedFor(s.db, 'device', 'kiosk-1', s.clock.t, KIOSK_TYPED_POLICY.maxLockoutMs)).toBe(0);
    // and the failures stamped in the future are forgotten: one new typo does not lock again
    recordFailure(s.db, 'device', 'kiosk-1', s.clock.t, KIOSK_TYPED_POLICY);
    expect(lockedFor(s.db, 'device', 'kiosk-1', s.clock.t, KIOSK_TYPED_POLICY.maxLockoutMs)).toBe(0);
    s.close();
  });
});
