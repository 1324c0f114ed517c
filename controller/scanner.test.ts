/**
 * A serial QR scanner (here: the simulator's scanner output over TCP, as a serial device server
 * would carry it) feeds the same scan handler as the kiosk page: a scanned pickup QR opens its door.
 */
import { afterEach, expect, it } from 'vitest';
import { waitFor } from '../test/harness.js';
import { readyRequest, world, type Cleanups } from './flows/test-support.js';
import { silentLogger } from './log.js';
import { ScannerInput, scannerEndpoint } from './scanner.js';
import { activeCredentials, makeRequestQrToken, requireRequest } from './store/index.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

it('a QR read by the serial scanner opens the compartment, and garbage from it opens nothing', async () => {
  const w = await world(cleanups); // reconciled: door actions are ready
  const { sim, store, flows, bus } = w;
  const scans: string[] = [];
  bus.on('scan', (e) => scans.push(`${e.source}:${e.outcome}`));

  // A document waiting in compartment 1.
  const request = { id: readyRequest(w).requestId };
  const load = await flows.load(w.staffId, request.id);
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
