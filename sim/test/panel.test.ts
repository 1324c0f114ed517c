/**
 * The panel's HTTP API and WebSocket, against a real server on 127.0.0.1 (port 0).
 */
import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SimCabinet, type CabinetSnapshot } from '../cabinet.js';
import { startPanelServer, type PanelMessage, type PanelServer } from '../panel/server.js';
import { Wire } from './wire.js';

let sim: SimCabinet;
let panel: PanelServer;

beforeEach(async () => {
  sim = new SimCabinet({ layout: '2x12', springMs: 1 });
  panel = await startPanelServer(sim, { host: '127.0.0.1', port: 0 });
});
afterEach(async () => {
  await panel.close();
  await sim.close();
});

interface ApiError {
  error: { code: string; message: string; field?: string };
}

async function post(path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(new URL(path, panel.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

async function state(): Promise<CabinetSnapshot> {
  const res = await fetch(new URL('/api/state', panel.url));
  expect(res.status).toBe(200);
  return (await res.json()) as CabinetSnapshot;
}

describe('panel API', () => {
  it('serves the page and its assets without any external reference', async () => {
    const html = await (await fetch(panel.url)).text();
    expect(html).toContain('帮办柜模拟器');
    expect(html).not.toMatch(/https?:\/\//);
    for (const asset of ['panel.js', 'panel.css']) {
      const res = await fetch(new URL(asset, panel.url));
      expect(res.status).toBe(200);
      expect(await res.text()).not.toMatch(/https?:\/\/(?!\S*127\.0\.0\.1)/);
    }
  });

  it('GET /api/state describes the cabinet', async () => {
    const s = await state();
    expect(s.layout).toMatchObject({ boards: 2, channels: 12, compartments: 24, text: '2x12' });
    expect(s.compartments[12]).toMatchObject({ n: 13, addr: 2, channel: 1, doorOpen: false, item: false, doorLevel: 'C' });
    expect(s.boards.map((b) => b.addr)).toEqual([1, 2]);
    expect(s.connected).toBe(true);
  });

  it('opens, fills, empties and closes a compartment, with clear errors for impossible steps', async () => {
    const wire = new Wire(sim.connectInProcess());
    expect((await post('/api/compartments/13/put')).status).toBe(409);
    expect(((await post('/api/compartments/13/put')).json as ApiError).error.code).toBe('DOOR_CLOSED');
    expect((await post('/api/compartments/13/open')).status).toBe(200);
    expect(await wire.event('door')).toMatchObject({ addr: 2, channel: 1, level: 'O' });
    expect((await post('/api/compartments/13/put', {})).status).toBe(200);
    expect(await wire.event('item')).toMatchObject({ addr: 2, channel: 1, present: true });
    const r = await post('/api/compartments/13/close');
    expect(r.status).toBe(200);
    expect((r.json as { state: CabinetSnapshot }).state.compartments[12]).toMatchObject({ doorOpen: false, item: true });
    expect((await post('/api/compartments/99/open')).status).toBe(404);
    wire.close();
  });

  it('answers 400 with { error: { code, message, field } } for bad input and changes nothing', async () => {
    const before = await state();
    const cases: Array<[string, unknown, string | undefined]> = [
      ['/api/faults', { drop: 2 }, 'drop'],
      ['/api/faults', { delayMs: -1 }, 'delayMs'],
      ['/api/faults', { pacing: 'yes' }, 'pacing'],
      ['/api/faults', { unknownKey: 1 }, undefined],
      ['/api/faults', { delayMs: 50, compartments: [{ compartment: 25, jammed: true }] }, 'compartments.0.compartment'],
      ['/api/faults', { compartments: [{ compartment: 1, coilFault: 'MELTED' }] }, 'compartments.0.coilFault'],
      ['/api/faults', '{not json', undefined],
      ['/api/faults', [1, 2], undefined],
      ['/api/scan', { text: '' }, 'text'],
      ['/api/scan', { text: 'a\nb' }, 'text'],
      ['/api/scan', {}, 'text'],
      ['/api/compartments/abc/open', {}, 'n'],
      ['/api/compartments/1/smash', {}, 'action'],
      ['/api/compartments/1/open', { force: true }, undefined],
      ['/api/boards/x/reboot', {}, 'addr'],
      ['/api/boards/1/reboot', { reason: 'TIRED' }, 'reason'],
      ['/api/disconnect', { mode: 'explode' }, 'mode'],
    ];
    for (const [path, body, field] of cases) {
      const { status, json } = await post(path, body);
      expect(status, `${path} ${JSON.stringify(body)}`).toBe(400);
      const err = (json as ApiError).error;
      expect(typeof err.code).toBe('string');
      expect(err.message.length).toBeGreaterThan(0);
      if (field) expect(err.field).toBe(field);
    }
    const after = await state();
    expect(after.faults).toEqual(before.faults);
    expect(after.compartments).toEqual(before.compartments);
    expect(after.boards).toEqual(before.boards);
    expect(after.connected).toBe(true);
  });

  it('sets and clears faults, reboots boards, disconnects and reconnects', async () => {
    let r = await post('/api/faults', {
      drop: 0.1,
      delayMs: 5,
      compartments: [{ compartment: 3, jammed: true, stuckSensor: 'O', coilFault: 'COIL_SHORT' }],
    });
    expect(r.status).toBe(200);
    let s = (r.json as { state: CabinetSnapshot }).state;
    expect(s.faults).toMatchObject({ dropToBoard: 0.1, dropToController: 0.1, delayMs: 5 });
    expect(s.compartments[2]).toMatchObject({ jammed: true, stuckSensor: 'O', coilFault: 'COIL_SHORT', doorLevel: 'O' });
    r = await post('/api/faults', { clear: true });
    s = (r.json as { state: CabinetSnapshot }).state;
    expect(s.faults.dropToBoard).toBe(0);
    expect(s.compartments[2]).toMatchObject({ jammed: false, stuckSensor: null, coilFault: 'NONE' });

    r = await post('/api/boards/2/reboot', { reason: 'BROWNOUT' });
    expect((r.json as { state: CabinetSnapshot }).state.boards[1]!.boots).toBe(2);
    expect((await post('/api/boards/7/reboot')).status).toBe(404);

    expect(((await post('/api/disconnect', { mode: 'silent' })).json as { state: CabinetSnapshot }).state.disconnectMode).toBe('silent');
    expect(((await post('/api/reconnect')).json as { state: CabinetSnapshot }).state.connected).toBe(true);
  });

  it('injects scans', async () => {
    const scans: string[] = [];
    sim.on('scan', (t) => scans.push(t));
    const r = await post('/api/scan', { text: 'PICKUP-123456' });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ ok: true, delivered: 0 });
    expect(scans).toEqual(['PICKUP-123456']);
  });

  it('unknown API routes are JSON 404s', async () => {
    const res = await fetch(new URL('/api/nothing', panel.url));
    expect(res.status).toBe(404);
    expect(((await res.json()) as ApiError).error.code).toBe('NOT_FOUND');
  });
});

describe('panel WebSocket', () => {
  it('sends a snapshot on connect, then state changes and frames', async () => {
    const ws = new WebSocket(panel.url.replace('http', 'ws') + 'ws');
    const messages: PanelMessage[] = [];
    const waitFor = (test: (m: PanelMessage) => boolean): Promise<PanelMessage> =>
      new Promise((resolve) => {
        const found = messages.find(test);
        if (found) return resolve(found);
        const on = (data: Buffer): void => {
          const m = JSON.parse(data.toString()) as PanelMessage;
          if (test(m)) {
            ws.off('message', on);
            resolve(m);
          }
        };
        ws.on('message', on);
      });
    ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as PanelMessage));
    const first = await waitFor(() => true);
    expect(first.type).toBe('snapshot');

    sim.openDoor(5);
    const changed = await waitFor((m) => m.type === 'state' && m.state.compartments[4]!.doorOpen);
    expect(changed.type).toBe('state');

    const wire = new Wire(sim.connectInProcess());
    await wire.request({ kind: 'ident', addr: 1, seq: 0x33 });
    const frames = await waitFor((m) => m.type === 'frames' && m.frames.some((f) => f.dir === 'out' && f.text.startsWith('<01 0033 ACK IDENT')));
    expect(frames.type === 'frames' && frames.frames.some((f) => f.dir === 'in' && f.fate === 'ok')).toBe(true);
    wire.close();
    ws.close();
  });
});

