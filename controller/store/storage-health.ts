/**
 * Whether the database can be written: disk full, read-only files, I/O errors and damage are noticed where they
 * happen (a route, a door flow, a door event, the start-up check), reported here, and the cabinet is out of
 * service until a probe write succeeds again — then it recovers by itself. No door is opened while the store
 * cannot record it (the door flows check `ok` before every unlock, and an unlock is committed before it is sent).
 */
import { said, type Said } from '../words/keys.js';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { CabinetError } from '../errors.js';
import { DB_FILE, type DB } from './db.js';
import { MIGRATIONS } from './migrations.js';

export type StorageProblem = 'full' | 'read_only' | 'io_error' | 'damaged';

/** SQLite's result codes (better-sqlite3 puts them on `code`) sorted into what an operator can act on. */
export function classifyStorageError(e: unknown): StorageProblem | null {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
  if (!code.startsWith('SQLITE_')) return null;
  if (code === 'SQLITE_FULL') return 'full';
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM' || code === 'SQLITE_CANTOPEN' || code.startsWith('SQLITE_CANTOPEN'))
    return 'read_only';
  if (code.startsWith('SQLITE_IOERR')) return 'io_error';
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 'damaged';
  return null;
}

/** What people are told of a storage problem (the word catalogue, `storage.*`). */
export function storageSaid(problem: StorageProblem): Said {
  return said(`storage.${problem}`);
}

export interface StorageState {
  readonly problem: StorageProblem | null;
  /** ISO time the problem was first seen. */
  readonly since: string | null;
  /** SQLite's own message, for the operator. */
  readonly detail: string | null;
}

export function storageError(problem: StorageProblem): CabinetError {
  return new CabinetError('STORAGE_UNAVAILABLE', storageSaid(problem), { problem });
}

export class StorageHealth {
  private state: StorageState = { problem: null, since: null, detail: null };
  private readonly listeners: ((s: StorageState) => void)[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: DB,
    private readonly probeEveryMs = 5000,
  ) {}

  get ok(): boolean {
    return this.state.problem === null;
  }

  get current(): StorageState {
    return this.state;
  }

  onChange(fn: (s: StorageState) => void): void {
    this.listeners.push(fn);
  }

  /** Report an error; true when it was a storage problem (now recorded), false for any other error. */
  report(e: unknown): boolean {
    const problem = classifyStorageError(e);
    if (!problem) return false;
    // 'damaged' is never downgraded by a later, milder error.
    if (this.state.problem === problem || this.state.problem === 'damaged') return true;
    this.set({ problem, since: this.state.since ?? new Date().toISOString(), detail: e instanceof Error ? e.message.slice(0, 200) : String(e) });
    return true;
  }

  /** Set a problem found by the start-up check (quick_check, file modes). */
  declare(problem: StorageProblem, detail: string): void {
    if (this.state.problem === 'damaged') return;
    this.set({ problem, since: this.state.since ?? new Date().toISOString(), detail: detail.slice(0, 300) });
  }

  /** Throws the words-carrying error when the store cannot record a door opening. */
  assertWritable(): void {
    if (this.state.problem) throw storageError(this.state.problem);
  }

