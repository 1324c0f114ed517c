import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_STATES } from '../domain/request-states.js';
import { SYSTEM_ACTOR } from '../domain/types.js';
import { applyLayout, layoutGrid } from './compartments.js';
import { generateHistory, type GeneratedHistory } from './history-test-support.js';
import { decodeCursor, encodeCursor, findAudit, findRequests, localDay, localDayStart, statistics, type Cursor, type Page } from './reports.js';
import { FakeClock, makeStaff, openTestStore, type TestStore } from './test-support.js';

const OFF = 480; // the test store's UTC offset (China)
let s: TestStore;
let h: GeneratedHistory;
let staffA: number;
let staffB: number;

beforeAll(async () => {
  s = openTestStore({ clock: new FakeClock(Date.UTC(2026, 11, 2, 4, 0, 0)) });
  applyLayout(s.ctx, layoutGrid(1, 24), SYSTEM_ACTOR);
  staffA = await makeStaff(s, 'staff', 'zhao');
  staffB = await makeStaff(s, 'admin', 'qian');
  h = generateHistory(s.ctx, { requests: 12_000, days: 120, now: s.clock.now(), staffIds: [staffA, staffB], seed: 7 });
});
afterAll(() => s.close());

/** Every page of a list, following `next`; fails on a repeated row. */
function walk<T extends { id: number }>(find: (after: Cursor | undefined) => Page<T>): T[] {
  const out: T[] = [];
  const seen = new Set<number>();
  let after: Cursor | undefined;
  for (let i = 0; i < 10_000; i++) {
    const page = find(after);
    for (const x of page.items) {
      expect(seen.has(x.id), `row ${x.id} twice`).toBe(false);
      seen.add(x.id);
      out.push(x);
    }
    if (!page.next) return out;
    after = page.next;
  }
  throw new Error('paging did not end');
}

const newestFirst = <T extends { createdAt: number; id: number }>(xs: T[]): T[] => [...xs].sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);

describe('local days', () => {
  it('reads a local date as the UTC instant it starts, and refuses dates that do not exist', () => {
    expect(localDayStart('2026-11-01', OFF)).toBe(Date.UTC(2026, 10, 1) - 8 * 3_600_000);
    expect(localDay(Date.UTC(2026, 9, 31, 16, 0, 0), OFF)).toBe('2026-11-01');
    expect(localDayStart('2026-02-30', OFF)).toBeNull();
    expect(localDayStart('2026-13-01', OFF)).toBeNull();
    expect(localDayStart('20261101', OFF)).toBeNull();
  });
  it('round-trips a cursor and refuses what is not one', () => {
    expect(decodeCursor(encodeCursor({ at: 1764000000000, id: 42 }))).toEqual({ at: 1764000000000, id: 42 });
    expect(decodeCursor('1.2.3')).toBeNull();
    expect(decodeCursor('abc')).toBeNull();
  });
});

describe('request history (12 000 generated requests)', () => {
  it('pages through every request newest first, each once', () => {
    const all = walk((after) => findRequests(s.ctx, { limit: 500, ...(after ? { after } : {}) }));
    expect(all.map((r) => r.id)).toEqual(newestFirst([...h.requests]).map((r) => r.id));
  });

  it('finds last month’s requests of one document type and state, and only those', () => {
    const from = localDayStart('2026-11-01', OFF)!;
    const to = localDayStart('2026-12-01', OFF)!;
    const want = newestFirst(
      h.requests.filter((r) => r.createdAt >= from && r.createdAt < to && r.serviceCode === 'elderly_benefit' && r.state === 'collected'),
    );
    expect(want.length).toBeGreaterThan(100);
    const got = walk((after) =>
      findRequests(s.ctx, { range: { from, to }, serviceCode: 'elderly_benefit', states: ['collected'], limit: 37, ...(after ? { after } : {}) }),
    );
    expect(got.map((r) => r.id)).toEqual(want.map((r) => r.id));
    expect(got[0]).toMatchObject({ serviceNameZh: '养老/高龄补贴证明', state: 'collected' });
  });

  it('finds finished requests (several states at once) in a date range', () => {
    const from = localDayStart('2026-10-01', OFF)!;
    const to = localDayStart('2026-10-08', OFF)!;
    const want = newestFirst(h.requests.filter((r) => r.createdAt >= from && r.createdAt < to && TERMINAL_STATES.includes(r.state)));
    const got = walk((after) => findRequests(s.ctx, { range: { from, to }, states: TERMINAL_STATES, limit: 50, ...(after ? { after } : {}) }));
    expect(got.map((r) => r.id)).toEqual(want.map((r) => r.id));
  });

  it('searches by part of a name and by mobile digits, going on from where a bounded window stopped', () => {
    const target = h.requests[1234]!;
    const name = target.residentName;
    const want = newestFirst(h.requests.filter((r) => r.residentName.includes(name)));
    // a small window forces calls that come back short but with a cursor
    const got = walk((after) => findRequests(s.ctx, { text: name, limit: 20, scanRows: 700, ...(after ? { after } : {}) }));
    expect(got.map((r) => r.id)).toEqual(want.map((r) => r.id));
    const first = findRequests(s.ctx, { text: name, limit: 1000, scanRows: 700 });
    expect(first.items.length).toBeLessThan(want.length);
    expect(first.next).not.toBeNull();

    const digits = target.mobile.slice(-6);
    const byMobile = walk((after) => findRequests(s.ctx, { text: digits, ...(after ? { after } : {}) }));
    expect(byMobile.map((r) => r.id)).toEqual(newestFirst(h.requests.filter((r) => r.mobile.includes(digits))).map((r) => r.id));
  });

  it('finds a request by its whole number, and nothing for a number that does not exist', () => {
    const target = h.requests[4321]!;
    expect(findRequests(s.ctx, { text: target.number.toLowerCase() }).items.map((r) => r.id)).toEqual([target.id]);
    expect(findRequests(s.ctx, { text: 'BB-19990101-0001' }).items).toEqual([]);
  });
});

