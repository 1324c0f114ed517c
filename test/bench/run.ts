/**
 * Benchmarks (`npm run bench`): numbers, not pass/fail; not part of `npm test`.
 *   1. codec: frames encoded and decoded per second
 *   2. unlock round trip (command → ACK) through the real driver to the simulated board, over the
 *      in-process pipe, TCP, a socat pty pair, and the pty pair with bytes paced at 9600 Bd
 *   3. scan-to-door-open at the kiosk: POST /api/kiosk/pickup → answer "door open", through the
 *      whole app (HTTP, SQLite, flows, driver, simulated board)
 */
import { performance } from 'node:perf_hooks';
import { decode, encode, type Message } from '../../firmware-protocol/index.js';
import { reconcile } from '../../controller/flows/reconcile.js';
import { silentLogger } from '../../controller/log.js';
import { residentActor, staffActor } from '../../controller/domain/types.js';
import { createRequest, listNotifications, readNotificationSecret, transitionRequest } from '../../controller/store/index.js';
import { makeResident } from '../../controller/store/test-support.js';
import { serialEndpoint, streamEndpoint, tcpEndpoint, type Endpoint } from '../../controller/transport/endpoints.js';
import { SimCabinet } from '../../sim/cabinet.js';
import { startTestApp } from '../app-harness.js';
import { createDriver, hasCommand, PtyPair, waitFor } from '../harness.js';

function stats(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `n=${s.length} mean=${mean.toFixed(2)} ms p50=${q(0.5).toFixed(2)} p95=${q(0.95).toFixed(2)} max=${s[s.length - 1]!.toFixed(2)}`;
}

function benchCodec(): void {
  const frames: Message[] = [
    { kind: 'unlock', addr: 1, seq: 0x1234, channel: 7, pulseMs: 300 },
    { kind: 'ack-status', addr: 1, seq: 0x1235, eventCounter: 42, doors: new Array(24).fill('C'), items: new Array(24).fill(false), faults: new Array(24).fill('NONE') },
    { kind: 'door', addr: 1, seq: 9, channel: 3, level: 'O' },
  ];
  for (const m of frames) {
    const line = encode(m);
    const n = 200_000;
    let t = performance.now();
    for (let i = 0; i < n; i++) encode(m);
    const enc = n / ((performance.now() - t) / 1000);
    t = performance.now();
    for (let i = 0; i < n; i++) decode(line);
    const dec = n / ((performance.now() - t) / 1000);
    console.log(`codec ${m.kind.padEnd(10)} ${line.length + 1} B  encode ${Math.round(enc).toLocaleString('en')}/s  decode ${Math.round(dec).toLocaleString('en')}/s`);
  }
}

async function benchUnlock(name: string, endpoint: Endpoint, rounds = 24): Promise<void> {
  const driver = createDriver(endpoint, { responseTimeoutMs: 2000 });
  await driver.start();
  await waitFor(() => driver.snapshot().boards.every((b) => b.online), `${name} online`, 10_000);
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const n = (i % 24) + 1;
    const t = performance.now();
    await driver.unlock(n);
    samples.push(performance.now() - t);
  }
  console.log(`unlock→ACK ${name.padEnd(22)} ${stats(samples)}`);
  await driver.stop();
}

async function benchLinks(): Promise<void> {
  {
    const sim = new SimCabinet({ springMs: 1, autoCloseMs: 5 });
    await benchUnlock('in-process', streamEndpoint('in-process', () => sim.connectInProcess()));
    await sim.close();
  }
  {
    const sim = new SimCabinet({ springMs: 1, autoCloseMs: 5 });
    const { port } = await sim.listenTcp('127.0.0.1', 0);
    await benchUnlock('tcp', tcpEndpoint('127.0.0.1', port));
    await sim.close();
  }
  if (!hasCommand('socat')) {
    console.log('pty: socat not installed, skipped');
    return;
  }
  for (const pacing of [false, true]) {
    const pty = new PtyPair();
    await pty.start();
    const sim = new SimCabinet({ springMs: 1, autoCloseMs: 5, serialRetryMs: 50, faults: { pacing } });
    sim.openSerial(pty.b, 9600);
    await benchUnlock(pacing ? 'pty, paced 9600 Bd' : 'pty (memory speed)', serialEndpoint(pty.a, 9600));
    await sim.close();
    await pty.stop();
  }
}

async function benchKiosk(): Promise<void> {
  const h = await startTestApp();
  await reconcile(h.flows, { store: h.store, driver: h.driver, bus: h.bus, config: h.deps.config, logger: silentLogger() });
  const staff = await h.staffSession('staff');
  const samples: number[] = [];
  // 8 loads + 8 pickups stay under the cabinet's default cap of 20 unlocks a minute.
  for (let i = 0; i < 8; i++) {
    const resident = makeResident(h.store);
    const { request } = createRequest(h.store.ctx, { residentId: resident.id, serviceCode: 'residence_certificate' }, residentActor(resident.id));
    for (const event of ['accept', 'mark_ready'] as const) transitionRequest(h.store.ctx, { requestId: request.id, event, actor: staffActor(staff.id) });
    const load = await staff.api.post<{ opened: boolean; compartment: number }>(`/api/staff/requests/${request.id}/load`);
    if (!load.body.opened) throw new Error(`load did not open a door: ${JSON.stringify(load.body)}`);
    const no = load.body.compartment;
    h.cabinet.putItem(no);
    h.cabinet.closeDoor(no);
    await waitFor(() => listNotifications(h.store.ctx, { requestId: request.id }).length > 0, 'the pickup code');
    const n = listNotifications(h.store.ctx, { requestId: request.id })[0]!;
    const code = readNotificationSecret(h.store.ctx, n.id)!.code;
    // A resident comes later than the loading pulse ends (a coil still pulsing answers BUSY).
    await new Promise((r) => setTimeout(r, 400));
    const t = performance.now();
    const r = await h.kiosk.post<{ ok: boolean }>('/api/kiosk/pickup', { body: { code, phoneLast4: resident.mobile.slice(-4) } });
    samples.push(performance.now() - t);
    if (!r.body.ok) throw new Error('pickup refused');
    h.cabinet.takeItem(no);
    h.cabinet.closeDoor(no);
    await waitFor(() => h.driver.snapshot().compartments[no - 1]!.door === 'closed', 'door closed');
  }
  console.log(`kiosk code → door open (HTTP, SQLite, board) ${stats(samples)}`);
  await h.close();
}

benchCodec();
await benchLinks();
await benchKiosk();
