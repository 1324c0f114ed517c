/**
 * The developer control surface of the simulator: a small HTTP API (express), a WebSocket at /ws
 * that sends a snapshot on connect and then changes, and a single-page panel (plain HTML/JS/CSS
 * in ./public, no build step, no CDN).
 *
 *   GET  /api/state                         snapshot of the whole cabinet
 *   GET  /api/frames                        recent frame log
 *   POST /api/compartments/:n/open|close|put|take
 *   POST /api/faults                        FaultPatch (see sim/config.ts)
 *   POST /api/boards/:addr/reboot           { reason?, bootMs? }
 *   POST /api/disconnect                    { mode?: 'drop' | 'silent' }
 *   POST /api/reconnect
 *   POST /api/scan                          { text }
 *
 * Errors are JSON `{ error: { code, message, field? } }`; a bad body is 400 and changes nothing.
 * A request (or WebSocket) whose Host header is not a loopback name, an IP address or the panel's own host name is
 * refused with 400 BAD_HOST before any route runs: a web page elsewhere whose name was made to resolve to this
 * machine (DNS rebinding) cannot drive the panel, which opens doors.
 */
import fs from 'node:fs';
import http from 'node:http';
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import { WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';
import type { CabinetSnapshot, FrameLogEntry, SimCabinet } from '../cabinet.js';
import { bootReasonSchema, faultPatchSchema, firstIssue, MAX_DELAY_MS, MAX_SCAN_LENGTH } from '../config.js';
import { SimError, type SimErrorCode } from '../errors.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The panel's static files: beside this file in the sources; found up the tree from the built dist/sim/panel/. */
const PUBLIC_DIR =
  [0, 3, 4, 5]
    .map((up) => path.resolve(HERE, '../'.repeat(up), up === 0 ? '' : 'sim/panel', 'public'))
    .find((dir) => fs.existsSync(path.join(dir, 'index.html'))) ?? path.join(HERE, 'public');

/** Messages on the panel WebSocket. */
export type PanelMessage =
  | { type: 'snapshot'; state: CabinetSnapshot; frames: FrameLogEntry[] }
  | { type: 'state'; state: CabinetSnapshot }
  | { type: 'frames'; frames: FrameLogEntry[]; skipped: number }
  | { type: 'scan'; text: string };

export interface PanelServer {
  readonly host: string;
  readonly port: number;
  /** http://host:port/ */
  readonly url: string;
  close(): Promise<void>;
}

export interface PanelOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
}

export const DEFAULT_PANEL_HOST = '127.0.0.1';
export const DEFAULT_PANEL_PORT = 7002;

const STATE_THROTTLE_MS = 50;
const FRAME_BATCH_MS = 100;
const FRAME_BATCH_MAX = 200;
const PING_MS = 15_000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const STATUS_OF: Record<SimErrorCode, number> = {
  BAD_CONFIG: 400,
  BAD_SCAN: 400,
  NO_SUCH_COMPARTMENT: 404,
  NO_SUCH_BOARD: 404,
  DOOR_ALREADY_OPEN: 409,
  DOOR_ALREADY_CLOSED: 409,
  DOOR_CLOSED: 409,
  ITEM_ALREADY_PRESENT: 409,
  NO_ITEM: 409,
  DISCONNECTED: 409,
  CLOSED: 503,
};

function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value ?? {});
  if (!r.success) {
    const { field, message } = firstIssue(r.error);
    throw new HttpError(400, 'BAD_REQUEST', field ? `${field}: ${message}` : message, field);
  }
  return r.data;
}

const positiveInt = (what: string) =>
  z
    .string()
    .regex(/^[1-9][0-9]{0,3}$/, `${what} must be a positive whole number`)
    .transform(Number);
const compartmentParams = z.object({ n: positiveInt('compartment'), action: z.enum(['open', 'close', 'put', 'take']) });
const boardParams = z.object({ addr: positiveInt('board address') });
const rebootBody = z.strictObject({ reason: bootReasonSchema.optional(), bootMs: z.number().int().min(0).max(MAX_DELAY_MS).optional() });
const disconnectBody = z.strictObject({ mode: z.enum(['drop', 'silent']).optional() });
const emptyBody = z.strictObject({});
const scanBody = z.strictObject({
  text: z
    .string()
    .min(1)
    .max(MAX_SCAN_LENGTH)
    .regex(/^[^\x00-\x1f\x7f]+$/, 'text must not contain control characters'),
});

