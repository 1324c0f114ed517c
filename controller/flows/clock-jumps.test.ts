/**
 * A wall clock that jumps (NTP correcting a clock that drifted, an RTC reset, staff setting the time) while doors are
 * being opened: deadlines and the per-minute cap are intervals, judged on the monotonic clock, so a jump either way
 * never drops an unlock that is in time nor keeps the cap closed longer than a minute. The store's clock (the wall
 * clock) and the monotonic clock are both the test's; the board is played by the test (board/test-support.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createDriver, waitFor } from '../../test/harness.js';
import { ScriptedBoard } from '../board/test-support.js';
import type { Command } from '../../firmware-protocol/index.js';
import { SYSTEM_ACTOR } from '../domain/types.js';
import { EventBus, type Alarm } from '../events.js';
import { silentLogger } from '../log.js';
import { applyLayout, getIntent, layoutGrid, listAudit, listDoorFacts } from '../store/index.js';
import { openTestStore } from '../store/test-support.js';
import { CabinetFlows } from './cabinet.js';
import { Doors } from './doors.js';
import { CONFIG } from './test-support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setUp(config: Partial<typeof CONFIG> = {}) {
  const board = new ScriptedBoard();
  // A healthy lock: the door springs open right after the pulse.
  board.script = (cmd, b) => (cmd.kind === 'unlock' ? [b.reply(cmd), b.doorEvent(cmd.channel, 'O')] : undefined);
  const store = openTestStore();
  cleanups.push(() => store.close());
  applyLayout(store.ctx, layoutGrid(1, 24), SYSTEM_ACTOR);
  const mono = { t: 10_000 };
  const driver = createDriver(board.endpoint, { responseTimeoutMs: 30_000, retries: 0, monotonicNow: () => mono.t });
  await driver.start();
  cleanups.push(() => driver.stop());
  await waitFor(() => driver.snapshot().compartments.every((c) => c.door === 'closed'), 'the first status');
  const doors = new Doors({
    store,
    driver,
    bus: new EventBus(),
    config: { ...CONFIG, doorOpenTimeoutMs: 3000, ...config },
    logger: silentLogger(),
    monotonicNow: () => mono.t,
  });
  return { board, store, driver, doors, mono };
}

const open = (doors: Doors, compartmentNo: number) =>
  doors.open({ compartmentNo, requestId: null, actor: SYSTEM_ACTOR, reason: 'staff_open', attempts: 1 });

describe('a wall clock that jumps while a door is opened', () => {
  it('set forward while the unlock waits for the bus: the unlock is still sent, and the door opens', async () => {
    const { board, store, driver, doors } = await setUp();
    let held: Command | null = null;
    const healthy = board.script;
    board.script = (cmd, b) => {
      if (cmd.kind !== 'led') return healthy(cmd, b);
      held = cmd;
      return [];
    };
    const led = driver.setLed(9, 'ON');
    await waitFor(() => held, 'the LED command on the bus');
    const opening = open(doors, 3);
    store.clock.advance(3_600_000); // NTP corrects a clock an hour slow
    board.send(board.reply(held!));
    await led;
    expect(await opening).toEqual({ opened: true });
    expect(board.commands.filter((c) => c.kind === 'unlock')).toHaveLength(1);
    expect(getIntent(store.ctx, 1)).toMatchObject({ status: 'acked' });
  });

  it('set forward while one unlock waits: another compartment opened meanwhile does not expire it', async () => {
    const { board, store, driver, doors } = await setUp();
    let held: Command | null = null;
    const healthy = board.script;
    board.script = (cmd, b) => {
      if (cmd.kind !== 'led') return healthy(cmd, b);
      held = cmd;
      return [];
    };
    const led = driver.setLed(9, 'ON');
    await waitFor(() => held, 'the LED command on the bus');
    const first = open(doors, 3);
    store.clock.advance(3_600_000);
    const second = open(doors, 4);
    board.send(board.reply(held!));
    await led;
    expect([await first, await second]).toEqual([{ opened: true }, { opened: true }]);
    expect(board.commands.filter((c) => c.kind === 'unlock').map((c) => (c.kind === 'unlock' ? c.channel : 0))).toEqual([3, 4]);
  });

  it('set back: the per-minute cap reopens a minute after the unlocks by the monotonic clock, not an hour later', async () => {
    const { board, store, doors, mono } = await setUp({ unlockMaxPerMinute: 2 });
    expect(await open(doors, 1)).toEqual({ opened: true });
    expect(await open(doors, 2)).toEqual({ opened: true });
    const capped = await open(doors, 3);
    expect(capped).toMatchObject({ opened: false, why: 'not_sent', error: { code: 'UNLOCK_RATE_LIMITED' } });
    // Staff set a clock that ran 50 s fast back by 50 s; 61 s pass.
    store.clock.advance(61_000 - 50_000);
    mono.t += 61_000;
    expect(await open(doors, 3)).toEqual({ opened: true });
    expect(board.commands.filter((c) => c.kind === 'unlock')).toHaveLength(3);
  });

  it('set back: the cap still holds for unlocks decided within the last minute by the monotonic clock', async () => {
    const { doors, store, mono } = await setUp({ unlockMaxPerMinute: 2 });
    expect(await open(doors, 1)).toEqual({ opened: true });
    expect(await open(doors, 2)).toEqual({ opened: true });
    store.clock.advance(-3_600_000); // an hour back: the two rows now look as if from the future
    mono.t += 1_000;
    expect(await open(doors, 3)).toMatchObject({ opened: false, error: { code: 'UNLOCK_RATE_LIMITED' } });
  });

  it('set forward: the cap still holds for unlocks decided within the last minute by the monotonic clock', async () => {
    const { doors, store, mono } = await setUp({ unlockMaxPerMinute: 2 });
    expect(await open(doors, 1)).toEqual({ opened: true });
    expect(await open(doors, 2)).toEqual({ opened: true });
    store.clock.advance(3_600_000);
    mono.t += 1_000;
    expect(await open(doors, 3)).toMatchObject({ opened: false, error: { code: 'UNLOCK_RATE_LIMITED' } });
  });
});

/** The door flows with their door-event handler, on the test's two clocks; the lock pulses, the door stays shut until the test opens it. */
async function setUpFlows(doorOpenTimeoutMs: number) {
  const board = new ScriptedBoard();
  const store = openTestStore();
  cleanups.push(() => store.close());
  applyLayout(store.ctx, layoutGrid(1, 24), SYSTEM_ACTOR);
  const mono = { t: 10_000 };
  const driver = createDriver(board.endpoint, { pollMs: 3_600_000, responseTimeoutMs: 30_000, retries: 0, monotonicNow: () => mono.t });
  const bus = new EventBus();
  const alarms: Alarm[] = [];
  bus.on('alarm', (a) => alarms.push(a));
  const flows = new CabinetFlows({
    store,
    driver,
    bus,
    config: { ...CONFIG, doorOpenTimeoutMs, tamperWindowMs: 10_000 },
    logger: silentLogger(),
    monotonicNow: () => mono.t,
  });
  await driver.start();
  cleanups.push(() => driver.stop());
  await waitFor(() => listDoorFacts(store.ctx, 24).length > 0, 'the first status recorded');
  flows.markReady();
  const opening = (no: number) => flows.doors.open({ compartmentNo: no, requestId: null, actor: SYSTEM_ACTOR, reason: 'staff_open', attempts: 1 });
  const opened = (no: number) => waitFor(() => listDoorFacts(store.ctx, no).find((f) => f.door === 'open'), `door ${no} recorded open`);
  const tampers = () => alarms.filter((a) => a.kind === 'tamper').map((a) => a.compartment);
  return { board, store, driver, flows, mono, opening, opened, tampers };
}

