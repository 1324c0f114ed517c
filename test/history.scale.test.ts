/**
 * History at scale: with more than 10,000 requests (a year of use), the staff views are right and every start-up
 * query is bounded by the unfinished work. The history is generated to the store's schema (test/bench/history.ts).
 * Correctness only: speed is in `npm run bench`.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { loadConfig } from '../controller/config.js';
import { TERMINAL_STATES, type RequestState } from '../controller/domain/request-states.js';
import { silentLogger } from '../controller/log.js';
import { startController } from '../controller/main.js';
import { reconcile } from '../controller/flows/reconcile.js';
import { STAFF_PROTOCOL } from '../controller/http/live.js';
import { countRequestsByState, notificationsQuery, openStore, recordDoorFact, unresolvedIntents, type Store } from '../controller/store/index.js';
import { erasePersonalData, erasePersonalDataBatch, residentsDueForErasure } from '../controller/store/retention.js';
import { SimCabinet } from '../sim/cabinet.js';
import { startTestApp, type TestApp } from './app-harness.js';
import { generateHistory, type History } from './bench/history.js';
import { runCompiled } from './compiled.js';
import { tempDir, waitFor } from './harness.js';
import { getJson } from './processes.js';

const DAY = 86_400_000;
const SIZE = 12_000;
let source: string;
let history: History;

/** A fresh copy of the generated data directory (each test may change it). */
function copyOfHistory(): string {
  const dir = tempDir('cabinet-history-');
  for (const f of fs.readdirSync(source)) fs.copyFileSync(path.join(source, f), path.join(dir, f));
  return dir;
}

beforeAll(() => {
  source = tempDir('cabinet-history-src-');
  history = generateHistory({ dataDir: source, requests: SIZE, open: 300 });
}, 120_000);

afterAll(() => fs.rmSync(source, { recursive: true, force: true }));

interface ListItem {
  id: number;
  number: string;
  state: RequestState;
}
interface ListAnswer {
  requests: ListItem[];
  nextBefore: number | null;
}

