/**
 * At the touchscreen, through the HTTP routes: wrong typed codes make the screen wait a few seconds, and the
 * next resident's QR code opens at once all the same (nobody at the screen can lock every resident out).
 */
import { afterEach, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/app-harness.js';
import { waitFor } from '../../test/harness.js';
import { staffActor, residentActor } from '../domain/types.js';
import { reconcile } from '../flows/reconcile.js';
import { silentLogger } from '../log.js';
import { activeCredentials, createRequest, makeRequestQrToken, requireRequest, transitionRequest } from '../store/index.js';
import { makeResident } from '../store/test-support.js';

let h: TestApp;
afterEach(() => h.close());

it('after ten wrong typed codes the kiosk waits at most 30 s for codes, and a valid pickup QR still opens its door', async () => {
  h = await startTestApp();
  await reconcile(h.flows, { store: h.store, driver: h.driver, bus: h.bus, config: h.deps.config, logger: silentLogger() });
  const staff = await h.staffSession();
  const res = makeResident(h.store);
  const { request } = createRequest(h.store.ctx, { residentId: res.id, serviceCode: 'residence_certificate' }, residentActor(res.id));
  transitionRequest(h.store.ctx, { requestId: request.id, event: 'accept', actor: staffActor(staff.id) });
  transitionRequest(h.store.ctx, { requestId: request.id, event: 'mark_ready', actor: staffActor(staff.id) });
  const load = await staff.api.post(`/api/staff/requests/${request.id}/load`);
  const no = load.body.compartment as number;
  await waitFor(() => h.cabinet.compartment(no).doorOpen, 'the door open for loading');
  h.cabinet.putItem(no);
  h.cabinet.closeDoor(no);
  await waitFor(() => requireRequest(h.store.ctx, request.id).state === 'loaded', 'the request loaded');
  const credentialId = activeCredentials(h.store.ctx, request.id).find((c) => c.purpose === 'pickup')!.credentialId;

  let last: { code: string; retryAfterMs?: number } = { code: '' };
  for (let i = 0; i < 10; i++) {
    last = (await h.kiosk.post('/api/kiosk/pickup', { body: { code: '00000000', phoneLast4: String(2000 + i) } })).body;
  }
  expect(last.code).toBe('LOCKED');
  expect(last.retryAfterMs).toBeGreaterThan(0);
  expect(last.retryAfterMs).toBeLessThanOrEqual(30_000);
  const token = makeRequestQrToken(h.store.keys, { requestId: request.id, credentialId, purpose: 'pickup' });
  const scan = await h.kiosk.post('/api/kiosk/scan', { body: { text: token } });
  expect(scan.status).toBe(200);
  expect(scan.body).toMatchObject({ ok: true, code: 'OPENED', compartments: [no] });
});
