/**
 * The driver and a board speaking protocol version 2 (PROTOCOL.md §21), played by the test: the board's per-channel
 * door-opening counts find the openings whose two DOOR events were both lost, confirmed by the next STATUS; a version
 * 1 board behaves as before.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeLine, type ProtocolVersion } from '../../firmware-protocol/index.js';
import { createDriver, waitFor } from '../../test/harness.js';
import type { DriverOptions } from './driver.js';
import { ScriptedBoard } from './test-support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function connected(protocol: ProtocolVersion = 2, overrides: Partial<DriverOptions> = {}) {
  const board = new ScriptedBoard(1, 24, protocol);
  const driver = createDriver(board.endpoint, { pollMs: 60_000, responseTimeoutMs: 100, ...overrides });
  const hidden: { compartment: number; count: number; ageMs: number | null }[] = [];
  driver.on('hidden-openings', (e) => hidden.push(e));
  await driver.start();
  cleanups.push(() => driver.stop());
  await waitFor(() => driver.snapshot().compartments.every((c) => c.door === 'closed'), 'the first status');
  return { board, driver, hidden };
}

/** Door `ch` opened and shut on the board, both DOOR events lost on the way. */
function lostOpening(board: ScriptedBoard, ch: number): void {
  board.doorEvent(ch, 'O');
  board.doorEvent(ch, 'C');
}

describe('a version 2 board', () => {
  it('is accepted by IDENT, and its STATUS with counts is read', async () => {
    const { board, driver } = await connected();
    expect(board.commands.map((c) => c.kind).slice(0, 2)).toEqual(['ident', 'status']);
    expect(driver.snapshot().boards[0]).toMatchObject({ online: true, firmware: 'SCRIPT-1' });
    expect(driver.snapshot().counters.invalidFrames + driver.snapshot().counters.undecodable).toBe(0);
  });

  it('finds an opening whose two DOOR events were both lost, once the next STATUS confirms it', async () => {
    const { board, driver, hidden } = await connected();
    lostOpening(board, 5);
    await driver.resyncAll();
    expect(hidden).toEqual([]); // its events could still be on their way behind the reply
    await driver.resyncAll();
    expect(hidden).toEqual([{ compartment: 5, count: 1, ageMs: expect.any(Number) }]);
    expect(driver.snapshot().counters.hiddenOpenings).toBe(1);
    expect(driver.snapshot().compartments[4]!.door).toBe('closed');
    await driver.resyncAll();
    expect(hidden).toHaveLength(1); // reported once
  });

  it('has the heartbeat read the confirming STATUS at its next check, not a whole poll period later', async () => {
    // The monotonic clock stands still: the heartbeat never finds a board due by the period, only by the counts.
    let clock = 1_000_000;
    const { board, driver, hidden } = await connected(2, { pollMs: 200, monotonicNow: () => clock });
    const statuses = () => board.commands.filter((c) => c.kind === 'status').length;
    clock += 1; // everything from here on happens at one instant of the driver's clock
    lostOpening(board, 9);
    lostOpening(board, 9);
    await driver.resyncAll();
    const asked = statuses();
    await waitFor(() => hidden.length > 0, 'the confirming poll');
    expect(statuses()).toBe(asked + 1);
    expect(hidden).toEqual([{ compartment: 9, count: 2, ageMs: expect.any(Number) }]);
  });

  it('reports nothing for openings whose events arrived, nor for one whose events were still queued behind the reply', async () => {
    const { board, driver, hidden } = await connected();
    board.send(board.doorEvent(3, 'O'), board.doorEvent(3, 'C'));
    await waitFor(() => board.eventCounter === 2 && driver.snapshot().compartments[2]!.door === 'closed', 'the events');
    // The board counted the opening of 7 and answers STATUS before its two queued events go out.
    let queued = true;
    board.script = (cmd, b) => {
      if (cmd.kind !== 'status' || !queued) return undefined;
      queued = false;
      const reply = b.reply(cmd);
      lostOpening(b, 7);
      if (reply.kind === 'ack-status') reply.openings = [...b.openings];
      return [reply];
    };
    await driver.resyncAll();
    board.send({ kind: 'door', addr: 1, seq: 3, channel: 7, level: 'O' }, { kind: 'door', addr: 1, seq: 4, channel: 7, level: 'C' });
    await waitFor(() => driver.snapshot().counters.framesIn >= 6, 'the late events');
    await driver.resyncAll();
    await driver.resyncAll();
    expect(hidden).toEqual([]);
  });

  it('counts a door a STATUS finds open as seen, and one found open after a lost close and open as hidden', async () => {
    const { board, driver, hidden } = await connected();
    board.doorEvent(4, 'O'); // lost: the next STATUS finds door 4 open
    await driver.resyncAll();
    await driver.resyncAll();
    expect(driver.snapshot().compartments[3]!.door).toBe('open');
    expect(hidden).toEqual([]);
    board.doorEvent(4, 'C'); // lost
    board.send(board.doorEvent(4, 'O')); // arrives, but the door was open already as far as the driver knows
    await waitFor(() => driver.snapshot().counters.lostEvents > 0, 'the gap');
    await driver.resyncAll();
    await driver.resyncAll();
    expect(hidden).toEqual([{ compartment: 4, count: 1, ageMs: expect.any(Number) }]);
  });

  it('wraps from 255 to 0', async () => {
    const { board, driver, hidden } = await connected();
    board.openings[1] = 255;
    board.openings[2] = 255;
    board.dropLink(); // reconnect: the same board, its counts kept
    await waitFor(() => board.commands.filter((c) => c.kind === 'ident').length === 2, 'the reconnect');
    await driver.resyncAll(); // baseline kept across the reconnect: 255 on 2 and 3 would be 255 hidden openings…
    expect(hidden).toEqual([]); // …which is taken as counts that restarted: a new baseline
    board.send(board.doorEvent(2, 'O'), board.doorEvent(2, 'C')); // seen: 255 → 0
    lostOpening(board, 3); // hidden: 255 → 0
    await waitFor(() => driver.snapshot().counters.framesIn > 0 && board.eventCounter === 4, 'events');
    await waitFor(() => driver.snapshot().compartments[1]!.door === 'closed', 'door 2 shut');
    await driver.resyncAll();
    await driver.resyncAll();
    expect(board.openings.slice(1, 3)).toEqual([0, 0]);
    expect(hidden).toEqual([{ compartment: 3, count: 1, ageMs: expect.any(Number) }]);
  });

  it('finds openings made while the link was down, when the board did not restart', async () => {
    const { board, driver, hidden } = await connected();
    board.dropLink();
    await waitFor(() => driver.snapshot().link !== 'online', 'the link down');
    lostOpening(board, 11); // nobody listened
    await waitFor(() => board.commands.filter((c) => c.kind === 'status').length >= 2, 'the STATUS after the reconnect');
    await driver.resyncAll();
    await waitFor(() => hidden.length > 0, 'the openings');
    expect(hidden).toEqual([{ compartment: 11, count: 1, ageMs: expect.any(Number) }]);
  });

  it('takes the STATUS after a BOOT as the new baseline, whatever the counts', async () => {
    const { board, driver, hidden } = await connected();
    lostOpening(board, 6);
    lostOpening(board, 6);
    // The board restarts: counter and counts back to 0; two openings before the controller reads it again.
    board.eventCounter = 0;
    board.openings.fill(0);
    board.send({ kind: 'boot', addr: 1, seq: 0, reason: 'WATCHDOG' });
    lostOpening(board, 6);
    await waitFor(() => driver.snapshot().counters.boots === 1, 'the BOOT');
    await waitFor(() => board.commands.filter((c) => c.kind === 'ident').length === 2, 'the identity re-read');
    await driver.resyncAll();
    await driver.resyncAll();
    expect(hidden).toEqual([]);
    lostOpening(board, 6);
    await driver.resyncAll();
    await driver.resyncAll();
    expect(hidden).toEqual([{ compartment: 6, count: 1, ageMs: expect.any(Number) }]);
  });

  it('takes counts that went back (a restart whose BOOT was lost) as a new baseline, not as openings', async () => {
    const { board, driver, hidden } = await connected();
    lostOpening(board, 8);
    lostOpening(board, 8);
    await driver.resyncAll();
    board.openings[7] = 1; // restarted unseen, one opening since; its event counter passed the old one
    board.eventCounter = 10;
    await driver.resyncAll();
    await driver.resyncAll();
    expect(hidden).toEqual([]);
  });
});

