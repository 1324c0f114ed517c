/**
 * SIGKILL at every step of loading and of pickup, then a restart: start-up reconciliation must
 * leave no request lost, no compartment holding two things, and no credential usable twice.
 *
 * The controller runs as its own process against a simulated cabinet in another process (which,
 * like the real cabinet, lives on when the controller dies). CABINET_CRASH_AT names the step at
 * which the controller kills itself; the crash points are in controller/flows.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DB_FILE } from '../controller/store/db.js';
import { hashPin } from '../controller/store/staff.js';
import { FAST_SCRYPT } from '../controller/store/test-support.js';
import { Api, startController, startGateway, startSim, tempDir, type ControllerProc, type Sim } from './cabinet-processes.js';

// Two or three controller starts per scenario (load, crash, restart): on a busy 2-core machine that alone can take 15 s.
vi.setConfig({ testTimeout: 45_000, hookTimeout: 45_000 });

const LOAD_STEPS = ['load.reserved', 'load.started', 'load.intent', 'load.unlocked', 'load.door_open', 'door_closed', 'load.done'];
const PICKUP_STEPS = ['pickup.intent', 'pickup.unlocked', 'pickup.door_open', 'door_closed', 'pickup.collected'];

const RESIDENT = {
  name: '王小明',
  mobile: '13800138000',
  idNumber: '11010519491231002X',
  address: { building: '3号楼', unit: '1', room: '502' },
  serviceCode: 'residence_certificate',
};

// The processes start from the sources compiled once (test/compiled.ts): the same program, without tsx in each start.
const COMPILED = { compiled: true } as const;

/**
 * One simulated cabinet for the whole file (like the real one, it outlives every controller), checked at rest —
 * doors shut, nothing inside — between scenarios and started afresh if a scenario left it otherwise; and one data
 * directory past its first start (the administrator's PIN chosen), copied for each scenario's fresh database. Its
 * PIN hash is then written with cheap scrypt parameters (kept in the hash, as the product reads them): each of the
 * thirty sign-ins costs a millisecond instead of a strong hash's 0.1–0.9 s; PIN hashing is tested in the store.
 */
let gateway: Awaited<ReturnType<typeof startGateway>>;
let cabinet: Sim;
let template: string;
beforeAll(async () => {
  gateway = await startGateway();
  cabinet = await startSim(COMPILED);
  template = tempDir('crash-template-');
  const c = await startController({ dataDir: template, bus: cabinet.bus, gateway: gateway.url, ...COMPILED });
  await new Api(c.url, c.kioskUrl).signIn('admin', c.adminPin ?? '48151623');
  expect(await c.proc.stop()).toBe(0);
  const db = new Database(path.join(template, DB_FILE));
  db.prepare(`UPDATE staff SET pin_hash = ? WHERE login = 'admin'`).run(await hashPin('48151623', FAST_SCRYPT));
  db.close();
});
afterAll(async () => {
  await cabinet?.proc.stop();
  await gateway?.close();
});

const procs: { stop(): Promise<unknown> }[] = [];
afterEach(async () => {
  while (procs.length) await procs.pop()!.stop();
  gateway.received.length = 0; // every scenario starts a new database: request numbers repeat
  if ((await cabinet.state()).compartments.some((c) => c.doorOpen || c.item)) {
    await cabinet.proc.stop();
    cabinet = await startSim(COMPILED);
  }
});

interface Compartments {
  compartments: { no: number; state: string; contents: { requestNumber: string } | null }[];
}

function world(): { sim: Sim; dataDir: string } {
  const dataDir = tempDir('crash-');
  fs.cpSync(template, dataDir, { recursive: true });
  return { sim: cabinet, dataDir };
}

async function controller(w: { sim: Sim; dataDir: string }, crashAt?: string): Promise<{ c: ControllerProc; api: Api }> {
  const c = await startController({ dataDir: w.dataDir, bus: w.sim.bus, gateway: gateway.url, ...COMPILED, ...(crashAt ? { crashAt } : {}) });
  procs.push(c.proc);
  const api = new Api(c.url, c.kioskUrl);
  await api.signIn('admin', c.adminPin ?? '48151623');
  return { c, api };
}

