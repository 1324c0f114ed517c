/**
 * Door openings a version 2 lock board counted and no DOOR event reported (PROTOCOL.md §21.3): recorded as door facts
 * and audited, attributed to an unlock by the unlock policy like any opening found late, and tamper when none
 * explains them. The board is played by the test; the store's clock and the driver's Date move together.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ProtocolVersion } from '../../firmware-protocol/index.js';
import { createDriver, waitFor } from '../../test/harness.js';
import { ScriptedBoard } from '../board/test-support.js';
import { staffActor, SYSTEM_ACTOR } from '../domain/types.js';
import { EventBus, type Alarm } from '../events.js';
import { silentLogger } from '../log.js';
import {
  applyLayout,
  claimIntentForSend,
  createUnlockIntent,
  getCompartment,
  layoutGrid,
  listAudit,
  listDoorFacts,
  markIntentAcked,
} from '../store/index.js';
import { FakeClock, makeStaff, openTestStore } from '../store/test-support.js';
import { streamEndpoint } from '../transport/endpoints.js';
import { CabinetFlows } from './cabinet.js';
import { reconcile } from './reconcile.js';
import { CONFIG, world, type World } from './test-support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  while (cleanups.length) await cleanups.pop()!();
});

async function setUp(protocol: ProtocolVersion = 2, tamperWindowMs = 10_000) {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.UTC(2026, 0, 5, 2, 0, 0));
  const clock = new FakeClock(Date.now());
  const store = openTestStore({ clock });
  cleanups.push(() => store.close());
  applyLayout(store.ctx, layoutGrid(1, 24), SYSTEM_ACTOR);
  const board = new ScriptedBoard(1, 24, protocol);
  const driver = createDriver(board.endpoint, { pollMs: 60_000, responseTimeoutMs: 100 });
  const bus = new EventBus();
  const alarms: Alarm[] = [];
  bus.on('alarm', (a) => alarms.push(a));
  const flows = new CabinetFlows({ store, driver, bus, config: { ...CONFIG, tamperWindowMs }, logger: silentLogger() });
  await driver.start();
  cleanups.push(() => driver.stop());
  await waitFor(() => driver.snapshot().compartments.every((c) => c.door === 'closed'), 'the first status');
  await waitFor(() => getCompartment(store.ctx, 1)?.door === 'closed', 'the first door facts');
  flows.markReady();
  const advance = (ms: number) => {
    clock.advance(ms);
    vi.setSystemTime(Date.now() + ms);
  };
  const unlocked = (no: number) => {
    const i = createUnlockIntent(store.ctx, { compartmentNo: no, actor: staffActor(1), reason: 'staff_open' });
    claimIntentForSend(store.ctx, i.id, 100 + no);
    markIntentAcked(store.ctx, i.id);
    return i;
  };
  /** Door `ch` opened and shut, both DOOR events lost; then two polls, the second confirming what the first found. */
  const lostOpening = async (ch: number) => {
    board.doorEvent(ch, 'O');
    board.doorEvent(ch, 'C');
    await driver.resyncAll();
    await driver.resyncAll();
  };
  return { board, driver, store, alarms, advance, unlocked, lostOpening, flows };
}

const actions = (store: ReturnType<typeof openTestStore>, no: number) => listAudit(store.db, { compartmentNo: no }).map((a) => a.action);

