/**
 * The pages and their files as a kiosk's browser gets them: after an update the next load is the new version
 * (revalidated every time: no-cache with an ETag, 304 when unchanged), never an hour-old script.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});

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
