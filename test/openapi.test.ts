/**
 * The OpenAPI document against the app that actually runs:
 *   - every route express serves (walked from app.router.stack, door routes included) is described, with the
 *     same method and path, and nothing is described that is not served;
 *   - the document looks like valid OpenAPI 3.1 (paths, responses with descriptions, unique operationIds,
 *     path parameters declared, $refs that resolve);
 *   - every described operation is called for real: without the caller it needs (401 / 403), with a bad input
 *     (400 in the one error shape), and with a valid input where that opens no door. Each answer's status must
 *     be listed for that operation in the document, and its JSON body must parse with the route's own zod
 *     schema for that status (test/api-client.ts checks that on every call).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../controller/http/app.js';
import { openApiPath } from '../controller/http/openapi.js';
import type { ApiAnswer, ApiClient } from './api-client.js';
import { startTestApp, uniqueIdNumber, type TestApp } from './app-harness.js';
import { said } from '../controller/words/keys.js';

type Json = Record<string, any>;

let h: TestApp;
let doc: Json;
let staffApi: ApiClient;
let adminApi: ApiClient;
const calls = new Map<string, number[]>(); // "get /api/x/{id}" → statuses seen

beforeAll(async () => {
  h = await startTestApp();
  const r = await h.api.get('/api/openapi.json');
  expect(r.status).toBe(200);
  doc = r.body;
  staffApi = (await h.staffSession('staff')).api;
  adminApi = (await h.staffSession('admin')).api;
});
afterAll(async () => {
  await h.close();
});

function operations(): { key: string; method: string; path: string; op: Json }[] {
  const out: { key: string; method: string; path: string; op: Json }[] = [];
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    for (const [method, op] of Object.entries(item as Json)) out.push({ key: `${method} ${path}`, method, path, op: op as Json });
  }
  return out;
}

/** Records the call and checks the status is listed for the operation in the document. */
function seen(key: string, r: ApiAnswer): ApiAnswer {
  const [method, path] = key.split(' ') as [string, string];
  const op = (doc.paths as Json)[path]?.[method] as Json | undefined;
  expect(op, key).toBeDefined();
  expect(Object.keys(op!.responses), `${key} answered ${r.status}: ${JSON.stringify(r.body)?.slice(0, 200)}`).toContain(String(r.status));
  calls.set(key, [...(calls.get(key) ?? []), r.status]);
  return r;
}

const fill = (path: string, values: Record<string, string>): string =>
  path.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? '1'));

function clientFor(access: string): ApiClient {
  return access === 'admin' ? adminApi : access === 'staff' ? staffApi : access === 'kiosk' ? h.kiosk : h.api;
}

describe('OpenAPI document', () => {
  it('describes exactly the routes the app serves (door routes included)', () => {
    const app = createApp(h.deps) as unknown as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } };
    const served = new Set<string>();
    const pages = new Set<string>();
    for (const layer of app.router.stack) {
      if (!layer.route) continue;
      // HTML pages for people (kiosk-ui/) are not part of the JSON API; everything under /api is.
      const into = layer.route.path.startsWith('/api/') ? served : pages;
      for (const m of Object.keys(layer.route.methods)) if (m !== '_all') into.add(`${m} ${openApiPath(layer.route.path)}`);
    }
    expect([...pages].sort()).toEqual(['get /', 'get /kiosk', 'get /m/status/{token}', 'get /m/submit', 'get /staff']);
    const described = new Set(operations().map((o) => o.key));
    expect(served.size).toBeGreaterThan(30);
    expect(
      [...served].filter((k) => !described.has(k)),
      'served but not described',
    ).toEqual([]);
    expect(
      [...described].filter((k) => !served.has(k)),
      'described but not served',
    ).toEqual([]);
    expect(served.has('post /api/staff/login')).toBe(true);
  });

  it('looks like valid OpenAPI 3.1', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    const ids = new Set<string>();
    for (const { key, path, op } of operations()) {
      expect(path.startsWith('/'), key).toBe(true);
      expect(typeof op.operationId, key).toBe('string');
      expect(ids.has(op.operationId), `duplicate operationId ${op.operationId}`).toBe(false);
      ids.add(op.operationId);
      expect(Object.keys(op.responses).length, key).toBeGreaterThan(0);
      for (const [status, resp] of Object.entries(op.responses as Json)) {
        expect(status, key).toMatch(/^[1-5]\d\d$/);
        expect(typeof (resp as Json).description, `${key} ${status}`).toBe('string');
      }
      const declared = new Set(((op.parameters ?? []) as Json[]).filter((p) => p.in === 'path').map((p) => p.name));
      for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) expect(declared.has(name), `${key}: path parameter ${name}`).toBe(true);
      for (const p of (op.parameters ?? []) as Json[]) expect(['path', 'query', 'header', 'cookie'], key).toContain(p.in);
      for (const s of op.security as Json[]) for (const name of Object.keys(s)) expect(doc.components.securitySchemes[name], key).toBeDefined();
    }
    for (const [, ref] of JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g))
      expect(doc.components.schemas[ref!], ref).toBeDefined();
  });
});