describe('audit log (about 100 000 generated rows)', () => {
  const newest = <T extends { at: number }>(xs: T[]): number[] => xs.map((x) => x.at);

  it('filters by action family, compartment and date range, newest first, every row once', () => {
    const from = localDayStart('2026-11-10', OFF)!;
    const to = localDayStart('2026-11-20', OFF)!;
    const want = h.audit.filter((a) => a.action.startsWith('request.') && a.compartmentNo === 5 && a.at >= from && a.at < to);
    expect(want.length).toBeGreaterThan(10);
    const got = walk((after) =>
      findAudit(s.ctx, { action: 'request.', compartmentNo: 5, range: { from, to }, limit: 7, ...(after ? { after } : {}) }),
    );
    expect(got.length).toBe(want.length);
    expect(newest(got)).toEqual([...newest(want)].sort((a, b) => b - a));
    expect(got.every((a) => a.action.startsWith('request.') && a.compartmentNo === 5)).toBe(true);
  });

  it('filters by who (a staff member, named) and by one action', () => {
    const want = h.audit.filter((a) => a.actorKind === 'staff' && a.actorId === String(staffA) && a.action === 'request.reject');
    const got = walk((after) =>
      findAudit(s.ctx, { actorKind: 'staff', actorId: String(staffA), action: 'request.reject', limit: 100, ...(after ? { after } : {}) }),
    );
    expect(got.length).toBe(want.length);
    expect(got[0]?.actorName).toBe('李四');
  });

  it('a request number finds its rows; a word is searched in a bounded window', () => {
    const target = h.requests[777]!;
    const rows = findAudit(s.ctx, { text: target.number }).items;
    expect(rows.length).toBe(h.audit.filter((a) => a.requestId === target.id).length);
    expect(rows.every((r) => r.requestNumber === target.number)).toBe(true);
    const faults = walk((after) => findAudit(s.ctx, { text: 'FAULT', scanRows: 3000, ...(after ? { after } : {}) }));
    expect(faults.length).toBe(h.audit.filter((a) => a.action === 'compartment.fault').length);
  });
});

describe('statistics', () => {
  it('counts per day, per document type, waits, overdue, door faults and per month as the history says', () => {
    const st = statistics(s.ctx, '2026-10-01', '2026-11-30');
    const from = localDayStart('2026-10-01', OFF)!;
    const to = localDayStart('2026-12-01', OFF)!;
    const made = h.requests.filter((r) => r.createdAt >= from && r.createdAt < to);

    expect(st.perDay.length).toBe(61);
    expect(st.perDay.reduce((n, d) => n + d.count, 0)).toBe(made.length);
    const nov5 = made.filter((r) => localDay(r.createdAt, OFF) === '2026-11-05').length;
    expect(st.perDay.find((d) => d.day === '2026-11-05')?.count).toBe(nov5);

    const perService = new Map<string, number>();
    for (const r of made) perService.set(r.serviceCode, (perService.get(r.serviceCode) ?? 0) + 1);
    expect(Object.fromEntries(st.perService.map((x) => [x.code, x.count]))).toEqual(Object.fromEntries(perService));

    const collected = h.requests.filter((r) => r.state === 'collected' && r.closedAt! >= from && r.closedAt! < to);
    expect(st.waitToCollect.count).toBe(collected.length);
    expect(st.waitToCollect.buckets.reduce((n, b) => n + b.count, 0)).toBe(collected.length);
    const waits = collected.map((r) => (r.closedAt! - r.loadedAt!) / 3_600_000).sort((a, b) => a - b);
    expect(st.waitToCollect.medianHours).toBeCloseTo(waits[Math.floor(waits.length / 2)]!, 0);
    expect(st.waitToCollect.buckets[0]!.count).toBe(waits.filter((w) => w <= 4).length);

    expect(st.overdue.inRange).toBe(h.requests.filter((r) => r.overdueAt !== null && r.overdueAt >= from && r.overdueAt < to).length);
    expect(st.overdue.now).toBe(h.requests.filter((r) => r.state === 'overdue').length);

    const faults = new Map<number, number>();
    for (const a of h.audit)
      if (a.action === 'compartment.fault' && a.at >= from && a.at < to) faults.set(a.compartmentNo!, (faults.get(a.compartmentNo!) ?? 0) + 1);
    expect(st.doorFaults.reduce((n, f) => n + f.count, 0)).toBe([...faults.values()].reduce((a, b) => a + b, 0));
    expect(st.doorFaults.length).toBe(faults.size);

    const nov = h.requests.filter((r) => r.closedAt !== null && localDay(r.closedAt, OFF).startsWith('2026-11'));
    const novRow = st.perMonth.find((m) => m.month === '2026-11');
    expect(novRow).toEqual({
      month: '2026-11',
      collected: nov.filter((r) => r.state === 'collected').length,
      retrieved: nov.filter((r) => r.state === 'retrieved').length,
      rejected: nov.filter((r) => r.state === 'rejected').length,
      cancelled: nov.filter((r) => r.state === 'cancelled').length,
      total: nov.length,
    });
  });

  it('refuses a range that ends before it starts', () => {
    expect(() => statistics(s.ctx, '2026-11-02', '2026-11-01')).toThrow(RangeError);
  });
});

