/**
 * The real driver, through the vendor adapter, against the simulator speaking each vendor family
 * over TCP: the driver and flows see our protocol, the wire carries the vendor's bytes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VENDOR_FAMILIES, type VendorFamily, vendorCodec } from '../../firmware-protocol/vendors/index.js';
import { SimCabinet, type SimOptions } from '../../sim/index.js';
import { createDriver, waitFor } from '../../test/harness.js';
import { isCabinetError } from '../errors.js';
import { silentLogger } from '../log.js';
import { tcpEndpoint } from '../transport/endpoints.js';
import type { BoardDriver } from './driver.js';
import { vendorEndpoint } from './vendor-adapter.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(family: VendorFamily, sim: SimOptions = {}, boards = [{ addr: 1, channels: 24 }]) {
  const cabinet = new SimCabinet({ board: family, ...sim });
  cleanups.push(() => cabinet.close());
  const { port } = await cabinet.listenTcp('127.0.0.1', 0);
  const endpoint = vendorEndpoint(tcpEndpoint('127.0.0.1', port), {
    codec: vendorCodec(family),
    boards,
    pollMs: 30,
    replyTimeoutMs: 120,
    logger: silentLogger(),
  });
  const driver = createDriver(endpoint, { responseTimeoutMs: 400, layout: { boards } });
  const doors: { compartment: number; open: boolean; source: string; ageMs: number | null }[] = [];
  driver.on('door', (e) => doors.push(e));
  await driver.start();
  cleanups.push(() => driver.stop());
  await waitFor(
    () => driver.snapshot().boards.every((b) => b.online) && driver.snapshot().compartments.every((c) => c.door !== 'unknown'),
    'boards online',
  );
  return { cabinet, endpoint, driver, doors };
}

const doorOf = (driver: BoardDriver, n: number) => driver.snapshot().compartments[n - 1]!.door;

describe.each(VENDOR_FAMILIES)('the %s family through the adapter', (family) => {
  it('identifies the board as the adapter, reads every door, and an unlock pulses once and is seen open', async () => {
    const { cabinet, driver, doors } = await setup(family);
    expect(driver.snapshot().boards[0]).toMatchObject({ online: true, firmware: vendorCodec(family).adapterFirmware, channels: 24 });
    expect(driver.snapshot().compartments.every((c) => c.door === 'closed' && c.item === 'absent')).toBe(true);
    await driver.unlock(5);
    expect(cabinet.unlockCount(5)).toBe(1);
    await waitFor(() => doors.find((d) => d.compartment === 5 && d.open), 'door 5 seen open');
    // an in-order event of the adapter's own counter, not a change found late by a re-read
    expect(doors.find((d) => d.compartment === 5 && d.open)).toMatchObject({ source: 'event', ageMs: 0 });
    cabinet.closeDoor(5);
    await waitFor(() => doorOf(driver, 5) === 'closed', 'door 5 seen closed');
  });

  it('a door forced open is seen by polling, as an event in order', async () => {
    const { cabinet, doors } = await setup(family);
    cabinet.openDoor(9);
    await waitFor(() => doors.find((d) => d.compartment === 9 && d.open), 'door 9 seen open');
    expect(doors.find((d) => d.compartment === 9 && d.open)).toMatchObject({ source: 'event', ageMs: 0 });
    expect(cabinet.unlockCount(9)).toBe(0);
  });

  it('never sends a vendor unlock twice for one decision: every reply lost, the driver retransmits, one pulse', async () => {
    const { cabinet, driver, endpoint } = await setup(family);
    cabinet.setFaults({ dropToController: 1 });
    const err = await driver.unlock(3).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isCabinetError(err, 'LINK_TIMEOUT')).toBe(true);
    expect(cabinet.unlockCount(3)).toBe(1);
    expect(endpoint.counters.vendorUnlocks).toBe(1);
    cabinet.setFaults({ dropToController: 0 });
    await waitFor(() => doorOf(driver, 3) === 'open', 'door 3 seen open once the board answers again');
    expect(cabinet.unlockCount(3)).toBe(1);
  });

  it('a lost unlock reply is answered from the board’s reading, and the retransmission from memory', async () => {
    const { cabinet, driver, endpoint } = await setup(family);
    // the unlock's reply is lost; the wire recovers right after the pulse
    cabinet.setFaults({ dropToController: 1 });
    const pending = driver.unlock(7);
    await waitFor(() => cabinet.unlockCount(7) === 1, 'the pulse');
    cabinet.setFaults({ dropToController: 0 });
    await pending;
    expect(cabinet.unlockCount(7)).toBe(1);
    expect(endpoint.counters.vendorUnlocks).toBe(1);
    await waitFor(() => doorOf(driver, 7) === 'open', 'door 7 open');
  });

  it('a board that stops answering goes offline, and comes back with a fresh reading — not reported as a restart it cannot know of', async () => {
    const { cabinet, driver } = await setup(family);
    const boots: unknown[] = [];
    driver.on('boot', (e) => boots.push(e));
    cabinet.disconnect('silent');
    await waitFor(() => !driver.snapshot().boards[0]!.online, 'board offline', 8000);
    cabinet.openDoor(2);
    cabinet.reconnect();
    await waitFor(() => driver.snapshot().boards[0]!.online && doorOf(driver, 2) === 'open', 'board back with door 2 open', 8000);
    expect(boots).toEqual([]); // no 'board restarted' alarm: nothing says it restarted
    expect(driver.snapshot().counters.lostEvents).toBeGreaterThan(0); // what happened meanwhile was never seen: read afresh
  });

  it('a port that goes away and comes back (a fresh adapter) is not taken for a restart of the board: the counter runs on', async () => {
    const { cabinet, driver } = await setup(family);
    const boots: unknown[] = [];
    driver.on('boot', (e) => boots.push(e));
    cabinet.openDoor(3); // an event: the driver's counter is past 0
    await waitFor(() => doorOf(driver, 3) === 'open', 'door 3 open');
    cabinet.disconnect('drop');
    await waitFor(() => driver.state === 'offline', 'the link offline', 8000);
    cabinet.closeDoor(3);
    cabinet.reconnect();
    await waitFor(() => driver.state === 'online' && doorOf(driver, 3) === 'closed', 'the link back, door 3 read shut', 8000);
    expect(boots).toEqual([]);
  });

  it('garbage and corrupted frames are dropped and counted; nothing opens that was not asked for', async () => {
    const { cabinet, driver, endpoint } = await setup(family, { seed: 3 });
    cabinet.setFaults({ corrupt: 0.3 });
    await new Promise((r) => setTimeout(r, 1500));
    cabinet.setFaults({ corrupt: 0 });
    expect(endpoint.counters.droppedBytes + endpoint.counters.badFrames + endpoint.counters.unexpectedReplies).toBeGreaterThan(0);
    expect(Object.values(cabinet.getCounters().unlocksExecuted).every((n) => n === 0)).toBe(true);
    expect(driver.snapshot().compartments.every((c) => c.door === 'closed')).toBe(true);
  });
});

describe('polarity: what the lock reading means is the cabinet’s setting', () => {
  it('an 8A/80 whose lock reads 00 while shut (polarity no) is read right with LOCK_DOOR_POLARITY=no', async () => {
    const cabinet = new SimCabinet({ board: '8a80', polarity: 'no' });
    cleanups.push(() => cabinet.close());
    const { port } = await cabinet.listenTcp('127.0.0.1', 0);
    const boards = [{ addr: 1, channels: 24 }];
    const endpoint = vendorEndpoint(tcpEndpoint('127.0.0.1', port), {
      codec: vendorCodec('8a80'),
      boards,
      pollMs: 30,
      replyTimeoutMs: 120,
      logger: silentLogger(),
    });
    const driver = createDriver(endpoint, { responseTimeoutMs: 400, doorPolarity: 'no', layout: { boards } });
    await driver.start();
    cleanups.push(() => driver.stop());
    await waitFor(() => driver.snapshot().compartments.every((c) => c.door !== 'unknown'), 'doors read');
    expect(driver.snapshot().compartments.every((c) => c.door === 'closed')).toBe(true);
    await driver.unlock(1);
    await waitFor(() => doorOf(driver, 1) === 'open', 'door 1 open');
  });
});

describe('health', () => {
  it('with a vendor family, /api/health carries the adapter counters beside the link counters', async () => {
    const { startTestApp } = await import('../../test/app-harness.js');
    const h = await startTestApp({ family: '8a80' });
    cleanups.push(() => h.close());
    await waitFor(() => h.driver.snapshot().boards.every((b) => b.online), 'board online');
    const r = await h.api.get<{ counters: Record<string, number> }>('/api/health');
    expect(r.status).toBe(200);
    expect(r.body.counters).toMatchObject({ framesOut: expect.any(Number), vendorFramesOut: expect.any(Number), droppedBytes: 0 });
    expect(r.body.counters.vendorFramesOut).toBeGreaterThan(0);
  });
});

describe('a cabinet wired in the vendor’s own order (layout file)', () => {
  it('compartment numbers go to the lock the layout names; a lock without a door is never reported', async () => {
    const boards = [{ addr: 1, channels: 4 }];
    const compartments = [
      { compartment: 1, addr: 1, channel: 3 },
      { compartment: 2, addr: 1, channel: 1 },
    ]; // locks 2 and 4: no door
    const cabinet = new SimCabinet({ board: '8a80', layout: '1x4' });
    cleanups.push(() => cabinet.close());
    const { port } = await cabinet.listenTcp('127.0.0.1', 0);
    const endpoint = vendorEndpoint(tcpEndpoint('127.0.0.1', port), {
      codec: vendorCodec('8a80'),
      boards,
      pollMs: 30,
      replyTimeoutMs: 120,
      logger: silentLogger(),
    });
    const driver = createDriver(endpoint, { responseTimeoutMs: 400, layout: { boards, compartments } });
    const doors: number[] = [];
    driver.on('door', (e) => doors.push(e.compartment));
    await driver.start();
    cleanups.push(() => driver.stop());
    await waitFor(() => driver.snapshot().compartments.every((c) => c.door !== 'unknown'), 'doors read');
    expect(driver.snapshot().compartments.map((c) => [c.compartment, c.channel])).toEqual([
      [1, 3],
      [2, 1],
    ]);
    await driver.unlock(1);
    expect([1, 2, 3, 4].map((n) => cabinet.unlockCount(n))).toEqual([0, 0, 1, 0]);
    await waitFor(() => doorOf(driver, 1) === 'open', 'compartment 1 (lock 3) open');
    doors.length = 0;
    cabinet.openDoor(4); // a lock with no door in the layout
    await new Promise((r) => setTimeout(r, 300));
    expect(doors).toEqual([]);
    expect(doorOf(driver, 2)).toBe('closed');
  });
});
