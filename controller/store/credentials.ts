/**
 * Pickup and deposit credentials.
 *
 * - A code is 8 digits from crypto.randomInt, unique among ACTIVE codes, and stored only as
 *   HMAC-SHA256(pickup-code subkey, code). It is returned once by `issueCredential`, for the notification
 *   (which keeps it encrypted, see outbox.ts), and never written anywhere in clear.
 * - Typed at the kiosk it is checked together with the last 4 digits of the resident's mobile; both comparisons
 *   are of fixed-length HMAC digests with timingSafeEqual.
 * - A credential stays valid until the request is collected / retrieved / cancelled / rejected (or the materials
 *   deposited): then `revokeCredentials` ends it, in the same transaction as the state change, so it can never
 *   be used twice.
 * - Failed typed codes are counted in the database (attempts.ts) per kiosk (a short growing wait, never a
 *   lock-out), per phone suffix typed and per credential; a waiting kiosk or suffix is refused before anything is
 *   checked. A wrong code and a right code with wrong phone digits give the same answer, so the kiosk never tells
 *   which codes exist. QR scans are not throttled: a valid signed token always opens; bad ones are audited.
 * - QR tokens: compact, signed with HMAC-SHA256 (truncated to 128 bits), base64url. A request token carries
 *   purpose + request id + credential id (35 characters); a resident token carries the resident's random QR id
 *   and when it was issued (51 characters; it expires after 30 days). They need no storage; validity comes from
 *   the credential's row, or the resident's current QR id.
 */
import { randomInt } from 'node:crypto';
import { CabinetError } from '../errors.js';
import type { RequestState } from '../domain/request-states.js';
import { kioskActor, type Actor } from '../domain/types.js';
import {
  DEFAULT_LOCKOUT_POLICY,
  KIOSK_TYPED_POLICY,
  lockedFor,
  PHONE_SUFFIX_POLICY,
  recordFailure,
  recordSuccess,
  type LockoutPolicy,
} from './attempts.js';
import { appendAudit } from './audit.js';
import type { StoreContext } from './context.js';
import { inTransaction, stmt } from './db.js';
import { blankSecretsForRequest } from './outbox.js';
import { findResidentByQrId, type Resident } from './residents.js';
import { digestEqual, hmacSha256, type ServerKeys } from './secrets.js';

export type CredentialPurpose = 'pickup' | 'deposit';

/** Request states in which a credential of each purpose opens a door. */
const VALID_IN: Record<CredentialPurpose, readonly RequestState[]> = {
  pickup: ['loaded', 'overdue'],
  deposit: ['awaiting_materials'],
};

export const CODE_DIGITS = 8;
const CODE_RE = /^\d{8}$/;
const LAST4_RE = /^\d{4}$/;

export function codeHash(keys: ServerKeys, code: string): Buffer {
  return hmacSha256(keys.get('pickup-code'), code);
}

function phoneDigest(keys: ServerKeys, last4: string): Buffer {
  return hmacSha256(keys.get('phone-check'), last4);
}

/** A new random 8-digit code (uniform over 00000000–99999999). */
export function generateCode(): string {
  return String(randomInt(0, 10 ** CODE_DIGITS)).padStart(CODE_DIGITS, '0');
}

export interface IssuedCredential {
  readonly credentialId: number;
  readonly requestId: number;
  readonly purpose: CredentialPurpose;
  /** The code in clear: hand it to the notification and forget it. */
  readonly code: string;
}

/**
 * Issues a new code for the request; any earlier active credential of the same purpose is revoked first
 * (a re-issue). Runs in (or joins) a transaction and writes the audit row.
 */
