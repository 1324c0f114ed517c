/**
 * A real SQLite file that cannot be written: full (PRAGMA max_page_count), read-only (PRAGMA query_only) and
 * damaged (an index whose b-tree no longer matches its table). The whole controller runs in this process
 * (startController, embedded simulated cabinet); what people see is read over HTTP.
 *
 * The controller stays up, answers "out of service" in words to the kiosk and the console, raises an alarm,
 * opens no door it cannot record, says what is wrong in /api/health, and recovers by itself.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../controller/config.js';
import { residentActor, staffActor } from '../controller/domain/types.js';
import { silentLogger } from '../controller/log.js';
import { startController, type Controller } from '../controller/main.js';
import { createRequest, getCompartment, listAudit, requireRequest, transitionRequest } from '../controller/store/index.js';
import { damageFirstRow, makeResident, makeStaff } from '../controller/store/test-support.js';
import { tempDir, waitFor } from './harness.js';

const running: Controller[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.close();
});

async function start(dataDir = tempDir('storage-')): Promise<Controller & { dataDir: string }> {
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    KIOSK_PORT: '0',
    SIM_PANEL_PORT: '0',
    LOCK_PORT: 'sim',
    LOG_LEVEL: 'silent',
    DOOR_OPEN_TIMEOUT_MS: '1500',
    // recovery is noticed at the next re-check: 5 s by default
    STORAGE_RECHECK_MS: '250',
  });
  const c = await startController(config, silentLogger());
  running.push(c);
  await waitFor(() => c.flows.isReady, 'start-up reconciliation', 15_000);
  return Object.assign(c, { dataDir });
}

interface Health {
  status: string;
  doorActions: string;
  storage: { state: string; message: string | null; detail: string | null; doorChangesWaiting: number; doorChangesNotKept: number };
}
async function health(c: Controller): Promise<Health> {
  return (await (await fetch(`${c.url}/api/health`)).json()) as Health;
}
async function kioskPickup(
  c: Controller,
  code: string,
  last4: string,
  language = 'zh-CN',
): Promise<{ status: number; body: { ok?: boolean; code?: string; key?: string; message?: string } }> {
  const res = await fetch(`${c.kioskUrl}/api/kiosk/pickup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'accept-language': language },
    body: JSON.stringify({ code, phoneLast4: last4 }),
  });
  return { status: res.status, body: (await res.json()) as never };
}

/**
 * Cap the database at its present size, then write audit rows (which every flow writes) until no row with keys
 * like the flow's fits any more: from here on the flow's next audit row needs a page the "disk" does not have.
 */
function fillUp(c: Controller, no: number, requestId: number | null): void {
  const pages = Number(c.store.db.pragma('page_count', { simple: true }));
  c.store.db.pragma(`max_page_count = ${pages}`);
  const insert = c.store.db.prepare(
    `INSERT INTO audit_log (at, actor_kind, action, compartment_no, request_id, detail) VALUES (?, 'system', 'test.fill', ?, ?, ?)`,
  );
  let failures = 0;
  for (let i = 0; failures < 60 && i < 200_000; i++) {
    try {
      insert.run(Date.now(), no, requestId, JSON.stringify({ n: i }));
      failures = 0;
    } catch (e) {
      expect((e as { code?: string }).code).toBe('SQLITE_FULL');
      failures++;
    }
  }
}

