/**
 * A developer at the simulator's panel, in a real browser: a door opened there reaches the
 * controller (started as `npm start` would, pointed at the simulator over tcp://) as an event.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { axeViolations } from './axe.js';
import { launchBrowser } from './browser.js';
import { tempDir } from './harness.js';
import { getJson, run, type Running } from './processes.js';

let browser: Browser;
const procs: Running[] = [];
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  for (const p of procs) await p.stop();
});

interface Health {
  status: string;
  compartments: { door: string; item: string }[];
  counters: { tampers: number };
}

it('opening door 5 with the panel button shows on the panel and at the controller', async () => {
  const sim = run('sim/main.ts', ['--listen', 'tcp://127.0.0.1:0', '--panel', '127.0.0.1:0'], {});
  procs.push(sim);
  const [, bus] = await sim.waitForOutput(/lock bus on (tcp:\/\/127\.0\.0\.1:\d+)/);
  const [, panelUrl] = await sim.waitForOutput(/panel \S* ?(http:\/\/127\.0\.0\.1:\d+)/);
  const controller = run('controller/main.ts', [], { PORT: '0', LOCK_PORT: bus!, DATA_DIR: tempDir() });
  procs.push(controller);
  const [, url] = await controller.waitForOutput(/Health:\s+(http:\/\/\S+)\/api\/health/);

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(panelUrl!);
  const cell = page.locator('[aria-label^="格口 5 "]');
  await cell.waitFor();
  await expect(cell.getAttribute('aria-label')).resolves.toContain('门关');
  expect(await axeViolations(page), 'simulator panel: axe-core (WCAG 2.2 A/AA)').toEqual([]);

  // Wait until the controller has read the cabinet, so the opening is a change it must report.
  let health: Health | undefined;
  for (let i = 0; i < 200; i++) {
    health = (await getJson<Health>(`${url}/api/health`)).body;
    if (health.status === 'ok') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(health?.status).toBe('ok');

  await cell.getByRole('button', { name: '开 open' }).click();
  await page.locator('[aria-label^="格口 5 门开"]').waitFor({ timeout: 5000 });

  for (let i = 0; i < 100; i++) {
    health = (await getJson<Health>(`${url}/api/health`)).body;
    if (health.compartments[4]!.door === 'open') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(health!.compartments[4]!.door).toBe('open');
  expect(health!.counters.tampers).toBe(1);
  expect(errors).toEqual([]);
});