describe('panel Host names (DNS rebinding)', () => {
  /** A raw request with a chosen Host header (fetch does not let the caller set Host). */
  function withHost(host: string, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
    const { port } = new URL(panel.url);
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path, method, headers: { host, 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end(method === 'POST' ? '{}' : undefined);
    });
  }

  it('refuses a page whose name was made to resolve to this machine, before any route runs', async () => {
    for (const host of ['evil.example', 'evil.example:7002', 'localhost.evil.example', '127.0.0.1.evil.example']) {
      const page = await withHost(host, '/');
      expect(page.status, host).toBe(400);
      expect(JSON.parse(page.body)).toMatchObject({ error: { code: 'BAD_HOST' } });
      expect((await withHost(host, '/api/state')).status, host).toBe(400);
      expect((await withHost(host, '/api/compartments/3/open', 'POST')).status, host).toBe(400);
    }
    expect(sim.snapshot().compartments[2]!.doorOpen).toBe(false);
  });

  it('answers loopback names and addresses', async () => {
    const { port } = new URL(panel.url);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'LOCALHOST', `[::1]:${port}`, '192.168.1.20:7002']) {
      expect((await withHost(host, '/api/state')).status, host).toBe(200);
    }
  });

  it('refuses the WebSocket from a foreign name', async () => {
    const ws = new WebSocket(`${panel.url.replace('http', 'ws')}ws`, { headers: { host: 'evil.example' } });
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => resolve(-1));
    });
    ws.terminate();
    expect(status).toBe(400);
  });
});