export function issueCredential(
  ctx: StoreContext,
  args: { requestId: number; purpose: CredentialPurpose },
  actor: Actor,
  codeSource: () => string = generateCode,
): IssuedCredential {
  return inTransaction(ctx.db, () => {
    const now = ctx.now();
    revokeCredentials(ctx, args.requestId, 'reissued', actor, args.purpose);
    const insert = stmt(ctx.db, 'INSERT INTO credentials (request_id, purpose, code_hash, created_at) VALUES (?, ?, ?, ?)');
    for (let attempt = 0; attempt < 20; attempt++) {
      const code = codeSource();
      if (!CODE_RE.test(code)) throw new RangeError('code source must give 8 digits');
      try {
        const r = insert.run(args.requestId, args.purpose, codeHash(ctx.keys, code), now);
        const credentialId = Number(r.lastInsertRowid);
        appendAudit(ctx.db, now, {
          actor,
          action: 'credential.issued',
          requestId: args.requestId,
          detail: { credentialId, purpose: args.purpose },
        });
        return { credentialId, requestId: args.requestId, purpose: args.purpose, code };
      } catch (err) {
        // the same code is active for another request: draw again
        if ((err as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw err;
      }
    }
    throw new CabinetError('CODE_SPACE_EXHAUSTED', 'could not draw an unused code in 20 tries', { requestId: args.requestId });
  });
}

/**
 * Revokes the request's active credentials (of one purpose, or all) and blanks the codes still waiting in
 * unsent notifications. Returns how many were revoked. Joins the caller's transaction.
 */
export function revokeCredentials(ctx: StoreContext, requestId: number, reason: string, actor: Actor, purpose?: CredentialPurpose): number {
  return inTransaction(ctx.db, () => {
    const now = ctx.now();
    const ids = stmt<[number, string | null, string | null], { id: number }>(
      ctx.db,
      `SELECT id FROM credentials WHERE request_id = ? AND status = 'active' AND (? IS NULL OR purpose = ?)`,
    )
      .all(requestId, purpose ?? null, purpose ?? null)
      .map((r) => r.id);
    const upd = stmt(ctx.db, `UPDATE credentials SET status = 'revoked', revoked_at = ?, revoke_reason = ? WHERE id = ?`);
    for (const id of ids) {
      upd.run(now, reason, id);
      appendAudit(ctx.db, now, { actor, action: 'credential.revoked', requestId, detail: { credentialId: id, reason } });
    }
    if (ids.length > 0) blankSecretsForRequest(ctx.db, requestId);
    return ids.length;
  });
}

export interface ActiveCredential {
  readonly credentialId: number;
  readonly requestId: number;
  readonly purpose: CredentialPurpose;
  readonly createdAt: number;
}

export function activeCredentials(ctx: StoreContext, requestId: number): ActiveCredential[] {
  return stmt<[number], { id: number; request_id: number; purpose: CredentialPurpose; created_at: number }>(
    ctx.db,
    `SELECT id, request_id, purpose, created_at FROM credentials WHERE request_id = ? AND status = 'active' ORDER BY id`,
  )
    .all(requestId)
    .map((r) => ({ credentialId: r.id, requestId: r.request_id, purpose: r.purpose, createdAt: r.created_at }));
}

// ---------------------------------------------------------------------------------------------
// Verification at the kiosk
// ---------------------------------------------------------------------------------------------

export interface VerifiedCredential {
  readonly ok: true;
  readonly credentialId: number;
  readonly requestId: number;
  readonly requestNo: string;
  readonly residentId: number;
  readonly purpose: CredentialPurpose;
  readonly compartmentNo: number | null;
}

export type VerifyFailure =
  /** malformed input: nothing was counted (the screen should not have sent it) */
  | { readonly ok: false; readonly reason: 'malformed' }
  /** wrong code, wrong phone digits, or a code that no longer works: one answer for all */
  | { readonly ok: false; readonly reason: 'invalid' /** typed codes: wrong tries left before this kiosk must wait */; readonly triesLeft?: number }
  /** a QR token with a good signature whose credential was already used or replaced */
  | { readonly ok: false; readonly reason: 'revoked' }
  /** the device is locked out: try again after retryAfterMs */
  | { readonly ok: false; readonly reason: 'locked'; readonly retryAfterMs: number };

export type VerifyResult = VerifiedCredential | VerifyFailure;

interface CandidateRow {
  id: number;
  request_id: number;
  purpose: CredentialPurpose;
  code_hash: Buffer;
  status: 'active' | 'revoked';
  number: string;
  state: RequestState;
  compartment_no: number | null;
  resident_id: number;
  mobile: string;
}

const CANDIDATE_SQL = `
  SELECT c.id, c.request_id, c.purpose, c.code_hash, c.status, r.number, r.state, r.compartment_no, r.resident_id, res.mobile
  FROM credentials c JOIN requests r ON r.id = c.request_id JOIN residents res ON res.id = r.resident_id`;

/** The attempt-counter key of a typed phone suffix: a keyed digest, never the digits. */
function suffixKey(keys: ServerKeys, last4: string): string {
  return `last4:${phoneDigest(keys, last4).subarray(0, 8).toString('hex')}`;
}

/**
 * A typed code that failed: counted against the kiosk (a short wait), the phone suffix typed, and the credential
 * when one matched (revoked past the limit); audited.
 */
function countFailure(
  ctx: StoreContext,
  args: { deviceId: string; phoneLast4: string },
  policy: LockoutPolicy,
  detail: Record<string, string | number | boolean>,
  credential?: { id: number; requestId: number },
): VerifyFailure {
  const now = ctx.now();
  const dev = recordFailure(ctx.db, 'device', args.deviceId, now, KIOSK_TYPED_POLICY);
  const suffix = recordFailure(ctx.db, 'credential', suffixKey(ctx.keys, args.phoneLast4), now, PHONE_SUFFIX_POLICY);
  if (credential) {
    const c = recordFailure(ctx.db, 'credential', String(credential.id), now, policy);
    if (c.consecutive >= policy.maxConsecutivePerSecret) {
      revokeCredentials(ctx, credential.requestId, 'too_many_failures', { kind: 'system', id: null });
    }
  }
  const until = Math.max(dev.lockedUntil ?? 0, suffix.lockedUntil ?? 0);
  auditFailure(ctx, args.deviceId, { ...detail, deviceLocked: until > now }, credential?.requestId ?? null);
  if (until > now) return { ok: false, reason: 'locked', retryAfterMs: until - now };
  const triesLeft = Math.max(
    1,
    Math.min(KIOSK_TYPED_POLICY.failuresPerLockout - dev.failures, PHONE_SUFFIX_POLICY.failuresPerLockout - suffix.failures),
  );
  return { ok: false, reason: 'invalid', triesLeft };
}

function auditFailure(ctx: StoreContext, deviceId: string, detail: Record<string, string | number | boolean>, requestId: number | null = null): void {
  appendAudit(ctx.db, ctx.now(), { actor: kioskActor(deviceId), action: 'credential.verify_failed', requestId, detail });
}

function success(ctx: StoreContext, deviceId: string, row: CandidateRow, via: 'code' | 'qr'): VerifiedCredential {
  recordSuccess(ctx.db, 'credential', String(row.id));
  appendAudit(ctx.db, ctx.now(), {
    actor: kioskActor(deviceId),
    action: 'credential.verified',
    requestId: row.request_id,
    compartmentNo: row.compartment_no,
    detail: { credentialId: row.id, purpose: row.purpose, via },
  });
  return {
    ok: true,
    credentialId: row.id,
    requestId: row.request_id,
    requestNo: row.number,
    residentId: row.resident_id,
    purpose: row.purpose,
    compartmentNo: row.compartment_no,
  };
}

/**
 * Checks a typed code + last 4 phone digits at kiosk `deviceId`. Does not consume the credential: the flow
 * opens the door, and the state change (collect) revokes it. Counters and audit rows commit with the answer.
 */
export function verifyCode(
  ctx: StoreContext,
  args: { code: string; phoneLast4: string; deviceId: string },
  policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
): VerifyResult {
  if (!CODE_RE.test(args.code) || !LAST4_RE.test(args.phoneLast4)) return { ok: false, reason: 'malformed' };
  return inTransaction(ctx.db, () => {
    const now = ctx.now();
    const wait = Math.max(
      lockedFor(ctx.db, 'device', args.deviceId, now, KIOSK_TYPED_POLICY.maxLockoutMs),
      lockedFor(ctx.db, 'credential', suffixKey(ctx.keys, args.phoneLast4), now, PHONE_SUFFIX_POLICY.maxLockoutMs),
    );
    if (wait > 0) return { ok: false, reason: 'locked', retryAfterMs: wait } as const;
    const hash = codeHash(ctx.keys, args.code);
    const row = stmt<[Buffer], CandidateRow>(ctx.db, `${CANDIDATE_SQL} WHERE c.code_hash = ? AND c.status = 'active'`).get(hash);
    if (!row) return countFailure(ctx, args, policy, { via: 'code', matched: false });
    const credential = { id: row.id, requestId: row.request_id };
    const codeOk = digestEqual(row.code_hash, hash);
    const phoneOk = digestEqual(phoneDigest(ctx.keys, row.mobile.slice(-4)), phoneDigest(ctx.keys, args.phoneLast4));
    if (!codeOk || !phoneOk) return countFailure(ctx, args, policy, { via: 'code', matched: true, phone: false }, credential);
    if (lockedFor(ctx.db, 'credential', String(row.id), ctx.now(), policy.maxLockoutMs) > 0) {
      return countFailure(ctx, args, policy, { via: 'code', matched: true, credentialLocked: true }, credential);
    }
    if (!VALID_IN[row.purpose].includes(row.state)) {
      return countFailure(ctx, args, policy, { via: 'code', matched: true, state: row.state }, credential);
    }
    return success(ctx, args.deviceId, row, 'code');
  });
}

// ---------------------------------------------------------------------------------------------
// QR tokens
// ---------------------------------------------------------------------------------------------

const TOKEN_VERSION = 1;
const MAC_BYTES = 16;
const PURPOSE_TAG: Record<CredentialPurpose | 'resident', number> = { pickup: 1, deposit: 2, resident: 3 };

function sign(keys: ServerKeys, body: Buffer): string {
  const mac = hmacSha256(keys.get('qr-token'), body).subarray(0, MAC_BYTES);
  return Buffer.concat([body, mac]).toString('base64url');
}

/** The body of a token of `version` whose signature checks out, or null. */
function openToken(keys: ServerKeys, token: string, bodyLength: number, version: number = TOKEN_VERSION): Buffer | null {
  if (token.length > 64 || !/^[A-Za-z0-9_-]+$/.test(token)) return null;
  const raw = Buffer.from(token, 'base64url');
  if (raw.length !== bodyLength + MAC_BYTES || raw.toString('base64url') !== token) return null;
  const body = raw.subarray(0, bodyLength);
  const expected = hmacSha256(keys.get('qr-token'), body).subarray(0, MAC_BYTES);
  return digestEqual(raw.subarray(bodyLength), expected) && body[0] === version ? body : null;
}

export function makeRequestQrToken(keys: ServerKeys, args: { requestId: number; credentialId: number; purpose: CredentialPurpose }): string {
  const body = Buffer.alloc(10);
  body[0] = TOKEN_VERSION;
  body[1] = PURPOSE_TAG[args.purpose];
  body.writeUInt32BE(args.requestId, 2);
  body.writeUInt32BE(args.credentialId, 6);
  return sign(keys, body);
}

export function parseRequestQrToken(keys: ServerKeys, token: string): { requestId: number; credentialId: number; purpose: CredentialPurpose } | null {
  const body = openToken(keys, token, 10);
  if (!body) return null;
  const purpose = body[1] === PURPOSE_TAG.pickup ? 'pickup' : body[1] === PURPOSE_TAG.deposit ? 'deposit' : null;
  if (!purpose) return null;
  return { purpose, requestId: body.readUInt32BE(2), credentialId: body.readUInt32BE(6) };
}

/**
 * Resident tokens carry when they were issued (to the minute): the kiosk refuses one older than
 * RESIDENT_QR_MAX_AGE_MS. The phone renews it before then (POST /api/residents/token), which also rotates the
 * resident's QR id, so a photographed copy dies at the owner's next renewal or submission, or after 30 days.
 * Version 1 tokens (no issue time, before this rule) still bind a phone, and renew, but no longer open doors.
 */
const RESIDENT_TOKEN_VERSION = 2;
export const RESIDENT_QR_MAX_AGE_MS = 30 * 24 * 60 * 60_000;

export function makeResidentQrToken(keys: ServerKeys, qrId: string, issuedAt: number): string {
  const id = Buffer.from(qrId, 'base64url');
  if (id.length !== 16) throw new RangeError('resident QR id must be 16 bytes of base64url');
  const minutes = Buffer.alloc(4);
  minutes.writeUInt32BE(Math.floor(issuedAt / 60_000));
  return sign(keys, Buffer.concat([Buffer.of(RESIDENT_TOKEN_VERSION, PURPOSE_TAG.resident), id, minutes]));
}

/** qrId and issue time (ms, to the minute; null for a version 1 token) of a resident token whose signature checks out. */
export function parseResidentQrToken(keys: ServerKeys, token: string): { qrId: string; issuedAt: number | null } | null {
  const v2 = openToken(keys, token, 22, RESIDENT_TOKEN_VERSION);
  if (v2 && v2[1] === PURPOSE_TAG.resident) return { qrId: v2.subarray(2, 18).toString('base64url'), issuedAt: v2.readUInt32BE(18) * 60_000 };
  const v1 = openToken(keys, token, 18);
  if (!v1 || v1[1] !== PURPOSE_TAG.resident) return null;
  return { qrId: v1.subarray(2).toString('base64url'), issuedAt: null };
}

/** Whether a resident token issued at `issuedAt` still opens doors at `now`. */
export function residentTokenFresh(issuedAt: number | null, now: number): boolean {
  return issuedAt !== null && now - issuedAt <= RESIDENT_QR_MAX_AGE_MS;
}

/** A request QR scanned at kiosk `deviceId`. A forged token counts as a failure; a used one does not. */
export function verifyRequestQr(
  ctx: StoreContext,
  args: { token: string; deviceId: string },
  policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
): VerifyResult {
  return inTransaction(ctx.db, () => {
    const t = parseRequestQrToken(ctx.keys, args.token);
    if (!t) {
      auditFailure(ctx, args.deviceId, { via: 'qr', signature: false });
      return { ok: false, reason: 'invalid' } as const;
    }
    const row = stmt<[number], CandidateRow>(ctx.db, `${CANDIDATE_SQL} WHERE c.id = ?`).get(t.credentialId);
    if (
      !row ||
      row.request_id !== t.requestId ||
      row.purpose !== t.purpose ||
      row.status !== 'active' ||
      !VALID_IN[row.purpose].includes(row.state)
    ) {
      auditFailure(ctx, args.deviceId, { via: 'qr', signature: true, credentialId: t.credentialId, revoked: true }, t.requestId);
      return { ok: false, reason: 'revoked' } as const;
    }
    return success(ctx, args.deviceId, row, 'qr');
  });
}

export interface WaitingItem {
  readonly requestId: number;
  readonly requestNo: string;
  readonly serviceCode: string;
  readonly credentialId: number;
  readonly purpose: CredentialPurpose;
  readonly compartmentNo: number | null;
}

export type ResidentScanResult = { readonly ok: true; readonly resident: Resident; readonly waiting: readonly WaitingItem[] } | VerifyFailure;

/**
 * A resident's QR identity scanned at the kiosk: the resident and every item waiting for them (documents to
 * collect, drop-offs they may make), each with its credential, so one scan opens them all.
 */
export function resolveResidentQr(
  ctx: StoreContext,
  args: { token: string; deviceId: string },
  policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
): ResidentScanResult {
  return inTransaction(ctx.db, () => {
    const t = parseResidentQrToken(ctx.keys, args.token);
    if (!t) {
      auditFailure(ctx, args.deviceId, { via: 'resident_qr', signature: false });
      return { ok: false, reason: 'invalid' } as const;
    }
    const resident = findResidentByQrId(ctx, t.qrId);
    if (!resident) {
      // a good signature on a rotated identity: an old screenshot, not a guess
      appendAudit(ctx.db, ctx.now(), { actor: kioskActor(args.deviceId), action: 'resident.qr_rejected', detail: { rotated: true } });
      return { ok: false, reason: 'revoked' } as const;
    }
    if (!residentTokenFresh(t.issuedAt, ctx.now())) {
      appendAudit(ctx.db, ctx.now(), {
        actor: kioskActor(args.deviceId),
        action: 'resident.qr_rejected',
        detail: { residentId: resident.id, expired: true },
      });
      return { ok: false, reason: 'revoked' } as const;
    }
    const rows = stmt<
      [number],
      {
        request_id: number;
        number: string;
        service_code: string;
        id: number;
        purpose: CredentialPurpose;
        state: RequestState;
        compartment_no: number | null;
      }
    >(
      ctx.db,
      `SELECT c.request_id, r.number, r.service_code, c.id, c.purpose, r.state, r.compartment_no
         FROM credentials c JOIN requests r ON r.id = c.request_id
         WHERE r.resident_id = ? AND c.status = 'active' ORDER BY r.id`,
    ).all(resident.id);
    const waiting = rows
      .filter((r) => VALID_IN[r.purpose].includes(r.state))
      .map((r) => ({
        requestId: r.request_id,
        requestNo: r.number,
        serviceCode: r.service_code,
        credentialId: r.id,
        purpose: r.purpose,
        compartmentNo: r.compartment_no,
      }));
    appendAudit(ctx.db, ctx.now(), {
      actor: kioskActor(args.deviceId),
      action: 'resident.qr_scanned',
      detail: { residentId: resident.id, waiting: waiting.length },
    });
    return { ok: true, resident, waiting };
  });
}
