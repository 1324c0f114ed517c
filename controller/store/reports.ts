/**
 * The office's reading of the history: requests and the audit log found by filters and text, newest first and
 * paged by a keyset cursor; the statistics a committee reports; and the rows of the CSV exports. Read-only.
 *
 * Every list walks one index in order (migration "office lists…": requests by (created_at, id), which carries the
 * document type and the state; the audit log by its id — it is written in time order — or by request or
 * compartment), so a page costs its own size on a history of a million requests and 27 million audit rows. What no index answers (a part of a name, a
 * word in an audit detail, an action, a person in the audit log) is matched over a bounded window of rows per
 * call: the answer then carries the cursor to go on from.
 *
 * Dates from people are local calendar days ("2026-11-01", in the store's UTC offset); times stored are UTC ms.
 */
import { addressText } from '../domain/address.js';
import { TERMINAL_STATES, type RequestState } from '../domain/request-states.js';
import type { ActorKind } from '../domain/types.js';
import { maskIdNumberForStaff, maskMobile, maskNameForKiosk } from '../domain/validation.js';
import type { AuditDetail } from './audit.js';
import type { StoreContext } from './context.js';

const DAY = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Local days
// ---------------------------------------------------------------------------------------------

/** Minutes east of UTC for local days: the store's setting, else the process's zone at `at`. */
export function offsetMinutes(ctx: StoreContext, at: number = ctx.now()): number {
  return ctx.utcOffsetMinutes ?? -new Date(at).getTimezoneOffset();
}

/** "YYYY-MM-DD" → the UTC ms at which that local day starts; null when it is not a real date. */
export function localDayStart(day: string, offset: number): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const t = new Date(ms);
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) return null;
  return ms - offset * 60_000;
}

/** The local day of `ms` as "YYYY-MM-DD". */
export function localDay(ms: number, offset: number): string {
  return new Date(ms + offset * 60_000).toISOString().slice(0, 10);
}

/** The local time of `ms` as "YYYY-MM-DD HH:MM:SS" (what a spreadsheet reads as a time). */
export function localDateTime(ms: number, offset: number): string {
  return new Date(ms + offset * 60_000).toISOString().slice(0, 19).replace('T', ' ');
}

/** A range of time: from ≤ t < to (UTC ms). */
export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/** A request as the office lists it: the request, its document's names and its resident's details. */
export interface RequestRow {
  readonly id: number;
  readonly number: string;
  readonly serviceCode: string;
  readonly serviceNameZh: string;
  readonly serviceNameEn: string;
  readonly state: RequestState;
  readonly reason: string | null;
  readonly compartmentNo: number | null;
  readonly createdAt: number;
  readonly stateChangedAt: number;
  readonly loadedAt: number | null;
  readonly closedAt: number | null;
  readonly residentId: number;
  readonly residentName: string;
  readonly mobile: string;
  readonly idNumberMasked: string | null;
  readonly address: { readonly building: string; readonly unit: string; readonly room: string } | null;
}

interface RequestDbRow {
  id: number;
  number: string;
  service_code: string;
  name_zh: string | null;
  name_en: string | null;
  state: RequestState;
  reason: string | null;
  compartment_no: number | null;
  created_at: number;
  state_changed_at: number;
  loaded_at: number | null;
  closed_at: number | null;
  resident_id: number;
  name: string;
  mobile: string;
  id_number_masked: string | null;
  building: string | null;
  unit: string | null;
  room: string | null;
}

function toRequestRow(r: RequestDbRow): RequestRow {
  return {
    id: r.id,
    number: r.number,
    serviceCode: r.service_code,
    serviceNameZh: r.name_zh ?? r.service_code,
    serviceNameEn: r.name_en ?? r.service_code,
    state: r.state,
    reason: r.reason,
    compartmentNo: r.compartment_no,
    createdAt: r.created_at,
    stateChangedAt: r.state_changed_at,
    loadedAt: r.loaded_at,
    closedAt: r.closed_at,
    residentId: r.resident_id,
    residentName: r.name,
    mobile: r.mobile,
    idNumberMasked: r.id_number_masked,
    address: r.building !== null && r.unit !== null && r.room !== null ? { building: r.building, unit: r.unit, room: r.room } : null,
  };
}

/** Where a newest-first list goes on: strictly older than (at, id). */
export interface Cursor {
  readonly at: number;
  readonly id: number;
}

export function encodeCursor(c: Cursor): string {
  return `${c.at}.${c.id}`;
}

