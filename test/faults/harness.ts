/**
 * The fault harness: the whole product as separate processes (test/cabinet-processes.ts), a seeded workload of
 * residents and staff — submissions, loads, pickups by code, drop-offs of materials, retrievals of documents and of
 * materials, force-opens — and faults: SIGKILL of the controller at every named step of every door flow in turn
 * (controller/flows/crash-points.ts, armed by CABINET_CRASH_AT: the process kills itself there, and the workload of
 * that cycle drives the flow that reaches it) and at random moments, jammed locks, frame loss and corruption with
 * board reboots mid-command, a full disk (the database may not grow: PRAGMA max_page_count) and a wall clock set
 * forward or back at start and while running. A person at the cabinet deals with each door that opens (puts the
 * thing in or takes it out, mostly as asked) and shuts it — as a rule while a controller is up, and for about two
 * openings in five also while none is (killed, restarting): an opening nobody could see, which the record must still
 * tell of. Controllers are started ahead of time (test/faults/standby.ts) so a
 * restart costs the start proper, not the loading of the modules. After every restart it checks, from outside the
 * controller (its HTTP answers, the simulated cabinet, and its database file opened read-only):
 *
 *   lost              an acknowledged request missing, a document/materials request whose compartment forgot it,
                     or a loaded document with no pickup code left to collect it by (not finishable)
 *   stranded          after the doors are shut and the controller settled: a request in loading/depositing, or a
 *                     compartment left reserved/opening/open
 *   two things        a compartment holding two requests, or an item in a compartment recorded as free
 *   code twice        a code still active for a finished request, or two active pickup codes for one request
 *   double pulses     more lock pulses in the cabinet than unlocks recorded as sent
 *   unaudited         more door openings in the cabinet than openings recorded: door facts (door_events), openings
 *                     recorded at start-up as unseen (door.opened_unseen), and — only for an opening since the last
 *                     check — one recorded as possible (door.may_have_opened: its unlock went out while the controller
 *                     was stopped, and nothing shows whether the door opened; counted apart in the figures). With
 *                     --protocol 2 a possible opening covers nothing, as the board's count must find an opening made
 *                     while the controller was stopped — unless a board restarted since the last check
 *   phantom openings  openings recorded as unexplained although nobody forced a door
 *
 * `npm run faults -- --cycles 200 --seed 7` runs it alone; test/faults.e2e.test.ts runs a bounded number of cycles.
 */
import Database from 'better-sqlite3';
import { idCheckDigit } from '../../controller/domain/validation.js';
import { CRASH_POINTS } from '../../controller/flows/crash-points.js';
import { Api, startGateway, startSim, untilReady, type Notification, type Sim } from '../cabinet-processes.js';
import { tempDir } from '../harness.js';
import { runCompiled } from '../compiled.js';
import type { Running } from '../processes.js';

export { CRASH_POINTS };

export interface Figures {
  cycles: number;
  operations: number;
  faultsInjected: {
    sigkillRandom: number;
    sigkillAtStep: number;
    jammedLocks: number;
    frameLossCycles: number;
    boardReboots: number;
    clockJumps: number;
    diskFullEpisodes: number;
  };
  /** Named crash points where a controller did kill itself, and how often. */
  killPointsReached: Map<string, number>;
  lost: number;
  stranded: number;
  twoThings: number;
  codeTwice: number;
  doublePulses: number;
  unaudited: number;
  phantomOpenings: number;
  pulses: number;
  recordedUnlocks: number;
  /** Openings recorded only at start-up: proven unseen (door.opened_unseen), and possible (door.may_have_opened). */
  recordedAtStartup: { unseen: number; possible: number; possibleThatOpened: number };
  /** Protocol version 2: openings recorded from a board's count, their two DOOR events lost (door.opened_by_count*). */
  foundByCount: number;
  problems: string[];
  /**
   * What the harness found that the product does not promise yet, counted apart from the problems:
   *   unrecordedWhileDiskFull  a door opened while the database could not grow (that door, in that window): no row could
   *                             record it
   *   unexplainedAfterClockJump an opening recorded as unexplained after the wall clock jumped: attribution of an
   *                             opening to its unlock compares wall-clock times (README, "Time")
   *   unseenWhileFramesLost     an opening not recorded of a door that opened while frames were dropped: both of its
   *                             DOOR events may have been lost, which version 1 of the protocol cannot see (PROTOCOL.md §11.2)
   */
  limits: { unrecordedWhileDiskFull: number; unexplainedAfterClockJump: number; unseenWhileFramesLost: number; notes: string[] };
}

