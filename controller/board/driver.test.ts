/**
 * Board driver behaviour against the in-process simulator (the real firmware logic, no mocks),
 * plus a raw pipe where the test itself plays a broken board that sends garbage.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeLine } from '../../firmware-protocol/index.js';
import { SimCabinet } from '../../sim/cabinet.js';
import { duplexPair } from '../../sim/links/duplex-pair.js';
import { createDriver, waitFor } from '../../test/harness.js';
import { isCabinetError } from '../errors.js';
import { streamEndpoint } from '../transport/endpoints.js';
import type { BoardDriver } from './driver.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function withSim(simOptions: ConstructorParameters<typeof SimCabinet>[0] = {}, driverOverrides: Parameters<typeof createDriver>[1] = {}) {
  const sim = new SimCabinet(simOptions);
  cleanups.push(() => sim.close());
  const driver = createDriver(
    streamEndpoint('in-process', () => sim.connectInProcess()),
    driverOverrides,
  );
  await driver.start();
  cleanups.push(() => driver.stop());
  await waitFor(
    () => driver.snapshot().boards.every((b) => b.online) && driver.snapshot().compartments.every((c) => c.door !== 'unknown'),
    'driver ready',
  );
  return { sim, driver };
}

describe('unlock', () => {
  it('drops an unlock whose deadline has passed without sending it', async () => {
    const { sim, driver } = await withSim();
    const err = await driver.unlock(3, { withinMs: -1 }).catch((e: unknown) => e);
    expect(isCabinetError(err, 'UNLOCK_EXPIRED')).toBe(true);
    expect(sim.unlockCount(3)).toBe(0);
    expect(driver.snapshot().counters.unlocksExpired).toBe(1);
  });

  it('drops an unlock that waited in the queue past its deadline behind a slow command', async () => {
    const { sim, driver } = await withSim({}, { responseTimeoutMs: 400, retries: 0 });
    sim.setFaults({ delayMs: 250 });
    const slow = driver.unlock(1);
    const late = driver.unlock(2, { withinMs: 100 }).catch((e: unknown) => e);
    await slow;
    expect(isCabinetError(await late, 'UNLOCK_EXPIRED')).toBe(true);
    expect(sim.unlockCount(1)).toBe(1);
    expect(sim.unlockCount(2)).toBe(0);
  });

  it('reports a board refusal (coil fault) as LINK_NAK with its reason, without retrying', async () => {
    const { sim, driver } = await withSim();
    sim.setCoilFault(11, 'COIL_OPEN');
    await waitFor(() => driver.snapshot().compartments[10]!.fault === 'COIL_OPEN', 'the fault event');
    const err = await driver.unlock(11).catch((e: unknown) => e);
    expect(isCabinetError(err, 'LINK_NAK')).toBe(true);
    expect((err as { context: { reason: string } }).context.reason).toBe('COIL_FAULT');
    expect(driver.snapshot().counters.retransmissions).toBe(0);
    expect(sim.unlockCount(11)).toBe(0);
  });

  it('still reports a jammed lock as acknowledged, and the door as still closed', async () => {
    const { sim, driver } = await withSim();
    sim.setJammed(12, true);
    await driver.unlock(12);
    await driver.resyncAll();
    expect(driver.snapshot().compartments[11]!.door).toBe('closed');
    expect(sim.unlockCount(12)).toBe(1);
  });
});

describe('events and status', () => {
  it('notices a gap in the event counter and re-reads status', async () => {
    const { sim, driver } = await withSim();
    const reasons: string[] = [];
    driver.on('resync', (e) => reasons.push(e.reason));
    sim.setEventCounter(1, 500); // the next event jumps far ahead of what the driver saw
    sim.openDoor(2);
    await waitFor(() => reasons.includes('lost-event'), 'a lost-event resync');
    expect(driver.snapshot().counters.lostEvents).toBeGreaterThanOrEqual(1);
    expect(driver.snapshot().compartments[1]!.door).toBe('open');
  });

  it('reads door switches with normally-open polarity', async () => {
    const { sim, driver } = await withSim({ polarity: 'no' }, { doorPolarity: 'no' });
    expect(driver.snapshot().compartments.every((c) => c.door === 'closed')).toBe(true);
    await driver.unlock(1);
    await waitFor(() => driver.snapshot().compartments[0]!.door === 'open', 'door 1 open');
    expect(sim.compartment(1).doorLevel).toBe('C');
  });

  it('takes a stuck door switch at its word: the door reads open although nobody opened it', async () => {
    const { sim, driver } = await withSim();
    const opened: { compartment: number; source: string; ageMs: number | null }[] = [];
    driver.on('door', (e) => opened.push({ compartment: e.compartment, source: e.source, ageMs: e.ageMs }));
    sim.setStuckSensor(20, 'O');
    await waitFor(() => driver.snapshot().compartments[19]!.door === 'open', 'the stuck switch to show');
    // A fact reported as it came (whether it is tamper is the unlock policy's call, in the flows).
    expect(opened).toEqual([{ compartment: 20, source: 'event', ageMs: 0 }]);
    expect(sim.unlockCount(20)).toBe(0);
  });
});

describe('a board that sends garbage', () => {
  /** The test plays the board: it gets the raw pipe and answers (or not) by hand. */
  async function rawBoard(): Promise<{ driver: BoardDriver; board: ReturnType<typeof duplexPair>[1]; written: string[] }> {
    const [controllerEnd, board] = duplexPair();
    const written: string[] = [];
    board.on('data', (b: Buffer) => written.push(b.toString('latin1')));
    const driver = createDriver(
      streamEndpoint('raw pipe', () => controllerEnd),
      { retries: 0, responseTimeoutMs: 50 },
    );
    await driver.start();
    cleanups.push(() => driver.stop());
    return { driver, board, written };
  }

  it('counts bad frames, never crashes, and changes no state', async () => {
    const { driver, board, written } = await rawBoard();
    const before = driver.snapshot().compartments;
    board.write(Buffer.alloc(1024 * 1024, 0x55)); // 1 MiB with no newline
    board.write('\n');
    board.write(Buffer.from([0x00, 0xff, 0xfe, 0x0a]));
    board.write('<01 0001 DOOR 3 O*0000\n'); // bad CRC
    board.write(encodeLine({ kind: 'door', addr: 1, seq: 1, channel: 3, level: 'O' }).replace('DOOR 3', 'DOOR 99')); // CRC now wrong too
    board.write('<01 0001 WHAT 3*' + '\n');
    board.write(`${'x'.repeat(400)}\n`);
    board.write(`<${'Z'.repeat(300)}\n`);
    await waitFor(() => driver.snapshot().counters.badCrc >= 2, 'bad CRCs to be counted');
    const c = driver.snapshot().counters;
    expect(c.overlongLines).toBeGreaterThanOrEqual(3);
    expect(c.undecodable).toBeGreaterThanOrEqual(2);
    expect(driver.snapshot().compartments).toEqual(before);
    // Nothing the garbage said made the controller send an unlock.
    expect(written.join('')).not.toContain('UNLOCK');
  });

  it('ignores a reply whose sequence number does not match the command in flight', async () => {
    const { driver, board, written } = await rawBoard();
    await waitFor(() => written.length > 0, 'the IDENT on connect');
    const pending = driver.unlock(1).catch((e: unknown) => e);
    await waitFor(() => written.some((w) => w.includes('UNLOCK')), 'the unlock on the wire');
    const seq = parseInt(written.find((w) => w.includes('UNLOCK'))!.slice(4, 8), 16);
    board.write(encodeLine({ kind: 'ack-unlock', addr: 1, seq: (seq + 1) & 0xffff, channel: 1, duplicate: false }));
    expect(isCabinetError(await pending, 'LINK_TIMEOUT')).toBe(true);
    expect(driver.snapshot().counters.unmatchedReplies).toBeGreaterThanOrEqual(1);
  });
});

describe('a restart whose BOOT event was lost', () => {
  it('is recognised from a status counter that went backwards, and the board is identified again', async () => {
    const { sim, driver } = await withSim();
    const boots: string[] = [];
    driver.on('boot', (e) => boots.push(e.reason));
    sim.openDoor(1);
    sim.closeDoor(1);
    await waitFor(() => driver.snapshot().compartments[0]!.door === 'closed' && sim.getCounters().eventsSent >= 3, 'events to arrive');
    sim.setFaults({ dropToController: 1 });
    sim.reboot(1); // its BOOT event is lost on the wire
    sim.clearFaults();
    await driver.resyncAll();
    expect(boots).toEqual(['UNSEEN']);
    expect(driver.snapshot().counters.boots).toBe(1);
    await waitFor(
      () => driver.snapshot().boards[0]!.online && driver.snapshot().boards[0]!.firmware !== null,
      'the board to be identified again',
      3000,
    );
    await driver.unlock(2);
    expect(sim.unlockCount(2)).toBe(1);
  });
});
