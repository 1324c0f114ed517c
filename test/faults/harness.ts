/**
 * The fault harness: the whole product as separate processes (test/cabinet-processes.ts), a seeded workload of
 * residents and staff, and faults — SIGKILL of the controller at a random moment or at a named step of a door
 * flow, jammed locks, frame loss and corruption with board reboots mid-command. After every restart it checks,
 * from outside the controller (its HTTP answers, the simulated cabinet, and its database file opened read-only):
 *
 *   lost              an acknowledged request missing, or a document/materials request whose compartment forgot it
 *   stranded          after the doors are shut and the controller settled: a request in loading/depositing, or a
 *                     compartment left reserved/opening/open
 *   two things        a compartment holding two requests, or an item in a compartment recorded as free
 *   code twice        a code still active for a finished request, or two active pickup codes for one request
 *   double pulses     more lock pulses in the cabinet than unlocks recorded as sent
 *   unaudited         more door openings in the cabinet than openings recorded
 *   phantom openings  openings recorded as unexplained although nobody forced a door
 *
 * `npm run faults -- --cycles 200 --seed 7` runs it alone; test/faults.e2e.test.ts runs a bounded number of cycles.
 */
import Database from 'better-sqlite3';
import { idCheckDigit } from '../../controller/domain/validation.js';
import { Api, startController, startGateway, startSim, type ControllerProc, type Notification, type Sim } from '../cabinet-processes.js';
import { tempDir } from '../harness.js';

/** Every named step of the door flows where the controller may be killed (controller/flows/crash-points.ts). */
export const CRASH_POINTS = [
  'load.reserved',
  'load.started',
  'load.intent',
  'load.unlocked',
  'load.door_open',
  'load.done',
  'pickup.intent',
  'pickup.unlocked',
  'pickup.door_open',
  'pickup.collected',
  'retrieve.intent',
  'retrieve.unlocked',
  'retrieve.door_open',
  'staff_open.intent',
  'staff_open.unlocked',
  'staff_open.door_open',
  'door_closed',
] as const;

export interface Figures {
  cycles: number;
  operations: number;
  faultsInjected: { sigkillRandom: number; sigkillAtStep: number; jammedLocks: number; frameLossCycles: number; boardReboots: number };
  lost: number;
  stranded: number;
  twoThings: number;
  codeTwice: number;
  doublePulses: number;
  unaudited: number;
  phantomOpenings: number;
  pulses: number;
  recordedUnlocks: number;
  problems: string[];
}

export interface HarnessOptions {
  cycles: number;
  seed: number;
  /** Stop starting new cycles after this long (ms); the figures say how many ran. */
  budgetMs?: number;
  log?: (line: string) => void;
}

