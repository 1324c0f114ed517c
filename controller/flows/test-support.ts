/**
 * A small cabinet world for flow tests: the simulated cabinet on an in-process link, the real driver,
 * a real SQLite store (real clock), the event bus with the alarms it raised, the flows after start-up
 * reconciliation, and a staff member and an admin. Not a test file itself.
 */
import { SimCabinet } from '../../sim/cabinet.js';
import { createDriver } from '../../test/harness.js';
import type { BoardDriver } from '../board/driver.js';
import { residentActor, staffActor, SYSTEM_ACTOR } from '../domain/types.js';
import { EventBus, type Alarm } from '../events.js';
import { silentLogger } from '../log.js';
import { applyLayout, createRequest, layoutGrid, transitionRequest } from '../store/index.js';
import { makeResident, makeStaff, openTestStore, type TestStore } from '../store/test-support.js';
import { streamEndpoint } from '../transport/endpoints.js';
import { CabinetFlows } from './cabinet.js';
import { reconcile } from './reconcile.js';

export type Cleanups = (() => Promise<void> | void)[];

export interface World {
  sim: SimCabinet;
  driver: BoardDriver;
  store: TestStore;
  flows: CabinetFlows;
  bus: EventBus;
  alarms: Alarm[];
  staffId: number;
  adminId: number;
}

export const CONFIG = {
  unlockTtlMs: 3000,
  doorOpenTimeoutMs: 400,
  doorLeftOpenMs: 60_000,
  overdueDays: 7,
  retries: 2,
  responseTimeoutMs: 150,
  unlockMaxPerMinute: 20,
  tamperWindowMs: 10_000,
};

export async function world(
  cleanups: Cleanups,
  simOptions: ConstructorParameters<typeof SimCabinet>[0] = {},
  opts: { /** The store's wall clock (default the system's). */ now?: () => number } = {},
): Promise<World> {
  const sim = new SimCabinet(simOptions);
  cleanups.push(() => sim.close());
  const store = openTestStore({ now: opts.now ?? (() => Date.now()) });
  cleanups.push(() => store.close());
  applyLayout(store.ctx, layoutGrid(1, 24), SYSTEM_ACTOR);
  const driver = createDriver(streamEndpoint('in-process', () => sim.connectInProcess()));
  const bus = new EventBus();
  const alarms: Alarm[] = [];
  bus.on('alarm', (a) => alarms.push(a));
  const flows = new CabinetFlows({ store, driver, bus, config: CONFIG, logger: silentLogger() });
  await driver.start();
  cleanups.push(() => driver.stop());
  await reconcile(flows, { store, driver, bus, config: CONFIG, logger: silentLogger() });
  return { sim, driver, store, flows, bus, alarms, staffId: await makeStaff(store), adminId: await makeStaff(store, 'admin') };
}

/** A resident's request, accepted and marked ready by staff. */
export function readyRequest(w: World, resident = makeResident(w.store)) {
  const staff = staffActor(w.staffId);
  const { request } = createRequest(w.store.ctx, { residentId: resident.id, serviceCode: 'residence_certificate' }, residentActor(resident.id));
  transitionRequest(w.store.ctx, { requestId: request.id, event: 'accept', actor: staff });
  transitionRequest(w.store.ctx, { requestId: request.id, event: 'mark_ready', actor: staff });
  return { resident, requestId: request.id };
}