describe('an opening found by the board’s count', () => {
  it('with no unlock to explain it: a door fact, an audit row and a tamper alarm', async () => {
    const { driver, store, alarms, lostOpening } = await setUp();
    await lostOpening(5);
    expect(actions(store, 5)).toContain('door.opened_by_count_unexplained');
    const tamper = alarms.filter((a) => a.kind === 'tamper');
    expect(tamper).toHaveLength(1);
    expect(tamper[0]).toMatchObject({ compartment: 5, key: 'alarm.tamper_hidden', params: { no: 5, count: 1 } });
    expect(driver.snapshot().counters.tampers).toBe(1);
    expect(listDoorFacts(store.ctx, 5, 2).map((f) => [f.door, f.intentId])).toEqual([
      ['closed', null],
      ['open', null],
    ]);
    expect(getCompartment(store.ctx, 5)?.door).toBe('closed');
  });

  it('after a recent unlock of ours: attributed to it, audited, no alarm; a second one is tamper', async () => {
    const { store, alarms, unlocked, lostOpening } = await setUp();
    const intent = unlocked(7);
    await lostOpening(7);
    const row = listAudit(store.db, { compartmentNo: 7, action: 'door.opened_by_count' });
    expect(row).toHaveLength(1);
    expect(row[0]!.detail).toMatchObject({ source: 'count', intentId: intent.id });
    expect(alarms.filter((a) => a.kind === 'tamper')).toEqual([]);
    // The unlock explained one opening; it does not explain another.
    await lostOpening(7);
    expect(actions(store, 7)).toContain('door.opened_by_count_unexplained');
    expect(alarms.filter((a) => a.kind === 'tamper').map((a) => a.compartment)).toEqual([7]);
  });

  it('after an unlock older than LOCK_TAMPER_WINDOW_MS: tamper', async () => {
    const { store, alarms, advance, unlocked, lostOpening } = await setUp(2, 10_000);
    unlocked(9);
    advance(40_000);
    await lostOpening(9);
    expect(actions(store, 9)).toContain('door.opened_by_count_unexplained');
    expect(alarms.filter((a) => a.kind === 'tamper').map((a) => a.compartment)).toEqual([9]);
  });

  it('of a door a flow is waiting for: the flow learns its door opened (not "did not open"), attributed to its unlock', async () => {
    const { store, alarms, lostOpening, flows } = await setUp();
    const admin = await makeStaff(store, 'admin');
    const answer = flows.forceOpen(admin, 6, 'check the lock');
    await waitFor(() => getCompartment(store.ctx, 6)?.state === 'opening', 'the unlock sent');
    await lostOpening(6);
    const a = await answer;
    expect(a).toMatchObject({ opened: true, code: 'OPENED' });
    expect(await a.done).toBe('closed');
    expect(getCompartment(store.ctx, 6)).toMatchObject({ state: 'free', door: 'closed' });
    expect(actions(store, 6)).toContain('door.opened_by_count');
    expect(actions(store, 6)).not.toContain('door.opened_by_count_unexplained');
    expect(alarms.filter((x) => x.kind === 'tamper' || x.kind === 'door_not_opened')).toEqual([]);
  });

  it('is never found from a version 1 board, which behaves as before', async () => {
    const { store, alarms, lostOpening } = await setUp(1);
    await lostOpening(5);
    expect(actions(store, 5).filter((a) => a.startsWith('door.opened'))).toEqual([]);
    expect(alarms.filter((a) => a.kind === 'tamper')).toEqual([]);
  });
});

describe('with the simulated cabinet speaking version 2', () => {
  it('a door forced and shut while every board frame is lost is found, audited and tamper', async () => {
    const w = await world(cleanups, { protocol: 2, springMs: 5 });
    w.sim.setFaults({ dropToController: 1 });
    w.sim.openDoor(12);
    w.sim.closeDoor(12);
    w.sim.setFaults({ dropToController: 0 });
    await w.driver.resyncAll();
    await w.driver.resyncAll();
    await waitFor(() => w.alarms.some((a) => a.kind === 'tamper'), 'the tamper alarm');
    expect(w.alarms.filter((a) => a.kind === 'tamper').map((a) => a.compartment)).toEqual([12]);
    expect(listAudit(w.store.db, { compartmentNo: 12 }).map((a) => a.action)).toContain('door.opened_by_count_unexplained');
    expect(w.sim.compartment(12).openings).toBe(1);
  });
});

