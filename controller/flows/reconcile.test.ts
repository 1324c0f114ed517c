/**
 * Start-up reconciliation against rows a crash can leave, with the simulated cabinet's sensors as they are.
 * The "restart" is a fresh CabinetFlows on the same store and board, as main.ts builds it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { kioskActor, residentActor, staffActor } from '../domain/types.js';
import { silentLogger } from '../log.js';
import {
  claimIntentForSend,
  createRequest,
  createUnlockIntent,
  getCompartment,
  issueDepositCode,
  listAudit,
  markIntentAcked,
  recordDoorFact,
  requireRequest,
  reserveCompartment,
  transitionCompartment,
  transitionRequest,
} from '../store/index.js';
import { makeResident } from '../store/test-support.js';
import { createDriver, waitFor } from '../../test/harness.js';
import { streamEndpoint } from '../transport/endpoints.js';
import { eventsFrom, REQUEST_STATES, TERMINAL_STATES, TRANSITIONS, type RequestEvent } from '../domain/request-states.js';
import { CabinetFlows } from './cabinet.js';
import { reconcile } from './reconcile.js';
import { CONFIG, readyRequest, world, type Cleanups, type World } from './test-support.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function restart(w: World): Promise<unknown> {
  const flows = new CabinetFlows({ store: w.store, driver: w.driver, bus: w.bus, config: CONFIG, logger: silentLogger() });
  return reconcile(flows, { store: w.store, driver: w.driver, bus: w.bus, config: CONFIG, logger: silentLogger() });
}

describe('reconciliation picks the intent of the operation that was cut off', () => {
  it('a drop-off cut off before its unlock does not take the finished pickup intent of the same compartment', async () => {
    const w = await world(cleanups);
    // Compartment 1 had a pickup for another request: intent acked, door opened and closed, the compartment freed.
    const first = readyRequest(w);
    const no = 1;
    const i = createUnlockIntent(w.store.ctx, { compartmentNo: no, requestId: first.requestId, actor: kioskActor('k'), reason: 'pickup' });
    claimIntentForSend(w.store.ctx, i.id, 900);
    markIntentAcked(w.store.ctx, i.id);
    recordDoorFact(w.store.ctx, { compartmentNo: no, door: 'open', source: 'event' });
    recordDoorFact(w.store.ctx, { compartmentNo: no, door: 'closed', source: 'event' });
    // Now a drop-off in the same compartment, cut off after "opening" and before any unlock of its own.
    const resident = makeResident(w.store);
    const { request } = createRequest(w.store.ctx, { residentId: resident.id, serviceCode: 'residence_certificate' }, residentActor(resident.id));
    transitionRequest(w.store.ctx, { requestId: request.id, event: 'request_materials', actor: staffActor(w.staffId) });
    issueDepositCode(w.store.ctx, request.id, staffActor(w.staffId));
    expect(reserveCompartment(w.store.ctx, { requestId: request.id, direction: 'for_staff', preferredNo: no }, kioskActor('k'))?.no).toBe(no);
    transitionRequest(w.store.ctx, { requestId: request.id, event: 'start_deposit', actor: kioskActor('k') });
    transitionCompartment(w.store.ctx, no, { to: 'opening', actor: kioskActor('k') });

    await restart(w);
    // The door never opened for the drop-off: it is undone, and the resident can drop off again.
    expect(requireRequest(w.store.ctx, request.id).state).toBe('awaiting_materials');
    expect(getCompartment(w.store.ctx, no)).toMatchObject({ state: 'free', contents: null });
    expect(w.sim.unlockCount(no)).toBe(0);
    // staff are told, in words of the catalogue: cut off before the door opened
    expect(w.alarms.filter((a) => a.kind === 'reconcile' && a.compartment === no).map((a) => [a.key, a.params])).toContainEqual([
      'alarm.startup_cut_off_unopened',
      { no },
    ]);
    // and the audit row notes the same words by their key
    expect(
      listAudit(w.store.db, { compartmentNo: no, action: 'reconcile.reconcile' }).map((a) => [a.detail.noteKey, a.detail.noteParams]),
    ).toContainEqual(['alarm.startup_cut_off_unopened', { no }]);
  });

  it('the first unlock of an operation is committed with "opening": a refused unlock leaves the compartment as it was', async () => {
    const w = await world(cleanups);
    const { requestId } = readyRequest(w);
    const c = reserveCompartment(w.store.ctx, { requestId, direction: 'for_resident' }, staffActor(w.staffId))!;
    // another unlock of this compartment is under way: refused before anything changes
    createUnlockIntent(w.store.ctx, { compartmentNo: c.no, requestId, actor: staffActor(w.staffId), reason: 'load' });
    const out = await w.flows.doors.open({ compartmentNo: c.no, requestId, actor: staffActor(w.staffId), reason: 'load' });
    expect(out).toMatchObject({ opened: false, why: 'not_sent', error: { code: 'UNLOCK_ALREADY_PENDING' } });
    expect(getCompartment(w.store.ctx, c.no)!.state).toBe('reserved');
  });
});

describe('every request state has a way out', () => {
  it('each non-final state has an event staff can cause, and cancel covers every state with nothing in a compartment', () => {
    for (const s of REQUEST_STATES) {
      if (TERMINAL_STATES.includes(s)) continue;
      const byStaff = eventsFrom(s).filter((e: RequestEvent) => (TRANSITIONS[e].actors as readonly string[]).includes('staff'));
      expect(byStaff.length, `staff can move a request out of ${s}`).toBeGreaterThan(0);
    }
    for (const s of ['submitted', 'awaiting_materials', 'depositing', 'accepted', 'ready', 'loading', 'materials_retrieved'] as const) {
      expect(eventsFrom(s), s).toContain('cancel');
    }
  });

  it('staff cancel a drop-off left "depositing" with no door open for it; the compartment is released', async () => {
    const w = await world(cleanups);
    const resident = makeResident(w.store);
    const { request } = createRequest(w.store.ctx, { residentId: resident.id, serviceCode: 'residence_certificate' }, residentActor(resident.id));
    transitionRequest(w.store.ctx, { requestId: request.id, event: 'request_materials', actor: staffActor(w.staffId) });
    const c = reserveCompartment(w.store.ctx, { requestId: request.id, direction: 'for_staff' }, kioskActor('k'))!;
    transitionRequest(w.store.ctx, { requestId: request.id, event: 'start_deposit', actor: kioskActor('k') });
    transitionRequest(w.store.ctx, { requestId: request.id, event: 'cancel', actor: staffActor(w.staffId), reason: 'stuck' });
    expect(requireRequest(w.store.ctx, request.id).state).toBe('cancelled');
    expect(getCompartment(w.store.ctx, c.no)).toMatchObject({ state: 'free', contents: null });
  });

  it('cancel is refused while a door is open for the request', async () => {
    const w = await world(cleanups);
    const { requestId } = readyRequest(w);
    const answer = await w.flows.load(w.staffId, requestId);
    expect(() => transitionRequest(w.store.ctx, { requestId, event: 'cancel', actor: staffActor(w.staffId) })).toThrow(
      expect.objectContaining({ code: 'COMPARTMENT_STATE' }),
    );
    w.sim.closeDoor(answer.compartment!);
    await answer.done;
  });
});

describe('an acknowledged unlock with no door opening recorded', () => {
  /** A document loaded the way staff do it; then a pickup whose unlock the board acknowledged and nobody pulled the door. */
  async function pickupNotPulled(w: World): Promise<{ no: number; requestId: number; intentId: number }> {
    const { requestId } = readyRequest(w);
    const answer = await w.flows.load(w.staffId, requestId);
    const no = answer.compartment!;
    w.sim.putItem(no);
    w.sim.closeDoor(no);
    expect(await answer.done).toBe('loaded');
    const i = createUnlockIntent(w.store.ctx, { compartmentNo: no, requestId, actor: kioskActor('k'), reason: 'pickup' });
    claimIntentForSend(w.store.ctx, i.id, 901);
    markIntentAcked(w.store.ctx, i.id);
    return { no, requestId, intentId: i.id };
  }

  it('is a door that stayed shut, not a fault: no alarm when the board agrees with the record (door shut, item inside)', async () => {
    const w = await world(cleanups);
    const { no, requestId, intentId } = await pickupNotPulled(w);
    w.alarms.length = 0;

    await restart(w);
    expect(w.alarms).toEqual([]);
    expect(getCompartment(w.store.ctx, no)).toMatchObject({ state: 'occupied', contents: { requestId } });
    expect(requireRequest(w.store.ctx, requestId).state).toBe('loaded');
    // still on the record, as a fact rather than an alarm
    const rows = listAudit(w.store.db, { requestId, limit: 100 }).filter((a) => a.action === 'reconcile.unlock_not_opened');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.detail).toMatchObject({ intentId });
  });

  it('raises an alarm when the facts disagree: the item is gone although no opening was recorded', async () => {
    const w = await world(cleanups);
    const { no, requestId } = await pickupNotPulled(w);
    // the door opened and shut again while nothing recorded it (the item is gone)
    w.sim.openDoor(no);
    w.sim.takeItem(no);
    w.sim.closeDoor(no);
    w.alarms.length = 0;
    const flows = new CabinetFlows({ store: w.store, driver: w.driver, bus: w.bus, config: CONFIG, logger: silentLogger() });
    await reconcile(flows, { store: w.store, driver: w.driver, bus: w.bus, config: CONFIG, logger: silentLogger() });
    expect(w.alarms.map((a) => a.kind)).toContain('item_missing');
    expect(w.alarms.every((a) => a.compartment === no)).toBe(true);
    expect(requireRequest(w.store.ctx, requestId).state).toBe('loaded');
  });
});

