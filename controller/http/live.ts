/**
 * Live events over WebSocket, on the controller's own http.Server:
 *
 *   /ws/kiosk  the cabinet's screen. Kiosk rules at the upgrade (the kiosk listener without proxy headers, or
 *              the right X-Kiosk-Key); otherwise HTTP 403 and no connection. Carries no personal data and nothing
 *              about requests: link state, compartment states and doors, scan outcomes.
 *   /ws/staff  the staff console. The session token comes in `Sec-WebSocket-Protocol: bangbangui.v1, <token>`
 *              (what a browser can send) or `?token=`. A bad or dead token: the connection is accepted and at
 *              once closed with 4401 (a page can read the close code, not an HTTP status); an account that
 *              must change its PIN: 4403. Every event and every ping re-check the session (without extending
 *              it): after a logout, expiry or disabled account the channel gets nothing more and is closed with 4401.
 *
 * On connect: a snapshot ({type:'snapshot', …}); then every bus event as {type, ...payload}. Clients that are
 * not OPEN are skipped; every 30 s each is pinged and one that did not answer the previous ping is terminated.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { REQUEST_STATES, TERMINAL_STATES } from '../domain/request-states.js';

const OPEN_STATES = REQUEST_STATES.filter((s) => !TERMINAL_STATES.includes(s));
import { plainParams, type CabinetEvents } from '../events.js';
import { countRequestsByState, findSession, listCompartments, pageRequests } from '../store/index.js';
import type { AppDeps } from './app.js';
import { allowedHosts, kioskDevice } from './auth.js';

export const STAFF_PROTOCOL = 'bangbangui.v1';
export const CLOSE_UNAUTHENTICATED = 4401;
export const CLOSE_FORBIDDEN = 4403;

type Channel = 'kiosk' | 'staff';

interface Client {
  ws: WebSocket;
  channel: Channel;
  /** staff: the session token, re-checked at every event and ping */
  token: string | null;
  alive: boolean;
}

/**
 * A scan event as both channels get it: what the scan did (outcome, doors) and what to say of it, as a key of the
 * word catalogue and its parameters; never the scanned text, never who the resident is.
 */
export function scanMessage(e: CabinetEvents['scan'][0]) {
  return {
    type: 'scan' as const,
    source: e.source,
    kind: e.kind,
    outcome: e.outcome,
    action: e.action ?? null,
    compartments: e.compartments,
    key: e.said.key,
    ...(e.said.params ? { params: plainParams(e.said.params) } : {}),
    ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}),
  };
}

export interface LiveServer {
  /** Connected clients per channel (for tests and health). */
  counts(): Record<Channel, number>;
  close(): Promise<void>;
}

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

