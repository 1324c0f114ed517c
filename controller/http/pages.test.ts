/**
 * The pages and their files as a kiosk's browser gets them: after an update the next load is the new version
 * (revalidated every time: no-cache with an ETag, 304 when unchanged), never an hour-old script.
 */
import http from 'node:http';
import express from 'express';
import helmet from 'helmet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedHeaders, SECURITY_HEADERS_OPTIONS } from './app.js';
import { startTestApp, type TestApp } from '../../test/app-harness.js';

let h: TestApp;
beforeAll(async () => {
  h = await startTestApp();
});
afterAll(async () => {
  await h?.close();
});

function statusOf(url: string, headers: Record<string, string>): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        res.resume();
        resolve(res.statusCode);
      })
      .on('error', reject);
  });
}

function getWith(url: string, headers: Record<string, string>): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        res.resume();
        resolve(res);
      })
      .on('error', reject);
  });
}

describe('compression', () => {
  it('text answers are gzip-compressed for a browser that asks; sounds are not; without asking, plain', async () => {
    for (const p of ['/kiosk', '/ui/kiosk/kiosk.js', '/ui/kiosk/kiosk.css', '/api/services']) {
      expect((await getWith(`${h.url}${p}`, { 'Accept-Encoding': 'gzip' })).headers['content-encoding'], p).toBe('gzip');
      expect((await getWith(`${h.url}${p}`, {})).headers['content-encoding'], p).toBeUndefined();
    }
    expect((await getWith(`${h.url}/ui/kiosk/sounds/offline.wav`, { 'Accept-Encoding': 'gzip' })).headers['content-encoding']).toBeUndefined();
  });

  it('answers to actions (POST) are left alone: not compressed, no Vary on the encoding (the door routes answer a few bytes)', async () => {
    const r = await postWith(`${h.kioskUrl}/api/kiosk/pickup`, { code: '12345678', phoneLast4: '1234' }, { 'Accept-Encoding': 'gzip' });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.headers.vary ?? '').not.toMatch(/accept-encoding/i);
    // a failed action's answer too, whatever its size
    const bad = await postWith(`${h.url}/api/requests`, { serviceCode: 'x'.repeat(3000) }, { 'Accept-Encoding': 'gzip' });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-encoding']).toBeUndefined();
  });
});

describe('security headers', () => {
  /** The headers helmet itself sets with the app's options, on a bare express app. */
  async function helmetReference(): Promise<http.IncomingHttpHeaders> {
    const ref = express();
    ref.disable('x-powered-by');
    ref.use(helmet(SECURITY_HEADERS_OPTIONS));
    ref.get('/', (_req, res) => res.json({}));
    const server = ref.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      return (await getWith(`http://127.0.0.1:${(server.address() as { port: number }).port}/`, {})).headers;
    } finally {
      server.close();
    }
  }
  const names = (hs: http.IncomingHttpHeaders) =>
    Object.keys(hs).filter((k) => !['date', 'connection', 'keep-alive', 'content-length', 'content-type', 'etag'].includes(k));

  it('every answer carries the headers helmet sets, with its values: pages, GET and POST answers, errors, on both listeners', async () => {
    const ref = await helmetReference();
    expect(ref['content-security-policy']).toBeTruthy();
    const answers = [
      await getWith(`${h.url}/kiosk`, {}),
      await getWith(`${h.url}/api/services`, {}),
      await getWith(`${h.url}/api/nothing-here`, {}),
      await getWith(`${h.kioskUrl}/api/health`, {}),
      await postWith(`${h.kioskUrl}/api/kiosk/pickup`, { code: '12345678', phoneLast4: '1234' }, {}),
      await postWith(`${h.kioskUrl}/api/kiosk/pickup`, { code: 'x' }, {}),
    ];
    for (const a of answers) {
      for (const k of names(ref)) expect(a.headers[k], k).toEqual(ref[k]);
      expect(a.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('a middleware that does not go on at once cannot be turned into fixed headers', () => {
    expect(() => fixedHeaders((_req, _res, next) => void setTimeout(next, 0))).toThrow(/at once/);
  });
});

function postWith(url: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = http.request(
      url,
      { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': data.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

describe('page caching', () => {
  it('pages, scripts, styles and sounds are revalidated on every load (no-cache + ETag), 304 when unchanged', async () => {
    for (const p of [
      '/kiosk',
      '/staff',
      '/m/submit',
      '/ui/kiosk/kiosk.js',
      '/ui/kiosk/kiosk.css',
      '/ui/kiosk/words.js',
      '/ui/kiosk/sounds/n3.wav',
      '/ui/phone/status.js',
    ]) {
      const first = await fetch(`${h.url}${p}`);
      expect(first.status, p).toBe(200);
      await first.arrayBuffer();
      expect(first.headers.get('cache-control'), p).toBe('no-cache');
      const etag = first.headers.get('etag');
      expect(etag, p).toBeTruthy();
      // node:http, as a browser revalidates: fetch() adds "Cache-Control: no-cache" to a conditional request by its spec
      expect(await statusOf(`${h.url}${p}`, { 'If-None-Match': etag! }), p).toBe(304);
    }
  });
});