describe('a wall clock that jumps between an unlock and its door opening', () => {
  it('set forward by more than the window: the opening is still the unlock’s, no tamper alarm', async () => {
    const { board, store, mono, opening, opened, tampers } = await setUpFlows(5_000);
    const flow = opening(3);
    await waitFor(() => getIntent(store.ctx, 1)?.status === 'acked', 'the unlock acknowledged');
    store.clock.advance(3_600_000); // NTP corrects a clock an hour slow
    mono.t += 2_000; // the resident pulls the door two seconds after the pulse
    board.send(board.doorEvent(3, 'O'));
    expect(await flow).toEqual({ opened: true });
    expect(await opened(3)).toMatchObject({ intentId: 1, source: 'event' });
    expect(tampers()).toEqual([]);
    expect(listAudit(store.db, { compartmentNo: 3 }).map((a) => a.action)).not.toContain('door.opened_unexplained');
  });

  it('set back by an hour: the opening is still the unlock’s', async () => {
    const { board, store, mono, opening, opened, tampers } = await setUpFlows(5_000);
    const flow = opening(4);
    await waitFor(() => getIntent(store.ctx, 1)?.status === 'acked', 'the unlock acknowledged');
    store.clock.advance(-3_600_000);
    mono.t += 2_000;
    board.send(board.doorEvent(4, 'O'));
    expect(await flow).toEqual({ opened: true });
    expect(await opened(4)).toMatchObject({ intentId: 1 });
    expect(tampers()).toEqual([]);
  });

  it('set back by an hour: an opening long after the unlock (by the monotonic clock) is tamper all the same', async () => {
    const { board, store, mono, opening, opened, tampers } = await setUpFlows(50);
    expect(await opening(5)).toEqual({ opened: false, why: 'not_opened' }); // pulsed; nobody pulled the door
    mono.t += 30_000; // half a minute later, three times the window
    store.clock.advance(-3_600_000); // and the clock set back an hour meanwhile
    board.send(board.doorEvent(5, 'O'));
    expect(await opened(5)).toMatchObject({ intentId: null });
    await waitFor(() => tampers().length > 0, 'the tamper alarm');
    expect(tampers()).toEqual([5]);
  });

  it('set back by an hour before a poll finds a door whose DOOR event was lost: still the unlock’s', async () => {
    const { board, driver, store, mono, opening, opened, tampers } = await setUpFlows(50);
    expect(await opening(6)).toEqual({ opened: false, why: 'not_opened' });
    await driver.resyncAll(); // the board fully known now
    board.doorEvent(6, 'O'); // the resident pulls the door a moment later; the frame is lost on the wire
    mono.t += 30_000; // the next STATUS half a minute later
    store.clock.advance(-3_600_000);
    await driver.resyncAll();
    expect(await opened(6)).toMatchObject({ intentId: 1, source: 'poll' });
    expect(tampers()).toEqual([]);
  });
});