describe('an operation cut off after its unlock went out, the door shut again while the controller was stopped', () => {
  /** The controller stops (its driver with it): what the doors do now, no event of theirs reaches a record. */
  async function stopped(w: World): Promise<() => Promise<World>> {
    await w.driver.stop();
    return async () => {
      const driver = createDriver(streamEndpoint('in-process', () => w.sim.connectInProcess()));
      await driver.start();
      cleanups.push(() => driver.stop());
      w.alarms.length = 0;
      return { ...w, driver };
    };
  }
  const auditOf = (w: World, no: number) => listAudit(w.store.db, { compartmentNo: no, limit: 200 });
  const cutOffAlarms = (w: World, no: number) => w.alarms.filter((a) => a.kind === 'reconcile' && a.compartment === no).map((a) => a.key);

  it('says the door may have opened when its lock was released and nothing shows whether it did (protocol v1 cannot see it)', async () => {
    const w = await world(cleanups);
    const no = 5;
    const i = createUnlockIntent(w.store.ctx, {
      compartmentNo: no,
      requestId: null,
      actor: staffActor(w.adminId),
      reason: 'staff_open',
      openFrom: 'free',
    });
    claimIntentForSend(w.store.ctx, i.id, 901);
    markIntentAcked(w.store.ctx, i.id);
    const up = await stopped(w);
    // the lock pulsed, the door sprang open and a person shut it again: no record could see it
    w.sim.openDoor(no);
    w.sim.closeDoor(no);
    const after = await up();

    await restart(after);
    expect(getCompartment(w.store.ctx, no)).toMatchObject({ state: 'free', contents: null });
    const rows = auditOf(w, no).filter((a) => a.action === 'door.may_have_opened');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.detail).toMatchObject({ intentId: i.id });
    // staff are not told "cut off before the door opened": nobody knows that
    expect(cutOffAlarms(after, no)).toEqual(['alarm.startup_cut_off_may_have_opened']);
  });

  it('records the opening when the item sensor proves it: a load whose document went in while the controller was stopped', async () => {
    const w = await world(cleanups);
    const { requestId } = readyRequest(w);
    const staff = staffActor(w.staffId);
    const c = reserveCompartment(w.store.ctx, { requestId, direction: 'for_resident' }, staff)!;
    transitionRequest(w.store.ctx, { requestId, event: 'start_load', actor: staff });
    const i = createUnlockIntent(w.store.ctx, { compartmentNo: c.no, requestId, actor: staff, reason: 'load', openFrom: 'reserved' });
    claimIntentForSend(w.store.ctx, i.id, 902);
    markIntentAcked(w.store.ctx, i.id);
    const up = await stopped(w);
    w.sim.openDoor(c.no);
    w.sim.putItem(c.no);
    w.sim.closeDoor(c.no);
    const after = await up();

    await restart(after);
    expect(requireRequest(w.store.ctx, requestId).state).toBe('loaded');
    expect(getCompartment(w.store.ctx, c.no)).toMatchObject({ state: 'occupied', contents: { requestId } });
    const rows = auditOf(w, c.no).filter((a) => a.action === 'door.opened_unseen');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.detail).toMatchObject({ intentId: i.id, evidence: 'item' });
    expect(auditOf(w, c.no).map((a) => a.action)).not.toContain('door.may_have_opened');
  });

  it('records the opening the compartment says happened when no door fact of it was written (the database could not grow then)', async () => {
    const w = await world(cleanups);
    const no = 6;
    const i = createUnlockIntent(w.store.ctx, {
      compartmentNo: no,
      requestId: null,
      actor: staffActor(w.adminId),
      reason: 'staff_open',
      openFrom: 'free',
    });
    claimIntentForSend(w.store.ctx, i.id, 903);
    markIntentAcked(w.store.ctx, i.id);
    const up = await stopped(w);
    w.sim.openDoor(no);
    // the flow saw the door open and recorded "open"; the door fact of it was lost (SQLITE_FULL), then the door shut
    transitionCompartment(w.store.ctx, no, { to: 'open', actor: staffActor(w.adminId) });
    w.sim.closeDoor(no);
    const after = await up();

    await restart(after);
    expect(getCompartment(w.store.ctx, no)).toMatchObject({ state: 'free' });
    const rows = auditOf(w, no).filter((a) => a.action === 'door.opened_unseen');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.detail).toMatchObject({ intentId: i.id, evidence: 'compartment_open' });
  });

  it('does not take an opening recorded before the unlock for its own, though the wall clock was set back between them', async () => {
    const clock = { offset: 3_600_000 };
    const w = await world(cleanups, {}, { now: () => Date.now() + clock.offset });
    const admin = staffActor(w.adminId);
    const no = 4;
    // an earlier force-open, its opening recorded with the clock an hour ahead
    const a = createUnlockIntent(w.store.ctx, { compartmentNo: no, requestId: null, actor: admin, reason: 'staff_open', openFrom: 'free' });
    claimIntentForSend(w.store.ctx, a.id, 905);
    markIntentAcked(w.store.ctx, a.id);
    w.sim.openDoor(no);
    await waitFor(() => getCompartment(w.store.ctx, no)?.door === 'open', 'the opening recorded');
    transitionCompartment(w.store.ctx, no, { to: 'open', actor: admin });
    w.sim.closeDoor(no);
    await waitFor(() => getCompartment(w.store.ctx, no)?.door === 'closed', 'the closing recorded');
    transitionCompartment(w.store.ctx, no, { to: 'free', actor: admin });
    // the clock is set right; another force-open is cut off after its unlock was acknowledged, the door shut
    clock.offset = 0;
    const b = createUnlockIntent(w.store.ctx, { compartmentNo: no, requestId: null, actor: admin, reason: 'staff_open', openFrom: 'free' });
    claimIntentForSend(w.store.ctx, b.id, 906);
    markIntentAcked(w.store.ctx, b.id);
    const up = await stopped(w);
    const after = await up();

    await restart(after);
    const actions = auditOf(w, no).map((x) => x.action);
    expect(actions).not.toContain('door.opened_unseen');
    expect(
      auditOf(w, no)
        .filter((x) => x.action === 'door.may_have_opened')
        .map((x) => x.detail),
    ).toEqual([expect.objectContaining({ intentId: b.id })]);
    expect(cutOffAlarms(after, no)).toEqual(['alarm.startup_cut_off_may_have_opened']);
  });

  it('records nothing more when the opening was recorded as it happened, and nothing when no byte of the unlock went out', async () => {
    const w = await world(cleanups);
    // compartment 7: the door fact of the opening is there (recorded before the stop)
    const a = createUnlockIntent(w.store.ctx, {
      compartmentNo: 7,
      requestId: null,
      actor: staffActor(w.adminId),
      reason: 'staff_open',
      openFrom: 'free',
    });
    claimIntentForSend(w.store.ctx, a.id, 904);
    markIntentAcked(w.store.ctx, a.id);
    w.sim.openDoor(7);
    await waitFor(() => getCompartment(w.store.ctx, 7)?.door === 'open', 'the opening recorded');
    // compartment 8: the intent was written but never claimed for sending (no sequence number: nothing went out)
    createUnlockIntent(w.store.ctx, { compartmentNo: 8, requestId: null, actor: staffActor(w.adminId), reason: 'staff_open', openFrom: 'free' });
    const up = await stopped(w);
    w.sim.closeDoor(7);
    const after = await up();

    await restart(after);
    const actions = [...auditOf(w, 7), ...auditOf(w, 8)].map((x) => x.action);
    expect(actions).not.toContain('door.opened_unseen');
    expect(actions).not.toContain('door.may_have_opened');
    expect(cutOffAlarms(after, 8)).toContain('alarm.startup_cut_off_unopened');
    expect(cutOffAlarms(after, 8)).not.toContain('alarm.startup_cut_off_may_have_opened');
  });
});

