/**
 * Which door openings are tamper: decided once, by the unlock policy configured from the settings
 * (LOCK_TAMPER_WINDOW_MS), and never from a frame-ordering or polling accident. The board is played by
 * the test; the store's clock and the driver's Date move together, so no test waits for real minutes.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDriver, waitFor } from '../../test/harness.js';
import { ScriptedBoard } from '../board/test-support.js';
import { staffActor, SYSTEM_ACTOR } from '../domain/types.js';
import { EventBus, type Alarm } from '../events.js';
import { silentLogger } from '../log.js';
import { applyLayout, claimIntentForSend, createUnlockIntent, layoutGrid, listAudit, localDateTime, markIntentAcked } from '../store/index.js';
import { FakeClock, openTestStore } from '../store/test-support.js';
import { CabinetFlows } from './cabinet.js';
import { reconcile } from './reconcile.js';
import { CONFIG } from './test-support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  while (cleanups.length) await cleanups.pop()!();
});

async function setUp(tamperWindowMs: number, { ready = true }: { ready?: boolean } = {}) {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.UTC(2026, 0, 5, 2, 0, 0));
  const clock = new FakeClock(Date.now());
  const store = openTestStore({ clock });
  cleanups.push(() => store.close());
  applyLayout(store.ctx, layoutGrid(1, 24), SYSTEM_ACTOR);
  const board = new ScriptedBoard();
  const mono = { t: 10_000 };
  const driver = createDriver(board.endpoint, { pollMs: 60_000, responseTimeoutMs: 100, monotonicNow: () => mono.t });
  const bus = new EventBus();
  const alarms: Alarm[] = [];
  bus.on('alarm', (a) => alarms.push(a));
  const flows = new CabinetFlows({
    store,
    driver,
    bus,
    config: { ...CONFIG, tamperWindowMs },
    logger: silentLogger(),
    monotonicNow: () => mono.t,
  });
  await driver.start();
  cleanups.push(() => driver.stop());
  await waitFor(() => driver.snapshot().compartments.every((c) => c.door === 'closed'), 'the first status');
  if (ready) flows.markReady();
  /** Time passes: the store's clock, the driver's Date and the monotonic clock, together. */
  const advance = (ms: number) => {
    clock.advance(ms);
    vi.setSystemTime(Date.now() + ms);
    mono.t += ms;
  };
  /** An unlock of a compartment, sent and acknowledged as the door flow records it. */
  const unlocked = (no: number) => {
    const i = createUnlockIntent(store.ctx, { compartmentNo: no, actor: staffActor(1), reason: 'staff_open' });
    claimIntentForSend(store.ctx, i.id, 100 + no);
    markIntentAcked(store.ctx, i.id);
    return i;
  };
  return { board, driver, store, bus, flows, alarms, advance, unlocked };
}

const tampers = (alarms: Alarm[]) => alarms.filter((a) => a.kind === 'tamper').map((a) => a.compartment);

describe('LOCK_TAMPER_WINDOW_MS', () => {
  it('is the attribution window: a door opening 40 s after its unlock is explained by a 60 s window', async () => {
    const { board, store, alarms, advance, unlocked } = await setUp(60_000);
    unlocked(3);
    advance(40_000);
    board.send(board.doorEvent(3, 'O'));
    await waitFor(() => listAudit(store.db, { compartmentNo: 3 }).some((a) => a.action.startsWith('door.')), 'the door fact');
    expect(listAudit(store.db, { compartmentNo: 3 }).map((a) => a.action)).toContain('door.open');
    expect(tampers(alarms)).toEqual([]);
  });

  it('…and the same opening is tamper with a 10 s window', async () => {
    const { board, store, alarms, advance, unlocked } = await setUp(10_000);
    unlocked(3);
    advance(40_000);
    board.send(board.doorEvent(3, 'O'));
    await waitFor(() => tampers(alarms).length > 0, 'the tamper alarm');
    expect(tampers(alarms)).toEqual([3]);
    expect(alarms.find((a) => a.kind === 'tamper')).toMatchObject({
      key: 'alarm.tamper',
      params: { no: 3 },
      message: '格口 3 的门在没有开锁指令时被打开。',
    });
    expect(listAudit(store.db, { compartmentNo: 3 }).map((a) => a.action)).toContain('door.opened_unexplained');
  });
});