/** "1762000000000.123" → a cursor; null when it is not one. */
export function decodeCursor(s: string): Cursor | null {
  const m = /^(\d{1,15})\.(\d{1,15})$/.exec(s);
  return m ? { at: Number(m[1]), id: Number(m[2]) } : null;
}

export interface RequestFilter {
  readonly states?: readonly RequestState[];
  readonly serviceCode?: string;
  /** created in this range */
  readonly range?: Partial<TimeRange>;
  /** part of the number, of the resident's name, or 3–11 digits of their mobile; a whole number is looked up */
  readonly text?: string;
  readonly after?: Cursor;
  /** default 50, 1–1000 */
  readonly limit?: number;
  /** with text: at most this many rows are looked at per call (default 5000) */
  readonly scanRows?: number;
}

export interface Page<T> {
  readonly items: T[];
  /** pass back as `after` for the next (older) page; null: nothing older matches */
  readonly next: Cursor | null;
}

const REQUEST_SELECT = `SELECT q.id, q.number, q.service_code, s.name_zh, s.name_en, q.state, q.reason, q.compartment_no, q.created_at,
  q.state_changed_at, q.loaded_at, q.closed_at, q.resident_id, p.name, p.mobile, p.id_number_masked, p.building, p.unit, p.room
  FROM requests q JOIN residents p ON p.id = q.resident_id LEFT JOIN service_items s ON s.code = q.service_code`;

const FULL_NUMBER = /^BB-\d{8}-\d{4,}$/i;

function clamp(n: number | undefined, dflt: number, max: number): number {
  return Math.min(Math.max(Math.trunc(n ?? dflt), 1), max);
}

/** The WHERE clause of the indexed filters (states, document type, creation range, cursor). */
function requestWhere(f: RequestFilter, after: Cursor | undefined): { sql: string; args: (string | number)[] } {
  const where: string[] = [];
  const args: (string | number)[] = [];
  const states = f.states ? [...new Set(f.states)] : [];
  // Open states are few rows: read from (state, id) and sorted. Finished ones are most of the history: walk
  // requests_created newest first, which carries the state (the unary + keeps the planner off the state index).
  if (states.length > 0) {
    const few = states.every((st) => !TERMINAL_STATES.includes(st));
    where.push(`${few ? '' : '+'}q.state IN (${states.map(() => '?').join(', ')})`);
    args.push(...states);
  }
  if (f.serviceCode !== undefined) where.push('q.service_code = ?'), args.push(f.serviceCode);
  if (f.range?.from !== undefined) where.push('q.created_at >= ?'), args.push(f.range.from);
  if (f.range?.to !== undefined) where.push('q.created_at < ?'), args.push(f.range.to);
  if (after) where.push('(q.created_at, q.id) < (?, ?)'), args.push(after.at, after.id);
  return { sql: where.length ? `WHERE ${where.join(' AND ')}` : '', args };
}

/**
 * Requests newest first (by creation time), filtered and searched, one page at a time. Without text a page reads
 * its own rows from an index; with text at most `scanRows` rows are looked at, and `next` says where to go on
 * when the page is not full by then.
 */
