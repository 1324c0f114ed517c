/**
 * Staff sign-in sessions. The bearer token is 256 random bits, handed out once; only its SHA-256 is stored, so
 * a copy of the database does not let anyone sign in. A session ends:
 *   - after `idleMs` without use (sliding: every authenticated call moves last_seen_at),
 *   - at `expires_at` whatever the use (absolute),
 *   - on logout, when the account's PIN is changed or reset, and when the account is disabled,
 *   - at once for a disabled account even if a row is left (the lookup joins the staff table).
 */
import { createHash, randomBytes } from 'node:crypto';
import { CabinetError } from '../errors.js';
import type { StoreContext } from './context.js';
import type { StaffRole } from './staff.js';
import { stmt } from './db.js';

export interface SessionPolicy {
  /** A session unused for this long ends, ms. Default 30 min. */
  readonly idleMs: number;
  /** A session ends this long after sign-in whatever the use, ms. Default 12 h. */
  readonly absoluteMs: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = Object.freeze({ idleMs: 30 * 60_000, absoluteMs: 12 * 60 * 60_000 });

export interface StaffSession {
  readonly id: number;
  readonly staffId: number;
  readonly login: string;
  readonly name: string;
  readonly role: StaffRole;
  readonly mustChangePin: boolean;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  /** Absolute end. */
  readonly expiresAt: number;
  /** When it ends if left unused from now (never after expiresAt). */
  readonly idleExpiresAt: number;
}

interface Row {
  id: number;
  staff_id: number;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  login: string;
  name: string;
  role: StaffRole;
  must_change_pin: number;
}

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

export function sessionTokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function toSession(r: Row, lastSeenAt: number, policy: SessionPolicy): StaffSession {
  return {
    id: r.id,
    staffId: r.staff_id,
    login: r.login,
    name: r.name,
    role: r.role,
    mustChangePin: r.must_change_pin === 1,
    createdAt: r.created_at,
    lastSeenAt,
    expiresAt: r.expires_at,
    idleExpiresAt: Math.min(lastSeenAt + policy.idleMs, r.expires_at),
  };
}

/** Opens a session for a staff member who has just proved their PIN. Returns the token (only this once). */
export function createSession(
  ctx: StoreContext,
  args: { staffId: number; device: string },
  policy: SessionPolicy = DEFAULT_SESSION_POLICY,
): { token: string; session: StaffSession } {
  const now = ctx.now();
  const token = randomBytes(32).toString('base64url');
  // sweep: sessions past either limit are dead anyway
  stmt(ctx.db, 'DELETE FROM staff_sessions WHERE expires_at <= ? OR last_seen_at <= ?').run(now, now - policy.idleMs);
  const r = stmt(
    ctx.db,
    'INSERT INTO staff_sessions (token_hash, staff_id, device, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
  ).run(sessionTokenHash(token), args.staffId, args.device.slice(0, 100), now, now, now + policy.absoluteMs);
  const session = findSession(ctx, token, { touch: false }, policy);
  if (!session)
    throw new CabinetError('NOT_FOUND', `session #${Number(r.lastInsertRowid)} of staff #${args.staffId} is not usable (disabled account?)`);
  return { token, session };
}

/**
 * The live session a token names, or null (unknown, expired, or its account disabled). With `touch` (the
 * default) the idle timer restarts: use it for calls a person makes, not for background checks.
 */
export function findSession(
  ctx: StoreContext,
  token: string,
  opts: { touch?: boolean } = {},
  policy: SessionPolicy = DEFAULT_SESSION_POLICY,
): StaffSession | null {
  if (!TOKEN_RE.test(token)) return null;
  const now = ctx.now();
  const r = stmt<[Buffer], Row>(
    ctx.db,
    `SELECT s.id, s.staff_id, s.created_at, s.last_seen_at, s.expires_at, st.login, st.name, st.role, st.must_change_pin
       FROM staff_sessions s JOIN staff st ON st.id = s.staff_id
       WHERE s.token_hash = ? AND st.disabled = 0`,
  ).get(sessionTokenHash(token));
  if (!r) return null;
  if (r.expires_at <= now || r.last_seen_at + policy.idleMs <= now) {
    stmt(ctx.db, 'DELETE FROM staff_sessions WHERE id = ?').run(r.id);
    return null;
  }
  if (opts.touch === false) return toSession(r, r.last_seen_at, policy);
  stmt(ctx.db, 'UPDATE staff_sessions SET last_seen_at = ? WHERE id = ?').run(now, r.id);
  return toSession(r, now, policy);
}

/** Logout. */
export function deleteSession(ctx: StoreContext, sessionId: number): boolean {
  return stmt(ctx.db, 'DELETE FROM staff_sessions WHERE id = ?').run(sessionId).changes === 1;
}

/** Ends every session of a staff member, except `keepSessionId` (the one that changed its own PIN). */
export function deleteSessionsOfStaff(ctx: StoreContext, staffId: number, keepSessionId?: number): number {
  return stmt(ctx.db, 'DELETE FROM staff_sessions WHERE staff_id = ? AND id <> ?').run(staffId, keepSessionId ?? -1).changes;
}
