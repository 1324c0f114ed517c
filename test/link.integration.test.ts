/**
 * The real board driver against the simulated cabinet, through the production transports:
 * TCP (like a serial device server) and a real pty pair made by socat (the serialport code path).
 */
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import type { BoardDriver, DriverEvents } from '../controller/board/driver.js';
import { isCabinetError } from '../controller/errors.js';
import { serialEndpoint, tcpEndpoint } from '../controller/transport/endpoints.js';
import { Link } from '../controller/transport/link.js';
import { SimCabinet } from '../sim/cabinet.js';
import { firstPortReadsLate } from '../sim/test/late-reads.js';
import { createDriver, PtyPair, waitFor } from './harness.js';

type Recorded = { [K in keyof DriverEvents]: { name: K; data: DriverEvents[K][0] } }[keyof DriverEvents];

/** Record every driver event in order, for assertions on what the controller was told. */
function record(driver: BoardDriver): Recorded[] {
  const seen: Recorded[] = [];
  for (const name of ['link', 'board', 'door', 'item', 'fault', 'boot', 'resync'] as const) {
    (driver.on as (n: string, l: (data: unknown) => void) => void)(name, (data) => seen.push({ name, data } as Recorded));
  }
  return seen;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function simOverTcp(options: ConstructorParameters<typeof SimCabinet>[0] = {}) {
  const sim = new SimCabinet(options);
  cleanups.push(() => sim.close());
  const { port } = await sim.listenTcp('127.0.0.1', 0);
  return { sim, endpoint: tcpEndpoint('127.0.0.1', port) };
}

async function online(driver: BoardDriver): Promise<void> {
  await driver.start();
  cleanups.push(() => driver.stop());
  await waitFor(
    () => driver.snapshot().boards.every((b) => b.online) && driver.snapshot().compartments.every((c) => c.door !== 'unknown'),
    'boards online with status read',
  );
}

describe('driver ↔ simulator over TCP', () => {
  it('identifies the board, reads 24 compartments, and separates "unlock acknowledged" from "door opened"', async () => {
    const { sim, endpoint } = await simOverTcp();
    const driver = createDriver(endpoint);
    const events = record(driver);
    await online(driver);
    const snap = driver.snapshot();
    expect(snap.link).toBe('online');
    expect(snap.boards).toEqual([expect.objectContaining({ addr: 1, online: true, firmware: 'SIM-1.0.0', channels: 24 })]);
    expect(snap.compartments).toHaveLength(24);
    expect(snap.compartments.every((c) => c.door === 'closed' && c.item === 'absent' && c.fault === 'NONE')).toBe(true);

    const ack = await driver.unlock(5);
    expect(ack).toEqual({ compartment: 5, duplicate: false });
    expect(sim.unlockCount(5)).toBe(1);
    const opened = await waitFor(() => events.find((e) => e.name === 'door' && e.data.compartment === 5 && e.data.open), 'door 5 to open');
    expect(opened.data).toEqual({ compartment: 5, open: true, source: 'event', ageMs: 0 });

    sim.putItem(5);
    sim.closeDoor(5);
    await waitFor(() => driver.snapshot().compartments[4]!.door === 'closed', 'door 5 closed');
    expect(driver.snapshot().compartments[4]!.item).toBe('present');
    expect(events.filter((e) => e.name === 'boot')).toEqual([]);
  });

  it('reports a door opened with no unlock as a fresh door event (the flows judge it tamper)', async () => {
    const { sim, endpoint } = await simOverTcp();
    const driver = createDriver(endpoint);
    const events = record(driver);
    await online(driver);
    sim.openDoor(9);
    const opened = await waitFor(() => events.find((e) => e.name === 'door' && e.data.compartment === 9 && e.data.open), 'door 9 to open');
    expect(opened.data).toEqual({ compartment: 9, open: true, source: 'event', ageMs: 0 });
    expect(sim.unlockCount(9)).toBe(0);
  });

  it('maps a two-board layout and refuses compartments that do not exist', async () => {
    const { sim, endpoint } = await simOverTcp({ layout: '2x12' });
    const driver = createDriver(endpoint, {
      layout: {
        boards: [
          { addr: 1, channels: 12 },
          { addr: 2, channels: 12 },
        ],
      },
    });
    await online(driver);
    await driver.unlock(13);
    expect(sim.unlockCount(13)).toBe(1);
    expect(sim.compartment(13)).toMatchObject({ addr: 2, channel: 1 });
    await expect(driver.unlock(25)).rejects.toMatchObject({ code: 'NO_SUCH_COMPARTMENT' });
    await expect(driver.unlock(0)).rejects.toMatchObject({ code: 'NO_SUCH_COMPARTMENT' });
    expect(sim.getCounters().framesReceived).toBeGreaterThan(0);
  });

  it('reconnects when the device server goes away and comes back, then reports what changed meanwhile', async () => {
    const { sim, endpoint } = await simOverTcp();
    const driver = createDriver(endpoint);
    const events = record(driver);
    await online(driver);
    sim.disconnect('drop');
    await waitFor(() => driver.state === 'offline', 'driver offline');
    await expect(driver.unlock(1)).rejects.toMatchObject({ code: 'LINK_OFFLINE' });
    // While the link is down a person puts an item into an open door (it was open before)…
    sim.openDoor(3);
    sim.putItem(3);
    sim.reconnect();
    await waitFor(() => driver.snapshot().compartments[2]!.item === 'present', 'the resync to report compartment 3');
    expect(driver.state).toBe('online');
    const resync = events.find((e) => e.name === 'resync' && e.data.reason === 'connect' && e.data.changes > 0);
    expect(resync).toBeDefined();
    expect(events.filter((e) => e.name === 'link').map((e) => e.data.state)).toEqual(expect.arrayContaining(['offline', 'connecting', 'online']));
    expect(sim.unlockCount(1)).toBe(0);
  });

  it('after a reconnect, events lost while offline are lost events, not a restart (no phantom reboot)', async () => {
    const { sim, endpoint } = await simOverTcp();
    const driver = createDriver(endpoint);
    const events = record(driver);
    await online(driver);
    sim.openDoor(2);
    sim.closeDoor(2);
    await waitFor(() => sim.getCounters().eventsSent >= 2 && driver.snapshot().compartments[1]!.door === 'closed', 'the first events');
    sim.disconnect('drop');
    await waitFor(() => driver.state === 'offline', 'driver offline');
    sim.openDoor(3); // events sent while no controller is connected are lost (PROTOCOL.md §11.2)
    sim.closeDoor(3);
    sim.openDoor(4);
    sim.reconnect();
    await waitFor(() => driver.state === 'online' && driver.snapshot().compartments[3]!.door === 'open', 'door 4 open after the reconnect');
    expect(driver.snapshot().compartments[2]!.door).toBe('closed');
    expect(events.filter((e) => e.name === 'boot')).toEqual([]);
    expect(driver.snapshot().counters).toMatchObject({ boots: 0 });
    expect(driver.snapshot().counters.lostEvents).toBeGreaterThanOrEqual(1);
  });

  it('a restart while offline, its BOOT lost, is found once from the STATUS read on reconnecting', async () => {
    const { sim, endpoint } = await simOverTcp();
    const driver = createDriver(endpoint);
    const events = record(driver);
    await online(driver);
    sim.openDoor(2);
    sim.closeDoor(2);
    await waitFor(() => sim.getCounters().eventsSent >= 2 && driver.snapshot().compartments[1]!.door === 'closed', 'the first events');
    sim.disconnect('drop');
    await waitFor(() => driver.state === 'offline', 'driver offline');
    sim.reboot(1); // its BOOT goes to no controller
    sim.reconnect();
    await waitFor(() => events.some((e) => e.name === 'boot'), 'the restart to be found');
    await waitFor(() => driver.snapshot().boards[0]!.firmware !== null && driver.snapshot().boards[0]!.online, 'the board identified again');
    await driver.resyncAll();
    expect(events.filter((e) => e.name === 'boot').map((e) => e.data.reason)).toEqual(['UNSEEN']);
    expect(driver.snapshot().counters.boots).toBe(1);
  });

  it('a door that opened while offline is reported with the time it may date from (what the tamper rule needs)', async () => {
    const { sim, endpoint } = await simOverTcp();
    const driver = createDriver(endpoint);
    const events = record(driver);
    await online(driver);
    sim.disconnect('drop');
    await waitFor(() => driver.state === 'offline', 'driver offline');
    const downSince = Date.now();
    sim.openDoor(6);
    await new Promise((r) => setTimeout(r, 150));
    sim.reconnect();
    const door = (): DriverEvents['door'][0] | undefined => {
      for (const e of events) if (e.name === 'door' && e.data.compartment === 6 && e.data.open) return e.data;
      return undefined;
    };
    const opened = await waitFor(door, 'door 6 open');
    expect(opened).toMatchObject({ source: 'resync' });
    // The board was last fully known before the link dropped: the opening may date from any time since.
    expect(opened.ageMs).toBeGreaterThanOrEqual(150);
    expect(opened.ageMs).toBeLessThanOrEqual(Date.now() - downSince + 1000);
  });

  it('treats a silent board as offline, fails the unlock with a timeout, and recovers by polling', async () => {
    const { sim, endpoint } = await simOverTcp();
    const driver = createDriver(endpoint, { retries: 1 });
    await online(driver);
    sim.setFaults({ dropToController: 1 });
    const err = await driver.unlock(2).catch((e: unknown) => e);
    expect(isCabinetError(err, 'LINK_TIMEOUT')).toBe(true);
    // The board did pulse (the command got through; only replies were lost), and only once.
    expect(sim.unlockCount(2)).toBe(1);
    expect(driver.snapshot().boards[0]!.online).toBe(false);
    sim.clearFaults();
    await waitFor(() => driver.snapshot().boards[0]!.online, 'the board to come back through polling');
    expect(driver.snapshot().counters.timeouts).toBeGreaterThanOrEqual(2);
  });

  it('fails an unlock in flight when the board reboots, re-identifies it and re-reads its status', async () => {
    const { sim, endpoint } = await simOverTcp();
    const driver = createDriver(endpoint, { responseTimeoutMs: 2000 });
    const events = record(driver);
    await online(driver);
    sim.setFaults({ delayMs: 300 });
    // The board reboots the moment the unlock reaches it, before it can answer.
    const unlockFrames: string[] = [];
    sim.on('frame', (f) => {
      if (f.dir === 'in' && f.text.includes(' UNLOCK 4 ')) {
        unlockFrames.push(f.text);
        if (unlockFrames.length === 1) sim.reboot(1, { reason: 'WATCHDOG' });
      }
    });
    const err = await driver.unlock(4).catch((e: unknown) => e);
    expect(isCabinetError(err, 'BOARD_REBOOTED')).toBe(true);
    sim.clearFaults();
    await waitFor(() => events.some((e) => e.name === 'resync' && e.data.reason === 'boot'), 'a resync after the boot');
    expect(events.find((e) => e.name === 'boot')?.data).toEqual({ addr: 1, reason: 'WATCHDOG' });
    // The outcome is unknown to the controller, so nothing was sent again on its behalf: at most one pulse.
    expect(unlockFrames).toHaveLength(1);
    expect(sim.unlockCount(4)).toBeLessThanOrEqual(1);
    await driver.unlock(6);
    expect(sim.unlockCount(6)).toBe(1);
  });

  it('with 10% of frames dropped each way, executes every unlock exactly once', async () => {
    const { sim, endpoint } = await simOverTcp({ seed: 20261122, autoCloseMs: 20 });
    const driver = createDriver(endpoint, { retries: 5, responseTimeoutMs: 200 });
    await online(driver);
    sim.setFaults({ drop: 0.1 });
    const asked = new Map<number, number>();
    const failures: unknown[] = [];
    for (let round = 0; round < 3; round++) {
      for (let n = 1; n <= 24; n++) {
        try {
          await driver.unlock(n);
          asked.set(n, (asked.get(n) ?? 0) + 1);
        } catch (e) {
          failures.push(e);
        }
      }
    }
    expect(failures).toEqual([]);
    for (let n = 1; n <= 24; n++) expect(sim.unlockCount(n)).toBe(asked.get(n));
    const simCounters = sim.getCounters();
    // The faults really happened, and the retransmissions were recognised as such by the board.
    expect(simCounters.dropped.toBoard + simCounters.dropped.toController).toBeGreaterThan(10);
    expect(simCounters.duplicates).toBeGreaterThan(0);
    expect(driver.snapshot().counters.retransmissions).toBeGreaterThan(0);
    // Lost door events were noticed and repaired by re-reading status: the driver ends up agreeing with the cabinet.
    sim.clearFaults();
    await waitFor(() => sim.snapshot().compartments.every((c) => !c.doorOpen), 'every door to close by itself');
    await driver.resyncAll();
    expect(driver.snapshot().compartments.map((c) => c.door)).toEqual(new Array(24).fill('closed'));
  });
});

describe('driver ↔ simulator over a real pty pair (serialport)', () => {
  it('unlocks over the serial path, survives an unplug and a re-plug, and re-reads status', async () => {
    const pty = new PtyPair();
    await pty.start();
    cleanups.push(() => pty.stop());
    const sim = new SimCabinet({ serialRetryMs: 50 });
    cleanups.push(() => sim.close());
    sim.openSerial(pty.b, 9600);
    const driver = createDriver(serialEndpoint(pty.a, 9600));
    const events = record(driver);
    await online(driver);
    expect(driver.snapshot().port).toBe(`serial ${pty.a} @9600`);

    await driver.unlock(7);
    expect(sim.unlockCount(7)).toBe(1);
    await waitFor(() => driver.snapshot().compartments[6]!.door === 'open', 'door 7 open');

    // Unplug: socat goes away, both pty ends vanish.
    await pty.stop();
    await waitFor(() => driver.state === 'offline' || driver.state === 'connecting', 'driver to notice the unplug');
    await expect(driver.unlock(8)).rejects.toSatisfy((e: unknown) => isCabinetError(e) && ['LINK_OFFLINE', 'LINK_DISCONNECTED'].includes(e.code));
    sim.closeDoor(7); // happens while unplugged

    // Re-plug: the same paths come back.
    await pty.start();
    await waitFor(() => driver.state === 'online' && driver.snapshot().compartments[6]!.door === 'closed', 'reconnect and resync', 10_000);
    await driver.unlock(8);
    expect(sim.unlockCount(8)).toBe(1);
    expect(events.some((e) => e.name === 'resync' && e.data.reason === 'connect' && e.data.changes >= 1)).toBe(true);
    expect(driver.snapshot().counters.reconnects).toBeGreaterThanOrEqual(1);
  });
});

describe('the controller’s serial port, hung up before it read from it', () => {
  /**
   * Linux hangs a tty up when its device goes away (a USB adapter pulled, socat gone); a hung-up tty reads 0 bytes,
   * and serialport reads again for ever without reporting anything: only a write would fail. Here the port's reading
   * is held back until socat is gone, so the read always comes after the hang-up, and nothing is written: the port
   * must still go down (its path is gone), so that the driver reconnects to the device that comes back.
   */
  it('goes down without a write when its path is gone, and the next open takes the pty that came back', async () => {
    const pty = new PtyPair();
    await pty.start();
    cleanups.push(() => pty.stop());
    const { Port: FirstReadsLate, release } = firstPortReadsLate();
    const endpoint = serialEndpoint(pty.a, 9600, FirstReadsLate, 50);
    const first = new Link(await endpoint.open());
    cleanups.push(() => first.close());
    const downs: string[] = [];
    first.on('down', (reason) => downs.push(reason));
    await pty.stop();
    release(); // the first read starts now, on a hung-up tty: it reads nothing, for ever
    await waitFor(() => first.down, 'the port to go down with nothing written', 5000);
    expect(downs).toEqual([expect.stringMatching(/is gone|another device/)]);

    await pty.start();
    const second = new Link(await endpoint.open());
    cleanups.push(() => second.close());
    const lines: string[] = [];
    second.on('line', (l) => lines.push(l));
    const other = new SerialPort({ path: pty.b, baudRate: 9600 });
    await new Promise<void>((resolve, reject) => other.once('open', resolve).once('error', reject));
    cleanups.push(() => new Promise<void>((resolve) => other.close(() => resolve())));
    other.write('hello controller\n');
    await waitFor(() => lines.includes('hello controller'), 'a line through the new pty');
  });
});