export function findRequests(ctx: StoreContext, f: RequestFilter = {}): Page<RequestRow> {
  const limit = clamp(f.limit, 50, 1000);
  const text = f.text?.trim() ?? '';
  if (FULL_NUMBER.test(text)) {
    const { sql, args } = requestWhere(f, f.after);
    const r = ctx.db
      .prepare<unknown[], RequestDbRow>(`${REQUEST_SELECT} ${sql ? `${sql} AND` : 'WHERE'} q.number = ?`)
      .get(...args, text.toUpperCase());
    return { items: r ? [toRequestRow(r)] : [], next: null };
  }
  if (!text) {
    const { sql, args } = requestWhere(f, f.after);
    const rows = ctx.db
      .prepare<unknown[], RequestDbRow>(`${REQUEST_SELECT} ${sql} ORDER BY q.created_at DESC, q.id DESC LIMIT ?`)
      .all(...args, limit);
    const last = rows[rows.length - 1];
    return { items: rows.map(toRequestRow), next: rows.length === limit && last ? { at: last.created_at, id: last.id } : null };
  }
  const like = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const digits = /^\d{3,11}$/.test(text) ? like : null;
  const scanRows = clamp(f.scanRows, 5000, 100_000);
  const items: RequestRow[] = [];
  let after = f.after;
  let scanned = 0;
  while (scanned < scanRows) {
    // a window of the next `chunk` rows along the index, matched in SQL (rows that do not match are never built)
    const chunk = Math.min(2500, scanRows - scanned);
    const { sql, args } = requestWhere(f, after);
    const order = 'ORDER BY q.created_at DESC, q.id DESC';
    const rows = ctx.db
      .prepare<unknown[], RequestDbRow>(
        `${REQUEST_SELECT} WHERE q.id IN (SELECT q.id FROM requests q ${sql} ${order} LIMIT ?)
           AND (q.number LIKE ? ESCAPE '\\' OR p.name LIKE ? ESCAPE '\\' OR (? IS NOT NULL AND p.mobile LIKE ? ESCAPE '\\')) ${order}`,
      )
      .all(...args, chunk, like, like, digits, digits);
    for (const r of rows) {
      items.push(toRequestRow(r));
      if (items.length === limit) return { items, next: { at: r.created_at, id: r.id } };
    }
    const end = ctx.db
      .prepare<unknown[], { created_at: number; id: number }>(`SELECT q.created_at, q.id FROM requests q ${sql} ${order} LIMIT 1 OFFSET ?`)
      .get(...args, chunk - 1);
    if (!end) return { items, next: null };
    after = { at: end.created_at, id: end.id };
    scanned += chunk;
  }
  return { items, next: after ?? null };
}

// ---------------------------------------------------------------------------------------------
// Audit log
// ---------------------------------------------------------------------------------------------

export interface AuditRow {
  readonly id: number;
  readonly at: number;
  readonly actorKind: ActorKind;
  readonly actorId: string | null;
  /** the staff member's name when the actor is staff */
  readonly actorName: string | null;
  readonly action: string;
  readonly compartmentNo: number | null;
  readonly requestId: number | null;
  readonly requestNumber: string | null;
  readonly detail: AuditDetail;
}

interface AuditDbRow {
  id: number;
  at: number;
  actor_kind: ActorKind;
  actor_id: string | null;
  staff_name: string | null;
  action: string;
  compartment_no: number | null;
  request_id: number | null;
  number: string | null;
  detail: string;
}

export interface AuditFilter {
  readonly range?: Partial<TimeRange>;
  /** an action, or a family of them ending in '.' ("request." = every request event) */
  readonly action?: string;
  readonly actorKind?: ActorKind;
  readonly actorId?: string;
  readonly compartmentNo?: number;
  readonly requestId?: number;
  /** a request number finds its rows; other text is matched in the action and the detail, over a bounded window */
  readonly text?: string;
  readonly after?: Cursor;
  /** default 100, 1–1000 */
  readonly limit?: number;
  /** with text: at most this many rows are looked at per call (default 5000) */
  readonly scanRows?: number;
}

const AUDIT_SELECT = `SELECT a.id, a.at, a.actor_kind, a.actor_id, st.name AS staff_name, a.action, a.compartment_no, a.request_id, q.number, a.detail
  FROM audit_log a
  LEFT JOIN staff st ON a.actor_kind = 'staff' AND st.id = CAST(a.actor_id AS INTEGER)
  LEFT JOIN requests q ON q.id = a.request_id`;

function toAuditRow(r: AuditDbRow): AuditRow {
  let detail: AuditDetail;
  try {
    detail = JSON.parse(r.detail) as AuditDetail;
  } catch {
    detail = {};
  }
  return {
    id: r.id,
    at: r.at,
    actorKind: r.actor_kind,
    actorId: r.actor_id,
    actorName: r.staff_name,
    action: r.action,
    compartmentNo: r.compartment_no,
    requestId: r.request_id,
    requestNumber: r.number,
    detail,
  };
}

/**
 * The id of the first audit row written at or after `t` (max id + 1 when none): a binary search over the ids,
 * since the log is appended in time order (a row's `at` is the time it was written). ~25 point reads.
 */
export function auditIdAt(ctx: StoreContext, t: number): number {
  const db = ctx.db;
  const bounds = db.prepare<[], { lo: number | null; hi: number | null }>('SELECT min(id) AS lo, max(id) AS hi FROM audit_log').get()!;
  if (bounds.lo === null || bounds.hi === null) return 1;
  const atFrom = db.prepare<[number], { id: number; at: number }>('SELECT id, at FROM audit_log WHERE id >= ? ORDER BY id LIMIT 1');
  // the answer is in [lo, hi + 1]: the first id whose row is at or after t
  let lo = bounds.lo;
  let hi = bounds.hi + 1;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const r = atFrom.get(mid);
    if (!r) hi = mid;
    else if (r.at >= t) hi = Math.min(mid, r.id);
    else lo = r.id + 1;
  }
  return lo;
}

