/**
 * The office's routes over HTTP on a generated history of 12 000 requests: the request history and the audit log
 * with filters and paging, the statistics, and the CSV exports (BOM, neutralised formulas, masked personal data
 * unless an administrator asks, every export audited).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell } from '../controller/http/csv.js';
import { generateHistory, type GeneratedHistory } from '../controller/store/history-test-support.js';
import { findAudit, localDay } from '../controller/store/index.js';
import type { ApiAnswer, ApiClient } from './api-client.js';
import { startTestApp, type TestApp } from './app-harness.js';

const DAY = 86_400_000;
const OFF = 480;
let h: TestApp;
let hist: GeneratedHistory;
let staff: { id: number; api: ApiClient };
let admin: { id: number; api: ApiClient };
let from: string;
let to: string;

beforeAll(async () => {
  h = await startTestApp();
  staff = await h.staffSession('staff');
  admin = await h.staffSession('admin');
  hist = generateHistory(h.store.ctx, { requests: 12_000, days: 90, now: Date.now() - 60_000, staffIds: [staff.id, admin.id], seed: 3 });
  from = localDay(Date.now() - 40 * DAY, OFF);
  to = localDay(Date.now() - 10 * DAY, OFF);
}, 60_000);
afterAll(async () => {
  await h.close();
});

/** Parses the CSV the routes write (quoted cells, CRLF rows). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(cell), (cell = '');
    else if (ch === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
    else cell += ch;
  }
  if (cell || row.length) row.push(cell), rows.push(row);
  return rows;
}

describe('CSV cells', () => {
  it.each([
    ['=1+1', "'=1+1"],
    ['+86 138', "'+86 138"],
    ['-5', "'-5"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['\rx', `"'\rx"`],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['张三', '张三'],
    [null, ''],
    [12, '12'],
  ])('%j → %j', (input, out) => {
    expect(csvCell(input)).toBe(out);
  });
});

describe('request history', () => {
  it('pages through a month of one document type, newest first, each once, and says when there is no more', async () => {
    const rows: { id: number; createdAt: string; serviceCode: string }[] = [];
    let after: string | null = null;
    do {
      const r: ApiAnswer = await staff.api.get('/api/staff/history/requests', {
        query: { from, to, service: 'residence_certificate', limit: '200', ...(after ? { after } : {}) },
      });
      expect(r.status).toBe(200);
      rows.push(...r.body.requests);
      after = r.body.next;
    } while (after);
    const fromMs = Date.UTC(+from.slice(0, 4), +from.slice(5, 7) - 1, +from.slice(8)) - OFF * 60_000;
    const toMs = Date.UTC(+to.slice(0, 4), +to.slice(5, 7) - 1, +to.slice(8)) - OFF * 60_000 + DAY;
    const want = hist.requests.filter((q) => q.serviceCode === 'residence_certificate' && q.createdAt >= fromMs && q.createdAt < toMs);
    expect(rows.length).toBe(want.length);
    expect(new Set(rows.map((x) => x.id)).size).toBe(rows.length);
    const times = rows.map((x) => Date.parse(x.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('answers 400 with the field for a bad date, a reversed range and a bad cursor; nothing changes', async () => {
    for (const [query, field] of [
      [{ from: '2026-02-30' }, 'from'],
      [{ from: '2026-11-02', to: '2026-11-01' }, 'to'],
      [{ after: 'x' }, 'after'],
      [{ state: 'lost' }, 'state'],
    ] as const) {
      const r = await staff.api.get('/api/staff/history/requests', { query });
      expect(r.status, JSON.stringify(query)).toBe(400);
      expect(r.body.error.field).toBe(field);
    }
  });
});

describe('audit log and statistics', () => {
  it('filters the audit log by staff member and action over HTTP', async () => {
    const r = await staff.api.get('/api/staff/history/audit', { query: { staff: String(admin.id), action: 'request.', limit: '50' } });
    expect(r.status).toBe(200);
    expect(r.body.entries.length).toBe(50);
    expect(
      r.body.entries.every(
        (e: { actorId: string; action: string; actorName: string }) =>
          e.actorId === String(admin.id) && e.action.startsWith('request.') && e.actorName === '王主任',
      ),
    ).toBe(true);
    expect(r.body.next).toMatch(/^\d+\.\d+$/);
  });

  it('gives the numbers of a range', async () => {
    const r = await staff.api.get('/api/staff/statistics', { query: { from, to } });
    expect(r.status).toBe(200);
    expect(r.body.perDay.length).toBe(31);
    expect(r.body.perService.reduce((n: number, s: { count: number }) => n + s.count, 0)).toBe(
      r.body.perDay.reduce((n: number, d: { count: number }) => n + d.count, 0),
    );
    expect((await staff.api.get('/api/staff/statistics', { query: { from } })).status).toBe(400);
  });
});

describe('CSV export', () => {
  it('exports a month of requests: BOM, one row each, masked, formulas neutralised, and the export audited', async () => {
    const r = await staff.api.get('/api/staff/export/requests.csv', { query: { from, to } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(r.headers.get('content-disposition')).toContain(`requests-${from}-${to}.csv`);
    expect([...r.raw.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = parseCsv(r.raw.toString('utf8').slice(1));
    const [header, ...body] = rows;
    expect(header![0]).toBe('编号 Number');
    const list = await staff.api.get('/api/staff/history/requests', { query: { from, to, limit: '1' } });
    expect(body[0]![0]).toBe(list.body.requests[0].number);
    const n = hist.requests.filter((q) => localDay(q.createdAt, OFF) >= from && localDay(q.createdAt, OFF) <= to).length;
    expect(body.length).toBe(n);
    const mobiles = body.map((x) => x[8]!);
    expect(mobiles.every((m) => /^\d{3}\*{4}\d{4}$/.test(m))).toBe(true);
    expect(body.every((x) => x[7] === '' || /^.\*+$/u.test(x[7]!))).toBe(true);
    const reasons = body.map((x) => x[11]!).filter((x) => x.includes('HYPERLINK'));
    expect(reasons.length).toBeGreaterThan(0);
    expect(reasons.every((x) => x.startsWith("'="))).toBe(true);
    const audit = findAudit(h.store.ctx, { action: 'export.requests', limit: 5 }).items;
    expect(audit[0]).toMatchObject({ actorKind: 'staff', actorId: String(staff.id), detail: { from, to, masked: true } });
  });

  it('unmasked data only for an administrator, and that is audited as unmasked', async () => {
    const refused = await staff.api.get('/api/staff/export/requests.csv', { query: { from, to, unmasked: 'true' } });
    expect(refused.status).toBe(403);
    const r = await admin.api.get('/api/staff/export/requests.csv', { query: { from: to, to, unmasked: 'true' } });
    expect(r.status).toBe(200);
    const body = parseCsv(r.raw.toString('utf8').slice(1)).slice(1);
    expect(body.length).toBeGreaterThan(0);
    expect(body.every((x) => /^139\d{8}$/.test(x[8]!))).toBe(true);
    const names = new Set(hist.requests.map((q) => q.residentName));
    expect(body.every((x) => names.has(x[7]!))).toBe(true);
    expect(findAudit(h.store.ctx, { action: 'export.requests', limit: 1 }).items[0]).toMatchObject({
      actorId: String(admin.id),
      detail: { masked: false },
    });
  });

  it('exports the audit log of a range with a BOM, each row once', async () => {
    const r = await staff.api.get('/api/staff/export/audit.csv', { query: { from: to, to } });
    expect(r.status).toBe(200);
    expect([...r.raw.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const body = parseCsv(r.raw.toString('utf8').slice(1)).slice(1);
    const n = hist.audit.filter((a) => localDay(a.at, OFF) === to).length;
    expect(body.length).toBe(n);
    expect(findAudit(h.store.ctx, { action: 'export.audit', limit: 1 }).items[0]).toMatchObject({ detail: { from: to, to } });
  });

  it('refuses an export without a range (400) and writes no audit row for it', async () => {
    const before = findAudit(h.store.ctx, { action: 'export.', limit: 100 }).items.length;
    const r = await staff.api.get('/api/staff/export/requests.csv', { query: { from } });
    expect(r.status).toBe(400);
    expect(findAudit(h.store.ctx, { action: 'export.', limit: 100 }).items.length).toBe(before);
  });
});

describe('setup banner', () => {
  it('tells the console when PUBLIC_URL is not set', async () => {
    const r = await staff.api.get('/api/staff/setup');
    expect(r.status).toBe(200);
    expect(r.body.warnings.map((w: { code: string }) => w.code)).toEqual(['PUBLIC_URL_UNSET']);
    expect(r.body.publicUrl).toBe(h.url);
  });
});