/**
 * The names the panel answers to, as the controller's own check (controller/http/auth.ts allowedHosts): `localhost`,
 * any IP address (a rebinding page always carries its own name, never an address) and the host it listens on when
 * that is a name. Anything else, and a request without Host, is refused.
 */
export function panelHostAllowed(listenHost: string = DEFAULT_PANEL_HOST): (hostHeader: string | undefined) => boolean {
  const names = new Set(['localhost']);
  if (isIP(listenHost) === 0) names.add(listenHost.toLowerCase().replace(/\.$/, ''));
  return (hostHeader) => {
    if (hostHeader === undefined) return false;
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::\d{1,5})?$/.exec(hostHeader.trim());
    if (!m) return false;
    const name = m[1]!.toLowerCase().replace(/\.$/, '');
    if (name.startsWith('[')) return isIP(name.slice(1, -1)) === 6;
    return isIP(name) === 4 || names.has(name);
  };
}

/**
 * The express app alone (API + static panel), for embedding in another server. No WebSocket.
 * `listenHost`: the host it is reached by, for the Host check (default 127.0.0.1).
 */
export function createPanelApp(cabinet: SimCabinet, listenHost: string = DEFAULT_PANEL_HOST): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const hostOk = panelHostAllowed(listenHost);
  app.use((req, res, next) => {
    if (hostOk(req.headers.host)) return next();
    res.status(400).json({ error: { code: 'BAD_HOST', message: 'this panel answers only to its own host name or an address' } });
  });
  app.use(express.json({ limit: '32kb' }));

  const ok = (res: Response): void => {
    res.json({ ok: true, state: cabinet.snapshot() });
  };

  app.get('/api/state', (_req, res) => {
    res.json(cabinet.snapshot());
  });
  app.get('/api/frames', (_req, res) => {
    res.json({ frames: cabinet.recentFrames() });
  });

  app.post('/api/compartments/:n/:action', (req, res) => {
    const { n, action } = parse(compartmentParams, req.params);
    parse(emptyBody, req.body);
    switch (action) {
      case 'open':
        cabinet.openDoor(n);
        break;
      case 'close':
        cabinet.closeDoor(n);
        break;
      case 'put':
        cabinet.putItem(n);
        break;
      case 'take':
        cabinet.takeItem(n);
        break;
    }
    ok(res);
  });

  app.post('/api/faults', (req, res) => {
    const patch = parse(faultPatchSchema, req.body);
    try {
      cabinet.setFaults(patch);
    } catch (e) {
      // Anything refused here came from the body (e.g. a compartment that does not exist): 400.
      if (e instanceof SimError && e.field) throw new HttpError(400, e.code, e.message, e.field);
      throw e;
    }
    ok(res);
  });

  app.post('/api/boards/:addr/reboot', (req, res) => {
    const { addr } = parse(boardParams, req.params);
    const body = parse(rebootBody, req.body);
    cabinet.reboot(addr, body);
    ok(res);
  });

  app.post('/api/disconnect', (req, res) => {
    const { mode } = parse(disconnectBody, req.body);
    cabinet.disconnect(mode ?? 'drop');
    ok(res);
  });

  app.post('/api/reconnect', (req, res) => {
    parse(emptyBody, req.body);
    cabinet.reconnect();
    ok(res);
  });

  app.post('/api/scan', (req, res) => {
    const { text } = parse(scanBody, req.body);
    const delivered = cabinet.injectScan(text);
    res.json({ ok: true, delivered });
  });

  app.use('/api', (_req, _res, next) => next(new HttpError(404, 'NOT_FOUND', 'no such API route')));
  app.use(express.static(PUBLIC_DIR, { index: 'index.html', fallthrough: true }));

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    let status = 500;
    let body: { code: string; message: string; field?: string } = { code: 'INTERNAL', message: 'internal error' };
    if (err instanceof HttpError) {
      status = err.status;
      body = { code: err.code, message: err.message };
      if (err.field) body.field = err.field;
    } else if (err instanceof SimError) {
      status = STATUS_OF[err.code];
      body = { code: err.code, message: err.message };
      if (err.field) body.field = err.field;
    } else if (isBodyParserError(err)) {
      status = err.status;
      body = { code: err.type === 'entity.too.large' ? 'BODY_TOO_LARGE' : 'BAD_JSON', message: err.message };
    }
    res.status(status).json({ error: body });
  });
  return app;
}

