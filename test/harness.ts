/**
 * Shared pieces for tests that span folders: the real driver wired to the simulated cabinet
 * through a chosen transport, a socat pty pair, and bounded waiting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BoardDriver, type DriverOptions } from '../controller/board/driver.js';
import { loadConfig } from '../controller/config.js';
import { silentLogger } from '../controller/log.js';
import type { Endpoint } from '../controller/transport/endpoints.js';

/** Driver options with test-friendly timings; anything can be overridden. */
export function driverOptions(endpoint: Endpoint, overrides: Partial<DriverOptions> = {}): DriverOptions {
  const config = loadConfig({ LOCK_RESPONSE_TIMEOUT_MS: '150', LOCK_POLL_MS: '300', LOCK_RECONNECT_MIN_MS: '50', LOCK_RECONNECT_MAX_MS: '400' });
  return { ...config, endpoint, logger: silentLogger(), ...overrides };
}

export function createDriver(endpoint: Endpoint, overrides: Partial<DriverOptions> = {}): BoardDriver {
  return new BoardDriver(driverOptions(endpoint, overrides));
}

/** Poll `check` every 10 ms until it returns a truthy value; fail after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined | null | false, what: string, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function tempDir(prefix = 'cabinet-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function hasCommand(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => {
    try {
      fs.accessSync(path.join(dir, cmd), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** A pair of connected pseudo-terminals made by socat: what one end writes, the other reads. */
export class PtyPair {
  private proc: ChildProcess | null = null;
  readonly a: string;
  readonly b: string;

  constructor(dir: string = tempDir('pty-')) {
    this.a = path.join(dir, 'ttyA');
    this.b = path.join(dir, 'ttyB');
  }

  async start(): Promise<void> {
    if (!hasCommand('socat')) throw new Error('socat is not installed (apt-get install socat; .ci/run does it)');
    this.proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`], { stdio: 'ignore' });
    await waitFor(() => fs.existsSync(this.a) && fs.existsSync(this.b), 'socat to create the pty pair');
  }

  /** Like pulling the USB cable: both ends vanish. */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    await exited;
    await waitFor(() => !fs.existsSync(this.a), 'the pty links to disappear');
  }
}
