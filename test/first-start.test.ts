/**
 * The whole-file database check after an unclean stop: a brand-new database has nothing to check and no last run,
 * so its first start neither warns that the last run did not stop cleanly nor reads the file; a clean stop skips the
 * check at the next start; a run that did not stop cleanly (no marker) gets the check and the warning.
 */
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { loadConfig } from '../controller/config.js';
import { startController, type Controller } from '../controller/main.js';
import { CLEAN_STOP_FILE } from '../controller/store/storage-health.js';
import { tempDir, waitFor } from './harness.js';

let running: Controller | null = null;
afterEach(async () => {
  await running?.close().catch(() => undefined);
  running = null;
});

/** Start on `dir` and collect what the controller logs. */
async function start(dir: string): Promise<{ c: Controller; lines: { msg?: string }[] }> {
  const lines: { msg?: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as { msg?: string }) });
  const config = loadConfig({ PORT: '0', KIOSK_PORT: '0', SIM_PANEL_PORT: '0', DATA_DIR: dir, BACKUP_INTERVAL_HOURS: '0' });
  const c = await startController(config, logger);
  running = c;
  await waitFor(() => c.flows.isReady, 'start-up reconciliation', 10_000);
  return { c, lines };
}

const warnedUnclean = (lines: { msg?: string }[]) => lines.some((l) => /did not stop cleanly/.test(l.msg ?? ''));

it('a new database starts without the unclean-stop warning; a crash after a clean start gets it', async () => {
  const dir = tempDir();
  const first = await start(dir);
  expect(warnedUnclean(first.lines)).toBe(false);
  await first.c.close();
  running = null;
  expect(fs.existsSync(path.join(dir, CLEAN_STOP_FILE))).toBe(true);

  const second = await start(dir);
  expect(warnedUnclean(second.lines)).toBe(false);
  await second.c.close();
  running = null;

  // the next run ends without its marker, as after a power cut
  fs.rmSync(path.join(dir, CLEAN_STOP_FILE));
  const third = await start(dir);
  expect(warnedUnclean(third.lines)).toBe(true);
});
