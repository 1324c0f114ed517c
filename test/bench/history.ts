/**
 * A history generator: a data directory whose database looks like years of use — residents, requests in a
 * realistic mix of states, ~28 audit rows per request, unlock intents, door events, credentials, notifications —
 * written straight to the store's schema (opened and migrated by the store's own code, so the schema is the real
 * one) with bulk inserts in large transactions. 1 M requests take a few minutes.
 *
 * What it guarantees, so tests and the benchmark can rely on it:
 * - request ids and numbers grow with time; the newest request is the last one;
 * - every compartment is free at the end (nothing is physically inside), and no unlock is unfinished;
 * - the open requests are the newest `open` ones plus a few stale ones scattered through the history;
 * - residents whose requests all ended before the retention cutoff are already erased, and the retention marks
 *   say so (as on a cabinet that ran all along);
 * - `counts` is the generator's own tally of requests per state (independent of the store's counters).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { REQUEST_STATES, type RequestState } from '../../controller/domain/request-states.js';
import { SYSTEM_ACTOR } from '../../controller/domain/types.js';
import { idCheckDigit } from '../../controller/domain/validation.js';
import {
  applyLayout,
  DB_FILE,
  encryptField,
  inTransaction,
  lastIntentId,
  layoutGrid,
  markIntentsReviewed,
  openStore,
  statusTokenHash,
} from '../../controller/store/index.js';
import { MIGRATIONS } from '../../controller/store/migrations.js';
import { ERASED_NAME, setRetentionMarks } from '../../controller/store/retention.js';
import { writeCleanStopMarker } from '../../controller/store/storage-health.js';
import { seededRng } from '../../sim/rng.js';

export interface HistoryOptions {
  readonly dataDir: string;
  readonly requests: number;
  /**
   * Open requests at the newest end. Default 200: the work in progress of a committee does not grow with the years
   * of history behind it (a few old ones left open are added, scattered through the history).
   */
  readonly open?: number;
  /** Time of the newest request; default now − 10 minutes. */
  readonly now?: number;
  readonly retentionDays?: number;
  readonly seed?: number;
  /** Compartments (all free at the end). Default 24. */
  readonly compartments?: number;
  readonly utcOffsetMinutes?: number;
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * The schema version the history is written at (default: the newest). An older one leaves the later
   * migrations to whoever opens it next — `migrateHistory` times them, as an upgrade in the field would run them.
   */
  readonly schemaVersion?: number;
}

