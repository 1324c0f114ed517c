/**
 * The real controller app for HTTP tests: a fresh store in a temp dir, the embedded simulated cabinet behind
 * the real BoardDriver (in-process stream endpoint), the flows, the express app on 127.0.0.1 port 0 (the public
 * listener, `url`/`api`) and on a second 127.0.0.1 port 0 (the kiosk listener, `kioskUrl`/`kiosk`: the touchscreen),
 * the live WebSocket channels on both, and ApiClients that check every answer against the route declarations.
 *
 *   const h = await startTestApp();            // h.url, h.api, h.store, h.bus, h.cabinet, h.flows
 *   const admin = await h.staffSession('admin'); // { id, token, api } — api is h.api signed in
 *   afterEach(() => h.close());
 *
 * Options: `clock` (a FakeClock for the store: session expiry, lockouts), `kioskKey`, `publicUrl`, `dataDir` (the
 * data directory of an earlier app, closed, to start again on it: a restart), `env` (extra configuration
 * variables, e.g. UNLOCK_MAX_PER_MINUTE), `sim` (options of the simulated cabinet, e.g. its fault `seed`), `family` (the
 * lock-board family the simulated boards speak, LOCK_BOARD: a vendor family goes through the adapter as in production),
 * `link: 'pty'` (the boards over a real socat pseudo-terminal pair instead of the in-process pipe; `h.pty` pulls the cable).
 */
import type { Server } from 'node:http';
import { BoardDriver } from '../controller/board/driver.js';
import { loadConfig } from '../controller/config.js';
import { SYSTEM_ACTOR } from '../controller/domain/types.js';
import { EventBus } from '../controller/events.js';
import { CabinetFlows } from '../controller/flows/cabinet.js';
import { allRoutes, createApp, type AppDeps } from '../controller/http/app.js';
import { attachLive, type LiveServer } from '../controller/http/live.js';
import { markKioskListener } from '../controller/http/auth.js';
import { silentLogger } from '../controller/log.js';
import { alarmSink, applyLayout, createStaff, layoutGrid, openStore, type Store } from '../controller/store/index.js';
import { FAST_SCRYPT, type FakeClock } from '../controller/store/test-support.js';
import { serialEndpoint, streamEndpoint, type Endpoint } from '../controller/transport/endpoints.js';
import { vendorEndpoint } from '../controller/board/vendor-adapter.js';
import { vendorCodec, type BoardFamily } from '../firmware-protocol/vendors/index.js';
import { SimCabinet } from '../sim/cabinet.js';
import type { SimOptions } from '../sim/config.js';
import { ApiClient } from './api-client.js';
import { driverOptions, PtyPair, tempDir, waitFor } from './harness.js';

export const TEST_PIN = '246813';

export interface TestApp {
  /** The public listener (phones, staff). */
  url: string;
  api: ApiClient;
  /** The kiosk listener: what the cabinet's own screen talks to. */
  kioskUrl: string;
  kiosk: ApiClient;
  deps: AppDeps;
  store: Store;
  bus: EventBus;
  driver: BoardDriver;
  flows: CabinetFlows;
  cabinet: SimCabinet;
  /** The pseudo-terminal pair the boards are on (link 'pty'), else null. */
  pty: PtyPair | null;
  /** The vendor adapter's endpoint (vendor families), with its counters; null for our own protocol. */
  adapter: ReturnType<typeof vendorEndpoint> | null;
  server: Server;
  live: LiveServer;
  dir: string;
  /** Creates a staff account (PIN TEST_PIN, no PIN change pending) and signs it in through the API. */
  staffSession(role?: 'staff' | 'admin', login?: string): Promise<{ id: number; login: string; token: string; api: ApiClient }>;
  close(): Promise<void>;
}

let seq = 0;