/** Submit and prepare a request up to "ready"; returns its id and number. */
async function readyRequest(api: Api): Promise<{ id: number; number: string }> {
  const sub = await api.call<{ requestId: number; number: string }>('POST', '/api/requests', RESIDENT);
  expect(sub.status).toBe(201);
  for (const step of ['accept', 'ready']) expect((await api.call('POST', `/api/staff/requests/${sub.body.requestId}/${step}`)).status).toBe(200);
  return { id: sub.body.requestId, number: sub.body.number };
}

/** What a person at the cabinet does with every open door: the document goes in (loading) or out (pickup), then the door is shut. */
async function handleOpenDoors(sim: Sim, action: 'put' | 'take'): Promise<void> {
  for (const c of (await sim.state()).compartments) {
    if (!c.doorOpen) continue;
    if (action === 'put' && !c.item) await sim.act(c.n, 'put');
    if (action === 'take' && c.item) await sim.act(c.n, 'take');
    await sim.act(c.n, 'close');
  }
}

async function killedBy(c: ControllerProc): Promise<void> {
  await c.proc.exited;
  expect(c.proc.proc.signalCode).toBe('SIGKILL');
  // A lock pulsed just before the kill lets its door spring open a moment later.
  await new Promise((r) => setTimeout(r, 300));
}

/**
 * After the restart: a door that is open is part of an operation the new process resumed.
 * The person at the cabinet finishes it (document in or out, door shut) and the records settle.
 */