describe('no phantom tamper', () => {
  it('from an unlocked door whose DOOR event was lost and which the next poll, long after, finds open', async () => {
    const { board, driver, store, alarms, advance, unlocked } = await setUp(10_000);
    unlocked(4);
    board.doorEvent(4, 'O'); // the board sends it; the frame is lost on the wire
    advance(40_000); // the next STATUS poll comes much later than the window
    await driver.resyncAll();
    await waitFor(() => driver.snapshot().compartments[3]!.door === 'open', 'door 4 open, from STATUS');
    await waitFor(() => listAudit(store.db, { compartmentNo: 4 }).some((a) => a.action.startsWith('door.')), 'the door fact');
    expect(tampers(alarms)).toEqual([]);
    expect(listAudit(store.db, { compartmentNo: 4 }).map((a) => a.action)).toContain('door.open');
  });

  it('but a door nobody unlocked is still tamper when a poll finds it open', async () => {
    const { board, driver, alarms, advance } = await setUp(10_000);
    board.doorEvent(6, 'O'); // lost
    advance(40_000);
    await driver.resyncAll();
    await waitFor(() => tampers(alarms).length > 0, 'the tamper alarm');
    expect(tampers(alarms)).toEqual([6]);
  });

  it('from a STATUS reply and the DOOR event in one read: one opening, one alarm at most, no restart alarm', async () => {
    const { board, driver, alarms } = await setUp(10_000);
    let together = true;
    board.script = (cmd, b) => {
      if (cmd.kind !== 'status' || !together) return undefined;
      together = false;
      return [b.reply(cmd), b.doorEvent(7, 'O')];
    };
    await driver.resyncAll();
    await waitFor(() => driver.snapshot().compartments[6]!.door === 'open', 'door 7 open');
    await driver.resyncAll();
    await driver.resyncAll();
    expect(tampers(alarms)).toEqual([7]);
    expect(alarms.filter((a) => a.kind === 'board_rebooted')).toEqual([]);
  });
});

describe('the first reading after a start', () => {
  it('attributes a door found open to the unlock sent before the restart, however long the restart took', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.UTC(2026, 0, 5, 2, 0, 0));
    const clock = new FakeClock(Date.now());
    const store = openTestStore({ clock });
    cleanups.push(() => store.close());
    applyLayout(store.ctx, layoutGrid(1, 24), SYSTEM_ACTOR);
    // Before the restart: the unlock of compartment 9 went out; then the controller stopped.
    const i = createUnlockIntent(store.ctx, { compartmentNo: 9, actor: staffActor(1), reason: 'staff_open' });
    claimIntentForSend(store.ctx, i.id, 77);
    clock.advance(45_000); // the restart took 45 s, longer than the 10 s window
    vi.setSystemTime(Date.now() + 45_000);
    const board = new ScriptedBoard();
    board.doors[8] = 'O';
    const driver = createDriver(board.endpoint, { pollMs: 60_000, responseTimeoutMs: 100 });
    const bus = new EventBus();
    new CabinetFlows({ store, driver, bus, config: { ...CONFIG, tamperWindowMs: 10_000 }, logger: silentLogger() });
    await driver.start();
    cleanups.push(() => driver.stop());
    await waitFor(() => listAudit(store.db, { compartmentNo: 9 }).some((a) => a.action.startsWith('door.')), 'the door fact');
    expect(listAudit(store.db, { compartmentNo: 9 }).map((a) => a.action)).toContain('door.open');
    expect(listAudit(store.db, { compartmentNo: 9 }).map((a) => a.action)).not.toContain('door.opened_unexplained');
  });
});

describe('a door forced while the controller checks the cabinet at start-up', () => {
  it('is tamper all the same: raised once, whether the start-up check reads the door before or after it opened', async () => {
    const { board, driver, store, bus, flows, alarms } = await setUp(10_000, { ready: false });
    board.send(board.doorEvent(5, 'O'));
    await waitFor(() => listAudit(store.db, { compartmentNo: 5 }).some((a) => a.action.startsWith('door.')), 'the door fact');
    await reconcile(flows, { store, driver, bus, config: CONFIG, logger: silentLogger() });
    flows.markReady();
    expect(tampers(alarms)).toEqual([5]);
  });
});

