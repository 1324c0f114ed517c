/**
 * Failed-attempt counters with growing lockouts, kept in the database so a power cycle does not reset them.
 *
 * Policy (defaults; see REFERENCE.md "Security numbers"): every `failuresPerLockout` failures in a row lock the
 * key for baseLockoutMs × 2^(lockouts so far), capped at maxLockoutMs. With 5 failures and 1 min doubling to
 * 60 min, a kiosk allows at most a few dozen guesses an hour, far below what 8-digit codes paired with 4 phone
 * digits would need. Failures older than `failureWindowMs` are forgotten (one typo per resident on a busy day
 * does not add up to a lockout); after a quiet `decayAfterMs` the lockout level starts again from 0.
 * A success resets credential and staff counters, but NOT device counters: someone holding one valid code
 * could otherwise reset the kiosk's counter between every few guesses.
 * Per secret (credential), `maxConsecutivePerSecret` failures since the last success revoke it (NIST 800-63B: 100).
 *
 * Who is counted with which policy (see README, Security): a kiosk's typed codes (scope device, KIOSK_TYPED_POLICY:
 * a short wait, never a lock-out); a phone suffix (scope credential, key `last4:<keyed digest>`,
 * PHONE_SUFFIX_POLICY); a code (scope credential, DEFAULT); a staff sign-in's source address (scope device, key
 * `http:<address>`, DEFAULT); a staff account (scope staff, STAFF_ACCOUNT_POLICY: a wait, never a lock-out).
 * QR scans are not counted: a valid signed token always opens, and forging a 128-bit signature is no guessing game.
 * Time comes from the caller (`now`), so the clock stays injectable.
 */
import { stmt, type DB } from './db.js';

export type AttemptScope = 'device' | 'credential' | 'staff';

export interface LockoutPolicy {
  /** Failures that trigger a lockout, 3–20. Default 5. */
  readonly failuresPerLockout: number;
  /** First lockout, ms. Default 60 000. */
  readonly baseLockoutMs: number;
  /** Longest lockout, ms. Default 3 600 000. */
  readonly maxLockoutMs: number;
  /** Failures older than this no longer count towards the next lockout, ms. Default 10 min. */
  readonly failureWindowMs: number;
  /** After this long without a failure the lockout level resets, ms. Default 6 h. */
  readonly decayAfterMs: number;
  /** Failures since last success after which a secret is revoked, 10–100. Default 100. */
  readonly maxConsecutivePerSecret: number;
}

export const DEFAULT_LOCKOUT_POLICY: LockoutPolicy = Object.freeze({
  failuresPerLockout: 5,
  baseLockoutMs: 60_000,
  maxLockoutMs: 60 * 60_000,
  failureWindowMs: 10 * 60_000,
  decayAfterMs: 6 * 60 * 60_000,
  maxConsecutivePerSecret: 100,
});

/**
 * Typed pickup codes at one kiosk: a short wait that grows (3 failures → 5 s, then 10, 20, 30 s at most), never a
 * lock-out: the next person at the screen waits half a minute at worst, and QR scans are never slowed down.
 */
export const KIOSK_TYPED_POLICY: LockoutPolicy = Object.freeze({
  failuresPerLockout: 3,
  baseLockoutMs: 5_000,
  maxLockoutMs: 30_000,
  failureWindowMs: 10 * 60_000,
  decayAfterMs: 60 * 60_000,
  maxConsecutivePerSecret: 100,
});

/**
 * Wrong codes typed with one phone suffix (last 4 digits), from any kiosk: 10 in an hour hold that suffix for
 * 10 min, doubling to 60 min. Someone who knows a resident's suffix and tries codes gets about 10 tries an
 * hour, not the kiosks' combined rate; residents with other suffixes are not affected.
 */
export const PHONE_SUFFIX_POLICY: LockoutPolicy = Object.freeze({
  failuresPerLockout: 10,
  baseLockoutMs: 10 * 60_000,
  maxLockoutMs: 60 * 60_000,
  failureWindowMs: 60 * 60_000,
  decayAfterMs: 24 * 60 * 60_000,
  maxConsecutivePerSecret: 100,
});

/**
 * Wrong PINs for one staff account, from any address: a wait (5 failures → 5 s, doubling to 60 s at most), never
 * a lock-out, so nobody can keep the owner out of their account. The address the guesses come from is locked
 * with the default policy (1 min doubling to 60 min).
 */
