/**
 * The HTTP side of the controller: security headers, JSON parsing, the declared routes
 * (routes.ts), the OpenAPI description, and one error shape everywhere:
 *   { "error": { "code": "...", "message": "...", "field"?: "...", "fields"?: [{ "field", "message" }] } }
 *
 * Route modules: health.ts (meta), auth.ts (staff sign-in; also who may call what and the error mapping),
 * public-routes.ts (phones, QR images, kiosk info), staff-routes.ts (console), door-routes.ts (everything
 * that opens a door). Live events: live.ts, attached to the http.Server by main.ts.
 */
import compression from 'compression';
import type { AdapterCounters } from '../board/vendor-adapter.js';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { BoardDriver } from '../board/driver.js';
import type { Config } from '../config.js';
import type { EventBus } from '../events.js';
import type { CabinetFlows } from '../flows/cabinet.js';
import type { Logger } from '../log.js';
import { isCabinetError, saidOf } from '../errors.js';
import { said } from '../words/keys.js';
import { classifyStorageError, storageError, type StorageHealth } from '../store/storage-health.js';
import type { SessionPolicy, Store } from '../store/index.js';
import { allowedHosts, authRoutes, createAuthenticate, mapError } from './auth.js';
import { doorRoutes } from './door-routes.js';
import { healthRoutes } from './health.js';
import { buildOpenApi } from './openapi.js';
import { publicRoutes } from './public-routes.js';
import { mountPages } from './pages.js';
import { HttpError, mountRoutes, route, sendError, type RouteSpec } from './routes.js';
import { reportRoutes } from './report-routes.js';
import { staffRoutes } from './staff-routes.js';
import { wordsRoutes } from './words-routes.js';
import { z } from 'zod';

export interface AppDeps {
  config: Config;
  driver: BoardDriver;
  store: Store;
  bus: EventBus;
  /** The door flows (controller/flows/), used by door-routes.ts. */
  flows: CabinetFlows;
  logger: Logger;
  /** Base URL of the phone pages (PUBLIC_URL, or the controller's own address). */
  publicUrl: string;
  /** Staff session lifetimes; default 30 min idle, 12 h absolute. */
  sessionPolicy?: SessionPolicy;
  /** Whether the database can be written (disk full, read-only, damaged): health and "out of service" answers. */
  storage?: StorageHealth;
  /** The vendor board adapter's counters (LOCK_BOARD other than native), shown with the link counters in health. */
  boardAdapter?: { readonly counters: Readonly<AdapterCounters> };
}

/**
 * helmet's options. Phones reach the pages over plain http on the committee's network unless PUBLIC_URL is https:
 * helmet's default "upgrade-insecure-requests" would send their scripts to an https port that is not there.
 */
export const SECURITY_HEADERS_OPTIONS = { contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } } as const;

/**
 * A middleware that only sets and removes fixed headers (helmet's: the same on every answer), turned into one
 * that applies the same changes in one step — run once at start against a recording response, instead of a chain
 * of a dozen middlewares on every request. Refuses one that does anything else or does not go on at once.
 */
export function fixedHeaders(middleware: (req: never, res: never, next: (err?: unknown) => void) => void): RequestHandler {
  const ops: [name: string, value: string | number | readonly string[] | null][] = [];
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => void ops.push([name, value]),
    removeHeader: (name: string) => void ops.push([name, null]),
  };
  let went = false;
  middleware({} as never, recorder as never, (err?: unknown) => {
    if (err) throw err;
    went = true;
  });
  if (!went) throw new Error('fixedHeaders: the middleware did not go on at once');
  return (_req, res, next) => {
    for (const [name, value] of ops) {
      if (value === null) res.removeHeader(name);
      else res.setHeader(name, value);
    }
    next();
  };
}

