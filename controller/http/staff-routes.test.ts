/**
 * The staff console's routes against the real app: masked lists, request detail with audit trail and
 * notification status (never a code), the state changes with their audit rows and bus events, the audited
 * full ID number, compartments, audit, notifications and the catalogue.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, uniqueIdNumber, type TestApp } from '../../test/app-harness.js';
import { said } from '../words/keys.js';

let h: TestApp;
let staff: Awaited<ReturnType<TestApp['staffSession']>>;
beforeEach(async () => {
  idSeq = 100;
  h = await startTestApp();
  staff = await h.staffSession();
});
afterEach(async () => {
  await h.close();
});

const ID = uniqueIdNumber(42);
let idSeq = 100;

async function submit(
  serviceCode = 'residence_certificate',
  mobile = '13812345678',
  idNumber = idSeq === 100 ? (idSeq++, ID) : uniqueIdNumber(idSeq++),
): Promise<{ requestId: number; number: string; statusToken: string }> {
  const r = await h.api.post('/api/requests', {
    body: { name: '张三', mobile, idNumber, address: { building: '12号楼', unit: '2', room: '301' }, serviceCode },
  });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  return r.body;
}

const auditActions = (requestId: number): string[] =>
  (h.store.db.prepare('SELECT action FROM audit_log WHERE request_id = ? ORDER BY id').all(requestId) as { action: string }[]).map((r) => r.action);

describe('requests', () => {
  it('lists requests masked and searchable', async () => {
    const a = await submit();
    await submit('elderly_benefit', '13900001234', uniqueIdNumber(43));
    const list = await staff.api.get('/api/staff/requests');
    expect(list.status).toBe(200);
    expect(list.body.requests).toHaveLength(2);
    const item = list.body.requests.find((r: { id: number }) => r.id === a.requestId);
    expect(item).toMatchObject({
      number: a.number,
      state: 'submitted',
      residentName: '张三',
      mobileMasked: '138****5678',
      idNumberMasked: `${ID.slice(0, 3)}***********${ID.slice(14)}`,
      actions: expect.arrayContaining(['accept', 'reject']),
    });
    const text = list.raw.toString('utf8');
    expect(text).not.toContain('13812345678');
    expect(text).not.toContain(ID.slice(6, 14)); // the birth date

    // a mobile number is found only by the whole number: digits of it (a prefix, the middle) would let anyone
    // with a console recover full numbers from the masked ones, one digit at a time
    expect((await staff.api.get('/api/staff/requests', { query: { q: '13900001234' } })).body.requests).toHaveLength(1);
    for (const part of ['001234', '1390000', '1381234567', '5678']) {
      expect([part, (await staff.api.get('/api/staff/requests', { query: { q: part } })).body.requests.length]).toEqual([part, 0]);
    }
    expect(
      (await staff.api.get('/api/staff/requests', { query: { q: a.number.slice(-4) } })).body.requests.map((r: { id: number }) => r.id),
    ).toContain(a.requestId);
    expect((await staff.api.get('/api/staff/requests', { query: { state: 'accepted' } })).body.requests).toHaveLength(0);
    expect((await staff.api.get('/api/staff/requests', { query: { state: 'open' } })).body.requests).toHaveLength(2);
    const bad = await staff.api.get('/api/staff/requests', { query: { state: 'flying' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('state');
  });

  it('accept → ready, reject with a reason: each writes its audit row, publishes a request event, refuses what the table forbids', async () => {
    const a = await submit();
    const events: unknown[] = [];
    h.bus.on('request', (e) => events.push(e));

    const accepted = await staff.api.post(`/api/staff/requests/${a.requestId}/accept`);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ from: 'submitted', request: { state: 'accepted' } });
    const again = await staff.api.post(`/api/staff/requests/${a.requestId}/accept`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('TRANSITION_NOT_ALLOWED');
    expect(again.body.error).toMatchObject({ key: 'error.TRANSITION_NOT_ALLOWED', message: '当前状态下不能进行这个操作' });
    const stale = await staff.api.post(`/api/staff/requests/${a.requestId}/ready`, { body: { expectState: 'submitted' } });
    expect(stale.status).toBe(409);
    const ready = await staff.api.post(`/api/staff/requests/${a.requestId}/ready`, { body: { expectState: 'accepted' } });
    expect(ready.body.request.state).toBe('ready');
    expect(events).toEqual([
      { id: a.requestId, number: a.number, state: 'accepted', from: 'submitted' },
      { id: a.requestId, number: a.number, state: 'ready', from: 'accepted' },
    ]);
    const rows = h.store.db
      .prepare(`SELECT actor_kind, actor_id, action, detail FROM audit_log WHERE request_id = ? AND action LIKE 'request.%' ORDER BY id`)
      .all(a.requestId);
    expect(rows).toEqual([
      { actor_kind: 'resident', actor_id: expect.any(String), action: 'request.created', detail: expect.any(String) },
      { actor_kind: 'staff', actor_id: String(staff.id), action: 'request.accept', detail: JSON.stringify({ from: 'submitted', to: 'accepted' }) },
      { actor_kind: 'staff', actor_id: String(staff.id), action: 'request.mark_ready', detail: JSON.stringify({ from: 'accepted', to: 'ready' }) },
    ]);

    const b = await submit('elderly_benefit');
    const noReason = await staff.api.post(`/api/staff/requests/${b.requestId}/reject`, { body: {} });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.field).toBe('reason');
    const blank = await staff.api.post(`/api/staff/requests/${b.requestId}/reject`, { body: { reason: '   ' } });
    expect(blank.status).toBe(400);
    const rejected = await staff.api.post(`/api/staff/requests/${b.requestId}/reject`, { body: { reason: '户籍不在本社区' } });
    expect(rejected.body.request.state).toBe('rejected');
    expect(auditActions(b.requestId)).toEqual(['request.created', 'request.reject']);
    const status = await h.api.get(`/api/requests/status/${b.statusToken}`);
    expect(status.body).toMatchObject({ state: 'rejected', reason: '户籍不在本社区', stateText: { zh: '未能办理' } });

    expect((await staff.api.post('/api/staff/requests/999/accept')).status).toBe(404);
    expect((await staff.api.post('/api/staff/requests/abc/accept')).status).toBe(400);
  });

  it('request-materials and cancel; detail shows audit and notification status without any code', async () => {
    const a = await submit();
    expect((await staff.api.post(`/api/staff/requests/${a.requestId}/request-materials`)).body.request.state).toBe('awaiting_materials');
    expect((await staff.api.post(`/api/staff/requests/${a.requestId}/cancel`, { body: { reason: '居民来电取消' } })).body.request.state).toBe(
      'cancelled',
    );
    const b = await submit('elderly_benefit');
    await staff.api.post(`/api/staff/requests/${b.requestId}/reject`, { body: { reason: '材料不全' } });
    const d = await staff.api.get(`/api/staff/requests/${b.requestId}`);
    expect(d.status).toBe(200);
    expect(d.body.audit.map((e: { action: string }) => e.action)).toEqual(['request.created', 'request.reject']);
    expect(d.body.notifications).toEqual([expect.objectContaining({ kind: 'rejected', status: 'pending', attempts: 0 })]);
    expect(d.body.resident).toMatchObject({ name: '张三', mobileMasked: '138****5678', address: { building: '12号楼', unit: '2', room: '301' } });
    expect(d.raw.toString('utf8')).not.toContain(ID);

    const n = await staff.api.get('/api/staff/notifications', { query: { status: 'pending' } });
    expect(n.body.notifications).toEqual([expect.objectContaining({ requestNumber: b.number, kind: 'rejected', mobileMasked: '138****5678' })]);
  });

  it('the full ID number needs a purpose and the reading is audited', async () => {
    const a = await submit();
    const noPurpose = await staff.api.get(`/api/staff/requests/${a.requestId}/id-number`);
    expect(noPurpose.status).toBe(400);
    expect(noPurpose.body.error.field).toBe('purpose');
    const r = await staff.api.get(`/api/staff/requests/${a.requestId}/id-number`, { query: { purpose: '打印居住证明' } });
    expect(r.status).toBe(200);
    expect(r.body.idNumber).toBe(ID);
    const row = h.store.db.prepare(`SELECT actor_id, detail FROM audit_log WHERE action = 'resident.id_number_revealed'`).get() as {
      actor_id: string;
      detail: string;
    };
    expect(row.actor_id).toBe(String(staff.id));
    expect(JSON.parse(row.detail)).toMatchObject({ purpose: '打印居住证明' });
    expect(row.detail).not.toContain(ID);
  });
});

describe('cabinet, audit, alarms, catalogue', () => {
  it('compartments with states and live door readings; audit newest first with filters; alarms from the bus', async () => {
    const c = await staff.api.get('/api/staff/compartments');
    expect(c.body.compartments).toHaveLength(24);
    expect(c.body.compartments[0]).toMatchObject({
      no: 1,
      board: 1,
      channel: 1,
      state: 'free',
      contents: null,
      live: { door: 'closed', item: 'absent' },
    });

    const a = await submit();
    await staff.api.post(`/api/staff/requests/${a.requestId}/accept`);
    const audit = await staff.api.get('/api/staff/audit', { query: { request: a.requestId, limit: 1 } });
    expect(audit.body.entries.map((e: { action: string }) => e.action)).toEqual(['request.accept']);
    expect((await staff.api.get('/api/staff/audit', { query: { limit: 0 } })).status).toBe(400);

    h.bus.alarm('door_left_open', said('alarm.door_left_open', { no: 3 }), { compartment: 3 });
    const alarms = await staff.api.get('/api/staff/alarms');
    expect(alarms.body.alarms).toEqual([expect.objectContaining({ kind: 'door_left_open', compartment: 3 })]);
  });
});

describe('alarms', () => {
  it('are kept in the store with the bus id, open ones first; an identical open one raised again is counted, not repeated', async () => {
    const tamper = h.bus.alarm('tamper', said('alarm.tamper', { no: 5 }), { compartment: 5 });
    const left1 = h.bus.alarm('door_left_open', said('alarm.door_left_open', { no: 3 }), { compartment: 3 });
    const left2 = h.bus.alarm('door_left_open', said('alarm.door_left_open', { no: 3 }), { compartment: 3 });
    expect(left2).toMatchObject({ id: left1.id, count: 2 });
    expect(h.store.db.prepare('SELECT id, kind, count FROM alarms ORDER BY id').all()).toEqual([
      { id: tamper.id, kind: 'tamper', count: 1 },
      { id: left1.id, kind: 'door_left_open', count: 2 },
    ]);
    await staff.api.post(`/api/staff/alarms/${tamper.id}/ack`, { body: { note: '门已关好，是保洁误开' } });

    const all = await staff.api.get('/api/staff/alarms');
    expect(all.status).toBe(200);
    expect(all.body.openCount).toBe(1);
    expect(all.body.alarms).toEqual([
      {
        id: left1.id,
        kind: 'door_left_open',
        at: left1.at,
        lastAt: left2.lastAt,
        count: 2,
        key: 'alarm.door_left_open',
        params: { no: 3 },
        message: '格口 3 的门一直开着，请关好。',
        compartment: 3,
        acknowledged: null,
      },
      expect.objectContaining({
        id: tamper.id,
        acknowledged: { at: expect.any(String), by: { id: staff.id, name: '李四' }, note: '门已关好，是保洁误开', noteKey: null },
      }),
    ]);
    expect((await staff.api.get('/api/staff/alarms', { query: { open: 'true' } })).body.alarms.map((a: { id: number }) => a.id)).toEqual([left1.id]);
    expect((await staff.api.get('/api/staff/alarms', { query: { open: 'false' } })).body.alarms.map((a: { id: number }) => a.id)).toEqual([
      tamper.id,
    ]);
    expect((await staff.api.get('/api/staff/alarms', { query: { open: 'yes' } })).status).toBe(400);
    // the bus reads the same list back (the staff snapshot uses it)
    expect(h.bus.recentAlarms().map((a) => [a.id, a.acknowledged === null])).toEqual([
      [left1.id, true],
      [tamper.id, false],
    ]);
  });

  it('ack: 200 with who and when, an audit row and an alarm-ack event; 409 the second time; 404 for no such alarm', async () => {
    const a = h.bus.alarm('item_not_taken', said('alarm.item_not_taken', { no: 4 }), { compartment: 4 });
    const events: unknown[] = [];
    h.bus.on('alarm-ack', (e) => events.push(e));

    const ok = await staff.api.post(`/api/staff/alarms/${a.id}/ack`);
    expect(ok.status).toBe(200);
    expect(ok.body.alarm).toMatchObject({
      id: a.id,
      kind: 'item_not_taken',
      compartment: 4,
      acknowledged: { by: { id: staff.id, name: '李四' }, note: null },
    });
    expect(Date.parse(ok.body.alarm.acknowledged.at)).not.toBeNaN();
    expect(events).toEqual([ok.body.alarm]);
    const audit = h.store.db.prepare(`SELECT actor_kind, actor_id, compartment_no, detail FROM audit_log WHERE action = 'alarm.acknowledge'`).all();
    expect(audit).toEqual([
      {
        actor_kind: 'staff',
        actor_id: String(staff.id),
        compartment_no: 4,
        detail: JSON.stringify({ alarmId: a.id, kind: 'item_not_taken', count: 1 }),
      },
    ]);

    const other = await h.staffSession('staff');
    const again = await other.api.post(`/api/staff/alarms/${a.id}/ack`, { body: { note: '我也处理了' } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('ALARM_ALREADY_ACKNOWLEDGED');
    expect(again.body.error).toMatchObject({ key: 'error.ALARM_ALREADY_ACKNOWLEDGED', message: '这条报警已经有人处理过了' });
    expect(events).toHaveLength(1);
    expect(h.store.db.prepare(`SELECT acknowledged_by FROM alarms WHERE id = ?`).get(a.id)).toEqual({ acknowledged_by: staff.id });

    const missing = await staff.api.post('/api/staff/alarms/9999/ack');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    expect((await staff.api.post('/api/staff/alarms/abc/ack')).status).toBe(400);
    const b = h.bus.alarm('tamper', said('alarm.tamper', { no: 6 }), { compartment: 6 });
    const long = await staff.api.post(`/api/staff/alarms/${b.id}/ack`, { body: { note: '长'.repeat(201) } });
    expect(long.status).toBe(400);
    expect(long.body.error.field).toBe('note');
  });

  it('are for staff only: no session is 401, the kiosk is not staff, and nothing changes', async () => {
    const a = h.bus.alarm('tamper', said('alarm.tamper', { no: 7 }), { compartment: 7 });
    const anon = await h.api.post(`/api/staff/alarms/${a.id}/ack`);
    expect(anon.status).toBe(401);
    expect(anon.body.error.code).toBe('UNAUTHENTICATED');
    expect((await h.api.get('/api/staff/alarms')).status).toBe(401);
    // the kiosk screen (loopback) has no staff session either
    expect((await h.api.post(`/api/staff/alarms/${a.id}/ack`, { headers: { 'X-Forwarded-For': '198.51.100.4' } })).status).toBe(401);
    expect(h.store.db.prepare(`SELECT acknowledged_at FROM alarms WHERE id = ?`).get(a.id)).toEqual({ acknowledged_at: null });
    const admin = await h.staffSession('admin');
    expect((await admin.api.post(`/api/staff/alarms/${a.id}/ack`)).status).toBe(200);
  });

  it('survive a restart of the app on the same data directory', async () => {
    const a = h.bus.alarm('board_rebooted', said('alarm.board_rebooted', { board: 1 }));
    const dir = h.dir;
    await h.close();
    h = await startTestApp({ dataDir: dir });
    staff = await h.staffSession();
    const r = await staff.api.get('/api/staff/alarms', { query: { open: 'true' } });
    expect(r.body.alarms).toEqual([
      expect.objectContaining({
        id: a.id,
        kind: 'board_rebooted',
        key: 'alarm.board_rebooted',
        params: { board: 1 },
        message: '控制板 1 重新启动。',
        acknowledged: null,
      }),
    ]);
    expect((await staff.api.post(`/api/staff/alarms/${a.id}/ack`)).status).toBe(200);
  });

  it('staff read the catalogue, admins edit it; a disabled service disappears from the phone list', async () => {
    const admin = await h.staffSession('admin');
    const all = await staff.api.get('/api/staff/services');
    expect(all.body.services.length).toBeGreaterThanOrEqual(6);
    const body = {
      nameZh: '居住证明',
      nameEn: 'Residence certificate',
      needs: { idNumber: true, address: true },
      needsMaterials: false,
      enabled: false,
      sortOrder: 10,
    };
    expect((await staff.api.put('/api/staff/services/residence_certificate', { body })).status).toBe(403);
    const saved = await admin.api.put('/api/staff/services/residence_certificate', { body });
    expect(saved.status).toBe(200);
    expect(saved.body.service.enabled).toBe(false);
    const pub = await h.api.get('/api/services');
    expect(pub.body.services.map((s: { code: string }) => s.code)).not.toContain('residence_certificate');
    const added = await admin.api.put('/api/staff/services/parking_proof', {
      body: { ...body, nameZh: '停车证明', nameEn: 'Parking proof', needs: { idNumber: false, address: true }, enabled: true },
    });
    expect(added.body.service).toMatchObject({ code: 'parking_proof', needs: { idNumber: false, address: true } });
    expect((await admin.api.put('/api/staff/services/Bad-Code', { body })).status).toBe(400);
  });

  it('accounts: a taken login is 409; the last admin cannot be disabled', async () => {
    const admin = await h.staffSession('admin');
    expect((await admin.api.post('/api/staff/accounts', { body: { login: staff.login, name: '重名' } })).status).toBe(409);
    const last = await admin.api.post(`/api/staff/accounts/${admin.id}/disable`);
    expect(last.status).toBe(400);
    const list = await admin.api.get('/api/staff/accounts');
    expect(list.body.accounts.map((a: { login: string }) => a.login)).toEqual(expect.arrayContaining([staff.login, admin.login]));
    expect(list.raw.toString('utf8')).not.toMatch(/scrypt/);
  });
});
