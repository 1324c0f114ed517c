/**
 * The notifications outbox: one row for every message owed to a resident, written in the same transaction as
 * the state change that owes it. `controller/domain/notify.ts` drains it.
 *
 * How the pickup code reaches the resident without being stored in clear: the code is known in clear only
 * while `load_done` runs. That transaction puts it in this row's `secret_enc`, AES-256-GCM encrypted under the
 * outbox subkey and bound (AAD) to the row's id; the non-secret payload stays readable JSON. The dispatcher
 * decrypts it in memory just before delivery and the column is set to NULL as soon as the row is sent, fails for
 * good, or the credential is revoked (collected via QR, re-issued). Chosen over "clear text until delivered,
 * then blanked" because a pending row may wait hours (webhook down), and the database file, its WAL and its
 * backups would hold live codes for that time; `secure_delete` zeroes the blanked bytes. The price: a message
 * that failed for good cannot be re-sent with the same code: staff re-issue a code (a new credential).
 */
import { CabinetError } from '../errors.js';
import type { StoreContext } from './context.js';
import { stmt, type DB } from './db.js';
import { decryptField, encryptField } from './secrets.js';

export const NOTIFICATION_KINDS = ['ready_with_code', 'overdue_reminder', 'rejected', 'materials_received', 'item_retrieved'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
/** cancelled: the code it carried was revoked before it went out (collected by QR scan, re-issued). */
export type NotificationStatus = 'pending' | 'sent' | 'failed' | 'cancelled';

/** Non-secret facts a message needs; JSON. Never the code, never an ID number. */
export type NotificationPayload = Readonly<Record<string, string | number | boolean | null>>;

export interface NotificationSecret {
  readonly code: string;
}

export interface Notification {
  readonly id: number;
  readonly residentId: number;
  readonly requestId: number | null;
  readonly kind: NotificationKind;
  readonly payload: NotificationPayload;
  readonly hasSecret: boolean;
  readonly status: NotificationStatus;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastError: string | null;
  readonly createdAt: number;
  readonly sentAt: number | null;
}

export interface RetryPolicy {
  /** Deliveries tried before a message is marked failed, 1–20. Default 6. */
  readonly maxAttempts: number;
  /** Wait after the first failure, ms; doubles each time. Default 30 000. */
  readonly baseDelayMs: number;
  /** Longest wait between attempts, ms. Default 3 600 000. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ maxAttempts: 6, baseDelayMs: 30_000, maxDelayMs: 3_600_000 });

/** Wait before attempt number `attempts + 1`, after `attempts` failures (≥ 1). */
export function retryDelay(attempts: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY): number {
  return Math.min(policy.baseDelayMs * 2 ** Math.max(0, Math.min(attempts - 1, 30)), policy.maxDelayMs);
}

interface Row {
  id: number;
  resident_id: number;
  request_id: number | null;
  kind: NotificationKind;
  payload: string;
  secret_enc: Buffer | null;
  status: NotificationStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}

function toNotification(r: Row): Notification {
  return {
    id: r.id,
    residentId: r.resident_id,
    requestId: r.request_id,
    kind: r.kind,
    payload: JSON.parse(r.payload) as NotificationPayload,
    hasSecret: r.secret_enc !== null,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    createdAt: r.created_at,
    sentAt: r.sent_at,
  };
}

const aad = (id: number): string => `notification.${id}.secret`;

/** Writes an outbox row. Call inside the transaction of the change that owes the message. */
export function enqueueNotification(
  ctx: StoreContext,
  args: { residentId: number; requestId: number | null; kind: NotificationKind; payload: NotificationPayload; secret?: NotificationSecret },
): number {
  const now = ctx.now();
  const r = stmt(
    ctx.db,
    'INSERT INTO notifications (resident_id, request_id, kind, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  ).run(args.residentId, args.requestId, args.kind, JSON.stringify(args.payload), now, now);
  const id = Number(r.lastInsertRowid);
  if (args.secret) {
    const blob = encryptField(ctx.keys.get('outbox-secret'), JSON.stringify(args.secret), aad(id));
    stmt(ctx.db, 'UPDATE notifications SET secret_enc = ? WHERE id = ?').run(blob, id);
  }
  return id;
}

export function getNotification(ctx: StoreContext, id: number): Notification | null {
  const r = stmt<[number], Row>(ctx.db, 'SELECT * FROM notifications WHERE id = ?').get(id);
  return r ? toNotification(r) : null;
}

export interface NotificationFilter {
  readonly requestId?: number;
  readonly status?: NotificationStatus;
}

/** The SQL listNotifications runs (exported so a test can check its plan). */
export function notificationsQuery(q: NotificationFilter): { sql: string; args: (string | number)[] } {
  // Written out per filter so SQLite can use the request's index (an "? IS NULL OR" filter reads the whole table).
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.requestId !== undefined) where.push('request_id = ?'), args.push(q.requestId);
  if (q.status !== undefined) where.push('status = ?'), args.push(q.status);
  return { sql: `SELECT * FROM notifications ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`, args };
}

export function listNotifications(ctx: StoreContext, q: NotificationFilter = {}): Notification[] {
  const { sql, args } = notificationsQuery(q);
  return stmt<(string | number)[], Row>(ctx.db, sql)
    .all(...args)
    .map(toNotification);
}

/** Pending rows whose time has come, oldest first. */
export function dueNotifications(ctx: StoreContext, limit = 20): Notification[] {
  return stmt<[number, number], Row>(
    ctx.db,
    `SELECT * FROM notifications WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`,
  )
    .all(ctx.now(), limit)
    .map(toNotification);
}

/** The secret of a pending row, decrypted in memory; null when it has none (or it was blanked). */
export function readNotificationSecret(ctx: StoreContext, id: number): NotificationSecret | null {
  const r = stmt<[number], { secret_enc: Buffer | null }>(ctx.db, 'SELECT secret_enc FROM notifications WHERE id = ?').get(id);
  if (!r?.secret_enc) return null;
  const parsed: unknown = JSON.parse(decryptField(ctx.keys.get('outbox-secret'), r.secret_enc, aad(id)));
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { code?: unknown }).code !== 'string') {
    throw new CabinetError('DATA_CORRUPT', `notification ${id}: secret has an unexpected shape`);
  }
  return { code: (parsed as { code: string }).code };
}

