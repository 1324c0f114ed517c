/**
 * Starting the product's real processes (`npm start`, `npm run sim`) for end-to-end tests:
 * the same entry points a person runs, with TypeScript loaded by tsx as the npm scripts do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Running {
  proc: ChildProcess;
  output: () => string;
  /** Resolves with the first match of `re` in stdout+stderr; rejects after timeoutMs or on exit. */
  waitForOutput: (re: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  stop: () => Promise<number | null>;
}

/** `opts.stdin`: keep a pipe to the process's standard input (proc.stdin) instead of none. */
export function run(entry: string, args: string[], env: Record<string, string>, opts: { stdin?: boolean } = {}): Running {
  return runNode(['--import', 'tsx', entry, ...args], env, opts);
}

/** node with these arguments, in the checkout, its output collected (see run, and runCompiled in compiled.ts). */
export function runNode(nodeArgs: string[], env: Record<string, string>, opts: { stdin?: boolean } = {}): Running {
  const proc = spawn(process.execPath, nodeArgs, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (b: Buffer) => {
    out += b.toString('utf8');
    for (const l of listeners) l();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      for (const l of listeners) l();
      resolve(code);
    }),
  );
  return {
    proc,
    output: () => out,
    exited,
    waitForOutput: (re, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(out);
          if (m) done(() => resolve(m));
          else if (proc.exitCode !== null || proc.signalCode !== null)
            done(() => reject(new Error(`process exited (${proc.exitCode ?? proc.signalCode}) before printing ${re}:\n${out}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no ${re} within ${timeoutMs} ms:\n${out}`))), timeoutMs);
        const done = (f: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          f();
        };
        listeners.add(check);
        check();
      }),
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}

export async function getJson<T = unknown>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as T };
}