export async function startTestApp(
  opts: {
    clock?: FakeClock;
    kioskKey?: string;
    publicUrl?: string;
    dataDir?: string;
    env?: Record<string, string>;
    sim?: SimOptions;
    family?: BoardFamily;
    link?: 'inprocess' | 'pty';
  } = {},
): Promise<TestApp> {
  const family = opts.family ?? 'native';
  const dir = opts.dataDir ?? tempDir('cabinet-http-');
  const store = openStore({ dataDir: dir, utcOffsetMinutes: 480, ...(opts.clock ? { now: opts.clock.now } : {}) });
  applyLayout(store.ctx, layoutGrid(1, 24), SYSTEM_ACTOR);
  const cabinet = new SimCabinet({ ...opts.sim, board: family });
  const config = loadConfig({
    DATA_DIR: dir,
    LOCK_BOARD: family,
    DOOR_OPEN_TIMEOUT_MS: '1000',
    ...opts.env,
    ...(opts.kioskKey ? { KIOSK_KEY: opts.kioskKey } : {}),
    ...(opts.publicUrl ? { PUBLIC_URL: opts.publicUrl } : {}),
  });
  const logger = silentLogger();
  let pty: PtyPair | null = null;
  let raw: Endpoint;
  if (opts.link === 'pty') {
    pty = new PtyPair();
    await pty.start();
    cabinet.openSerial(pty.b);
    raw = serialEndpoint(pty.a, cabinet.baudRate);
  } else {
    raw = streamEndpoint('embedded simulator', () => cabinet.connectInProcess());
  }
  const boards = [{ addr: 1, channels: 24 }];
  const adapter = family === 'native' ? null : vendorEndpoint(raw, { codec: vendorCodec(family), boards, pollMs: 50, replyTimeoutMs: 150, logger });
  // Through the adapter a command may take a vendor exchange and a read: the driver waits for both (as main.ts does).
  const driver = new BoardDriver(driverOptions(adapter ?? raw, adapter ? { responseTimeoutMs: 400 } : {}));
  const bus = new EventBus({ alarms: alarmSink(store.ctx) });
  const flows = new CabinetFlows({ store, driver, bus, config, logger });
  await driver.start();
  await waitFor(() => driver.snapshot().link === 'online', 'the simulated cabinet link');
  let publicUrl = config.publicUrl ?? '';
  const deps: AppDeps = {
    config,
    driver,
    store,
    bus,
    flows,
    logger,
    ...(adapter ? { boardAdapter: adapter } : {}),
    get publicUrl() {
      return publicUrl;
    },
  };
  const app = createApp(deps);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const kioskServer = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  markKioskListener(kioskServer);
  const portOf = (s: Server): number => {
    const a = s.address();
    return typeof a === 'object' && a ? a.port : 0;
  };
  const url = `http://127.0.0.1:${portOf(server)}`;
  const kioskUrl = `http://127.0.0.1:${portOf(kioskServer)}`;
  if (!publicUrl) publicUrl = url;
  const live = attachLive(server, deps);
  const kioskLive = attachLive(kioskServer, deps);
  const api = new ApiClient(url, allRoutes(deps));
  const kiosk = new ApiClient(kioskUrl, api.routes);

  return {
    url,
    api,
    kioskUrl,
    kiosk,
    deps,
    store,
    bus,
    driver,
    flows,
    cabinet,
    pty,
    adapter,
    server,
    live,
    dir,
    async staffSession(role = 'staff', login = `${role}${++seq}`) {
      const s = await createStaff(store.ctx, { login, name: role === 'admin' ? '王主任' : '李四', role, pin: TEST_PIN }, SYSTEM_ACTOR, FAST_SCRYPT);
      const r = await api.post<{ token: string }>('/api/staff/login', { body: { login, pin: TEST_PIN } });
      if (r.status !== 200) throw new Error(`login of ${login} failed: ${r.status} ${JSON.stringify(r.body)}`);
      return { id: s.id, login, token: r.body.token, api: api.as(r.body.token) };
    },
    async close() {
      await live.close();
      await kioskLive.close();
      for (const s of [server, kioskServer]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
      flows.stopJobs();
      await driver.stop();
      await cabinet.close();
      await pty?.stop();
      store.close();
    },
  };
}

/** A valid ID number (GB 11643 check digit) for test residents: born 1987-02-14, sequence n. */
export { uniqueIdNumber } from '../controller/store/test-support.js';