/** What an audit query reads along an index (id order, request, compartment) and what it filters on the way. */
function auditWhere(
  ctx: StoreContext,
  f: AuditFilter,
  after: Cursor | undefined,
): { indexed: string[]; indexedArgs: (string | number)[]; filtered: string[]; filteredArgs: (string | number)[] } {
  const indexed: string[] = [];
  const indexedArgs: (string | number)[] = [];
  const filtered: string[] = [];
  const filteredArgs: (string | number)[] = [];
  if (f.requestId !== undefined) indexed.push('a.request_id = ?'), indexedArgs.push(f.requestId);
  else if (f.compartmentNo !== undefined) indexed.push('a.compartment_no = ?'), indexedArgs.push(f.compartmentNo);
  if (f.requestId !== undefined && f.compartmentNo !== undefined) filtered.push('a.compartment_no = ?'), filteredArgs.push(f.compartmentNo);
  // a time range is a range of ids (the log is written in time order); the times are checked as well
  if (f.range?.from !== undefined) {
    indexed.push('a.id >= ?', 'a.at >= ?'), indexedArgs.push(auditIdAt(ctx, f.range.from), f.range.from);
  }
  if (f.range?.to !== undefined) {
    indexed.push('a.id < ?', 'a.at < ?'), indexedArgs.push(auditIdAt(ctx, f.range.to), f.range.to);
  }
  if (after) indexed.push('a.id < ?'), indexedArgs.push(after.id);
  if (f.action !== undefined) {
    if (f.action.endsWith('.')) filtered.push('a.action >= ? AND a.action < ?'), filteredArgs.push(f.action, `${f.action.slice(0, -1)}/`);
    else filtered.push('a.action = ?'), filteredArgs.push(f.action);
  }
  if (f.actorKind !== undefined) filtered.push('a.actor_kind = ?'), filteredArgs.push(f.actorKind);
  if (f.actorId !== undefined) filtered.push('a.actor_id = ?'), filteredArgs.push(f.actorId);
  return { indexed, indexedArgs, filtered, filteredArgs };
}

/**
 * The audit log newest first — in the order it was written, which is time order — filtered and searched, one page
 * at a time. A request's or a compartment's rows, a date range and the cursor are read along an index (the id,
 * audit_log_request, audit_log_compartment); an action, a person and free text are matched over a bounded window
 * of rows per call (`scanRows`), and `next` says where to go on when the page is not full by then (see
 * findRequests). `at` in a cursor is informative: the id decides.
 */
export function findAudit(ctx: StoreContext, f: AuditFilter = {}): Page<AuditRow> {
  const limit = clamp(f.limit, 100, 1000);
  let text = f.text?.trim() ?? '';
  let filter = f;
  if (FULL_NUMBER.test(text)) {
    const r = ctx.db.prepare<[string], { id: number }>('SELECT id FROM requests WHERE number = ?').get(text.toUpperCase());
    if (!r || (f.requestId !== undefined && f.requestId !== r.id)) return { items: [], next: null };
    filter = { ...f, requestId: r.id };
    text = '';
  }
  const w = auditWhere(ctx, filter, filter.after);
  const whereOf = (xs: string[]) => (xs.length ? `WHERE ${xs.join(' AND ')}` : '');
  if (!text && w.filtered.length === 0) {
    const rows = ctx.db
      .prepare<unknown[], AuditDbRow>(`${AUDIT_SELECT} ${whereOf(w.indexed)} ORDER BY a.id DESC LIMIT ?`)
      .all(...w.indexedArgs, limit);
    const last = rows[rows.length - 1];
    return { items: rows.map(toAuditRow), next: rows.length === limit && last ? { at: last.at, id: last.id } : null };
  }
  const needle = text.toLowerCase();
  const scanRows = clamp(f.scanRows, 5000, 100_000);
  const items: AuditRow[] = [];
  let after = filter.after;
  let scanned = 0;
  while (scanned < scanRows) {
    // a window of the next `chunk` rows along the index; the other filters are matched in SQL on those alone
    const chunk = Math.min(1000, scanRows - scanned);
    const { indexed, indexedArgs, filtered, filteredArgs } = auditWhere(ctx, filter, after);
    const window = `SELECT a.id FROM audit_log a ${whereOf(indexed)} ORDER BY a.id DESC LIMIT ?`;
    const rows = ctx.db
      .prepare<unknown[], AuditDbRow>(
        `${AUDIT_SELECT} WHERE a.id IN (${window}) ${filtered.length ? `AND ${filtered.join(' AND ')}` : ''} ORDER BY a.id DESC`,
      )
      .all(...indexedArgs, chunk, ...filteredArgs);
    for (const r of rows) {
      const hit =
        !needle ||
        r.action.toLowerCase().includes(needle) ||
        r.detail.toLowerCase().includes(needle) ||
        (r.staff_name?.toLowerCase().includes(needle) ?? false);
      if (!hit) continue;
      items.push(toAuditRow(r));
      if (items.length === limit) return { items, next: { at: r.at, id: r.id } };
    }
    const end = ctx.db
      .prepare<unknown[], { at: number; id: number }>(`SELECT a.at, a.id FROM audit_log a ${whereOf(indexed)} ORDER BY a.id DESC LIMIT 1 OFFSET ?`)
      .get(...indexedArgs, chunk - 1);
    if (!end) return { items, next: null };
    after = { at: end.at, id: end.id };
    scanned += chunk;
  }
  return { items, next: after ?? null };
}

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

