/**
 * The driver against a board played by the test (board/test-support.ts): frames that arrive together in
 * one read, frames that break a verb rule, and the order in which the bus is used.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDriver, waitFor } from '../../test/harness.js';
import type { BoardDriver, DriverOptions } from './driver.js';
import { ScriptedBoard } from './test-support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  while (cleanups.length) await cleanups.pop()!();
});

async function connected(
  overrides: Partial<DriverOptions> = {},
  board = new ScriptedBoard(),
): Promise<{ board: ScriptedBoard; driver: BoardDriver }> {
  const driver = createDriver(board.endpoint, { pollMs: 60_000, responseTimeoutMs: 100, ...overrides });
  await driver.start();
  cleanups.push(() => driver.stop());
  await waitFor(() => driver.snapshot().compartments.every((c) => c.door === 'closed'), 'the first status');
  return { board, driver };
}

function recordDoors(driver: BoardDriver): { compartment: number; open: boolean }[] {
  const seen: { compartment: number; open: boolean }[] = [];
  driver.on('door', (e) => seen.push({ compartment: e.compartment, open: e.open }));
  return seen;
}

describe('a STATUS reply and an event in the same read', () => {
  it('are handled in arrival order: no restart counted, no identity re-read, one door opening', async () => {
    const { board, driver } = await connected();
    const boots: string[] = [];
    driver.on('boot', (e) => boots.push(e.reason));
    const doors = recordDoors(driver);
    let together = true;
    // The board answers STATUS (counter 0, door 3 shut) and sends its queued DOOR 3 O (counter 1) right
    // behind the reply, as PROTOCOL.md §11.3 allows; a USB adapter hands both over in one chunk.
    board.script = (cmd, b) => {
      if (cmd.kind !== 'status' || !together) return undefined;
      together = false;
      return [b.reply(cmd), b.doorEvent(3, 'O')];
    };
    await driver.resyncAll();
    await waitFor(() => driver.snapshot().compartments[2]!.door === 'open', 'door 3 open');
    const identsBefore = board.commands.filter((c) => c.kind === 'ident').length;
    await driver.resyncAll(); // the next poll: counter 1, door 3 open
    await driver.resyncAll();
    expect(boots).toEqual([]);
    expect(driver.snapshot().counters.boots).toBe(0);
    expect(driver.snapshot().counters.lostEvents).toBe(0);
    expect(board.commands.filter((c) => c.kind === 'ident').length).toBe(identsBefore);
    expect(doors).toEqual([{ compartment: 3, open: true }]);
  });
});

describe('frames that break a verb rule', () => {
  it('drops and counts an event naming a channel the board does not have, before it touches any state', async () => {
    const { board, driver } = await connected();
    const boots: string[] = [];
    driver.on('boot', (e) => boots.push(e.reason));
    const doors = recordDoors(driver);
    const before = driver.snapshot();
    // DOOR 30 from a 24-channel board, with a counter far ahead: neither the counter nor any door may move.
    board.send({ kind: 'door', addr: 1, seq: 0x0500, channel: 30, level: 'O' });
    await waitFor(() => driver.snapshot().counters.invalidFrames === 1, 'the frame to be counted');
    await driver.resyncAll(); // STATUS still says counter 0: not a restart, not lost events
    expect(boots).toEqual([]);
    expect(driver.snapshot().counters).toMatchObject({ boots: 0, lostEvents: 0, invalidFrames: 1 });
    expect(driver.snapshot().compartments).toEqual(before.compartments);
    expect(doors).toEqual([]);
  });

  it('drops and counts a reply that names another channel than the command it answers', async () => {
    const { board, driver } = await connected({ retries: 0 });
    board.script = (cmd) =>
      cmd.kind === 'unlock' ? [{ kind: 'ack-unlock', addr: 1, seq: cmd.seq, channel: cmd.channel + 1, duplicate: false }] : undefined;
    const err = await driver.unlock(2).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LINK_TIMEOUT' });
    expect(driver.snapshot().counters.invalidFrames).toBe(1);
  });

  it('drops and counts a STATUS reply whose length is not the board’s channel count', async () => {
    const { board, driver } = await connected({ retries: 0 });
    const doors = recordDoors(driver);
    board.script = (cmd) =>
      cmd.kind === 'status'
        ? [{ kind: 'ack-status', addr: 1, seq: cmd.seq, eventCounter: 0, doors: ['O', 'O'], items: [false, false], faults: ['NONE', 'NONE'] }]
        : undefined;
    await driver.resyncAll();
    expect(driver.snapshot().counters.invalidFrames).toBe(1);
    expect(doors).toEqual([]);
  });
});

describe('event counters that repeat or run backwards (PROTOCOL.md §11.2)', () => {
  it('drops an event whose counter repeats the last one (d = 0), and nothing else happens', async () => {
    const { board, driver } = await connected();
    const doors = recordDoors(driver);
    board.send(board.doorEvent(3, 'O'));
    await waitFor(() => driver.snapshot().compartments[2]!.door === 'open', 'door 3 open');
    board.send({ kind: 'door', addr: 1, seq: board.eventCounter, channel: 3, level: 'C' });
    await waitFor(() => driver.snapshot().counters.duplicateEvents === 1, 'the repeat to be counted');
    await driver.resyncAll();
    expect(driver.snapshot().compartments[2]!.door).toBe('open');
    expect(driver.snapshot().counters).toMatchObject({ lostEvents: 0, boots: 0 });
    expect(doors).toEqual([{ compartment: 3, open: true }]);
  });

  it('drops a non-BOOT event whose counter runs backwards, and lets STATUS decide: a stale frame is no restart', async () => {
    const { board, driver } = await connected();
    const boots: string[] = [];
    driver.on('boot', (e) => boots.push(e.reason));
    const doors = recordDoors(driver);
    board.send(board.doorEvent(3, 'O'));
    board.send(board.doorEvent(4, 'O'));
    await waitFor(() => driver.snapshot().compartments[3]!.door === 'open', 'door 4 open');
    board.send({ kind: 'door', addr: 1, seq: 1, channel: 3, level: 'C' }); // an old frame, delivered again
    await waitFor(() => driver.snapshot().counters.staleEvents === 1, 'the stale event to be counted');
    await driver.resyncAll();
    expect(boots).toEqual([]);
    expect(driver.snapshot().compartments[2]!.door).toBe('open');
    expect(doors).toEqual([
      { compartment: 3, open: true },
      { compartment: 4, open: true },
    ]);
  });

  it('recognises a restart whose BOOT was lost from the STATUS read after a backwards event', async () => {
    const { board, driver } = await connected();
    const boots: string[] = [];
    driver.on('boot', (e) => boots.push(e.reason));
    board.eventCounter = 0x30;
    await driver.resyncAll(); // the driver has seen counter 0030
    board.eventCounter = 0; // the board restarts; its BOOT is lost
    board.send(board.doorEvent(5, 'O')); // counter 0001
    await waitFor(() => boots.length === 1, 'the restart to be recognised');
    expect(boots).toEqual(['UNSEEN']);
    await waitFor(() => driver.snapshot().compartments[4]!.door === 'open', 'door 5 open, from STATUS');
  });
});

describe('a fair bus (the STATUS heartbeat never delays an unlock)', () => {
  /** The heartbeat timer and its clock are the test's (Date, faked); replies and deadlines run on real timers. */
  async function withTestClock(pollMs: number) {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const { board, driver } = await connected({ pollMs, responseTimeoutMs: 300, monotonicNow: () => Date.now() });
    const tick = (ms: number) => vi.advanceTimersByTime(ms); // Date moves with it
    return { board, driver, tick };
  }

  it('a heartbeat due while the bus is busy is not queued: the unlock queued meanwhile goes first, the STATUS at a later check', async () => {
    const { board, driver, tick } = await withTestClock(1000);
    let release: () => void = () => undefined;
    board.script = (cmd, b) => {
      if (cmd.kind !== 'led') return undefined;
      release = () => b.send(b.reply(cmd));
      return [];
    };
    const ledSent = board.next((c) => c.kind === 'led');
    const led = driver.setLed(1, 'ON'); // holds the bus until released
    await ledSent;
    tick(1000); // the heartbeat is due now, and the bus is busy
    const unlocked = driver.unlock(2); // then someone scans a code
    const start = board.commands.length;
    release();
    await led;
    await unlocked;
    await new Promise((r) => setTimeout(r, 30));
    expect(board.commands.slice(start).map((c) => c.kind)).toEqual(['unlock']); // the bus fell idle: no STATUS yet
    tick(250); // the next check finds it idle
    await waitFor(() => board.commands.length >= start + 2, 'the poll');
    expect(board.commands.slice(start).map((c) => c.kind)).toEqual(['unlock', 'status']);
  });

  it('a heartbeat never goes out in the moment a command ends: the next command of a flow finds the bus free', async () => {
    const { board, driver, tick } = await withTestClock(1000);
    let release: () => void = () => undefined;
    board.script = (cmd, b) => {
      if (cmd.kind !== 'led') return undefined;
      release = () => b.send(b.reply(cmd));
      return [];
    };
    const ledSent = board.next((c) => c.kind === 'led');
    const led = driver.setLed(1, 'ON');
    await ledSent;
    tick(1000); // due while the LED command is out
    const start = board.commands.length;
    release();
    await led;
    const unlocked = driver.unlock(3); // what the flow does next, a moment later
    await unlocked;
    expect(board.commands.slice(start).map((c) => c.kind)).toEqual(['unlock']);
  });

  it('polls only a board that has been quiet for the poll interval: an in-order event counts as heard', async () => {
    const { board, driver, tick } = await withTestClock(1000);
    const polls = () => board.commands.filter((c) => c.kind === 'status').length;
    const before = polls();
    tick(600);
    board.send(board.doorEvent(3, 'O'));
    await waitFor(() => driver.snapshot().compartments[2]!.door === 'open', 'the event');
    tick(600); // 1200 ms after the last STATUS, 600 ms after the event
    await new Promise((r) => setTimeout(r, 30));
    expect(polls()).toBe(before);
    tick(600); // 1200 ms after the event
    await waitFor(() => polls() === before + 1, 'the heartbeat');
  });

  it('a heartbeat without reply gives up its retries to a waiting unlock, and the board is not called offline', async () => {
    const { board, driver, tick } = await withTestClock(1000);
    board.script = (cmd) => (cmd.kind === 'status' ? [] : undefined); // the STATUS reply is lost
    const start = board.commands.length;
    const polled = board.next((c) => c.kind === 'status');
    tick(1000);
    await polled;
    const unlocked = driver.unlock(2);
    await unlocked;
    expect(board.commands.slice(start).map((c) => c.kind)).toEqual(['status', 'unlock']);
    expect(driver.snapshot().boards[0]!.online).toBe(true);
  });
});

