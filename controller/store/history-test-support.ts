/**
 * A generated office history for the tests of lists, statistics and exports: residents, requests spread over the
 * last `days` days in a realistic mix of outcomes, and their audit rows (created, accepted, ready, loaded through a
 * compartment, collected / overdue and retrieved / rejected / cancelled; now and then a compartment fault).
 * Written straight into the real schema with bulk inserts in one transaction (12 k requests take about a second).
 * It returns what it wrote, so tests compute what they expect from this, not from the database. Not a test file.
 */
import { createHash } from 'node:crypto';
import type { RequestState } from '../domain/request-states.js';
import { seededRng } from '../../sim/rng.js';
import type { StoreContext } from './context.js';
import { localDateKey } from './context.js';
import { inTransaction } from './db.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
export const GENERATED_SERVICES = [
  'residence_certificate',
  'family_relationship',
  'elderly_benefit',
  'no_criminal_record_letter',
  'hardship_proof',
] as const;
const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗';
const GIVEN = '伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华';

export interface GeneratedRequest {
  readonly id: number;
  readonly number: string;
  readonly serviceCode: string;
  readonly state: RequestState;
  readonly createdAt: number;
  readonly loadedAt: number | null;
  readonly closedAt: number | null;
  readonly overdueAt: number | null;
  readonly compartmentNo: number | null;
  readonly residentName: string;
  readonly mobile: string;
}

export interface GeneratedAudit {
  readonly at: number;
  readonly action: string;
  readonly actorKind: 'staff' | 'resident' | 'system' | 'kiosk';
  readonly actorId: string | null;
  readonly compartmentNo: number | null;
  readonly requestId: number;
}

export interface GeneratedHistory {
  readonly requests: readonly GeneratedRequest[];
  readonly audit: readonly GeneratedAudit[];
}

export interface HistoryOptions {
  readonly requests: number;
  readonly days: number;
  /** the newest request is made shortly before this */
  readonly now: number;
  /** staff ids who accept, prepare and load */
  readonly staffIds: readonly number[];
  readonly seed?: number;
  readonly compartments?: number;
  /** 1 in this many loads leaves a compartment fault (default 80) */
  readonly faultEvery?: number;
}

