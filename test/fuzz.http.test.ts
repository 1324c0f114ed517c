/**
 * Bad input of any kind gets a clear answer and changes nothing that matters: random JSON bodies and
 * random path parameters against every route that takes them, signed in as an administrator (so that
 * validation, not the access check, is what answers). The ApiClient fails the test on any status the
 * route does not document (a 500 is never documented) or on an answer that does not match its schema.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { allRoutes } from '../controller/http/app.js';
import type { RouteSpec } from '../controller/http/routes.js';
import { startTestApp, type TestApp } from './app-harness.js';
import type { ApiClient } from './api-client.js';

let h: TestApp;
let admin: ApiClient;
beforeAll(async () => {
  h = await startTestApp();
  h.flows.markReady();
  admin = (await h.staffSession('admin')).api;
});
afterAll(() => h.close());

const pathValue = fc.oneof(
  fc.integer({ min: -5, max: 2 ** 40 }).map(String),
  fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes('/') && !s.includes('?') && !s.includes('#') && s !== '.' && s !== '..'),
  fc.constantFrom('0', '1', '24', '25', '1e3', '0x10', ' 1', 'null', '%00', '-1'),
);

/** A concrete path for a declared route, with each :param replaced. */
function fill(spec: RouteSpec, values: string[]): string {
  let i = 0;
  return spec.path.replace(/:[A-Za-z0-9_]+/g, () => encodeURIComponent(values[i++] ?? '1'));
}

it('no random body or path parameter gets an undocumented answer, and the service stays up', async () => {
  const routes = allRoutes(h.deps).filter((r) => r.method !== 'get' && r.path !== '/api/staff/logout' && r.path !== '/api/staff/me/pin');
  expect(routes.length).toBeGreaterThan(20);
  const unlocksBefore = h.cabinet.getCounters().unlocksExecuted;
  const seen = new Map<number, number>();
  for (const spec of routes) {
    await fc.assert(
      fc.asyncProperty(fc.array(pathValue, { minLength: 3, maxLength: 3 }), fc.anything({ maxDepth: 2 }), async (params, body) => {
        const r = await (spec.access === 'kiosk' ? h.kiosk : admin).request(spec.method.toUpperCase(), fill(spec, params), { body });
        seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
        expect(r.status).toBeGreaterThanOrEqual(200);
        expect(r.status).toBeLessThan(500);
      }),
      { numRuns: 15, seed: 20261122 },
    );
  }
  // The inputs reached validation and beyond, not just the access check.
  expect(seen.get(400) ?? 0).toBeGreaterThan(100);
  if (process.env.FUZZ_REPORT) console.log('statuses', Object.fromEntries(seen));
  const health = await h.api.get<{ link: { state: string } }>('/api/health');
  expect(health.status).toBe(200);
  expect(health.body.link.state).toBe('online');
  // Random input never opened a door.
  expect(h.cabinet.getCounters().unlocksExecuted).toEqual(unlocksBefore);
}, 120_000);
