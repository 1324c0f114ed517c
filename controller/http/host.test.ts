/**
 * DNS rebinding: a web page on some other name, resolved to this machine, must not reach the API or the live
 * channels. Only the names the controller is reached by (loopback, IP addresses, PUBLIC_URL's and HOST's name) are
 * served; anything else is 400 BAD_HOST, before any route runs.
 */
import http from 'node:http';
import { afterEach, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/app-harness.js';

let h: TestApp;
afterEach(() => h.close());

function get(base: string, path: string, host: string, extra: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const u = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'GET', headers: { Host: host, ...extra } },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

it('answers 400 BAD_HOST to a name it is not reached by, on both listeners and at the WebSocket upgrade', async () => {
  h = await startTestApp({ publicUrl: 'http://cabinet.example.org:8080' });
  const port = new URL(h.url).port;
  for (const host of ['evil.example.com', `evil.example.com:${port}`, 'localhost.evil.example.com']) {
    for (const [base, path] of [
      [h.url, '/api/services'],
      [h.url, '/staff'],
      [h.kioskUrl, '/api/kiosk/info'],
      [h.kioskUrl, '/kiosk'],
    ] as const) {
      const r = await get(base, path, host);
      expect([host, path, r.status]).toEqual([host, path, 400]);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'BAD_HOST' } });
    }
    const ws = await get(h.kioskUrl, '/ws/kiosk', host, {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    });
    expect([host, ws.status]).toEqual([host, 400]);
  }
  for (const host of [
    `127.0.0.1:${port}`,
    `localhost:${port}`,
    `[::1]:${port}`,
    '192.168.1.20:3000',
    'cabinet.example.org:8080',
    'CABINET.example.org',
  ]) {
    expect([host, (await get(h.url, '/api/services', host)).status]).toEqual([host, 200]);
  }
  expect((await get(h.kioskUrl, '/api/kiosk/info', `127.0.0.1:${new URL(h.kioskUrl).port}`)).status).toBe(200);
});
