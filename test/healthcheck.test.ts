/**
 * The liveness check (deploy/bin/healthcheck.sh, run by bangbangui-healthcheck.timer) against a real HTTP
 * server standing in for /api/health, with `systemctl` replaced by a recorder on PATH: three unanswered checks in
 * a row restart the controller, a board link down for LINK_DOWN_RESTART_MIN minutes restarts it once, a healthy
 * or stopped controller is left alone.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from './harness.js';
import { ROOT } from './processes.js';

let server: http.Server | null = null;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});

async function health(link: string): Promise<number> {
  server = http.createServer((_req, res) =>
    res.setHeader('content-type', 'application/json').end(JSON.stringify({ status: 'ok', link: { state: link, port: 'x' } })),
  );
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function world(active = true) {
  const dir = tempDir('health-');
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const log = path.join(dir, 'systemctl.log');
  fs.writeFileSync(
    path.join(bin, 'systemctl'),
    `#!/bin/sh\necho "$*" >> "${log}"\ncase "$1" in is-active) exit ${active ? 0 : 3};; show) echo 1;; esac\nexit 0\n`,
    { mode: 0o755 },
  );
  const state = path.join(dir, 'run');
  // asynchronously: the stand-in /api/health lives in this process and must keep answering
  const check = (port: number, env: Record<string, string> = {}) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn('bash', [path.join(ROOT, 'deploy/bin/healthcheck.sh')], {
        env: {
          PATH: `${bin}:${process.env.PATH ?? ''}`,
          RUNTIME_DIRECTORY: state,
          PORT: String(port),
          HOST: '0.0.0.0',
          HEALTH_TIMEOUT_S: '2',
          ...env,
        },
      });
      let out = '';
      p.stdout.on('data', (b: Buffer) => (out += b.toString()));
      p.stderr.on('data', (b: Buffer) => (out += b.toString()));
      p.once('close', (code) => resolve({ code, out }));
    });
  const restarts = () =>
    fs.existsSync(log)
      ? fs
          .readFileSync(log, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('restart'))
      : [];
  return { check, restarts, state };
}

const closedPort = async () => {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
};

describe('healthcheck.sh', () => {
  it('leaves a healthy controller alone', async () => {
    const w = world();
    const r = await w.check(await health('online'));
    expect(r).toEqual({ code: 0, out: '' });
    expect(w.restarts()).toEqual([]);
  });

  it('restarts after three unanswered checks in a row, and says why', async () => {
    const w = world();
    const port = await closedPort();
    expect((await w.check(port)).out).toContain('no answer from /api/health (1 in a row)');
    expect((await w.check(port)).code).toBe(0);
    expect(w.restarts()).toEqual([]);
    const third = await w.check(port);
    expect(third.code).toBe(1);
    expect(third.out).toContain('/api/health did not answer 3 times in a row');
    expect(w.restarts()).toEqual(['restart bangbangui.service']);
  });

  it('an answer in between starts the count again', async () => {
    const w = world();
    const dead = await closedPort();
    await w.check(dead);
    await w.check(dead);
    const alive = await health('online');
    expect((await w.check(alive)).code).toBe(0);
    await new Promise<void>((r) => server!.close(() => r()));
    server = null;
    await w.check(dead);
    await w.check(dead);
    expect(w.restarts()).toEqual([]);
  });

  it('restarts once when the board link has been down for LINK_DOWN_RESTART_MIN minutes', async () => {
    const w = world();
    const port = await health('offline');
    expect((await w.check(port, { LINK_DOWN_RESTART_MIN: '15' })).out).toContain('lock board link is offline');
    expect((await w.check(port, { LINK_DOWN_RESTART_MIN: '15' })).code).toBe(0); // not long enough yet
    fs.writeFileSync(path.join(w.state, 'link-down-since'), `${Math.floor(Date.now() / 1000) - 16 * 60}\n`);
    const r = await w.check(port, { LINK_DOWN_RESTART_MIN: '15' });
    expect(r.code).toBe(1);
    expect(r.out).toContain('the lock board link has been offline for 16 minutes');
    expect(w.restarts()).toEqual(['restart bangbangui.service']);
    expect(fs.existsSync(path.join(w.state, 'link-down-since'))).toBe(false); // the next period starts afresh
  });

  it('does nothing while the controller is stopped (Restart= is in charge then)', async () => {
    const w = world(false);
    const r = await w.check(await closedPort());
    expect(r).toEqual({ code: 0, out: '' });
    expect(w.restarts()).toEqual([]);
  });
});
