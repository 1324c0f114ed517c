/**
 * The HTTP side of the controller: security headers, JSON parsing, the declared routes
 * (routes.ts), the OpenAPI description, and one error shape everywhere:
 *   { "error": { "code": "...", "message": "...", "field"?: "..." } }
 */
import express, { type ErrorRequestHandler, type Express } from 'express';
import helmet from 'helmet';
import type { BoardDriver } from '../board/driver.js';
import type { Config } from '../config.js';
import type { EventBus } from '../events.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/index.js';
import { doorRoutes } from './door-routes.js';
import { healthRoutes } from './health.js';
import { buildOpenApi } from './openapi.js';
import { HttpError, mountRoutes, route, sendError, type Authenticate, type RouteSpec } from './routes.js';
import { z } from 'zod';

export interface AppDeps {
  config: Config;
  driver: BoardDriver;
  store: Store;
  bus: EventBus;
  logger: Logger;
  /** Base URL of the phone pages (PUBLIC_URL, or the controller's own address). */
  publicUrl: string;
}

export function allRoutes(deps: AppDeps): RouteSpec[] {
  const routes: RouteSpec[] = [...healthRoutes(deps.driver), ...doorRoutes(deps)];
  routes.push(route({
    method: 'get', path: '/api/openapi.json', tag: 'meta', access: 'public',
    summary: 'This API described in OpenAPI 3.1',
    responses: { 200: { description: 'the OpenAPI document', schema: z.record(z.string(), z.unknown()) } },
    handler: () => [200, buildOpenApi(routes, { title: '帮办柜 controller', version: '1' })],
  }));
  return routes;
}

const noAuthYet: Authenticate = () => new HttpError(401, 'UNAUTHENTICATED', 'sign in first');

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(helmet());
  app.use(express.json({ limit: '32kb' }));

  mountRoutes(app, allRoutes(deps), noAuthYet, () => null);

  app.use('/api', (req, res) => sendError(res, 404, 'NOT_FOUND', `no such endpoint: ${req.method} ${req.originalUrl.split('?')[0]}`));

  const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') sendError(res, 400, 'BAD_JSON', 'the request body is not valid JSON');
    else if (e.type === 'entity.too.large') sendError(res, 413, 'TOO_LARGE', 'the request body is too large');
    else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) sendError(res, e.status, 'BAD_REQUEST', e.message ?? 'bad request');
    else sendError(res, 500, 'INTERNAL', 'internal error');
  };
  app.use(onError);
  return app;
}