describe('a version 1 board', () => {
  it('behaves as before: an opening whose two events were lost leaves no trace', async () => {
    const { board, driver, hidden } = await connected(1);
    lostOpening(board, 5);
    await driver.resyncAll();
    await driver.resyncAll();
    expect(hidden).toEqual([]);
    expect(driver.snapshot().counters.lostEvents).toBe(1);
    expect(driver.snapshot().compartments[4]!.door).toBe('closed');
  });

  it('is read strictly: a STATUS with counts from a board that said version 1 is dropped', async () => {
    const { board, driver } = await connected(1);
    board.script = (cmd, b) => {
      if (cmd.kind !== 'status') return undefined;
      const reply = b.reply(cmd);
      if (reply.kind === 'ack-status') b.sendRaw(encodeLine({ ...reply, openings: new Array<number>(24).fill(0) }, 2));
      return [];
    };
    const err = await driver.resyncAll().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeNull(); // refreshBoard logs, never throws
    expect(driver.snapshot().counters.undecodable).toBeGreaterThan(0);
  });
});

describe('IDENT', () => {
  it('refuses a board reporting a version other than 1 or 2', async () => {
    const board = new ScriptedBoard(1, 24, 2);
    board.script = (cmd, b) => (cmd.kind === 'ident' ? [{ ...b.reply(cmd), protocol: 3 }] : undefined);
    const driver = createDriver(board.endpoint, { pollMs: 60_000, responseTimeoutMs: 100 });
    const reasons: string[] = [];
    driver.on('board', (e) => reasons.push(e.reason ?? ''));
    await driver.start();
    cleanups.push(() => driver.stop());
    await waitFor(() => reasons.some((r) => r.includes('protocol 3')), 'the refusal');
    expect(board.commands.some((c) => c.kind === 'status')).toBe(false);
    expect(driver.snapshot().boards[0]!.online).toBe(false);
  });
});

describe('a board whose protocol version changed while its BOOT was lost', () => {
  it('is identified again once it stops answering in the version it had, and comes back online', async () => {
    const { board, driver } = await connected(1, { pollMs: 200, retries: 0 });
    board.protocol = 2; // e.g. new firmware: its STATUS now has the counts, which a version 1 reading refuses
    await driver.resyncAll();
    expect(driver.snapshot().boards[0]!.online).toBe(false);
    const idents = board.commands.filter((c) => c.kind === 'ident').length;
    await waitFor(() => driver.snapshot().boards[0]!.online, 'the board back online');
    expect(board.commands.filter((c) => c.kind === 'ident').length).toBe(idents + 1);
    lostOpening(board, 4);
    await driver.resyncAll();
    await driver.resyncAll();
    expect(driver.snapshot().counters.hiddenOpenings).toBe(1); // read as version 2 from here
  });
});
