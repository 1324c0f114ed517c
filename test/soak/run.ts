/**
 * Soak run (`npm run soak -- --minutes 3 --seed 7`): the whole product for a while against the simulated
 * cabinet with wire faults on, under a seeded random mix of what people do; not part of `npm test`.
 *
 *   the app      startTestApp(): HTTP, SQLite, flows, the real driver, the simulated 1x24 cabinet; a notification
 *                dispatcher delivering to a local "SMS gateway" (the only way a resident learns a pickup code);
 *                the unlock cap raised to UNLOCK_MAX_PER_MINUTE=60, and door actions paced below it
 *   the wire     --drop (default 0.05) of frames lost each way, --corrupt (0.01) corrupted, seeded by --seed
 *   people       phones submit (new residents, or bound by residentToken; some services need materials);
 *                staff accept / reject / ask for materials / mark ready / load (sometimes forgetting the document,
 *                so the door closes empty) / take materials back / (admin) take a document back;
 *                residents at the kiosk collect by typed code (sometimes a wrong phone number first), pickup QR or
 *                resident QR (sometimes leaving the document inside), and drop materials off;
 *                now and then a door is forced open (tamper), the link drops and comes back, the board reboots
 *   checks       every 10 s and at the end (see `check`): a finding counts only when it is still there a few
 *                seconds later, so doors that just closed can settle
 *
 * Prints a summary; exit code 1 when any invariant was violated.
 */
import { performance } from 'node:perf_hooks';
import { createWebhookAdapter, NotificationDispatcher } from '../../controller/domain/notify.js';
import { reconcile } from '../../controller/flows/reconcile.js';
import { silentLogger } from '../../controller/log.js';
import { listCompartments, makeRequestQrToken } from '../../controller/store/index.js';
import { seededRng, type Rng } from '../../sim/rng.js';
import type { ApiClient } from '../api-client.js';
import { startTestApp, uniqueIdNumber, type TestApp } from '../app-harness.js';
import { startGateway, type Notification } from '../cabinet-processes.js';
import { Phone } from './phone.js';

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

function option(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) {
    console.error(`--${name} needs a number (got ${process.argv[i + 1]})`);
    process.exit(2);
  }
  return v;
}

const MINUTES = option('minutes', 3);
const SEED = option('seed', 1);
const DROP = option('drop', 0.05);
const CORRUPT = option('corrupt', 0.01);
const UNLOCK_CAP = 60;
/** Door actions wait while this many unlock intents were created in the last minute (each may retry once). */
const UNLOCK_PACE = UNLOCK_CAP - 10;
const CHECK_EVERY_MS = 10_000;
/** A finding must still be there this long after it was first seen. */
const SETTLE_MS = 3000;
const KIOSK_KEY = 'soak-kiosk-key-0123456789abcdef';

// ---------------------------------------------------------------------------------------------
// Bookkeeping
// ---------------------------------------------------------------------------------------------

const violations: { kind: string; detail: string }[] = [];
const actions = new Map<string, number>();
const answers = new Map<string, number>();
const pickupLatency: number[] = [];
const notes = new Map<string, number>();

function violation(kind: string, detail: string): void {
  violations.push({ kind, detail });
  console.log(`VIOLATION ${kind}: ${detail}`);
}
function count(map: Map<string, number>, key: string, n = 1): void {
  map.set(key, (map.get(key) ?? 0) + n);
}
const act = (kind: string) => count(actions, kind);
const note = (what: string) => count(notes, what);