async function settle(api: Api, sim: Sim, action: 'put' | 'take'): Promise<void> {
  await handleOpenDoors(sim, action);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const comps = (await api.call<Compartments>('GET', '/api/staff/compartments')).body.compartments;
    if (!comps.some((c) => c.state === 'open' || c.state === 'opening')) return;
    if (Date.now() > deadline) throw new Error('compartments did not settle after the restart');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The invariants after any restart. */
async function checkInvariants(api: Api, sim: Sim, requestNumber: string): Promise<{ state: string; compartment: number | null }> {
  const list = await api.call<{ requests: { id: number; number: string; state: string; compartmentNo: number | null }[] }>(
    'GET',
    '/api/staff/requests',
  );
  const req = list.body.requests.find((r) => r.number === requestNumber);
  expect(req, 'the request is not lost').toBeDefined();
  expect(['ready', 'loaded', 'collected']).toContain(req!.state);
  const comps = (await api.call<Compartments>('GET', '/api/staff/compartments')).body.compartments;
  // No compartment in a half-done state, and the request in at most one compartment.
  expect(comps.filter((c) => c.state === 'opening' || c.state === 'open' || c.state === 'reserved')).toEqual([]);
  const holding = comps.filter((c) => c.contents?.requestNumber === requestNumber);
  expect(holding.length).toBeLessThanOrEqual(1);
  // What the records say is inside matches what the cabinet senses.
  const physical = (await sim.state()).compartments;
  for (const c of comps) {
    if (c.state === 'occupied') expect(physical[c.no - 1]!.item, `compartment ${c.no} holds its document`).toBe(true);
  }
  if (req!.state === 'loaded') expect(holding.map((c) => c.state)).toEqual(['occupied']);
  else expect(holding).toEqual([]);
  return { state: req!.state, compartment: holding[0]?.no ?? null };
}

async function codeFor(requestNumber: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const n = [...gateway.received].reverse().find((x) => x.requestNo === requestNumber && x.kind === 'ready_with_code' && x.code);
    if (n?.code) return n.code;
    if (Date.now() > deadline) throw new Error(`no pickup code was sent for ${requestNumber}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function pickUp(api: Api, sim: Sim, code: string): Promise<number> {
  const r = await api.call<{ ok: boolean; compartments: number[] }>('POST', '/api/kiosk/pickup', { code, phoneLast4: '8000' });
  expect(r.body.ok).toBe(true);
  const no = r.body.compartments[0]!;
  await sim.act(no, 'take');
  await sim.act(no, 'close');
  return no;
}

async function untilState(api: Api, number: string, state: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const list = await api.call<{ requests: { number: string; state: string }[] }>('GET', '/api/staff/requests');
    if (list.body.requests.find((r) => r.number === number)?.state === state) return;
    if (Date.now() > deadline) throw new Error(`${number} never reached ${state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('SIGKILL during loading, then restart', () => {
  for (const step of LOAD_STEPS) {
    it(`at ${step}`, async () => {
      const w = world();
      const first = await controller(w, step);
      const req = await readyRequest(first.api);
      const load = await first.api.call('POST', `/api/staff/requests/${req.id}/load`).catch(() => null);
      if (load) await handleOpenDoors(w.sim, 'put'); // the door opened and the answer came: the document goes in
      await killedBy(first.c);
      await handleOpenDoors(w.sim, 'put'); // a door that opened as the controller died gets its document too

      const second = await controller(w);
      await settle(second.api, w.sim, 'put');
      const after = await checkInvariants(second.api, w.sim, req.number);
      if (after.state === 'ready') {
        // Nothing was lost: loading simply starts again.
        const again = await second.api.call<{ opened: boolean; compartment: number }>('POST', `/api/staff/requests/${req.id}/load`);
        expect(again.body.opened).toBe(true);
        await handleOpenDoors(w.sim, 'put');
        await untilState(second.api, req.number, 'loaded');
      }
      // The resident collects with the code sent to the phone; the code then never works again.
      const code = await codeFor(req.number);
      await pickUp(second.api, w.sim, code);
      await untilState(second.api, req.number, 'collected');
      const twice = await second.api.call<{ ok: boolean; code: string }>('POST', '/api/kiosk/pickup', { code, phoneLast4: '8000' });
      expect(twice.body).toMatchObject({ ok: false, code: 'INVALID' });
      await checkInvariants(second.api, w.sim, req.number);
    });
  }
});

describe('SIGKILL during pickup, then restart', () => {
  for (const step of PICKUP_STEPS) {
    it(`at ${step}`, async () => {
      const w = world();
      const loader = await controller(w);
      const req = await readyRequest(loader.api);
      const load = await loader.api.call<{ opened: boolean }>('POST', `/api/staff/requests/${req.id}/load`);
      expect(load.body.opened).toBe(true);
      await handleOpenDoors(w.sim, 'put');
      await untilState(loader.api, req.number, 'loaded');
      const code = await codeFor(req.number);
      await loader.c.proc.stop();
      procs.pop();

      const first = await controller(w, step);
      const pickup = await first.api.call('POST', '/api/kiosk/pickup', { code, phoneLast4: '8000' }).catch(() => null);
      if (pickup) await handleOpenDoors(w.sim, 'take');
      await killedBy(first.c);
      await handleOpenDoors(w.sim, 'take');

      const second = await controller(w);
      await settle(second.api, w.sim, 'take');
      const after = await checkInvariants(second.api, w.sim, req.number);
      if (after.state === 'loaded') {
        // The door never opened: the document is still there and the same code still works — once.
        await pickUp(second.api, w.sim, code);
        await untilState(second.api, req.number, 'collected');
      }
      expect(after.state === 'loaded' || after.state === 'collected').toBe(true);
      const twice = await second.api.call<{ ok: boolean; code: string }>('POST', '/api/kiosk/pickup', { code, phoneLast4: '8000' });
      expect(twice.body).toMatchObject({ ok: false, code: 'INVALID' });
      await checkInvariants(second.api, w.sim, req.number);
      const physical = (await w.sim.state()).compartments;
      expect(physical.filter((c) => c.item)).toEqual([]);
    });
  }
});
