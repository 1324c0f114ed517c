/**
 * Packages a start need not load: serialport (a native binding and its dependencies) only when a serial port is
 * named — the embedded simulator and a serial device server never need it; qrcode only for the first QR image. Checked in a fresh node process on
 * the compiled sources, by the CommonJS module cache, where node keeps a package that is loaded.
 */
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { compiledEntry } from '../../test/compiled.js';
import { tempDir } from '../../test/harness.js';

/** Runs `body` (an ES module's text, with `loaded(name)` and the compiled modules' URLs in `url`) in a new node. */
async function inFreshNode(body: string, entries: Record<string, string>): Promise<unknown> {
  const url: Record<string, string> = {};
  for (const [k, entry] of Object.entries(entries)) url[k] = pathToFileURL(await compiledEntry(entry)).href;
  const script = `
    import { createRequire } from 'node:module';
    const url = ${JSON.stringify(url)};
    const cache = createRequire(import.meta.url).cache;
    const loaded = (name) => Object.keys(cache).some((k) => k.includes('/node_modules/' + name + '/'));
    ${body}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

it('serialport is loaded only for a serial port: not for the embedded simulator nor a device server', async () => {
  const seen = await inFreshNode(
    `
    const { endpointFor } = await import(url.main);
    const { loadConfig } = await import(url.config);
    const config = (port) => loadConfig({ LOCK_PORT: port, DATA_DIR: ${JSON.stringify(tempDir())} });
    const seen = [];
    const sim = await endpointFor(config('sim'));
    seen.push(loaded('serialport'));
    await endpointFor(config('tcp://127.0.0.1:9'));
    seen.push(loaded('serialport'));
    await endpointFor(config('/dev/ttyNOSUCHPORT'));
    seen.push(loaded('serialport'));
    await sim.cabinet.close();
    console.log(JSON.stringify(seen));`,
    { main: 'controller/main.ts', config: 'controller/config.ts' },
  );
  expect(seen).toEqual([false, false, true]);
}, 60_000);

it('qrcode is loaded for the first QR image, not with the HTTP routes', async () => {
  const seen = await inFreshNode(
    `
    const { createApp } = await import(url.app);
    const { qrImage } = await import(url.qr);
    const seen = [typeof createApp === 'function' && loaded('qrcode')];
    const svg = (await qrImage('http://127.0.0.1/m/submit', 'svg')).toString();
    seen.push(svg.includes('<svg') && loaded('qrcode'));
    console.log(JSON.stringify(seen));`,
    { app: 'controller/http/app.ts', qr: 'controller/http/qr.ts' },
  );
  expect(seen).toEqual([false, true]);
}, 60_000);
