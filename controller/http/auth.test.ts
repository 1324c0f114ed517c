/**
 * Who may call what, against the real app: staff sign-in (same answer for wrong login and wrong PIN,
 * lockout kept in the database, logout, idle and absolute expiry on an injected clock, disabled accounts,
 * PIN change), 401/403 per access level, the kiosk-only rule, and the CabinetError → HTTP mapping.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TransitionError } from '../domain/request-states.js';
import { SYSTEM_ACTOR } from '../domain/types.js';
import { CabinetError } from '../errors.js';
import { createStaff, sessionTokenHash } from '../store/index.js';
import { FakeClock, FAST_SCRYPT } from '../store/test-support.js';
import { startTestApp, TEST_PIN, type TestApp } from '../../test/app-harness.js';
import { mapError, secretEquals } from './auth.js';

let h: TestApp;
afterEach(async () => {
  await h.close();
});

const KEY = 'k'.repeat(12) + 'iosk-device-key-0001';

describe('staff sign-in', () => {
  it('signs in, answers who it is, keeps only a hash of the token, and signs out', async () => {
    h = await startTestApp();
    await createStaff(h.store.ctx, { login: 'lisi', name: '李四', role: 'staff', pin: TEST_PIN }, SYSTEM_ACTOR, FAST_SCRYPT);
    const r = await h.api.post('/api/staff/login', { body: { login: 'LiSi', pin: TEST_PIN } });
    expect(r.status).toBe(200);
    expect(r.body.staff).toMatchObject({ login: 'lisi', name: '李四', role: 'staff', mustChangePin: false });
    expect(r.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits
    const rows = h.store.db.prepare('SELECT token_hash FROM staff_sessions').all() as { token_hash: Buffer }[];
    expect(rows).toEqual([{ token_hash: sessionTokenHash(r.body.token) }]);
    expect(Date.parse(r.body.expiresAt) - Date.now()).toBeGreaterThan(11 * 3600_000);

    const me = await h.api.as(r.body.token).get('/api/staff/me');
    expect(me.status).toBe(200);
    expect(me.body.staff.login).toBe('lisi');

    expect((await h.api.as(r.body.token).post('/api/staff/logout')).status).toBe(200);
    const after = await h.api.as(r.body.token).get('/api/staff/me');
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('UNAUTHENTICATED');
    expect(h.store.db.prepare('SELECT count(*) AS n FROM staff_sessions').get()).toEqual({ n: 0 });
  });

  it('gives the same answer for an unknown login and a wrong PIN, then locks out (counters in the database)', async () => {
    h = await startTestApp();
    await createStaff(h.store.ctx, { login: 'lisi', name: '李四', role: 'staff', pin: TEST_PIN }, SYSTEM_ACTOR, FAST_SCRYPT);
    const unknown = await h.api.post('/api/staff/login', { body: { login: 'nobody', pin: '135790' } });
    const wrong = await h.api.post('/api/staff/login', { body: { login: 'lisi', pin: '135790' } });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(wrong.body.error).toMatchObject({ key: 'error.INVALID_LOGIN', message: '账号或 PIN 不正确' });
    // five failures lock (this login, and this device: the unknown login counted for the device too)
    for (let i = 0; i < 2; i++) expect((await h.api.post('/api/staff/login', { body: { login: 'lisi', pin: '135790' } })).status).toBe(401);
    const locked = await h.api.post('/api/staff/login', { body: { login: 'lisi', pin: '135790' } });
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('LOGIN_LOCKED');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    // even the right PIN waits now
    expect((await h.api.post('/api/staff/login', { body: { login: 'lisi', pin: TEST_PIN } })).status).toBe(429);
    const counter = h.store.db.prepare(`SELECT locked_until FROM attempt_counters WHERE scope = 'device' AND key = 'http:127.0.0.1'`).get() as {
      locked_until: number;
    };
    expect(counter.locked_until).toBeGreaterThan(Date.now());
  });

  it('ends a session after 30 minutes unused (sliding) and 12 hours after sign-in', async () => {
    const clock = new FakeClock(Date.now());
    h = await startTestApp({ clock });
    const { api } = await h.staffSession();
    clock.advance(29 * 60_000);
    expect((await api.get('/api/staff/me')).status).toBe(200); // (the /me call itself does not slide, the auth check does)
    clock.advance(29 * 60_000);
    expect((await api.get('/api/staff/alarms')).status).toBe(200);
    clock.advance(31 * 60_000);
    expect((await api.get('/api/staff/alarms')).status).toBe(401);

    const second = await h.staffSession();
    for (let t = 0; t < 12 * 60; t += 25) {
      clock.advance(25 * 60_000);
      const r = await second.api.get('/api/staff/alarms');
      if (t + 25 < 12 * 60) expect(r.status).toBe(200);
      else expect(r.status).toBe(401);
    }
  });

  it('a disabled account’s sessions stop at once; the admin routes need the admin role', async () => {
    h = await startTestApp();
    const admin = await h.staffSession('admin');
    const staff = await h.staffSession('staff');
    expect((await staff.api.get('/api/staff/accounts')).status).toBe(403);
    expect((await staff.api.get('/api/staff/accounts')).body.error.code).toBe('ADMIN_ONLY');
    expect((await admin.api.get('/api/staff/accounts')).status).toBe(200);

    // a row left behind does not help a disabled account either
    h.store.db.prepare('UPDATE staff SET disabled = 1 WHERE id = ?').run(staff.id);
    expect((await staff.api.get('/api/staff/me')).status).toBe(401);
    h.store.db.prepare('UPDATE staff SET disabled = 0 WHERE id = ?').run(staff.id);
    expect((await staff.api.get('/api/staff/me')).status).toBe(200);

    const off = await admin.api.post(`/api/staff/accounts/${staff.id}/disable`);
    expect(off.status).toBe(200);
    expect(off.body.account.disabled).toBe(true);
    expect((await staff.api.get('/api/staff/me')).status).toBe(401);
    expect((await h.api.post('/api/staff/login', { body: { login: staff.login, pin: TEST_PIN } })).status).toBe(401);
    expect((await admin.api.post(`/api/staff/accounts/${staff.id}/enable`)).status).toBe(200);
    expect((await h.api.post('/api/staff/login', { body: { login: staff.login, pin: TEST_PIN } })).status).toBe(200);
  });

  it('a new account must change its generated PIN before anything else; the change ends its other sessions', async () => {
    h = await startTestApp();
    const admin = await h.staffSession('admin');
    const created = await admin.api.post('/api/staff/accounts', { body: { login: 'wangwu', name: '王五', role: 'staff' } });
    expect(created.status).toBe(201);
    expect(created.body.pin).toMatch(/^\d{8}$/);
    expect(created.body.account.mustChangePin).toBe(true);
    expect(JSON.stringify(h.store.db.prepare('SELECT * FROM audit_log').all())).not.toContain(created.body.pin);

    const login = await h.api.post('/api/staff/login', { body: { login: 'wangwu', pin: created.body.pin } });
    const other = await h.api.post('/api/staff/login', { body: { login: 'wangwu', pin: created.body.pin } });
    const api = h.api.as(login.body.token);
    const blocked = await api.get('/api/staff/requests');
    expect(blocked.status).toBe(403);
    expect(blocked.body.error.code).toBe('PIN_CHANGE_REQUIRED');
    expect((await api.get('/api/staff/me')).body.staff.mustChangePin).toBe(true);

    const weak = await api.post('/api/staff/me/pin', { body: { currentPin: created.body.pin, newPin: '123456' } });
    expect(weak.status).toBe(400);
    expect(weak.body.error.field).toBe('newPin');
    const wrongCurrent = await api.post('/api/staff/me/pin', { body: { currentPin: '000000', newPin: '864209' } });
    expect(wrongCurrent.status).toBe(401);
    const ok = await api.post('/api/staff/me/pin', { body: { currentPin: created.body.pin, newPin: '864209' } });
    expect(ok.status).toBe(200);
    expect((await api.get('/api/staff/requests')).status).toBe(200);
    expect((await h.api.as(other.body.token).get('/api/staff/me')).status).toBe(401);

    // an admin reset gives a new one-time PIN and ends the sessions
    const reset = await admin.api.post(`/api/staff/accounts/${created.body.account.id}/reset-pin`);
    expect(reset.status).toBe(200);
    expect(reset.body.account.mustChangePin).toBe(true);
    expect((await api.get('/api/staff/me')).status).toBe(401);
    expect((await h.api.post('/api/staff/login', { body: { login: 'wangwu', pin: reset.body.pin } })).status).toBe(200);
  });
});

describe('access levels', () => {
  it('staff and admin routes answer 401 without a session and with a made-up token', async () => {
    h = await startTestApp();
    for (const path of ['/api/staff/requests', '/api/staff/compartments', '/api/staff/accounts', '/api/staff/me']) {
      const none = await h.api.get(path);
      expect(none.status, path).toBe(401);
      expect(none.body.error.code).toBe('UNAUTHENTICATED');
      expect((await h.api.as('A'.repeat(43)).get(path)).status, path).toBe(401);
      expect((await h.api.get(path, { headers: { Authorization: 'Basic YWRtaW46MTIzNDU2' } })).status, path).toBe(401);
    }
  });

  it('kiosk routes: only the kiosk listener (127.0.0.1) is the kiosk; loopback on the public port is not (a relay there is any phone)', async () => {
    h = await startTestApp();
    const local = await h.kiosk.get('/api/kiosk/info');
    expect(local.status).toBe(200);
    expect(local.body).toMatchObject({ link: 'online', freeCompartments: 24, deviceId: 'kiosk-1', submitUrl: `${h.url}/m/submit` });
    // nginx without X-Forwarded-For, stunnel, ssh -L, a TCP relay: all arrive on the public port from loopback
    const relayed = await h.api.get('/api/kiosk/info');
    expect(relayed.status).toBe(403);
    expect(relayed.body.error.code).toBe('KIOSK_ONLY');
    expect(relayed.body.error).toMatchObject({ key: 'error.KIOSK_ONLY', message: '只能在帮办柜的屏幕上使用' });
    expect((await h.api.post('/api/kiosk/pickup', { body: { code: '12345678', phoneLast4: '1234' } })).status).toBe(403);
    expect((await h.api.post('/api/kiosk/scan', { body: { text: 'x' } })).status).toBe(403);
    // a request carrying any proxy header is not the kiosk even on the kiosk listener
    for (const proxy of <Record<string, string>[]>[
      { 'X-Forwarded-For': '203.0.113.7' },
      { Forwarded: 'for=203.0.113.7' },
      { 'X-Real-IP': '203.0.113.7' },
      { Via: '1.1 nginx' },
    ]) {
      expect((await h.kiosk.get('/api/kiosk/info', { headers: proxy })).status, JSON.stringify(proxy)).toBe(403);
    }
    // a staff session does not make a caller the kiosk
    const staff = await h.staffSession();
    expect((await staff.api.get('/api/kiosk/info')).status).toBe(403);
    // with no KIOSK_KEY configured, any key is wrong
    expect((await h.kiosk.get('/api/kiosk/info', { headers: { 'X-Kiosk-Key': KEY } })).status).toBe(403);
  });

  it('kiosk routes with KIOSK_KEY: the right key works from anywhere, a wrong or missing key fails on the public port even from loopback', async () => {
    h = await startTestApp({ kioskKey: KEY });
    const keyed = await h.api.get('/api/kiosk/info', { headers: { 'X-Kiosk-Key': KEY, 'X-Forwarded-For': '192.168.1.20' } });
    expect(keyed.status).toBe(200);
    expect(keyed.body.deviceId).toBe('kiosk-key');
    expect((await h.api.get('/api/kiosk/info', { headers: { 'X-Kiosk-Key': KEY.slice(0, -1) + '2' } })).status).toBe(403);
    expect((await h.api.get('/api/kiosk/info', { headers: { 'X-Kiosk-Key': 'short' } })).status).toBe(403);
    expect((await h.api.get('/api/kiosk/info')).status).toBe(403);
    expect((await h.kiosk.get('/api/kiosk/info')).status).toBe(200);
  });
});

describe('mapError', () => {
  it('maps each group of codes to its status, with the field where there is one', () => {
    const cases: [CabinetError, number, string | undefined][] = [
      [new CabinetError('VALIDATION', 'mobile: 手机号码格式不正确 / bad mobile', { fields: 'mobile' }), 400, 'mobile'],
      [new CabinetError('NOT_FOUND', 'no request #9'), 404, undefined],
      [new CabinetError('DUPLICATE', 'login taken'), 409, undefined],
      [new TransitionError(1, 'BB-20250314-0001', 'accept', 'loaded'), 409, undefined],
      [new CabinetError('COMPARTMENT_STATE', 'busy'), 409, undefined],
      [new TransitionError(1, 'BB-20250314-0001', 'mark_overdue', 'loaded', 'ACTOR_NOT_ALLOWED'), 403, undefined],
      [new TransitionError(1, 'BB-20250314-0001', 'reject', 'submitted', 'REASON_REQUIRED'), 400, 'reason'],
      [new CabinetError('SERVICE_DISABLED', 'off'), 409, undefined],
      [new CabinetError('RESIDENT_DETAILS_MISSING', 'needs', { missing: 'id_number,address' }), 400, 'idNumber'],
      [new CabinetError('UNLOCK_RATE_LIMITED', 'slow down'), 429, undefined],
      [new CabinetError('LINK_TIMEOUT', 'no reply'), 503, undefined],
      [new CabinetError('LINK_OFFLINE', 'no port'), 503, undefined],
    ];
    for (const [err, status, field] of cases) {
      const m = mapError(err);
      expect(m?.status, err.code).toBe(status);
      expect(m?.code).toBe(err.code);
      expect(m?.field).toBe(field);
      expect(m?.said.key).toBe(err instanceof TransitionError && err.said ? err.said.key : `error.${err.code}`);
    }
    expect(mapError(new Error('boom'))).toBeNull();
    expect(mapError(new CabinetError('DATA_CORRUPT', 'x'))).toBeNull();
  });

  it('compares secrets of different lengths without throwing', () => {
    expect(secretEquals('abc', 'abc')).toBe(true);
    expect(secretEquals('abc', 'abcd')).toBe(false);
  });
});