export interface HarnessOptions {
  cycles: number;
  seed: number;
  /** Stop starting new cycles this long (ms) after the first controller was up; the figures say how many ran. */
  budgetMs?: number;
  /** The crash point (index in CRASH_POINTS) the schedule starts from (default 0). */
  firstPoint?: number;
  /** Controllers kept loaded ahead of time (default 2): a restart never waits for the modules to load. */
  warm?: number;
  /**
   * The lock-board protocol version the simulated boards speak (default 1). With 2 their STATUS carries per-door
   * opening counts (PROTOCOL.md §21): an opening whose two DOOR events were both lost is recorded once two polls of one
   * running controller confirm it; one before a kill is not (a restart takes the counts as a new baseline).
   */
  protocol?: 1 | 2;
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

/** A yield to the event loop between polls (a few ms: the processes under test need the CPU more than we do). */
const tick = (ms = 15) => new Promise((r) => setTimeout(r, ms));

interface Ack {
  id: number;
  number: string;
  mobile: string;
  residentToken: string;
}

type Kind = 'submit' | 'load' | 'pickup' | 'deposit' | 'retrieve' | 'retrieve_materials' | 'staff_open';
const FLOW_KINDS: readonly Kind[] = ['load', 'pickup', 'deposit', 'retrieve', 'retrieve_materials', 'staff_open'];

/** The flow whose run reaches a crash point ('door_closed' is reached by every flow that shuts a door). */
function kindOf(point: string, random: () => number): Kind {
  const flow = point.split('.')[0]!;
  if ((FLOW_KINDS as readonly string[]).includes(flow)) return flow as Kind;
  return FLOW_KINDS[Math.floor(random() * 4)]!;
}

/**
 * What each cycle kills at: first every crash point once, in order from `first`; then two named points for each
 * random moment.
 */
function armedAt(cycle: number, first: number): string | undefined {
  const n = CRASH_POINTS.length;
  if (cycle <= n) return CRASH_POINTS[(first + cycle - 1) % n];
  const k = cycle - n;
  if (k % 3 === 0) return undefined;
  return CRASH_POINTS[(first + k - 1 - Math.floor(k / 3)) % n];
}

/** A controller loaded ahead of time (test/faults/standby.ts), told to start by one line on its stdin. */
interface Live {
  proc: Running;
  url: string;
  kioskUrl: string;
  adminPin: string | null;
  send(msg: object): void;
}

/** The standby on the compiled JavaScript (test/compiled.ts): no TypeScript compiled in each of the many starts. */
async function spawnStandby(): Promise<Running> {
  const r = await runCompiled('test/faults/standby.ts', [], {}, { stdin: true });
  r.proc.stdin?.on('error', () => undefined); // a line to a controller that just killed itself goes nowhere
  return r;
}

async function startLive(
  standby: Running,
  opts: { dataDir: string; bus: string; gateway: string; crashAt?: string; clockOffsetMs: number },
): Promise<Live> {
  const env: Record<string, string> = {
    PORT: '0',
    KIOSK_PORT: '0',
    LOCK_PORT: opts.bus,
    DATA_DIR: opts.dataDir,
    NOTIFY_WEBHOOK_URL: opts.gateway,
    LOCK_POLL_MS: '500',
    DOOR_OPEN_TIMEOUT_MS: '2000',
    LOG_LEVEL: 'warn',
    CABINET_CRASH_AT: opts.crashAt ?? '',
  };
  const send = (msg: object) => {
    if (standby.proc.stdin?.writable) standby.proc.stdin.write(`${JSON.stringify(msg)}\n`);
  };
  send({ env, clockOffsetMs: opts.clockOffsetMs });
  const [, url] = await standby.waitForOutput(/Health:\s+(http:\/\/\S+)\/api\/health/, 30_000);
  const kioskUrl = /Touchscreen:\s+(http:\/\/\S+)\/kiosk/.exec(standby.output());
  const pin = /PIN: (\d{8})/.exec(standby.output());
  await untilReady(url!);
  return { proc: standby, url: url!, kioskUrl: kioskUrl![1]!, adminPin: pin ? pin[1]! : null, send };
}

const alive = (p: Running) => p.proc.exitCode === null && p.proc.signalCode === null;

export async function runFaultHarness(opts: HarnessOptions): Promise<Figures> {
  const random = rng(opts.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const log = opts.log ?? (() => undefined);
  const f: Figures = {
    cycles: 0,
    operations: 0,
    faultsInjected: { sigkillRandom: 0, sigkillAtStep: 0, jammedLocks: 0, frameLossCycles: 0, boardReboots: 0, clockJumps: 0, diskFullEpisodes: 0 },
    killPointsReached: new Map(),
    lost: 0,
    stranded: 0,
    twoThings: 0,
    codeTwice: 0,
    doublePulses: 0,
    unaudited: 0,
    phantomOpenings: 0,
    pulses: 0,
    recordedUnlocks: 0,
    recordedAtStartup: { unseen: 0, possible: 0, possibleThatOpened: 0 },
    foundByCount: 0,
    problems: [],
    limits: { unrecordedWhileDiskFull: 0, unexplainedAfterClockJump: 0, unseenWhileFramesLost: 0, notes: [] },
  };
  /**
   * Since the last check: a clock that moved; the doors that opened while the disk was full, or while frames were
   * being dropped (only an opening of such a door, not any opening of the cycle, is counted apart).
   */
  const since = { clock: false, openedWhileFull: new Set<number>(), openedWhileFramesLost: new Set<number>(), boardRebooted: false };
  /** Now: the disk full (from the line that fills it until a moment after the one that makes room), frames dropped. */
  const now = { diskFull: false, framesLost: false };
  const problem = (
    kind: keyof Pick<Figures, 'lost' | 'stranded' | 'twoThings' | 'codeTwice' | 'doublePulses' | 'unaudited' | 'phantomOpenings'>,
    what: string,
    compartment?: number,
  ) => {
    const limit =
      kind === 'unaudited' && compartment !== undefined && since.openedWhileFull.has(compartment)
        ? 'unrecordedWhileDiskFull'
        : kind === 'unaudited' && compartment !== undefined && since.openedWhileFramesLost.has(compartment)
          ? 'unseenWhileFramesLost'
          : kind === 'phantomOpenings' && since.clock
            ? 'unexplainedAfterClockJump'
            : null;
    if (limit) {
      f.limits[limit]++;
      f.limits.notes.push(`cycle ${f.cycles}: ${limit}: ${what}`);
      log(`  (limit) ${limit}: ${what}`);
      return;
    }
    f[kind]++;
    f.problems.push(`cycle ${f.cycles}: ${kind}: ${what}`);
    log(`  !! ${kind}: ${what}`);
  };
  const reached = (p: Running) => {
    const m = /crash point (\S+): killing the process/.exec(p.output());
    if (m) f.killPointsReached.set(m[1]!, (f.killPointsReached.get(m[1]!) ?? 0) + 1);
    return m?.[1];
  };

  const gateway = await startGateway();
  const sim = await startSim({ compiled: true }, { protocol: opts.protocol ?? 1 });
  const dataDir = tempDir('faults-');
  const acked: Ack[] = [];
  let residents = 0;
  /** What the person at the cabinet does with each open door: put the thing in, take it out, or just shut it. */
  const intent = new Map<number, 'put' | 'take' | 'none'>();
  let controller: Live | null = null;
  const pool: Running[] = [];
  for (let i = 0; i < Math.max(1, opts.warm ?? 2); i++) pool.push(await spawnStandby());
  let personOn = true;
  const openings = new Map<number, number>(); // door openings the harness saw in the cabinet, per compartment
  let lastOpen = new Set<number>();
  const openSince = new Map<number, number>(); // when the person first saw each open door
  const actsWhileDown = new Map<number, boolean>(); // whether the person deals with this opening even with no controller up
  // With protocol version 2 an opening made while the controller was stopped is found by the board's count against
  // the kept baseline: a record of a possible opening no longer covers a gap, unless a board restarted since the last
  // check (after a board restart nothing is inferred, PROTOCOL.md §21.3).
  const seen = { phantom: 0, gaps: new Map<number, number>(), possible: new Map<number, number>(), stoppedPromised: opts.protocol === 2 };
  /** What the harness did and saw, with times, so that a broken promise can be told with its story. */
  const trace: { at: number; no: number | null; what: string }[] = [];
  const mark = (no: number | null, what: string) => {
    trace.push({ at: Date.now(), no, what });
    if (trace.length > 400) trace.splice(0, trace.length - 400);
  };
  const story = (no: number): string[] => {
    return trace
      .filter((e) => e.no === null || e.no === no)
      .slice(-25)
      .map((e) => `    harness ${new Date(e.at).toISOString().slice(11, 23)} ${e.no === null ? '' : `door ${e.no} `}${e.what}`);
  };
  const faults = (body: object) =>
    fetch(`${sim.panel}/api/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  // The person: each open door gets its thing put in or taken out (as asked, mostly) and is shut, a moment later.
  const person = (async () => {
    while (personOn) {
      try {
        const st = await sim.state();
        const open = new Set(st.compartments.filter((c) => c.doorOpen).map((c) => c.n));
        for (const n of open)
          if (!lastOpen.has(n)) {
            openings.set(n, (openings.get(n) ?? 0) + 1);
            openSince.set(n, Date.now());
            // Now and then the person does not wait for the controller: the door is dealt with and shut while it is
            // down (killed, restarting). Nothing can see that opening happen; the record must still tell of it.
            actsWhileDown.set(n, random() < 0.4);
            if (now.diskFull) since.openedWhileFull.add(n);
            if (now.framesLost) since.openedWhileFramesLost.add(n);
            mark(n, `seen open${now.diskFull ? ' (disk full)' : ''}${now.framesLost ? ' (frames dropped)' : ''}`);
          }
        lastOpen = open;
        for (const c of st.compartments) {
          // A person takes a moment at an open door (and mostly leaves it be while the controller is down).
          const live = controller as Live | null;
          const up = live !== null && alive(live.proc);
          if (!c.doorOpen || (!up && !actsWhileDown.get(c.n)) || Date.now() - (openSince.get(c.n) ?? 0) < 300) continue;
          const want = intent.get(c.n) ?? (c.item ? 'take' : 'none');
          const obey = random() < 0.9;
          if (want === 'put' && !c.item && obey) await sim.act(c.n, 'put');
          if (want === 'take' && c.item && obey) await sim.act(c.n, 'take');
          mark(c.n, up ? `closing (controller pid ${live?.proc.proc.pid})` : 'closing while the controller is down');
          await sim.act(c.n, 'close');
          intent.delete(c.n);
        }
      } catch {
        // a door changed under us; the next round sees it
      }
      await tick(30);
    }
  })();

  const codeFor = (number: string): Notification | undefined =>
    [...gateway.received].reverse().find((x) => x.requestNo === number && x.kind === 'ready_with_code' && x.code);
  const api = new Api('http://127.0.0.1:1');
  let adminPin = '48151623';
  /** Start the standby controller (and load the next one meanwhile); sign in unless the session survived. */
  const restart = async (crashAt: string | undefined, clockOffsetMs: number): Promise<Live> => {
    const s = pool.shift()!;
    pool.push(await spawnStandby());
    mark(null, `starting controller pid ${s.proc.pid}${crashAt ? ` armed at ${crashAt}` : ''}`);
    const c = await startLive(s, { dataDir, bus: sim.bus, gateway: gateway.url, ...(crashAt ? { crashAt } : {}), clockOffsetMs });
    controller = c;
    mark(null, `controller pid ${s.proc.pid} ready`);
    firstUp ??= Date.now();
    if (c.adminPin) adminPin = c.adminPin;
    api.url = c.url;
    api.kioskUrl = c.kioskUrl;
    if (api.token === null || (await api.call('GET', '/api/staff/me')).status === 401) {
      api.token = null;
      // the PIN in effect from now on: a sign-in with the first one printed would fail every time after the change,
      // and enough failures lock the account (sessions expire when the clock jumps ahead, so sign-ins are frequent)
      adminPin = await api.signIn('admin', adminPin);
    }
    return c;
  };
  let lastOffset = 0;
  let firstUp: number | null = null;
  const world: World = { api, random, pick, acked, intent, codeFor, nextResident: () => ++residents };

  try {
    for (let cycle = 1; cycle <= opts.cycles; cycle++) {
      if (opts.budgetMs !== undefined && firstUp !== null && Date.now() - firstUp > opts.budgetMs) break;
      f.cycles = cycle;
      // ---- faults of this cycle
      const atStep = armedAt(cycle, opts.firstPoint ?? 0);
      const targeted = atStep !== undefined;
      const frameLoss = random() < (targeted ? 0.1 : 0.3);
      const jam = random() < (targeted ? 0.1 : 0.3) ? 1 + Math.floor(random() * 6) : 0;
      const clockOffsetMs = random() < 0.3 ? pick([3_600_000, -3_600_000, 600_000, -600_000]) : 0;
      const jumpMidway = random() < 0.2 ? pick([3_600_000, -3_600_000, 120_000, -120_000]) : 0;
      const diskFull = cycle % 12 === 3;
      if (clockOffsetMs !== lastOffset) since.clock = true;
      lastOffset = clockOffsetMs;
      await faults({ clear: true });
      now.framesLost = false;
      // ---- restart and check
      let c: Live;
      const tStart = Date.now();
      try {
        // The armed step may be reached by start-up reconciliation finishing an earlier flow: the process then
        // kills itself before it is up, and the next cycle checks.
        c = await restart(atStep, clockOffsetMs);
        const tUp = Date.now();
        if (clockOffsetMs !== 0) f.faultsInjected.clockJumps++;
        await settle(api);
        const tSettled = Date.now();
        seen.stoppedPromised = opts.protocol === 2 && !since.boardRebooted;
        await check(dataDir, sim, acked, openings, problem, f, seen, (no, rows) => log([...rows, ...story(no)].join('\n')));
        since.clock = false;
        since.boardRebooted = false;
        since.openedWhileFull.clear();
        since.openedWhileFramesLost.clear();
        log(`  timing: start ${tUp - tStart} ms, settle ${tSettled - tUp} ms, check ${Date.now() - tSettled} ms`);
      } catch (e) {
        const dead = controller as Live | null;
        controller = null;
        if (dead && alive(dead.proc)) dead.proc.proc.kill('SIGKILL');
        if (dead) await dead.proc.exited;
        const point = dead ? reached(dead.proc) : undefined;
        if (point) f.faultsInjected.sigkillAtStep++;
        log(
          `cycle ${cycle}: the controller stopped while starting (${point ?? atStep ?? 'no step armed'}): ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`,
        );
        continue;
      }
      log(
        `cycle ${cycle}: ${atStep ? `kill at ${atStep}` : 'kill at a random moment'}${frameLoss ? ', frame loss + corruption + reboots' : ''}${jam ? `, lock ${jam} jammed` : ''}${clockOffsetMs ? `, clock ${clockOffsetMs / 60_000} min off` : ''}${jumpMidway ? `, clock jumps ${jumpMidway / 60_000} min` : ''}${diskFull ? ', disk full' : ''}; ${acked.length} requests so far`,
      );
      if (frameLoss) {
        f.faultsInjected.frameLossCycles++;
        now.framesLost = true;
        await faults({ dropToBoard: 0.1, dropToController: 0.1, corruptToBoard: 0.01, corruptToController: 0.01 });
      }
      if (jam) {
        f.faultsInjected.jammedLocks++;
        await faults({ compartments: [{ compartment: jam, jammed: true }] });
      }
      if (diskFull) {
        // The database may not grow: whatever needs a new page fails (SQLITE_FULL). Requests answered 2xx meanwhile
        // are acknowledged like any other and must survive; then the room comes back.
        f.faultsInjected.diskFullEpisodes++;
        now.diskFull = true;
        c.send({ diskFull: true });
        mark(null, 'disk full');
        for (let i = 0; i < 6 && alive(c.proc); i++) {
          try {
            if (await operation(world, pick(['submit', ...FLOW_KINDS]))) f.operations++;
          } catch {
            break;
          }
        }
        c.send({ diskFull: false });
        mark(null, 'room on the disk again');
        // the controller reads the line a moment later
        setTimeout(() => {
          now.diskFull = false;
        }, 200);
      }
      // ---- the workload, until the controller is killed
      // Killed by its own step when it gets there (the workload drives that step's flow); otherwise at a random moment.
      const killAfter = targeted ? 8000 : 300 + random() * 2000;
      const t0 = Date.now();
      let ops = 0;
      while (Date.now() - t0 < killAfter && alive(c.proc)) {
        try {
          const kind: Kind = targeted && random() < 0.85 ? kindOf(atStep, random) : pick(['submit', ...FLOW_KINDS]);
          if (await operation(world, kind)) f.operations++;
          else await tick();
        } catch {
          if (!alive(c.proc)) break; // the controller went away mid-call
          await tick();
        }
        ops++;
        if (jumpMidway && ops === 2) {
          f.faultsInjected.clockJumps++;
          since.clock = true;
          c.send({ jump: jumpMidway });
        }
        if (frameLoss && random() < 0.15) {
          f.faultsInjected.boardReboots++;
          since.boardRebooted = true;
          await fetch(`${sim.panel}/api/boards/1/reboot`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).catch(
            () => undefined,
          );
        }
      }
      log(`  timing: workload ${Date.now() - t0} ms, ${ops} operations`);
      if (alive(c.proc)) {
        mark(null, `SIGKILL to controller pid ${c.proc.proc.pid}`);
        c.proc.proc.kill('SIGKILL');
        f.faultsInjected.sigkillRandom++;
        if (targeted) log(`  (${atStep} not reached in ${killAfter} ms: killed at a random moment)`);
      }
      await c.proc.exited;
      mark(null, `controller pid ${c.proc.proc.pid} gone (${reached(c.proc) ?? 'killed by the harness'})`);
      if (reached(c.proc)) f.faultsInjected.sigkillAtStep++;
      controller = null;
      if (jam) await faults({ compartments: [{ compartment: jam, jammed: false }] });
    }
    // ---- the final restart and check
    await faults({ clear: true });
    now.framesLost = false;
    const c = await restart(undefined, 0);
    seen.stoppedPromised = opts.protocol === 2 && !since.boardRebooted;
    await settle(api);
    await check(dataDir, sim, acked, openings, problem, f, seen, (no, rows) => log([...rows, ...story(no)].join('\n')));
    await c.proc.stop();
    controller = null;
  } finally {
    personOn = false;
    await person;
    if (controller) await (controller as Live).proc.stop();
    for (const s of pool) {
      s.proc.stdin?.end();
      await s.stop();
    }
    await sim.proc.stop();
    await gateway.close();
  }
  return f;
}

interface World {
  api: Api;
  random: () => number;
  pick: <T>(xs: readonly T[]) => T;
  acked: Ack[];
  intent: Map<number, 'put' | 'take' | 'none'>;
  codeFor: (n: string) => Notification | undefined;
  nextResident: () => number;
}

/**
 * One step of the workload towards a flow of this kind: the flow itself when something is waiting for it, otherwise
 * the step that makes something wait for it (a new request, accepted and ready; a load; a request for materials).
 * True when the controller answered 2xx.
 */
async function operation(w: World, kind: Kind): Promise<boolean> {
  const { api, pick, acked, intent } = w;
  const list =
    (await api.call<{ requests: { id: number; number: string; state: string }[] }>('GET', '/api/staff/requests?limit=200')).body.requests ?? [];
  const by = (s: string) => list.filter((r) => r.state === s);
  const submit = async (materials: boolean): Promise<boolean> => {
    const n = w.nextResident();
    const mobile = `139${String(10_000_000 + n).slice(-8)}`;
    const body = `31011519870214${String(n % 1000).padStart(3, '0')}`;
    const sub = await api.call<{ requestId: number; number: string; residentToken: string }>('POST', '/api/requests', {
      name: '王小明',
      mobile,
      idNumber: body + idCheckDigit(body),
      address: { building: '3号楼', unit: '1', room: '502' },
      serviceCode: 'residence_certificate',
    });
    if (sub.status !== 201) return false;
    acked.push({ id: sub.body.requestId, number: sub.body.number, mobile, residentToken: sub.body.residentToken });
    for (const step of materials ? ['request-materials'] : ['accept', 'ready'])
      await api.call('POST', `/api/staff/requests/${sub.body.requestId}/${step}`);
    return true;
  };
  const load = async (): Promise<boolean> => {
    if (by('ready').length === 0) return submit(false);
    const a = await api.call<{ opened: boolean; compartment: number | null }>('POST', `/api/staff/requests/${pick(by('ready')).id}/load`);
    if (a.body.opened && a.body.compartment) intent.set(a.body.compartment, 'put');
    return a.status === 200;
  };
  const deposit = async (): Promise<boolean> => {
    const waiting = by('awaiting_materials')
      .map((r) => acked.find((x) => x.id === r.id))
      .filter((x) => x !== undefined);
    if (waiting.length === 0) return submit(true);
    const a = await api.call<{ ok: boolean; compartments: number[] }>('POST', '/api/kiosk/scan', { text: pick(waiting).residentToken });
    for (const no of a.body.compartments ?? []) intent.set(no, 'put');
    return a.status === 200;
  };
  switch (kind) {
    case 'submit':
      return submit(w.random() < 0.2);
    case 'load':
      return load();
    case 'pickup': {
      const ready = by('loaded')
        .map((r) => ({ r, n: w.codeFor(r.number), ack: acked.find((x) => x.number === r.number) }))
        .filter((x) => x.n?.code && x.ack);
      if (ready.length === 0) return load();
      const { n, ack } = pick(ready);
      const a = await api.call<{ ok: boolean; compartments: number[] }>('POST', '/api/kiosk/pickup', {
        code: n!.code,
        phoneLast4: ack!.mobile.slice(-4),
      });
      for (const no of a.body.compartments ?? []) intent.set(no, 'take');
      return a.status === 200;
    }
    case 'deposit':
      return deposit();
    case 'retrieve':
    case 'retrieve_materials': {
      const state = kind === 'retrieve' ? 'loaded' : 'materials_deposited';
      if (by(state).length === 0) return kind === 'retrieve' ? load() : deposit();
      const a = await api.call<{ opened: boolean; compartment: number | null }>('POST', `/api/staff/requests/${pick(by(state)).id}/retrieve`);
      if (a.body.opened && a.body.compartment) intent.set(a.body.compartment, 'take');
      return a.status === 200;
    }
    case 'staff_open': {
      const no = 1 + Math.floor(w.random() * 24);
      const a = await api.call<{ opened: boolean }>('POST', `/api/staff/compartments/${no}/force-open`, { reason: 'fault harness check' });
      if (a.body.opened) intent.set(no, 'none');
      return a.status === 200;
    }
  }
}

/** Doors shut and no flow under way: what a restart must come back to once the person has closed every door. */
async function settle(api: Api): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const comps = (await api.call<{ compartments: { state: string }[] }>('GET', '/api/staff/compartments')).body.compartments ?? [];
    if (!comps.some((c) => c.state === 'open' || c.state === 'opening' || c.state === 'reserved')) return;
    if (Date.now() > deadline) return; // check() reports what is left
    await tick(30);
  }
}

async function check(
  dataDir: string,
  sim: Sim,
  acked: Ack[],
  openings: Map<number, number>,
  problem: (
    kind: 'lost' | 'stranded' | 'twoThings' | 'codeTwice' | 'doublePulses' | 'unaudited' | 'phantomOpenings',
    what: string,
    compartment?: number,
  ) => void,
  f: Figures,
  seen: { phantom: number; gaps: Map<number, number>; possible: Map<number, number>; stoppedPromised: boolean },
  explain: (no: number, auditRows: string[]) => void = () => undefined,
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
    // Finishable: a document in a compartment can still be collected by its code.
    for (const x of db
      .prepare<[], { number: string }>(
        `SELECT r.number FROM requests r WHERE r.state IN ('loaded', 'overdue')
           AND NOT EXISTS (SELECT 1 FROM credentials c WHERE c.request_id = r.id AND c.purpose = 'pickup' AND c.status = 'active')`,
      )
      .all()) {
      if (acked.some((a) => a.number === x.number)) problem('lost', `${x.number} is in a compartment with no pickup code left to collect it`);
    }
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
    // Openings recorded at start-up, nobody having seen them happen: proven, and possible (reconcile.ts).
    const startupRecords = (action: string) =>
      new Map(
        db
          .prepare<[string], { no: number; n: number }>(
            'SELECT compartment_no AS no, count(*) AS n FROM audit_log WHERE action = ? AND compartment_no IS NOT NULL GROUP BY compartment_no',
          )
          .all(action)
          .map((r) => [r.no, r.n]),
      );
    const unseen = startupRecords('door.opened_unseen');
    const possible = startupRecords('door.may_have_opened');
    f.recordedAtStartup.unseen = [...unseen.values()].reduce((a, b) => a + b, 0);
    f.recordedAtStartup.possible = [...possible.values()].reduce((a, b) => a + b, 0);
    for (const p of physical) {
      f.pulses += p.unlocks;
      f.recordedUnlocks += sent.get(p.n) ?? 0;
      if (p.unlocks > (sent.get(p.n) ?? 0))
        problem('doublePulses', `compartment ${p.n}: ${p.unlocks} pulses, ${sent.get(p.n) ?? 0} unlocks recorded as sent`);
      // Openings with no firm record (a door fact, or one proven at start-up). Counted once: a gap found at an earlier
      // check is not reported again. A new one may be covered by a record of a possible opening made since the last
      // check (its unlock went out while the controller was stopped) — never by an older one, which may stand for an
      // unlock that opened nothing.
      const firm = (opened.get(p.n) ?? 0) + (unseen.get(p.n) ?? 0);
      const gap = (openings.get(p.n) ?? 0) - firm;
      const fresh = gap - (seen.gaps.get(p.n) ?? 0);
      const newPossible = (possible.get(p.n) ?? 0) - (seen.possible.get(p.n) ?? 0);
      seen.possible.set(p.n, possible.get(p.n) ?? 0);
      const covered = seen.stoppedPromised ? 0 : Math.max(0, Math.min(fresh, newPossible));
      f.recordedAtStartup.possibleThatOpened += covered;
      if (fresh > covered) {
        problem(
          'unaudited',
          `compartment ${p.n}: ${openings.get(p.n)} openings seen, ${opened.get(p.n) ?? 0} recorded as door facts, ${unseen.get(p.n) ?? 0} as unseen, ${possible.get(p.n) ?? 0} as possible`,
          p.n,
        );
        explain(
          p.n,
          db
            .prepare<[number], { id: number; at: number; action: string; detail: string }>(
              'SELECT id, at, action, detail FROM audit_log WHERE compartment_no = ? ORDER BY id DESC LIMIT 25',
            )
            .all(p.n)
            .reverse()
            .map((r) => `    audit #${r.id} ${new Date(r.at).toISOString().slice(11, 23)} ${r.action} ${r.detail}`),
        );
      }
      seen.gaps.set(p.n, Math.max(gap, seen.gaps.get(p.n) ?? 0));
    }
    // with protocol version 2 also openings found by a board's count (door facts too) that no unlock explains
    const phantom = db
      .prepare<[], { n: number }>(
        `SELECT count(*) AS n FROM audit_log WHERE action IN ('door.opened_unexplained', 'door.opened_by_count_unexplained')`,
      )
      .get()!.n;
    f.foundByCount = db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM audit_log WHERE action LIKE 'door.opened_by_count%'`).get()!.n;
    if (phantom > seen.phantom) problem('phantomOpenings', `${phantom - seen.phantom} door openings recorded as unexplained`);
    seen.phantom = phantom;
  } finally {
    db.close();
  }
}

export function formatFigures(f: Figures): string {
  const inj = f.faultsInjected;
  const total = Object.values(inj).reduce((a, b) => a + b, 0);
  const missing = CRASH_POINTS.filter((p) => !f.killPointsReached.has(p));
  return [
    `cycles: ${f.cycles}`,
    `operations (answered 2xx: submissions, loads, pickups, drop-offs, retrievals, force-opens): ${f.operations}`,
    `faults injected: ${total} (SIGKILL at a random moment ${inj.sigkillRandom}, at a named step ${inj.sigkillAtStep}; jammed locks ${inj.jammedLocks}; frame loss + corruption cycles ${inj.frameLossCycles}; board reboots ${inj.boardReboots}; clock jumps ${inj.clockJumps}; disk full ${inj.diskFullEpisodes})`,
    `kill points reached: ${CRASH_POINTS.length - missing.length} of ${CRASH_POINTS.length}${missing.length ? ` (not reached: ${missing.join(', ')})` : ''}`,
    `lock pulses: ${f.pulses}, unlocks recorded as sent: ${f.recordedUnlocks}`,
    `lost: ${f.lost}`,
    `stranded: ${f.stranded}`,
    `two things in one compartment: ${f.twoThings}`,
    `code usable twice: ${f.codeTwice}`,
    `double pulses: ${f.doublePulses}`,
    `unaudited openings: ${f.unaudited}`,
    `phantom openings: ${f.phantomOpenings}`,
    `openings recorded at start-up, unseen when they happened: ${f.recordedAtStartup.unseen} proven (compartment record or item sensor); ${f.recordedAtStartup.possible} recorded as possible (unlock went out, door shut, nothing to tell), of which ${f.recordedAtStartup.possibleThatOpened} did open`,
    `openings found by a version 2 board's count, both DOOR events lost: ${f.foundByCount}`,
    `not promised yet (counted apart): openings unrecorded while the disk was full ${f.limits.unrecordedWhileDiskFull}; openings unexplained after a clock jump ${f.limits.unexplainedAfterClockJump}; openings unseen in frame-loss cycles ${f.limits.unseenWhileFramesLost}`,
  ].join('\n');
}
