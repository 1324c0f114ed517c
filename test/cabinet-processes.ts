/**
 * The whole product as separate processes, for end-to-end tests through HTTP only: the simulated
 * cabinet (`npm run sim`, with its panel API standing in for the hands of staff and residents),
 * the controller (`npm start`) pointed at it over tcp://, and a notification gateway (a webhook
 * receiver standing in for the SMS service, which is how a resident learns the pickup code).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCompiled } from './compiled.js';
import { tempDir } from './harness.js';
import { getJson, run, type Running } from './processes.js';

/**
 * How a process is started: by its npm script's way (tsx compiling TypeScript in the child), or from the sources
 * compiled once to JavaScript (test/compiled.ts) — the same program, started faster, for tests that start many.
 */
export interface StartOptions {
  compiled?: boolean;
}

function start(entry: string, args: string[], env: Record<string, string>, how: StartOptions): Promise<Running> {
  return how.compiled ? runCompiled(entry, args, env) : Promise.resolve(run(entry, args, env));
}

export interface Sim {
  proc: Running;
  bus: string;
  panel: string;
  /** A person's hand at compartment n: open (forced), close, put, take. */
  act(n: number, action: 'open' | 'close' | 'put' | 'take'): Promise<void>;
  state(): Promise<{ compartments: { n: number; doorOpen: boolean; item: boolean; unlocks: number }[] }>;
}

/** The simulated cabinet as its own process; `protocol`: the lock-board protocol version its boards speak (default 1). */
export async function startSim(how: StartOptions = {}, { protocol = 1 }: { protocol?: 1 | 2 } = {}): Promise<Sim> {
  const proc = await start('sim/main.ts', ['--listen', 'tcp://127.0.0.1:0', '--panel', '127.0.0.1:0', '--protocol', String(protocol)], {}, how);
  const [, bus] = await proc.waitForOutput(/lock bus on (tcp:\/\/127\.0\.0\.1:\d+)/);
  const [, panel] = await proc.waitForOutput(/panel \S* ?(http:\/\/127\.0\.0\.1:\d+)/);
  return {
    proc,
    bus: bus!,
    panel: panel!,
    async act(n, action) {
      const res = await fetch(`${panel}/api/compartments/${n}/${action}`, { method: 'POST' });
      if (res.status !== 200) throw new Error(`sim ${action} ${n}: HTTP ${res.status} ${await res.text()}`);
    },
    async state() {
      return (await getJson<{ compartments: { n: number; doorOpen: boolean; item: boolean; unlocks: number }[] }>(`${panel}/api/state`)).body;
    },
  };
}

export interface Notification {
  kind: string;
  to: string;
  requestNo: string | null;
  text: string;
  code?: string;
  qrToken?: string;
}

/** The SMS gateway: receives the controller's webhook POSTs. */
export async function startGateway(): Promise<{ url: string; received: Notification[]; close(): Promise<void> }> {
  const received: Notification[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      try {
        received.push(JSON.parse(body) as Notification);
        res.writeHead(200).end('{}');
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/sms`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export interface ControllerProc {
  proc: Running;
  url: string;
  /** The kiosk listener (the cabinet's own screen). */
  kioskUrl: string;
  /** Set on the first start of a data directory. */
  adminPin: string | null;
}

export async function startController(
  opts: { dataDir: string; bus: string; gateway: string; crashAt?: string } & StartOptions,
): Promise<ControllerProc> {
  const env: Record<string, string> = {
    PORT: '0',
    KIOSK_PORT: '0',
    LOCK_PORT: opts.bus,
    DATA_DIR: opts.dataDir,
    NOTIFY_WEBHOOK_URL: opts.gateway,
    LOCK_POLL_MS: '500',
    DOOR_OPEN_TIMEOUT_MS: '2000',
    LOG_LEVEL: 'warn',
    ...(opts.crashAt ? { CABINET_CRASH_AT: opts.crashAt } : {}),
  };
  const proc = await start('controller/main.ts', [], env, opts);
  const [, url] = await proc.waitForOutput(/Health:\s+(http:\/\/\S+)\/api\/health/);
  const kioskUrl = /Touchscreen:\s+(http:\/\/\S+)\/kiosk/.exec(proc.output());
  const pin = /PIN: (\d{8})/.exec(proc.output());
  const c = { proc, url: url!, kioskUrl: kioskUrl![1]!, adminPin: pin ? pin[1]! : null };
  await untilReady(c.url);
  return c;
}

/** Health says the link is up and start-up reconciliation is done. */
export async function untilReady(url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const h = (await getJson<{ status: string; doorActions: string }>(`${url}/api/health`)).body;
    if (h.status === 'ok' && h.doorActions === 'ready') return;
    if (Date.now() > deadline) throw new Error(`controller not ready: ${JSON.stringify(h)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A tiny HTTP client for the controller: JSON in and out, with an optional staff session; kiosk routes go to the kiosk listener. */
export class Api {
  token: string | null = null;
  constructor(
    public url: string,
    public kioskUrl: string = url,
  ) {}

  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(`${path.startsWith('/api/kiosk/') ? this.kioskUrl : this.url}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
  }

  /** Sign in; on the first sign-in of the initial admin, set a new PIN as required. */
  /** Signs in (changing the PIN to `newPin` when asked to); resolves with the PIN in effect afterwards. */
  async signIn(login: string, pin: string, newPin = '48151623'): Promise<string> {
    let r = await this.call<{ token: string; staff: { mustChangePin: boolean } }>('POST', '/api/staff/login', { login, pin });
    let current = pin;
    if (r.status === 401 && pin !== newPin) {
      r = await this.call('POST', '/api/staff/login', { login, pin: newPin });
      current = newPin;
    }
    if (r.status !== 200) throw new Error(`sign-in failed: ${r.status} ${JSON.stringify(r.body)}`);
    this.token = r.body.token;
    if (r.body.staff.mustChangePin) {
      const c = await this.call('POST', '/api/staff/me/pin', { currentPin: current, newPin });
      if (c.status !== 200) throw new Error(`PIN change failed: ${c.status} ${JSON.stringify(c.body)}`);
      current = newPin;
    }
    return current;
  }
}

export { tempDir };