export function generateHistory(ctx: StoreContext, o: HistoryOptions): GeneratedHistory {
  const rnd = seededRng(o.seed ?? 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const compartments = o.compartments ?? 24;
  const faultEvery = o.faultEvery ?? 80;
  const db = ctx.db;
  const requests: GeneratedRequest[] = [];
  const audit: GeneratedAudit[] = [];
  return inTransaction(db, () => {
    const residentCount = Math.max(1, Math.ceil(o.requests / 3));
    const insResident = db.prepare(
      `INSERT INTO residents (name, mobile, building, unit, room, qr_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const firstAt = o.now - o.days * DAY;
    const residents: { id: number; name: string; mobile: string }[] = [];
    for (let i = 0; i < residentCount; i++) {
      const name = pick([...SURNAMES]) + pick([...GIVEN]) + (rnd() < 0.6 ? pick([...GIVEN]) : '');
      const mobile = `139${String(10_000_000 + i * 7 + Math.floor(rnd() * 7)).slice(-8)}`;
      const r = insResident.run(
        name,
        mobile,
        `${1 + (i % 30)}号楼`,
        String(1 + (i % 4)),
        String(101 + (i % 20)),
        `gen-${o.seed ?? 1}-${i}-${Math.floor(rnd() * 1e9)}`,
        firstAt,
        firstAt,
      );
      residents.push({ id: Number(r.lastInsertRowid), name, mobile });
    }
    const insRequest = db.prepare(
      `INSERT INTO requests (number, status_token_hash, resident_id, service_code, state, reason, compartment_no, created_at, updated_at,
         state_changed_at, loaded_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insAudit = db.prepare(
      `INSERT INTO audit_log (at, actor_kind, actor_id, action, compartment_no, request_id, detail) VALUES (?, ?, ?, ?, ?, ?, '{}')`,
    );
    const dayCounters = new Map<string, number>();
    // numbers go on from what the day already has (a history written in slices, or on top of real requests)
    const lastOf = { get: (day: string) => db.prepare<[string], { last: number }>('SELECT last FROM request_day_counters WHERE day = ?').get(day) };
    const step = (o.days * DAY) / o.requests;
    for (let i = 0; i < o.requests; i++) {
      const createdAt = Math.floor(firstAt + i * step + rnd() * step * 0.9);
      const resident = residents[Math.floor(rnd() * residents.length)]!;
      const serviceCode = pick(GENERATED_SERVICES);
      const day = localDateKey(createdAt, ctx.utcOffsetMinutes);
      const seq = (dayCounters.get(day) ?? lastOf.get(day)?.last ?? 0) + 1;
      dayCounters.set(day, seq);
      const number = `BB-${day}-${String(seq).padStart(4, '0')}`;
      const staff = String(pick(o.staffIds));
      const acceptedAt = createdAt + HOUR + Math.floor(rnd() * 5 * HOUR);
      const readyAt = acceptedAt + HOUR + Math.floor(rnd() * 20 * HOUR);
      const loadAt = readyAt + Math.floor(rnd() * 2 * HOUR);
      const wait = Math.floor(rnd() < 0.7 ? rnd() * 30 * HOUR : rnd() * 10 * DAY);
      const compartmentNo = 1 + Math.floor(rnd() * compartments);
      const r = rnd();
      let state: RequestState;
      let loadedAt: number | null = null;
      let closedAt: number | null = null;
      let overdueAt: number | null = null;
      let reason: string | null = null;
      const events: [number, string, 'staff' | 'resident' | 'system' | 'kiosk', number | null][] = [[createdAt, 'request.created', 'resident', null]];
      if (r < 0.05 && createdAt + 2 * HOUR < o.now) {
        state = 'cancelled';
        closedAt = createdAt + 2 * HOUR;
        events.push([closedAt, 'request.cancel', 'resident', null]);
      } else if (r < 0.1 && acceptedAt < o.now) {
        state = 'rejected';
        closedAt = acceptedAt;
        reason = i % 7 === 0 ? '=HYPERLINK("http://x")' : '材料不全';
        events.push([closedAt, 'request.reject', 'staff', null]);
      } else if (acceptedAt >= o.now) {
        state = 'submitted';
      } else if (readyAt >= o.now) {
        state = 'accepted';
        events.push([acceptedAt, 'request.accept', 'staff', null]);
      } else if (loadAt >= o.now) {
        state = 'ready';
        events.push([acceptedAt, 'request.accept', 'staff', null], [readyAt, 'request.mark_ready', 'staff', null]);
      } else {
        loadedAt = loadAt + 60_000;
        events.push(
          [acceptedAt, 'request.accept', 'staff', null],
          [readyAt, 'request.mark_ready', 'staff', null],
          [loadAt, 'request.start_load', 'staff', compartmentNo],
          [loadAt + 1000, 'unlock.intended', 'staff', compartmentNo],
          [loadAt + 2000, 'unlock.acked', 'system', compartmentNo],
          [loadedAt, 'request.load_done', 'staff', compartmentNo],
          [loadedAt, 'compartment.occupied', 'staff', compartmentNo],
        );
        if (i % faultEvery === faultEvery - 1) events.push([loadedAt + 1000, 'compartment.fault', 'system', compartmentNo]);
        const overdueBy = loadedAt + 7 * DAY;
        const collectAt = loadedAt + wait;
        if (collectAt < o.now && collectAt < overdueBy) {
          state = 'collected';
          closedAt = collectAt;
          events.push([collectAt - 1000, 'unlock.intended', 'kiosk', compartmentNo], [collectAt, 'request.collect', 'kiosk', compartmentNo]);
        } else if (overdueBy < o.now) {
          overdueAt = overdueBy;
          events.push([overdueBy, 'request.mark_overdue', 'system', compartmentNo]);
          if (overdueBy + DAY < o.now) {
            state = 'retrieved';
            closedAt = overdueBy + DAY;
            events.push([closedAt, 'request.retrieve', 'staff', compartmentNo]);
          } else state = 'overdue';
        } else state = 'loaded';
      }
      const hash = createHash('sha256')
        .update(`gen-${o.seed ?? 1}-${i}`)
        .digest();
      const changedAt = Math.max(...events.map((e) => e[0]));
      const res = insRequest.run(
        number,
        hash,
        resident.id,
        serviceCode,
        state,
        reason,
        loadedAt !== null ? compartmentNo : null,
        createdAt,
        changedAt,
        changedAt,
        loadedAt,
        closedAt,
      );
      const id = Number(res.lastInsertRowid);
      for (const [at, action, kind, c] of events) {
        const actorId = kind === 'staff' ? staff : kind === 'resident' ? String(resident.id) : kind === 'kiosk' ? 'kiosk-1' : null;
        audit.push({ at, action, actorKind: kind, actorId, compartmentNo: c, requestId: id });
      }
      requests.push({
        id,
        number,
        serviceCode,
        state,
        createdAt,
        loadedAt,
        closedAt,
        overdueAt,
        compartmentNo: loadedAt !== null ? compartmentNo : null,
        residentName: resident.name,
        mobile: resident.mobile,
      });
    }
    const counter = db.prepare(
      `INSERT INTO request_day_counters (day, last) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET last = max(last, excluded.last)`,
    );
    for (const [day, last] of dayCounters) counter.run(day, last);
    // the log is written as things happen: in time order
    for (const a of [...audit].sort((x, y) => x.at - y.at)) insAudit.run(a.at, a.actorKind, a.actorId, a.action, a.compartmentNo, a.requestId);
    return { requests, audit };
  });
}
