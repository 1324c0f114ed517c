/**
 * The live channels on the real server: staff authentication at the upgrade (4401 on a bad token, snapshot
 * on a good one, by Sec-WebSocket-Protocol or ?token=), the kiosk rule at the upgrade, and a kiosk channel
 * that never carries personal data even while staff events about a resident flow.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTestApp, uniqueIdNumber, type TestApp } from '../../test/app-harness.js';
import { waitFor } from '../../test/harness.js';
import { said } from '../words/keys.js';
import { CLOSE_UNAUTHENTICATED, STAFF_PROTOCOL } from './live.js';

let h: TestApp;
const sockets: WebSocket[] = [];
beforeEach(async () => {
  h = await startTestApp();
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await h.close();
});

interface Conn {
  ws: WebSocket;
  messages: Record<string, unknown>[];
  closed: Promise<{ code: number }>;
  opened: Promise<void>;
}

/** /ws/kiosk goes to the kiosk listener (the cabinet's own screen), everything else to the public one. */
const base = (path: string, publicPort = false): string => (path.startsWith('/ws/kiosk') && !publicPort ? h.kioskUrl : h.url).replace('http', 'ws');

function connect(path: string, opts: { protocols?: string[]; headers?: Record<string, string> } = {}): Conn {
  const ws = new WebSocket(`${base(path)}${path}`, opts.protocols ?? [], { headers: opts.headers ?? {} });
  sockets.push(ws);
  const messages: Record<string, unknown>[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(String(d)) as Record<string, unknown>));
  const closed = new Promise<{ code: number }>((resolve) => ws.on('close', (code) => resolve({ code })));
  const opened = new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve());
    ws.on('error', reject);
  });
  return { ws, messages, closed, opened };
}

