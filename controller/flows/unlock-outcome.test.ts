/**
 * What an unlock that got no answer means for the door flow: once a byte of it went out, the board
 * may have pulsed, so the flow follows the door instead of reporting "not sent, the door is shut".
 * The board is played by the test (board/test-support.ts), so each reply can be lost on purpose.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Command } from '../../firmware-protocol/index.js';
import { createDriver, waitFor } from '../../test/harness.js';
import { ScriptedBoard } from '../board/test-support.js';
import { SYSTEM_ACTOR } from '../domain/types.js';
import { EventBus } from '../events.js';
import { silentLogger } from '../log.js';
import { applyLayout, getIntent, layoutGrid, listAudit } from '../store/index.js';
import { openTestStore } from '../store/test-support.js';
import { Doors } from './doors.js';
import { CONFIG } from './test-support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setUp(unlockTtlMs: number) {
  const board = new ScriptedBoard();
  const store = openTestStore();
  cleanups.push(() => store.close());
  applyLayout(store.ctx, layoutGrid(1, 24), SYSTEM_ACTOR);
  const driver = createDriver(board.endpoint, { responseTimeoutMs: 100, retries: 2 });
  await driver.start();
  cleanups.push(() => driver.stop());
  await waitFor(() => driver.snapshot().compartments.every((c) => c.door === 'closed'), 'the first status');
  const doors = new Doors({
    store,
    driver,
    bus: new EventBus(),
    config: { ...CONFIG, unlockTtlMs, doorOpenTimeoutMs: 3000 },
    logger: silentLogger(),
  });
  return { board, store, driver, doors };
}

describe('an unlock sent once, unanswered, whose intent then expired', () => {
  it('is outcome-unknown, not "not sent": the flow waits for the door and sees it open', async () => {
    const { board, store, doors } = await setUp(50);
    // The board pulses (the door springs open a little later) but its ACK is lost; no retransmission
    // goes out because the intent expired during the first reply deadline.
    board.script = (cmd, b) => {
      if (cmd.kind !== 'unlock') return undefined;
      setTimeout(() => b.send(b.doorEvent(cmd.channel, 'O')), 250);
      return [];
    };
    const outcome = await doors.open({ compartmentNo: 3, requestId: null, actor: SYSTEM_ACTOR, reason: 'staff_open', attempts: 1 });
    expect(outcome).toEqual({ opened: true });
    expect(board.commands.filter((c) => c.kind === 'unlock')).toHaveLength(1);
    const intent = getIntent(store.ctx, 1);
    expect(intent).toMatchObject({ status: 'failed' });
    expect(intent!.seq).not.toBeNull();
    expect(intent!.error).toMatch(/^UNLOCK_UNCONFIRMED/);
  });

  it('is reported as not opened (never "not sent") when the door stays shut', async () => {
    const { board, doors } = await setUp(50);
    board.script = (cmd) => (cmd.kind === 'unlock' ? [] : undefined);
    const outcome = await doors.open({ compartmentNo: 4, requestId: null, actor: SYSTEM_ACTOR, reason: 'staff_open', attempts: 1 });
    expect(outcome).toEqual({ opened: false, why: 'not_opened' });
  });
});

describe('an unlock dropped before any byte went out', () => {
  it('is "not sent": UNLOCK_EXPIRED, and the flow does not wait for the door', async () => {
    const { board, driver, doors } = await setUp(50);
    // A slow command holds the bus past the unlock's deadline: its answer comes only once the deadline has passed.
    let held: Command | null = null;
    board.script = (cmd) => {
      if (cmd.kind !== 'led') return undefined;
      held = cmd;
      return [];
    };
    const onWire = board.next((c) => c.kind === 'led');
    const slow = driver.setLed(1, 'ON').catch(() => undefined);
    await onWire;
    const opening = doors.open({ compartmentNo: 5, requestId: null, actor: SYSTEM_ACTOR, reason: 'staff_open', attempts: 1 });
    await new Promise((r) => setTimeout(r, 60)); // past the unlock's 50 ms
    board.send(board.reply(held!));
    const outcome = await opening;
    await slow;
    expect(outcome).toMatchObject({ opened: false, why: 'not_sent', error: { code: 'UNLOCK_EXPIRED' } });
    expect(board.commands.filter((c) => c.kind === 'unlock')).toHaveLength(0);
  });
});

describe('an unlock whose door was not seen open while board events went missing', () => {
  async function quick(attempts: number) {
    const { board, store, driver } = await setUp(3000);
    const doors = new Doors({ store, driver, bus: new EventBus(), config: { ...CONFIG, doorOpenTimeoutMs: 300 }, logger: silentLogger() });
    const mayHave = () => listAudit(store.db, { compartmentNo: 3 }).filter((a) => a.action === 'door.may_have_opened');
    return {
      board,
      store,
      doors,
      mayHave,
      open: () => doors.open({ compartmentNo: 3, requestId: null, actor: SYSTEM_ACTOR, reason: 'staff_open', attempts }),
    };
  }

  it('is recorded as a door that may have opened when the board shows events we never received (no second pulse)', async () => {
    const { board, doors, mayHave, open } = await quick(2);
    // The board pulses and acknowledges; the door opens and shuts, and both of its DOOR events are lost on the line.
    board.script = (cmd, b) => {
      if (cmd.kind !== 'unlock') return undefined;
      b.eventCounter += 2;
      return [b.reply(cmd)];
    };
    expect(await open()).toEqual({ opened: true });
    expect(board.commands.filter((c) => c.kind === 'unlock')).toHaveLength(1);
    expect(mayHave()).toHaveLength(1);
    expect(mayHave()[0]!.detail).toMatchObject({ intentId: 1, evidence: 'events_lost' });
    expect(doors.live.has(3)).toBe(true);
  });

  it('is recorded so on the last attempt too, though the flow reports the door not opened', async () => {
    const { board, mayHave, open } = await quick(1);
    board.script = (cmd, b) => {
      if (cmd.kind !== 'unlock') return undefined;
      b.eventCounter += 2;
      // a later event of another door shows the gap
      setTimeout(() => b.send(b.doorEvent(9, 'C')), 50);
      return [b.reply(cmd)];
    };
    expect(await open()).toEqual({ opened: false, why: 'not_opened' });
    expect(mayHave()).toHaveLength(1);
    expect(mayHave()[0]!.detail).toMatchObject({ intentId: 1, evidence: 'events_lost' });
  });

  it('records nothing when no event went missing: the door stayed shut', async () => {
    const { board, mayHave, open } = await quick(1);
    board.script = (cmd, b) => (cmd.kind === 'unlock' ? [b.reply(cmd)] : undefined);
    expect(await open()).toEqual({ opened: false, why: 'not_opened' });
    expect(mayHave()).toHaveLength(0);
  });
});