describe('an acknowledged unlock whose door was never seen open, and the item sensor says it did open', () => {
  it('is recorded as an opening nobody saw, not as a door nobody pulled; staff are still told the item is missing', async () => {
    const w = await world(cleanups);
    const { requestId } = readyRequest(w);
    const answer = await w.flows.load(w.staffId, requestId);
    const no = answer.compartment!;
    w.sim.putItem(no);
    w.sim.closeDoor(no);
    expect(await answer.done).toBe('loaded');
    // a pickup whose unlock was acknowledged; its door's two events were lost and the flow gave up on it
    const i = createUnlockIntent(w.store.ctx, { compartmentNo: no, requestId, actor: kioskActor('k'), reason: 'pickup' });
    claimIntentForSend(w.store.ctx, i.id, 907);
    markIntentAcked(w.store.ctx, i.id);
    await w.driver.stop();
    w.sim.openDoor(no);
    w.sim.takeItem(no);
    w.sim.closeDoor(no);
    const driver = createDriver(streamEndpoint('in-process', () => w.sim.connectInProcess()));
    await driver.start();
    cleanups.push(() => driver.stop());
    w.alarms.length = 0;

    await restart({ ...w, driver });
    const actions = listAudit(w.store.db, { compartmentNo: no, limit: 200 });
    expect(actions.filter((a) => a.action === 'door.opened_unseen').map((a) => a.detail)).toEqual([
      expect.objectContaining({ intentId: i.id, evidence: 'item' }),
    ]);
    expect(actions.map((a) => a.action)).not.toContain('reconcile.unlock_not_opened');
    expect(w.alarms.map((a) => a.kind)).toContain('item_missing');
  });
});

