/**
 * Scheduled backups while the controller runs: every `checkEveryMs` (and a minute after start) it looks at the
 * newest backup in the folder and takes one when it is older than BACKUP_INTERVAL_HOURS. The folder is the
 * memory, so a restart does not take an extra backup, and a backup taken by hand counts.
 */
import type { Logger } from '../log.js';
import type { DB } from '../store/db.js';
import { backupDatabase, listBackups, type BackupResult } from './backup.js';

export interface BackupScheduleOptions {
  readonly db: DB;
  readonly dir: string;
  readonly keep: number;
  /** 0 = never. */
  readonly intervalHours: number;
  readonly logger: Logger;
  readonly now?: () => Date;
  readonly firstCheckMs?: number;
  readonly checkEveryMs?: number;
}

export class BackupSchedule {
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<BackupResult | null> | null = null;

  constructor(private readonly opts: BackupScheduleOptions) {}

  start(): void {
    if (this.opts.intervalHours === 0) return;
    const first = setTimeout(() => void this.runIfDue(), this.opts.firstCheckMs ?? 60_000);
    const every = setInterval(() => void this.runIfDue(), this.opts.checkEveryMs ?? 10 * 60_000);
    first.unref();
    every.unref();
    this.timers.push(first, every);
  }

  /** Waits for a backup in progress, so the database is not closed under it. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    await this.running?.catch(() => null);
  }

  /** Takes a backup when the newest one is older than the interval; resolves with it, or null. Never throws. */
  runIfDue(): Promise<BackupResult | null> {
    if (this.running !== null) return this.running;
    const now = (this.opts.now ?? (() => new Date()))();
    const newest = listBackups(this.opts.dir)[0];
    if (this.opts.intervalHours === 0 || (newest && now.getTime() - newest.takenAt.getTime() < this.opts.intervalHours * 3_600_000)) {
      return Promise.resolve(null);
    }
    const log = this.opts.logger;
    this.running = backupDatabase(this.opts.db, { dir: this.opts.dir, keep: this.opts.keep, ...(this.opts.now ? { now: this.opts.now } : {}) })
      .then((r) => {
        log.info(
          { ns: 'backup', file: r.file, bytes: r.bytes, schemaVersion: r.schemaVersion, removed: r.removed.length },
          'backup written and verified',
        );
        return r;
      })
      .catch((err: unknown) => {
        log.error(
          { ns: 'backup', dir: this.opts.dir, err: err instanceof Error ? err.message : String(err) },
          'scheduled backup failed; `npm run doctor` reports the age of the last backup',
        );
        return null;
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }
}