export interface History {
  readonly requests: number;
  readonly residents: number;
  readonly auditRows: number;
  readonly intents: number;
  readonly doorEvents: number;
  readonly notifications: number;
  readonly counts: Record<RequestState, number>;
  readonly openIds: readonly number[];
  readonly newest: { readonly id: number; readonly number: string };
  readonly ms: number;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const SERVICES = [
  'residence_certificate',
  'family_relationship',
  'elderly_benefit',
  'no_criminal_record_letter',
  'hardship_proof',
  'insurance_claim_statement',
];
const OPEN_MIX: readonly RequestState[] = ['submitted', 'submitted', 'accepted', 'accepted', 'ready', 'awaiting_materials', 'materials_retrieved'];
const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗';
const GIVEN = '伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华';

/** A finished request's life: [audit action, hours after creation]; 29 rows (~27 a request over the whole mix). */
const COLLECTED_AUDIT: readonly [string, number][] = [
  ['request.created', 0],
  ['request.accept', 2],
  ['request.mark_ready', 20],
  ['compartment.reserved', 21],
  ['request.start_load', 21],
  ['unlock.intended', 21],
  ['unlock.sent', 21],
  ['unlock.acked', 21],
  ['door.open', 21],
  ['compartment.open', 21],
  ['door.closed', 21.01],
  ['request.load_done', 21.01],
  ['credential.issued', 21.01],
  ['compartment.occupied', 21.01],
  ['notification.sent', 21.02],
  ['credential.checked', 30],
  ['unlock.intended', 30],
  ['unlock.sent', 30],
  ['unlock.acked', 30],
  ['door.open', 30],
  ['compartment.open', 30],
  ['door.closed', 30.01],
  ['request.collect', 30.01],
  ['credential.revoked', 30.01],
  ['compartment.free', 30.01],
  ['staff.viewed', 31],
  ['notification.queued', 21.01],
  ['staff.viewed', 20.5],
  ['credential.phone_checked', 30],
];
const SHORT_AUDIT: readonly [string, number][] = [
  ['request.created', 0],
  ['request.accept', 2],
  ['request.mark_ready', 20],
];

export function generateHistory(o: HistoryOptions): History {
  const t0 = Date.now();
  const total = Math.max(1, Math.trunc(o.requests));
  const rng = seededRng(o.seed ?? 42);
  const now = o.now ?? Date.now() - 10 * 60_000;
  const retentionMs = (o.retentionDays ?? 180) * DAY;
  const offset = o.utcOffsetMinutes ?? 480;
  const perDay = Math.max(30, Math.ceil(total / 3650));
  const span = Math.ceil(total / perDay) * DAY;
  const first = now - span;
  const openTail = Math.min(Math.floor(total / 2), o.open ?? 200);
  const compartments = o.compartments ?? 24;

  const version = Math.min(MIGRATIONS.length, Math.max(1, o.schemaVersion ?? MIGRATIONS.length));
  const store = openStore({ dataDir: o.dataDir, utcOffsetMinutes: offset, now: () => now, migrations: MIGRATIONS.slice(0, version) });
  const { db, ctx } = store;
  applyLayout(ctx, layoutGrid(1, compartments), SYSTEM_ACTOR);
  // A generated file needs no durability while it is written: one big journal-less write, WAL again at the end.
  db.pragma('journal_mode = DELETE');
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  db.pragma('foreign_keys = OFF');
  db.pragma('secure_delete = OFF');

  const insResident = db.prepare(
    `INSERT INTO residents (id, name, mobile, id_number_enc, id_number_hmac, id_number_masked, building, unit, room, qr_id, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insRequest = db.prepare(
    `INSERT INTO requests (id, number, status_token_hash, resident_id, service_code, state, reason, note, compartment_no, created_at, updated_at, state_changed_at, loaded_at, closed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)`,
  );
  const insAudit = db.prepare(
    'INSERT INTO audit_log (at, actor_kind, actor_id, action, compartment_no, request_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  // The rows that follow a request's life are written set-wise from a template, per batch of requests: SQLite
  // does the loops (several times faster than a statement per row).
  db.exec(
    `CREATE TEMP TABLE life (kind TEXT NOT NULL, seq INTEGER NOT NULL, action TEXT NOT NULL, hours REAL NOT NULL, on_comp INTEGER NOT NULL, actor TEXT NOT NULL)`,
  );
  const insLife = db.prepare('INSERT INTO temp.life VALUES (?, ?, ?, ?, ?, ?)');
  COLLECTED_AUDIT.forEach(([action, h], i) => {
    const machine = action.startsWith('unlock.') || action.startsWith('door.');
    insLife.run('long', i, action, h, machine || action.startsWith('compartment.') ? 1 : 0, machine ? 'system' : 'staff');
  });
  SHORT_AUDIT.slice(0, 2).forEach(([action, h], i) => insLife.run('short', i, action, h, 0, 'staff'));
  insLife.run('short', 9, '$end', 0, 0, 'staff');
  SHORT_AUDIT.forEach(([action, h], i) => insLife.run('open3', i, action, Math.min(h, 0.1), 0, 'staff'));
  insLife.run('open1', 0, 'request.created', 0, 0, 'staff');
  const lifeKind = `CASE WHEN q.state IN ('collected', 'retrieved') THEN 'long' WHEN q.state IN ('cancelled', 'rejected') THEN 'short'
                         WHEN q.state IN ('submitted', 'awaiting_materials') THEN 'open1' ELSE 'open3' END`;
  const auditSet = db.prepare(
    `INSERT INTO audit_log (at, actor_kind, actor_id, action, compartment_no, request_id, detail)
     SELECT CASE WHEN l.action = '$end' THEN q.closed_at ELSE q.created_at + CAST(l.hours * 3600000 AS INTEGER) END,
            l.actor, CAST(1 + q.id % 3 AS TEXT),
            CASE WHEN l.action = '$end' THEN 'request.' || CASE q.state WHEN 'cancelled' THEN 'cancel' ELSE 'reject' END ELSE l.action END,
            CASE WHEN l.on_comp THEN q.compartment_no END, q.id,
            CASE WHEN l.action IN ('request.collect', '$end') THEN json_object('to', q.state) ELSE '{}' END
     FROM requests q JOIN temp.life l ON l.kind = ${lifeKind}
     WHERE q.id BETWEEN ? AND ? ORDER BY 1, q.id, l.seq`,
  );
  const long = `q.id BETWEEN ? AND ? AND q.state IN ('collected', 'retrieved')`;
  const intentSet = db.prepare(
    `INSERT INTO unlock_intents (compartment_no, request_id, actor_kind, actor_id, reason, created_at, expires_at, status, status_at, seq)
     SELECT compartment_no, id, kind, actor, reason, at, at + 5000, 'acked', at + 80, (id * 2 + n) & 65535 FROM (
       SELECT q.compartment_no, q.id, k.n, CASE k.n WHEN 1 THEN q.loaded_at ELSE q.closed_at - 36000 END AS at,
              CASE WHEN k.n = 1 OR q.state = 'retrieved' THEN 'staff' ELSE 'kiosk' END AS kind,
              CASE WHEN k.n = 1 OR q.state = 'retrieved' THEN CAST(1 + q.id % 3 AS TEXT) ELSE 'kiosk-1' END AS actor,
              CASE WHEN k.n = 1 THEN 'load' WHEN q.state = 'collected' THEN 'pickup' ELSE 'retrieve' END AS reason
       FROM requests q, (SELECT 1 AS n UNION ALL SELECT 2) k WHERE ${long} ORDER BY q.id, k.n)`,
  );
  const doorSet = db.prepare(
    `INSERT INTO door_events (compartment_no, door, source, intent_id, at)
     SELECT i.compartment_no, e.door, 'event', CASE e.door WHEN 'open' THEN i.id END, i.created_at + e.dt
     FROM unlock_intents i, (SELECT 'open' AS door, 400 AS dt UNION ALL SELECT 'closed', 30000) e
     WHERE i.id > ? ORDER BY i.id, e.dt`,
  );
  const credentialSet = db.prepare(
    `INSERT INTO credentials (request_id, purpose, code_hash, status, created_at, revoked_at, revoke_reason)
     SELECT q.id, 'pickup', randomblob(32), 'revoked', q.loaded_at, q.closed_at, CASE q.state WHEN 'collected' THEN 'collect' ELSE 'retrieve' END
     FROM requests q WHERE ${long} ORDER BY q.id`,
  );
  const notificationSet = db.prepare(
    `INSERT INTO notifications (resident_id, request_id, kind, payload, secret_enc, status, attempts, next_attempt_at, created_at, sent_at)
     SELECT resident_id, id, kind, json_object('requestNo', number, 'serviceCode', service_code, 'compartmentNo', compartment_no), NULL, 'sent', 1, at, at, at + 2000
     FROM (SELECT q.resident_id, q.id, q.number, q.service_code, q.compartment_no, n.kind,
                  CASE n.kind WHEN 'ready_with_code' THEN q.loaded_at WHEN 'overdue_reminder' THEN q.loaded_at + ${72 * HOUR} ELSE q.closed_at END AS at
           FROM requests q JOIN (SELECT 'ready_with_code' AS kind UNION ALL SELECT 'overdue_reminder' UNION ALL SELECT 'item_retrieved' UNION ALL SELECT 'rejected') n
             ON (n.kind = 'ready_with_code' AND q.state IN ('collected', 'retrieved')) OR (q.state = 'retrieved' AND n.kind IN ('overdue_reminder', 'item_retrieved'))
                OR (q.state = 'rejected' AND n.kind = 'rejected')
           WHERE q.id BETWEEN ? AND ? ORDER BY q.id, at)`,
  );
  const insDay = db.prepare(
    'INSERT INTO request_day_counters (day, last) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET last = max(last, excluded.last)',
  );

  const counts = Object.fromEntries(REQUEST_STATES.map((s) => [s, 0])) as Record<RequestState, number>;
  const openIds: number[] = [];
  let residents = 0;
  let newest = { id: 0, number: '' };
  // the resident of each request: a new one for ~1 in 3 requests, otherwise someone from the last few hundred
  const residentLastActive = new Map<number, number>();
  const idKey = ctx.keys.get('id-number-encryption');
  const idHmacKey = ctx.keys.get('id-number-lookup');
  const stale = new Set<number>();
  for (let k = 0; k < Math.min(40, Math.floor(total / 500)); k++) stale.add(1 + Math.floor(rng() * (total - openTail)));

  const dayKey = (ms: number): string => {
    const t = new Date(ms + offset * 60_000);
    return `${t.getUTCFullYear()}${String(t.getUTCMonth() + 1).padStart(2, '0')}${String(t.getUTCDate()).padStart(2, '0')}`;
  };
  let day = '';
  let inDay = 0;

  const BATCH = 5000;
  for (let start = 1; start <= total; start += BATCH) {
    inTransaction(db, () => {
      for (let id = start; id < Math.min(total + 1, start + BATCH); id++) {
        const created = first + Math.floor(((id - 1) / total) * span) + Math.floor(rng() * 60_000);
        const dk = dayKey(created);
        if (dk !== day) (day = dk), (inDay = 0);
        inDay++;
        const number = `BB-${dk}-${String(inDay).padStart(4, '0')}`;
        insDay.run(dk, inDay);
        newest = { id, number };

        let residentId: number;
        if (residents === 0 || rng() < 0.34) {
          residentId = ++residents;
          const idBody = `3101151987${String(residentId % 100_000_000).padStart(7, '0')}`.slice(0, 17);
          const idNumber = idBody + idCheckDigit(idBody);
          const name =
            SURNAMES[residentId % SURNAMES.length]! +
            GIVEN[(residentId * 7) % GIVEN.length]! +
            (residentId % 3 ? GIVEN[(residentId * 13) % GIVEN.length]! : '');
          insResident.run(
            residentId,
            name,
            `13${String(residentId).padStart(9, '0')}`,
            encryptField(idKey, idNumber, 'resident.id_number'),
            crypto.createHmac('sha256', idHmacKey).update(idNumber).digest(),
            `${idNumber.slice(0, 3)}***********${idNumber.slice(-4)}`,
            `${1 + (residentId % 40)}号楼`,
            String(1 + (residentId % 4)),
            String(101 + (residentId % 1800)),
            crypto.randomBytes(16).toString('base64url'),
            created,
            created,
          );
          insAudit.run(created, 'system', null, 'resident.created', null, null, `{"residentId":${residentId}}`);
        } else {
          residentId = Math.max(1, residents - Math.floor(rng() * Math.min(residents, 300)));
        }
        const service = SERVICES[Math.floor(rng() * SERVICES.length)]!;
        const isOpen = id > total - openTail || stale.has(id);
        const r = rng();
        const state: RequestState = isOpen
          ? stale.has(id)
            ? 'awaiting_materials'
            : OPEN_MIX[Math.floor(rng() * OPEN_MIX.length)]!
          : r < 0.86
            ? 'collected'
            : r < 0.91
              ? 'cancelled'
              : r < 0.96
                ? 'rejected'
                : 'retrieved';
        counts[state]++;
        if (isOpen) openIds.push(id);
        const comp = 1 + (id % compartments);
        const hours = (h: number) => created + Math.round(h * HOUR);
        if (state === 'collected' || state === 'retrieved') {
          const endAt = state === 'collected' ? hours(30.01) : hours(21 + 24 * 14);
          insRequest.run(id, number, statusTokenHash(`h${id}`), residentId, service, state, null, comp, created, endAt, endAt, hours(21), endAt);
          residentLastActive.set(residentId, Math.max(residentLastActive.get(residentId) ?? 0, endAt));
        } else if (!isOpen) {
          const endAt = hours(state === 'cancelled' ? 5 : 3);
          insRequest.run(
            id,
            number,
            statusTokenHash(`h${id}`),
            residentId,
            service,
            state,
            state === 'rejected' ? '材料不全' : null,
            null,
            created,
            endAt,
            endAt,
            null,
            endAt,
          );
          residentLastActive.set(residentId, Math.max(residentLastActive.get(residentId) ?? 0, endAt));
        } else {
          insRequest.run(id, number, statusTokenHash(`h${id}`), residentId, service, state, null, null, created, created, created, null, null);
          residentLastActive.set(residentId, Number.MAX_SAFE_INTEGER);
        }
      }
      const last = Math.min(total, start + BATCH - 1);
      auditSet.run(start, last);
      const lastIntent = lastIntentId(ctx);
      intentSet.run(start, last);
      doorSet.run(lastIntent);
      credentialSet.run(start, last);
      notificationSet.run(start, last);
    });
    o.onProgress?.(Math.min(total, start + BATCH - 1), total);
  }

  // Residents whose requests all ended before the cutoff were erased long ago (as the retention job would have).
  const cutoff = now - retentionMs;
  const erase = db.prepare(
    `UPDATE residents SET name = ?, mobile = '00000000000', id_number_enc = NULL, id_number_hmac = NULL, id_number_masked = NULL,
       building = NULL, unit = NULL, room = NULL, updated_at = ? WHERE id = ?`,
  );
  inTransaction(db, () => {
    for (const [rid, last] of residentLastActive) if (last <= cutoff) erase.run(ERASED_NAME, last + retentionMs, rid);
    setRetentionMarks(ctx, cutoff);
    markIntentsReviewed(ctx, lastIntentId(ctx));
  });
  db.pragma('foreign_keys = ON');
  db.pragma('secure_delete = ON');
  db.pragma('journal_mode = WAL');
  const count = (table: string): number => db.prepare<[], { n: number }>(`SELECT ifnull(max(rowid), 0) AS n FROM ${table}`).get()!.n;
  const tally = {
    auditRows: count('audit_log'),
    intents: count('unlock_intents'),
    doorEvents: count('door_events'),
    notifications: count('notifications'),
  };
  store.close();
  // closed cleanly, as a controller that stopped cleanly leaves it: its first start need not read the whole file
  writeCleanStopMarker(o.dataDir);
  return { requests: total, residents, ...tally, counts, openIds, newest, ms: Date.now() - t0 };
}

/**
 * Opens a generated history with the store's code, which runs the migrations it was written without (see
 * `schemaVersion`); how long they took, and the file's size after.
 */
export function migrateHistory(dataDir: string): { ms: number; from: number; to: number; bytes: number } {
  const t0 = performance.now();
  let from = 0;
  const store = openStore({ dataDir, beforeMigrate: (_db, f) => void (from = f) });
  const ms = performance.now() - t0;
  const to = Number(store.db.pragma('user_version', { simple: true }));
  store.close();
  writeCleanStopMarker(dataDir);
  const file = path.join(dataDir, DB_FILE);
  return { ms, from: from || to, to, bytes: fs.statSync(file).size };
}

// `tsx test/bench/history.ts <dir> <requests> [schema version]`: build one from the command line (and, written at
// an older version, time the migrations to the newest).
if (process.argv[1]?.endsWith('history.ts') && process.argv.length >= 4) {
  const h = generateHistory({
    dataDir: process.argv[2]!,
    requests: Number(process.argv[3]),
    ...(process.argv[4] ? { schemaVersion: Number(process.argv[4]) } : {}),
    onProgress: (d, t) => {
      if (d % 100_000 < 5000) process.stderr.write(`\r${d}/${t}`);
    },
  });
  process.stderr.write('\n');
  console.log(JSON.stringify({ ...h, openIds: h.openIds.length }, null, 1));
  if (process.argv[4]) console.log(JSON.stringify({ migrated: migrateHistory(process.argv[2]!) }));
}