function upgradeStatus(path: string, headers: Record<string, string> = {}, publicPort = false): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${base(path, publicPort)}${path}`, { headers });
    sockets.push(ws);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => resolve(101));
    ws.on('error', () => undefined);
  });
}

describe('/ws/staff', () => {
  it('closes with 4401 without a token or with a bad one', async () => {
    for (const c of [
      connect('/ws/staff'),
      connect('/ws/staff', { protocols: [STAFF_PROTOCOL, 'A'.repeat(43)] }),
      connect(`/ws/staff?token=${'B'.repeat(43)}`),
    ]) {
      expect((await c.closed).code).toBe(CLOSE_UNAUTHENTICATED);
      expect(c.messages).toEqual([]);
    }
  });

  it('with a session token sends the snapshot, then bus events (token by protocol header or ?token=)', async () => {
    const staff = await h.staffSession();
    const r = await h.api.post('/api/requests', {
      body: {
        name: '张三',
        mobile: '13812345678',
        idNumber: uniqueIdNumber(5),
        address: { building: '1', unit: '1', room: '101' },
        serviceCode: 'residence_certificate',
      },
    });
    h.bus.alarm('tamper', said('alarm.tamper', { no: 5 }), { compartment: 5 });

    const c = connect('/ws/staff', { protocols: [STAFF_PROTOCOL, staff.token] });
    await c.opened;
    expect(c.ws.protocol).toBe(STAFF_PROTOCOL);
    const snap = await waitFor(() => c.messages[0], 'the snapshot');
    expect(snap).toMatchObject({
      type: 'snapshot',
      link: { state: 'online' },
      alarms: [expect.objectContaining({ kind: 'tamper', compartment: 5 })],
      requests: {
        counts: expect.objectContaining({ submitted: 1 }),
        open: [{ id: r.body.requestId, number: r.body.number, state: 'submitted', serviceCode: 'residence_certificate' }],
      },
    });
    expect((snap.compartments as unknown[]).length).toBe(24);

    await staff.api.post(`/api/staff/requests/${r.body.requestId}/accept`);
    const ev = await waitFor(() => c.messages.find((m) => m.type === 'request'), 'the request event');
    expect(ev).toEqual({ type: 'request', id: r.body.requestId, number: r.body.number, state: 'accepted', from: 'submitted' });

    const q = connect(`/ws/staff?token=${staff.token}`);
    await waitFor(() => q.messages[0], 'the snapshot by ?token=');
    expect(h.live.counts().staff).toBe(2);
  });

  it('after logout the channel receives nothing more and is closed with 4401 (not only at the next ping)', async () => {
    const staff = await h.staffSession();
    const other = await h.staffSession();
    const c = connect('/ws/staff', { protocols: [STAFF_PROTOCOL, staff.token] });
    const o = connect('/ws/staff', { protocols: [STAFF_PROTOCOL, other.token] });
    await waitFor(() => c.messages[0] && o.messages[0], 'both snapshots');
    expect((await staff.api.post('/api/staff/logout')).status).toBe(200);
    h.bus.alarm('tamper', said('alarm.tamper', { no: 5 }), { compartment: 5 });
    await waitFor(() => o.messages.find((m) => m.type === 'alarm'), 'the alarm on the other console');
    expect(c.messages.filter((m) => m.type !== 'snapshot')).toEqual([]);
    expect((await c.closed).code).toBe(CLOSE_UNAUTHENTICATED);
  });

  it('an acknowledgement reaches every staff console as alarm-ack; a repeat comes as the same alarm counted; the kiosk gets neither', async () => {
    const first = await h.staffSession();
    const second = await h.staffSession();
    const a = h.bus.alarm('door_left_open', said('alarm.door_left_open', { no: 3 }), { compartment: 3 });
    const consoles = [
      connect('/ws/staff', { protocols: [STAFF_PROTOCOL, first.token] }),
      connect('/ws/staff', { protocols: [STAFF_PROTOCOL, second.token] }),
    ];
    const k = connect('/ws/kiosk');
    for (const c of consoles) {
      const snap = await waitFor(() => c.messages[0], 'the snapshot');
      expect(snap.alarms).toEqual([expect.objectContaining({ id: a.id, count: 1, acknowledged: null })]);
    }
    await waitFor(() => k.messages[0], 'the kiosk snapshot');

    h.bus.alarm('door_left_open', said('alarm.door_left_open', { no: 3 }), { compartment: 3 });
    for (const c of consoles) {
      const again = await waitFor(() => c.messages.find((m) => m.type === 'alarm'), 'the repeated alarm');
      expect(again).toMatchObject({
        type: 'alarm',
        id: a.id,
        count: 2,
        key: 'alarm.door_left_open',
        params: { no: 3 },
        message: '格口 3 的门一直开着，请关好。',
        acknowledged: null,
      });
    }

    const r = await first.api.post(`/api/staff/alarms/${a.id}/ack`, { body: { note: '已关门' } });
    expect(r.status).toBe(200);
    for (const c of consoles) {
      const ack = await waitFor(() => c.messages.find((m) => m.type === 'alarm-ack'), 'the alarm-ack event');
      expect(ack).toEqual({ type: 'alarm-ack', ...r.body.alarm });
      expect(ack.acknowledged).toEqual({ at: expect.any(String), by: { id: first.id, name: '李四' }, note: '已关门', noteKey: null });
    }
    h.bus.emit('link', { state: 'online' });
    await waitFor(() => k.messages.some((m) => m.type === 'link'), 'the link event after the acknowledgement');
    expect(k.messages.filter((m) => String(m.type).startsWith('alarm'))).toEqual([]);

    const late = connect(`/ws/staff?token=${second.token}`);
    const snap = await waitFor(() => late.messages[0], 'a later snapshot');
    expect(snap.alarms).toEqual([expect.objectContaining({ id: a.id, count: 2, acknowledged: expect.objectContaining({ note: '已关门' }) })]);
  });
});

describe('/ws/kiosk', () => {
  it('is refused with HTTP 403 on the public port and for a relayed caller, and 404 for an unknown path', async () => {
    expect(await upgradeStatus('/ws/kiosk', {}, true)).toBe(403);
    expect(await upgradeStatus('/ws/kiosk', { 'X-Forwarded-For': '203.0.113.9' })).toBe(403);
    expect(await upgradeStatus('/ws/kiosk', { Forwarded: 'for=203.0.113.9' })).toBe(403);
    expect(await upgradeStatus('/ws/kiosk', { 'X-Kiosk-Key': 'wrong-key-wrong-key-wrong-key' })).toBe(403);
    expect(await upgradeStatus('/ws/other')).toBe(404);
    expect(await upgradeStatus('/ws/kiosk')).toBe(101);
  });

  it('sends a snapshot and events without personal data or request details', async () => {
    const k = connect('/ws/kiosk');
    const snap = await waitFor(() => k.messages[0], 'the kiosk snapshot');
    expect(Object.keys(snap).sort()).toEqual(['compartments', 'link', 'type']);
    expect((snap.compartments as Record<string, unknown>[])[0]).toEqual({ no: 1, state: 'free', door: 'closed' });

    const staff = await h.staffSession();
    const id = uniqueIdNumber(6);
    const r = await h.api.post('/api/requests', {
      body: {
        name: '李秀英',
        mobile: '13987654321',
        idNumber: id,
        address: { building: '3', unit: '2', room: '502' },
        serviceCode: 'residence_certificate',
      },
    });
    await staff.api.post(`/api/staff/requests/${r.body.requestId}/reject`, { body: { reason: '李秀英 户籍不在本社区' } });
    h.bus.emit('compartment', { no: 4, state: 'occupied', door: 'closed', requestId: r.body.requestId });
    const scan = {
      source: 'kiosk',
      kind: 'code',
      outcome: 'OPENED',
      action: 'pickup',
      compartments: [4],
    } as const;
    h.bus.emit('scan', { ...scan, compartments: [4], said: said('door.kiosk_opened_pickup', { doors: [4] }) });
    h.bus.alarm('item_not_taken', said('alarm.item_not_taken', { no: 4 }), { compartment: 4, requestId: r.body.requestId });
    h.bus.emit('link', { state: 'online' });
    await waitFor(() => k.messages.some((m) => m.type === 'link'), 'the link event');

    expect(k.messages.slice(1)).toEqual([
      { type: 'compartment', no: 4, state: 'occupied', door: 'closed' },
      { type: 'scan', ...scan, key: 'door.kiosk_opened_pickup', params: { doors: [4] } },
      { type: 'link', state: 'online' },
    ]);
    const all = JSON.stringify(k.messages);
    for (const secret of ['李秀英', '13987654321', '4321', id, id.slice(-4), r.body.number, 'requestId']) expect(all).not.toContain(secret);
  });
});