function staffToken(req: IncomingMessage, url: URL): string | null {
  const offered = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const fromProtocol = offered.find((p) => p !== STAFF_PROTOCOL && TOKEN_RE.test(p));
  return fromProtocol ?? url.searchParams.get('token');
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

export function attachLive(server: Server, deps: AppDeps, opts: { pingMs?: number } = {}): LiveServer {
  const { store, bus, driver } = deps;
  const clients = new Set<Client>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 4096,
    // a browser fails the connection unless one offered protocol is chosen; never echo the token when avoidable
    handleProtocols: (protocols) => (protocols.has(STAFF_PROTOCOL) ? STAFF_PROTOCOL : ([...protocols][0] ?? false)),
  });

  function send(c: Client, msg: object): void {
    if (c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify(msg));
  }

  function compartmentStates(withRequests: boolean) {
    return listCompartments(store.ctx).map((c) =>
      withRequests
        ? { no: c.no, state: c.state, door: c.door, requestId: c.contents?.requestId ?? null }
        : { no: c.no, state: c.state, door: c.door },
    );
  }

  function snapshot(channel: Channel): object {
    const link = { state: driver.snapshot().link };
    if (channel === 'kiosk') return { type: 'snapshot', link, compartments: compartmentStates(false) };
    // counters and the newest open requests from their indexes: the cost does not grow with the history
    const counts = countRequestsByState(store.ctx);
    const open = pageRequests(store.ctx, { states: OPEN_STATES, limit: 200 })
      .requests.reverse()
      .map((r) => ({ id: r.id, number: r.number, state: r.state, serviceCode: r.serviceCode }));
    return {
      type: 'snapshot',
      link,
      compartments: compartmentStates(true),
      alarms: [...bus.recentAlarms()],
      requests: { counts, open },
    };
  }

  function accept(req: IncomingMessage, socket: Duplex, head: Buffer, channel: Channel, token: string | null): void {
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (channel === 'staff') {
        const session = token ? findSession(store.ctx, token, { touch: true }, deps.sessionPolicy) : null;
        if (!session) return ws.close(CLOSE_UNAUTHENTICATED, 'sign in first');
        if (session.mustChangePin) return ws.close(CLOSE_FORBIDDEN, 'change your PIN first');
      }
      const c: Client = { ws, channel, token, alive: true };
      clients.add(c);
      ws.on('pong', () => (c.alive = true));
      ws.on('close', () => clients.delete(c));
      ws.on('error', () => clients.delete(c));
      // nothing is expected from clients; anything they send is ignored
      send(c, snapshot(channel));
    });
  }

  const hostOk = allowedHosts(deps.config);
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!hostOk(req.headers.host)) return refuse(socket, 400, 'Bad Host');
    const url = new URL(req.url ?? '/', 'http://controller');
    if (url.pathname === '/ws/kiosk') {
      if (!kioskDevice(req, deps.config.kioskKey)) return refuse(socket, 403, 'Forbidden');
      return accept(req, socket, head, 'kiosk', null);
    }
    if (url.pathname === '/ws/staff') return accept(req, socket, head, 'staff', staffToken(req, url));
    refuse(socket, 404, 'Not Found');
  };
  server.on('upgrade', onUpgrade);

  /** Staff get the full event; the kiosk its message, if it has one (null: not for the kiosk). */
  function broadcastSplit(kioskMsg: object | null, staffMsg: object): void {
    for (const c of clients) {
      if (c.channel === 'staff') {
        if (sessionEnded(c)) continue;
        send(c, staffMsg);
      } else if (kioskMsg) send(c, kioskMsg);
    }
  }

  /** A staff channel whose session ended (logout, expiry, disabled account) is closed before it gets anything more. */
  function sessionEnded(c: Client): boolean {
    if (c.token && findSession(store.ctx, c.token, { touch: false }, deps.sessionPolicy)) return false;
    c.ws.close(CLOSE_UNAUTHENTICATED, 'session ended');
    clients.delete(c);
    return true;
  }

  const listeners: { [K in keyof CabinetEvents]: (...a: CabinetEvents[K]) => void } = {
    compartment: (e) => broadcastSplit({ type: 'compartment', no: e.no, state: e.state, door: e.door }, { type: 'compartment', ...e }),
    request: (e) => broadcastSplit(null, { type: 'request', ...e }),
    // the screen shows what a scan did (doors opened, plain words); never the scanned text
    scan: (e) => broadcastSplit(scanMessage(e), scanMessage(e)),
    alarm: (e) => broadcastSplit(null, { type: 'alarm', ...e }),
    // every console greys the alarm out, whoever dealt with it
    'alarm-ack': (e) => broadcastSplit(null, { type: 'alarm-ack', ...e }),
    link: (e) => broadcastSplit({ type: 'link', state: e.state }, { type: 'link', ...e }),
  };
  for (const [name, fn] of Object.entries(listeners)) bus.on(name as keyof CabinetEvents, fn as never);

  const ping = setInterval(() => {
    for (const c of clients) {
      if (!c.alive) {
        c.ws.terminate();
        clients.delete(c);
        continue;
      }
      if (c.channel === 'staff' && sessionEnded(c)) continue;
      c.alive = false;
      c.ws.ping();
    }
  }, opts.pingMs ?? 30_000);
  ping.unref();

  return {
    counts() {
      const out: Record<Channel, number> = { kiosk: 0, staff: 0 };
      for (const c of clients) out[c.channel]++;
      return out;
    },
    async close() {
      clearInterval(ping);
      server.off('upgrade', onUpgrade);
      for (const [name, fn] of Object.entries(listeners)) bus.off(name as keyof CabinetEvents, fn as never);
      for (const c of clients) c.ws.terminate();
      clients.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