process.on('uncaughtException', (e) => violation('process', `uncaught exception: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));
process.on('unhandledRejection', (e) => violation('process', `unhandled rejection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** An HTTP call: an undocumented answer (ApiClient / Phone throw) or a failed call is a violation, never a crash. */
async function http<T>(what: string, call: () => Promise<{ status: number; body: T }>): Promise<{ status: number; body: T } | null> {
  try {
    const r = await call();
    count(answers, `${what} ${r.status}`);
    return r;
  } catch (e) {
    violation('http', `${what}: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
}

/** Deliberate failed tries at a kiosk device: three in ten minutes make it wait a few seconds, so they are rationed. */
class FailureBudget {
  private readonly at: number[] = [];
  constructor(private readonly max: number) {}
  take(): boolean {
    const now = Date.now();
    while (this.at.length > 0 && this.at[0]! < now - 11 * 60_000) this.at.shift();
    if (this.at.length >= this.max) return false;
    this.at.push(now);
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// The world
// ---------------------------------------------------------------------------------------------

interface Resident {
  n: number;
  name: string;
  mobile: string;
  idNumber: string;
  address: { building: string; unit: string; room: string };
  token: string | null;
  phone: Phone;
}

interface Req {
  id: number;
  number: string;
  resident: Resident;
  statusToken: string;
  /** The request's pickup code was seen to open a door, and the request was later collected. */
  replayed: boolean;
}

interface KioskAnswer {
  ok: boolean;
  code: string;
  action: 'pickup' | 'dropoff' | null;
  compartments: number[];
}
interface DoorAnswer {
  opened: boolean;
  compartment: number | null;
  code: string;
}

const LIVES_IN_COMPARTMENT = new Set(['loading', 'loaded', 'overdue', 'depositing', 'materials_deposited']);
const HOLDS_ITEM = new Set(['loaded', 'overdue', 'materials_deposited']);
const NAMES = ['王小明', '李秀英', '张建国', '刘芳', '陈静', '杨磊', '赵敏', '黄伟'];

class Soak {
  readonly residents: Resident[] = [];
  readonly requests = new Map<number, Req>();
  /** Compartments a person's hands are at now (the script never has two people at one door). */
  readonly hands = new Set<number>();
  /** Requests some person is dealing with now. */
  readonly busy = new Set<number>();
  /** When each door was last closed or the link last came back: checks of item vs record wait for this. */
  readonly settledAfter = new Map<number, number>();
  linkBackAt = 0;
  stopping = false;
  readonly kiosk: ApiClient;
  /** A second kiosk screen (X-Kiosk-Key): only used to replay used codes, so its failures are its own. */
  readonly checkKiosk: ApiClient;
  readonly wrongCodes = new FailureBudget(2);
  readonly replays = new FailureBudget(2);
  services: { plain: string; materials: string } = { plain: '', materials: '' };

  constructor(
    readonly h: TestApp,
    readonly staff: ApiClient,
    readonly admin: ApiClient,
    readonly gateway: { received: Notification[] },
  ) {
    this.kiosk = h.kiosk;
    this.checkKiosk = h.api.with({ 'X-Kiosk-Key': KIOSK_KEY });
    h.cabinet.on('change', (c) => {
      if (c.reason === 'door' && c.compartment !== undefined) this.settledAfter.set(c.compartment, Date.now());
    });
  }

  state(id: number): string {
    return this.h.store.db.prepare<[number], { state: string }>('SELECT state FROM requests WHERE id = ?').get(id)?.state ?? 'missing';
  }

  /** Known requests in one of `states` that nobody is dealing with. */
  pick(rng: Rng, states: readonly string[]): Req | null {
    const ids = this.h.store.db
      .prepare<[], { id: number; state: string }>('SELECT id, state FROM requests')
      .all()
      .filter((r) => states.includes(r.state) && !this.busy.has(r.id) && this.requests.has(r.id));
    if (ids.length === 0) return null;
    return this.requests.get(ids[Math.floor(rng() * ids.length)]!.id)!;
  }

  recentUnlocks(): number {
    return this.h.store.db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM unlock_intents WHERE created_at > ?').get(Date.now() - 60_000)!
      .n;
  }

  /** Wait until one more door action stays under the cabinet's unlock cap. */
  async pace(unlocks = 2): Promise<boolean> {
    while (this.recentUnlocks() + unlocks > UNLOCK_PACE) {
      if (this.stopping) return false;
      await sleep(250);
    }
    return !this.stopping;
  }

  /** A person at an open door: after a moment puts in or takes out the item (or not), then shuts the door. */
  async atDoor(no: number, what: 'put' | 'take' | 'nothing', rng: Rng): Promise<void> {
    if (this.hands.has(no)) {
      violation('door', `compartment ${no} was reported open to a second person while someone was at it`);
      return;
    }
    this.hands.add(no);
    try {
      await sleep(150 + rng() * 1200);
      const sim = this.h.cabinet;
      if (!sim.compartment(no).doorOpen) {
        note('door already shut when the person reached it');
        return;
      }
      if (what === 'put' && !sim.compartment(no).item) sim.putItem(no);
      if (what === 'take' && sim.compartment(no).item) sim.takeItem(no);
      if (what === 'take' && !sim.compartment(no).item) act('door: item taken');
      await sleep(100 + rng() * 500);
      sim.closeDoor(no);
    } finally {
      this.hands.delete(no);
      this.settledAfter.set(no, Date.now());
    }
  }

  /** The pickup message the gateway got for a request (the newest), if any. */
  pickupMessage(r: Req): Notification | null {
    const all = this.gateway.received.filter((m) => m.requestNo === r.number && m.kind === 'ready_with_code');
    return all[all.length - 1] ?? null;
  }

  // ------------------------------------------------------------------------------- phones

  async submit(rng: Rng): Promise<void> {
    const open = this.h.store.db
      .prepare<[], { n: number }>(`SELECT count(*) AS n FROM requests WHERE state NOT IN ('rejected', 'collected', 'retrieved', 'cancelled')`)
      .get()!.n;
    if (open >= 30) return;
    const materials = rng() < 0.3;
    let resident: Resident;
    const again = this.residents.filter((x) => x.token !== null);
    if (again.length > 0 && rng() < 0.25) {
      resident = again[Math.floor(rng() * again.length)]!;
    } else {
      const n = this.residents.length;
      resident = {
        n,
        name: NAMES[n % NAMES.length]!,
        mobile: `1380013${String(n).padStart(4, '0')}`,
        idNumber: uniqueIdNumber(500 + n),
        address: { building: `${(n % 12) + 1}号楼`, unit: String((n % 4) + 1), room: String(101 + (n % 30)) },
        token: null,
        phone: new Phone(this.h.api, Phone.address(n)),
      };
      this.residents.push(resident);
    }
    act(resident.token ? (materials ? 'submit (bound, needs materials)' : 'submit (bound)') : materials ? 'submit (needs materials)' : 'submit');
    const r = await http('POST /api/requests', () =>
      resident.phone.post<{ requestId: number; number: string; statusToken: string; residentToken: string }>('/api/requests', {
        name: resident.name,
        mobile: resident.mobile,
        idNumber: resident.idNumber,
        address: resident.address,
        serviceCode: materials ? this.services.materials : this.services.plain,
        ...(resident.token ? { residentToken: resident.token } : {}),
      }),
    );
    if (!r || r.status !== 201) return;
    resident.token = r.body.residentToken;
    this.requests.set(r.body.requestId, { id: r.body.requestId, number: r.body.number, resident, statusToken: r.body.statusToken, replayed: false });
  }

  // ------------------------------------------------------------------------------- staff

  async staffStep(rng: Rng): Promise<void> {
    const x = rng();
    if (x < 0.3) {
      const r = this.pick(rng, ['submitted']);
      if (!r) return;
      const y = rng();
      if (y < 0.07) return this.plainAction(r, 'reject', { reason: '材料不全，请到居委会咨询' });
      if (y < 0.2) return this.plainAction(r, 'request-materials', {});
      return this.plainAction(r, 'accept', {});
    }
    if (x < 0.4) {
      const r = this.pick(rng, ['materials_retrieved']);
      if (r) return this.plainAction(r, 'accept', {});
      return;
    }
    if (x < 0.55) {
      const r = this.pick(rng, ['accepted']);
      if (r) return this.plainAction(r, 'ready', {});
      return;
    }
    if (x < 0.85) {
      const r = this.pick(rng, ['ready']);
      if (r) return this.doorAction(r, 'load', rng);
      return;
    }
    if (x < 0.97) {
      const r = this.pick(rng, ['materials_deposited']);
      if (r) return this.doorAction(r, 'retrieve', rng);
      return;
    }
    const r = this.pick(rng, ['loaded']);
    if (r) return this.doorAction(r, 'admin retrieve', rng);
  }

  async plainAction(r: Req, action: 'accept' | 'reject' | 'request-materials' | 'ready', body: Record<string, string>): Promise<void> {
    act(`staff ${action}`);
    await http(`POST /api/staff/requests/:id/${action}`, () => this.staff.post(`/api/staff/requests/${r.id}/${action}`, { body }));
  }

  async doorAction(r: Req, kind: 'load' | 'retrieve' | 'admin retrieve', rng: Rng): Promise<void> {
    if (!(await this.pace())) return;
    this.busy.add(r.id);
    try {
      act(`staff ${kind}`);
      const api = kind === 'admin retrieve' ? this.admin : this.staff;
      const path = kind === 'load' ? 'load' : 'retrieve';
      const a = await http(`POST /api/staff/requests/:id/${path}`, () => api.post<DoorAnswer>(`/api/staff/requests/${r.id}/${path}`));
      if (!a || a.status !== 200) return;
      count(answers, `${kind}: ${a.body.code}`);
      if (!a.body.opened || a.body.compartment === null) return;
      const forget = rng() < (kind === 'load' ? 0.1 : 0.05);
      if (forget) act(kind === 'load' ? 'door: load forgotten (closed empty)' : 'door: item left in at retrieval');
      await this.atDoor(a.body.compartment, forget ? 'nothing' : kind === 'load' ? 'put' : 'take', rng);
    } finally {
      this.busy.delete(r.id);
    }
  }

  // ------------------------------------------------------------------------------- residents at the kiosk

  async kioskStep(rng: Rng): Promise<void> {
    if (rng() < 0.25) {
      const r = this.pick(rng, ['awaiting_materials']);
      if (r) return this.dropOff(r, rng);
    }
    const r = this.pick(rng, ['loaded', 'overdue']);
    if (!r) return;
    const msg = this.pickupMessage(r);
    if (!msg?.code || !msg.qrToken) return; // the message is not delivered yet
    if (!(await this.pace(4))) return;
    // Everything of this resident: a resident QR opens all their waiting documents.
    const mine = [...this.requests.values()].filter((x) => x.resident === r.resident);
    if (mine.some((x) => this.busy.has(x.id))) return;
    for (const x of mine) this.busy.add(x.id);
    try {
      const how = rng();
      let answer: KioskAnswer | null = null;
      const last4 = r.resident.mobile.slice(-4);
      if (how < 0.5) {
        if (rng() < 0.15 && this.wrongCodes.take()) {
          act('kiosk: wrong phone digits first');
          const wrong = await http('POST /api/kiosk/pickup', () =>
            this.kiosk.post<KioskAnswer>('/api/kiosk/pickup', { body: { code: msg.code, phoneLast4: last4 === '0000' ? '1111' : '0000' } }),
          );
          if (wrong && wrong.status === 200) {
            count(answers, `pickup (wrong digits): ${wrong.body.code}`);
            if (wrong.body.ok) violation('code', `request ${r.number}: a wrong phone number opened ${wrong.body.compartments.join(', ')}`);
          }
          await sleep(500 + rng() * 1000);
        }
        act('kiosk: pickup by code');
        const t = performance.now();
        const a = await http('POST /api/kiosk/pickup', () =>
          this.kiosk.post<KioskAnswer>('/api/kiosk/pickup', { body: { code: msg.code, phoneLast4: last4 } }),
        );
        pickupLatency.push(performance.now() - t);
        answer = a && a.status === 200 ? a.body : null;
      } else if (how < 0.75) {
        act('kiosk: pickup QR');
        const a = await http('POST /api/kiosk/scan', () => this.kiosk.post<KioskAnswer>('/api/kiosk/scan', { body: { text: msg.qrToken } }));
        answer = a && a.status === 200 ? a.body : null;
      } else {
        act('kiosk: resident QR');
        const a = await http('POST /api/kiosk/scan', () => this.kiosk.post<KioskAnswer>('/api/kiosk/scan', { body: { text: r.resident.token } }));
        answer = a && a.status === 200 ? a.body : null;
      }
      if (!answer) return;
      count(answers, `kiosk: ${answer.code}${answer.action ? ` (${answer.action})` : ''}`);
      if (!answer.ok) return;
      const doors = answer.compartments.map((no) => {
        const leave = answer.action === 'pickup' && rng() < 0.1;
        if (leave) act('door: document left inside');
        return this.atDoor(no, answer.action === 'dropoff' ? 'put' : leave ? 'nothing' : 'take', rng);
      });
      await Promise.all(doors);
    } finally {
      for (const x of mine) this.busy.delete(x.id);
    }
  }

  async dropOff(r: Req, rng: Rng): Promise<void> {
    const mine = [...this.requests.values()].filter((x) => x.resident === r.resident);
    if (mine.some((x) => this.busy.has(x.id))) return;
    if (!(await this.pace(4))) return;
    for (const x of mine) this.busy.add(x.id);
    try {
      let text: string | null = r.resident.token;
      if (rng() < 0.5) {
        // The phone's status page shows the drop-off QR: the signed token of the request's deposit credential.
        const page = await http('GET /api/requests/status/:token', () =>
          this.h.api.get<{ dropOffQrUrl: string | null }>(`/api/requests/status/${r.statusToken}`),
        );
        const issued = this.h.store.db
          .prepare<[number], { detail: string }>(
            `SELECT detail FROM audit_log WHERE request_id = ? AND action = 'credential.issued' ORDER BY id DESC`,
          )
          .all(r.id)
          .map((x) => JSON.parse(x.detail) as { credentialId?: number; purpose?: string })
          .find((d) => d.purpose === 'deposit');
        if (page?.body.dropOffQrUrl && issued?.credentialId) {
          text = makeRequestQrToken(this.h.store.keys, { requestId: r.id, credentialId: issued.credentialId, purpose: 'deposit' });
          act('kiosk: drop-off QR');
        } else act('kiosk: drop-off by resident QR');
      } else act('kiosk: drop-off by resident QR');
      if (!text) return;
      const body = text;
      const a = await http('POST /api/kiosk/scan', () => this.kiosk.post<KioskAnswer>('/api/kiosk/scan', { body: { text: body } }));
      if (!a || a.status !== 200) return;
      count(answers, `kiosk: ${a.body.code}${a.body.action ? ` (${a.body.action})` : ''}`);
      if (!a.body.ok) return;
      await Promise.all(
        a.body.compartments.map((no) => {
          if (a.body.action === 'pickup') return this.atDoor(no, 'take', rng);
          const empty = rng() < 0.1;
          if (empty) act('door: drop-off closed empty');
          return this.atDoor(no, empty ? 'nothing' : 'put', rng);
        }),
      );
    } finally {
      for (const x of mine) this.busy.delete(x.id);
    }
  }

  /** A used pickup code, typed again at the second kiosk screen: it must open nothing. */
  async replay(rng: Rng): Promise<void> {
    const done = [...this.requests.values()].filter((r) => !r.replayed && this.state(r.id) === 'collected' && this.pickupMessage(r)?.code);
    if (done.length === 0) return;
    if (!this.replays.take()) return;
    const r = done[Math.floor(rng() * done.length)]!;
    r.replayed = true;
    act('kiosk: used code typed again');
    const before = this.h.cabinet.getCounters().unlocksExecuted;
    const a = await http('POST /api/kiosk/pickup', () =>
      this.checkKiosk.post<KioskAnswer>('/api/kiosk/pickup', {
        body: { code: this.pickupMessage(r)!.code, phoneLast4: r.resident.mobile.slice(-4) },
      }),
    );
    if (!a || a.status !== 200) return;
    count(answers, `replayed code: ${a.body.code}`);
    if (a.body.ok || (a.body.code !== 'INVALID' && a.body.code !== 'LOCKED'))
      violation('code', `request ${r.number} (collected): its code answered ${a.body.code}, compartments [${a.body.compartments.join(', ')}]`);
    const after = this.h.cabinet.getCounters().unlocksExecuted;
    const no = this.h.store.db
      .prepare<[number], { c: number | null }>(
        `SELECT compartment_no AS c FROM audit_log WHERE request_id = ? AND action = 'request.collect' ORDER BY id DESC LIMIT 1`,
      )
      .get(r.id)?.c;
    if (no && after[no] !== before[no] && a.body.ok) violation('code', `request ${r.number}: the replayed code pulsed door ${no}`);
  }

  // ------------------------------------------------------------------------------- chaos

  async chaosStep(rng: Rng): Promise<void> {
    const x = rng();
    const sim = this.h.cabinet;
    if (x < 0.4) {
      const comps = listCompartments(this.h.store.ctx);
      const free = comps.filter((c) => c.state === 'free' && !this.hands.has(c.no) && !sim.compartment(c.no).doorOpen);
      if (free.length < 4) return;
      // The highest free one: loads and drop-offs take the lowest.
      const no = free[free.length - 1]!.no;
      act('tamper (door forced open)');
      this.hands.add(no);
      try {
        sim.openDoor(no);
        await sleep(300 + rng() * 1500);
        sim.closeDoor(no);
      } finally {
        this.hands.delete(no);
        this.settledAfter.set(no, Date.now());
      }
    } else if (x < 0.75) {
      act('link dropped and back');
      sim.disconnect('drop');
      await sleep(300 + rng() * 2500);
      sim.reconnect();
      this.linkBackAt = Date.now();
    } else {
      act('board reboot');
      sim.reboot(1, { bootMs: Math.floor(rng() * 400) });
      this.linkBackAt = Date.now() + 400;
    }
  }

  /** A door standing open with nobody at it (an answer said "not opened" but it sprang open later): shut it. */
  strayDoors(openSince: Map<number, number>): void {
    const sim = this.h.cabinet;
    const comps = new Map(listCompartments(this.h.store.ctx).map((c) => [c.no, c]));
    for (let no = 1; no <= 24; no++) {
      if (!sim.compartment(no).doorOpen || this.hands.has(no)) {
        openSince.delete(no);
        continue;
      }
      const since = openSince.get(no) ?? Date.now();
      openSince.set(no, since);
      if (Date.now() - since > 6000 && comps.get(no)?.state !== 'opening') {
        act('stray open door shut');
        sim.closeDoor(no);
        openSince.delete(no);
        this.settledAfter.set(no, Date.now());
      }
    }
  }

  // ------------------------------------------------------------------------------- invariants

  /** What is wrong now, keyed so that the same finding a few seconds later can be recognised. */
  findings(): Map<string, string> {
    const out = new Map<string, string>();
    const { db, ctx } = this.h.store;
    const sim = this.h.cabinet;
    const comps = listCompartments(ctx);
    const states = new Map(
      db
        .prepare<[], { id: number; number: string; state: string; compartment_no: number | null }>(
          'SELECT id, number, state, compartment_no FROM requests',
        )
        .all()
        .map((r) => [r.id, r]),
    );
    const now = Date.now();
    const linkOk = this.h.driver.snapshot().link === 'online' && sim.connected && now - this.linkBackAt > SETTLE_MS;

    // 1. no request in two compartments; no compartment holding a request in a state that is not in a compartment
    const holder = new Map<number, number[]>();
    for (const c of comps) {
      if (!c.contents) continue;
      holder.set(c.contents.requestId, [...(holder.get(c.contents.requestId) ?? []), c.no]);
      const r = states.get(c.contents.requestId);
      if (!r || !LIVES_IN_COMPARTMENT.has(r.state)) {
        out.set(
          `contents:${c.no}:${c.contents.requestId}`,
          `compartment ${c.no} (${c.state}) holds request ${r?.number ?? c.contents.requestId}, which is "${r?.state ?? 'missing'}"`,
        );
      }
    }
    for (const [id, nos] of holder)
      if (nos.length > 1) out.set(`two:${id}`, `request ${states.get(id)?.number ?? id} is in compartments ${nos.join(' and ')}`);
    // ... and every request that holds an item is the contents of its compartment
    for (const r of states.values()) {
      if (!HOLDS_ITEM.has(r.state)) continue;
      const nos = holder.get(r.id) ?? [];
      if (nos.length !== 1 || r.compartment_no !== nos[0])
        out.set(
          `homeless:${r.id}`,
          `request ${r.number} is "${r.state}" (compartment ${r.compartment_no}) but compartments [${nos.join(', ')}] hold it`,
        );
    }

    // 2. the records and the cabinet agree: occupied ⇒ item inside, free ⇒ empty (doors closed and settled, link up)
    if (linkOk) {
      for (const c of comps) {
        const s = sim.compartment(c.no);
        if (s.doorOpen || this.hands.has(c.no) || now - (this.settledAfter.get(c.no) ?? 0) < SETTLE_MS) continue;
        if (c.state === 'occupied' && !s.item)
          out.set(`missing:${c.no}`, `compartment ${c.no} is recorded occupied (request ${c.contents?.requestId}) but the cabinet has no item in it`);
        if (c.state === 'free' && s.item) out.set(`leftover:${c.no}`, `compartment ${c.no} is recorded free but the cabinet has an item in it`);
      }
    }

    // 3. pulses the board executed = unlocks the audit log records as acknowledged, give or take those whose outcome is unknown
    const live = new Set(
      db
        .prepare<[], { c: number }>(`SELECT DISTINCT compartment_no AS c FROM unlock_intents WHERE status IN ('pending', 'sent')`)
        .all()
        .map((r) => r.c),
    );
    const executed = sim.getCounters().unlocksExecuted;
    for (const u of this.unlockAudit().values()) {
      if (live.has(u.no)) continue;
      const pulses = executed[u.no] ?? 0;
      if (pulses < u.acked || pulses > u.acked + u.unknown) {
        out.set(
          `pulses:${u.no}:${pulses}:${u.acked}`,
          `compartment ${u.no}: the board pulsed ${pulses} time(s); the audit log has ${u.acked} acked and ${u.unknown} failed after sending (outcome unknown)`,
        );
      }
    }

    // 4. a pickup code opens at most once: no unlock for a request after it was collected or retrieved
    const late = db
      .prepare<[], { request_id: number; compartment_no: number }>(`
      SELECT u.request_id, u.compartment_no FROM audit_log u
      WHERE u.action = 'unlock.intended' AND u.request_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM audit_log t WHERE t.request_id = u.request_id AND t.id < u.id AND t.action IN ('request.collect', 'request.retrieve', 'request.admin_retrieve'))`)
      .all();
    for (const l of late)
      out.set(
        `late:${l.request_id}:${l.compartment_no}`,
        `an unlock of compartment ${l.compartment_no} was intended for request ${states.get(l.request_id)?.number ?? l.request_id} after it ended`,
      );
    return out;
  }

  /** Per compartment: unlocks acked, and unlocks that failed after being sent (the board may or may not have pulsed). */
  unlockAudit(): Map<number, { no: number; acked: number; unknown: number }> {
    const rows = this.h.store.db
      .prepare<[], { action: string; compartment_no: number; detail: string }>(
        `SELECT action, compartment_no, detail FROM audit_log WHERE action IN ('unlock.sent', 'unlock.acked', 'unlock.failed') ORDER BY id`,
      )
      .all();
    const sent = new Set<number>();
    const out = new Map<number, { no: number; acked: number; unknown: number }>();
    for (let no = 1; no <= 24; no++) out.set(no, { no, acked: 0, unknown: 0 });
    for (const r of rows) {
      const d = JSON.parse(r.detail) as { intentId: number };
      const u = out.get(r.compartment_no)!;
      if (r.action === 'unlock.sent') sent.add(d.intentId);
      else if (r.action === 'unlock.acked') u.acked++;
      else if (sent.has(d.intentId)) u.unknown++;
    }
    return out;
  }

  checks = 0;
  /** Findings that are still there SETTLE_MS later are violations. */
  async check(label: string): Promise<void> {
    this.checks++;
    const first = this.findings();
    if (first.size === 0) return;
    await sleep(SETTLE_MS + 500);
    const second = this.findings();
    for (const [key, text] of second) if (first.has(key)) violation('invariant', `${label}: ${text}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Run
// ---------------------------------------------------------------------------------------------

function quantile(samples: number[], p: number): string {
  if (samples.length === 0) return '-';
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(1);
}

function table(title: string, map: Map<string, number>): void {
  console.log(`${title}:`);
  for (const [k, v] of [...map].sort((a, b) => a[0].localeCompare(b[0]))) console.log(`  ${k.padEnd(44)} ${v}`);
}

async function main(): Promise<void> {
  const gateway = await startGateway();
  const h = await startTestApp({ kioskKey: KIOSK_KEY, env: { UNLOCK_MAX_PER_MINUTE: String(UNLOCK_CAP) }, sim: { seed: SEED } });
  await reconcile(h.flows, { store: h.store, driver: h.driver, bus: h.bus, config: h.deps.config, logger: silentLogger() });
  const dispatcher = new NotificationDispatcher({ ctx: h.store.ctx, adapter: createWebhookAdapter({ url: gateway.url, timeoutMs: 5000 }) });
  const staff = await h.staffSession('staff');
  const admin = await h.staffSession('admin');
  const soak = new Soak(h, staff.api, admin.api, gateway);
  const services = (await h.api.get<{ services: { code: string; needsMaterials: boolean }[] }>('/api/services')).body.services;
  soak.services = { plain: services.find((s) => !s.needsMaterials)!.code, materials: services.find((s) => s.needsMaterials)!.code };
  h.cabinet.setFaults({ drop: DROP, corrupt: CORRUPT });
  console.log(
    `soak: ${MINUTES} min, seed ${SEED}, frames dropped ${DROP * 100} % and corrupted ${CORRUPT * 100} % each way, unlock cap ${UNLOCK_CAP}/min`,
  );

  const started = Date.now();
  const until = started + MINUTES * 60_000;
  const running = () => Date.now() < until;
  const loop = async (name: string, seed: number, gap: [number, number], step: (rng: Rng) => Promise<void> | void) => {
    const rng = seededRng(SEED * 1000 + seed);
    await sleep(gap[0] * rng());
    while (running()) {
      try {
        await step(rng);
      } catch (e) {
        violation('process', `${name} threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      }
      await sleep(gap[0] + rng() * (gap[1] - gap[0]));
    }
  };
  const openSince = new Map<number, number>();
  let nextCheck = started + CHECK_EVERY_MS;
  await Promise.all([
    loop('phones', 1, [800, 2500], (rng) => soak.submit(rng)),
    loop('staff', 2, [200, 900], (rng) => soak.staffStep(rng)),
    loop('kiosk', 3, [500, 2000], (rng) => soak.kioskStep(rng)),
    loop('chaos', 4, [6000, 14_000], (rng) => soak.chaosStep(rng)),
    loop('replays', 5, [20_000, 40_000], (rng) => soak.replay(rng)),
    loop('sms', 6, [300, 700], async () => void (await dispatcher.drainOnce())),
    loop('doors', 7, [1000, 1000], () => soak.strayDoors(openSince)),
    loop('checks', 8, [500, 500], async () => {
      if (Date.now() < nextCheck) return;
      nextCheck += CHECK_EVERY_MS;
      await soak.check(`after ${Math.round((Date.now() - started) / 1000)} s`);
    }),
  ]);

  // Wind down: the link up, every door shut, nothing in flight; then the last checks.
  soak.stopping = true;
  if (!h.cabinet.connected) h.cabinet.reconnect();
  const quiet = Date.now() + 30_000;
  for (;;) {
    soak.strayDoors(openSince);
    const busy =
      listCompartments(h.store.ctx).some((c) => c.state === 'opening' || c.state === 'open') ||
      soak.hands.size > 0 ||
      Array.from({ length: 24 }, (_, i) => h.cabinet.compartment(i + 1).doorOpen).some(Boolean);
    if (!busy || Date.now() > quiet) break;
    await sleep(500);
  }
  await sleep(SETTLE_MS);
  await dispatcher.drainOnce();
  const replayRng = seededRng(SEED * 1000 + 9);
  for (let i = 0; i < 4; i++) await soak.replay(replayRng);
  await soak.check('at the end');
  const total = (Date.now() - started) / 60_000;

  // Summary
  const health = await http('GET /api/health', () => h.api.get<{ counters: Record<string, number> }>('/api/health'));
  const sim = h.cabinet.getCounters();
  const db = h.store.db;
  const byState = new Map(
    db
      .prepare<[], { state: string; n: number }>('SELECT state, count(*) AS n FROM requests GROUP BY state')
      .all()
      .map((r) => [r.state, r.n]),
  );
  const unlockRows = new Map(
    db
      .prepare<[], { action: string; n: number }>(`SELECT action, count(*) AS n FROM audit_log WHERE action LIKE 'unlock.%' GROUP BY action`)
      .all()
      .map((r) => [r.action, r.n]),
  );
  const compStates = new Map<string, number>();
  for (const c of listCompartments(h.store.ctx)) count(compStates, c.state);
  const alarms = new Map(
    db
      .prepare<[], { kind: string; n: number }>('SELECT kind, count(*) AS n FROM alarms GROUP BY kind')
      .all()
      .map((r) => [r.kind, r.n]),
  );
  const unknown = [...soak.unlockAudit().values()].reduce((n, u) => n + u.unknown, 0);
  const pulses = Object.values(sim.unlocksExecuted).reduce((a, b) => a + b, 0);

  console.log('\n================ soak summary ================');
  console.log(`minutes ${MINUTES} of load (${total.toFixed(2)} with winding down and the last checks)   seed ${SEED}   checks ${soak.checks}`);
  table('actions', actions);
  table('answers', answers);
  table('requests by final state', byState);
  table('compartments at the end', compStates);
  console.log(
    `unlocks: intended ${unlockRows.get('unlock.intended') ?? 0}, sent ${unlockRows.get('unlock.sent') ?? 0}, acked ${unlockRows.get('unlock.acked') ?? 0}, ` +
      `expired ${unlockRows.get('unlock.expired') ?? 0}, failed ${unlockRows.get('unlock.failed') ?? 0} (after sending: ${unknown}), rate-limited ${unlockRows.get('unlock.rate_limited') ?? 0}; ` +
      `board pulses ${pulses}, retransmissions answered ACK DUP ${sim.duplicates}`,
  );
  console.log(
    `sim frames: dropped to board ${sim.dropped.toBoard}, to controller ${sim.dropped.toController}; corrupted to board ${sim.corrupted.toBoard}, to controller ${sim.corrupted.toController}; bad CRC seen by the board ${sim.badCrc}`,
  );
  const c = health?.body.counters ?? {};
  console.log(
    `driver: retransmissions ${c.retransmissions}, timeouts ${c.timeouts}, lostEvents ${c.lostEvents}, reconnects ${c.reconnects}, badCrc ${c.badCrc}, boots ${c.boots}, naks ${c.naks}, tampers ${c.tampers}, unlocksSent ${c.unlocksSent}, unlocksExpired ${c.unlocksExpired}`,
  );
  console.log(
    `kiosk pickup by code, answer time: n=${pickupLatency.length} p50 ${quantile(pickupLatency, 0.5)} ms, p95 ${quantile(pickupLatency, 0.95)} ms`,
  );
  table('alarms raised', alarms);
  if (notes.size > 0) table('notes', notes);
  console.log(`violations: ${violations.length}`);
  for (const v of violations.slice(0, 30)) console.log(`  [${v.kind}] ${v.detail}`);

  await dispatcher.stop();
  await h.close();
  await gateway.close();
  process.exit(violations.length === 0 ? 0 : 1);
}

main().catch((e: unknown) => {
  console.error('soak: the run itself failed:', e);
  process.exit(1);
});
