/**
 * Unlock intents and door facts, as separate committed rows.
 *
 *   createUnlockIntent     "we mean to open compartment n, for this request, because …" (pending, expires soon)
 *   claimIntentForSend     the transport, right before writing to the bus: pending and not expired → sent;
 *                          too late → expired, and the door is NOT opened (a command that arrives long after it
 *                          was asked must not open a door)
 *   markIntentAcked/Failed the board's answer. An ack is not a door opening.
 *   recordDoorFact         what the door did, attributed to the intent that explains it, or to none (tamper)
 *
 * What the deadline, the cap and the attribution window are is the unlock policy's (domain/unlock-policy.ts);
 * this file applies it, in one transaction each, and decides nothing of its own. (The default policy is for
 * tests; the controller passes the one configured from its settings.)
 *
 * A crash between any two of these leaves rows that `unresolvedIntents` lists at start-up. Unlocks are capped
 * per minute across the cabinet, and a compartment with a live intent refuses another: there is no "open all"
 * and no retry loop here. A new unlock always needs a new decision by the caller.
 */
import { CabinetError } from '../errors.js';
import {
  attributeHiddenOpenings,
  DEFAULT_UNLOCK_POLICY,
  explainsOpeningSince,
  RATE_WINDOW_MS,
  withinRate,
  type UnlockPolicy,
} from '../domain/unlock-policy.js';
import type { LateBatch } from '../domain/late-records.js';
import type { Actor, ActorKind } from '../domain/types.js';
import { appendAudit } from './audit.js';
import { transitionCompartment, type CompartmentState, type DoorState } from './compartments.js';
import type { StoreContext } from './context.js';
import { inTransaction, stmt } from './db.js';

export type IntentStatus = 'pending' | 'sent' | 'acked' | 'failed' | 'expired';
export type UnlockReason = 'pickup' | 'load' | 'deposit' | 'retrieve' | 'retrieve_materials' | 'staff_open' | 'fault_check';
export type DoorFactSource = 'event' | 'poll' | 'startup';

export interface UnlockIntent {
  readonly id: number;
  readonly compartmentNo: number;
  readonly requestId: number | null;
  readonly actorKind: ActorKind;
  readonly actorId: string | null;
  readonly reason: UnlockReason;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly status: IntentStatus;
  readonly statusAt: number;
  readonly seq: number | null;
  readonly error: string | null;
}

interface Row {
  id: number;
  compartment_no: number;
  request_id: number | null;
  actor_kind: ActorKind;
  actor_id: string | null;
  reason: UnlockReason;
  created_at: number;
  expires_at: number;
  status: IntentStatus;
  status_at: number;
  seq: number | null;
  error: string | null;
}

const toIntent = (r: Row): UnlockIntent => ({
  id: r.id,
  compartmentNo: r.compartment_no,
  requestId: r.request_id,
  actorKind: r.actor_kind,
  actorId: r.actor_id,
  reason: r.reason,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  status: r.status,
  statusAt: r.status_at,
  seq: r.seq,
  error: r.error,
});

export function getIntent(ctx: StoreContext, id: number): UnlockIntent | null {
  const r = stmt<[number], Row>(ctx.db, 'SELECT * FROM unlock_intents WHERE id = ?').get(id);
  return r ? toIntent(r) : null;
}

function requireIntent(ctx: StoreContext, id: number): UnlockIntent {
  const i = getIntent(ctx, id);
  if (!i) throw new CabinetError('NOT_FOUND', `no unlock intent #${id}`, { intentId: id });
  return i;
}

/** Records the decision to open one compartment. Refused when rate-capped, disabled, or already pending. */
export function createUnlockIntent(
  ctx: StoreContext,
  args: {
    compartmentNo: number;
    requestId?: number | null;
    actor: Actor;
    reason: UnlockReason;
    /**
     * The first unlock of a door operation: the compartment goes from this state to "opening" in the same
     * transaction, so that no crash can leave an opening compartment without the intent of its own operation
     * (start-up reconciliation would otherwise find an older intent of another operation).
     */
    openFrom?: CompartmentState;
    /**
     * The unlocks this process decided: how many in the last minute by its monotonic clock (see Doors), and the
     * first intent id it wrote (or would write). Its own rows are then counted by that clock alone, and the rows of
     * earlier processes by the wall clock, the only clock they share with this one: a wall clock set back does not
     * count this process's unlocks of an hour ago as recent, nor does one set forward forget those of a second ago.
     */
    inProcess?: { recent: number; fromId: number };
  },
  policy: UnlockPolicy = DEFAULT_UNLOCK_POLICY,
): UnlockIntent {
  try {
    return createIntentTx(ctx, args, policy);
  } catch (e) {
    // The refusal is recorded after its transaction rolled back (a row written inside it would be undone too).
    if (e instanceof CabinetError && e.code === 'UNLOCK_RATE_LIMITED') {
      appendAudit(ctx.db, ctx.now(), {
        actor: args.actor,
        action: 'unlock.rate_limited',
        compartmentNo: args.compartmentNo,
        requestId: args.requestId ?? null,
        detail: { recent: Number(e.context.recent ?? 0) },
      });
    }
    throw e;
  }
}

