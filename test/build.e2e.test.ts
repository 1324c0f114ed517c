/**
 * The production start: `npm run build` compiles to JavaScript (tsconfig.build.json) and bundles the controller
 * (deploy/bundle.mjs), and the built controller starts with plain node — no TypeScript compiler at run time — and
 * still finds the pages, the word catalogue's languages and the simulator panel.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './harness.js';
import { ROOT } from './processes.js';

const out = path.join(ROOT, '.tmp', `build-${process.pid}`);
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

describe('npm run build, then node on the JavaScript', () => {
  it('compiles without tests, starts without tsx and serves the touchscreen, its scripts and the panel', async () => {
    const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', out], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
    expect(fs.existsSync(path.join(out, 'controller/main.js'))).toBe(true);
    const emitted = fs.readdirSync(out, { recursive: true }).map(String);
    expect(emitted.filter((f) => f.endsWith('.test.js'))).toEqual([]);
    // the second step: the controller bundled into controller/main.js (deploy/bundle.mjs), as npm run build does
    const bundle = spawnSync(process.execPath, ['deploy/bundle.mjs', out], { cwd: ROOT, encoding: 'utf8' });
    expect(bundle.stdout + bundle.stderr).toBe('');
    expect(bundle.status).toBe(0);
    const main = fs.readFileSync(path.join(out, 'controller/main.js'), 'utf8');
    expect(main).not.toMatch(/from ["']\.\/(config|store\/index|http\/app)\.js["']/);
    expect(fs.readdirSync(path.join(out, 'controller/chunks')).length).toBeGreaterThan(0);

    const proc = spawn(process.execPath, [path.join(out, 'controller/main.js')], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', SIM_PANEL_PORT: '0', DATA_DIR: tempDir(), LOG_LEVEL: 'warn', NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    proc.stdout.on('data', (b: Buffer) => {
      text += b.toString();
    });
    proc.stderr.on('data', (b: Buffer) => {
      text += b.toString();
    });
    const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
    try {
      const deadline = Date.now() + 15_000;
      while (!/Simulator panel:\s+http/.test(text) && Date.now() < deadline && proc.exitCode === null) await new Promise((r) => setTimeout(r, 20));
      const url = /Touchscreen:\s+(http:\/\/\S+)\/kiosk/.exec(text)?.[1];
      const panel = /Simulator panel:\s+(http:\/\/\S+?)\/?\s/.exec(text)?.[1];
      expect(url, text).toBeTruthy();
      const kiosk = await fetch(`${url}/kiosk`);
      expect(kiosk.status).toBe(200);
      expect(await kiosk.text()).toContain('<html');
      expect((await fetch(`${url}/ui/kiosk/kiosk.js`)).status).toBe(200);
      expect((await fetch(`${url}/m/submit`)).status).toBe(200);
      // the word catalogue found its languages, and the QR code package (bundled) draws
      const words = (await (await fetch(`${url}/api/words`)).json()) as { languages: { language: string }[] };
      expect(words.languages.map((l) => l.language)).toEqual(['zh-CN', 'en']);
      const qr = await fetch(`${url}/api/kiosk/submit-qr.svg`);
      expect(qr.status).toBe(200);
      expect(await qr.text()).toContain('<svg');
      const panelPage = await fetch(`${panel}/`);
      expect(panelPage.status).toBe(200);
      expect(await panelPage.text()).toContain('<html');
      // no TypeScript loader in this process
      expect(text).not.toMatch(/tsx|ERR_UNKNOWN_FILE_EXTENSION/);
    } finally {
      proc.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 180_000);
});
