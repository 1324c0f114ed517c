/**
 * The door flows against the simulated cabinet (in-process link, real firmware logic), with a real
 * SQLite store: each flow as the sequence a person goes through, and what the records say after.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/harness.js';
import { residentActor, staffActor } from '../domain/types.js';
import {
  activeCredentials,
  createRequest,
  getCompartment,
  issueDepositCode,
  listAudit,
  listNotifications,
  makeRequestQrToken,
  makeResidentQrToken,
  readNotificationSecret,
  requireRequest,
  transitionRequest,
} from '../store/index.js';
import { makeResident } from '../store/test-support.js';
import { say } from '../words/catalogue.js';
import { extractToken } from './cabinet.js';
import { readyRequest, world, type Cleanups, type World } from './test-support.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Staff loads a ready request: the door opens, the document goes in, the door closes. */
async function load(w: World, requestId: number): Promise<number> {
  const answer = await w.flows.load(w.staffId, requestId);
  expect(answer.opened).toBe(true);
  const no = answer.compartment!;
  w.sim.putItem(no);
  w.sim.closeDoor(no);
  expect(await answer.done).toBe('loaded');
  return no;
}

describe('load', () => {
  it('reserves, opens, and on close with the document inside issues a code and a notification', async () => {
    const w = await world(cleanups);
    const { requestId } = readyRequest(w);
    const no = await load(w, requestId);
    expect(requireRequest(w.store.ctx, requestId).state).toBe('loaded');
    expect(getCompartment(w.store.ctx, no)).toMatchObject({ state: 'occupied', contents: { requestId, direction: 'for_resident' }, door: 'closed' });
    expect(activeCredentials(w.store.ctx, requestId)).toHaveLength(1);
    expect(listNotifications(w.store.ctx, { requestId }).map((n) => n.kind)).toEqual(['ready_with_code']);
    const actions = listAudit(w.store.db, { requestId }).map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining(['compartment.reserved', 'request.start_load', 'unlock.intended', 'unlock.sent', 'unlock.acked', 'request.load_done']),
    );
    // "Unlock acknowledged" and "door opened" are separate facts: the door event is its own row.
    expect(listAudit(w.store.db, { compartmentNo: no }).map((a) => a.action)).toEqual(expect.arrayContaining(['door.open', 'door.closed']));
    expect(w.sim.unlockCount(no)).toBe(1);
  });

  it('goes back to ready and frees the compartment when the door closes with nothing inside', async () => {
    const w = await world(cleanups);
    const { requestId } = readyRequest(w);
    const answer = await w.flows.load(w.staffId, requestId);
    w.sim.closeDoor(answer.compartment!);
    expect(await answer.done).toBe('load_aborted');
    expect(requireRequest(w.store.ctx, requestId).state).toBe('ready');
    expect(getCompartment(w.store.ctx, answer.compartment!)!.state).toBe('free');
  });

  it('retries a door that does not open once, then marks it a fault and opens another compartment instead', async () => {
    const w = await world(cleanups);
    w.sim.setJammed(1, true);
    const { requestId } = readyRequest(w);
    const answer = await w.flows.load(w.staffId, requestId);
    expect(answer).toMatchObject({ opened: true, compartment: 2, code: 'OPENED' });
    expect(answer.said).toEqual({ key: 'door.load_opened_instead', params: { doors: [1], no: 2 } });
    expect(say(answer.said)).toContain('1 号柜门打不开，已标记故障，改用 2 号柜');
    expect(w.sim.unlockCount(1)).toBe(2);
    expect(getCompartment(w.store.ctx, 1)).toMatchObject({ state: 'fault', contents: null });
    expect(w.alarms.map((a) => a.kind)).toContain('door_not_opened');
    w.sim.putItem(2);
    w.sim.closeDoor(2);
    expect(await answer.done).toBe('loaded');
    expect(requireRequest(w.store.ctx, requestId)).toMatchObject({ state: 'loaded', compartmentNo: 2 });
  });

  it('gives up after two compartments that will not open, and the request stays ready', async () => {
    const w = await world(cleanups);
    w.sim.setJammed(1, true);
    w.sim.setJammed(2, true);
    const { requestId } = readyRequest(w);
    const answer = await w.flows.load(w.staffId, requestId);
    expect(answer).toMatchObject({ opened: false, code: 'NOT_OPENED' });
    expect(answer.said).toEqual({ key: 'door.load_not_opened', params: { doors: [1, 2] } });
    expect(say(answer.said)).toContain('1、2 号柜门没有打开');
    expect(say(answer.said, 'en')).toContain('Door 1, 2 did not open');
    expect(requireRequest(w.store.ctx, requestId).state).toBe('ready');
    expect([getCompartment(w.store.ctx, 1)!.state, getCompartment(w.store.ctx, 2)!.state]).toEqual(['fault', 'fault']);
  });

  it('answers plainly when the cabinet is full', async () => {
    const w = await world(cleanups);
    for (let n = 1; n <= 24; n++) w.flows.setDisabled(w.adminId, n, true, 'test: out of service');
    const { requestId } = readyRequest(w);
    const answer = await w.flows.load(w.staffId, requestId);
    expect(answer).toMatchObject({ opened: false, compartment: null, code: 'CABINET_FULL' });
    expect(answer.said).toEqual({ key: 'door.cabinet_full' });
    expect(requireRequest(w.store.ctx, requestId).state).toBe('ready');
  });
});