describe('openings while the controller was stopped (a version 2 board’s counts kept across the restart)', () => {
  /** A few openings seen as they happen, so the board's event counter is past its first values. */
  async function used(w: World, no: number) {
    for (let k = 0; k < 3; k++) {
      w.sim.openDoor(no);
      w.sim.closeDoor(no);
    }
    await waitFor(() => listDoorFacts(w.store.ctx, no, 10).length >= 6, 'the openings on record');
    await w.driver.resyncAll();
  }

  /** The controller stops; `meanwhile` happens to the cabinet; a new driver and flows start on the same store, as main.ts builds them. */
  async function restartedAfter(w: World, meanwhile: () => Promise<void> | void): Promise<World> {
    await w.driver.stop();
    await meanwhile();
    const driver = createDriver(streamEndpoint('in-process', () => w.sim.connectInProcess()));
    const bus = new EventBus();
    const alarms: Alarm[] = [];
    bus.on('alarm', (a) => alarms.push(a));
    const flows = new CabinetFlows({ store: w.store, driver, bus, config: CONFIG, logger: silentLogger() });
    await driver.start();
    cleanups.push(() => driver.stop());
    await reconcile(flows, { store: w.store, driver, bus, config: CONFIG, logger: silentLogger() });
    return { ...w, driver, bus, alarms, flows };
  }

  const auditOf = (w: World, no: number) => listAudit(w.store.db, { compartmentNo: no, limit: 200 });

  it('a door opened and shut with no unlock: recorded as found by count at start-up, and tamper', async () => {
    const w = await world(cleanups, { protocol: 2, springMs: 5 });
    await used(w, 3);
    const after = await restartedAfter(w, () => {
      w.sim.openDoor(12);
      w.sim.closeDoor(12);
    });
    expect(auditOf(after, 12).map((a) => a.action)).toContain('door.opened_by_count_unexplained');
    expect(auditOf(after, 12).find((a) => a.action === 'door.opened_by_count_unexplained')?.detail).toMatchObject({ source: 'count', ageMs: null });
    expect(after.alarms.filter((a) => a.kind === 'tamper')).toMatchObject([
      { compartment: 12, key: 'alarm.tamper_hidden', params: { no: 12, count: 1 } },
    ]);
    expect(listDoorFacts(w.store.ctx, 12, 2).map((f) => f.door)).toEqual(['closed', 'open']);
    // door 3's openings were on record before the stop: none of them is found again
    expect(
      auditOf(after, 3)
        .map((a) => a.action)
        .filter((a) => a.startsWith('door.opened_by_count')),
    ).toEqual([]);
    expect(w.sim.compartment(12).openings).toBe(1);
  });

  it('nothing is found when no door moved, and an opening recorded just before the stop is not found again', async () => {
    const w = await world(cleanups, { protocol: 2, springMs: 5 });
    await used(w, 3);
    // seen as it happened after the last STATUS: on record after the kept baseline
    w.sim.openDoor(4);
    w.sim.closeDoor(4);
    await waitFor(() => listDoorFacts(w.store.ctx, 4, 10).length >= 2, 'the opening on record');
    const after = await restartedAfter(w, () => {});
    for (const no of [3, 4])
      expect(
        auditOf(after, no)
          .map((a) => a.action)
          .filter((a) => a.startsWith('door.opened_by_count')),
      ).toEqual([]);
    expect(after.alarms.filter((a) => a.kind === 'tamper')).toEqual([]);
  });

  it('after an unlock sent before the stop: the opening is attributed to it (write order), the cut-off flow finished, no tamper', async () => {
    const w = await world(cleanups, { protocol: 2, springMs: 5 });
    await used(w, 3);
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
    const after = await restartedAfter(w, () => {
      w.sim.openDoor(no);
      w.sim.closeDoor(no);
    });
    const rows = auditOf(after, no).filter((a) => a.action === 'door.opened_by_count');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.detail).toMatchObject({ intentId: i.id });
    const actions = auditOf(after, no).map((a) => a.action);
    expect(actions).not.toContain('door.opened_by_count_unexplained');
    expect(actions).not.toContain('door.may_have_opened');
    expect(after.alarms.filter((a) => a.kind === 'tamper')).toEqual([]);
    expect(after.alarms.filter((a) => a.kind === 'reconcile' && a.compartment === no).map((a) => a.key)).toEqual(['alarm.startup_cut_off_opened']);
    expect(getCompartment(w.store.ctx, no)).toMatchObject({ state: 'free', door: 'closed' });
  });

  /** A force-open of compartment `no` cut off after its unlock was committed as sent and acknowledged; the door never opened. */
  function cutOffUnlock(w: World, no: number) {
    const i = createUnlockIntent(w.store.ctx, {
      compartmentNo: no,
      requestId: null,
      actor: staffActor(w.adminId),
      reason: 'staff_open',
      openFrom: 'free',
    });
    claimIntentForSend(w.store.ctx, i.id, 950 + no);
    markIntentAcked(w.store.ctx, i.id);
    return i;
  }

  it('a cut-off unlock whose door the count shows unopened: recorded as not opened and put back, no "may have opened", no alarm', async () => {
    const w = await world(cleanups, { protocol: 2, springMs: 5 });
    await used(w, 3);
    const no = 5;
    const i = cutOffUnlock(w, no);
    const after = await restartedAfter(w, () => {});
    const actions = auditOf(after, no).map((a) => a.action);
    expect(actions).not.toContain('door.may_have_opened');
    expect(
      auditOf(after, no)
        .filter((a) => a.action === 'reconcile.unlock_not_opened')
        .map((a) => a.detail),
    ).toEqual([expect.objectContaining({ intentId: i.id, evidence: 'door_count' })]);
    expect(after.alarms.filter((a) => a.compartment === no)).toEqual([]);
    expect(getCompartment(w.store.ctx, no)).toMatchObject({ state: 'free', door: 'closed', contents: null });
  });

  it('a cut-off unlock on a board restarted meanwhile: its count tells nothing, the door may have opened (as before)', async () => {
    const w = await world(cleanups, { protocol: 2, springMs: 5 });
    w.sim.setEventCounter(1, 500);
    await used(w, 3);
    const no = 5;
    const i = cutOffUnlock(w, no);
    const after = await restartedAfter(w, () => {
      w.sim.reboot(1);
    });
    expect(
      auditOf(after, no)
        .filter((a) => a.action === 'door.may_have_opened')
        .map((a) => a.detail),
    ).toEqual([expect.objectContaining({ intentId: i.id })]);
    expect(after.alarms.filter((a) => a.kind === 'reconcile' && a.compartment === no).map((a) => a.key)).toEqual([
      'alarm.startup_cut_off_may_have_opened',
    ]);
    expect(getCompartment(w.store.ctx, no)).toMatchObject({ state: 'free', contents: null });
  });

  it('a board restarted meanwhile (its BOOT lost, its event counter behind the kept one): nothing is inferred', async () => {
    const w = await world(cleanups, { protocol: 2, springMs: 5 });
    w.sim.setEventCounter(1, 500);
    await used(w, 3);
    const after = await restartedAfter(w, () => {
      w.sim.reboot(1);
      // door 3 as often as before the stop, so no count went back: only the event counter tells the runs apart
      for (let k = 0; k < 3; k++) {
        w.sim.openDoor(3);
        w.sim.closeDoor(3);
      }
      w.sim.openDoor(12);
      w.sim.closeDoor(12);
    });
    await after.driver.resyncAll();
    await after.driver.resyncAll();
    expect(
      auditOf(after, 12)
        .map((a) => a.action)
        .filter((a) => a.startsWith('door.opened_by_count')),
    ).toEqual([]);
    expect(after.alarms.filter((a) => a.kind === 'tamper')).toEqual([]);
  });
});
