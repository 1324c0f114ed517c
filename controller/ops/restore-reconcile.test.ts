/**
 * After a restore the backup's memory of the compartments meets the real cabinet: the first start reconciles
 * with the boards before any door action, so a document taken out after the backup was made is found missing
 * (an alarm for staff), not believed to be there.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDriver } from '../../test/harness.js';
import { EventBus } from '../events.js';
import { CabinetFlows } from '../flows/cabinet.js';
import { reconcile } from '../flows/reconcile.js';
import { CONFIG, readyRequest, world, type Cleanups } from '../flows/test-support.js';
import { silentLogger } from '../log.js';
import { getCompartment, openStore } from '../store/index.js';
import { tempDir } from '../store/test-support.js';
import { streamEndpoint } from '../transport/endpoints.js';
import { backupDatabase, backupKeyFile } from './backup.js';
import { restoreBackup } from './restore.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('restore, then the first start', () => {
  it('reconciles with the boards: a document gone since the backup is reported, and door actions wait until then', async () => {
    const w = await world(cleanups);
    const { requestId } = readyRequest(w);
    const answer = await w.flows.load(w.staffId, requestId);
    const no = answer.compartment!;
    w.sim.putItem(no);
    w.sim.closeDoor(no);
    expect(await answer.done).toBe('loaded');
    const backup = await backupDatabase(w.store.db, { dir: tempDir(), keep: 3 });
    const key = backupKeyFile(w.store.dir, tempDir(), w.store.keys.fingerprint());

    // after the backup, the document leaves the compartment (collected, then the disk broke)
    w.sim.openDoor(no);
    w.sim.takeItem(no);
    w.sim.closeDoor(no);
    await w.driver.stop();

    const fresh = path.join(tempDir(), 'data');
    restoreBackup({ dataDir: fresh, backupFile: backup.file, keyFile: key });
    const store = openStore({ dataDir: fresh });
    cleanups.push(() => store.close());
    expect(getCompartment(store.ctx, no)).toMatchObject({ state: 'occupied' }); // what the backup remembers
    const driver = createDriver(streamEndpoint('in-process', () => w.sim.connectInProcess()));
    cleanups.push(() => driver.stop());
    const bus = new EventBus();
    const flows = new CabinetFlows({ store, driver, bus, config: CONFIG, logger: silentLogger() });
    expect(flows.isReady).toBe(false);
    await driver.start();
    const findings = await reconcile(flows, { store, driver, bus, config: CONFIG, logger: silentLogger() });
    expect(findings.filter((f) => f.compartment === no)).toEqual([expect.objectContaining({ kind: 'item_missing', compartment: no, requestId })]);
    expect(flows.isReady).toBe(true);
  });
});