describe('pickup', () => {
  async function loadedWithCode(w: World) {
    const r = readyRequest(w);
    const no = await load(w, r.requestId);
    const code = issuedCode(w, r.requestId);
    return { ...r, no, code };
  }

  it('by code and phone digits: opens, and on close without the document the request is collected and the code dies', async () => {
    const w = await world(cleanups);
    const { requestId, no, code, resident } = await loadedWithCode(w);
    const answer = await w.flows.pickupByCode(code, resident.mobile.slice(-4), 'kiosk-1');
    expect(answer).toMatchObject({ ok: true, code: 'OPENED', compartments: [no] });
    w.sim.takeItem(no);
    w.sim.closeDoor(no);
    expect(await answer.done).toEqual(['collected']);
    expect(requireRequest(w.store.ctx, requestId).state).toBe('collected');
    expect(getCompartment(w.store.ctx, no)).toMatchObject({ state: 'free', contents: null });
    const again = await w.flows.pickupByCode(code, resident.mobile.slice(-4), 'kiosk-1');
    expect(again).toMatchObject({ ok: false, code: 'INVALID' });
    expect(w.sim.unlockCount(no)).toBe(2); // one for loading, one for the pickup: none for the second try
  });

  it('refuses wrong phone digits without opening anything', async () => {
    const w = await world(cleanups);
    const { no, code, resident } = await loadedWithCode(w);
    const wrong = resident.mobile.slice(-4) === '0000' ? '1111' : '0000';
    const answer = await w.flows.pickupByCode(code, wrong, 'kiosk-1');
    expect(answer).toMatchObject({ ok: false, code: 'INVALID', compartments: [] });
    expect(answer.said).toEqual({ key: 'door.kiosk_invalid' });
    expect(w.sim.unlockCount(no)).toBe(1);
  });

  it('says how many wrong tries are left before a wait, then how long the wait is', async () => {
    const w = await world(cleanups);
    const { code, resident } = await loadedWithCode(w);
    const wrong = resident.mobile.slice(-4) === '0000' ? '1111' : '0000';
    const first = await w.flows.pickupByCode(code, wrong, 'kiosk-1');
    const second = await w.flows.pickupByCode(code, wrong, 'kiosk-1');
    const third = await w.flows.pickupByCode(code, wrong, 'kiosk-1');
    expect([first.triesLeft, second.triesLeft]).toEqual([2, 1]);
    expect(third).toMatchObject({ ok: false, code: 'LOCKED' });
    expect(third.retryAfterMs).toBeGreaterThan(0);
    expect(third.triesLeft).toBeUndefined();
  });

  it('keeps the request waiting and alerts staff when the door closes with the document still inside', async () => {
    const w = await world(cleanups);
    const { requestId, no, code, resident } = await loadedWithCode(w);
    const answer = await w.flows.pickupByCode(code, resident.mobile.slice(-4), 'kiosk-1');
    w.sim.closeDoor(no);
    expect(await answer.done).toEqual(['item_not_taken']);
    expect(requireRequest(w.store.ctx, requestId).state).toBe('loaded');
    expect(getCompartment(w.store.ctx, no)!.state).toBe('occupied');
    expect(w.alarms.map((a) => a.kind)).toContain('item_not_taken');
    expect(activeCredentials(w.store.ctx, requestId)).toHaveLength(1);
    // the audit row notes it as a key of the word catalogue, for the screens to say in their language
    const closed = listAudit(w.store.db, { compartmentNo: no, action: 'compartment.occupied' }).at(-1);
    expect(closed?.detail).toMatchObject({ noteKey: 'note.closed_document_inside' });
    expect(closed?.detail).not.toHaveProperty('note');
  });

  it('tells the kiosk how each resident door ended: collected, still inside, deposited, nothing deposited', async () => {
    const w = await world(cleanups);
    const heard: { outcome: string; action?: string | null; compartments: number[]; said: unknown }[] = [];
    w.bus.on('scan', (e) => heard.push({ outcome: e.outcome, action: e.action ?? null, compartments: e.compartments, said: e.said }));
    const a = await loadedWithCode(w);
    const left = await w.flows.pickupByCode(a.code, a.resident.mobile.slice(-4), 'kiosk-1');
    w.sim.closeDoor(a.no);
    await left.done;
    const again = await w.flows.pickupByCode(a.code, a.resident.mobile.slice(-4), 'kiosk-1');
    w.sim.takeItem(a.no);
    w.sim.closeDoor(a.no);
    await again.done;
    const deposits: number[] = [];
    for (const put of [false, true]) {
      const resident = makeResident(w.store);
      const { request } = createRequest(w.store.ctx, { residentId: resident.id, serviceCode: 'residence_certificate' }, residentActor(resident.id));
      transitionRequest(w.store.ctx, { requestId: request.id, event: 'request_materials', actor: staffActor(w.staffId) });
      const { credentialId } = issueDepositCode(w.store.ctx, request.id, staffActor(w.staffId));
      const d = await w.flows.scan(makeRequestQrToken(w.store.keys, { requestId: request.id, credentialId, purpose: 'deposit' }), 'kiosk-1');
      const no = d.compartments[0]!;
      deposits.push(no);
      if (put) w.sim.putItem(no);
      w.sim.closeDoor(no);
      await d.done;
    }
    const closings = heard.filter((e) => !['OPENED'].includes(e.outcome));
    expect(closings).toEqual([
      { outcome: 'ITEM_NOT_TAKEN', action: 'pickup', compartments: [a.no], said: { key: 'door.closed_item_not_taken', params: { no: a.no } } },
      { outcome: 'COLLECTED', action: 'pickup', compartments: [a.no], said: { key: 'door.closed_collected', params: { no: a.no } } },
      {
        outcome: 'NOTHING_DEPOSITED',
        action: 'dropoff',
        compartments: [deposits[0]],
        said: { key: 'door.closed_nothing_deposited', params: { no: deposits[0] } },
      },
      { outcome: 'DEPOSITED', action: 'dropoff', compartments: [deposits[1]], said: { key: 'door.closed_deposited', params: { no: deposits[1] } } },
    ]);
  });

  it('by the request QR, and by a link carrying it', async () => {
    const w = await world(cleanups);
    const { requestId, no } = await loadedWithCode(w);
    const cred = activeCredentials(w.store.ctx, requestId)[0]!;
    const token = makeRequestQrToken(w.store.keys, { requestId, credentialId: cred.credentialId, purpose: 'pickup' });
    const answer = await w.flows.scan(`https://bb.example.cn/m/p?t=${token}`, 'kiosk-1');
    expect(answer).toMatchObject({ ok: true, compartments: [no] });
    w.sim.takeItem(no);
    w.sim.closeDoor(no);
    expect(await answer.done).toEqual(['collected']);
    const reused = await w.flows.scan(token, 'kiosk-1');
    expect(reused).toMatchObject({ ok: false, code: 'USED' });
  });

  it('by the resident QR: every waiting document of that resident opens, one after another', async () => {
    const w = await world(cleanups);
    const first = readyRequest(w);
    const second = readyRequest(w, first.resident);
    const other = readyRequest(w); // another resident's document must stay shut
    const a = await load(w, first.requestId);
    const b = await load(w, second.requestId);
    const c = await load(w, other.requestId);
    const answer = await w.flows.scan(makeResidentQrToken(w.store.keys, first.resident.qrId, w.store.ctx.now()), 'kiosk-1');
    expect(answer).toMatchObject({ ok: true, compartments: [a, b] });
    for (const no of [a, b]) {
      w.sim.takeItem(no);
      w.sim.closeDoor(no);
    }
    expect(await answer.done).toEqual(['collected', 'collected']);
    expect(w.sim.unlockCount(c)).toBe(1);
    expect(requireRequest(w.store.ctx, other.requestId).state).toBe('loaded');
  });

  it('says so when a scan is not one of ours', async () => {
    const w = await world(cleanups);
    expect(await w.flows.scan('hello world', 'kiosk-1')).toMatchObject({ ok: false, code: 'UNKNOWN_SCAN' });
    expect(await w.flows.scan('A'.repeat(40), 'kiosk-1')).toMatchObject({ ok: false, code: 'INVALID' });
    expect(w.sim.getCounters().unlocksExecuted[1]).toBe(0);
  });
});

