/**
 * Requests: creation (number BB-YYYYMMDD-NNNN, status token), lookups, and `transitionRequest`, which applies
 * the state table and, in ONE transaction with the state change, does what the change implies:
 *
 *   load_done                         → issue a pickup code, owe a ready_with_code message (code encrypted)
 *   collect / retrieve / admin_retrieve / cancel / reject → revoke every active credential of the request
 *   deposit                           → revoke the deposit credential
 *   reject → owe "rejected"; mark_overdue → owe "overdue_reminder"; retrieve* → owe "item_retrieved";
 *   retrieve_materials → owe "materials_received"
 *   every event                       → an audit row
 */
import { createHash } from 'node:crypto';
import { CabinetError } from '../errors.js';
import { said } from '../words/keys.js';
import {
  applyTransition,
  REQUEST_STATES,
  ruleOf,
  TERMINAL_STATES,
  TransitionError,
  type RequestEvent,
  type RequestState,
  type TransitionRule,
} from '../domain/request-states.js';
import type { Actor } from '../domain/types.js';
import { appendAudit } from './audit.js';
import { localDateKey, type StoreContext } from './context.js';
import { inTransaction, stmt } from './db.js';
import { transitionCompartment } from './compartments.js';
import { issueCredential, revokeCredentials, type CredentialPurpose } from './credentials.js';
import { enqueueNotification, type NotificationKind } from './outbox.js';
import { missingDetails, requireResident } from './residents.js';
import { randomToken } from './secrets.js';
import { getServiceItem } from './service-items.js';

export interface Request {
  readonly id: number;
  readonly number: string;
  readonly residentId: number;
  readonly serviceCode: string;
  readonly state: RequestState;
  readonly reason: string | null;
  readonly note: string | null;
  readonly compartmentNo: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly stateChangedAt: number;
  readonly loadedAt: number | null;
  readonly closedAt: number | null;
  /**
   * The ID number typed for this request is registered to this resident (not the request's own): staff confirm
   * who the person is (confirmIdentity) before accepting it. Null for every other request.
   */
  readonly identityCheck: number | null;
}

interface Row {
  id: number;
  number: string;
  resident_id: number;
  service_code: string;
  state: RequestState;
  reason: string | null;
  note: string | null;
  compartment_no: number | null;
  created_at: number;
  updated_at: number;
  state_changed_at: number;
  loaded_at: number | null;
  closed_at: number | null;
  identity_check: number | null;
}

const COLUMNS =
  'id, number, resident_id, service_code, state, reason, note, compartment_no, created_at, updated_at, state_changed_at, loaded_at, closed_at, identity_check';

function toRequest(r: Row): Request {
  return {
    id: r.id,
    number: r.number,
    residentId: r.resident_id,
    serviceCode: r.service_code,
    state: r.state,
    reason: r.reason,
    note: r.note,
    compartmentNo: r.compartment_no,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    stateChangedAt: r.state_changed_at,
    loadedAt: r.loaded_at,
    closedAt: r.closed_at,
    identityCheck: r.identity_check,
  };
}

export function statusTokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Next number for the local day of `now`: BB-YYYYMMDD-NNNN (NNNN from 0001; widens past 9999). */
export function nextRequestNumber(ctx: StoreContext, now: number = ctx.now()): string {
  return inTransaction(ctx.db, () => {
    const day = localDateKey(now, ctx.utcOffsetMinutes);
    const r = stmt<[string], { last: number }>(
      ctx.db,
      `INSERT INTO request_day_counters (day, last) VALUES (?, 1)
         ON CONFLICT (day) DO UPDATE SET last = last + 1 RETURNING last`,
    ).get(day);
    if (!r) throw new CabinetError('DB_MIGRATION_FAILED', 'request counter did not return a value');
    return `BB-${day}-${String(r.last).padStart(4, '0')}`;
  });
}

export function getRequest(ctx: StoreContext, id: number): Request | null {
  const r = stmt<[number], Row>(ctx.db, `SELECT ${COLUMNS} FROM requests WHERE id = ?`).get(id);
  return r ? toRequest(r) : null;
}

/** How a resident's door closed the wrong way: the pickup door with the document still inside, the drop-off door empty. */
export type DoorOutcome = 'item_not_taken' | 'nothing_deposited';

