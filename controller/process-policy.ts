/**
 * What the process does with an error nobody caught (docs/adr/0003-uncaught-errors-and-storage-failures.md). Every door flow
 * catches its own errors (CabinetFlows.background); this is the net under everything else.
 *
 *   SQLite I/O error (SQLITE_IOERR_*)   exit 75: a commit's outcome is unknown, so what this process believes may
 *                                       not be what is on disk. systemd restarts it and start-up reconciliation
 *                                       settles the rows against the boards.
 *   disk full / read-only / damaged     stay up, out of service (storage-health.ts), alarm; recovers by itself
 *                                       when a probe write succeeds again (damaged: only after a repair).
 *   any other uncaught exception        exit 70: a synchronous throw escaped an event handler; the process's
 *                                       state is unknown. systemd restarts it; reconciliation finishes the rows.
 *   any other unhandled rejection       stay up: logged and alarmed (a promise nobody awaited failed; the code
 *                                       that created it is finished).
 */
import type { EventBus } from './events.js';
import type { Logger } from './log.js';
import { classifyStorageError, type StorageHealth } from './store/storage-health.js';
import { said } from './words/keys.js';

export type ProcessVerdict = { action: 'exit'; code: 70 | 75 } | { action: 'stay' };

export function decideUncaught(kind: 'unhandledRejection' | 'uncaughtException', err: unknown): ProcessVerdict {
  const storage = classifyStorageError(err);
  if (storage === 'io_error') return { action: 'exit', code: 75 };
  if (storage !== null) return { action: 'stay' };
  return kind === 'uncaughtException' ? { action: 'exit', code: 70 } : { action: 'stay' };
}

export function installProcessPolicy(deps: { logger: Logger; bus: EventBus; storage: StorageHealth; exit?: (code: number) => void }): () => void {
  const exit = deps.exit ?? ((code: number) => process.exit(code));
  const handle = (kind: 'unhandledRejection' | 'uncaughtException') => (err: unknown) => {
    const verdict = decideUncaught(kind, err);
    deps.storage.report(err);
    deps.logger.error(
      { ns: 'process', kind, err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err), verdict },
      `uncaught error (${kind})`,
    );
    try {
      deps.bus.alarm('flow_failed', verdict.action === 'exit' ? said('alarm.uncaught_restarting') : said('alarm.uncaught'));
    } catch {
      // the alarm could not be stored: the log line stays
    }
    if (verdict.action === 'exit') exit(verdict.code);
  };
  const onRejection = handle('unhandledRejection');
  const onException = handle('uncaughtException');
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
