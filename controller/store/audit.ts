/**
 * The append-only audit log. Repository functions that change state call `appendAudit` inside their own
 * transaction, so a change and its audit row commit together or not at all. UPDATE and DELETE are refused by
 * triggers in the schema.
 */
import { CabinetError } from '../errors.js';
import type { Actor, ActorKind } from '../domain/types.js';
import { stmt, type DB } from './db.js';

export type AuditDetail = Readonly<Record<string, unknown>>;

export interface AuditEntry {
  readonly id: number;
  readonly at: number;
  readonly actorKind: ActorKind;
  readonly actorId: string | null;
  readonly action: string;
  readonly compartmentNo: number | null;
  readonly requestId: number | null;
  readonly detail: AuditDetail;
}

/** Keys that would put a secret or an ID number into the log; refused outright. */
const FORBIDDEN_DETAIL_KEYS = new Set(['code', 'pickupcode', 'pin', 'idnumber', 'id_number', 'token', 'statustoken', 'secret', 'password']);

function assertNoSecrets(detail: unknown, where = 'detail'): void {
  if (detail === null || typeof detail !== 'object') return;
  for (const [k, v] of Object.entries(detail)) {
    if (FORBIDDEN_DETAIL_KEYS.has(k.toLowerCase())) {
      throw new CabinetError('VALIDATION', `audit ${where}.${k}: secrets and ID numbers never go into the audit log`);
    }
    assertNoSecrets(v, `${where}.${k}`);
  }
}

export interface AuditInput {
  readonly actor: Actor;
  readonly action: string;
  readonly compartmentNo?: number | null;
  readonly requestId?: number | null;
  readonly detail?: AuditDetail;
}

export function appendAudit(db: DB, at: number, entry: AuditInput): number {
  const detail = entry.detail ?? {};
  assertNoSecrets(detail);
  const r = stmt(
    db,
    `INSERT INTO audit_log (at, actor_kind, actor_id, action, compartment_no, request_id, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(at, entry.actor.kind, entry.actor.id, entry.action, entry.compartmentNo ?? null, entry.requestId ?? null, JSON.stringify(detail));
  return Number(r.lastInsertRowid);
}

interface AuditRow {
  id: number;
  at: number;
  actor_kind: ActorKind;
  actor_id: string | null;
  action: string;
  compartment_no: number | null;
  request_id: number | null;
  detail: string;
}

export interface AuditQuery {
  readonly requestId?: number;
  readonly compartmentNo?: number;
  readonly action?: string;
  readonly sinceId?: number;
  /** Default 200, at most 10000. */
  readonly limit?: number;
  /** The newest `limit` rows, newest first (for screens); default oldest first. */
  readonly newestFirst?: boolean;
}

/** Oldest first, unless `newestFirst`. */
export function listAudit(db: DB, q: AuditQuery = {}): AuditEntry[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.requestId !== undefined) where.push('request_id = ?'), args.push(q.requestId);
  if (q.compartmentNo !== undefined) where.push('compartment_no = ?'), args.push(q.compartmentNo);
  if (q.action !== undefined) where.push('action = ?'), args.push(q.action);
  if (q.sinceId !== undefined) where.push('id > ?'), args.push(q.sinceId);
  const limit = Math.min(Math.max(q.limit ?? 200, 1), 10_000);
  const rows = stmt<unknown[], AuditRow>(
    db,
    `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${q.newestFirst ? 'DESC' : ''} LIMIT ${limit}`,
  ).all(...args);
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    actorKind: r.actor_kind,
    actorId: r.actor_id,
    action: r.action,
    compartmentNo: r.compartment_no,
    requestId: r.request_id,
    detail: JSON.parse(r.detail) as AuditDetail,
  }));
}
