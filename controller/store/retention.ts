/**
 * Personal data is kept only as long as it is needed (PIPL art. 19 and 47): a resident all of whose
 * requests ended (rejected, collected, retrieved, cancelled) more than RETENTION_DAYS ago is erased.
 *
 * Erasing keeps the records the committee must keep — request numbers, states, dates, the audit log
 * (which never held names, phones or ID numbers) — and removes who the person was: the name becomes
 * 已删除, the mobile a placeholder of zeros (the column requires 11 characters), the encrypted ID number,
 * its hash and mask and the address are cleared, free-text notes on their requests are cleared, messages
 * still owed to them are cancelled, and their QR identity is replaced so an old phone or screenshot no
 * longer opens anything. A resident with any request still open is never touched.
 */
import { SYSTEM_ACTOR, type Actor } from '../domain/types.js';
import { appendAudit } from './audit.js';
import type { StoreContext } from './context.js';
import { inTransaction, stmt } from './db.js';
import { randomToken } from './secrets.js';

export const ERASED_NAME = '已删除';
const ERASED_MOBILE = '00000000000';
const OPEN_STATES = `('submitted', 'awaiting_materials', 'depositing', 'materials_deposited', 'materials_retrieved', 'accepted', 'ready', 'loading', 'loaded', 'overdue')`;

/**
 * Finding who is due without reading every resident. A resident becomes due at the moment the cutoff
 * (now − retention) passes the later of their last change and their last request's end, with nothing open. That
 * moment falls in exactly one pass's window (previous cutoff, this cutoff]: the passes walk two indexes —
 * requests by closed_at, residents by updated_at — from a mark kept in `meta` ("time:id", so a batch can stop
 * anywhere), check each resident found, and move the mark. A request still open then ends later, and its
 * end comes up in a later window. A crash mid-way repeats at most one batch (erasing is idempotent).
 */
const MARKS = {
  requests: {
    key: 'retention_requests_upto',
    sql: 'SELECT id AS key, resident_id AS resident, closed_at AS t FROM requests WHERE closed_at IS NOT NULL AND (closed_at, id) > (?, ?) AND closed_at <= ? ORDER BY closed_at, id LIMIT ?',
  },
  residents: {
    key: 'retention_residents_upto',
    sql: 'SELECT id AS key, id AS resident, updated_at AS t FROM residents WHERE (updated_at, id) > (?, ?) AND updated_at <= ? ORDER BY updated_at, id LIMIT ?',
  },
} as const;

function readMark(ctx: StoreContext, key: string): [number, number] {
  const r = stmt<[string], { value: string }>(ctx.db, 'SELECT value FROM meta WHERE key = ?').get(key);
  const m = r ? /^(-?\d+):(\d+)$/.exec(r.value) : null;
  return m ? [Number(m[1]), Number(m[2])] : [-1, 0];
}