export const STAFF_ACCOUNT_POLICY: LockoutPolicy = Object.freeze({
  failuresPerLockout: 5,
  baseLockoutMs: 5_000,
  maxLockoutMs: 60_000,
  failureWindowMs: 10 * 60_000,
  decayAfterMs: 6 * 60 * 60_000,
  maxConsecutivePerSecret: 100,
});

/** The longest wait any policy above decides (a default bound for `lockedFor`). */
export const LONGEST_LOCKOUT_MS = Math.max(
  DEFAULT_LOCKOUT_POLICY.maxLockoutMs,
  KIOSK_TYPED_POLICY.maxLockoutMs,
  PHONE_SUFFIX_POLICY.maxLockoutMs,
  STAFF_ACCOUNT_POLICY.maxLockoutMs,
);

export interface AttemptCounter {
  readonly failures: number;
  readonly consecutive: number;
  readonly lockouts: number;
  readonly lockedUntil: number | null;
  readonly lastFailureAt: number | null;
}

interface Row {
  failures: number;
  consecutive: number;
  lockouts: number;
  locked_until: number | null;
  last_failure_at: number | null;
}

export function getCounter(db: DB, scope: AttemptScope, key: string): AttemptCounter {
  const r = stmt<[string, string], Row>(
    db,
    'SELECT failures, consecutive, lockouts, locked_until, last_failure_at FROM attempt_counters WHERE scope = ? AND key = ?',
  ).get(scope, key);
  return r
    ? { failures: r.failures, consecutive: r.consecutive, lockouts: r.lockouts, lockedUntil: r.locked_until, lastFailureAt: r.last_failure_at }
    : { failures: 0, consecutive: 0, lockouts: 0, lockedUntil: null, lastFailureAt: null };
}

/**
 * ms until the key may try again, or 0 when it is not locked. A wait longer than `maxMs` (the policy's longest)
 * was decided by a clock that ran fast and was corrected since: it is re-anchored to `now + maxMs`, so a skew never
 * lengthens a wait beyond the policy's maximum of real time.
 */
export function lockedFor(db: DB, scope: AttemptScope, key: string, now: number, maxMs: number = LONGEST_LOCKOUT_MS): number {
  const c = getCounter(db, scope, key);
  if (c.lockedUntil === null || c.lockedUntil <= now) return 0;
  if (c.lockedUntil - now <= maxMs) return c.lockedUntil - now;
  db.prepare('UPDATE attempt_counters SET locked_until = ?, last_failure_at = min(last_failure_at, ?) WHERE scope = ? AND key = ?').run(
    now + maxMs,
    now,
    scope,
    key,
  );
  return maxMs;
}

/** Counts one failure; returns the counter after it. Call inside the caller's transaction. */
export function recordFailure(db: DB, scope: AttemptScope, key: string, now: number, policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY): AttemptCounter {
  const c = getCounter(db, scope, key);
  // A last failure "in the future" was stamped by a clock that ran fast: it is forgotten, not counted for the skew.
  const since = c.lastFailureAt === null || c.lastFailureAt > now ? Infinity : now - c.lastFailureAt;
  let lockouts = since >= policy.decayAfterMs ? 0 : c.lockouts;
  let failures = (since >= policy.failureWindowMs ? 0 : c.failures) + 1;
  let lockedUntil = c.lockedUntil;
  if (failures >= policy.failuresPerLockout) {
    const ms = Math.min(policy.baseLockoutMs * 2 ** Math.min(lockouts, 30), policy.maxLockoutMs);
    lockedUntil = now + ms;
    lockouts += 1;
    failures = 0;
  }
  const consecutive = c.consecutive + 1;
  stmt(
    db,
    `INSERT INTO attempt_counters (scope, key, failures, consecutive, lockouts, locked_until, last_failure_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (scope, key) DO UPDATE SET failures = excluded.failures, consecutive = excluded.consecutive,
       lockouts = excluded.lockouts, locked_until = excluded.locked_until, last_failure_at = excluded.last_failure_at`,
  ).run(scope, key, failures, consecutive, lockouts, lockedUntil, now);
  return { failures, consecutive, lockouts, lockedUntil, lastFailureAt: now };
}

/** A success clears a credential's or staff login's counters. Device counters are never cleared by a success. */
export function recordSuccess(db: DB, scope: 'credential' | 'staff', key: string): void {
  clearCounter(db, scope, key);
}

/** Staff action: lift a lockout (e.g. after checking who is at the kiosk). The caller audits it. */
export function clearCounter(db: DB, scope: AttemptScope, key: string): void {
  stmt(db, 'DELETE FROM attempt_counters WHERE scope = ? AND key = ?').run(scope, key);
}