/** Poll an async check every 50 ms until it gives a truthy value; fail after `ms`. */
async function until<T>(check: () => Promise<T | null | false>, what: string, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function readyRequest(c: Controller, staffId: number) {
  const resident = makeResident(c.store);
  const { request } = createRequest(c.store.ctx, { residentId: resident.id, serviceCode: 'residence_certificate' }, residentActor(resident.id));
  transitionRequest(c.store.ctx, { requestId: request.id, event: 'accept', actor: staffActor(staffId) });
  transitionRequest(c.store.ctx, { requestId: request.id, event: 'mark_ready', actor: staffActor(staffId) });
  return { resident, requestId: request.id };
}

describe('a full disk', () => {
  it('stops a load after its door opened without ending the process; out of service in words; no door opened; recovers and finishes the load', async () => {
    const c = await start();
    const sim = c.sim!.cabinet;
    const staffId = await makeStaff(c.store);
    const alarms: string[] = [];
    c.bus.on('alarm', (a) => alarms.push(a.kind));
    // Grow the file a little first, then cap it: the database is now "full" for anything that needs a new page.
    const { requestId } = await readyRequest(c, staffId);
    const answer = await c.flows.load(staffId, requestId);
    expect(answer.opened).toBe(true);
    const no = answer.compartment!;
    fillUp(c, no, requestId);
    sim.putItem(no);
    sim.closeDoor(no);
    // The flow's writes fail (or a later one does): the flow ends 'failed', the process is still here.
    const final = await answer.done;
    const h = await until(
      async () => {
        const x = await health(c);
        return x.storage.state === 'full' ? x : null;
      },
      'health to say the disk is full',
      10_000,
    );
    expect(final).toBe('failed');
    expect(h.storage.state).toBe('full');
    expect(h).toMatchObject({ status: 'degraded', doorActions: 'out_of_service' });
    expect(h.storage.message).toContain('存储空间已满');
    // The kiosk hears it in words; no door opens while nothing could record it.
    const pulses = sim.getCounters().unlocksExecuted[1] ?? 0;
    const k = await kioskPickup(c, '12345678', '1234');
    expect(k.status).toBe(200);
    expect(k.body).toMatchObject({ ok: false, code: 'OUT_OF_SERVICE', key: 'storage.full' });
    expect(k.body.message).toContain('存储空间已满');
    expect((await kioskPickup(c, '12345678', '1234', 'en')).body.message).toContain('disk is full');
    const other = await readyRequest(c, staffId).catch(() => null);
    if (other) await expect(c.flows.load(staffId, other.requestId)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect(sim.getCounters().unlocksExecuted[1] ?? 0).toBe(pulses);
    expect(alarms).toContain('storage');
    // Space returns: the controller notices by itself, reconciles, and the interrupted load is finished from the sensors.
    c.store.db.pragma('max_page_count = 1073741823');
    await until(async () => (await health(c)).doorActions === 'ready', 'door actions back after the disk has room', 15_000);
    const after = await health(c);
    expect(after.storage, JSON.stringify(after.storage)).toMatchObject({ state: 'ok' });
    expect(requireRequest(c.store.ctx, requestId).state).toBe('loaded');
    expect(getCompartment(c.store.ctx, no)).toMatchObject({ state: 'occupied', contents: { requestId } });
    // the door's closing, seen while the disk was full, is on record: written late, before the check that followed
    expect(listAudit(c.store.db, { compartmentNo: no }).filter((a) => a.action === 'door.closed' && a.detail.late === true)).toHaveLength(1);
  }, 60_000);
});

describe('door changes while the disk is full', () => {
  it('are kept, and written with the time they happened and a late mark once the disk has room; a forced door is tamper at once', async () => {
    const c = await start();
    const sim = c.sim!.cabinet;
    const alarms: { kind: string; compartment: number | null; key: string | null; time: unknown }[] = [];
    c.bus.on('alarm', (a) => alarms.push({ kind: a.kind, compartment: a.compartment ?? null, key: a.key, time: a.params?.time }));
    const no = 7;
    const doorRows = () => listAudit(c.store.db, { compartmentNo: no, sinceId: mark }).filter((a) => a.action.startsWith('door.'));
    const mark = listAudit(c.store.db, { newestFirst: true, limit: 1 })[0]!.id;
    fillUp(c, no, null);
    const before = Date.now();
    sim.openDoor(no); // forced: no unlock explains it
    await until(async () => ((await health(c)).storage.state === 'full' ? true : null), 'health to say the disk is full', 10_000);
    const opened = [before, Date.now()] as const;
    sim.closeDoor(no);
    await waitFor(() => c.driver.snapshot().compartments[no - 1]!.door === 'closed', 'the door closed');
    const closed = Date.now();
    expect(doorRows()).toEqual([]);
    // health tells how many changes wait to be written (the count only: no compartment, no time), to anyone
    expect((await health(c)).storage).toMatchObject({ state: 'full', doorChangesWaiting: 2, doorChangesNotKept: 0 });
    // nothing on record yet, but the forced door is alarmed at once: the record can still be read
    expect(alarms).toContainEqual({ kind: 'tamper', compartment: no, key: 'alarm.tamper', time: undefined });
    // Space returns: the kept changes are written, oldest first, at the times they happened.
    c.store.db.pragma('max_page_count = 1073741823');
    await until(async () => (await health(c)).doorActions === 'ready', 'door actions back after the disk has room', 15_000);
    expect((await health(c)).storage).toMatchObject({ state: 'ok', doorChangesWaiting: 0, doorChangesNotKept: 0 });
    const rows = doorRows();
    expect(rows.map((a) => [a.action, a.detail.late])).toEqual([
      ['door.opened_unexplained', true],
      ['door.closed', true],
    ]);
    expect(rows[0]!.at).toBeGreaterThanOrEqual(opened[0]);
    expect(rows[0]!.at).toBeLessThanOrEqual(opened[1]);
    expect(rows[1]!.at).toBeGreaterThanOrEqual(opened[1]);
    expect(rows[1]!.at).toBeLessThanOrEqual(closed);
    expect(getCompartment(c.store.ctx, no)).toMatchObject({ door: 'closed' });
    expect(alarms.filter((a) => a.kind === 'tamper')).toHaveLength(1); // not again when written
  }, 60_000);
});

describe('a read-only database', () => {
  it('the kiosk hears "out of service" (not an error page), health says read-only, and it recovers', async () => {
    const c = await start();
    c.store.db.pragma('query_only = 1');
    const k = await kioskPickup(c, '12345678', '1234');
    expect(k.body).toMatchObject({ ok: false, code: 'OUT_OF_SERVICE' });
    expect(k.body).toMatchObject({ key: 'storage.read_only', message: expect.stringContaining('只读') });
    expect((await health(c)).storage).toMatchObject({ state: 'read_only' });
    c.store.db.pragma('query_only = 0');
    await until(async () => (await health(c)).doorActions === 'ready', 'recovery', 15_000);
  }, 40_000);
});

describe('a damaged database at start-up', () => {
  it('is reported in health and door actions are refused with words', async () => {
    const first = await start();
    const dataDir = first.dataDir;
    await running.pop()!.close();
    // Damage an index: overwrite key bytes at the end of its root page (where SQLite keeps cell content).
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(`${dataDir}/cabinet.sqlite3`);
    for (let i = 0; i < 40; i++)
      db.prepare(`INSERT INTO audit_log (at, actor_kind, action) VALUES (?, 'system', ?)`).run(1_700_000_000_000 + i, `test.fill.${i}`);
    const idx = db
      .prepare<[], { rootpage: number }>(
        `SELECT rootpage FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'audit_log' AND sql IS NOT NULL ORDER BY name LIMIT 1`,
      )
      .get()!;
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const fs = await import('node:fs');
    const fd = fs.openSync(`${dataDir}/cabinet.sqlite3`, 'r+');
    fs.writeSync(fd, Buffer.alloc(12, 0x7f), 0, 12, idx.rootpage * pageSize - 40);
    fs.closeSync(fd);
    const c = await start(dataDir).catch((e: unknown) => {
      throw new Error(`start refused: ${String(e)}`);
    });
    // the whole-file check runs in a worker once HTTP answers: wait for its verdict
    let h = await health(c);
    for (let i = 0; i < 100 && h.storage.state !== 'damaged'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      h = await health(c);
    }
    expect(h.storage.state).toBe('damaged');
    expect(h.doorActions).toBe('out_of_service');
    expect(h.storage.message).toContain('数据库已损坏');
    expect(h.storage.detail).toMatch(/integrity_check/);
    const k = await kioskPickup(c, '12345678', '1234');
    expect(k.body).toMatchObject({ ok: false, code: 'OUT_OF_SERVICE' });
    expect(listAudit(c.store.db, { action: 'unlock.intended' })).toHaveLength(0);
  }, 40_000);
});

describe('a damaged row read while serving', () => {
  it('is not served as if true: 503 in words, health says damaged, door actions refused', async () => {
    const first = await start();
    const dataDir = first.dataDir;
    await running.pop()!.close();
    damageFirstRow(dataDir, 'service_items');
    // the file changed since its clean stop: the whole-file check runs too, and either may find the damage first
    const c = await start(dataDir);
    const res = await fetch(`${c.url}/api/services`, { headers: { 'accept-language': 'en' } });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: 'STORAGE_UNAVAILABLE', key: 'storage.damaged' } });
    const h = await health(c);
    expect(h).toMatchObject({ status: 'degraded', doorActions: 'out_of_service', storage: { state: 'damaged' } });
    expect((await kioskPickup(c, '12345678', '1234')).body).toMatchObject({ ok: false, code: 'OUT_OF_SERVICE', key: 'storage.damaged' });
  }, 40_000);
});
