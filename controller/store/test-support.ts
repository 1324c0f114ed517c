/**
 * Shared set-up for the store and domain tests: a fresh temporary data directory per test, a controllable
 * clock, and a short path from "resident asks" to "document loaded". Not a test file itself.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { staffActor, residentActor, SYSTEM_ACTOR } from '../domain/types.js';
import { idCheckDigit } from '../domain/validation.js';
import { applyLayout, layoutGrid, reserveCompartment } from './compartments.js';
import { DB_FILE } from './db.js';
import { openStore, type OpenStoreOptions, type Store } from './index.js';
import { createRequest, transitionRequest, type TransitionOutcome } from './requests.js';
import { createResident, type Resident } from './residents.js';
import { createStaff, type ScryptParams } from './staff.js';

/** Cheap scrypt parameters for tests that create many accounts (the defaults are tested separately). */
export const FAST_SCRYPT: ScryptParams = { N: 2 ** 10, r: 8, p: 1 };

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'bangbangui-store-'));
}

/**
 * How many transactions the database's write-ahead log holds: its frames that end a commit (a non-zero "database
 * size after commit"), up to the first frame of an older generation of the log. `PRAGMA wal_checkpoint(TRUNCATE)`
 * first counts from zero. For tests that count commits (each one an fsync at synchronous=FULL).
 */
export function walCommits(dir: string): number {
  const file = path.join(dir, `${DB_FILE}-wal`);
  if (!fs.existsSync(file)) return 0;
  const wal = fs.readFileSync(file);
  if (wal.length < 32) return 0;
  const pageSize = wal.readUInt32BE(8);
  const salt = [wal.readUInt32BE(16), wal.readUInt32BE(20)];
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (wal.readUInt32BE(at + 8) !== salt[0] || wal.readUInt32BE(at + 12) !== salt[1]) break;
    if (wal.readUInt32BE(at + 4) !== 0) commits++;
  }
  return commits;
}

export class FakeClock {
  constructor(public t: number = Date.UTC(2025, 2, 14, 2, 0, 0)) {}
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface TestStore extends Store {
  readonly dir: string;
  readonly clock: FakeClock;
  reopen(): TestStore;
}

export function openTestStore(options: Partial<OpenStoreOptions> & { dir?: string; clock?: FakeClock } = {}): TestStore {
  const dir = options.dir ?? tempDir();
  const clock = options.clock ?? new FakeClock();
  const store = openStore({ utcOffsetMinutes: 480, ...options, dataDir: dir, now: clock.now });
  return {
    ...store,
    dir,
    clock,
    reopen() {
      store.close();
      return openTestStore({ ...options, dir, clock });
    },
  };
}

let mobileSeq = 0;

/** A valid, unique-per-call ID number (born 1987-02-14, sequence from the counter). */
export function uniqueIdNumber(n: number): string {
  const body = `31011519870214${String(n % 1000).padStart(3, '0')}`;
  return body + idCheckDigit(body);
}
export function makeResident(s: Store, overrides: { mobile?: string; idNumber?: string } = {}): Resident {
  mobileSeq++;
  return createResident(
    s.ctx,
    {
      name: '张三',
      mobile: overrides.mobile ?? `1380013${String(mobileSeq).padStart(4, '0')}`,
      idNumber: overrides.idNumber ?? uniqueIdNumber(mobileSeq),
      address: { building: '12号楼', unit: '2', room: '301' },
    },
    SYSTEM_ACTOR,
  );
}

/** Creates a staff member (fast hashing) and returns its id. */
export async function makeStaff(s: Store, role: 'staff' | 'admin' = 'staff', login = `s${++mobileSeq}`): Promise<number> {
  const st = await createStaff(s.ctx, { login, name: '李四', role, pin: '246813' }, SYSTEM_ACTOR, FAST_SCRYPT);
  return st.id;
}

export interface LoadedRequest {
  readonly resident: Resident;
  readonly requestId: number;
  readonly staffId: number;
  readonly load: TransitionOutcome;
  readonly code: string;
  readonly compartmentNo: number;
}

/** resident → request → accepted → ready → compartment reserved → loading → loaded (with a pickup code). */
export async function loadedRequest(s: Store, resident?: Resident, staffId?: number): Promise<LoadedRequest> {
  if (s.db.prepare('SELECT 1 FROM compartments LIMIT 1').get() === undefined) applyLayout(s.ctx, layoutGrid(1, 24), SYSTEM_ACTOR);
  const res = resident ?? makeResident(s);
  const sid = staffId ?? (await makeStaff(s));
  const staff = staffActor(sid);
  const { request } = createRequest(s.ctx, { residentId: res.id, serviceCode: 'residence_certificate' }, residentActor(res.id));
  transitionRequest(s.ctx, { requestId: request.id, event: 'accept', actor: staff });
  transitionRequest(s.ctx, { requestId: request.id, event: 'mark_ready', actor: staff });
  const comp = reserveCompartment(s.ctx, { requestId: request.id, direction: 'for_resident' }, staff);
  if (!comp) throw new Error('cabinet full');
  transitionRequest(s.ctx, { requestId: request.id, event: 'start_load', actor: staff });
  const load = transitionRequest(s.ctx, { requestId: request.id, event: 'load_done', actor: staff });
  if (!load.issued) throw new Error('no code issued');
  return { resident: res, requestId: request.id, staffId: sid, load, code: load.issued.code, compartmentNo: comp.no };
}

/** Every byte of the database: main file plus WAL (and shm), as latin1 text for substring search. */
export function databaseBytes(dir: string): string {
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith('cabinet.sqlite3'))
    .map((f) => fs.readFileSync(path.join(dir, f)).toString('latin1'))
    .join('\n');
}

/**
 * Overwrite the record header of the first row of a table's root page (a leaf page while the table is small) in a
 * closed database: the row's bytes no longer say what its columns are, as a torn or flipped write leaves them.
 */
export function damageFirstRow(dataDir: string, table: string): void {
  const file = path.join(dataDir, DB_FILE);
  const db = new Database(file);
  const row = db.prepare<[string], { rootpage: number }>(`SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = ?`).get(table);
  const pageSize = Number(db.pragma('page_size', { simple: true }));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  if (!row) throw new Error(`damageFirstRow: no table ${table}`);
  const at = (row.rootpage - 1) * pageSize;
  const fd = fs.openSync(file, 'r+');
  try {
    const page = Buffer.alloc(pageSize);
    fs.readSync(fd, page, 0, pageSize, at);
    if (page[0] !== 0x0d) throw new Error(`damageFirstRow: the root page of ${table} is not a leaf page of a table`);
    const cell = page.readUInt16BE(8); // the first cell: payload size and rowid (one byte each here), then the record header
    fs.writeSync(fd, Buffer.from([0x7f, 0x7f]), 0, 2, at + cell + 2);
  } finally {
    fs.closeSync(fd);
  }
}
