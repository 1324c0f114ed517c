/**
 * The serial link over a real pseudo-terminal pair made by socat: the sim opens ttyB with
 * serialport, the test plays the controller on ttyA. Killing socat looks like a USB unplug; the
 * sim must survive it and reopen the path once socat is back.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentAck, UnlockAck } from '../../firmware-protocol/index.js';
import { SimCabinet } from '../cabinet.js';
import { LineLink } from '../links/line-link.js';
import { SerialEndpoint } from '../links/serial.js';
import { firstPortReadsLate } from './late-reads.js';
import { Wire } from './wire.js';

function hasSocat(): boolean {
  try {
    execFileSync('which', ['socat'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function until(test: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!test()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function openPort(p: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path: p, baudRate: 9600, autoOpen: false });
    port.open((err) => (err ? reject(err) : resolve(port)));
  });
}

if (!hasSocat()) {
  it('socat is not installed: the pty test cannot run here', () => {
    expect(hasSocat()).toBe(false);
  });
} else {
  describe('serial link over a socat pty pair', () => {
    let dir: string;
    let socat: ChildProcess | null = null;
    let sim: SimCabinet;
    let endpoint: SerialEndpoint;
    const warnings: string[] = [];

    const startSocat = async (): Promise<void> => {
      socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${dir}/ttyA`, `pty,raw,echo=0,link=${dir}/ttyB`], { stdio: 'ignore' });
      await until(() => fs.existsSync(`${dir}/ttyA`) && fs.existsSync(`${dir}/ttyB`), 'socat links');
    };
    const stopSocat = async (): Promise<void> => {
      const p = socat;
      socat = null;
      if (!p || p.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
      p.kill('SIGTERM');
      await exited;
    };

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-pty-'));
      await startSocat();
      sim = new SimCabinet({ springMs: 1, serialRetryMs: 100 });
      sim.on('warning', (w) => warnings.push(w));
      endpoint = sim.openSerial(`${dir}/ttyB`, 9600);
      await endpoint.whenOpen();
    });

    afterAll(async () => {
      await sim?.close();
      await stopSocat();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('exchanges frames with the controller end, survives socat dying and reopens the path', async () => {
      let port = await openPort(`${dir}/ttyA`);
      let wire = new Wire(port);
      expect((await wire.request<IdentAck>({ kind: 'ident', addr: 1, seq: 1 })).channels).toBe(24);
      expect((await wire.request<UnlockAck>({ kind: 'unlock', addr: 1, seq: 2, channel: 4, pulseMs: 300 })).duplicate).toBe(false);
      expect(await wire.event('door')).toMatchObject({ channel: 4, level: 'O', seq: 1 });
      expect(sim.unlockCount(4)).toBe(1);

      // Unplug: socat goes away, both pty ends vanish. The sim notices with nothing to write (see the next test).
      await stopSocat();
      await until(() => !endpoint.isOpen, 'the sim to notice the pty is gone', 15_000);
      if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
      wire.close();
      // The path is missing: the sim keeps retrying without crashing.
      await until(() => endpoint.error !== '', 'a failed reopen');
      expect(warnings.some((w) => w.includes('ttyB'))).toBe(true);

      // Plug back in.
      await startSocat();
      await endpoint.whenOpen();
      port = await openPort(`${dir}/ttyA`);
      wire = new Wire(port);
      const dup = await wire.request<UnlockAck>({ kind: 'unlock', addr: 1, seq: 2, channel: 4, pulseMs: 300 });
      expect(dup.duplicate).toBe(true); // same board, same memory: the retransmission does not pulse again
      expect(sim.unlockCount(4)).toBe(1);
      wire.close();
    });
  });

  describe('a pty hung up before the sim read from it', () => {
    /**
     * Linux hangs a tty up when its other end goes away; a hung-up tty then reads 0 bytes, and serialport
     * reads again for ever without reporting anything — only a write would fail. Whether the sim's read
     * ran before or after the hang-up was a race a busy machine lost (the cabinet then kept the dead pty
     * and never opened the new one). Here the first port's reading is held back until socat is gone, so
     * the read always comes after the hang-up, and the sim has nothing to write.
     */
    it('closes the dead port without writing and opens the pty that comes back in its place', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-hup-'));
      const spawnSocat = async (): Promise<ChildProcess> => {
        const p = spawn('socat', [`pty,raw,echo=0,link=${dir}/ttyA`, `pty,raw,echo=0,link=${dir}/ttyB`], { stdio: 'ignore' });
        await until(() => fs.existsSync(`${dir}/ttyA`) && fs.existsSync(`${dir}/ttyB`), 'socat links');
        return p;
      };
      const kill = async (p: ChildProcess): Promise<void> => {
        if (p.exitCode !== null) return;
        const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
        p.kill('SIGTERM');
        await exited;
      };
      const { Port: FirstReadsLate, release } = firstPortReadsLate();
      const lines: string[] = [];
      const timing = { pacing: () => false, baudRate: () => 9600 };
      let links = 0;
      const endpoint = new SerialEndpoint(
        `${dir}/ttyB`,
        9600,
        'bus',
        (stream, description, onClosed) =>
          new LineLink(
            { id: `serial-${++links}`, kind: 'serial', role: 'bus', description },
            stream,
            { line: (_l, text) => lines.push(text), closed: onClosed },
            timing,
          ),
        50,
        () => undefined,
        FirstReadsLate,
      );
      let socat = await spawnSocat();
      try {
        endpoint.start();
        await endpoint.whenOpen();
        await kill(socat);
        await until(() => !fs.existsSync(`${dir}/ttyB`), 'the pty links to vanish');
        release(); // the first read starts now, on a hung-up tty: it reads nothing, for ever
        await until(() => !endpoint.isOpen, 'the sim to close the hung-up port', 5000);

        socat = await spawnSocat();
        await endpoint.whenOpen();
        expect(links).toBe(2);
        const port = await openPort(`${dir}/ttyA`);
        try {
          port.write('hello board\n');
          await until(() => lines.includes('hello board'), 'a line through the new pty');
        } finally {
          await new Promise<void>((resolve) => port.close(() => resolve()));
        }
      } finally {
        endpoint.close();
        await kill(socat);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