/**
 * What the resident's last time at the cabinet left to say, for the phone's status page: the pickup door closed with
 * the document still inside (it waits there, the code still works), or the drop-off door closed with nothing in it.
 * The code the door flows recorded with the request's latest door change (compartments.ts transitionCompartment).
 */
export function lastDoorNotice(ctx: StoreContext, requestId: number, state: RequestState): DoorOutcome | null {
  const waiting = state === 'loaded' || state === 'overdue';
  if (!waiting && state !== 'awaiting_materials') return null;
  const outcome = stmt<[number], { door_outcome: DoorOutcome | null }>(ctx.db, 'SELECT door_outcome FROM requests WHERE id = ?').get(
    requestId,
  )?.door_outcome;
  if (waiting && outcome === 'item_not_taken') return 'item_not_taken';
  if (!waiting && outcome === 'nothing_deposited') return 'nothing_deposited';
  return null;
}

export function requireRequest(ctx: StoreContext, id: number): Request {
  const r = getRequest(ctx, id);
  if (!r) throw new CabinetError('NOT_FOUND', `no request #${id}`, { requestId: id });
  return r;
}

export function findRequestByNumber(ctx: StoreContext, number: string): Request | null {
  const r = stmt<[string], Row>(ctx.db, `SELECT ${COLUMNS} FROM requests WHERE number = ?`).get(number);
  return r ? toRequest(r) : null;
}

/** The resident's status link: the token is hashed and looked up. */
export function findRequestByStatusToken(ctx: StoreContext, token: string): Request | null {
  if (token.length > 64) return null;
  const r = stmt<[Buffer], Row>(ctx.db, `SELECT ${COLUMNS} FROM requests WHERE status_token_hash = ?`).get(statusTokenHash(token));
  return r ? toRequest(r) : null;
}

export function listRequests(ctx: StoreContext, q: { states?: readonly RequestState[]; residentId?: number; limit?: number } = {}): Request[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.states && q.states.length > 0) {
    where.push(`state IN (${q.states.map(() => '?').join(', ')})`);
    args.push(...q.states);
  }
  if (q.residentId !== undefined) where.push('resident_id = ?'), args.push(q.residentId);
  const limit = Math.min(Math.max(q.limit ?? 500, 1), 10_000);
  return stmt<unknown[], Row>(
    ctx.db,
    `SELECT ${COLUMNS} FROM requests ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ${limit}`,
  )
    .all(...args)
    .map(toRequest);
}

/** One page of a newest-first list; `nextBefore` is the cursor of the next (older) page, null after the last. */
export interface RequestPage {
  readonly requests: Request[];
  readonly nextBefore: number | null;
}

function clampLimit(limit: number | undefined, dflt: number, max: number): number {
  return Math.min(Math.max(Math.trunc(limit ?? dflt), 1), max);
}

/**
 * Requests newest first, optionally of some states, older than `before` (an id: keyset paging). Each state's
 * ids come from the (state, id) index in order (the index alone); only the page's own rows are read, so a page
 * costs its own size whatever the history, and however many requests of the states there are beyond it.
 */
export function pageRequests(ctx: StoreContext, q: { states?: readonly RequestState[]; before?: number; limit?: number } = {}): RequestPage {
  const limit = clampLimit(q.limit, 100, 1000);
  const before = q.before ?? Number.MAX_SAFE_INTEGER;
  let rows: Row[];
  if (!q.states) {
    rows = stmt<[number, number], Row>(ctx.db, `SELECT ${COLUMNS} FROM requests WHERE id < ? ORDER BY id DESC LIMIT ?`).all(before, limit);
  } else {
    const one = stmt<[string, number, number], { id: number }>(ctx.db, 'SELECT id FROM requests WHERE state = ? AND id < ? ORDER BY id DESC LIMIT ?');
    const ids = [...new Set(q.states)]
      .flatMap((st) => one.all(st, before, limit).map((r) => r.id))
      .sort((a, b) => b - a)
      .slice(0, limit);
    rows = requestsByIds(ctx, ids);
  }
  return { requests: rows.map(toRequest), nextBefore: rows.length === limit ? rows[rows.length - 1]!.id : null };
}

