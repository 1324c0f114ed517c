/**
 * Request bodies: JSON only (415 otherwise), a body the route needs is required (400 without one), too large is
 * 413 — and the OpenAPI document says so for every route that takes a body.
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

const fill = (path: string) => path.replace(/:[A-Za-z0-9_]+/g, '1');

it('every route with a body answers 415 to a body that is not JSON, in the one error shape, and changes nothing', async () => {
  const routes = allRoutes(h.deps).filter((r) => r.body && r.path !== '/api/staff/logout');
  expect(routes.length).toBeGreaterThan(10);
  const auditBefore = h.store.db.prepare('SELECT count(*) AS n FROM audit_log').get();
  for (const spec of routes) {
    const client = spec.access === 'kiosk' ? h.kiosk : admin;
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const r = await client.request(spec.method.toUpperCase(), fill(spec.path), {
        rawBody: 'reason=abc&code=12345678',
        headers: { 'Content-Type': type },
      });
      expect([spec.path, type, r.status]).toEqual([spec.path, type, 415]);
      expect(r.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  }
  expect(h.store.db.prepare('SELECT count(*) AS n FROM audit_log').get()).toEqual(auditBefore);
});

it('a route whose body has required fields answers 400 BODY_REQUIRED without one; the document says which bodies are required', async () => {
  const doc = (await h.api.get('/api/openapi.json')).body as {
    paths: Record<string, Record<string, { requestBody?: { required: boolean }; responses: Record<string, unknown> }>>;
  };
  let required = 0;
  for (const spec of allRoutes(h.deps).filter((r) => r.body)) {
    const op = doc.paths[spec.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')]![spec.method]!;
    expect([spec.path, Object.keys(op.responses).filter((s) => s === '413' || s === '415')]).toEqual([spec.path, ['413', '415']]);
    const needsBody = !spec.body!.safeParse({}).success;
    expect([spec.path, op.requestBody?.required]).toEqual([spec.path, needsBody]);
    if (!needsBody) continue;
    required++;
    const client = spec.access === 'kiosk' ? h.kiosk : admin;
    const r = await client.request(spec.method.toUpperCase(), fill(spec.path));
    expect([spec.path, r.status, r.body.error.code]).toEqual([spec.path, 400, 'BODY_REQUIRED']);
  }
  expect(required).toBeGreaterThan(5);
});