/** mulberry32: a small seeded generator, so a failing run can be replayed with its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Ack {
  id: number;
  number: string;
  mobile: string;
}

export async function runFaultHarness(opts: HarnessOptions): Promise<Figures> {
  const random = rng(opts.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const log = opts.log ?? (() => undefined);
  const started = Date.now();
  const f: Figures = {
    cycles: 0,
    operations: 0,
    faultsInjected: { sigkillRandom: 0, sigkillAtStep: 0, jammedLocks: 0, frameLossCycles: 0, boardReboots: 0 },
    lost: 0,
    stranded: 0,
    twoThings: 0,
    codeTwice: 0,
    doublePulses: 0,
    unaudited: 0,
    phantomOpenings: 0,
    pulses: 0,
    recordedUnlocks: 0,
    problems: [],
  };
  const problem = (
    kind: keyof Pick<Figures, 'lost' | 'stranded' | 'twoThings' | 'codeTwice' | 'doublePulses' | 'unaudited' | 'phantomOpenings'>,
    what: string,
  ) => {
    f[kind]++;
    f.problems.push(`cycle ${f.cycles}: ${kind}: ${what}`);
    log(`  !! ${kind}: ${what}`);
  };

  const gateway = await startGateway();
  const sim = await startSim();
  const dataDir = tempDir('faults-');
  const acked: Ack[] = [];
  let residents = 0;
  /** What the person at the cabinet does with each open door: put the document in, take it out, or just shut it. */
  const intent = new Map<number, 'put' | 'take' | 'none'>();
  let controller: ControllerProc | null = null;
  let personOn = true;
  const openings = new Map<number, number>(); // door openings the harness saw in the cabinet, per compartment
  let lastOpen = new Set<number>();
  const openSince = new Map<number, number>(); // when the person first saw each open door
  const seen = { phantom: 0, gaps: new Map<number, number>() };

  // The person: every 80 ms, each open door gets its item put in or taken out (as asked, mostly) and is shut.
  const person = (async () => {
    while (personOn) {
      try {
        const st = await sim.state();
        const open = new Set(st.compartments.filter((c) => c.doorOpen).map((c) => c.n));
        for (const n of open)
          if (!lastOpen.has(n)) {
            openings.set(n, (openings.get(n) ?? 0) + 1);
            openSince.set(n, Date.now());
          }
        lastOpen = open;
        for (const c of st.compartments) {
          // A person takes a moment at an open door (and nobody is there while the controller is down).
          if (!c.doorOpen || controller === null || Date.now() - (openSince.get(c.n) ?? 0) < 700) continue;
          const want = intent.get(c.n) ?? (c.item ? 'take' : 'none');
          const obey = random() < 0.9;
          if (want === 'put' && !c.item && obey) await sim.act(c.n, 'put');
          if (want === 'take' && c.item && obey) await sim.act(c.n, 'take');
          await sim.act(c.n, 'close');
          intent.delete(c.n);
        }
      } catch {
        // a door changed under us; the next round sees it
      }
      await sleep(80);
    }
  })();

  const codeFor = (number: string): Notification | undefined =>
    [...gateway.received].reverse().find((x) => x.requestNo === number && x.kind === 'ready_with_code' && x.code);

  try {
    for (let cycle = 1; cycle <= opts.cycles; cycle++) {
      if (opts.budgetMs !== undefined && Date.now() - started > opts.budgetMs) break;
      f.cycles = cycle;
      // ---- faults of this cycle
      const atStep = random() < 0.4 ? pick(CRASH_POINTS) : undefined;
      const frameLoss = random() < 0.2;
      await fetch(`${sim.panel}/api/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ clear: true }),
      });
      // ---- restart and check
      let c: ControllerProc;
      let api: Api;
      try {
        // The armed step may be reached by start-up reconciliation finishing an earlier flow: the process then
        // kills itself before it is up, and the next cycle checks.
        c = await startController({ dataDir, bus: sim.bus, gateway: gateway.url, ...(atStep ? { crashAt: atStep } : {}) });
        controller = c;
        api = new Api(c.url, c.kioskUrl);
        await api.signIn('admin', c.adminPin ?? '48151623');
        await settle(api);
        await check(dataDir, sim, acked, openings, problem, f, seen);
      } catch (e) {
        controller = null;
        f.faultsInjected.sigkillAtStep++;
        log(
          `cycle ${cycle}: the controller stopped while starting (${atStep ?? 'no step armed'}): ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`,
        );
        await sleep(300);
        continue;
      }
      log(
        `cycle ${cycle}: ${atStep ? `kill at ${atStep}` : 'kill at a random moment'}${frameLoss ? ', frame loss + corruption + reboot' : ''}; ${acked.length} requests so far`,
      );
      if (frameLoss) {
        f.faultsInjected.frameLossCycles++;
        await fetch(`${sim.panel}/api/faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ dropToBoard: 0.1, dropToController: 0.1, corruptToBoard: 0.01, corruptToController: 0.01 }),
        });
      }
      const jam = random() < 0.25 ? 1 + Math.floor(random() * 6) : 0;
      if (jam) {
        f.faultsInjected.jammedLocks++;
        await fetch(`${sim.panel}/api/faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ compartments: [{ compartment: jam, jammed: true }] }),
        });
      }
      // ---- the workload, until the controller is killed
      // Killed by its own step when it gets there; otherwise at a random moment (later when a step is armed).
      const killAfter = atStep ? 2500 + random() * 4000 : 300 + random() * 3000;
      const t0 = Date.now();
      let killedByStep = false;
      c.proc.exited.then(
        () => {
          killedByStep = true;
        },
        () => undefined,
      );
      while (Date.now() - t0 < killAfter && !killedByStep) {
        try {
          if (await operation(api, random, pick, acked, intent, codeFor, () => ++residents)) f.operations++;
          else await sleep(50);
        } catch {
          break; // the controller went away mid-call
        }
        if (frameLoss && random() < 0.15) {
          f.faultsInjected.boardReboots++;
          await fetch(`${sim.panel}/api/boards/1/reboot`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).catch(
            () => undefined,
          );
        }
      }
      if (c.proc.proc.exitCode === null && c.proc.proc.signalCode === null) {
        c.proc.proc.kill('SIGKILL');
        f.faultsInjected.sigkillRandom++;
      } else if (c.proc.proc.signalCode === 'SIGKILL') {
        f.faultsInjected.sigkillAtStep++;
      }
      await c.proc.exited;
      controller = null;
      if (jam)
        await fetch(`${sim.panel}/api/faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ compartments: [{ compartment: jam, jammed: false }] }),
        });
      await sleep(200);
    }
    // ---- the final restart and check
    await fetch(`${sim.panel}/api/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clear: true }),
    });
    const c = await startController({ dataDir, bus: sim.bus, gateway: gateway.url });
    controller = c;
    const api = new Api(c.url, c.kioskUrl);
    await api.signIn('admin', c.adminPin ?? '48151623');
    await settle(api);
    await check(dataDir, sim, acked, openings, problem, f, seen);
    await c.proc.stop();
    controller = null;
  } finally {
    personOn = false;
    await person;
    if (controller) await (controller as ControllerProc).proc.stop();
    await sim.proc.stop();
    await gateway.close();
  }
  return f;
}

/** One step of the workload: a new request, a load, a pickup by code, a retrieval or a force-open. */
async function operation(
  api: Api,
  random: () => number,
  pick: <T>(xs: readonly T[]) => T,
  acked: Ack[],
  intent: Map<number, 'put' | 'take' | 'none'>,
  codeFor: (n: string) => Notification | undefined,
  nextResident: () => number,
): Promise<boolean> {
  const list =
    (await api.call<{ requests: { id: number; number: string; state: string }[] }>('GET', '/api/staff/requests?limit=200')).body.requests ?? [];
  const by = (s: string) => list.filter((r) => r.state === s);
  const r = random();
  if (r < 0.25 || list.length === 0) {
    const n = nextResident();
    const mobile = `139${String(10_000_000 + n).slice(-8)}`;
    const body = `31011519870214${String(n % 1000).padStart(3, '0')}`;
    const sub = await api.call<{ requestId: number; number: string }>('POST', '/api/requests', {
      name: '王小明',
      mobile,
      idNumber: body + idCheckDigit(body),
      address: { building: '3号楼', unit: '1', room: '502' },
      serviceCode: 'residence_certificate',
    });
    if (sub.status !== 201) return false;
    acked.push({ id: sub.body.requestId, number: sub.body.number, mobile });
    for (const step of ['accept', 'ready']) await api.call('POST', `/api/staff/requests/${sub.body.requestId}/${step}`);
    return true;
  }
  if (r < 0.5 && by('ready').length > 0) {
    const req = pick(by('ready'));
    const a = await api.call<{ opened: boolean; compartment: number | null }>('POST', `/api/staff/requests/${req.id}/load`);
    if (a.body.opened && a.body.compartment) intent.set(a.body.compartment, 'put');
    return a.status === 200;
  }
  if (r < 0.8 && by('loaded').length > 0) {
    const req = pick(by('loaded'));
    const n = codeFor(req.number);
    const ack = acked.find((x) => x.number === req.number);
    if (!n?.code || !ack) return false;
    const a = await api.call<{ ok: boolean; compartments: number[] }>('POST', '/api/kiosk/pickup', {
      code: n.code,
      phoneLast4: ack.mobile.slice(-4),
    });
    for (const no of a.body.compartments ?? []) intent.set(no, 'take');
    return a.status === 200;
  }
  if (r < 0.9 && by('loaded').length > 0) {
    const req = pick(by('loaded'));
    const a = await api.call<{ opened: boolean; compartment: number | null }>('POST', `/api/staff/requests/${req.id}/retrieve`);
    if (a.body.opened && a.body.compartment) intent.set(a.body.compartment, 'take');
    return a.status === 200;
  }
  const no = 1 + Math.floor(random() * 24);
  const a = await api.call<{ opened: boolean }>('POST', `/api/staff/compartments/${no}/force-open`, { reason: 'fault harness check' });
  if (a.body.opened) intent.set(no, 'none');
  return a.status === 200;
}

/** Doors shut and no flow under way: what a restart must come back to once the person has closed every door. */
async function settle(api: Api): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const comps = (await api.call<{ compartments: { state: string }[] }>('GET', '/api/staff/compartments')).body.compartments ?? [];
    if (!comps.some((c) => c.state === 'open' || c.state === 'opening' || c.state === 'reserved')) return;
    if (Date.now() > deadline) return; // check() reports what is left
    await sleep(100);
  }
}

async function check(
  dataDir: string,
  sim: Sim,
  acked: Ack[],
  openings: Map<number, number>,
  problem: (kind: 'lost' | 'stranded' | 'twoThings' | 'codeTwice' | 'doublePulses' | 'unaudited' | 'phantomOpenings', what: string) => void,
  f: Figures,
  seen: { phantom: number; gaps: Map<number, number> },
): Promise<void> {
  const db = new Database(`${dataDir}/cabinet.sqlite3`, { readonly: true, fileMustExist: true });
  try {
    const reqs = new Map(
      db
        .prepare<[], { id: number; number: string; state: string }>('SELECT id, number, state FROM requests')
        .all()
        .map((r) => [r.number, r]),
    );
    const comps = db.prepare<[], { no: number; state: string; request_id: number | null }>('SELECT no, state, request_id FROM compartments').all();
    const holder = new Map(comps.filter((c) => c.request_id !== null).map((c) => [c.request_id!, c]));
    for (const a of acked) {
      const r = reqs.get(a.number);
      if (!r) {
        problem('lost', `request ${a.number} is gone`);
        continue;
      }
      if (['loaded', 'overdue', 'materials_deposited'].includes(r.state) && !holder.has(r.id))
        problem('lost', `${a.number} is ${r.state} but no compartment holds it`);
      if (['loading', 'depositing'].includes(r.state)) problem('stranded', `${a.number} left ${r.state}`);
    }
    for (const c of comps) if (['reserved', 'opening', 'open'].includes(c.state)) problem('stranded', `compartment ${c.no} left ${c.state}`);
    for (const d of db
      .prepare<[], { request_id: number; n: number }>(
        'SELECT request_id, count(*) AS n FROM compartments WHERE request_id IS NOT NULL GROUP BY request_id HAVING n > 1',
      )
      .all()) {
      problem('twoThings', `request #${d.request_id} recorded in ${d.n} compartments`);
    }
    const physical = (await sim.state()).compartments;
    for (const p of physical) {
      const c = comps.find((x) => x.no === p.n);
      if (p.item && c && c.state === 'free')
        problem('twoThings', `an item lies in compartment ${p.n}, recorded as free (the next load would put a second thing in)`);
    }
    for (const x of db
      .prepare<[], { id: number }>(
        `SELECT c.id FROM credentials c JOIN requests r ON r.id = c.request_id WHERE c.status = 'active' AND r.state IN ('collected', 'retrieved', 'cancelled', 'rejected')`,
      )
      .all()) {
      problem('codeTwice', `credential #${x.id} still active for a finished request`);
    }
    for (const x of db
      .prepare<[], { request_id: number }>(
        `SELECT request_id FROM credentials WHERE status = 'active' AND purpose = 'pickup' GROUP BY request_id HAVING count(*) > 1`,
      )
      .all()) {
      problem('codeTwice', `request #${x.request_id} has two active pickup codes`);
    }
    f.pulses = 0;
    f.recordedUnlocks = 0;
    const sent = new Map(
      db
        .prepare<[], { no: number; n: number }>(
          'SELECT compartment_no AS no, count(*) AS n FROM unlock_intents WHERE seq IS NOT NULL GROUP BY compartment_no',
        )
        .all()
        .map((r) => [r.no, r.n]),
    );
    const opened = new Map(
      db
        .prepare<[], { no: number; n: number }>(
          `SELECT compartment_no AS no, count(*) AS n FROM door_events WHERE door = 'open' GROUP BY compartment_no`,
        )
        .all()
        .map((r) => [r.no, r.n]),
    );
    for (const p of physical) {
      f.pulses += p.unlocks;
      f.recordedUnlocks += sent.get(p.n) ?? 0;
      if (p.unlocks > (sent.get(p.n) ?? 0))
        problem('doublePulses', `compartment ${p.n}: ${p.unlocks} pulses, ${sent.get(p.n) ?? 0} unlocks recorded as sent`);
      // counted once: a gap found at an earlier check is not reported again
      const gap = (openings.get(p.n) ?? 0) - (opened.get(p.n) ?? 0);
      if (gap > (seen.gaps.get(p.n) ?? 0))
        problem('unaudited', `compartment ${p.n}: ${openings.get(p.n)} openings seen, ${opened.get(p.n) ?? 0} recorded`);
      seen.gaps.set(p.n, Math.max(gap, seen.gaps.get(p.n) ?? 0));
    }
    const phantom = db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM audit_log WHERE action = 'door.opened_unexplained'`).get()!.n;
    if (phantom > seen.phantom) problem('phantomOpenings', `${phantom - seen.phantom} door openings recorded as unexplained`);
    seen.phantom = phantom;
  } finally {
    db.close();
  }
}

export function formatFigures(f: Figures): string {
  const inj = f.faultsInjected;
  return [
    `cycles: ${f.cycles}`,
    `operations (answered 2xx: submissions, loads, pickups, retrievals, force-opens): ${f.operations}`,
    `faults injected: ${inj.sigkillRandom + inj.sigkillAtStep + inj.jammedLocks + inj.frameLossCycles + inj.boardReboots} (SIGKILL at a random moment ${inj.sigkillRandom}, at a named step ${inj.sigkillAtStep}; jammed locks ${inj.jammedLocks}; frame loss + corruption cycles ${inj.frameLossCycles}; board reboots ${inj.boardReboots})`,
    `lock pulses: ${f.pulses}, unlocks recorded as sent: ${f.recordedUnlocks}`,
    `lost: ${f.lost}`,
    `stranded: ${f.stranded}`,
    `two things in one compartment: ${f.twoThings}`,
    `code usable twice: ${f.codeTwice}`,
    `double pulses: ${f.doublePulses}`,
    `unaudited openings: ${f.unaudited}`,
    `phantom openings: ${f.phantomOpenings}`,
  ].join('\n');
}
