import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../errors.js';
import {
  cutOffDoor,
  DEFAULT_UNLOCK_POLICY,
  explainsOpeningSince,
  isOutcomeUnknown,
  policyProblems,
  RATE_WINDOW_MS,
  RecentUnlocks,
  replyDeadlineMs,
  retrySpanMs,
  unlockFailure,
  unlockPolicyFrom,
  unopenedUnlock,
  UnlockTimes,
  withinRate,
} from './unlock-policy.js';

describe('the unlock policy', () => {
  it('classifies every link error: after a transmission with no settling answer the outcome is unknown', () => {
    const verdicts = Object.fromEntries(ERROR_CODES.link.map((c) => [c, unlockFailure(c)]));
    expect(verdicts).toEqual({
      LINK_TIMEOUT: 'outcome_unknown',
      UNLOCK_UNCONFIRMED: 'outcome_unknown',
      LINK_DISCONNECTED: 'outcome_unknown',
      BOARD_REBOOTED: 'outcome_unknown',
      LINK_CLOSED: 'outcome_unknown',
      LINK_NAK: 'refused',
      LINK_OFFLINE: 'not_sent',
      UNLOCK_EXPIRED: 'not_sent',
      BOARD_MISMATCH: 'not_sent',
      NO_SUCH_COMPARTMENT: 'not_sent',
    });
    expect(isOutcomeUnknown('UNLOCK_RATE_LIMITED')).toBe(false);
  });

  it('is built from the settings and checks its own rules', () => {
    const p = unlockPolicyFrom({ unlockTtlMs: 1000, retries: 2, responseTimeoutMs: 500, unlockMaxPerMinute: 3, tamperWindowMs: 2000 });
    expect(retrySpanMs(p)).toBe(1500);
    expect(policyProblems(p, 5000).map((x) => x.code)).toEqual(['TTL_BELOW_RETRY_SPAN', 'TAMPER_WINDOW_BELOW_DOOR_WAIT']);
    expect(policyProblems(DEFAULT_UNLOCK_POLICY, 5000)).toEqual([]);
    expect([withinRate(2, p), withinRate(3, p)]).toEqual([true, false]);
    expect(explainsOpeningSince(100_000, p)).toBe(98_000);
    expect(explainsOpeningSince(100_000, p, { ageMs: 30_000 })).toBe(68_000); // found by a late STATUS
    expect(explainsOpeningSince(100_000, p, { ageMs: null, doorRecordedAt: 40_000 })).toBe(38_000); // first reading after a start
  });

  it('gives a vendor adapter room for its own exchange in the reply deadline', () => {
    expect(replyDeadlineMs({ responseTimeoutMs: 500 })).toBe(500);
    expect(replyDeadlineMs({ responseTimeoutMs: 500, lockBoard: '8a80' })).toBe(1100);
    expect(replyDeadlineMs({ responseTimeoutMs: 9000, lockBoard: '8a80' })).toBe(10_000);
  });
});

describe('the unlocks of the last minute, on a monotonic clock', () => {
  it('counts what was decided within the window and forgets it after, whatever the wall clock does', () => {
    let t = 5_000;
    const recent = new RecentUnlocks(3, () => t);
    expect(recent.count()).toBe(0);
    recent.record();
    t += 10_000;
    recent.record();
    expect(recent.count()).toBe(2);
    t += RATE_WINDOW_MS - 10_000; // the first is exactly a minute old: out
    expect(recent.count()).toBe(1);
    t += 10_001;
    expect(recent.count()).toBe(0);
  });

  it('keeps at most the cap of entries', () => {
    let t = 0;
    const recent = new RecentUnlocks(2, () => t);
    for (let i = 0; i < 5; i++) {
      recent.record();
      t += 1;
    }
    expect(recent.count()).toBe(2);
  });
});

describe("which of this process's unlocks explain a door opening, on a monotonic clock", () => {
  const p = { ...DEFAULT_UNLOCK_POLICY, tamperWindowMs: 10_000 };

  it('those sent or answered within the window before the opening may have happened, latest unlock first', () => {
    let t = 1_000;
    const times = new UnlockTimes(10, () => t);
    times.noted(1);
    t += 5_000;
    times.noted(2);
    t += 6_000; // #1 was 11 s ago, #2 6 s ago
    expect(times.explaining(p)).toEqual([2]);
    expect(times.explaining(p, { ageMs: 2_000 })).toEqual([2, 1]); // a poll: the door may have opened 2 s ago
    expect(times.explaining(p, { ageMs: null })).toEqual([2, 1]); // a first reading: at any time
    times.noted(1); // answered now: its window starts again
    expect(times.explaining(p)).toEqual([2, 1]);
    t += 10_001;
    expect(times.explaining(p)).toEqual([]);
  });

  it('keeps at most its limit, the oldest going first', () => {
    let t = 0;
    const times = new UnlockTimes(2, () => t);
    for (const id of [1, 2, 3]) {
      times.noted(id);
      t += 1;
    }
    expect(times.explaining(p, { ageMs: null })).toEqual([3, 2]);
  });
});

describe('an acknowledged unlock never seen open, at start-up', () => {
  it('is a door that stayed shut unless its operation is still under way or the door is open now', () => {
    expect(unopenedUnlock({ operationUnderWay: false, doorOpenNow: false })).toBe('stayed_shut');
    expect(unopenedUnlock({ operationUnderWay: false, doorOpenNow: true })).toBe('open_now');
    expect(unopenedUnlock({ operationUnderWay: true, doorOpenNow: false })).toBe('cut_off');
    expect(unopenedUnlock({ operationUnderWay: true, doorOpenNow: true })).toBe('cut_off');
  });
});

describe('the door of an operation cut off by a stop, at start-up', () => {
  it('opened when proven; shut when nothing went out or the kept count shows no opening; else it may have opened', () => {
    const f = { openingProven: false, unlockTransmitted: true, countedSinceStop: false };
    expect(cutOffDoor({ ...f, openingProven: true })).toBe('opened');
    expect(cutOffDoor({ ...f, openingProven: true, countedSinceStop: true })).toBe('opened');
    expect(cutOffDoor({ ...f, unlockTransmitted: false })).toBe('never_sent');
    expect(cutOffDoor({ ...f, unlockTransmitted: false, countedSinceStop: true })).toBe('never_sent');
    expect(cutOffDoor({ ...f, countedSinceStop: true })).toBe('shut_by_count');
    expect(cutOffDoor(f)).toBe('may_have_opened');
  });
});