describe('a door that moves while start-up reconciliation is under way', () => {
  it('is judged as it is when its turn comes, not as it was when reconciliation began: a door shut meanwhile is no new opening', async () => {
    const w = await world(cleanups);
    const admin = staffActor(w.adminId);
    // two force-opens cut off after their doors opened: door 1 shut since, door 2 still open
    for (const no of [1, 2]) {
      const i = createUnlockIntent(w.store.ctx, { compartmentNo: no, requestId: null, actor: admin, reason: 'staff_open', openFrom: 'free' });
      claimIntentForSend(w.store.ctx, i.id, 910 + no);
      markIntentAcked(w.store.ctx, i.id);
      w.sim.openDoor(no);
      await waitFor(() => getCompartment(w.store.ctx, no)?.door === 'open', `door ${no} recorded open`);
      transitionCompartment(w.store.ctx, no, { to: 'open', actor: admin });
    }
    w.sim.closeDoor(1);
    await waitFor(() => getCompartment(w.store.ctx, 1)?.door === 'closed', 'door 1 recorded closed');
    // while reconciliation finishes door 1 (it asks the board what is inside), a person shuts door 2
    const read = w.driver.readCompartment.bind(w.driver);
    let shut = false;
    w.driver.readCompartment = async (n: number) => {
      if (!shut) {
        shut = true;
        w.sim.closeDoor(2);
        await waitFor(() => getCompartment(w.store.ctx, 2)?.door === 'closed', 'door 2 recorded closed');
      }
      return read(n);
    };
    w.alarms.length = 0;

    await restart(w);
    expect(shut).toBe(true);
    expect(listAudit(w.store.db, { compartmentNo: 2, limit: 200 }).map((a) => a.action)).not.toContain('door.opened_unexplained');
    expect(w.alarms.filter((a) => a.kind === 'tamper')).toEqual([]);
    expect(getCompartment(w.store.ctx, 2)).toMatchObject({ state: 'free', door: 'closed' });
  });
});