describe(`the staff views with ${SIZE.toLocaleString('en')} requests`, () => {
  let h: TestApp;
  let staff: Awaited<ReturnType<TestApp['staffSession']>>;
  beforeAll(async () => {
    h = await startTestApp({ dataDir: copyOfHistory() });
    staff = await h.staffSession('staff');
  }, 60_000);
  afterAll(() => h?.close());

  it('the generated history is what the tests assume', () => {
    expect(history.requests).toBe(SIZE);
    expect(history.newest.id).toBe(SIZE);
    expect(history.openIds.length).toBeGreaterThan(300);
    expect(history.auditRows / SIZE).toBeGreaterThan(20);
  });

  it('the queue lists the newest requests first, and pages on with `before` without gaps', async () => {
    const first = await staff.api.get<ListAnswer>('/api/staff/requests', { query: { limit: 50 } });
    expect(first.status).toBe(200);
    expect(first.body.requests.map((r) => r.id)).toEqual(Array.from({ length: 50 }, (_, i) => SIZE - i));
    expect(first.body.requests[0]!.number).toBe(history.newest.number);
    const second = await staff.api.get<ListAnswer>('/api/staff/requests', { query: { limit: 50, before: first.body.nextBefore! } });
    expect(second.body.requests.map((r) => r.id)).toEqual(Array.from({ length: 50 }, (_, i) => SIZE - 50 - i));
  });

  it('the open queue is every open request, newest first, including old ones left open', async () => {
    const seen: number[] = [];
    let before: number | null = null;
    do {
      const r: { body: ListAnswer } = await staff.api.get<ListAnswer>('/api/staff/requests', {
        query: { state: 'open', limit: 100, ...(before ? { before } : {}) },
      });
      for (const x of r.body.requests) expect(TERMINAL_STATES).not.toContain(x.state);
      seen.push(...r.body.requests.map((x) => x.id));
      before = r.body.nextBefore;
    } while (before !== null);
    expect(seen).toEqual([...history.openIds].sort((a, b) => b - a));
    // the oldest open one is far back in the history
    expect(Math.min(...seen)).toBeLessThan(SIZE - 5000);
  });

  it('search finds the newest request by its number, whole or in part', async () => {
    const whole = await staff.api.get<ListAnswer>('/api/staff/requests', { query: { q: history.newest.number.toLowerCase() } });
    expect(whole.body.requests.map((r) => r.id)).toEqual([history.newest.id]);
    const part = await staff.api.get<ListAnswer>('/api/staff/requests', { query: { q: history.newest.number.slice(3) } });
    expect(part.body.requests[0]?.id).toBe(history.newest.id);
  });

  it('a name that matches nothing is answered at once: the pairs of characters of the names say so', async () => {
    for (const q of ['nobody-by-this-name', '无此人']) {
      const r = await staff.api.get<ListAnswer>('/api/staff/requests', { query: { q } });
      expect(r.body).toEqual({ requests: [], nextBefore: null });
    }
  });

  it('a part of a number that matches nothing says where to go on instead of reading the whole history', async () => {
    const r = await staff.api.get<ListAnswer>('/api/staff/requests', { query: { q: 'BB-1999' } });
    expect(r.body.requests).toEqual([]);
    expect(r.body.nextBefore).not.toBeNull();
    expect(r.body.nextBefore!).toBeGreaterThan(1);
    let calls = 1;
    let before: number | null = r.body.nextBefore;
    while (before !== null && calls < 100) {
      const more: { body: ListAnswer } = await staff.api.get<ListAnswer>('/api/staff/requests', { query: { q: 'BB-1999', before } });
      expect(more.body.requests).toEqual([]);
      if (more.body.nextBefore !== null) expect(more.body.nextBefore).toBeLessThan(before);
      before = more.body.nextBefore;
      calls++;
    }
    expect(before).toBeNull();
    expect(calls).toBeGreaterThan(1);
  });

  it('the live snapshot counts every request by state, and lists the newest open ones', async () => {
    const ws = new WebSocket(`${h.url.replace('http', 'ws')}/ws/staff`, [STAFF_PROTOCOL, staff.token]);
    const snap = await new Promise<{ requests: { counts: Record<string, number>; open: { id: number }[] } }>((resolve, reject) => {
      ws.once('message', (data: Buffer) => resolve(JSON.parse(data.toString('utf8')) as never));
      ws.once('error', reject);
    });
    ws.close();
    expect(snap.requests.counts).toEqual(history.counts);
    const open = Object.entries(snap.requests.counts)
      .filter(([s]) => !TERMINAL_STATES.includes(s as RequestState))
      .reduce((n, [, c]) => n + c, 0);
    expect(open).toBe(history.openIds.length);
    const newestOpen = [...history.openIds]
      .sort((a, b) => b - a)
      .slice(0, 200)
      .reverse();
    expect(snap.requests.open.map((r) => r.id)).toEqual(newestOpen);
  });

  it('the counters follow every state change', async () => {
    const id = Math.max(...history.openIds.filter((i) => i > SIZE - 300));
    const before = countRequestsByState(h.store.ctx);
    const detail = await staff.api.get<{ state: RequestState }>(`/api/staff/requests/${id}`);
    const r = await staff.api.post(`/api/staff/requests/${id}/cancel`, { body: { reason: 'test' } });
    expect(r.status).toBe(200);
    const after = countRequestsByState(h.store.ctx);
    expect(after.cancelled).toBe(before.cancelled + 1);
    expect(after[detail.body.state]).toBe(before[detail.body.state] - 1);
  });

  it('request detail reads its notifications through an index, not the whole outbox', async () => {
    const { sql } = notificationsQuery({ requestId: 123 });
    const plan = h.store.db
      .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
      .all(123)
      .map((r) => r.detail)
      .join('; ');
    expect(plan).toMatch(/USING (COVERING )?INDEX notifications_request/);
    const collected = 200;
    const d = await staff.api.get<{ notifications: unknown[]; audit: unknown[] }>(`/api/staff/requests/${collected}`);
    expect(d.status).toBe(200);
    expect(d.body.audit.length).toBeGreaterThan(2);
  });
});