describe('the unlock deadline runs on the monotonic clock', () => {
  /** An LED command in flight whose answer the test releases: the unlock queued behind it waits for the bus. */
  async function busyBus(overrides: Partial<DriverOptions> = {}) {
    const { board, driver } = await connected({ responseTimeoutMs: 30_000, retries: 0, unlockTtlMs: 5000, ...overrides });
    let held: Parameters<ScriptedBoard['reply']>[0] | null = null;
    board.script = (cmd) => {
      if (cmd.kind !== 'led') return undefined;
      held = cmd;
      return [];
    };
    const led = driver.setLed(1, 'ON');
    await waitFor(() => held, 'the LED command on the bus');
    const release = async () => {
      board.send(board.reply(held!));
      await led;
    };
    return { board, driver, release };
  }

  it('a wall clock set forward while an unlock waits for the bus does not drop it', async () => {
    const { board, driver, release } = await busyBus();
    const unlock = driver.unlock(2).then(
      () => 'acked',
      (e: unknown) => e,
    );
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 3_600_000 }); // NTP corrects a clock an hour slow
    await release();
    expect(await unlock).toBe('acked');
    expect(board.commands.filter((c) => c.kind === 'unlock')).toHaveLength(1);
    expect(driver.snapshot().counters.unlocksExpired).toBe(0);
  });

  it('a wall clock set back does not extend the deadline: past it by the monotonic clock, the unlock is dropped unsent', async () => {
    let mono = 1_000;
    const { board, driver, release } = await busyBus({ monotonicNow: () => mono });
    const unlock = driver.unlock(2).then(
      () => 'acked',
      (e: unknown) => (e as { code?: string }).code,
    );
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() - 3_600_000 }); // the clock set back an hour
    mono += 5_001; // and the deadline passed
    await release();
    expect(await unlock).toBe('UNLOCK_EXPIRED');
    expect(board.commands.filter((c) => c.kind === 'unlock')).toHaveLength(0);
  });

  it('an unlock given its own time to live is judged by it, not by any wall-clock time', async () => {
    let mono = 1_000;
    const { board, driver, release } = await busyBus({ monotonicNow: () => mono });
    const unlock = driver.unlock(2, { withinMs: 200 }).catch((e: unknown) => (e as { code?: string }).code);
    mono += 201;
    await release();
    expect(await unlock).toBe('UNLOCK_EXPIRED');
    expect(board.commands.filter((c) => c.kind === 'unlock')).toHaveLength(0);
  });
});