/**
 * The requests of these ids, newest first. The statement takes a power of two of ids (the last one repeated), so
 * that a handful of statements serve every page size.
 */
function requestsByIds(ctx: StoreContext, ids: readonly number[]): Row[] {
  if (ids.length === 0) return [];
  let size = 1;
  while (size < ids.length) size *= 2;
  const args = [...ids, ...new Array<number>(size - ids.length).fill(ids[ids.length - 1]!)];
  return stmt<number[], Row>(ctx.db, `SELECT ${COLUMNS} FROM requests WHERE id IN (${args.map(() => '?').join(', ')}) ORDER BY id DESC`).all(...args);
}

const FULL_NUMBER = /^BB-\d{8}-\d{4,}$/i;

/**
 * Search, newest first: part of the request number, of the resident's name, or their whole mobile number (never a part of one).
 * A whole request number is found through its unique index. Text of two characters or more that cannot be part of a
 * number or a mobile (anything but digits, B and -) can only be part of a name: it is found through the pairs of
 * characters of the names (searchByName, ADR 0008), so a page costs about its own size whatever the history. Other
 * text is matched over at most `scanRows` requests per call, newest first from `before`: when the page is not full by
 * then, `nextBefore` says where to go on (so no call reads the whole history). An erased resident has no name.
 */
export function searchRequests(
  ctx: StoreContext,
  q: { text: string; states?: readonly RequestState[]; before?: number; limit?: number; scanRows?: number },
): RequestPage {
  const text = q.text.trim();
  const limit = clampLimit(q.limit, 100, 1000);
  const states = q.states && q.states.length > 0 ? new Set(q.states) : null;
  if (FULL_NUMBER.test(text)) {
    const r = findRequestByNumber(ctx, text.toUpperCase());
    const hit = r && (q.before === undefined || r.id < q.before) && (!states || states.has(r.state));
    return { requests: hit ? [r] : [], nextBefore: null };
  }
  const scanRows = clampLimit(q.scanRows, 5000, 1_000_000);
  const like = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  if (!NUMBER_OR_MOBILE_PART.test(text) && [...text].length >= 2) return searchByName(ctx, text, like, states, q.before, limit, scanRows);
  // a mobile number matches only whole (no wildcards): parts of numbers would recover them from the masked ones
  const digits = /^\d{11}$/.test(text) ? text : null;
  const top = q.before ?? stmt<[], { id: number }>(ctx.db, 'SELECT ifnull(max(id), 0) + 1 AS id FROM requests').get()!.id;
  const window = stmt<[number, number, string, string, string | null, string | null], Row>(
    ctx.db,
    `SELECT ${COLUMNS.split(', ')
      .map((c) => `q.${c}`)
      .join(', ')} FROM requests q JOIN residents p ON p.id = q.resident_id
     WHERE q.id < ? AND q.id >= ?
       AND (q.number LIKE ? ESCAPE '\\' OR p.name LIKE ? ESCAPE '\\' OR (? IS NOT NULL AND p.mobile LIKE ? ESCAPE '\\'))
     ORDER BY q.id DESC`,
  );
  const out: Request[] = [];
  let upper = top;
  let scanned = 0;
  while (upper > 1 && out.length < limit && scanned < scanRows) {
    const lower = Math.max(1, upper - Math.min(2500, scanRows - scanned));
    for (const row of window.all(upper, lower, like, like, digits, digits)) {
      if (states && !states.has(row.state)) continue;
      out.push(toRequest(row));
      if (out.length === limit) break;
    }
    scanned += upper - lower;
    upper = out.length === limit ? out[out.length - 1]!.id : lower;
  }
  return { requests: out, nextBefore: upper > 1 ? upper : null };
}

/** Text that can be part of a request number (BB-YYYYMMDD-NNNN, matched without case) or a mobile number. */
const NUMBER_OR_MOBILE_PART = /^[\dBb-]+$/;

/**
 * Text that can only be part of a name, of two characters or more: the requests of residents whose name holds the
 * text's rarest pair of neighbouring characters come newest first from request_name_pairs (migration 10) and are
 * checked against the whole text. At most `scanRows` of them are looked at per call; `nextBefore` says where to go on.
 */