export function markNotificationSent(ctx: StoreContext, id: number): void {
  stmt(
    ctx.db,
    `UPDATE notifications SET status = 'sent', secret_enc = NULL, attempts = attempts + 1, sent_at = ?, last_error = NULL WHERE id = ? AND status = 'pending'`,
  ).run(ctx.now(), id);
}

/** Records a failed delivery: retried later with back-off, or failed for good (secret blanked). Returns the new status. */
export function markNotificationAttemptFailed(
  ctx: StoreContext,
  id: number,
  error: string,
  opts: { permanent?: boolean; policy?: RetryPolicy } = {},
): NotificationStatus {
  const policy = opts.policy ?? DEFAULT_RETRY_POLICY;
  const r = stmt<[number], { attempts: number }>(ctx.db, `SELECT attempts FROM notifications WHERE id = ? AND status = 'pending'`).get(id);
  if (!r) return 'failed';
  const attempts = r.attempts + 1;
  const err = error.slice(0, 500);
  if (opts.permanent || attempts >= policy.maxAttempts) {
    stmt(ctx.db, `UPDATE notifications SET status = 'failed', secret_enc = NULL, attempts = ?, last_error = ? WHERE id = ?`).run(attempts, err, id);
    return 'failed';
  }
  stmt(ctx.db, `UPDATE notifications SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?`).run(
    attempts,
    err,
    ctx.now() + retryDelay(attempts, policy),
    id,
  );
  return 'pending';
}

/**
 * The credential the request's unsent code messages carried was revoked: blank the codes and cancel those
 * messages (a "your code is …" for a code that no longer works would only confuse). Returns how many.
 */
export function blankSecretsForRequest(db: DB, requestId: number): number {
  return stmt(
    db,
    `UPDATE notifications SET secret_enc = NULL, status = 'cancelled', last_error = 'credential revoked before delivery'
       WHERE request_id = ? AND secret_enc IS NOT NULL AND status = 'pending'`,
  ).run(requestId).changes;
}