describe('a door forced while the database cannot be written', () => {
  it('is tamper at once, and kept and written at its time, first, by the next change that can be written', async () => {
    const { board, driver, store, alarms, advance } = await setUp(10_000);
    const seen = store.clock.t;
    store.db.pragma('query_only = 1'); // read-only from here
    board.send(board.doorEvent(8, 'O'));
    await waitFor(() => driver.snapshot().compartments[7]!.door === 'open', 'door 8 open'); // handled as it was seen
    expect(listAudit(store.db, { compartmentNo: 8 }).filter((a) => a.detail.source === 'event')).toEqual([]);
    expect(alarms.filter((a) => a.kind === 'tamper')).toMatchObject([{ key: 'alarm.tamper', params: { no: 8 } }]);
    advance(5_000);
    store.db.pragma('query_only = 0');
    board.send(board.doorEvent(8, 'C'));
    await waitFor(
      () => listAudit(store.db, { compartmentNo: 8 }).some((a) => a.action === 'door.closed' && a.detail.source === 'event'),
      'the closing',
    );
    const rows = listAudit(store.db, { compartmentNo: 8 }).filter((a) => a.action.startsWith('door.') && a.detail.source === 'event');
    expect(rows.map((a) => [a.action, a.at, a.detail.late ?? false])).toEqual([
      ['door.opened_unexplained', seen, true],
      ['door.closed', seen + 5_000, false],
    ]);
    expect(tampers(alarms)).toEqual([8]); // once
  });

  it('forced again behind its own kept changes: tamper once they are written, with the time it happened', async () => {
    const { board, driver, store, alarms, advance } = await setUp(10_000);
    store.db.pragma('query_only = 1');
    board.send(board.doorEvent(9, 'O'));
    await waitFor(() => driver.snapshot().compartments[8]!.door === 'open', 'door 9 open');
    board.send(board.doorEvent(9, 'C'));
    await waitFor(() => driver.snapshot().compartments[8]!.door === 'closed', 'door 9 closed');
    advance(60_000);
    const again = store.clock.t;
    board.send(board.doorEvent(9, 'O'));
    await waitFor(() => driver.snapshot().compartments[8]!.door === 'open', 'door 9 open again');
    expect(alarms.filter((a) => a.kind === 'tamper').map((a) => a.key)).toEqual(['alarm.tamper']);
    store.db.pragma('query_only = 0');
    board.send(board.doorEvent(9, 'C'));
    await waitFor(() => tampers(alarms).length === 2, 'the second tamper alarm');
    expect(alarms.filter((a) => a.kind === 'tamper')[1]).toMatchObject({
      key: 'alarm.tamper_late',
      params: { no: 9, time: localDateTime(again, store.ctx.utcOffsetMinutes) },
    });
    expect(
      listAudit(store.db, { compartmentNo: 9 })
        .filter((a) => a.action === 'door.opened_unexplained')
        .map((a) => [a.at, a.detail.late]),
    ).toEqual([
      [again - 60_000, true],
      [again, true],
    ]);
  });
});

describe('door openings a board counted while the database cannot be written', () => {
  it('are tamper at once when nothing explains them, and kept and written late at their time', async () => {
    const { driver, store, alarms, advance, flows } = await setUp(10_000);
    const seen = store.clock.t;
    store.db.pragma('query_only = 1'); // read-only from here
    driver.emit('openings', { addr: 1, found: [{ compartment: 6, count: 1, ageMs: 2_000 }], baseline: null });
    expect(alarms.filter((a) => a.kind === 'tamper')).toMatchObject([{ params: { no: 6 } }]);
    expect(flows.lateDoorChanges).toEqual({ kept: 2, notKept: 0 });
    advance(5_000);
    store.db.pragma('query_only = 0');
    flows.writeLateDoorChanges();
    const rows = listAudit(store.db, { compartmentNo: 6 }).filter((a) => a.action.startsWith('door.') && a.detail.late);
    expect(rows.map((a) => [a.action, a.at, a.detail.late ?? false, a.detail.byCount ?? false])).toEqual([
      ['door.opened_unexplained', seen, true, true],
      ['door.closed', seen, true, true],
    ]);
    expect(tampers(alarms)).toEqual([6]); // once
  });

  it('explained by an unlock: no alarm, written late with it', async () => {
    const { driver, store, alarms, flows, unlocked } = await setUp(10_000);
    const intent = unlocked(7);
    store.db.pragma('query_only = 1');
    driver.emit('openings', { addr: 1, found: [{ compartment: 7, count: 1, ageMs: 2_000 }], baseline: null });
    store.db.pragma('query_only = 0');
    flows.writeLateDoorChanges();
    const rows = listAudit(store.db, { compartmentNo: 7 }).filter((a) => a.action.startsWith('door.') && a.detail.late);
    expect(rows.map((a) => [a.action, a.detail.intentId ?? null])).toEqual([
      ['door.open', intent.id],
      ['door.closed', null],
    ]);
    expect(tampers(alarms)).toEqual([]);
  });
});