describe('drop-off and retrieval', () => {
  it('materials: deposited by QR, retrieved by staff, then the request can be accepted', async () => {
    const w = await world(cleanups);
    const resident = makeResident(w.store);
    const { request } = createRequest(w.store.ctx, { residentId: resident.id, serviceCode: 'residence_certificate' }, residentActor(resident.id));
    transitionRequest(w.store.ctx, { requestId: request.id, event: 'request_materials', actor: staffActor(w.staffId) });
    const { credentialId } = issueDepositCode(w.store.ctx, request.id, staffActor(w.staffId));
    const token = makeRequestQrToken(w.store.keys, { requestId: request.id, credentialId, purpose: 'deposit' });
    const answer = await w.flows.scan(token, 'kiosk-1');
    expect(answer.ok).toBe(true);
    const no = answer.compartments[0]!;
    w.sim.putItem(no);
    w.sim.closeDoor(no);
    expect(await answer.done).toEqual(['deposited']);
    expect(requireRequest(w.store.ctx, request.id).state).toBe('materials_deposited');
    expect(getCompartment(w.store.ctx, no)).toMatchObject({ state: 'occupied', contents: { direction: 'for_staff' } });

    const back = await w.flows.retrieve(w.staffId, request.id);
    expect(back.opened).toBe(true);
    w.sim.takeItem(no);
    w.sim.closeDoor(no);
    expect(await back.done).toBe('materials_retrieved');
    transitionRequest(w.store.ctx, { requestId: request.id, event: 'accept', actor: staffActor(w.staffId) });
    expect(requireRequest(w.store.ctx, request.id).state).toBe('accepted');
    expect(listNotifications(w.store.ctx, { requestId: request.id }).map((n) => n.kind)).toContain('materials_received');
  });

  it('an overdue document stays collectable and is retrieved by staff, and the resident is told', async () => {
    const w = await world(cleanups);
    const { requestId } = readyRequest(w);
    const no = await load(w, requestId);
    w.store.db.prepare('UPDATE requests SET loaded_at = loaded_at - ? WHERE id = ?').run(8 * 86_400_000, requestId);
    expect(w.flows.markOverdue()).toBe(1);
    expect(requireRequest(w.store.ctx, requestId).state).toBe('overdue');
    expect(activeCredentials(w.store.ctx, requestId)).toHaveLength(1);
    const back = await w.flows.retrieve(w.staffId, requestId);
    w.sim.takeItem(no);
    w.sim.closeDoor(no);
    expect(await back.done).toBe('retrieved');
    expect(activeCredentials(w.store.ctx, requestId)).toHaveLength(0);
    expect(listNotifications(w.store.ctx, { requestId }).map((n) => n.kind)).toEqual(['ready_with_code', 'overdue_reminder', 'item_retrieved']);
  });

  it('a staff member (not admin) may not retrieve a document before it is overdue', async () => {
    const w = await world(cleanups);
    const { requestId } = readyRequest(w);
    await load(w, requestId);
    await expect(w.flows.retrieve(w.staffId, requestId)).rejects.toMatchObject({ code: 'ACTOR_NOT_ALLOWED' });
  });
});

