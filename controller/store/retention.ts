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
import { inTransaction } from './db.js';
import { randomToken } from './secrets.js';

export const ERASED_NAME = '已删除';
const ERASED_MOBILE = '00000000000';
const OPEN_STATES = `('submitted', 'awaiting_materials', 'depositing', 'materials_deposited', 'materials_retrieved', 'accepted', 'ready', 'loading', 'loaded', 'overdue')`;

/** Residents due for erasure: every request ended before the cutoff, and not erased yet. */
export function residentsDueForErasure(ctx: StoreContext, retentionMs: number): number[] {
  const cutoff = ctx.now() - retentionMs;
  return ctx.db
    .prepare<[string, number, number], { id: number }>(
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
    const open = ctx.db
      .prepare<[number], { n: number }>(`SELECT count(*) AS n FROM requests WHERE resident_id = ? AND state IN ${OPEN_STATES}`)
      .get(residentId)!.n;
    if (open > 0) return false;
    const now = ctx.now();
    const r = ctx.db
      .prepare(
        `UPDATE residents SET name = ?, mobile = ?, id_number_enc = NULL, id_number_hmac = NULL, id_number_masked = NULL,
           building = NULL, unit = NULL, room = NULL, qr_id = ?, updated_at = ?
         WHERE id = ?`,
      )
      .run(ERASED_NAME, ERASED_MOBILE, randomToken(16), now, residentId);
    if (r.changes !== 1) return false;
    ctx.db.prepare('UPDATE requests SET note = NULL, updated_at = ? WHERE resident_id = ? AND note IS NOT NULL').run(now, residentId);
    const cancelled = ctx.db
      .prepare(`UPDATE notifications SET status = 'cancelled', secret_enc = NULL WHERE resident_id = ? AND status = 'pending'`)
      .run(residentId).changes;
    appendAudit(ctx.db, now, { actor, action: 'resident.erased', detail: { residentId, cancelledNotifications: cancelled } });
    return true;
  });
}

/** Erase everyone due; returns how many were erased. */
export function erasePersonalData(ctx: StoreContext, retentionMs: number): number {
  let n = 0;
  for (const id of residentsDueForErasure(ctx, retentionMs)) if (eraseResident(ctx, id)) n++;
  return n;
}