export function allRoutes(deps: AppDeps): RouteSpec[] {
  const auth = { store: deps.store, kioskKey: deps.config.kioskKey, ...(deps.sessionPolicy ? { sessionPolicy: deps.sessionPolicy } : {}) };
  const routes: RouteSpec[] = [
    ...healthRoutes(
      deps.driver,
      () => deps.flows.isReady,
      () => deps.storage?.current ?? null,
      () => deps.boardAdapter?.counters ?? null,
      () => deps.flows.lateDoorChanges,
    ),
    ...authRoutes(auth),
    ...publicRoutes(deps),
    ...staffRoutes(deps),
    ...reportRoutes(deps),
    ...doorRoutes(deps),
    ...wordsRoutes(),
  ];
  routes.push(
    route({
      method: 'get',
      path: '/api/openapi.json',
      tag: 'meta',
      access: 'public',
      summary: 'This API described in OpenAPI 3.1',
      responses: { 200: { description: 'the OpenAPI document', schema: z.record(z.string(), z.unknown()) } },
      handler: () => [200, buildOpenApi(routes, { title: '帮办柜 controller', version: '1' })],
    }),
  );
  return routes;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // DNS rebinding: only the names this controller is reached by (auth.ts allowedHosts)
  const hostOk = allowedHosts(deps.config);
  app.use((req, res, next) => {
    if (hostOk(req.headers.host)) return next();
    sendError(res, 400, 'BAD_HOST');
  });
  app.use(fixedHeaders(helmet(SECURITY_HEADERS_OPTIONS)));
  // Text answers (pages, scripts, JSON lists, CSV exports) are compressed for browsers that ask: the phone pages
  // travel over the committee's Wi-Fi, and HTML/JS/JSON shrink to about a quarter. Images and sounds are left as
  // they are (compression's filter: compressible types only, 1 KB and up); the WebSocket channels are not touched.
  // Only what is fetched (GET, HEAD): an action's answer (POST…) is a few hundred bytes of JSON, and the door
  // routes need not pay for wrapping the response to find that out.
  const compress = compression();
  app.use((req, res, next) => (req.method === 'GET' || req.method === 'HEAD' ? compress(req, res, next) : next()));
  app.use(express.json({ limit: '32kb' }));
  // answers carry personal data and session state: never cached on the way (QR routes set their own)
  app.use('/api', (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  const authenticate = createAuthenticate({
    store: deps.store,
    kioskKey: deps.config.kioskKey,
    ...(deps.sessionPolicy ? { sessionPolicy: deps.sessionPolicy } : {}),
  });
  // A database that cannot be written answers 503 "out of service" in words, from every route, and is reported.
  const mapStorageOrCabinetError = (err: unknown): HttpError | null => {
    if (isCabinetError(err, 'STORAGE_UNAVAILABLE')) return new HttpError(503, 'STORAGE_UNAVAILABLE', saidOf(err));
    const problem = classifyStorageError(err);
    if (problem) {
      deps.storage?.report(err);
      deps.logger.error({ ns: 'http', err: err instanceof Error ? err.message : String(err), problem }, 'the database cannot be written');
      const e = storageError(problem);
      return new HttpError(503, 'STORAGE_UNAVAILABLE', saidOf(e));
    }
    return mapError(err);
  };
  mountRoutes(app, allRoutes(deps), authenticate, mapStorageOrCabinetError);

  mountPages(app);
  app.use('/api', (req, res) =>
    sendError(res, 404, 'NOT_FOUND', said('http.no_such_endpoint', { method: req.method, path: req.originalUrl.split('?')[0] ?? '' })),
  );

  const onError: ErrorRequestHandler = (err: unknown, req, res, _next) => {
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') sendError(res, 400, 'BAD_JSON');
    else if (e.type === 'entity.too.large') sendError(res, 413, 'TOO_LARGE');
    else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) sendError(res, e.status, 'BAD_REQUEST');
    else {
      deps.logger.error({ ns: 'http', err, method: req.method, path: req.path }, 'unhandled error in a route');
      sendError(res, 500, 'INTERNAL');
    }
  };
  app.use(onError);
  return app;
}