describe('force-open and tamper', () => {
  it('an admin force-opens with a reason that is kept; staff cannot', async () => {
    const w = await world(cleanups);
    await expect(w.flows.forceOpen(w.staffId, 5, 'check the lock')).rejects.toMatchObject({ code: 'ACTOR_NOT_ALLOWED' });
    const answer = await w.flows.forceOpen(w.adminId, 5, 'check the lock');
    expect(answer.opened).toBe(true);
    w.sim.closeDoor(5);
    expect(await answer.done).toBe('closed');
    expect(getCompartment(w.store.ctx, 5)!.state).toBe('free');
    const audit = listAudit(w.store.db, { compartmentNo: 5, action: 'compartment.force_open' });
    expect(audit[0]?.detail).toEqual({ reason: 'check the lock' });
  });

  it('raises a tamper alarm and records an unexplained opening', async () => {
    const w = await world(cleanups);
    w.sim.openDoor(8);
    await waitFor(() => w.alarms.find((a) => a.kind === 'tamper'), 'the tamper alarm');
    expect(listAudit(w.store.db, { compartmentNo: 8 }).map((a) => a.action)).toContain('door.opened_unexplained');
  });
});

describe('a jammed lock never forgets what is inside', () => {
  async function loadedWithCode(w: World) {
    const r = readyRequest(w);
    const no = await load(w, r.requestId);
    return { ...r, no, code: issuedCode(w, r.requestId) };
  }

  it('retrieval: the compartment is a fault that still holds the document; the code, a second retrieval and enabling all still work', async () => {
    const w = await world(cleanups);
    const { requestId, no, code, resident } = await loadedWithCode(w);
    w.store.db.prepare('UPDATE requests SET loaded_at = loaded_at - ? WHERE id = ?').run(8 * 86_400_000, requestId);
    w.flows.markOverdue();
    w.sim.setJammed(no, true);
    const back = await w.flows.retrieve(w.staffId, requestId);
    expect(back).toMatchObject({ opened: false, code: 'NOT_OPENED' });
    expect(getCompartment(w.store.ctx, no)).toMatchObject({ state: 'fault', contents: { requestId, direction: 'for_resident' } });
    expect(requireRequest(w.store.ctx, requestId).state).toBe('overdue');
    const pulses = w.sim.unlockCount(no);
    // The resident is told the door is out of order (not "nothing waiting"), and no door is pulsed for it.
    const refused = await w.flows.pickupByCode(code, resident.mobile.slice(-4), 'kiosk-1');
    expect(refused).toMatchObject({ ok: false, code: 'OUT_OF_ORDER', compartments: [] });
    expect(refused.said).toEqual({ key: 'door.kiosk_out_of_order' });
    expect(w.sim.unlockCount(no)).toBe(pulses);
    // Staff may try again once the lock is fixed: a second retrieval opens it.
    w.sim.setJammed(no, false);
    const again = await w.flows.retrieve(w.staffId, requestId);
    expect(again).toMatchObject({ opened: true, compartment: no });
    w.sim.takeItem(no);
    w.sim.closeDoor(no);
    expect(await again.done).toBe('retrieved');
    expect(getCompartment(w.store.ctx, no)).toMatchObject({ state: 'free', contents: null });
  });

  it('retrieval, then enable: the compartment is occupied (never free with a document inside) and the resident collects', async () => {
    const w = await world(cleanups);
    const { requestId, no, code, resident } = await loadedWithCode(w);
    w.sim.setJammed(no, true);
    expect(await w.flows.retrieve(w.adminId, requestId)).toMatchObject({ opened: false, code: 'NOT_OPENED' });
    expect(() => w.flows.setDisabled(w.adminId, no, true, 'broken lock')).toThrow(expect.objectContaining({ code: 'COMPARTMENT_STATE' }));
    w.sim.setJammed(no, false);
    expect(w.flows.setDisabled(w.adminId, no, false, 'lock repaired')).toMatchObject({ no, state: 'occupied', contents: { requestId } });
    // A load now goes elsewhere: nothing is put on top of the document.
    const next = readyRequest(w);
    const other = await w.flows.load(w.staffId, next.requestId);
    expect(other.compartment).not.toBe(no);
    w.sim.closeDoor(other.compartment!);
    await other.done;
    const answer = await w.flows.pickupByCode(code, resident.mobile.slice(-4), 'kiosk-1');
    expect(answer).toMatchObject({ ok: true, compartments: [no] });
    w.sim.takeItem(no);
    w.sim.closeDoor(no);
    expect(await answer.done).toEqual(['collected']);
  });

  it('pickup: the document stays recorded in the fault compartment and is collected after the repair', async () => {
    const w = await world(cleanups);
    const { requestId, no, code, resident } = await loadedWithCode(w);
    w.sim.setJammed(no, true);
    expect(await w.flows.pickupByCode(code, resident.mobile.slice(-4), 'kiosk-1')).toMatchObject({ ok: false, code: 'NOT_OPENED' });
    expect(getCompartment(w.store.ctx, no)).toMatchObject({ state: 'fault', contents: { requestId } });
    expect(requireRequest(w.store.ctx, requestId).state).toBe('loaded');
    w.sim.setJammed(no, false);
    w.flows.setDisabled(w.adminId, no, false, 'lock repaired');
    const answer = await w.flows.pickupByCode(code, resident.mobile.slice(-4), 'kiosk-1');
    expect(answer).toMatchObject({ ok: true, compartments: [no] });
    w.sim.takeItem(no);
    w.sim.closeDoor(no);
    expect(await answer.done).toEqual(['collected']);
  });

  it('drop-off: the request waits for materials again with its code, the empty compartment is a fault', async () => {
    const w = await world(cleanups);
    const resident = makeResident(w.store);
    const { request } = createRequest(w.store.ctx, { residentId: resident.id, serviceCode: 'residence_certificate' }, residentActor(resident.id));
    transitionRequest(w.store.ctx, { requestId: request.id, event: 'request_materials', actor: staffActor(w.staffId) });
    const { credentialId } = issueDepositCode(w.store.ctx, request.id, staffActor(w.staffId));
    const token = makeRequestQrToken(w.store.keys, { requestId: request.id, credentialId, purpose: 'deposit' });
    w.sim.setJammed(1, true);
    expect(await w.flows.scan(token, 'kiosk-1')).toMatchObject({ ok: false, code: 'NOT_OPENED' });
    expect(requireRequest(w.store.ctx, request.id).state).toBe('awaiting_materials');
    expect(getCompartment(w.store.ctx, 1)).toMatchObject({ state: 'fault', contents: null });
    const answer = await w.flows.scan(token, 'kiosk-1');
    expect(answer).toMatchObject({ ok: true, compartments: [2] });
  });

  it('force-open: the compartment goes back to what it was, with its contents', async () => {
    const w = await world(cleanups);
    const { requestId, no } = await loadedWithCode(w);
    w.sim.setJammed(no, true);
    expect(await w.flows.forceOpen(w.adminId, no, 'check the lock')).toMatchObject({ opened: false, code: 'NOT_OPENED' });
    expect(getCompartment(w.store.ctx, no)).toMatchObject({ state: 'occupied', contents: { requestId } });
    expect(w.alarms.map((a) => a.kind)).toContain('door_not_opened');
  });
});