  /**
   * One small write that needs a new page (so a full disk or a full database fails it), rolled forward and
   * removed in one transaction. True when the store is writable again; a damaged database stays out of service.
   */
  probe(): boolean {
    if (this.state.problem === 'damaged') return false;
    try {
      this.db
        .transaction(() => {
          this.db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('storage_probe', ?)`).run('x'.repeat(8192));
          this.db.prepare(`DELETE FROM meta WHERE key = 'storage_probe'`).run();
        })
        .immediate();
    } catch (e) {
      this.report(e);
      return false;
    }
    if (this.state.problem) this.set({ problem: null, since: null, detail: null });
    return true;
  }

  /** While out of service, probe every few seconds; stop(): for shutdown. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.state.problem && this.state.problem !== 'damaged') this.probe();
    }, this.probeEveryMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private set(s: StorageState): void {
    const changed = s.problem !== this.state.problem;
    this.state = s;
    if (!changed) return;
    for (const fn of this.listeners) {
      // a listener that found the store failing again (its own write) changed the state: the rest hear that one
      if (this.state !== s) return;
      fn(s);
    }
  }
}

/** Databases up to this size get a full integrity_check at start-up (indexes against tables); larger ones quick_check only. */
export const FULL_CHECK_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The start-up check of the database: damage (`quick_check`, and `integrity_check` — which also compares every
 * index with its table — for databases up to FULL_CHECK_MAX_BYTES), a schema version this program does not know,
 * and whether the files can be written. Returns what is wrong; the caller declares it to the StorageHealth.
 */
export function startupStorageCheck(db: DB, dataDir: string): { problem: StorageProblem; detail: string }[] {
  return [...storageDamageCheck(db), ...storageAccessCheck(db, dataDir)];
}

/** The part of the start-up check that reads every page (`quick_check` / `integrity_check`): O(database size). */
export function storageDamageCheck(db: DB): { problem: StorageProblem; detail: string }[] {
  const out: { problem: StorageProblem; detail: string }[] = [];
  const pageBytes = Number(db.pragma('page_count', { simple: true })) * Number(db.pragma('page_size', { simple: true }));
  const check = pageBytes <= FULL_CHECK_MAX_BYTES ? 'integrity_check' : 'quick_check';
  try {
    const rows = db.pragma(`${check}(20)`) as { integrity_check?: string; quick_check?: string }[];
    const lines = rows.map((r) => r.integrity_check ?? r.quick_check ?? '').filter((l) => l !== 'ok');
    if (lines.length > 0) out.push({ problem: 'damaged', detail: `${check}: ${lines.slice(0, 3).join('; ')}` });
  } catch (e) {
    out.push({ problem: classifyStorageError(e) ?? 'damaged', detail: `${check}: ${e instanceof Error ? e.message : String(e)}` });
  }
  return out;
}

/** The cheap part: schema version, whether the files can be written. Constant time. */
export function storageAccessCheck(db: DB, dataDir: string): { problem: StorageProblem; detail: string }[] {
  const out: { problem: StorageProblem; detail: string }[] = [];
  const version = Number(db.pragma('user_version', { simple: true }));
  if (version !== MIGRATIONS.length) out.push({ problem: 'damaged', detail: `schema version ${version}, this program expects ${MIGRATIONS.length}` });
  for (const f of [DB_FILE, `${DB_FILE}-wal`]) {
    const file = path.join(dataDir, f);
    try {
      if (fs.existsSync(file)) fs.accessSync(file, fs.constants.W_OK);
    } catch {
      out.push({ problem: 'read_only', detail: `${file} cannot be written by this user` });
    }
  }
  if (db.readonly) out.push({ problem: 'read_only', detail: 'the database was opened read-only' });
  return out;
}

/** The worker's code: plain JavaScript, so it runs the same under tsx, the test runner and the compiled build. */
const DAMAGE_CHECK_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
try {
  const bytes = Number(db.pragma('page_count', { simple: true })) * Number(db.pragma('page_size', { simple: true }));
  const check = bytes <= workerData.fullCheckMaxBytes ? 'integrity_check' : 'quick_check';
  try {
    const rows = db.pragma(check + '(20)');
    parentPort.postMessage({ check, lines: rows.map((r) => r.integrity_check ?? r.quick_check ?? '').filter((l) => l !== 'ok') });
  } catch (e) {
    parentPort.postMessage({ check, error: { code: e && e.code, message: String(e && e.message || e) } });
  }
} finally {
  db.close();
}
`;

/**
 * storageDamageCheck on its own read-only connection in a worker thread: it reads the whole file (minutes on a
 * decade of history), so it must not hold the event loop — the controller answers HTTP meanwhile.
 */
export function storageDamageCheckInWorker(dataDir: string, signal?: AbortSignal): Promise<{ problem: StorageProblem; detail: string }[]> {
  const workerData = {
    file: path.join(dataDir, DB_FILE),
    module: createRequire(import.meta.url).resolve('better-sqlite3'),
    fullCheckMaxBytes: FULL_CHECK_MAX_BYTES,
  };
  return new Promise((resolve, reject) => {
    const worker = new Worker(DAMAGE_CHECK_WORKER, { eval: true, workerData });
    // stopped (the controller is closing): its read connection must not outlive the store's, which removes the WAL
    const onAbort = () => {
      void worker.terminate();
      reject(new Error('the database check was stopped'));
    };
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('exit', () => signal?.removeEventListener('abort', onAbort));
    worker.once('message', (m: { check: string; lines?: string[]; error?: { code?: string; message: string } }) => {
      if (m.error) {
        const err = Object.assign(new Error(m.error.message), m.error.code ? { code: m.error.code } : {});
        resolve([{ problem: classifyStorageError(err) ?? 'damaged', detail: `${m.check}: ${m.error.message}` }]);
      } else resolve(m.lines && m.lines.length > 0 ? [{ problem: 'damaged', detail: `${m.check}: ${m.lines.slice(0, 3).join('; ')}` }] : []);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the database check stopped with code ${code}`));
    });
  });
}

/**
 * DATA_DIR/clean-stop: written when the controller closed the database cleanly, taken (removed) at the next start.
 * It names the database file as it was left (inode, size, modification time): a file replaced or written since
 * (a restore, a copy) is not the one that was closed cleanly.
 */
export const CLEAN_STOP_FILE = 'clean-stop';

interface FileMark {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

function markOf(file: string): FileMark | null {
  try {
    const st = fs.statSync(file);
    return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return null;
  }
}

/** After the database is closed: the next start may skip the check that reads the whole file. */
export function writeCleanStopMarker(dataDir: string): void {
  const mark = markOf(path.join(dataDir, DB_FILE));
  // a WAL left behind means the close did not finish its checkpoint: not a clean stop
  if (!mark || fs.existsSync(path.join(dataDir, `${DB_FILE}-wal`))) return;
  const file = path.join(dataDir, CLEAN_STOP_FILE);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(mark), { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}

/**
 * Before the database is opened: did the last run stop cleanly, leaving this very file? Removes the marker either
 * way, so that a crash of this run is seen at the next start. False when there is no marker (a crash, a power
 * cut, a first start, a file put in place by hand): then the whole file is checked.
 */
export function takeCleanStopMarker(dataDir: string): boolean {
  const file = path.join(dataDir, CLEAN_STOP_FILE);
  let saved: FileMark;
  try {
    saved = JSON.parse(fs.readFileSync(file, 'utf8')) as FileMark;
  } catch {
    return false;
  }
  fs.rmSync(file, { force: true });
  try {
    // the removal must reach the disk before this run can crash
    const dir = fs.openSync(dataDir, 'r');
    fs.fsyncSync(dir);
    fs.closeSync(dir);
  } catch {
    // a directory that cannot be synced: the marker is gone from this view of it, which is what counts here
  }
  const now = markOf(path.join(dataDir, DB_FILE));
  return now !== null && now.ino === saved.ino && now.size === saved.size && now.mtimeMs === saved.mtimeMs;
}

/**
 * The whole-file check at night, once a day at `hour` local time (default 03:00), in the worker: it reads the whole
 * file, so it runs when nobody is at the cabinet, never on the start-up path. `check` reports what it found.
 */
export class NightlyDamageCheck {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly check: () => Promise<void>,
    private readonly hour = 3,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Milliseconds from `at` to the next `hour`:00 local. */
  static untilNext(at: Date, hour: number): number {
    const next = new Date(at);
    next.setHours(hour, 0, 0, 0);
    if (next.getTime() <= at.getTime()) next.setDate(next.getDate() + 1);
    return next.getTime() - at.getTime();
  }

  private stopped = false;

  start(): void {
    if (this.timer) return;
    this.stopped = false;
    const arm = (): void => {
      if (this.stopped) return;
      this.timer = setTimeout(
        () => {
          // the check reports its own findings; whatever it does, the next night is armed
          void this.check().then(arm, arm);
        },
        NightlyDamageCheck.untilNext(this.now(), this.hour),
      );
      this.timer.unref();
    };
    arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
