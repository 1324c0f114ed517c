/**
 * Routes that open doors: the kiosk's pickup and drop-off, and staff loading, retrieval and
 * force-open. They call the flows (controller/flows/) and nothing else.
 */
import type { AppDeps } from './app.js';
import type { RouteSpec } from './routes.js';

export function doorRoutes(_deps: AppDeps): RouteSpec[] {
  return [];
}