describe('a lost door event', () => {
  it('an opening whose event was lost, then a quick close, is not followed by a second unlock: the item sensor tells', async () => {
    const w = await world(cleanups);
    const r = readyRequest(w);
    const no = await load(w, r.requestId);
    const code = issuedCode(w, r.requestId);
    // Nothing from the board reaches the controller while the resident opens, takes and closes.
    w.sim.setFaults({ dropToController: 1 });
    const pending = w.flows.pickupByCode(code, r.resident.mobile.slice(-4), 'kiosk-1');
    await waitFor(() => w.sim.compartment(no).doorOpen, 'the door to spring open');
    w.sim.takeItem(no);
    w.sim.closeDoor(no);
    w.sim.setFaults({ dropToController: 0 });
    const answer = await pending;
    expect(w.sim.unlockCount(no)).toBe(2); // the load and this pickup: no pulse with nobody at the door
    expect(answer).toMatchObject({ ok: true, compartments: [no] });
    expect(await answer.done).toEqual(['collected']);
    expect(requireRequest(w.store.ctx, r.requestId).state).toBe('collected');
  });
});

describe('a background flow that throws', () => {
  it('ends "failed" with a flow_failed alarm instead of an unhandled rejection', async () => {
    const w = await world(cleanups);
    const r = readyRequest(w);
    const answer = await w.flows.load(w.staffId, r.requestId);
    expect(answer.opened).toBe(true);
    w.store.db.close(); // every write from here on throws
    w.sim.putItem(answer.compartment!);
    w.sim.closeDoor(answer.compartment!);
    expect(await answer.done).toBe('failed');
    expect(w.alarms.map((a) => a.kind)).toContain('flow_failed');
  });
});

describe('extractToken', () => {
  it('takes a bare token or one carried in a link, and nothing else', () => {
    expect(extractToken('abcdefghijklmnop_-12')).toBe('abcdefghijklmnop_-12');
    expect(extractToken('https://x.cn/m/p?t=abcdefghijklmnopq')).toBe('abcdefghijklmnopq');
    expect(extractToken('short')).toBeNull();
    expect(extractToken('DROP TABLE requests;')).toBeNull();
    expect(extractToken('x'.repeat(600))).toBeNull();
  });
});

/** The pickup code lives only in the encrypted outbox until sent: read it the way the dispatcher does. */
function issuedCode(w: World, requestId: number): string {
  const n = listNotifications(w.store.ctx, { requestId }).find((x) => x.kind === 'ready_with_code')!;
  const secret = readNotificationSecret(w.store.ctx, n.id);
  if (!secret) throw new Error('no code in the outbox');
  return secret.code;
}