function searchByName(
  ctx: StoreContext,
  text: string,
  like: string,
  states: ReadonlySet<RequestState> | null,
  before: number | undefined,
  limit: number,
  scanRows: number,
): RequestPage {
  const pairs = stmt<[string], { pair: string }>(
    ctx.db,
    `WITH RECURSIVE s(n, name) AS (SELECT 1, ? UNION ALL SELECT n + 1, name FROM s WHERE n < length(name) - 1)
     SELECT DISTINCT lower(substr(name, n, 2)) AS pair FROM s`,
  )
    .all(text)
    .map((r) => r.pair);
  // the rarest pair leads (counted up to a bound: a pair that common is as good as any other)
  const count = stmt<[string], { n: number }>(
    ctx.db,
    'SELECT count(*) AS n FROM (SELECT 1 FROM request_name_pairs WHERE pair = ? ORDER BY request_id DESC LIMIT 2000)',
  );
  let pair = pairs[0]!;
  if (pairs.length > 1) {
    let fewest = Infinity;
    for (const p of pairs) {
      const n = count.get(p)!.n;
      if (n < fewest) (fewest = n), (pair = p);
    }
  }
  const upper = before ?? Number.MAX_SAFE_INTEGER;
  const stateList = states ? [...states] : [];
  // a text of two characters is a pair: every request of the pair holds it, no name need be read
  const whole = [...text].length === 2;
  const rows = stmt<unknown[], Row>(
    ctx.db,
    `SELECT ${COLUMNS.split(', ')
      .map((c) => `q.${c}`)
      .join(', ')}
       FROM (SELECT request_id FROM request_name_pairs WHERE pair = ? AND request_id < ? ORDER BY request_id DESC LIMIT ?) g
       JOIN requests q ON q.id = g.request_id${whole ? '' : ' JOIN residents p ON p.id = q.resident_id'}
      WHERE ${whole ? '1' : "p.name LIKE ? ESCAPE '\\'"}${stateList.length ? ` AND q.state IN (${stateList.map(() => '?').join(', ')})` : ''}
      ORDER BY g.request_id DESC LIMIT ?`,
  ).all(pair, upper, scanRows, ...(whole ? [] : [like]), ...stateList, limit);
  if (rows.length === limit) return { requests: rows.map(toRequest), nextBefore: rows[rows.length - 1]!.id };
  // not a full page: every pair below `upper` was looked at, or `scanRows` of them
  const lowest = stmt<[string, number, number], { id: number | null; n: number }>(
    ctx.db,
    'SELECT min(request_id) AS id, count(*) AS n FROM (SELECT request_id FROM request_name_pairs WHERE pair = ? AND request_id < ? ORDER BY request_id DESC LIMIT ?)',
  ).get(pair, upper, scanRows)!;
  return { requests: rows.map(toRequest), nextBefore: lowest.n === scanRows && lowest.id !== null && lowest.id > 1 ? lowest.id : null };
}

/** How many requests are in each state (from counters kept by the database, not by reading requests). */
export function countRequestsByState(ctx: StoreContext): Record<RequestState, number> {
  const counts = Object.fromEntries(REQUEST_STATES.map((st) => [st, 0])) as Record<RequestState, number>;
  for (const r of stmt<[], { state: RequestState; n: number }>(ctx.db, 'SELECT state, n FROM request_state_counts').all()) counts[r.state] = r.n;
  return counts;
}

export interface CreatedRequest {
  readonly request: Request;
  /** For the resident's status link. Shown once: only its hash is stored. */
  readonly statusToken: string;
}

/**
 * A resident asks for a service. The service must be enabled and the resident must have the details it needs.
 * Starts in awaiting_materials when the service needs materials dropped off, otherwise submitted.
 * `identityCheck`: the ID number given is registered to that resident, not to this one; the request is held for
 * staff to confirm who the person is, and the ID number it needs is then the registered resident's.
 */
