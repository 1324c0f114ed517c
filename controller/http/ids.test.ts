/**
 * Ids in paths and queries: one way to write them (decimal, no sign, no leading zero, no fraction, no hex or
 * exponent) and one range on every route, answered 400 in the one error shape otherwise.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/app-harness.js';
import type { ApiClient } from '../../test/api-client.js';
import { allRoutes } from './app.js';

let h: TestApp;
let admin: ApiClient;
beforeAll(async () => {
  h = await startTestApp();
  admin = (await h.staffSession('admin')).api;
});
afterAll(() => h.close());

const BAD = ['1.0', '01', '0x1', '1e0', '+1', '-1', '0', ' 1', '1 ', '١'];

it('every route with an id or compartment number refuses 1.0, 01, 0x1 and the like with 400', async () => {
  const routes = allRoutes(h.deps).filter((r) => /:(id|no)\b/.test(r.path));
  expect(routes.length).toBeGreaterThan(10);
  for (const spec of routes) {
    for (const bad of BAD) {
      const path = spec.path.replace(/:(id|no)\b/, encodeURIComponent(bad));
      const client = spec.access === 'kiosk' ? h.kiosk : admin;
      const r = await client.request(spec.method.toUpperCase(), path, spec.method === 'get' ? {} : { body: { reason: '测试原因', note: 'x' } });
      expect([spec.method, spec.path, bad, r.status]).toEqual([spec.method, spec.path, bad, 400]);
      expect(r.body.error.code).toBe('BAD_INPUT');
    }
  }
});

it('request ids have the same range on every route: 2^31-1 is an id (404), 2^31 is not (400)', async () => {
  const routes = allRoutes(h.deps).filter((r) => /:id\b/.test(r.path));
  for (const spec of routes) {
    const call = (v: string) =>
      admin.request(
        spec.method.toUpperCase(),
        spec.path.replace(/:id\b/, v),
        spec.method === 'get' ? { query: { purpose: '核对身份' } } : { body: { reason: '测试原因', note: 'x' } },
      );
    expect([spec.path, (await call('2147483648')).status]).toEqual([spec.path, 400]);
    expect([spec.path, (await call('2147483647')).status]).not.toEqual([spec.path, 400]);
  }
});