describe('every operation, called for real', () => {
  it('answers 401/403 to a caller without the access it needs', async () => {
    for (const { key, path, op } of operations()) {
      const access = op['x-access'] as string;
      const url = fill(path, {});
      const method = key.split(' ')[0]!.toUpperCase();
      const opts = method === 'GET' ? {} : { body: {} };
      if (access === 'staff' || access === 'admin') {
        const r = seen(key, await h.api.request(method, url, opts));
        expect(r.status, key).toBe(401);
        expect(r.body.error.code).toBe('UNAUTHENTICATED');
        if (access === 'admin') {
          const s = seen(key, await staffApi.request(method, url, opts));
          expect(s.status, key).toBe(403);
        }
      } else if (access === 'kiosk') {
        const r = seen(key, await h.api.request(method, url, { ...opts, headers: { 'X-Forwarded-For': '198.51.100.4' } }));
        expect(r.status, key).toBe(403);
        expect(r.body.error.code).toBe('KIOSK_ONLY');
      }
    }
  });

  it('answers 400 in the one error shape to a bad input', async () => {
    const good = { id: '1', no: '1', token: 'A'.repeat(22), code: 'residence_certificate' };
    let tried = 0;
    for (const { key, path, op } of operations()) {
      const method = key.split(' ')[0]!.toUpperCase();
      const api = clientFor(op['x-access'] as string);
      const params = (op.parameters ?? []) as Json[];
      const pathParams = params.filter((p) => p.in === 'path');
      const query = params.filter((p) => p.in === 'query');
      let r: ApiAnswer | null = null;
      if (op.requestBody) {
        r = await api.request(method, fill(path, good), { body: ['not', 'an', 'object'] });
      } else if (pathParams.length > 0) {
        r = await api.request(method, fill(path, Object.fromEntries(pathParams.map((p) => [p.name, 'not valid!']))));
      } else if (query.some((p) => p.required)) {
        r = await api.request(method, path);
      } else {
        const typed = query.find((p) => p.schema?.enum || p.schema?.type === 'integer' || p.schema?.anyOf);
        if (typed) r = await api.request(method, path, { query: { [typed.name]: 'zzz-not-valid' } });
      }
      if (!r) continue;
      tried++;
      seen(key, r);
      expect(r.status, `${key}: ${JSON.stringify(r.body)}`).toBe(400);
      expect(r.body.error.message.length, key).toBeGreaterThan(0);
    }
    expect(tried).toBeGreaterThan(20);
  });

  it('answers valid calls with a documented status and body', async () => {
    // safe GETs without required input
    for (const { key, path, op } of operations()) {
      if (!key.startsWith('get ')) continue;
      const params = (op.parameters ?? []) as Json[];
      if (params.some((p) => p.in === 'path' || p.required)) continue;
      const r = seen(key, await clientFor(op['x-access'] as string).get(path));
      expect(r.status, key).toBeLessThan(300);
    }

    // the phone side
    const sub = seen(
      'post /api/requests',
      await h.api.post('/api/requests', {
        body: {
          name: '张三',
          mobile: '13812345678',
          idNumber: uniqueIdNumber(77),
          address: { building: '5号楼', unit: '1', room: '101' },
          serviceCode: 'residence_certificate',
        },
      }),
    );
    expect(sub.status).toBe(201);
    const { statusToken, residentToken, requestId } = sub.body as { statusToken: string; residentToken: string; requestId: number };
    expect(seen('get /api/requests/status/{token}', await h.api.get(`/api/requests/status/${statusToken}`)).status).toBe(200);
    for (const f of ['svg', 'png']) {
      expect(
        seen(`get /api/requests/status/{token}/pickup-qr.${f}`, await h.api.get(`/api/requests/status/${statusToken}/pickup-qr.${f}`)).status,
      ).toBe(404);
      expect(seen(`get /api/residents/qr.${f}`, await h.api.get(`/api/residents/qr.${f}`, { query: { token: residentToken } })).status).toBe(200);
    }

    // the console
    const id = String(requestId);
    expect(seen('get /api/staff/requests/{id}', await staffApi.get(`/api/staff/requests/${id}`)).status).toBe(200);
    expect(
      seen('get /api/staff/requests/{id}/id-number', await staffApi.get(`/api/staff/requests/${id}/id-number`, { query: { purpose: '核对身份' } }))
        .status,
    ).toBe(200);
    expect(seen('post /api/staff/requests/{id}/reissue-code', await staffApi.post(`/api/staff/requests/${id}/reissue-code`)).status).toBe(409);
    expect(seen('post /api/staff/requests/{id}/accept', await staffApi.post(`/api/staff/requests/${id}/accept`)).status).toBe(200);
    expect(seen('post /api/staff/requests/{id}/ready', await staffApi.post(`/api/staff/requests/${id}/ready`)).status).toBe(200);
    expect(
      seen('post /api/staff/requests/{id}/cancel', await staffApi.post(`/api/staff/requests/${id}/cancel`, { body: { reason: '居民不需要了' } }))
        .status,
    ).toBe(200);
    const second = await h.api.post('/api/requests', {
      body: {
        name: '李四',
        mobile: '13912345678',
        serviceCode: 'residence_certificate',
        idNumber: uniqueIdNumber(78),
        address: { building: '5号楼', unit: '1', room: '102' },
      },
    });
    const id2 = String(second.body.requestId);
    expect(seen('post /api/staff/requests/{id}/request-materials', await staffApi.post(`/api/staff/requests/${id2}/request-materials`)).status).toBe(
      200,
    );
    expect(
      seen('post /api/staff/requests/{id}/reject', await staffApi.post(`/api/staff/requests/${id2}/reject`, { body: { reason: '材料不全' } })).status,
    ).toBe(200);

    // alarms: dealt with once
    const alarm = h.bus.alarm('tamper', said('alarm.tamper', { no: 9 }), { compartment: 9 });
    expect(
      seen('post /api/staff/alarms/{id}/ack', await staffApi.post(`/api/staff/alarms/${alarm.id}/ack`, { body: { note: '已检查' } })).status,
    ).toBe(200);
    expect(seen('post /api/staff/alarms/{id}/ack', await staffApi.post(`/api/staff/alarms/${alarm.id}/ack`)).status).toBe(409);
    expect(seen('post /api/staff/alarms/{id}/ack', await staffApi.post('/api/staff/alarms/99999/ack')).status).toBe(404);

    // accounts and catalogue
    const acc = seen('post /api/staff/accounts', await adminApi.post('/api/staff/accounts', { body: { login: 'zhaoliu', name: '赵六' } }));
    expect(acc.status).toBe(201);
    const accId = String(acc.body.account.id);
    for (const action of ['disable', 'enable', 'reset-pin']) {
      expect(seen(`post /api/staff/accounts/{id}/${action}`, await adminApi.post(`/api/staff/accounts/${accId}/${action}`)).status).toBe(200);
    }
    expect(
      seen(
        'put /api/staff/services/{code}',
        await adminApi.put('/api/staff/services/residence_certificate', {
          body: { nameZh: '居住证明', nameEn: 'Residence certificate', needs: { idNumber: true, address: true } },
        }),
      ).status,
    ).toBe(200);

    // sign-in, PIN change, sign-out
    const login = seen('post /api/staff/login', await h.api.post('/api/staff/login', { body: { login: 'zhaoliu', pin: acc.body.pin } }));
    expect(login.status).toBe(401); // the PIN was reset above
    const s = await h.staffSession('staff');
    expect(seen('post /api/staff/me/pin', await s.api.post('/api/staff/me/pin', { body: { currentPin: '246813', newPin: '864209' } })).status).toBe(
      200,
    );
    expect(seen('post /api/staff/logout', await s.api.post('/api/staff/logout')).status).toBe(200);
    expect(seen('post /api/staff/login', await h.api.post('/api/staff/login', { body: { login: s.login, pin: '864209' } })).status).toBe(200);
  });

  it('called every described operation at least once', () => {
    const missing = operations()
      .map((o) => o.key)
      .filter((k) => !calls.has(k));
    expect(missing).toEqual([]);
  });
});