export function createRequest(
  ctx: StoreContext,
  args: { residentId: number; serviceCode: string; note?: string; identityCheck?: number },
  actor: Actor,
): CreatedRequest {
  return inTransaction(ctx.db, () => {
    const now = ctx.now();
    const item = getServiceItem(ctx, args.serviceCode);
    if (!item) throw new CabinetError('NOT_FOUND', `no service item "${args.serviceCode}"`, { serviceCode: args.serviceCode });
    if (!item.enabled)
      throw new CabinetError('SERVICE_DISABLED', `service "${args.serviceCode}" is not offered now`, { serviceCode: args.serviceCode });
    const resident = requireResident(ctx, args.residentId);
    if (args.identityCheck !== undefined) requireResident(ctx, args.identityCheck);
    const missing = missingDetails(resident, item.requiredFields).filter((m) => !(m === 'id_number' && args.identityCheck !== undefined));
    if (missing.length > 0) {
      throw new CabinetError('RESIDENT_DETAILS_MISSING', `service "${item.code}" needs: ${missing.join(', ')}`, {
        residentId: resident.id,
        missing: missing.join(','),
      });
    }
    const note = args.note?.trim() ? args.note.trim().slice(0, 200) : null;
    const state: RequestState = item.needsMaterials ? 'awaiting_materials' : 'submitted';
    const number = nextRequestNumber(ctx, now);
    const statusToken = randomToken(16);
    const r = stmt(
      ctx.db,
      `INSERT INTO requests (number, status_token_hash, resident_id, service_code, state, note, created_at, updated_at, state_changed_at,
                            identity_check)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(number, statusTokenHash(statusToken), resident.id, item.code, state, note, now, now, now, args.identityCheck ?? null);
    const id = Number(r.lastInsertRowid);
    appendAudit(ctx.db, now, {
      actor,
      action: 'request.created',
      requestId: id,
      detail: { number, serviceCode: item.code, state, ...(args.identityCheck !== undefined ? { identityCheck: args.identityCheck } : {}) },
    });
    // Materials first: the drop-off credential exists from the start (its QR is on the resident's status page).
    if (state === 'awaiting_materials') issueCredential(ctx, { requestId: id, purpose: 'deposit' }, actor);
    return { request: requireRequest(ctx, id), statusToken };
  });
}

/**
 * Staff saw the person's ID card (or called the registered resident): the held request is the registered
 * resident's. It moves to them and goes on as any other; the phone's own record keeps what it had.
 */
export function confirmIdentity(ctx: StoreContext, requestId: number, actor: Actor): Request {
  return inTransaction(ctx.db, () => {
    const now = ctx.now();
    const req = requireRequest(ctx, requestId);
    if (req.identityCheck === null || TERMINAL_STATES.includes(req.state)) {
      throw new CabinetError('TRANSITION_NOT_ALLOWED', said('staff.identity_nothing_to_confirm'), { requestId: req.id });
    }
    requireResident(ctx, req.identityCheck);
    stmt(ctx.db, 'UPDATE requests SET resident_id = identity_check, identity_check = NULL, updated_at = ? WHERE id = ?').run(now, req.id);
    appendAudit(ctx.db, now, {
      actor,
      action: 'request.identity_confirmed',
      requestId: req.id,
      detail: { fromResidentId: req.residentId, residentId: req.identityCheck },
    });
    return requireRequest(ctx, req.id);
  });
}

export interface TransitionArgs {
  readonly requestId: number;
  readonly event: RequestEvent;
  readonly actor: Actor;
  /** Required by reject; stored on the request for reject and cancel, and kept in the audit row. */
  readonly reason?: string;
  /** Optimistic check: refuse (TRANSITION_NOT_ALLOWED) if the request is no longer in this state. */
  readonly expectState?: RequestState;
}

export interface TransitionOutcome {
  readonly request: Request;
  readonly from: RequestState;
  /** Set by load_done: the new pickup code (already in the encrypted outbox). Do not store or log it. */
  readonly issued?: { readonly credentialId: number; readonly code: string };
  readonly notificationIds: readonly number[];
}

/** Events that end every credential of the request. */
const REVOKES_ALL: readonly RequestEvent[] = ['collect', 'retrieve', 'admin_retrieve', 'cancel', 'reject'];
const REVOKES_PURPOSE: Partial<Record<RequestEvent, CredentialPurpose>> = { deposit: 'deposit' };
const NOTIFIES: Partial<Record<RequestEvent, NotificationKind>> = {
  reject: 'rejected',
  mark_overdue: 'overdue_reminder',
  retrieve: 'item_retrieved',
  admin_retrieve: 'item_retrieved',
  retrieve_materials: 'materials_received',
  load_done: 'ready_with_code',
};

function assertAdmin(ctx: StoreContext, req: Request, event: RequestEvent, actor: Actor): void {
  const row =
    actor.kind === 'staff' && actor.id !== null
      ? stmt<[string], { role: string; disabled: number }>(ctx.db, 'SELECT role, disabled FROM staff WHERE id = ?').get(actor.id)
      : undefined;
  if (!row || row.role !== 'admin' || row.disabled !== 0) {
    throw new TransitionError(req.id, req.number, event, req.state, 'ACTOR_NOT_ALLOWED', 'only an administrator may do this');
  }
}

function reservedCompartment(ctx: StoreContext, requestId: number): number | null {
  const r = stmt<[number], { no: number }>(ctx.db, 'SELECT no FROM compartments WHERE request_id = ?').get(requestId);
  return r?.no ?? null;
}

/** Applies one event of the state table with its side effects and audit row, all or nothing. */
export function transitionRequest(ctx: StoreContext, args: TransitionArgs): TransitionOutcome {
  return inTransaction(ctx.db, () => {
    const now = ctx.now();
    const req = requireRequest(ctx, args.requestId);
    if (args.expectState !== undefined && req.state !== args.expectState) {
      throw new TransitionError(req.id, req.number, args.event, req.state, 'TRANSITION_NOT_ALLOWED', `expected state "${args.expectState}"`);
    }
    const to = applyTransition(req, args.event, args.actor.kind, args.reason);
    if (args.event === 'accept' && req.identityCheck !== null) {
      throw new CabinetError('TRANSITION_NOT_ALLOWED', said('staff.identity_unverified'), { requestId: req.id });
    }
    const rule: TransitionRule = ruleOf(args.event);
    if (rule.adminOnly) assertAdmin(ctx, req, args.event, args.actor);
    if (rule.needsCompartment && reservedCompartment(ctx, req.id) === null) {
      throw new CabinetError('COMPARTMENT_NOT_RESERVED', `request ${req.number}: reserve a compartment before "${args.event}"`, {
        requestId: req.id,
        event: args.event,
      });
    }
    // A request whose load or drop-off was cut off may be cancelled, but never while its door is open; the
    // compartment it had reserved is released.
    const held = stmt<[number], { no: number; state: string }>(ctx.db, 'SELECT no, state FROM compartments WHERE request_id = ?').get(req.id);
    if (args.event === 'cancel' && held) {
      if (held.state !== 'reserved' && held.state !== 'fault') {
        throw new CabinetError('COMPARTMENT_STATE', `request ${req.number}: compartment ${held.no} is ${held.state}; cancel once its door is shut`, {
          requestId: req.id,
          compartmentNo: held.no,
        });
      }
    }
    const reason = args.reason?.trim() ? args.reason.trim().slice(0, 500) : null;
    const storesReason = args.event === 'reject' || args.event === 'cancel';
    stmt(
      ctx.db,
      `UPDATE requests SET state = ?, updated_at = ?, state_changed_at = ?,
           reason = CASE WHEN ? THEN ? ELSE reason END,
           loaded_at = CASE WHEN ? = 'loaded' AND loaded_at IS NULL THEN ? ELSE loaded_at END,
           closed_at = CASE WHEN ? THEN ? ELSE closed_at END
         WHERE id = ? AND state = ?`,
    ).run(to, now, now, storesReason ? 1 : 0, reason, to, now, TERMINAL_STATES.includes(to) ? 1 : 0, now, req.id, req.state);
    appendAudit(ctx.db, now, {
      actor: args.actor,
      action: `request.${args.event}`,
      requestId: req.id,
      compartmentNo: req.compartmentNo,
      detail: { from: req.state, to, ...(reason ? { reason } : {}) },
    });

    if (args.event === 'cancel' && held) {
      transitionCompartment(ctx, held.no, {
        to: held.state === 'fault' ? 'fault' : 'free',
        actor: args.actor,
        clearContents: true,
        faultReason: 'fault.cancelled_while_out_of_order',
        said: said('note.request_cancelled', { number: req.number }),
      });
    }
    if (REVOKES_ALL.includes(args.event)) revokeCredentials(ctx, req.id, args.event, args.actor);
    const purpose = REVOKES_PURPOSE[args.event];
    if (purpose) revokeCredentials(ctx, req.id, args.event, args.actor, purpose);

    // Asked to drop off materials: a drop-off credential (its QR is on the resident's status page).
    if (to === 'awaiting_materials' && args.event === 'request_materials')
      issueCredential(ctx, { requestId: req.id, purpose: 'deposit' }, args.actor);

    let issued: TransitionOutcome['issued'];
    const notificationIds: number[] = [];
    const kind = NOTIFIES[args.event];
    if (kind) {
      const updated = requireRequest(ctx, req.id);
      const item = getServiceItem(ctx, req.serviceCode);
      const payload = {
        requestNo: req.number,
        serviceCode: req.serviceCode,
        serviceNameZh: item?.nameZh ?? req.serviceCode,
        compartmentNo: updated.compartmentNo,
        ...(kind === 'rejected' ? { reason } : {}),
      };
      if (args.event === 'load_done') {
        const c = issueCredential(ctx, { requestId: req.id, purpose: 'pickup' }, args.actor);
        issued = { credentialId: c.credentialId, code: c.code };
        notificationIds.push(
          enqueueNotification(ctx, {
            residentId: req.residentId,
            requestId: req.id,
            kind,
            payload: { ...payload, credentialId: c.credentialId },
            secret: { code: c.code },
          }),
        );
      } else {
        notificationIds.push(enqueueNotification(ctx, { residentId: req.residentId, requestId: req.id, kind, payload }));
      }
    }
    return { request: requireRequest(ctx, req.id), from: req.state, ...(issued ? { issued } : {}), notificationIds };
  });
}

/**
 * Re-issues the pickup code of a request that is waiting in a compartment (the resident lost the message):
 * the old code stops working and a new ready_with_code message is owed.
 */
export function reissuePickupCode(
  ctx: StoreContext,
  requestId: number,
  actor: Actor,
): { credentialId: number; code: string; notificationId: number } {
  return inTransaction(ctx.db, () => {
    const req = requireRequest(ctx, requestId);
    if (req.state !== 'loaded' && req.state !== 'overdue') {
      throw new CabinetError('TRANSITION_NOT_ALLOWED', `request ${req.number} is "${req.state}", not waiting in a compartment`, { requestId });
    }
    const c = issueCredential(ctx, { requestId, purpose: 'pickup' }, actor);
    const item = getServiceItem(ctx, req.serviceCode);
    const notificationId = enqueueNotification(ctx, {
      residentId: req.residentId,
      requestId,
      kind: 'ready_with_code',
      payload: {
        requestNo: req.number,
        serviceCode: req.serviceCode,
        serviceNameZh: item?.nameZh ?? req.serviceCode,
        compartmentNo: req.compartmentNo,
        credentialId: c.credentialId,
        reissued: true,
      },
      secret: { code: c.code },
    });
    return { credentialId: c.credentialId, code: c.code, notificationId };
  });
}

/** Issues the drop-off code of a request awaiting materials (returned once, e.g. to show on the resident's phone). */
export function issueDepositCode(ctx: StoreContext, requestId: number, actor: Actor): { credentialId: number; code: string } {
  return inTransaction(ctx.db, () => {
    const req = requireRequest(ctx, requestId);
    if (req.state !== 'awaiting_materials') {
      throw new CabinetError('TRANSITION_NOT_ALLOWED', `request ${req.number} is "${req.state}", not awaiting materials`, { requestId });
    }
    const c = issueCredential(ctx, { requestId, purpose: 'deposit' }, actor);
    return { credentialId: c.credentialId, code: c.code };
  });
}

/** Requests loaded at least `overdueAfterMs` ago that are not yet overdue. */
export function findOverdueCandidates(ctx: StoreContext, overdueAfterMs: number): Request[] {
  return stmt<[number], Row>(ctx.db, `SELECT ${COLUMNS} FROM requests WHERE state = 'loaded' AND loaded_at <= ? ORDER BY loaded_at`)
    .all(ctx.now() - overdueAfterMs)
    .map(toRequest);
}
