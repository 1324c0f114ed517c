/**
 * The office's lists, statistics and exports on a large history: `npx tsx test/bench/office.ts <DATA_DIR>` on a
 * copy of a data directory (e.g. one `npm run bench` generated in bench-out/history-1000000; it is migrated
 * forward first, and how long that took is printed), or `--generate N <NEW_DIR>` to write N requests over three
 * years with the tests' generator (controller/store/history-test-support.ts) first. Times each call the console makes, median and worst of a few,
 * and one CSV export of a month of requests and of audit rows. Not part of `npm test`.
 */
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { writeCsv } from '../../controller/http/csv.js';
import { SYSTEM_ACTOR } from '../../controller/domain/types.js';
import { generateHistory } from '../../controller/store/history-test-support.js';
import {
  applyLayout,
  createStaff,
  findAudit,
  findRequests,
  layoutGrid,
  localDay,
  localDayStart,
  openStore,
  residentForExport,
  statistics,
  type Cursor,
  type Page,
} from '../../controller/store/index.js';

const args = process.argv.slice(2);
const generate = args[0] === '--generate' ? Number(args[1]) : 0;
const dir = generate ? args[2] : args[0];
if (!dir || (args[0] === '--generate' && !(generate > 0))) {
  process.stderr.write('usage: npx tsx test/bench/office.ts [--generate N] <DATA_DIR>\n');
  process.exit(2);
}
if (generate) {
  const t = performance.now();
  const s = openStore({ dataDir: dir, utcOffsetMinutes: 480 });
  applyLayout(s.ctx, layoutGrid(1, 24), SYSTEM_ACTOR);
  const staff = await createStaff(s.ctx, { login: 'bench', name: '王芳', role: 'admin', pin: '246813' }, SYSTEM_ACTOR, { N: 2 ** 10, r: 8, p: 1 });
  for (let done = 0, seed = 1; done < generate; done += 50_000, seed++) {
    // slices of 50 000, oldest first, so ids grow with time as on a real cabinet
    const n = Math.min(50_000, generate - done);
    const span = (3 * 365 * n) / generate;
    const end = Date.now() - ((generate - done - n) / generate) * 3 * 365 * 86_400_000;
    generateHistory(s.ctx, { requests: n, days: span, now: end, staffIds: [staff.id], seed });
  }
  s.close();
  process.stdout.write(`generated ${generate.toLocaleString('en')} requests in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
}

const t0 = performance.now();
const store = openStore({ dataDir: dir, utcOffsetMinutes: 480 });
const openMs = performance.now() - t0;
const ctx = store.ctx;
const counts = store.db
  .prepare<[], { r: number; a: number; newest: number }>(
    'SELECT (SELECT count(*) FROM requests) AS r, (SELECT count(*) FROM audit_log) AS a, (SELECT max(created_at) FROM requests) AS newest',
  )
  .get()!;
const OFF = 480;
const DAY = 86_400_000;
const newestDay = localDay(counts.newest, OFF);
const monthStart = `${newestDay.slice(0, 7)}-01`;
const prevMonthEnd = localDay(localDayStart(monthStart, OFF)! - DAY, OFF);
const prevMonthStart = `${prevMonthEnd.slice(0, 7)}-01`;
const yearAgo = localDay(counts.newest - 364 * DAY, OFF);
const month = { from: localDayStart(prevMonthStart, OFF)!, to: localDayStart(monthStart, OFF)! };

function time(label: string, f: () => unknown, n = 7): void {
  const s: number[] = [];
  let out: unknown;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    out = f();
    s.push(performance.now() - t);
  }
  s.sort((a, b) => a - b);
  const size = (out as Page<unknown> | undefined)?.items?.length;
  process.stdout.write(
    `${label.padEnd(64)} ${s[Math.floor(n / 2)]!.toFixed(2).padStart(9)} ms  (worst ${s[n - 1]!.toFixed(2)} ms)${size !== undefined ? `  ${size} rows` : ''}\n`,
  );
}

process.stdout.write(
  `${counts.r.toLocaleString('en')} requests, ${counts.a.toLocaleString('en')} audit rows; open + migrate ${openMs.toFixed(0)} ms\n`,
);
const deep = findRequests(ctx, { limit: 1, after: { at: month.from, id: Number.MAX_SAFE_INTEGER } }).items[0];
const deepCursor: Cursor = deep ? { at: deep.createdAt, id: deep.id } : { at: month.from, id: 1 };
time('requests: newest page (50)', () => findRequests(ctx, { limit: 50 }));
time('requests: last month, one document type', () => findRequests(ctx, { range: month, serviceCode: 'residence_certificate', limit: 50 }));
time('requests: finished, page after a month back', () =>
  findRequests(ctx, { states: ['collected', 'retrieved', 'rejected', 'cancelled'], after: deepCursor, limit: 50 }),
);
time('requests: open ones', () => findRequests(ctx, { states: ['submitted', 'accepted', 'ready', 'loaded', 'overdue'], limit: 50 }));
time('requests: text (name) over one 5 000-row window', () => findRequests(ctx, { text: '王芳', limit: 50 }));
time('requests: whole number', () => findRequests(ctx, { text: deep?.number ?? 'BB-20260101-0001' }));
time('audit: newest page (100)', () => findAudit(ctx, { limit: 100 }));
time('audit: last month, request events', () => findAudit(ctx, { range: month, action: 'request.', limit: 100 }));
time('audit: one action (compartment.fault)', () => findAudit(ctx, { action: 'compartment.fault', limit: 100 }));
time('audit: one compartment, last month', () => findAudit(ctx, { compartmentNo: 7, range: month, limit: 100 }));
time('audit: staff member 1', () => findAudit(ctx, { actorKind: 'staff', actorId: '1', limit: 100 }));
time('audit: a request number', () => findAudit(ctx, { text: deep?.number ?? 'BB-20260101-0001' }));
time('statistics: one month', () => statistics(ctx, prevMonthStart, prevMonthEnd), 5);
time('statistics: one year', () => statistics(ctx, yearAgo, newestDay), 3);

async function exportRate(label: string, rows: Iterable<readonly (string | number | null)[]>): Promise<void> {
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      bytes += chunk.length;
      cb();
    },
  });
  const t = performance.now();
  const n = await writeCsv(sink, ['a'], rows);
  const ms = performance.now() - t;
  process.stdout.write(
    `${label.padEnd(64)} ${ms.toFixed(0).padStart(9)} ms  ${n} rows, ${(bytes / 1e6).toFixed(1)} MB, ${Math.round(n / (ms / 1000))} rows/s\n`,
  );
}

function* pages<T>(find: (after: Cursor | undefined) => Page<T>): Generator<T> {
  let after: Cursor | undefined;
  for (;;) {
    const p = find(after);
    yield* p.items;
    if (!p.next) return;
    after = p.next;
  }
}

await exportRate(
  'CSV: last month of requests (masked)',
  (function* () {
    for (const r of pages((after) => findRequests(ctx, { range: month, limit: 1000, ...(after ? { after } : {}) }))) {
      const p = residentForExport(r, true);
      yield [r.number, r.serviceNameZh, r.state, r.createdAt, p.name, p.mobile, p.idNumber, p.address, r.reason];
    }
  })(),
);
await exportRate(
  'CSV: last month of the audit log',
  (function* () {
    for (const a of pages((after) => findAudit(ctx, { range: month, limit: 1000, ...(after ? { after } : {}) }))) {
      yield [a.at, a.actorKind, a.actorName ?? a.actorId, a.action, a.compartmentNo, a.requestNumber, JSON.stringify(a.detail)];
    }
  })(),
);
store.close();
