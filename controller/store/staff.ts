/**
 * Staff accounts. PINs are hashed with scrypt (node:crypto) with a random salt; the parameters are stored with
 * the hash ("scrypt$N$r$p$salt$hash", base64url) so they can be raised later without breaking old hashes.
 * There is no default password: `ensureInitialAdmin` creates the first admin with a random 8-digit PIN and
 * returns it once for the caller to print; it does nothing once any staff account exists.
 *
 * Hashing is asynchronous and happens outside any transaction; the database writes that follow are synchronous.
 */
import { said, type Said } from '../words/keys.js';
import { randomBytes, randomInt, scrypt, type ScryptOptions } from 'node:crypto';
import { CabinetError } from '../errors.js';
import { SYSTEM_ACTOR, staffActor, type Actor } from '../domain/types.js';
import { DEFAULT_LOCKOUT_POLICY, lockedFor, recordFailure, recordSuccess, STAFF_ACCOUNT_POLICY, type LockoutPolicy } from './attempts.js';
import { appendAudit } from './audit.js';
import type { StoreContext } from './context.js';
import { inTransaction, stmt } from './db.js';
import { digestEqual } from './secrets.js';

export type StaffRole = 'staff' | 'admin';

export interface Staff {
  readonly id: number;
  readonly login: string;
  readonly name: string;
  readonly role: StaffRole;
  readonly mustChangePin: boolean;
  readonly disabled: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

interface Row {
  id: number;
  login: string;
  name: string;
  role: StaffRole;
  pin_hash: string;
  must_change_pin: number;
  disabled: number;
  created_at: number;
  updated_at: number;
}

const toStaff = (r: Row): Staff => ({
  id: r.id,
  login: r.login,
  name: r.name,
  role: r.role,
  mustChangePin: r.must_change_pin === 1,
  disabled: r.disabled === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

// ---------------------------------------------------------------------------------------------
// PIN hashing
// ---------------------------------------------------------------------------------------------

export interface ScryptParams {
  /** CPU/memory cost, a power of two. Default 2^15 (32 MiB with r = 8). */
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = Object.freeze({ N: 2 ** 15, r: 8, p: 1 });
const KEY_LEN = 32;

function scryptAsync(pin: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const opts: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(pin.normalize('NFKC'), salt, KEY_LEN, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

/** PIN rules: 6–12 digits, not all the same digit, not a plain ascending or descending run. */
export function pinProblem(pin: string): Said | null {
  if (!/^\d{6,12}$/.test(pin)) return said('input.pin_digits');
  if (/^(\d)\1+$/.test(pin)) return said('pin.one_digit');
  const asc = '01234567890123',
    desc = '98765432109876';
  if (asc.includes(pin) || desc.includes(pin)) return said('pin.run_of_digits');
  return null;
}

export async function hashPin(pin: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(pin, salt, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPinHash(pin: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  // refuse absurd parameters from a tampered row instead of allocating gigabytes
  if (!Number.isInteger(Math.log2(N)) || N < 2 ** 10 || N > 2 ** 20 || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const expected = Buffer.from(parts[5] ?? '', 'base64url');
  if (salt.length < 16 || expected.length !== KEY_LEN) return false;
  const key = await scryptAsync(pin, salt, { N, r, p });
  return digestEqual(key, expected);
}

// ---------------------------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------------------------

export function getStaff(ctx: StoreContext, id: number): Staff | null {
  const r = stmt<[number], Row>(ctx.db, 'SELECT * FROM staff WHERE id = ?').get(id);
  return r ? toStaff(r) : null;
}

export function findStaffByLogin(ctx: StoreContext, login: string): Staff | null {
  const r = stmt<[string], Row>(ctx.db, 'SELECT * FROM staff WHERE login = ?').get(login);
  return r ? toStaff(r) : null;
}

export function listStaff(ctx: StoreContext): Staff[] {
  return stmt<[], Row>(ctx.db, 'SELECT * FROM staff ORDER BY id').all().map(toStaff);
}

export async function createStaff(
  ctx: StoreContext,
  args: { login: string; name: string; role: StaffRole; pin: string; mustChangePin?: boolean },
  actor: Actor,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<Staff> {
  if (!/^[a-z0-9]{1,32}$/.test(args.login)) throw new CabinetError('VALIDATION', 'login must be 1–32 lower-case letters or digits');
  const name = args.name.trim();
  if (name.length < 1 || name.length > 30) throw new CabinetError('VALIDATION', 'name must be 1–30 characters');
  const problem = pinProblem(args.pin);
  if (problem) throw new CabinetError('PIN_POLICY', problem);
  const hash = await hashPin(args.pin, params);
  return inTransaction(ctx.db, () => {
    const now = ctx.now();
    let id: number;
    try {
      id = Number(
        stmt(ctx.db, 'INSERT INTO staff (login, name, role, pin_hash, must_change_pin, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
          args.login,
          name,
          args.role,
          hash,
          args.mustChangePin ? 1 : 0,
          now,
          now,
        ).lastInsertRowid,
      );
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new CabinetError('DUPLICATE', `login "${args.login}" is taken`);
      throw err;
    }
    appendAudit(ctx.db, now, { actor, action: 'staff.created', detail: { staffId: id, role: args.role } });
    const s = getStaff(ctx, id);
    if (!s) throw new CabinetError('NOT_FOUND', 'staff row vanished');
    return s;
  });
}

/**
 * First start: when there is no staff account at all, creates admin "admin" with a random 8-digit PIN that must
 * be changed, and returns the PIN (print it once; it is not stored). Returns null on every later start.
 */
export async function ensureInitialAdmin(ctx: StoreContext, params: ScryptParams = DEFAULT_SCRYPT): Promise<{ login: string; pin: string } | null> {
  const anyStaff = () => stmt(ctx.db, 'SELECT 1 FROM staff LIMIT 1').get() !== undefined;
  if (anyStaff()) return null;
  let pin = '';
  do pin = String(randomInt(0, 100_000_000)).padStart(8, '0');
  while (pinProblem(pin) !== null);
  const hash = await hashPin(pin, params);
  return inTransaction(ctx.db, () => {
    if (anyStaff()) return null; // another start raced us while hashing
    const now = ctx.now();
    const id = Number(
      stmt(
        ctx.db,
        `INSERT INTO staff (login, name, role, pin_hash, must_change_pin, created_at, updated_at) VALUES ('admin', '管理员', 'admin', ?, 1, ?, ?)`,
      ).run(hash, now, now).lastInsertRowid,
    );
    appendAudit(ctx.db, now, { actor: SYSTEM_ACTOR, action: 'staff.initial_admin_created', detail: { staffId: id } });
    return { login: 'admin', pin };
  });
}

export type StaffLoginResult =
  | { readonly ok: true; readonly staff: Staff }
  | { readonly ok: false; readonly reason: 'invalid' }
  | { readonly ok: false; readonly reason: 'locked'; readonly retryAfterMs: number };

// A real scrypt hash of a random PIN: unknown logins cost the same time as known ones.
let dummyHash: Promise<string> | null = null;

/**
 * Checks a staff PIN at device `deviceId` (for HTTP: `http:<source address>`). Failures count in the database per
 * device, which is locked (`policy`, 1 min doubling to 60 min), and per login, which only waits (STAFF_ACCOUNT_POLICY,
 * at most 60 s): nobody can lock the owner out of an account. A waiting login or locked device is refused before
 * the PIN is checked. Disabled accounts and unknown logins answer "invalid".
 */
export async function verifyStaffPin(
  ctx: StoreContext,
  args: { login: string; pin: string; deviceId: string },
  policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
): Promise<StaffLoginResult> {
  const now0 = ctx.now();
  const wait = Math.max(
    lockedFor(ctx.db, 'staff', args.login, now0, STAFF_ACCOUNT_POLICY.maxLockoutMs),
    lockedFor(ctx.db, 'device', args.deviceId, now0, policy.maxLockoutMs),
  );
  if (wait > 0) return { ok: false, reason: 'locked', retryAfterMs: wait };
  const row = stmt<[string], Row>(ctx.db, 'SELECT * FROM staff WHERE login = ?').get(args.login);
  dummyHash ??= hashPin(randomBytes(8).toString('hex'));
  const good = await verifyPinHash(args.pin, row?.pin_hash ?? (await dummyHash));
  return inTransaction(ctx.db, () => {
    const now = ctx.now();
    if (row && good && row.disabled === 0) {
      recordSuccess(ctx.db, 'staff', args.login);
      appendAudit(ctx.db, now, { actor: staffActor(row.id), action: 'staff.login', detail: { deviceId: args.deviceId } });
      return { ok: true, staff: toStaff(row) } as const;
    }
    const s = recordFailure(ctx.db, 'staff', args.login, now, STAFF_ACCOUNT_POLICY);
    const d = recordFailure(ctx.db, 'device', args.deviceId, now, policy);
    appendAudit(ctx.db, now, {
      actor: { kind: 'kiosk', id: args.deviceId },
      action: 'staff.login_failed',
      detail: { staffId: row?.id ?? null, disabled: row ? row.disabled === 1 : null },
    });
    const until = Math.max(s.lockedUntil ?? 0, d.lockedUntil ?? 0);
    return until > now ? ({ ok: false, reason: 'locked', retryAfterMs: until - now } as const) : ({ ok: false, reason: 'invalid' } as const);
  });
}

export async function setStaffPin(
  ctx: StoreContext,
  staffId: number,
  pin: string,
  actor: Actor,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<void> {
  const problem = pinProblem(pin);
  if (problem) throw new CabinetError('PIN_POLICY', problem);
  const hash = await hashPin(pin, params);
  inTransaction(ctx.db, () => {
    const self = actor.kind === 'staff' && actor.id === String(staffId);
    const r = stmt(ctx.db, 'UPDATE staff SET pin_hash = ?, must_change_pin = ?, updated_at = ? WHERE id = ?').run(
      hash,
      self ? 0 : 1,
      ctx.now(),
      staffId,
    );
    if (r.changes !== 1) throw new CabinetError('NOT_FOUND', `no staff #${staffId}`);
    appendAudit(ctx.db, ctx.now(), { actor, action: 'staff.pin_changed', detail: { staffId, bySelf: self } });
  });
}

/** Disables or re-enables an account. The last enabled admin cannot be disabled. */
export function setStaffDisabled(ctx: StoreContext, staffId: number, disabled: boolean, actor: Actor): Staff {
  return inTransaction(ctx.db, () => {
    const s = getStaff(ctx, staffId);
    if (!s) throw new CabinetError('NOT_FOUND', `no staff #${staffId}`);
    if (disabled && s.role === 'admin') {
      const admins = stmt<[], { n: number }>(ctx.db, `SELECT count(*) AS n FROM staff WHERE role = 'admin' AND disabled = 0`).get()?.n ?? 0;
      if (admins <= 1) throw new CabinetError('VALIDATION', 'the last enabled administrator cannot be disabled');
    }
    stmt(ctx.db, 'UPDATE staff SET disabled = ?, updated_at = ? WHERE id = ?').run(disabled ? 1 : 0, ctx.now(), staffId);
    appendAudit(ctx.db, ctx.now(), { actor, action: disabled ? 'staff.disabled' : 'staff.enabled', detail: { staffId } });
    const out = getStaff(ctx, staffId);
    if (!out) throw new CabinetError('NOT_FOUND', `no staff #${staffId}`);
    return out;
  });
}
