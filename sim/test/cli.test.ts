/**
 * CLI option parsing, and the real `sim/main.ts` process: exit code 2 on bad options; start,
 * answer over TCP, close cleanly on SIGTERM.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { IdentAck } from '../../firmware-protocol/index.js';
import { parseCli } from '../cli-options.js';
import { Wire } from './wire.js';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'main.ts');

describe('parseCli', () => {
  it('has sensible defaults', () => {
    const r = parseCli([]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.options).toMatchObject({
      listen: [{ kind: 'tcp', host: '127.0.0.1', port: 7001 }],
      layout: { boards: 1, channels: 24 },
      polarity: 'nc',
      baudRate: 9600,
      panel: { host: '127.0.0.1', port: 7002 },
      autoCloseMs: null,
      drop: 0,
      corrupt: 0,
      delayMs: 0,
      scanner: null,
    });
  });

  it('parses every option', () => {
    const r = parseCli([
      '--listen',
      '/tmp/ttyB',
      '--listen',
      'tcp://127.0.0.1:9000',
      '--layout',
      '2x12',
      '--polarity',
      'no',
      '--baud',
      '115200',
      '--panel',
      'off',
      '--auto-close-ms',
      '5000',
      '--drop',
      '0.1',
      '--corrupt',
      '0.05',
      '--delay-ms',
      '30',
      '--seed',
      '7',
      '--scanner',
      'tcp://127.0.0.1:9001',
      '--pacing',
      '--spring-ms',
      '80',
    ]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.options).toEqual({
      board: 'native',
      protocol: 1,
      listen: [
        { kind: 'serial', path: '/tmp/ttyB' },
        { kind: 'tcp', host: '127.0.0.1', port: 9000 },
      ],
      scanner: { kind: 'tcp', host: '127.0.0.1', port: 9001 },
      layout: { boards: 2, channels: 12 },
      polarity: 'no',
      baudRate: 115200,
      panel: null,
      autoCloseMs: 5000,
      springMs: 80,
      drop: 0.1,
      corrupt: 0.05,
      delayMs: 30,
      pacing: true,
      seed: 7,
      logFrames: false,
    });
  });

  it('takes the protocol version of native boards, 1 unless told', () => {
    const v1 = parseCli([]);
    expect(v1.ok && v1.options).toMatchObject({ protocol: 1 });
    const v2 = parseCli(['--protocol', '2', '--layout', '1x32']);
    expect(v2.ok && v2.options).toMatchObject({ protocol: 2, layout: { boards: 1, channels: 32 } });
  });

  it('takes a vendor board family, with its own default speed', () => {
    const k = parseCli(['--board', 'kerong-cu48']);
    expect(k.ok && k.options).toMatchObject({ board: 'kerong-cu48', baudRate: 19200 });
    const e = parseCli(['--board', '8a80', '--polarity', 'no']);
    expect(e.ok && e.options).toMatchObject({ board: '8a80', baudRate: 9600, polarity: 'no' });
  });

  it.each([
    [['--layout', '40x2'], '--layout'],
    [['--layout', 'big'], '--layout'],
    [['--polarity', 'nx'], '--polarity'],
    [['--baud', '4800'], '--baud'],
    [['--drop', '1.5'], '--drop'],
    [['--drop', 'lots'], '--drop'],
    [['--delay-ms', '-5'], '--delay-ms'],
    [['--listen', 'udp://x:1'], '--listen'],
    [['--panel', 'nohost'], '--panel'],
    [['--frobnicate'], 'frobnicate'],
    [['--board', 'yt-locker'], '--board'],
    [['--board', '8a80', '--baud', '19200'], '8a80 boards run at 9600'],
    [['--protocol', '3'], '--protocol'],
    [['--protocol', '2', '--board', '8a80'], '--protocol: version 2 is for native boards'],
    [['--protocol', '2', '--layout', '1x48'], '--protocol: a version 2 board has at most 32 channels'],
    [['stray'], 'stray'],
  ])('refuses %j with a message naming the option', (argv, mention) => {
    const r = parseCli(argv);
    expect(r.ok).toBe(false);
    if (r.ok || r.help) throw new Error('expected an error');
    expect(r.error).toContain(mention);
  });
});

function runMain(args: string[]): { child: ReturnType<typeof spawn>; out: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, exit };
}

describe('sim/main.ts', () => {
  it('exits with code 2 and a clear message on a bad option', async () => {
    const run = runMain(['--layout', '1x99']);
    expect(await run.exit).toBe(2);
    expect(run.out()).toContain('--layout');
    expect(run.out()).toContain('Usage');
  });

  it('prints the link and panel addresses, answers, and exits 0 on SIGTERM', async () => {
    const run = runMain(['--listen', 'tcp://127.0.0.1:0', '--panel', '127.0.0.1:0', '--layout', '2x12']);
    const start = Date.now();
    while (!/panel .*http:\/\/127\.0\.0\.1:\d+\//.test(run.out())) {
      if (Date.now() - start > 15_000 || run.child.exitCode !== null) throw new Error(`sim did not start: ${run.out()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const port = Number(/lock bus on tcp:\/\/127\.0\.0\.1:(\d+)/.exec(run.out())?.[1]);
    expect(port).toBeGreaterThan(0);
    const panelUrl = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(run.out())![1]!;
    const state = (await (await fetch(panelUrl + 'api/state')).json()) as { layout: { text: string } };
    expect(state.layout.text).toBe('2x12');
    const sock = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    });
    const wire = new Wire(sock);
    expect((await wire.request<IdentAck>({ kind: 'ident', addr: 2, seq: 1 })).channels).toBe(12);
    wire.close();
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
  });
});
