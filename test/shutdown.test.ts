/**
 * The clean stop (SIGTERM → Controller.shutdown): new door actions are refused at once, a door being unlocked
 * right now is waited for (up to the grace time), and whatever is still in progress is written to the audit log
 * for the next start's reconciliation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../controller/config.js';
import { SYSTEM_ACTOR } from '../controller/domain/types.js';
import { isCabinetError } from '../controller/errors.js';
import { silentLogger } from '../controller/log.js';
import { startController, type Controller } from '../controller/main.js';
import { listAudit, openStore, transitionCompartment } from '../controller/store/index.js';
import { tempDir, waitFor } from './harness.js';

let running: Controller | null = null;
afterEach(async () => {
  await running?.close().catch(() => undefined);
  running = null;
});

async function start(dir: string): Promise<Controller> {
  const config = loadConfig({ PORT: '0', KIOSK_PORT: '0', SIM_PANEL_PORT: '0', DATA_DIR: dir, BACKUP_INTERVAL_HOURS: '0', LOG_LEVEL: 'silent' });
  const c = await startController(config, silentLogger());
  running = c;
  await waitFor(() => c.flows.isReady, 'start-up reconciliation', 10_000);
  return c;
}

const stoppedRows = (dir: string) => {
  const s = openStore({ dataDir: dir });
  const rows = listAudit(s.db, {}).filter((a) => a.action === 'controller.stopped');
  s.close();
  return rows;
};

describe('shutdown', () => {
  it('refuses new door actions at once and waits for a door being unlocked to settle', async () => {
    const dir = tempDir();
    const c = await start(dir);
    transitionCompartment(c.store.ctx, 1, { to: 'opening', actor: SYSTEM_ACTOR, note: 'an unlock in flight' });
    const stopping = c.shutdown(5000);
    // a door action asked for now is refused with the words for people
    const refused = await c.flows.load(1, 1).catch((e: unknown) => e);
    expect(isCabinetError(refused, 'LINK_OFFLINE')).toBe(true);
    expect((refused as Error).message).toContain('shutting down');
    await new Promise((r) => setTimeout(r, 200));
    transitionCompartment(c.store.ctx, 1, { to: 'free', actor: SYSTEM_ACTOR, clearContents: true, note: 'its door flow ended' });
    expect(await stopping).toEqual({ opening: [], open: [] });
    running = null;
    expect(stoppedRows(dir).map((r) => r.detail)).toEqual([{ opening: [], open: [] }]);
  });

  it('after the grace time, records the door actions still in progress for the next start', async () => {
    const dir = tempDir();
    const c = await start(dir);
    transitionCompartment(c.store.ctx, 2, { to: 'opening', actor: SYSTEM_ACTOR, note: 'an unlock in flight' });
    transitionCompartment(c.store.ctx, 3, { to: 'opening', actor: SYSTEM_ACTOR });
    transitionCompartment(c.store.ctx, 3, { to: 'open', actor: SYSTEM_ACTOR });
    expect(await c.shutdown(300)).toEqual({ opening: [2], open: [3] });
    running = null;
    expect(stoppedRows(dir).map((r) => r.detail)).toEqual([{ opening: [2], open: [3] }]);
  });
});
