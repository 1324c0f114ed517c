/**
 * A serial QR scanner (here: the simulator's scanner output over TCP, as a serial device server
 * would carry it) feeds the same scan handler as the kiosk page: a scanned pickup QR opens its door.
 */
import { afterEach, expect, it } from 'vitest';
import { SimCabinet } from '../sim/cabinet.js';
import { createDriver, waitFor } from '../test/harness.js';
import { residentActor, staffActor, SYSTEM_ACTOR } from './domain/types.js';
import { EventBus } from './events.js';
import { CabinetFlows } from './flows/cabinet.js';
import { silentLogger } from './log.js';
import { ScannerInput, scannerEndpoint } from './scanner.js';
import { activeCredentials, applyLayout, createRequest, layoutGrid, makeRequestQrToken, requireRequest, transitionRequest } from './store/index.js';
import { makeResident, makeStaff, openTestStore } from './store/test-support.js';
import { streamEndpoint } from './transport/endpoints.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

it('a QR read by the serial scanner opens the compartment, and garbage from it opens nothing', async () => {
  const sim = new SimCabinet();
  cleanups.push(() => sim.close());
  const store = openTestStore({ now: () => Date.now() });
  cleanups.push(() => store.close());
  applyLayout(store.ctx, layoutGrid(1, 24), SYSTEM_ACTOR);
  const driver = createDriver(streamEndpoint('in-process', () => sim.connectInProcess()));
  const bus = new EventBus();
  const scans: string[] = [];
  bus.on('scan', (e) => scans.push(`${e.source}:${e.outcome}`));
  const flows = new CabinetFlows({ store, driver, bus, config: { unlockTtlMs: 3000, doorOpenTimeoutMs: 1000, doorLeftOpenMs: 60_000, overdueDays: 7 }, logger: silentLogger() });
  await driver.start();
  cleanups.push(() => driver.stop());
  await waitFor(() => driver.snapshot().compartments.every((c) => c.door !== 'unknown'), 'the board read');
  flows.markReady();

  // A document waiting in compartment 1.
  const staff = staffActor(await makeStaff(store));
  const resident = makeResident(store);
  const { request } = createRequest(store.ctx, { residentId: resident.id, serviceCode: 'residence_certificate' }, residentActor(resident.id));
  transitionRequest(store.ctx, { requestId: request.id, event: 'accept', actor: staff });
  transitionRequest(store.ctx, { requestId: request.id, event: 'mark_ready', actor: staff });
  const load = await flows.load(Number(staff.id), request.id);
  sim.putItem(load.compartment!);
  sim.closeDoor(load.compartment!);
  expect(await load.done).toBe('loaded');
  const unlocksBefore = sim.unlockCount(1);

  const { port } = await sim.listenScannerTcp('127.0.0.1', 0);
  const scanner = new ScannerInput(scannerEndpoint(`tcp://127.0.0.1:${port}`), flows, silentLogger());
  await scanner.start();
  cleanups.push(() => scanner.stop());
  await waitFor(() => sim.snapshot().links.some((l) => l.role === 'scanner'), 'the scanner link');

  sim.injectScan('这不是我们的二维码 not ours');
  await waitFor(() => scans.length === 1, 'the first scan handled');
  expect(scans).toEqual(['scanner:UNKNOWN_SCAN']);
  expect(sim.unlockCount(1)).toBe(unlocksBefore);

  const cred = activeCredentials(store.ctx, request.id)[0]!;
  sim.injectScan(makeRequestQrToken(store.keys, { requestId: request.id, credentialId: cred.credentialId, purpose: 'pickup' }));
  await waitFor(() => scans.length === 2, 'the second scan handled');
  expect(scans[1]).toBe('scanner:OPENED');
  expect(sim.unlockCount(1)).toBe(unlocksBefore + 1);
  sim.takeItem(1);
  sim.closeDoor(1);
  await waitFor(() => requireRequest(store.ctx, request.id).state === 'collected', 'the pickup to finish');
});