describe('start-up with a long history', () => {
  let store: Store | null = null;
  afterAll(() => store?.close());

  it('lists no finished unlock as unresolved: only what is unfinished', () => {
    store = openStore({ dataDir: copyOfHistory() });
    expect(history.intents).toBeGreaterThan(SIZE);
    expect(unresolvedIntents(store.ctx)).toEqual([]);
  });

  it('erases through the retention marks exactly the residents a full scan finds due, in small batches', () => {
    const dir = copyOfHistory();
    // 30 days later, seen through a clock moved forward
    const later = Date.now() + 30 * DAY;
    const s = openStore({ dataDir: dir, now: () => later });
    try {
      const due = residentsDueForErasure(s.ctx, 180 * DAY);
      expect(due.length).toBeGreaterThan(0);
      const firstBatch = erasePersonalDataBatch(s.ctx, 180 * DAY, 25);
      expect(firstBatch.done).toBe(false);
      expect(firstBatch.erased + erasePersonalData(s.ctx, 180 * DAY, 25)).toBe(due.length);
      expect(residentsDueForErasure(s.ctx, 180 * DAY)).toEqual([]);
    } finally {
      s.close();
    }
  });

  it('reconciliation reads the history only through indexes: no query of it scans a history table', async () => {
    const h = await startTestApp({ dataDir: copyOfHistory() });
    const seen = new Set<string>();
    const prepare = h.store.db.prepare.bind(h.store.db);
    h.store.db.prepare = ((sql: string) => (seen.add(sql), prepare(sql))) as typeof h.store.db.prepare;
    try {
      await reconcile(h.flows, { store: h.store, driver: h.driver, bus: h.bus, config: h.deps.config, logger: silentLogger() });
      // and what every door event does: attribute an opening to an unlock (none here: a tamper), record the close
      recordDoorFact(h.store.ctx, { compartmentNo: 3, door: 'open', source: 'event' });
      recordDoorFact(h.store.ctx, { compartmentNo: 3, door: 'closed', source: 'event' });
    } finally {
      h.store.db.prepare = prepare as typeof h.store.db.prepare;
    }
    // any full pass over a table or index except the few small ones (24 compartments, settings) and json_each over
    // a bound parameter (this run's unlocks, at most a few hundred)
    const HISTORY = /\bSCAN (?!compartments\b|meta\b|CONSTANT\b|json_each\b|\()\w+/;
    const scans: string[] = [];
    for (const sql of seen) {
      if (!/^\s*(SELECT|WITH)/i.test(sql)) continue;
      const params = (sql.match(/\?/g) ?? []).map(() => 0);
      const plan = prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
      const text = plan.map((r) => r.detail).join('; ');
      if (HISTORY.test(text)) scans.push(`${sql.replace(/\s+/g, ' ').slice(0, 120)} → ${text}`);
    }
    expect(seen.size).toBeGreaterThan(3);
    expect(scans).toEqual([]);
    await h.close();
  }, 60_000);

  it('answers HTTP ("checking the cabinet") before reconciliation has finished, then becomes ready', async () => {
    const sim = new SimCabinet({});
    const { port } = await sim.listenTcp('127.0.0.1', 0);
    sim.disconnect('silent'); // the boards say nothing: reconciliation cannot finish
    const config = loadConfig({ DATA_DIR: copyOfHistory(), PORT: '0', KIOSK_PORT: '0', LOCK_PORT: `tcp://127.0.0.1:${port}` });
    const c = await startController(config, silentLogger());
    try {
      const health = await getJson<{ doorActions: string }>(`${c.url}/api/health`);
      expect(health.status).toBe(200);
      expect(health.body.doorActions).toBe('checking');
      expect(c.flows.isReady).toBe(false);
      sim.reconnect();
      await waitFor(() => c.flows.isReady, 'reconciliation', 30_000);
      expect((await getJson<{ doorActions: string }>(`${c.url}/api/health`)).body.doorActions).toBe('ready');
    } finally {
      await c.close();
      await sim.close();
    }
  }, 60_000);
});

describe('a taken HTTP port', () => {
  it('stops with a clear message and a non-zero exit code', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const p = await runCompiled('controller/main.ts', [], {
        DATA_DIR: tempDir('cabinet-port-'),
        PORT: String(port),
        HOST: '127.0.0.1',
        KIOSK_PORT: '0',
        SIM_PANEL_PORT: '0',
      });
      const code = await p.exited;
      expect(code).not.toBe(0);
      expect(p.output()).toMatch(new RegExp(`port 127\\.0\\.0\\.1:${port} is already in use`));
      expect(p.output()).not.toMatch(/is running/);
    } finally {
      holder.close();
    }
  }, 30_000);
});