describe('every list and count is read along an index (stays fast at a million requests)', () => {
  const plan = (sql: string, ...args: unknown[]): string =>
    s.db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...args)
      .map((r) => (r as { detail: string }).detail)
      .join(' | ');

  it.each([
    [
      'requests by date',
      `SELECT id FROM requests q WHERE q.created_at >= 1 AND q.created_at < 2 ORDER BY q.created_at DESC, q.id DESC LIMIT 50`,
      'requests_created',
    ],
    [
      'requests by type',
      `SELECT id FROM requests q WHERE q.service_code = 'x' AND (q.created_at, q.id) < (5, 5) ORDER BY q.created_at DESC, q.id DESC LIMIT 50`,
      'COVERING INDEX requests_created',
    ],
    [
      'requests by a finished state',
      `SELECT id FROM requests q WHERE +q.state IN ('collected') ORDER BY q.created_at DESC, q.id DESC LIMIT 50`,
      'COVERING INDEX requests_created',
    ],
    [
      'requests by open states (few rows, sorted)',
      `SELECT id FROM requests q WHERE q.state IN ('submitted', 'ready') ORDER BY q.created_at DESC, q.id DESC`,
      'requests_state_id',
    ],
    ['audit newest', `SELECT id FROM audit_log a WHERE a.id < 5 ORDER BY a.id DESC LIMIT 50`, 'INTEGER PRIMARY KEY'],
    [
      'audit by compartment',
      `SELECT id FROM audit_log a WHERE a.compartment_no = 3 AND a.id >= 1 AND a.id < 9 ORDER BY a.id DESC LIMIT 50`,
      'audit_log_compartment',
    ],
    [
      'audit by action or staff: a window of ids, filtered',
      `SELECT a.id FROM audit_log a WHERE a.id IN (SELECT a.id FROM audit_log a WHERE a.id < 5 ORDER BY a.id DESC LIMIT 1000)
         AND a.actor_kind = 'staff' AND a.actor_id = '1' AND a.action = 'x' ORDER BY a.id DESC`,
      'INTEGER PRIMARY KEY',
    ],
    [
      'overdue marks per day (statistics): the range of ids of the days',
      `SELECT at / 86400000 AS d, count(*) FROM audit_log WHERE id >= 1 AND id < 9 AND action = 'request.mark_overdue' AND at >= 1 AND at < 2 GROUP BY d`,
      'INTEGER PRIMARY KEY',
    ],
    [
      'requests per day',
      `SELECT created_at / 86400000 AS d, count(*) FROM requests WHERE created_at >= 1 AND created_at < 2 GROUP BY d`,
      'COVERING INDEX requests_created',
    ],
    [
      'collection times (statistics)',
      `SELECT closed_at - loaded_at AS w FROM requests WHERE closed_at >= 1 AND closed_at < 2 AND closed_at IS NOT NULL AND +state = 'collected' AND loaded_at IS NOT NULL ORDER BY w`,
      'requests_closed_at ',
    ],
    [
      'ended per month',
      `SELECT state, count(*) FROM requests WHERE closed_at >= 1 AND closed_at < 2 AND closed_at IS NOT NULL GROUP BY state`,
      'COVERING INDEX requests_closed_at',
    ],
  ])('%s', (_name, sql, index) => {
    const p = plan(sql);
    expect(p).toMatch(new RegExp(index));
    expect(p).not.toMatch(/SCAN (q|a|requests|audit_log)(?! USING)/);
    if (sql.includes('DESC LIMIT')) expect(p).not.toContain('TEMP B-TREE'); // a page is read in index order, never sorted
  });
});