function createIntentTx(ctx: StoreContext, args: Parameters<typeof createUnlockIntent>[1], policy: UnlockPolicy): UnlockIntent {
  return inTransaction(ctx.db, () => {
    const now = ctx.now();
    if (args.openFrom !== undefined) transitionCompartment(ctx, args.compartmentNo, { to: 'opening', actor: args.actor, expectFrom: args.openFrom });
    // Only this compartment's: another's live intent is its own flow's to judge (by its monotonic deadline), and a
    // wall clock set forward must not expire it under that flow.
    expireStaleIntents(ctx, args.compartmentNo);
    const comp = stmt<[number], { state: string }>(ctx.db, 'SELECT state FROM compartments WHERE no = ?').get(args.compartmentNo);
    if (!comp) throw new CabinetError('NOT_FOUND', `no compartment ${args.compartmentNo}`, { compartmentNo: args.compartmentNo });
    if (comp.state === 'disabled') {
      throw new CabinetError('COMPARTMENT_STATE', `compartment ${args.compartmentNo} is disabled`, { compartmentNo: args.compartmentNo });
    }
    const live = stmt<[number], { id: number }>(
      ctx.db,
      `SELECT id FROM unlock_intents WHERE compartment_no = ? AND status IN ('pending', 'sent')`,
    ).get(args.compartmentNo);
    if (live) {
      throw new CabinetError('UNLOCK_ALREADY_PENDING', `compartment ${args.compartmentNo} already has unlock #${live.id} under way`, {
        compartmentNo: args.compartmentNo,
        intentId: live.id,
      });
    }
    // The last minute by the wall clock, bounded on both sides: rows stamped "in the future" by a clock that ran
    // fast and was corrected are not the last minute. With the caller's own count (a monotonic clock, this
    // process's unlocks) only the rows of earlier processes are judged so.
    const fromId = args.inProcess?.fromId ?? Number.MAX_SAFE_INTEGER;
    const recent =
      (stmt<[number, number, number], { n: number }>(
        ctx.db,
        'SELECT count(*) AS n FROM unlock_intents WHERE created_at > ? AND created_at <= ? AND id < ?',
      ).get(now - RATE_WINDOW_MS, now, fromId)?.n ?? 0) + (args.inProcess?.recent ?? 0);
    if (!withinRate(recent, policy)) {
      throw new CabinetError('UNLOCK_RATE_LIMITED', `more than ${policy.maxPerMinute} unlocks in a minute; try again shortly`, {
        compartmentNo: args.compartmentNo,
        recent,
      });
    }
    const id = Number(
      stmt(
        ctx.db,
        `INSERT INTO unlock_intents (compartment_no, request_id, actor_kind, actor_id, reason, created_at, expires_at, status, status_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
      ).run(args.compartmentNo, args.requestId ?? null, args.actor.kind, args.actor.id, args.reason, now, now + policy.ttlMs, now).lastInsertRowid,
    );
    appendAudit(ctx.db, now, {
      actor: args.actor,
      action: 'unlock.intended',
      compartmentNo: args.compartmentNo,
      requestId: args.requestId ?? null,
      detail: { intentId: id, reason: args.reason },
    });
    return requireIntent(ctx, id);
  });
}

/**
 * Called by the transport immediately before it writes the unlock command. Returns the intent (now "sent", with
 * the command's sequence number) or null when it must not be sent: expired, or not pending any more.
 * `inTime`: the caller has judged the deadline itself on its monotonic clock (the driver does, right before this
 * call); the wall clock, which may have jumped since the intent was written, is then not asked.
 */
export function claimIntentForSend(ctx: StoreContext, id: number, seq: number, opts: { inTime?: boolean } = {}): UnlockIntent | null {
  return inTransaction(ctx.db, () => {
    const now = ctx.now();
    const i = requireIntent(ctx, id);
    if (i.status !== 'pending') return null;
    if (!opts.inTime && now >= i.expiresAt) {
      setStatus(ctx, i, 'expired', now, 'not sent before it expired');
      return null;
    }
    stmt(ctx.db, `UPDATE unlock_intents SET status = 'sent', status_at = ?, seq = ? WHERE id = ?`).run(now, seq, id);
    appendAudit(ctx.db, now, {
      actor: { kind: 'system', id: null },
      action: 'unlock.sent',
      compartmentNo: i.compartmentNo,
      requestId: i.requestId,
      detail: { intentId: id, seq },
    });
    return requireIntent(ctx, id);
  });
}

function setStatus(ctx: StoreContext, i: UnlockIntent, status: IntentStatus, now: number, error: string | null): void {
  stmt(ctx.db, 'UPDATE unlock_intents SET status = ?, status_at = ?, error = ? WHERE id = ?').run(status, now, error, i.id);
  appendAudit(ctx.db, now, {
    actor: { kind: 'system', id: null },
    action: `unlock.${status}`,
    compartmentNo: i.compartmentNo,
    requestId: i.requestId,
    detail: { intentId: i.id, ...(error ? { error } : {}) },
  });
}

/** The board acknowledged the unlock. (The door has not necessarily opened: see recordDoorFact.) */
export function markIntentAcked(ctx: StoreContext, id: number): UnlockIntent {
  return inTransaction(ctx.db, () => {
    const i = requireIntent(ctx, id);
    if (i.status !== 'sent') throw new CabinetError('COMPARTMENT_STATE', `unlock #${id} is ${i.status}, not sent`, { intentId: id });
    setStatus(ctx, i, 'acked', ctx.now(), null);
    return requireIntent(ctx, id);
  });
}

/** The board refused or never answered. */
export function markIntentFailed(ctx: StoreContext, id: number, error: string): UnlockIntent {
  return inTransaction(ctx.db, () => {
    const i = requireIntent(ctx, id);
    if (i.status !== 'pending' && i.status !== 'sent')
      throw new CabinetError('COMPARTMENT_STATE', `unlock #${id} is already ${i.status}`, { intentId: id });
    setStatus(ctx, i, 'failed', ctx.now(), error.slice(0, 300));
    return requireIntent(ctx, id);
  });
}

/**
 * Ends intents past their expiry: pending ones become expired (never sent); sent ones with no answer become
 * failed, "outcome unknown" (the door may have opened: read it). Returns how many changed.
 */
export function expireStaleIntents(ctx: StoreContext, compartmentNo?: number): number {
  return inTransaction(ctx.db, () => {
    const now = ctx.now();
    const stale = stmt<[number, number | null, number | null], Row>(
      ctx.db,
      `SELECT * FROM unlock_intents WHERE status IN ('pending', 'sent') AND expires_at <= ? AND (? IS NULL OR compartment_no = ?)`,
    )
      .all(now, compartmentNo ?? null, compartmentNo ?? null)
      .map(toIntent);
    for (const i of stale) {
      if (i.status === 'pending') setStatus(ctx, i, 'expired', now, 'not sent before it expired');
      else setStatus(ctx, i, 'failed', now, 'no answer before expiry: outcome unknown, check the door');
    }
    return stale.length;
  });
}

const REVIEWED_KEY = 'intents_reviewed_upto';

function reviewedUpto(ctx: StoreContext): number {
  const r = stmt<[string], { value: string }>(ctx.db, 'SELECT value FROM meta WHERE key = ?').get(REVIEWED_KEY);
  return r ? Number(r.value) : 0;
}

/**
 * Intents a restart must look at: not finished (pending/sent), or acknowledged with no door opening recorded
 * and not yet looked at by an earlier start-up (see markIntentsReviewed). Bounded by the unfinished work, not by
 * the history: the open ones come from a partial index, the acknowledged ones from past the reviewed mark.
 */
export function unresolvedIntents(ctx: StoreContext): UnlockIntent[] {
  return stmt<[number], Row>(
    ctx.db,
    `SELECT i.* FROM unlock_intents i WHERE i.status IN ('pending', 'sent')
       UNION
       SELECT i.* FROM unlock_intents i
       WHERE i.id > ? AND i.status = 'acked' AND NOT EXISTS (SELECT 1 FROM door_events d WHERE d.intent_id = i.id AND d.door = 'open')
       ORDER BY 1`,
  )
    .all(reviewedUpto(ctx))
    .map(toIntent);
}

/**
 * Start-up has looked at every intent up to `id` (the highest one unresolvedIntents returned, or the newest at
 * the time): later start-ups do not list the acknowledged ones again. Never moves backwards.
 */
export function markIntentsReviewed(ctx: StoreContext, id: number): void {
  stmt(
    ctx.db,
    `INSERT INTO meta (key, value) VALUES (?, CAST(? AS TEXT))
       ON CONFLICT (key) DO UPDATE SET value = CAST(max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER)) AS TEXT)`,
  ).run(REVIEWED_KEY, id);
}

/** The newest intent's id (0 when there is none). */
export function lastIntentId(ctx: StoreContext): number {
  return stmt<[], { id: number }>(ctx.db, 'SELECT ifnull(max(id), 0) AS id FROM unlock_intents').get()!.id;
}

export interface DoorFact {
  readonly id: number;
  readonly compartmentNo: number;
  readonly door: DoorState;
  readonly source: DoorFactSource;
  readonly intentId: number | null;
  readonly at: number;
}

export interface DoorFactOutcome {
  /** False when the door was already known to be in this state: nothing was written. */
  readonly changed: boolean;
  readonly fact: DoorFact | null;
  /** An opening no unlock intent explains: raise the tamper alarm. */
  readonly unexplainedOpen: boolean;
}

/** What a door change means against the record: nothing new, or a change with the unlock that explains it (or none). */
type DoorChangeReading =
  | { readonly changed: false }
  | { readonly changed: true; readonly intentId: number | null; readonly comp: { door: DoorState; request_id: number | null } };

export interface DoorFactArgs {
  compartmentNo: number;
  door: DoorState;
  source: DoorFactSource;
  /** How long before now the change may have happened (a poll finding a change), ms; 0 = just now; null = unknown (first reading). */
  ageMs?: number | null;
  /**
   * This process's unlocks: the first intent id it wrote, and those of its intents that may explain the opening by
   * its monotonic clock (UnlockTimes). Its own intents are then judged by that list alone, and those of earlier
   * processes by the wall clock and the order the rows were written: a wall clock set forward or back between an
   * unlock and its door opening does not decide whether the opening is tamper.
   */
  inProcess?: { readonly fromId: number; readonly explaining: readonly number[] } | undefined;
  /**
   * A change seen at this time (wall clock, ms) that could not be written then (recordLateDoorFacts): recorded, and
   * attributed, as of that time, its audit row marked as written late.
   */
  late?: { readonly at: number; readonly byCount?: boolean };
}

/** The reading part of recordDoorFact: whether the change is new, and which unlock explains an opening. No writes. */
function readDoorChange(ctx: StoreContext, args: DoorFactArgs, now: number, policy: UnlockPolicy): DoorChangeReading {
  const comp = stmt<[number], { door: DoorState; door_at: number | null; request_id: number | null }>(
    ctx.db,
    'SELECT door, door_at, request_id FROM compartments WHERE no = ?',
  ).get(args.compartmentNo);
  if (!comp) throw new CabinetError('NOT_FOUND', `no compartment ${args.compartmentNo}`, { compartmentNo: args.compartmentNo });
  if (comp.door === args.door) return { changed: false };
  let intentId: number | null = null;
  if (args.door === 'open') {
    // the latest sent/acked unlock of this compartment, recent enough and not yet matched to an opening
    intentId = explainingIntents(ctx, args, comp.door_at, now, policy, 1)[0] ?? null;
  }
  return { changed: true, intentId, comp };
}

/**
 * Whether a door change would be an opening no unlock explains, read from the record without writing it: for a change
 * the store cannot write now (disk full, read-only), so that a forced door is alarmed at once all the same.
 */
export function wouldBeUnexplainedOpening(ctx: StoreContext, args: DoorFactArgs, policy: UnlockPolicy = DEFAULT_UNLOCK_POLICY): boolean {
  if (args.door !== 'open') return false;
  const r = readDoorChange(ctx, args, args.late?.at ?? ctx.now(), policy);
  return r.changed && r.intentId === null;
}

/** Records what a door did (from a board event, a poll, or the start-up read) if it differs from what we knew. */
export function recordDoorFact(ctx: StoreContext, args: DoorFactArgs, policy: UnlockPolicy = DEFAULT_UNLOCK_POLICY): DoorFactOutcome {
  return inTransaction(ctx.db, () => {
    const now = args.late?.at ?? ctx.now();
    const reading = readDoorChange(ctx, args, now, policy);
    if (!reading.changed) return { changed: false, fact: null, unexplainedOpen: false };
    const { intentId, comp } = reading;
    const id = Number(
      stmt(ctx.db, 'INSERT INTO door_events (compartment_no, door, source, intent_id, at) VALUES (?, ?, ?, ?, ?)').run(
        args.compartmentNo,
        args.door,
        args.source,
        intentId,
        now,
      ).lastInsertRowid,
    );
    stmt(ctx.db, 'UPDATE compartments SET door = ?, door_at = ? WHERE no = ?').run(args.door, now, args.compartmentNo);
    // An opening seen at start-up with no intent is not necessarily tamper (it may have been open before the power
    // cut): it is still reported as unexplained and the caller decides.
    const unexplainedOpen = args.door === 'open' && intentId === null;
    appendAudit(ctx.db, now, {
      actor: { kind: 'system', id: null },
      action: unexplainedOpen ? 'door.opened_unexplained' : `door.${args.door}`,
      compartmentNo: args.compartmentNo,
      requestId: comp.request_id,
      detail: {
        source: args.source,
        from: comp.door,
        ...(intentId !== null ? { intentId } : {}),
        ...(args.late ? { late: true, writtenAt: ctx.now(), ...(args.late.byCount ? { byCount: true } : {}) } : {}),
      },
    });
    return {
      changed: true,
      fact: { id, compartmentNo: args.compartmentNo, door: args.door, source: args.source, intentId, at: now },
      unexplainedOpen,
    };
  });
}

/** A door change written late, with the compartment it happened at. */
export interface LateDoorFactOutcome extends DoorFactOutcome {
  readonly compartmentNo: number;
  readonly at: number;
}

/**
 * Door changes that could not be written when they were seen (domain/late-records.ts), written now in one transaction,
 * oldest first, each at the time it was seen and marked as written late; and, when some could not even be kept, one
 * audit row with how many (`door.not_recorded`). A change the record already shows (written meanwhile) is skipped as
 * any repeated reading is.
 */
export function recordLateDoorFacts(ctx: StoreContext, batch: LateBatch, policy: UnlockPolicy = DEFAULT_UNLOCK_POLICY): LateDoorFactOutcome[] {
  return inTransaction(ctx.db, () => {
    const out: LateDoorFactOutcome[] = [];
    for (const f of batch.facts) {
      const r = recordDoorFact(
        ctx,
        {
          compartmentNo: f.compartmentNo,
          door: f.door,
          source: f.source,
          ageMs: f.ageMs,
          inProcess: f.inProcess,
          late: { at: f.at, ...(f.byCount ? { byCount: true } : {}) },
        },
        policy,
      );
      out.push({ ...r, compartmentNo: f.compartmentNo, at: f.at });
    }
    const n = batch.notKept;
    if (n) {
      appendAudit(ctx.db, ctx.now(), {
        actor: { kind: 'system', id: null },
        action: 'door.not_recorded',
        compartmentNo: n.compartments.length === 1 ? n.compartments[0]! : null,
        detail: { count: n.count, from: n.from, to: n.to, compartments: [...n.compartments] },
      });
    }
    return out;
  });
}

/**
 * The unlocks that may explain an opening of a compartment found now (latest first, at most `limit`): sent,
 * acknowledged or failed with their outcome unknown, not matched to an opening yet, and recent enough by the unlock
 * policy (`explainsOpeningSince`; this process's own by its monotonic clock, `inProcess`). For the first reading after
 * a start (ageMs null) also one sent after the door was last recorded in the order the rows were written (the audit
 * log's ids), whatever the clock said then: a clock set back or forward between the unlock and this start must not
 * turn the opening that unlock caused into tamper.
 */
function explainingIntents(
  ctx: StoreContext,
  args: { compartmentNo: number; ageMs?: number | null; inProcess?: { fromId: number; explaining: readonly number[] } },
  doorRecordedAt: number | null,
  now: number,
  policy: UnlockPolicy,
  limit: number,
): number[] {
  const firstReading = args.ageMs === null ? 1 : 0;
  return stmt<[number, number, string, number, number, number, number, number, number], { id: number }>(
    ctx.db,
    `SELECT i.id FROM unlock_intents i
       WHERE i.compartment_no = ? AND i.status IN ('sent', 'acked', 'failed') AND i.seq IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM door_events d WHERE d.intent_id = i.id)
         AND ((i.id >= ? AND i.id IN (SELECT value FROM json_each(?)))
              OR (i.id < ? AND (i.status_at >= ?
              OR (? = 1 AND (SELECT max(a.id) FROM audit_log a
                               WHERE a.compartment_no = ? AND a.action = 'unlock.sent' AND json_extract(a.detail, '$.intentId') = i.id)
                          > (SELECT coalesce(max(b.id), 0) FROM audit_log b WHERE b.compartment_no = ? AND b.action LIKE 'door.%')))))
       ORDER BY i.id DESC LIMIT ?`,
  )
    .all(
      args.compartmentNo,
      args.inProcess?.fromId ?? Number.MAX_SAFE_INTEGER,
      JSON.stringify(args.inProcess?.explaining ?? []),
      args.inProcess?.fromId ?? Number.MAX_SAFE_INTEGER,
      explainsOpeningSince(now, policy, { ageMs: args.ageMs === undefined ? 0 : args.ageMs, doorRecordedAt }),
      firstReading,
      args.compartmentNo,
      args.compartmentNo,
      limit,
    )
    .map((r) => r.id);
}

/** What `recordHiddenOpenings` recorded. */
export interface HiddenOpeningsOutcome {
  /** The unlocks the openings were attributed to, one opening each. */
  readonly explainedBy: readonly number[];
  /** Openings no unlock explains: raise the tamper alarm. */
  readonly unexplained: number;
}

/**
 * Records door openings a version 2 board counted that no DOOR event reported (PROTOCOL.md §21.3), in one
 * transaction: each is a door fact like any other — an opening and a closing (in the order that leaves the door as it
 * is recorded now), the opening attributed to an unlock by the unlock policy (`attributeHiddenOpenings`) or to none —
 * and an audit row, 'door.opened_by_count' or, when no unlock explains it, 'door.opened_by_count_unexplained'.
 * `ageMs`: how long before now the openings may have happened (the board's counts were compared over that interval).
 */
export function recordHiddenOpenings(
  ctx: StoreContext,
  args: { compartmentNo: number; count: number; ageMs: number | null; inProcess?: { fromId: number; explaining: readonly number[] } },
  policy: UnlockPolicy = DEFAULT_UNLOCK_POLICY,
): HiddenOpeningsOutcome {
  if (!Number.isInteger(args.count) || args.count < 1)
    throw new CabinetError('VALIDATION', `a count of openings must be a whole number from 1, not ${args.count}`);
  return inTransaction(ctx.db, () => {
    const now = ctx.now();
    const comp = stmt<[number], { door: DoorState; door_at: number | null; request_id: number | null }>(
      ctx.db,
      'SELECT door, door_at, request_id FROM compartments WHERE no = ?',
    ).get(args.compartmentNo);
    if (!comp) throw new CabinetError('NOT_FOUND', `no compartment ${args.compartmentNo}`, { compartmentNo: args.compartmentNo });
    const verdict = attributeHiddenOpenings(args.count, explainingIntents(ctx, args, comp.door_at, now, policy, args.count));
    const insert = stmt(ctx.db, 'INSERT INTO door_events (compartment_no, door, source, intent_id, at) VALUES (?, ?, ?, ?, ?)');
    const intents: (number | null)[] = [...verdict.explainedBy, ...new Array<null>(verdict.unexplained).fill(null)];
    for (const intentId of intents) {
      // Opened and shut again (or, for a door open now, shut and opened again): the door ends as it is recorded.
      const pair: [DoorState, number | null][] =
        comp.door === 'open'
          ? [
              ['closed', null],
              ['open', intentId],
            ]
          : [
              ['open', intentId],
              ['closed', null],
            ];
      for (const [door, intent] of pair) insert.run(args.compartmentNo, door, 'poll', intent, now);
      appendAudit(ctx.db, now, {
        actor: { kind: 'system', id: null },
        action: intentId === null ? 'door.opened_by_count_unexplained' : 'door.opened_by_count',
        compartmentNo: args.compartmentNo,
        requestId: comp.request_id,
        detail: { source: 'count', ageMs: args.ageMs, ...(intentId !== null ? { intentId } : {}) },
      });
    }
    return verdict;
  });
}

/** A version 2 board's door-opening counts as of a STATUS (PROTOCOL.md §21), kept across restarts of the controller. */
export interface OpeningsBaseline {
  readonly addr: number;
  readonly protocol: 2;
  readonly firmware: string;
  readonly eventCounter: number;
  /** Per channel, 0-255: the board's count less the openings still to be confirmed then. */
  readonly counts: readonly number[];
}

/** A kept baseline with the door changes recorded since it was written, per compartment (openings and closings). */
export interface KeptOpeningsBaseline extends OpeningsBaseline {
  readonly recordedSince: ReadonlyMap<number, { opened: number; closed: number }>;
}

/**
 * Records what two STATUS replies of a version 2 board found, in ONE transaction: the openings found by count
 * (`recordHiddenOpenings` each) and the board's new baseline, written with the position of the door record it goes
 * with (the last door change written, these openings included). A crash before the commit leaves the old baseline
 * and its older position: every opening recorded since is taken as on record at the next start, nothing twice.
 */
export function recordCountedOpenings(
  ctx: StoreContext,
  args: {
    found: readonly { compartmentNo: number; count: number; ageMs: number | null }[];
    baseline: OpeningsBaseline | null;
    inProcess?: (ageMs: number | null) => { fromId: number; explaining: readonly number[] } | undefined;
  },
  policy: UnlockPolicy = DEFAULT_UNLOCK_POLICY,
): { compartmentNo: number; outcome: HiddenOpeningsOutcome }[] {
  const b = args.baseline;
  if (
    b &&
    (!Number.isInteger(b.eventCounter) ||
      b.eventCounter < 0 ||
      b.eventCounter > 0xffff ||
      b.counts.some((n) => !Number.isInteger(n) || n < 0 || n > 255))
  )
    throw new CabinetError('VALIDATION', `not a baseline of door-opening counts: ${JSON.stringify(b)}`);
  return inTransaction(ctx.db, () => {
    const outcomes = args.found.map((f) => {
      const inProcess = args.inProcess?.(f.ageMs);
      return {
        compartmentNo: f.compartmentNo,
        outcome: recordHiddenOpenings(
          ctx,
          { compartmentNo: f.compartmentNo, count: f.count, ageMs: f.ageMs, ...(inProcess ? { inProcess } : {}) },
          policy,
        ),
      };
    });
    if (b) {
      const last = stmt<[], { id: number | null }>(ctx.db, 'SELECT max(id) AS id FROM door_events').get();
      stmt(
        ctx.db,
        `INSERT INTO board_openings (addr, protocol, firmware, event_counter, counts, door_event_id, at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (addr) DO UPDATE SET protocol = excluded.protocol, firmware = excluded.firmware, event_counter = excluded.event_counter,
             counts = excluded.counts, door_event_id = excluded.door_event_id, at = excluded.at`,
      ).run(b.addr, b.protocol, b.firmware, b.eventCounter, JSON.stringify(b.counts), last?.id ?? 0, ctx.now());
    }
    return outcomes;
  });
}

/**
 * Door changes after a position in the door record, per compartment. NOT INDEXED: read as a range of ids from the
 * position on (the GROUP BY would otherwise walk the compartment index, the whole door history, at every start).
 */
export const DOOR_CHANGES_SINCE = `SELECT compartment_no AS no, sum(door = 'open') AS opened, sum(door = 'closed') AS closed
  FROM door_events NOT INDEXED WHERE id > ? GROUP BY compartment_no`;

/**
 * The baselines kept for version 2 boards, each with the door changes recorded after it (read by id from its
 * position on: the changes since, not the compartment's whole history).
 */
export function keptOpeningsBaselines(ctx: StoreContext): KeptOpeningsBaseline[] {
  const rows = stmt<[], { addr: number; firmware: string; event_counter: number; counts: string; door_event_id: number }>(
    ctx.db,
    'SELECT addr, firmware, event_counter, counts, door_event_id FROM board_openings ORDER BY addr',
  ).all();
  return rows.map((r) => {
    const since = stmt<[number], { no: number; opened: number; closed: number }>(ctx.db, DOOR_CHANGES_SINCE).all(r.door_event_id);
    return {
      addr: r.addr,
      protocol: 2 as const,
      firmware: r.firmware,
      eventCounter: r.event_counter,
      counts: JSON.parse(r.counts) as number[],
      recordedSince: new Map(since.map((x) => [x.no, { opened: x.opened, closed: x.closed }])),
    };
  });
}

export function listDoorFacts(ctx: StoreContext, compartmentNo: number, limit = 50): DoorFact[] {
  return stmt<
    [number, number],
    { id: number; compartment_no: number; door: DoorState; source: DoorFactSource; intent_id: number | null; at: number }
  >(ctx.db, 'SELECT * FROM door_events WHERE compartment_no = ? ORDER BY id DESC LIMIT ?')
    .all(compartmentNo, limit)
    .map((r) => ({ id: r.id, compartmentNo: r.compartment_no, door: r.door, source: r.source, intentId: r.intent_id, at: r.at }));
}

/** The id the next unlock intent will get: every intent written from now on has an id at least this. */
export function firstIntentIdFromNow(ctx: StoreContext): number {
  return (stmt<[], { n: number | null }>(ctx.db, 'SELECT max(id) AS n FROM unlock_intents').get()?.n ?? 0) + 1;
}

/** The newest unlock of a compartment, whatever its status (start-up: which operation was cut off there). */
export function latestIntentOf(ctx: StoreContext, compartmentNo: number): UnlockIntent | null {
  const r = stmt<[number], Row>(ctx.db, 'SELECT * FROM unlock_intents WHERE compartment_no = ? ORDER BY id DESC LIMIT 1').get(compartmentNo);
  return r ? toIntent(r) : null;
}

/**
 * How an opening nobody saw happen is recorded (audit actions, beside the door facts of door_events):
 *   door.opened_unseen     the door did open for this unlock — the compartment's record or its item sensor proves it —
 *                          but no door fact of it was written (the controller was stopped, or could not write then)
 *   door.may_have_opened   the unlock went out (or may have) and nothing shows whether the door opened: with version 1 of
 *                          the protocol a door that opens and shuts again while nobody listens leaves no trace
 */
export type UnseenOpening = 'door.opened_unseen' | 'door.may_have_opened';

/**
 * Whether an opening of this unlock's compartment is already on record: a door fact attributed to the unlock, or an
 * opening of the compartment (a door fact, one proven unseen, and with `possible` one recorded as possible) recorded
 * after the unlock was decided — in the order the rows were written (the audit log's ids), not by their times: a wall
 * clock set back between an earlier opening and this unlock must not make that opening this unlock's.
 */
export function openingOnRecord(ctx: StoreContext, intent: Pick<UnlockIntent, 'id' | 'compartmentNo'>, opts: { possible?: boolean } = {}): boolean {
  if (stmt<[number], { n: number }>(ctx.db, `SELECT count(*) AS n FROM door_events WHERE intent_id = ? AND door = 'open'`).get(intent.id)!.n > 0)
    return true;
  return (
    stmt<[number, number, number, number], { id: number }>(
      ctx.db,
      `SELECT a.id FROM audit_log a
         WHERE a.compartment_no = ?
           AND (a.action IN ('door.open', 'door.opened_unexplained', 'door.opened_unseen', 'door.opened_by_count', 'door.opened_by_count_unexplained') OR (? = 1 AND a.action = 'door.may_have_opened'))
           AND a.id > coalesce((SELECT b.id FROM audit_log b
                                  WHERE b.compartment_no = ? AND b.action = 'unlock.intended' AND json_extract(b.detail, '$.intentId') = ?
                                  ORDER BY b.id DESC LIMIT 1), 0)
         LIMIT 1`,
    ).get(intent.compartmentNo, opts.possible ? 1 : 0, intent.compartmentNo, intent.id) !== undefined
  );
}

/** Records an opening that no door fact recorded (see UnseenOpening), once per unlock. False when one was on record. */
export function recordUnseenOpening(
  ctx: StoreContext,
  args: { intent: Pick<UnlockIntent, 'id' | 'compartmentNo' | 'requestId'>; action: UnseenOpening; evidence: string },
): boolean {
  return inTransaction(ctx.db, () => {
    if (openingOnRecord(ctx, args.intent, { possible: true })) return false;
    appendAudit(ctx.db, ctx.now(), {
      actor: { kind: 'system', id: null },
      action: args.action,
      compartmentNo: args.intent.compartmentNo,
      requestId: args.intent.requestId,
      detail: { intentId: args.intent.id, evidence: args.evidence },
    });
    return true;
  });
}