function isBodyParserError(e: unknown): e is { status: number; type: string; message: string } {
  if (typeof e !== 'object' || e === null) return false;
  const r = e as Record<string, unknown>;
  return typeof r.status === 'number' && r.status >= 400 && r.status < 500 && typeof r.type === 'string';
}

/**
 * Start the panel (HTTP API, static page, WebSocket /ws) for a cabinet. Port 0 picks a free port.
 * Close it before (or along with) the cabinet.
 */
export async function startPanelServer(cabinet: SimCabinet, options: PanelOptions = {}): Promise<PanelServer> {
  const host = options.host ?? DEFAULT_PANEL_HOST;
  const app = createPanelApp(cabinet, host);
  const server = http.createServer(app);
  const hostOk = panelHostAllowed(host);
  const wss = new WebSocketServer({
    server,
    path: '/ws',
    maxPayload: 4096,
    verifyClient: (info, done) => (hostOk(info.req.headers.host) ? done(true) : done(false, 400, 'Bad Host')),
  });
  const alive = new WeakMap<WebSocket, boolean>();

  const broadcast = (msg: PanelMessage): void => {
    if (wss.clients.size === 0) return;
    const data = JSON.stringify(msg);
    for (const ws of wss.clients) if (ws.readyState === WebSocket.OPEN) ws.send(data);
  };

  // State: at most one snapshot per STATE_THROTTLE_MS. Frames: batched, bounded.
  let stateTimer: NodeJS.Timeout | undefined;
  let frameTimer: NodeJS.Timeout | undefined;
  let pendingFrames: FrameLogEntry[] = [];
  let skipped = 0;
  const scheduleState = (): void => {
    if (stateTimer || wss.clients.size === 0) return;
    stateTimer = setTimeout(() => {
      stateTimer = undefined;
      broadcast({ type: 'state', state: cabinet.snapshot() });
    }, STATE_THROTTLE_MS);
  };
  const onFrame = (f: FrameLogEntry): void => {
    if (wss.clients.size === 0) return;
    pendingFrames.push(f);
    if (pendingFrames.length > FRAME_BATCH_MAX) {
      skipped += pendingFrames.length - FRAME_BATCH_MAX;
      pendingFrames = pendingFrames.slice(-FRAME_BATCH_MAX);
    }
    if (!frameTimer) {
      frameTimer = setTimeout(() => {
        frameTimer = undefined;
        broadcast({ type: 'frames', frames: pendingFrames, skipped });
        pendingFrames = [];
        skipped = 0;
        scheduleState(); // counters moved
      }, FRAME_BATCH_MS);
    }
  };
  const onChange = (): void => scheduleState();
  const onScan = (text: string): void => broadcast({ type: 'scan', text });
  cabinet.on('change', onChange);
  cabinet.on('frame', onFrame);
  cabinet.on('scan', onScan);

  wss.on('connection', (ws) => {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    ws.on('error', () => undefined);
    ws.on('message', () => undefined); // the panel sends nothing; commands go through the HTTP API
    const hello: PanelMessage = { type: 'snapshot', state: cabinet.snapshot(), frames: cabinet.recentFrames() };
    ws.send(JSON.stringify(hello));
  });
  const ping = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.get(ws)) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, PING_MS);
  ping.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_PANEL_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => undefined);
  const port = (server.address() as { port: number }).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closed: Promise<void> | null = null;
  return {
    host,
    port,
    url: `http://${urlHost}:${port}/`,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        cabinet.off('change', onChange);
        cabinet.off('frame', onFrame);
        cabinet.off('scan', onScan);
        clearInterval(ping);
        if (stateTimer) clearTimeout(stateTimer);
        if (frameTimer) clearTimeout(frameTimer);
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}
