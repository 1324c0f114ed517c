/**
 * The cabinet's job, end to end through HTTP: the real app (test/app-harness.ts) with a real store and the
 * simulated cabinet, a notification dispatcher delivering to a local "SMS gateway" (the only way a resident
 * learns a pickup code), staff and kiosk calls through the schema-checking ApiClient, and nothing else but the
 * hands of the person at the cabinet (h.cabinet.putItem/takeItem/closeDoor) and the clock.
 *
 * Each scenario checks where it ends: the request's state, the compartments (GET /api/staff/compartments), the
 * request's audit trail in order, the notifications as staff see them (masked, no code) and as the gateway got
 * them (the code only in ready_with_code), and the unlock counts of the simulated doors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookAdapter, NotificationDispatcher } from '../controller/domain/notify.js';
import { reconcile } from '../controller/flows/reconcile.js';
import { errorBodySchema } from '../controller/http/routes.js';
import { silentLogger } from '../controller/log.js';
import { makeRequestQrToken } from '../controller/store/index.js';
import { FakeClock } from '../controller/store/test-support.js';
import type { ApiClient } from './api-client.js';
import { startTestApp, TEST_PIN, uniqueIdNumber, type TestApp } from './app-harness.js';
import { startGateway, type Notification } from './cabinet-processes.js';
import { expectedModules, svgModules } from './qr-decode.js';

// ---------------------------------------------------------------------------------------------
// The world of one scenario
// ---------------------------------------------------------------------------------------------

interface Staff {
  id: number;
  login: string;
  token: string;
  api: ApiClient;
}

interface World {
  h: TestApp;
  gateway: Awaited<ReturnType<typeof startGateway>>;
  staff: Staff;
  admin: Staff;
  /** The kiosk's own screen: the kiosk listener. */
  kiosk: ApiClient;
  /** The dispatcher's scheduled drain, run now: due messages go to the gateway. */
  deliver(): Promise<void>;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function world(opts: { clock?: FakeClock } = {}): Promise<World> {
  const gateway = await startGateway();
  cleanups.push(() => gateway.close());
  const h = await startTestApp(opts.clock ? { clock: opts.clock } : {});
  cleanups.push(() => h.close());
  await reconcile(h.flows, { store: h.store, driver: h.driver, bus: h.bus, config: h.deps.config, logger: silentLogger() });
  const dispatcher = new NotificationDispatcher({ ctx: h.store.ctx, adapter: createWebhookAdapter({ url: gateway.url, timeoutMs: 5000 }) });
  cleanups.push(() => dispatcher.stop());
  return {
    h,
    gateway,
    staff: await h.staffSession('staff'),
    admin: await h.staffSession('admin'),
    kiosk: h.kiosk,
    async deliver() {
      const r = await dispatcher.drainOnce();
      expect(r.failed, 'no message failed for good').toBe(0);
      expect(r.retrying, 'no message is waiting for a retry').toBe(0);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Residents and their phones
// ---------------------------------------------------------------------------------------------

interface Person {
  name: string;
  mobile: string;
  idNumber: string;
  address: { building: string; unit: string; room: string };
}

const NAMES = ['王小明', '李秀英', '张建国', '刘芳'];

function person(n: number): Person {
  return {
    name: NAMES[n % NAMES.length]!,
    mobile: `1390013${String(1000 + n).padStart(4, '0')}`,
    idNumber: uniqueIdNumber(100 + n),
    address: { building: `${n + 1}号楼`, unit: '2', room: `${301 + n}` },
  };
}

const last4 = (p: Person) => p.mobile.slice(-4);
const masked = (p: Person) => `${p.mobile.slice(0, 3)}****${p.mobile.slice(7)}`;

interface Submitted {
  requestId: number;
  number: string;
  statusToken: string;
  residentToken: string;
}

/** The phone page's submission; `residentToken` binds it to the resident this phone registered before. */
async function submit(w: World, p: Person, serviceCode = 'residence_certificate', residentToken?: string): Promise<Submitted> {
  const r = await w.h.api.post<Submitted & { state: string }>('/api/requests', {
    body: { name: p.name, mobile: p.mobile, idNumber: p.idNumber, address: p.address, serviceCode, ...(residentToken ? { residentToken } : {}) },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

// ---------------------------------------------------------------------------------------------
// Staff console
// ---------------------------------------------------------------------------------------------

interface AuditRow {
  id: number;
  action: string;
  actorKind: string;
  compartmentNo: number | null;
  requestId: number | null;
  detail: Record<string, unknown>;
}

interface RequestDetail {
  id: number;
  state: string;
  compartmentNo: number | null;
  mobileMasked: string;
  audit: AuditRow[];
  notifications: { kind: string; status: string }[];
}

interface CompartmentRow {
  no: number;
  state: string;
  door: string;
  faultReason: string | null;
  faultKey: string | null;
  contents: { requestId: number; requestState: string; direction: string } | null;
  live: { door: string; item: string; fault: string } | null;
}

async function step(s: Staff, id: number, action: 'accept' | 'ready' | 'request-materials'): Promise<void> {
  const r = await s.api.post(`/api/staff/requests/${id}/${action}`, { body: {} });
  expect(r.status, `${action} ${id}: ${JSON.stringify(r.body)}`).toBe(200);
}

async function detail(w: World, id: number): Promise<RequestDetail> {
  const r = await w.staff.api.get<RequestDetail>(`/api/staff/requests/${id}`);
  expect(r.status).toBe(200);
  return r.body;
}

async function compartments(w: World): Promise<CompartmentRow[]> {
  const r = await w.staff.api.get<{ compartments: CompartmentRow[] }>('/api/staff/compartments');
  expect(r.status).toBe(200);
  return r.body.compartments;
}

async function compartment(w: World, no: number): Promise<CompartmentRow> {
  const c = (await compartments(w)).find((x) => x.no === no);
  expect(c, `compartment ${no} is listed`).toBeDefined();
  return c!;
}

/** Polls the staff console until the request is in `state` (the door flows finish after the answer). */
async function untilState(w: World, id: number, state: string): Promise<RequestDetail> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const d = await detail(w, id);
    if (d.state === state) return d;
    if (Date.now() > deadline) throw new Error(`request ${id} is "${d.state}", never became "${state}"`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function auditAll(w: World, query: Record<string, number>): Promise<AuditRow[]> {
  const r = await w.staff.api.get<{ entries: AuditRow[] }>('/api/staff/audit', { query: { ...query, limit: 1000 } });
  expect(r.status).toBe(200);
  return r.body.entries;
}

/** Actions that tell a request's story; bookkeeping of compartment states and sign-ins is left out. */
const KEY = /^(request\.|unlock\.|door\.|credential\.|compartment\.(reserved|fault)$|notification\.)/;

/**
 * The request's audit trail (its own rows, door facts included) merged with the door facts of the compartments it
 * used while it was using them, each row once, oldest first, key actions only.
 */
async function trail(w: World, id: number, usedCompartments: number[]): Promise<string[]> {
  const own = (await detail(w, id)).audit;
  const first = Math.min(...own.map((e) => e.id));
  const last = Math.max(...own.map((e) => e.id));
  const doors: AuditRow[] = [];
  for (const no of usedCompartments) {
    doors.push(...(await auditAll(w, { compartment: no })).filter((e) => e.action.startsWith('door.') && e.id > first && e.id < last));
  }
  const rows = new Map([...own, ...doors].map((e) => [e.id, e]));
  return [...rows.values()]
    .sort((a, b) => a.id - b.id)
    .map((e) => e.action)
    .filter((a) => KEY.test(a));
}

/** Every unlock.* row of the audit log, oldest first. */
async function unlockRows(w: World): Promise<AuditRow[]> {
  return (await auditAll(w, {})).filter((e) => e.action.startsWith('unlock.')).sort((a, b) => a.id - b.id);
}

interface AlarmView {
  kind: string;
  compartment?: number;
  requestId?: number;
  key: string | null;
  params?: Record<string, string | number | number[]>;
  message: string;
}

async function alarms(w: World): Promise<AlarmView[]> {
  const r = await w.staff.api.get<{ alarms: AlarmView[] }>('/api/staff/alarms');
  expect(r.status).toBe(200);
  return r.body.alarms;
}

interface StaffNotification {
  requestId: number | null;
  kind: string;
  status: string;
  mobileMasked: string;
}

async function staffNotifications(w: World, requestId: number): Promise<StaffNotification[]> {
  const r = await w.staff.api.get<{ notifications: StaffNotification[] }>('/api/staff/notifications');
  expect(r.status).toBe(200);
  expect(JSON.stringify(r.body), 'staff never see a code').not.toMatch(/"(code|qrToken)"/);
  return r.body.notifications.filter((n) => n.requestId === requestId).reverse();
}

/** What the SMS gateway got for one request, in order. */
function sms(w: World, number: string): Notification[] {
  return w.gateway.received.filter((m) => m.requestNo === number);
}

/** The pickup message of a request: its code and QR token, and nothing secret in any other message. */
function pickupMessage(w: World, number: string, p: Person): { code: string; qrToken: string } {
  const msgs = sms(w, number);
  const ready = msgs.filter((m) => m.kind === 'ready_with_code');
  expect(ready).toHaveLength(1);
  const m = ready[0]!;
  expect(m.to, 'the gateway needs the full number').toBe(p.mobile);
  expect(m.code).toMatch(/^\d{8}$/);
  expect(m.text).toContain(`${m.code!.slice(0, 4)} ${m.code!.slice(4)}`);
  expect(m.qrToken).toMatch(/^[A-Za-z0-9_-]{16,64}$/);
  for (const other of msgs.filter((x) => x.kind !== 'ready_with_code')) {
    expect(other.code, `${other.kind} carries no code`).toBeUndefined();
    expect(other.qrToken, `${other.kind} carries no QR token`).toBeUndefined();
    expect(other.text).not.toContain(m.code!.slice(4));
  }
  return { code: m.code!, qrToken: m.qrToken! };
}

// ---------------------------------------------------------------------------------------------
// Door flows as a person goes through them
// ---------------------------------------------------------------------------------------------

interface DoorAnswer {
  opened: boolean;
  compartment: number | null;
  code: string;
  key: string;
  params?: Record<string, string | number | number[]>;
  message: string;
}

interface KioskAnswer {
  ok: boolean;
  code: string;
  key: string;
  params?: Record<string, string | number | number[]>;
  message: string;
  compartments: number[];
}

async function submitReady(w: World, p: Person, residentToken?: string): Promise<Submitted> {
  const s = await submit(w, p, 'residence_certificate', residentToken);
  await step(w.staff, s.requestId, 'accept');
  await step(w.staff, s.requestId, 'ready');
  return s;
}

/** Staff load: the door opens, the document goes in, the door is shut; the request is loaded. */
async function load(w: World, id: number): Promise<number> {
  const r = await w.staff.api.post<DoorAnswer>(`/api/staff/requests/${id}/load`);
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ opened: true, code: 'OPENED' });
  const no = r.body.compartment!;
  expect(w.h.cabinet.compartment(no).doorOpen, 'the door is open when the answer comes').toBe(true);
  w.h.cabinet.putItem(no);
  w.h.cabinet.closeDoor(no);
  await untilState(w, id, 'loaded');
  return no;
}

/** The resident at an open door takes the document and shuts the door. */
function takeAndClose(w: World, no: number): void {
  expect(w.h.cabinet.compartment(no).doorOpen, `door ${no} is open`).toBe(true);
  w.h.cabinet.takeItem(no);
  w.h.cabinet.closeDoor(no);
}

async function typeCode(w: World, code: string, phoneLast4: string): Promise<KioskAnswer> {
  const r = await w.kiosk.post<KioskAnswer>('/api/kiosk/pickup', { body: { code, phoneLast4 } });
  expect(r.status).toBe(200);
  return r.body;
}

async function scan(w: World, text: string): Promise<KioskAnswer> {
  const r = await w.kiosk.post<KioskAnswer>('/api/kiosk/scan', { body: { text } });
  expect(r.status).toBe(200);
  return r.body;
}

async function statusPage(
  w: World,
  statusToken: string,
): Promise<{ state: string; pickupQrUrl: string | null; dropOffQrUrl: string | null; compartmentNo: number | null; mobileMasked: string }> {
  const r = await w.h.api.get(`/api/requests/status/${statusToken}`);
  expect(r.status).toBe(200);
  return r.body;
}

/** The QR image a phone shows (an absolute URL from the status page) encodes exactly `text`. */
async function expectQrOf(w: World, url: string, text: string): Promise<void> {
  const path = new URL(url).pathname + new URL(url).search;
  const r = await w.h.api.get(path);
  expect(r.status).toBe(200);
  expect(r.headers.get('cache-control')).toBe('no-store');
  expect(svgModules(r.raw.toString('utf8'))).toEqual(expectedModules(text));
}

const LOAD_TRAIL = [
  'request.created',
  'request.accept',
  'request.mark_ready',
  'compartment.reserved',
  'request.start_load',
  'unlock.intended',
  'unlock.sent',
  'unlock.acked',
  'door.open',
  'door.closed',
  'request.load_done',
  'credential.issued',
];

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

describe('the cabinet’s job, through HTTP', () => {
  it('1. load, then pickup by typed code + last 4 phone digits; the same code again is INVALID and opens nothing', async () => {
    const w = await world();
    const p = person(1);
    const s = await submitReady(w, p);
    const no = await load(w, s.requestId);
    expect(no, 'the lowest free compartment').toBe(1);
    expect(await compartment(w, no)).toMatchObject({
      state: 'occupied',
      door: 'closed',
      contents: { requestId: s.requestId, requestState: 'loaded', direction: 'for_resident' },
    });
    expect((await statusPage(w, s.statusToken)).compartmentNo).toBe(no);

    await w.deliver();
    const { code } = pickupMessage(w, s.number, p);

    // a wrong last-4 is refused and opens nothing
    const wrong = await typeCode(w, code, last4(p) === '0000' ? '1111' : '0000');
    expect(wrong).toMatchObject({ ok: false, code: 'INVALID', compartments: [] });
    expect(w.h.cabinet.unlockCount(no)).toBe(1);

    const ok = await typeCode(w, code, last4(p));
    expect(ok).toMatchObject({ ok: true, code: 'OPENED', compartments: [no] });
    expect(ok).toMatchObject({ key: 'door.kiosk_opened_pickup', params: { doors: [no] }, message: `${no} 号柜门已打开，请取走文件并关好柜门。` });
    takeAndClose(w, no);
    await untilState(w, s.requestId, 'collected');
    expect((await statusPage(w, s.statusToken)).compartmentNo, 'the resident is no longer sent to a compartment').toBeNull();
    expect(await compartment(w, no)).toMatchObject({ state: 'free', door: 'closed', contents: null, live: { item: 'absent' } });
    expect(w.h.cabinet.unlockCount(no)).toBe(2); // load, pickup

    const again = await typeCode(w, code, last4(p));
    expect(again).toMatchObject({ ok: false, code: 'INVALID', compartments: [] });
    expect(again).toMatchObject({ key: 'door.kiosk_invalid', message: expect.stringContaining('取件码') });
    expect(w.h.cabinet.unlockCount(no), 'no unlock for a used code').toBe(2);
    expect((await statusPage(w, s.statusToken)).pickupQrUrl).toBeNull();

    expect(await trail(w, s.requestId, [no])).toEqual([
      ...LOAD_TRAIL,
      'notification.sent',
      'credential.verify_failed', // wrong phone digits
      'credential.verified',
      'unlock.intended',
      'unlock.sent',
      'unlock.acked',
      'door.open',
      'door.closed',
      'request.collect',
      'credential.revoked',
      // the second try with the used code matches no active credential: it is counted against the kiosk, not this request
    ]);
    expect((await staffNotifications(w, s.requestId)).map((n) => [n.kind, n.status, n.mobileMasked])).toEqual([
      ['ready_with_code', 'sent', masked(p)],
    ]);
    expect(sms(w, s.number).map((m) => m.kind)).toEqual(['ready_with_code']);
  });

  it('2. pickup by scanning the pickup QR (the bare token, and a link carrying it); a second scan is USED', async () => {
    const w = await world();
    const a = person(1);
    const b = person(2);
    const sa = await submitReady(w, a);
    const sb = await submitReady(w, b);
    const na = await load(w, sa.requestId);
    const nb = await load(w, sb.requestId);
    expect([na, nb]).toEqual([1, 2]);
    await w.deliver();
    const qa = pickupMessage(w, sa.number, a).qrToken;
    const qb = pickupMessage(w, sb.number, b).qrToken;

    // the status page's pickup QR is the same signed token the message carries
    const pa = await statusPage(w, sa.statusToken);
    expect(pa).toMatchObject({ state: 'loaded', compartmentNo: na, dropOffQrUrl: null, mobileMasked: `${a.mobile.slice(0, 3)}********` });
    expect(pa.pickupQrUrl).not.toBeNull();
    await expectQrOf(w, pa.pickupQrUrl!, qa);

    const first = await scan(w, qa);
    expect(first).toMatchObject({ ok: true, code: 'OPENED', compartments: [na] });
    takeAndClose(w, na);
    await untilState(w, sa.requestId, 'collected');

    // a phone camera link carrying the token (…?t=<token>) opens the same way
    const viaLink = await scan(w, `${w.h.url}/m/pickup?t=${qb}`);
    expect(viaLink).toMatchObject({ ok: true, code: 'OPENED', compartments: [nb] });
    takeAndClose(w, nb);
    await untilState(w, sb.requestId, 'collected');

    const replay = await scan(w, qa);
    expect(replay).toMatchObject({ ok: false, code: 'USED', compartments: [] });
    expect(w.h.cabinet.unlockCount(na)).toBe(2);
    expect(w.h.cabinet.unlockCount(nb)).toBe(2);

    for (const no of [na, nb]) expect(await compartment(w, no)).toMatchObject({ state: 'free', contents: null });
    expect(await trail(w, sa.requestId, [na])).toEqual([
      ...LOAD_TRAIL,
      'notification.sent',
      'credential.verified',
      'unlock.intended',
      'unlock.sent',
      'unlock.acked',
      'door.open',
      'door.closed',
      'request.collect',
      'credential.revoked',
      'credential.verify_failed', // the replayed QR, named by the token
    ]);
    const verified = (await detail(w, sa.requestId)).audit.find((e) => e.action === 'credential.verified');
    expect(verified?.detail).toMatchObject({ purpose: 'pickup', via: 'qr' });
    expect((await staffNotifications(w, sb.requestId)).map((n) => [n.kind, n.status])).toEqual([['ready_with_code', 'sent']]);
  });

  it('3. one scan of the resident QR opens exactly that resident’s two documents, in order; another resident’s stays shut', async () => {
    const w = await world();
    const me = person(1);
    const other = person(2);
    const first = await submitReady(w, me);
    const otherReq = await submitReady(w, other);
    const second = await submitReady(w, me, first.residentToken);
    // bound to the same resident (ids below); the token is renewed with every use, the phone keeps the new one
    expect(second.residentToken).not.toBe(first.residentToken);
    const mine = second.residentToken;
    expect((await detail(w, second.requestId)).mobileMasked).toBe(masked(me));
    const residentIds = await Promise.all(
      [first, second, otherReq].map(
        async (s) => (await w.staff.api.get<{ residentId: number }>(`/api/staff/requests/${s.requestId}`)).body.residentId,
      ),
    );
    expect(residentIds[0]).toBe(residentIds[1]);
    expect(residentIds[2]).not.toBe(residentIds[0]);

    const n1 = await load(w, first.requestId);
    const nOther = await load(w, otherReq.requestId);
    const n2 = await load(w, second.requestId);
    expect([n1, nOther, n2]).toEqual([1, 2, 3]);
    await w.deliver();

    // the resident's QR (GET /api/residents/qr.svg) is the residentToken itself
    const qr = await w.h.api.get('/api/residents/qr.svg', { query: { token: mine } });
    expect(qr.status).toBe(200);
    expect(svgModules(qr.raw.toString('utf8'))).toEqual(expectedModules(mine));

    const opened = await scan(w, mine);
    expect(opened).toMatchObject({ ok: true, code: 'OPENED', compartments: [n1, n2] });
    expect(w.h.cabinet.compartment(nOther).doorOpen).toBe(false);
    takeAndClose(w, n1);
    takeAndClose(w, n2);
    await untilState(w, first.requestId, 'collected');
    await untilState(w, second.requestId, 'collected');

    expect(w.h.cabinet.unlockCount(nOther), 'the other door only unlocked for its load').toBe(1);
    expect((await detail(w, otherReq.requestId)).state).toBe('loaded');
    const comps = await compartments(w);
    expect(comps.find((c) => c.no === nOther)).toMatchObject({ state: 'occupied', contents: { requestId: otherReq.requestId } });
    for (const no of [n1, n2]) expect(comps.find((c) => c.no === no)).toMatchObject({ state: 'free', contents: null });

    // opened in request order: the unlock of the first document's door came before the second's
    const unlocks = (await unlockRows(w)).filter((e) => e.action === 'unlock.intended' && e.actorKind === 'kiosk');
    expect(unlocks.map((e) => [e.compartmentNo, e.requestId])).toEqual([
      [n1, first.requestId],
      [n2, second.requestId],
    ]);
    for (const s of [first, second]) {
      const no = s === first ? n1 : n2;
      expect(await trail(w, s.requestId, [no])).toEqual([
        ...LOAD_TRAIL,
        'notification.sent',
        'unlock.intended',
        'unlock.sent',
        'unlock.acked',
        'door.open',
        'door.closed',
        'request.collect',
        'credential.revoked',
      ]);
    }
    // nothing after the resident scan in the other request's trail
    expect(await trail(w, otherReq.requestId, [nOther])).toEqual([...LOAD_TRAIL, 'notification.sent']);

    // a second scan finds nothing waiting and opens nothing
    expect(await scan(w, mine)).toMatchObject({ ok: false, code: 'NOTHING_WAITING', compartments: [] });
    expect([n1, n2, nOther].map((n) => w.h.cabinet.unlockCount(n))).toEqual([2, 2, 1]);
  });

  it('4. drop-off: the drop-off QR opens a compartment, staff retrieve the materials and accept; materials_received', async () => {
    const w = await world();
    const p = person(1);
    const services = await w.h.api.get<{ services: { code: string; needsMaterials: boolean }[] }>('/api/services');
    const withMaterials = services.body.services.find((s) => s.needsMaterials);
    expect(withMaterials, 'the catalogue has a service that needs materials').toBeDefined();

    const s = await submit(w, p, withMaterials!.code);
    expect((await detail(w, s.requestId)).state).toBe('awaiting_materials');
    const page = await statusPage(w, s.statusToken);
    expect(page.pickupQrUrl).toBeNull();
    expect(page.dropOffQrUrl).not.toBeNull();

    // the drop-off QR encodes the signed token of the deposit credential issued with the request
    const issued = (await detail(w, s.requestId)).audit.find((e) => e.action === 'credential.issued');
    expect(issued?.detail).toMatchObject({ purpose: 'deposit' });
    const token = makeRequestQrToken(w.h.store.keys, {
      requestId: s.requestId,
      credentialId: issued!.detail.credentialId as number,
      purpose: 'deposit',
    });
    await expectQrOf(w, page.dropOffQrUrl!, token);

    const opened = await scan(w, token);
    expect(opened).toMatchObject({ ok: true, code: 'OPENED' });
    expect(opened.compartments).toHaveLength(1);
    const no = opened.compartments[0]!;
    expect(no).toBe(1);
    w.h.cabinet.putItem(no);
    w.h.cabinet.closeDoor(no);
    await untilState(w, s.requestId, 'materials_deposited');
    expect(await compartment(w, no)).toMatchObject({ state: 'occupied', contents: { requestId: s.requestId, direction: 'for_staff' } });
    expect((await statusPage(w, s.statusToken)).dropOffQrUrl).toBeNull();
    expect((await alarms(w)).filter((a) => a.requestId === s.requestId)).toEqual([
      expect.objectContaining({
        compartment: no,
        key: 'alarm.materials_deposited',
        params: { number: s.number, no },
        message: expect.stringContaining(s.number),
      }),
    ]);

    // the same drop-off QR cannot open anything again
    expect(await scan(w, token)).toMatchObject({ ok: false, code: 'USED', compartments: [] });
    expect(w.h.cabinet.unlockCount(no)).toBe(1);

    const back = await w.staff.api.post<DoorAnswer>(`/api/staff/requests/${s.requestId}/retrieve`);
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ opened: true, compartment: no, code: 'OPENED' });
    takeAndClose(w, no);
    await untilState(w, s.requestId, 'materials_retrieved');
    expect(await compartment(w, no)).toMatchObject({ state: 'free', contents: null });

    await step(w.staff, s.requestId, 'accept');
    expect((await detail(w, s.requestId)).state).toBe('accepted');
    await w.deliver();

    expect(await trail(w, s.requestId, [no])).toEqual([
      'request.created',
      'credential.issued',
      'credential.verified',
      'compartment.reserved',
      'request.start_deposit',
      'unlock.intended',
      'unlock.sent',
      'unlock.acked',
      'door.open',
      'door.closed',
      'request.deposit',
      'credential.revoked',
      'credential.verify_failed', // the second scan of the used QR
      'unlock.intended',
      'unlock.sent',
      'unlock.acked',
      'door.open',
      'door.closed',
      'request.retrieve_materials',
      'request.accept',
      'notification.sent',
    ]);
    expect((await staffNotifications(w, s.requestId)).map((n) => [n.kind, n.status, n.mobileMasked])).toEqual([
      ['materials_received', 'sent', masked(p)],
    ]);
    const got = sms(w, s.number);
    expect(got.map((m) => m.kind)).toEqual(['materials_received']);
    expect(got[0]).not.toHaveProperty('code');
    expect(got[0]).not.toHaveProperty('qrToken');
    expect(w.h.cabinet.unlockCount(no)).toBe(2);
  });

  it('1b. the status page says so when the door closed with the document still inside, and when a drop-off door closed empty', async () => {
    const w = await world();
    const notice = async (token: string) => (await w.h.api.get<{ doorNotice: string | null }>(`/api/requests/status/${token}`)).body.doorNotice;
    const p = person(1);
    const s = await submitReady(w, p);
    const no = await load(w, s.requestId);
    expect(await notice(s.statusToken)).toBeNull();
    await w.deliver();
    const { code } = pickupMessage(w, s.number, p);
    expect(await typeCode(w, code, last4(p))).toMatchObject({ ok: true, compartments: [no] });
    w.h.cabinet.closeDoor(no); // the document is still inside
    await expect.poll(() => notice(s.statusToken)).toBe('item_not_taken');
    expect((await statusPage(w, s.statusToken)).pickupQrUrl, 'the code still works').not.toBeNull();
    expect(await typeCode(w, code, last4(p))).toMatchObject({ ok: true, compartments: [no] });
    expect(await notice(s.statusToken), 'the door is open again').toBeNull();
    takeAndClose(w, no);
    await untilState(w, s.requestId, 'collected');
    expect(await notice(s.statusToken)).toBeNull();

    const q = person(2);
    const d = await submit(w, q);
    await step(w.staff, d.requestId, 'request-materials');
    const drop = await scan(w, d.residentToken);
    expect(drop).toMatchObject({ ok: true, code: 'OPENED' });
    w.h.cabinet.closeDoor(drop.compartments[0]!); // nothing put in
    await expect.poll(() => notice(d.statusToken)).toBe('nothing_deposited');
    expect((await detail(w, d.requestId)).state).toBe('awaiting_materials');
  });

  it('4b. materials asked for by staff: the resident QR opens a compartment for them; then the document is made, loaded and collected with the same QR', async () => {
    const w = await world();
    const p = person(1);
    const s = await submit(w, p); // a service that needs no materials
    expect((await statusPage(w, s.statusToken)).dropOffQrUrl).toBeNull();
    await step(w.staff, s.requestId, 'request-materials');
    expect((await detail(w, s.requestId)).state).toBe('awaiting_materials');
    expect((await statusPage(w, s.statusToken)).dropOffQrUrl).not.toBeNull();

    const drop = await scan(w, s.residentToken);
    expect(drop).toMatchObject({ ok: true, code: 'OPENED', compartments: [1] });
    w.h.cabinet.putItem(1);
    w.h.cabinet.closeDoor(1);
    await untilState(w, s.requestId, 'materials_deposited');
    expect(await scan(w, s.residentToken), 'nothing more to drop off or collect').toMatchObject({ ok: false, code: 'NOTHING_WAITING' });

    const back = await w.staff.api.post<DoorAnswer>(`/api/staff/requests/${s.requestId}/retrieve`);
    expect(back.body).toMatchObject({ opened: true, compartment: 1 });
    takeAndClose(w, 1);
    await untilState(w, s.requestId, 'materials_retrieved');
    await step(w.staff, s.requestId, 'accept');
    await step(w.staff, s.requestId, 'ready');
    const no = await load(w, s.requestId);
    expect(no, 'the drop-off compartment is free again').toBe(1);
    await w.deliver();
    pickupMessage(w, s.number, p);

    expect(await scan(w, s.residentToken)).toMatchObject({ ok: true, code: 'OPENED', compartments: [no] });
    takeAndClose(w, no);
    await untilState(w, s.requestId, 'collected');
    expect(await compartment(w, no)).toMatchObject({ state: 'free', contents: null });
    expect(w.h.cabinet.unlockCount(1)).toBe(4); // drop-off, retrieval, load, pickup

    expect(await trail(w, s.requestId, [1])).toEqual([
      'request.created',
      'request.request_materials',
      'credential.issued',
      'compartment.reserved',
      'request.start_deposit',
      'unlock.intended',
      'unlock.sent',
      'unlock.acked',
      'door.open',
      'door.closed',
      'request.deposit',
      'credential.revoked',
      'unlock.intended',
      'unlock.sent',
      'unlock.acked',
      'door.open',
      'door.closed',
      'request.retrieve_materials',
      'request.accept',
      'request.mark_ready',
      'compartment.reserved',
      'request.start_load',
      'unlock.intended',
      'unlock.sent',
      'unlock.acked',
      'door.open',
      'door.closed',
      'request.load_done',
      'credential.issued',
      'notification.sent',
      'notification.sent',
      'unlock.intended',
      'unlock.sent',
      'unlock.acked',
      'door.open',
      'door.closed',
      'request.collect',
      'credential.revoked',
    ]);
    expect(sms(w, s.number).map((m) => m.kind)).toEqual(['materials_received', 'ready_with_code']);
  });

  it('5. overdue: reminder sent, the code still opens until staff retrieve; then item_retrieved and the code is INVALID', async () => {
    const clock = new FakeClock(Date.now());
    const w = await world({ clock });
    const p = person(1);
    const q = person(2);
    const s = await submitReady(w, p);
    const t = await submitReady(w, q);
    const no = await load(w, s.requestId);
    const noT = await load(w, t.requestId);
    await w.deliver();
    const { code, qrToken } = pickupMessage(w, s.number, p);
    const codeT = pickupMessage(w, t.number, q).code;

    expect(w.h.flows.markOverdue(), 'not overdue yet').toBe(0);
    clock.advance((w.h.deps.config.overdueDays + 1) * 86_400_000);
    expect(w.h.flows.markOverdue()).toBe(2);
    // staff sessions ended while the clock moved: sign in again
    const signIn = await w.h.api.post<{ token: string }>('/api/staff/login', { body: { login: w.staff.login, pin: TEST_PIN } });
    expect(signIn.status).toBe(200);
    w.staff.api = w.h.api.as(signIn.body.token);

    for (const r of [s, t]) expect((await detail(w, r.requestId)).state).toBe('overdue');
    await w.deliver();
    for (const r of [s, t]) {
      const reminder = sms(w, r.number).filter((m) => m.kind === 'overdue_reminder');
      expect(reminder).toHaveLength(1);
      expect(reminder[0]!.text).toContain('取件码仍然有效');
    }

    // still valid while overdue: the status page offers the same pickup QR, and a typed code opens its door
    const page = await statusPage(w, s.statusToken);
    expect(page).toMatchObject({ state: 'overdue', compartmentNo: no });
    await expectQrOf(w, page.pickupQrUrl!, qrToken);
    expect(await compartment(w, no)).toMatchObject({ state: 'occupied', contents: { requestState: 'overdue' } });
    expect(await typeCode(w, codeT, last4(q))).toMatchObject({ ok: true, code: 'OPENED', compartments: [noT] });
    takeAndClose(w, noT);
    await untilState(w, t.requestId, 'collected');

    const back = await w.staff.api.post<DoorAnswer>(`/api/staff/requests/${s.requestId}/retrieve`);
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ opened: true, compartment: no, code: 'OPENED' });
    takeAndClose(w, no);
    await untilState(w, s.requestId, 'retrieved');
    for (const n of [no, noT]) expect(await compartment(w, n)).toMatchObject({ state: 'free', contents: null });
    await w.deliver();

    expect(w.h.cabinet.unlockCount(no)).toBe(2); // load, retrieval
    expect(await typeCode(w, code, last4(p))).toMatchObject({ ok: false, code: 'INVALID', compartments: [] });
    expect(await scan(w, qrToken)).toMatchObject({ ok: false, code: 'USED', compartments: [] });
    expect(w.h.cabinet.unlockCount(no)).toBe(2);
    expect((await statusPage(w, s.statusToken)).pickupQrUrl).toBeNull();

    expect(await trail(w, s.requestId, [no])).toEqual([
      ...LOAD_TRAIL,
      'notification.sent',
      'request.mark_overdue',
      'notification.sent',
      'unlock.intended',
      'unlock.sent',
      'unlock.acked',
      'door.open',
      'door.closed',
      'request.retrieve',
      'credential.revoked',
      'notification.sent',
      'credential.verify_failed', // the scanned QR after retrieval
    ]);
    expect(await trail(w, t.requestId, [noT])).toEqual([
      ...LOAD_TRAIL,
      'notification.sent',
      'request.mark_overdue',
      'notification.sent',
      'credential.verified',
      'unlock.intended',
      'unlock.sent',
      'unlock.acked',
      'door.open',
      'door.closed',
      'request.collect',
      'credential.revoked',
    ]);
    expect((await staffNotifications(w, s.requestId)).map((n) => [n.kind, n.status, n.mobileMasked])).toEqual([
      ['ready_with_code', 'sent', masked(p)],
      ['overdue_reminder', 'sent', masked(p)],
      ['item_retrieved', 'sent', masked(p)],
    ]);
    expect(sms(w, s.number).map((m) => m.kind)).toEqual(['ready_with_code', 'overdue_reminder', 'item_retrieved']);
    expect(
      sms(w, t.number).map((m) => m.kind),
      'a collected document is not reported retrieved',
    ).toEqual(['ready_with_code', 'overdue_reminder']);
  });

  it('6. doors that will not open: each becomes a fault with an alarm, the load answers NOT_OPENED and the request stays ready; the next load takes another', {
    timeout: 40_000,
  }, async () => {
    const w = await world();
    const s = await submitReady(w, person(1));
    // A load falls through to the next free compartment once (at most two per load): jam both it would try.
    // Each jammed door costs two DOOR_OPEN_TIMEOUT_MS waits (5 s by default; startTestApp has no override): ~20 s.
    w.h.cabinet.setJammed(1, true);
    w.h.cabinet.setJammed(2, true);

    const r = await w.staff.api.post<DoorAnswer>(`/api/staff/requests/${s.requestId}/load`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ opened: false, compartment: 2, code: 'NOT_OPENED' });
    expect(r.body).toMatchObject({ key: 'door.load_not_opened', params: { doors: [1, 2] } });
    expect(r.body.message).toBe('1、2 号柜门没有打开，已标记故障。请联系维修。');
    for (const n of [1, 2]) {
      expect(w.h.cabinet.compartment(n).doorOpen).toBe(false);
      expect(w.h.cabinet.unlockCount(n), `door ${n}: one unlock and one retry`).toBe(2);
    }

    expect((await detail(w, s.requestId)).state).toBe('ready');
    for (const n of [1, 2]) {
      const c = await compartment(w, n);
      expect(c).toMatchObject({ state: 'fault', contents: null });
      expect(c).toMatchObject({ faultKey: 'fault.door_not_opened', faultReason: '开锁后柜门没有打开' });
    }
    expect(
      (await alarms(w))
        .filter((a) => a.kind === 'door_not_opened')
        .map((a) => a.compartment)
        .sort(),
    ).toEqual([1, 2]); // newest first

    const no = await load(w, s.requestId);
    expect(no).toBe(3);
    expect(await compartment(w, 3)).toMatchObject({ state: 'occupied', contents: { requestId: s.requestId } });
    for (const n of [1, 2]) {
      expect((await compartment(w, n)).state).toBe('fault');
      expect(w.h.cabinet.unlockCount(n)).toBe(2);
    }

    const refused = [
      'unlock.intended',
      'unlock.sent',
      'unlock.acked',
      'unlock.intended',
      'unlock.sent',
      'unlock.acked',
      'compartment.reserved', // back from "opening" to what it was, then given up
      'request.load_aborted',
      'compartment.fault',
    ];
    expect(await trail(w, s.requestId, [1, 2, 3])).toEqual([
      'request.created',
      'request.accept',
      'request.mark_ready',
      'compartment.reserved',
      'request.start_load',
      ...refused,
      'compartment.reserved',
      'request.start_load',
      ...refused,
      'compartment.reserved',
      'request.start_load',
      'unlock.intended',
      'unlock.sent',
      'unlock.acked',
      'door.open',
      'door.closed',
      'request.load_done',
      'credential.issued',
    ]);
  });

  it('7. a full cabinet answers CABINET_FULL in plain words, not an error, and changes nothing', async () => {
    const w = await world();
    const p = person(1);
    const loaded = await submitReady(w, p);
    expect(await load(w, loaded.requestId)).toBe(1);
    for (let no = 2; no <= 24; no++) {
      const r = await w.admin.api.post<{ no: number; state: string }>(`/api/staff/compartments/${no}/disable`, { body: { reason: '柜门维修' } });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ no, state: 'disabled' });
    }
    const info = await w.kiosk.get<{ freeCompartments: number }>('/api/kiosk/info');
    expect(info.body.freeCompartments).toBe(0);

    const s = await submitReady(w, person(2));
    const unlocksBefore = (await unlockRows(w)).length;
    // the words come in the language the console asks for
    const r = await w.staff.api.post<DoorAnswer>(`/api/staff/requests/${s.requestId}/load`, { headers: { 'Accept-Language': 'en-GB,en;q=0.9' } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ opened: false, compartment: null, code: 'CABINET_FULL', key: 'door.cabinet_full' });
    expect(r.body).not.toHaveProperty('params');
    expect(r.body.message).toMatch(/^The cabinet is full/);
    expect((await detail(w, s.requestId)).state).toBe('ready');

    // a drop-off at a full cabinet: the kiosk says so, the request keeps waiting for materials
    const d = await submit(w, p, 'family_relationship', loaded.residentToken);
    const dropOff = (await statusPage(w, d.statusToken)).dropOffQrUrl;
    expect(dropOff).not.toBeNull();
    const issued = (await detail(w, d.requestId)).audit.find((e) => e.action === 'credential.issued')!;
    const token = makeRequestQrToken(w.h.store.keys, {
      requestId: d.requestId,
      credentialId: issued.detail.credentialId as number,
      purpose: 'deposit',
    });
    await expectQrOf(w, dropOff!, token);
    const k = await scan(w, token);
    expect(k).toMatchObject({ ok: false, code: 'CABINET_FULL', compartments: [] });
    expect(k).toMatchObject({ key: 'door.kiosk_cabinet_full', message: '柜子已满，请联系工作人员。' });
    expect((await detail(w, d.requestId)).state).toBe('awaiting_materials');

    expect((await unlockRows(w)).length, 'no unlock was even intended').toBe(unlocksBefore);
    const comps = await compartments(w);
    expect(comps.filter((c) => c.state !== 'disabled').map((c) => [c.no, c.state])).toEqual([[1, 'occupied']]);
    expect((await detail(w, s.requestId)).audit.some((e) => e.action === 'compartment.reserved' || e.action.startsWith('unlock.'))).toBe(false);
  });

  it('8. bad input through the door routes is refused in the one error shape, and nothing opens', async () => {
    const w = await world();
    const p = person(1);
    const loadedReq = await submitReady(w, p);
    const no = await load(w, loadedReq.requestId);
    const notReady = await submit(w, person(2));
    await step(w.staff, notReady.requestId, 'accept'); // accepted, not ready
    const unlocksBefore = (await unlockRows(w)).length;
    const countsBefore = Array.from({ length: 24 }, (_, i) => w.h.cabinet.unlockCount(i + 1));
    const compsBefore = await compartments(w);

    const seven = await w.kiosk.post('/api/kiosk/pickup', { body: { code: '1234567', phoneLast4: last4(p) } });
    expect(seven.status).toBe(400);
    expect(errorBodySchema.parse(seven.body).error.field).toBe('code');

    const empty = await w.kiosk.post('/api/kiosk/scan', { body: { text: '' } });
    expect(empty.status).toBe(400);
    expect(errorBodySchema.parse(empty.body).error.field).toBe('text');

    // The door routes declare no 409 (nor 404, 503), so the schema-checking client refuses this answer as
    // undocumented — a gap in the route declarations, not in the behaviour. Status and shape are checked directly.
    const res = await fetch(`${w.h.url}/api/staff/requests/${notReady.requestId}/load`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${w.staff.token}` },
    });
    expect(res.status).toBe(409);
    const conflict = errorBodySchema.parse(await res.json());
    expect(conflict.error.code).toBe('TRANSITION_NOT_ALLOWED');
    expect(conflict.error).toMatchObject({ key: 'door.load_not_ready', params: { number: notReady.number } });
    expect(conflict.error.message).toBe(`申请 ${notReady.number} 还没有准备好，不能装柜。`);

    const force = await w.staff.api.post(`/api/staff/compartments/${no}/force-open`, { body: { reason: '查看柜内文件' } });
    expect(force.status).toBe(403);
    expect(errorBodySchema.safeParse(force.body).success).toBe(true);

    // a staff member (not an administrator) may not take back a document that is not overdue
    const early = await w.staff.api.post(`/api/staff/requests/${loadedReq.requestId}/retrieve`);
    expect(early.status).toBe(403);
    expect(errorBodySchema.parse(early.body).error.code).toBe('ACTOR_NOT_ALLOWED');

    expect((await unlockRows(w)).length, 'no unlock.* rows').toBe(unlocksBefore);
    expect(Array.from({ length: 24 }, (_, i) => w.h.cabinet.unlockCount(i + 1))).toEqual(countsBefore);
    expect(await compartments(w)).toEqual(compsBefore);
    expect((await detail(w, notReady.requestId)).state).toBe('accepted');
    expect((await detail(w, loadedReq.requestId)).state).toBe('loaded');
  });
});
