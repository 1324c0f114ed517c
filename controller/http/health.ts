/** GET /api/health: the link, the boards and every compartment's door and item, with the link counters. */
import { z } from 'zod';
import type { BoardDriver } from '../board/driver.js';
import { STORAGE_WORDS, type StorageState } from '../store/storage-health.js';
import { route, type RouteSpec } from './routes.js';

export const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']).describe('ok: the link is up, every board answers and the database can be written'),
  storage: z.object({
    state: z.enum(['ok', 'full', 'read_only', 'io_error', 'damaged']),
    since: z.string().nullable(),
    message: z.string().nullable().describe('what is wrong, Chinese / English'),
    detail: z.string().nullable().describe('what SQLite or the start-up check said'),
  }).describe('whether the database can record door openings: anything but ok means out of service'),
  link: z.object({ state: z.enum(['connecting', 'online', 'offline', 'stopped']), port: z.string() }),
  boards: z.array(z.object({
    addr: z.number().int(), online: z.boolean(), firmware: z.string().nullable(), channels: z.number().int().nullable(), lastSeenAt: z.string().nullable(),
  })),
  doorActions: z.enum(['ready', 'checking', 'out_of_service']).describe('checking: start-up reconciliation has not finished; out_of_service: the database cannot record them; door actions are refused in both'),
  compartmentCount: z.number().int(),
  compartments: z.array(z.object({
    compartment: z.number().int(), board: z.number().int(), channel: z.number().int(),
    door: z.enum(['open', 'closed', 'unknown']), item: z.enum(['present', 'absent', 'unknown']), fault: z.string(),
  })),
  counters: z.record(z.string(), z.number()),
});

export function healthRoutes(driver: BoardDriver, isReady: () => boolean = () => true, storage: () => StorageState | null = () => null): RouteSpec[] {
  return [route({
    method: 'get', path: '/api/health', tag: 'meta', access: 'public',
    summary: 'Link state, boards and every compartment’s door and item',
    responses: { 200: { description: 'the controller is running (see status for the link)', schema: healthSchema } },
    handler: () => {
      const snap = driver.snapshot();
      const allOnline = snap.boards.every((b) => b.online);
      const st = storage();
      const problem = st?.problem ?? null;
      return [200, {
        status: snap.link === 'online' && allOnline && problem === null ? 'ok' : 'degraded',
        storage: {
          state: problem ?? 'ok', since: st?.since ?? null, detail: st?.detail ?? null,
          message: problem ? STORAGE_WORDS[problem].join(' / ') : null,
        },
        link: { state: snap.link, port: snap.port },
        boards: snap.boards,
        doorActions: problem ? 'out_of_service' : isReady() ? 'ready' : 'checking',
        compartmentCount: snap.compartments.length,
        compartments: snap.compartments,
        counters: snap.counters,
      }];
    },
  })];
}