/** Sets both retention marks (a generated or restored history that was already kept up to `cutoff`). */
export function setRetentionMarks(ctx: StoreContext, cutoff: number): void {
  for (const { key } of Object.values(MARKS)) {
    stmt(ctx.db, 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(
      key,
      `${cutoff}:${Number.MAX_SAFE_INTEGER}`,
    );
  }
}

function isDue(ctx: StoreContext, residentId: number, cutoff: number): boolean {
  return (
    stmt<[number, string, number, number], { id: number }>(
      ctx.db,
      `SELECT r.id FROM residents r
       WHERE r.id = ? AND r.name <> ? AND r.updated_at <= ?
         AND NOT EXISTS (SELECT 1 FROM requests q WHERE q.resident_id = r.id AND (q.state IN ${OPEN_STATES} OR q.closed_at IS NULL OR q.closed_at > ?))`,
    ).get(residentId, ERASED_NAME, cutoff, cutoff) !== undefined
  );
}

/**
 * One batch: at most `batch` index entries looked at, the due residents among them erased, the mark moved — all
 * in one transaction. `done` when both windows are empty up to the cutoff.
 */
export function erasePersonalDataBatch(ctx: StoreContext, retentionMs: number, batch = 200): { erased: number; done: boolean } {
  return inTransaction(ctx.db, () => {
    const cutoff = ctx.now() - retentionMs;
    let erased = 0;
    let done = true;
    for (const { key, sql } of Object.values(MARKS)) {
      const [t, id] = readMark(ctx, key);
      const rows = stmt<[number, number, number, number], { key: number; resident: number; t: number }>(ctx.db, sql).all(t, id, cutoff, batch);
      for (const row of rows) if (isDue(ctx, row.resident, cutoff) && eraseResident(ctx, row.resident)) erased++;
      const last = rows[rows.length - 1];
      if (last)
        stmt(ctx.db, 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(
          key,
          `${last.t}:${last.key}`,
        );
      if (rows.length === batch) done = false;
    }
    return { erased, done };
  });
}

/** Residents due for erasure now (reads every resident: for tests and the command line, not for timers). */
export function residentsDueForErasure(ctx: StoreContext, retentionMs: number): number[] {
  const cutoff = ctx.now() - retentionMs;
  return stmt<[string, number, number], { id: number }>(
    ctx.db,
    `SELECT r.id FROM residents r
       WHERE r.name <> ?
         AND NOT EXISTS (SELECT 1 FROM requests q WHERE q.resident_id = r.id AND (q.state IN ${OPEN_STATES} OR q.closed_at IS NULL OR q.closed_at > ?))
         AND r.updated_at <= ?
       ORDER BY r.id`,
  )
    .all(ERASED_NAME, cutoff, cutoff)
    .map((r) => r.id);
}

/** Erase one resident's personal data (see the file comment). Refuses (returns false) while a request is open. */
export function eraseResident(ctx: StoreContext, residentId: number, actor: Actor = SYSTEM_ACTOR): boolean {
  return inTransaction(ctx.db, () => {
    const open = stmt<[number], { n: number }>(ctx.db, `SELECT count(*) AS n FROM requests WHERE resident_id = ? AND state IN ${OPEN_STATES}`).get(
      residentId,
    )!.n;
    if (open > 0) return false;
    const now = ctx.now();
    const r = stmt(
      ctx.db,
      `UPDATE residents SET name = ?, mobile = ?, id_number_enc = NULL, id_number_hmac = NULL, id_number_masked = NULL,
           building = NULL, unit = NULL, room = NULL, qr_id = ?, updated_at = ?
         WHERE id = ?`,
    ).run(ERASED_NAME, ERASED_MOBILE, randomToken(16), now, residentId);
    if (r.changes !== 1) return false;
    stmt(ctx.db, 'UPDATE requests SET note = NULL, updated_at = ? WHERE resident_id = ? AND note IS NOT NULL').run(now, residentId);
    const cancelled = stmt(
      ctx.db,
      `UPDATE notifications SET status = 'cancelled', secret_enc = NULL WHERE resident_id = ? AND status = 'pending'`,
    ).run(residentId).changes;
    appendAudit(ctx.db, now, { actor, action: 'resident.erased', detail: { residentId, cancelledNotifications: cancelled } });
    return true;
  });
}

/** Erase everyone due, batch after batch, synchronously; returns how many were erased. */
export function erasePersonalData(ctx: StoreContext, retentionMs: number, batch = 200): number {
  let n = 0;
  for (;;) {
    const r = erasePersonalDataBatch(ctx, retentionMs, batch);
    n += r.erased;
    if (r.done) return n;
  }
}

/** The same, yielding to the event loop between batches (the timer's way: a pickup is never kept waiting). */
export async function erasePersonalDataInBatches(ctx: StoreContext, retentionMs: number, batch = 200): Promise<number> {
  let n = 0;
  for (;;) {
    const r = erasePersonalDataBatch(ctx, retentionMs, batch);
    n += r.erased;
    if (r.done) return n;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
