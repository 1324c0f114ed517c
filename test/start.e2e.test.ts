/**
 * The two things a person runs: `npm start` (controller + embedded simulator) and
 * `npm run sim` (the simulator alone, with its panel), started as real processes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from './harness.js';
import { getJson, run, type Running } from './processes.js';

interface Health {
  status: string;
  link: { state: string; port: string };
  boards: { addr: number; online: boolean }[];
  compartmentCount: number;
  compartments: { compartment: number; door: string; item: string }[];
  counters: { tampers: number };
  doorActions: string;
}

const running: Running[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.stop();
});

function start(entry: string, args: string[], env: Record<string, string> = {}): Running {
  const r = run(entry, args, env);
  running.push(r);
  return r;
}

async function healthOnce(url: string): Promise<Health> {
  return (await getJson<Health>(`${url}/api/health`)).body;
}

async function waitHealthy(url: string): Promise<Health> {
  let last: Health | undefined;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    last = await healthOnce(url);
    // Healthy and past the start-up check of the doors: door changes from here on are judged as they come.
    if (last.status === 'ok' && last.doorActions === 'ready') return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`controller never became healthy: ${JSON.stringify(last)}`);
}

describe('npm start', () => {
  it('comes up with no configuration against the embedded simulator and reports 24 compartments', async () => {
    const c = start('controller/main.ts', [], { PORT: '0', KIOSK_PORT: '0', SIM_PANEL_PORT: '0', DATA_DIR: tempDir() });
    const [, url] = await c.waitForOutput(/Health:\s+(http:\/\/\S+)\/api\/health/);
    const [, kiosk] = /Touchscreen:\s+(http:\/\/127\.0\.0\.1:\d+)\/kiosk/.exec(c.output())!;
    const [, panel] = await c.waitForOutput(/Simulator panel:\s+(http:\/\/\S+?)\/?\s/);
    const health = await waitHealthy(url!);
    expect(health.link).toEqual({ state: 'online', port: 'embedded simulator' });
    expect(health.boards).toEqual([expect.objectContaining({ addr: 1, online: true })]);
    expect(health.compartmentCount).toBe(24);
    expect(health.compartments.every((x) => x.door === 'closed' && x.item === undefined)).toBe(true);

    // The printed touchscreen URL is the kiosk listener: its page and kiosk routes work there, and not on the public port.
    expect(kiosk).not.toBe(url);
    expect((await fetch(`${kiosk}/kiosk`)).status).toBe(200);
    expect((await fetch(`${kiosk}/api/kiosk/info`)).status).toBe(200);
    expect((await fetch(`${url}/api/kiosk/info`)).status).toBe(403);
    // which compartments hold something: told on this machine's kiosk listener, not on the public port
    const local = (await (await fetch(`${kiosk}/api/health`)).json()) as Health;
    expect(local.compartments.every((x) => x.item === 'absent')).toBe(true);

    // The embedded simulator's panel is live: a door opened there reaches the controller.
    const opened = await fetch(`${panel}/api/compartments/2/open`, { method: 'POST' });
    expect(opened.status).toBe(200);
    const after = await pollUntil(url!, (h) => h.compartments[1]!.door === 'open');
    expect(after.counters.tampers).toBe(1);

    expect(await c.stop()).toBe(0);
  });

  it('refuses a bad setting with a message naming it, and exit code 2', async () => {
    const c = start('controller/main.ts', [], { LOCK_BAUD: '4800', PORT: '0', DATA_DIR: tempDir() });
    expect(await c.exited).toBe(2);
    expect(c.output()).toContain('LOCK_BAUD="4800"');
    expect(c.output()).toContain('native boards run at 9600, 115200');
  });

  it('refuses a cabinet grid without a place for every door, naming the setting, with exit code 2', async () => {
    const c = start('controller/main.ts', [], { CABINET_GRID: '4x5', PORT: '0', DATA_DIR: tempDir() });
    expect(await c.exited).toBe(2);
    expect(c.output()).toContain('CABINET_GRID=4x5: 20 places for doors numbered up to 24');
  });

  it('refuses an unlock deadline shorter than its retries need, naming the settings, with exit code 2', async () => {
    const c = start('controller/main.ts', [], {
      UNLOCK_TTL_MS: '1000',
      LOCK_RETRIES: '2',
      LOCK_RESPONSE_TIMEOUT_MS: '500',
      PORT: '0',
      DATA_DIR: tempDir(),
    });
    expect(await c.exited).toBe(2);
    for (const name of ['UNLOCK_TTL_MS', 'LOCK_RETRIES', 'LOCK_RESPONSE_TIMEOUT_MS']) expect(c.output()).toContain(name);
  });
});

describe('npm run sim with the controller on tcp://', () => {
  it('a door opened from the sim panel arrives at the controller as an event', async () => {
    const sim = start('sim/main.ts', ['--listen', 'tcp://127.0.0.1:0', '--panel', '127.0.0.1:0'], {});
    const [, bus] = await sim.waitForOutput(/lock bus on (tcp:\/\/127\.0\.0\.1:\d+)/);
    const [, panel] = await sim.waitForOutput(/panel \S* ?(http:\/\/127\.0\.0\.1:\d+)/);
    const panelPage = await fetch(`${panel}/`);
    expect(panelPage.status).toBe(200);
    expect(await panelPage.text()).toContain('<html');

    const c = start('controller/main.ts', [], { PORT: '0', KIOSK_PORT: '0', LOCK_PORT: bus!, DATA_DIR: tempDir() });
    const [, url] = await c.waitForOutput(/Health:\s+(http:\/\/\S+)\/api\/health/);
    const health = await waitHealthy(url!);
    expect(health.link.port).toBe(`tcp ${bus!.slice('tcp://'.length)}`);
    expect(c.output()).not.toContain('Simulator panel');

    const res = await fetch(`${panel}/api/compartments/17/open`, { method: 'POST' });
    expect(res.status).toBe(200);
    const after = await pollUntil(url!, (h) => h.compartments[16]!.door === 'open');
    expect(after.counters.tampers).toBe(1);

    // And a bad panel request is refused with a clear JSON error, changing nothing.
    const bad = await getJson<{ error: { code: string; message: string } }>(`${panel}/api/compartments/99/open`, { method: 'POST' });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(bad.status).toBeLessThan(500);
    expect(bad.body.error.message.length).toBeGreaterThan(0);
  });
});

async function pollUntil(url: string, ok: (h: Health) => boolean): Promise<Health> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const h = await healthOnce(url);
    if (ok(h)) return h;
    if (Date.now() > deadline) throw new Error(`condition not reached: ${JSON.stringify(h).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
