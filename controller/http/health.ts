/**
 * GET /api/health: the link, the boards, the database and every compartment's door, with the link counters — for
 * anyone. Which compartments hold something (the item sensors) is told only to this machine (the kiosk listener:
 * the touchscreen, `npm run doctor`) and to staff (GET /api/staff/health): a phone must not learn where documents
 * wait.
 */
import { z } from 'zod';
import type { BoardDriver } from '../board/driver.js';
import { storageSaid, type StorageState } from '../store/storage-health.js';
import { say } from '../words/catalogue.js';
import { kioskDevice } from './auth.js';
import { route, type RouteSpec } from './routes.js';

export const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']).describe('ok: the link is up, every board answers and the database can be written'),
  storage: z
    .object({
      state: z.enum(['ok', 'full', 'read_only', 'io_error', 'damaged']),
      since: z.string().nullable(),
      key: z.string().nullable().describe('what is wrong: a key of the word catalogue (GET /api/words)'),
      message: z.string().nullable().describe('what is wrong, in plain Chinese'),
      detail: z.string().nullable().describe('what SQLite or the start-up check said'),
      doorChangesWaiting: z
        .number()
        .int()
        .describe('door changes seen while the database could not be written, kept to be written as soon as it can (counts only)'),
      doorChangesNotKept: z.number().int().describe('door changes beyond what is kept: only their number will be written (and alarmed)'),
    })
    .describe('whether the database can record door openings: anything but ok means out of service'),
  link: z.object({ state: z.enum(['connecting', 'online', 'offline', 'stopped']), port: z.string() }),
  boards: z.array(
    z.object({
      addr: z.number().int(),
      online: z.boolean(),
      firmware: z.string().nullable(),
      channels: z.number().int().nullable(),
      lastSeenAt: z.string().nullable(),
    }),
  ),
  doorActions: z
    .enum(['ready', 'checking', 'out_of_service'])
    .describe(
      'checking: start-up reconciliation has not finished; out_of_service: the database cannot record them; door actions are refused in both',
    ),
  compartmentCount: z.number().int(),
  compartments: z.array(
    z.object({
      compartment: z.number().int(),
      board: z.number().int(),
      channel: z.number().int(),
      door: z.enum(['open', 'closed', 'unknown']),
      fault: z.string(),
      item: z.enum(['present', 'absent', 'unknown']).optional().describe('only on the kiosk listener and GET /api/staff/health'),
    }),
  ),
  counters: z.record(z.string(), z.number()),
});

export function healthRoutes(
  driver: BoardDriver,
  isReady: () => boolean = () => true,
  storage: () => StorageState | null = () => null,
  adapterCounters: () => Readonly<Record<string, number>> | null = () => null,
  lateDoorChanges: () => { readonly kept: number; readonly notKept: number } = () => ({ kept: 0, notKept: 0 }),
): RouteSpec[] {
  const health = (withItems: boolean) => {
    const snap = driver.snapshot();
    const allOnline = snap.boards.every((b) => b.online);
    const st = storage();
    const problem = st?.problem ?? null;
    const late = lateDoorChanges();
    return {
      status: snap.link === 'online' && allOnline && problem === null ? 'ok' : 'degraded',
      storage: {
        state: problem ?? 'ok',
        since: st?.since ?? null,
        detail: st?.detail ?? null,
        key: problem ? storageSaid(problem).key : null,
        message: problem ? say(storageSaid(problem)) : null,
        doorChangesWaiting: late.kept,
        doorChangesNotKept: late.notKept,
      },
      link: { state: snap.link, port: snap.port },
      boards: snap.boards,
      doorActions: problem ? 'out_of_service' : isReady() ? 'ready' : 'checking',
      compartmentCount: snap.compartments.length,
      compartments: withItems ? snap.compartments : snap.compartments.map(({ item: _item, ...c }) => c),
      // Through a vendor board adapter: its own counters too (vendor frames, dropped bytes, unexpected replies, …).
      counters: { ...snap.counters, ...adapterCounters() },
    };
  };
  return [
    route({
      method: 'get',
      path: '/api/health',
      tag: 'meta',
      access: 'public',
      summary: 'Link state, database, boards and every compartment’s door (the item sensors only to this machine)',
      responses: { 200: { description: 'the controller is running (see status for the link)', schema: healthSchema } },
      handler: ({ req }) => [200, health(kioskDevice(req, null) !== null)],
    }),
    route({
      method: 'get',
      path: '/api/staff/health',
      tag: 'staff',
      access: 'staff',
      summary: 'The health with every compartment’s item sensor',
      responses: { 200: { description: 'as /api/health, with `item` for every compartment', schema: healthSchema } },
      handler: () => [200, health(true)],
    }),
  ];
}