export interface Statistics {
  readonly from: string;
  /** the last day included */
  readonly to: string;
  /** requests made on each local day of the range (days without any included, as 0) */
  readonly perDay: { day: string; count: number }[];
  /** requests made in the range by document type, most first */
  readonly perService: { code: string; nameZh: string; nameEn: string; count: number }[];
  /** documents collected in the range: how long each waited in the cabinet (loaded → collected) */
  readonly waitToCollect: {
    count: number;
    medianHours: number | null;
    p90Hours: number | null;
    /** upper bounds in hours: ≤ 4 h, ≤ 1 day, ≤ 3 days, ≤ 7 days, longer */
    buckets: { upToHours: number | null; count: number }[];
  };
  /** requests that became overdue in the range, per local day (only days with any), and how many are overdue now */
  readonly overdue: { inRange: number; perDay: { day: string; count: number }[]; now: number };
  /** compartments marked as a fault in the range (a door that would not open, …), most first */
  readonly doorFaults: { compartment: number; count: number }[];
  /** requests that ended in the range, per local month and by how they ended */
  readonly perMonth: { month: string; collected: number; retrieved: number; rejected: number; cancelled: number; total: number }[];
}

const WAIT_BUCKETS = [4, 24, 72, 168, null] as const;

/** The statistics of the local days [fromDay, toDay] (both included). Every count is one GROUP BY over an index. */
export function statistics(ctx: StoreContext, fromDay: string, toDay: string): Statistics {
  const off = offsetMinutes(ctx, ctx.now());
  const from = localDayStart(fromDay, off);
  const last = localDayStart(toDay, off);
  if (from === null || last === null || last < from) throw new RangeError('statistics: from and to must be dates, from ≤ to');
  const to = last + DAY;
  const offMs = off * 60_000;
  const db = ctx.db;

  const dayCounts = new Map<number, number>();
  for (const r of db
    .prepare<[number, number], { d: number; n: number }>(
      `SELECT (created_at + ${offMs}) / ${DAY} AS d, count(*) AS n FROM requests WHERE created_at >= ? AND created_at < ? GROUP BY d`,
    )
    .all(from, to))
    dayCounts.set(r.d, r.n);
  const perDay: { day: string; count: number }[] = [];
  for (let t = from; t < to; t += DAY) {
    const d = Math.floor((t + offMs) / DAY);
    perDay.push({ day: localDay(t, off), count: dayCounts.get(d) ?? 0 });
  }

  const perService = db
    .prepare<[number, number], { code: string; name_zh: string | null; name_en: string | null; n: number }>(
      `SELECT c.service_code AS code, s.name_zh, s.name_en, c.n FROM
         (SELECT service_code, count(*) AS n FROM requests WHERE created_at >= ? AND created_at < ? GROUP BY service_code) c
       LEFT JOIN service_items s ON s.code = c.service_code ORDER BY c.n DESC, c.service_code`,
    )
    .all(from, to)
    .map((r) => ({ code: r.code, nameZh: r.name_zh ?? r.code, nameEn: r.name_en ?? r.code, count: r.n }));

  const waits = db
    .prepare<[number, number], { w: number }>(
      // along (closed_at): the unary + keeps the planner off the state index, which would read every collected request
      `SELECT closed_at - loaded_at AS w FROM requests
       WHERE closed_at >= ? AND closed_at < ? AND closed_at IS NOT NULL AND +state = 'collected' AND loaded_at IS NOT NULL ORDER BY w`,
    )
    .all(from, to)
    .map((r) => Math.max(0, r.w) / 3_600_000);
  const quantile = (p: number): number | null =>
    waits.length ? Math.round(waits[Math.min(waits.length - 1, Math.floor(p * waits.length))]! * 10) / 10 : null;
  const buckets = WAIT_BUCKETS.map((upTo) => ({ upToHours: upTo, count: 0 }));
  for (const h of waits) {
    const b = buckets.find((x) => x.upToHours === null || h <= x.upToHours)!;
    b.count++;
  }

  // the audit rows of the range: a range of ids (the log is written in time order), read along the primary key
  const ids = [auditIdAt(ctx, from), auditIdAt(ctx, to)] as const;
  const overdueDays = db
    .prepare<[number, number, number, number], { d: number; n: number }>(
      `SELECT (at + ${offMs}) / ${DAY} AS d, count(*) AS n FROM audit_log
       WHERE id >= ? AND id < ? AND action = 'request.mark_overdue' AND at >= ? AND at < ? GROUP BY d ORDER BY d`,
    )
    .all(...ids, from, to);
  const overdueNow = db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM requests WHERE state = 'overdue'`).get()!.n;

  const doorFaults = db
    .prepare<[number, number, number, number], { c: number; n: number }>(
      `SELECT compartment_no AS c, count(*) AS n FROM audit_log
       WHERE id >= ? AND id < ? AND action = 'compartment.fault' AND at >= ? AND at < ? AND compartment_no IS NOT NULL GROUP BY c ORDER BY n DESC, c`,
    )
    .all(...ids, from, to)
    .map((r) => ({ compartment: r.c, count: r.n }));

  // per local day and state (integer arithmetic along the covering index), folded into months here
  const months = new Map<string, { month: string; collected: number; retrieved: number; rejected: number; cancelled: number; total: number }>();
  for (const r of db
    .prepare<[number, number], { d: number; state: RequestState; n: number }>(
      `SELECT (closed_at + ${offMs}) / ${DAY} AS d, state, count(*) AS n FROM requests
       WHERE closed_at >= ? AND closed_at < ? AND closed_at IS NOT NULL GROUP BY d, state ORDER BY d`,
    )
    .all(from, to)) {
    const m = new Date(r.d * DAY).toISOString().slice(0, 7);
    const row = months.get(m) ?? { month: m, collected: 0, retrieved: 0, rejected: 0, cancelled: 0, total: 0 };
    if (r.state === 'collected' || r.state === 'retrieved' || r.state === 'rejected' || r.state === 'cancelled') row[r.state] += r.n;
    row.total += r.n;
    months.set(m, row);
  }

  return {
    from: fromDay,
    to: toDay,
    perDay,
    perService,
    waitToCollect: { count: waits.length, medianHours: quantile(0.5), p90Hours: quantile(0.9), buckets },
    overdue: {
      inRange: overdueDays.reduce((s, r) => s + r.n, 0),
      perDay: overdueDays.map((r) => ({ day: new Date(r.d * DAY).toISOString().slice(0, 10), count: r.n })),
      now: overdueNow,
    },
    doorFaults,
    perMonth: [...months.values()],
  };
}

// ---------------------------------------------------------------------------------------------
// Personal data in exports
// ---------------------------------------------------------------------------------------------

/** The resident's details as an export shows them: masked (name 张**, mobile 138****5678, address to the building). */
export function residentForExport(r: RequestRow, masked: boolean): { name: string; mobile: string; idNumber: string; address: string } {
  const a = r.address;
  if (!masked) {
    return {
      name: r.residentName,
      mobile: r.mobile,
      // The full ID number is never exported: reading it is one audited act per resident (GET …/id-number).
      idNumber: r.idNumberMasked ?? '',
      address: a ? addressText(a) : '',
    };
  }
  return {
    name: r.residentName ? maskNameForKiosk(r.residentName) : '',
    mobile: r.mobile ? maskMobile(r.mobile) : '',
    idNumber: r.idNumberMasked ? maskIdNumberForStaff(r.idNumberMasked) : '',
    address: a ? `${a.building} *单元 ***` : '',
  };
}
