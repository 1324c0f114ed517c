/** GET /api/health: the link, the boards and every compartment's door and item, with the link counters. */
import { z } from 'zod';
import type { BoardDriver } from '../board/driver.js';
import { route, type RouteSpec } from './routes.js';

export const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']).describe('ok: the link is up and every board answers'),
  link: z.object({ state: z.enum(['connecting', 'online', 'offline', 'stopped']), port: z.string() }),
  boards: z.array(z.object({
    addr: z.number().int(), online: z.boolean(), firmware: z.string().nullable(), channels: z.number().int().nullable(), lastSeenAt: z.string().nullable(),
  })),
  doorActions: z.enum(['ready', 'checking']).describe('checking: start-up reconciliation has not finished; door actions are refused'),
  compartmentCount: z.number().int(),
  compartments: z.array(z.object({
    compartment: z.number().int(), board: z.number().int(), channel: z.number().int(),
    door: z.enum(['open', 'closed', 'unknown']), item: z.enum(['present', 'absent', 'unknown']), fault: z.string(),
  })),
  counters: z.record(z.string(), z.number()),
});

export function healthRoutes(driver: BoardDriver, isReady: () => boolean = () => true): RouteSpec[] {
  return [route({
    method: 'get', path: '/api/health', tag: 'meta', access: 'public',
    summary: 'Link state, boards and every compartment’s door and item',
    responses: { 200: { description: 'the controller is running (see status for the link)', schema: healthSchema } },
    handler: () => {
      const snap = driver.snapshot();
      const allOnline = snap.boards.every((b) => b.online);
      return [200, {
        status: snap.link === 'online' && allOnline ? 'ok' : 'degraded',
        link: { state: snap.link, port: snap.port },
        boards: snap.boards,
        doorActions: isReady() ? 'ready' : 'checking',
        compartmentCount: snap.compartments.length,
        compartments: snap.compartments,
        counters: snap.counters,
      }];
    },
  })];
}
