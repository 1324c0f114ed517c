/**
 * Compartments: numbers 1..N mapped to board address + channel, their state and their contents.
 *
 *   free ──reserve──▶ reserved ──▶ opening ──▶ open ──▶ occupied / free / reserved
 *                                     │                    │
 *                                     └──▶ fault ◀─────────┘        (disabled: taken out of service, empty)
 *
 * The state says what the controller believes; `door` is the last door state the board reported (see
 * unlocks.ts). Contents (request + direction) are kept while the compartment is opening / open / fault, so a
 * crash or fault never loses track of what is inside.
 */
import { CabinetError } from '../errors.js';
import { COMPARTMENT_STATES, decideCompartmentChange, type CompartmentState } from '../domain/compartment-states.js';
import type { RequestState } from '../domain/request-states.js';
import type { Actor } from '../domain/types.js';
import { appendAudit } from './audit.js';
import type { StoreContext } from './context.js';
import { inTransaction, stmt } from './db.js';
import type { DoorOutcome } from './requests.js';
import type { Said } from '../words/keys.js';

export { COMPARTMENT_STATES, COMPARTMENT_TRANSITIONS, type CompartmentState } from '../domain/compartment-states.js';
/** for_resident: a document waiting to be collected. for_staff: materials a resident dropped off. */
export type Direction = 'for_resident' | 'for_staff';
export type DoorState = 'open' | 'closed' | 'unknown';

export interface Contents {
  readonly requestId: number;
  readonly direction: Direction;
}

export interface Compartment {
  readonly no: number;
  readonly boardAddress: number;
  readonly channel: number;
  readonly state: CompartmentState;
  readonly contents: Contents | null;
  readonly faultReason: string | null;
  readonly door: DoorState;
  readonly doorAt: number | null;
  readonly updatedAt: number;
}

interface Row {
  no: number;
  board_addr: number;
  channel: number;
  state: CompartmentState;
  request_id: number | null;
  direction: Direction | null;
  fault_reason: string | null;
  door: DoorState;
  door_at: number | null;
  updated_at: number;
}

function toCompartment(r: Row): Compartment {
  return {
    no: r.no,
    boardAddress: r.board_addr,
    channel: r.channel,
    state: r.state,
    contents: r.request_id !== null && r.direction !== null ? { requestId: r.request_id, direction: r.direction } : null,
    faultReason: r.fault_reason,
    door: r.door,
    doorAt: r.door_at,
    updatedAt: r.updated_at,
  };
}

// ---------------------------------------------------------------------------------------------
// Layout
// ---------------------------------------------------------------------------------------------

export interface LayoutEntry {
  readonly no: number;
  readonly boardAddress: number;
  readonly channel: number;
}

/**
 * `boards` boards of `channelsPerBoard` each, numbered on from 1: layoutGrid(1, 24) is one 24-channel board,
 * layoutGrid(2, 12) two boards (addresses 1 and 2) of 12.
 */
export function layoutGrid(boards: number, channelsPerBoard: number, firstAddress = 1): LayoutEntry[] {
  if (!Number.isInteger(boards) || boards < 1 || firstAddress < 1 || firstAddress + boards - 1 > 31) {
    throw new CabinetError('VALIDATION', 'board addresses must be within 1..31');
  }
  if (!Number.isInteger(channelsPerBoard) || channelsPerBoard < 1 || channelsPerBoard > 48) {
    throw new CabinetError('VALIDATION', 'channels per board must be within 1..48');
  }
  const out: LayoutEntry[] = [];
  for (let b = 0; b < boards; b++) {
    for (let c = 1; c <= channelsPerBoard; c++) out.push({ no: out.length + 1, boardAddress: firstAddress + b, channel: c });
  }
  return out;
}

function checkLayout(layout: readonly LayoutEntry[]): void {
  const nos = new Set<number>();
  const places = new Set<string>();
  for (const e of layout) {
    if (!Number.isInteger(e.no) || e.no < 1) throw new CabinetError('VALIDATION', `bad compartment number ${e.no}`);
    if (nos.has(e.no)) throw new CabinetError('VALIDATION', `compartment ${e.no} appears twice in the layout`);
    const place = `${e.boardAddress}/${e.channel}`;
    if (places.has(place)) throw new CabinetError('VALIDATION', `board ${e.boardAddress} channel ${e.channel} appears twice in the layout`);
    if (e.boardAddress < 1 || e.boardAddress > 31 || e.channel < 1 || e.channel > 48) {
      throw new CabinetError('VALIDATION', `compartment ${e.no}: board 1..31 and channel 1..48 required`);
    }
    nos.add(e.no);
    places.add(place);
  }
}

/**
 * Makes the compartments table match the configured layout. New numbers are added as free; a moved or removed
 * compartment must be free or disabled (LAYOUT_CONFLICT otherwise). Removed ones that history still refers to
 * are kept as disabled (their wiring no longer counts towards uniqueness). Idempotent: applying the same layout again changes nothing.
 */
export function applyLayout(ctx: StoreContext, layout: readonly LayoutEntry[], actor: Actor): { added: number; moved: number; removed: number } {
  checkLayout(layout);
  return inTransaction(ctx.db, () => {
    const now = ctx.now();
    const existing = new Map(listCompartments(ctx).map((c) => [c.no, c]));
    const wanted = new Map(layout.map((e) => [e.no, e]));
    let added = 0,
      moved = 0,
      removed = 0;
    const idle = (c: Compartment) => c.state === 'free' || c.state === 'disabled';
    for (const [no, c] of existing) {
      const w = wanted.get(no);
      const changes = !w || w.boardAddress !== c.boardAddress || w.channel !== c.channel;
      if (changes && !idle(c)) {
        throw new CabinetError('LAYOUT_CONFLICT', `compartment ${no} is ${c.state}: empty it before changing the layout`, { compartmentNo: no });
      }
    }
    // Moves happen in two steps so that swapping two wirings never trips the (board, channel) uniqueness, which
    // only covers compartments that are not disabled: park every moved row as disabled, then place it.
    const movedRows = layout.filter((e) => {
      const c = existing.get(e.no);
      return c !== undefined && (c.boardAddress !== e.boardAddress || c.channel !== e.channel);
    });
    for (const e of movedRows) stmt(ctx.db, `UPDATE compartments SET state = 'disabled' WHERE no = ?`).run(e.no);
    for (const [no] of existing) {
      if (wanted.has(no)) continue;
      const referenced = stmt<[number, number, number], { n: number }>(
        ctx.db,
        `SELECT (SELECT count(*) FROM requests WHERE compartment_no = ?) + (SELECT count(*) FROM unlock_intents WHERE compartment_no = ?)
                + (SELECT count(*) FROM door_events WHERE compartment_no = ?) AS n`,
      ).get(no, no, no);
      if ((referenced?.n ?? 0) > 0) {
        // history refers to it: keep the row, out of service
        stmt(ctx.db, `UPDATE compartments SET state = 'disabled', updated_at = ? WHERE no = ?`).run(now, no);
      } else {
        stmt(ctx.db, 'DELETE FROM compartments WHERE no = ?').run(no);
      }
      removed++;
    }
    for (const e of movedRows) {
      const before = existing.get(e.no);
      stmt(ctx.db, 'UPDATE compartments SET board_addr = ?, channel = ?, state = ?, updated_at = ? WHERE no = ?').run(
        e.boardAddress,
        e.channel,
        before?.state ?? 'free',
        now,
        e.no,
      );
      moved++;
    }
    for (const e of layout) {
      if (existing.has(e.no)) continue;
      stmt(ctx.db, `INSERT INTO compartments (no, board_addr, channel, updated_at) VALUES (?, ?, ?, ?)`).run(e.no, e.boardAddress, e.channel, now);
      added++;
    }
    if (added + moved + removed > 0) {
      appendAudit(ctx.db, now, { actor, action: 'cabinet.layout_applied', detail: { added, moved, removed, total: layout.length } });
    }
    return { added, moved, removed };
  });
}

// ---------------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------------

export function listCompartments(ctx: StoreContext): Compartment[] {
  return stmt<[], Row>(ctx.db, 'SELECT * FROM compartments ORDER BY no').all().map(toCompartment);
}

export function getCompartment(ctx: StoreContext, no: number): Compartment | null {
  const r = stmt<[number], Row>(ctx.db, 'SELECT * FROM compartments WHERE no = ?').get(no);
  return r ? toCompartment(r) : null;
}

export function requireCompartment(ctx: StoreContext, no: number): Compartment {
  const c = getCompartment(ctx, no);
  if (!c) throw new CabinetError('NOT_FOUND', `no compartment ${no}`, { compartmentNo: no });
  return c;
}

export function compartmentOfRequest(ctx: StoreContext, requestId: number): Compartment | null {
  const r = stmt<[number], Row>(ctx.db, 'SELECT * FROM compartments WHERE request_id = ?').get(requestId);
  return r ? toCompartment(r) : null;
}

export function countByState(ctx: StoreContext): Record<CompartmentState, number> {
  const out = Object.fromEntries(COMPARTMENT_STATES.map((s) => [s, 0])) as Record<CompartmentState, number>;
  for (const r of stmt<[], { state: CompartmentState; n: number }>(ctx.db, 'SELECT state, count(*) AS n FROM compartments GROUP BY state').all()) {
    out[r.state] = r.n;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Changes
// ---------------------------------------------------------------------------------------------

/**
 * Reserves a free compartment for a request (the lowest free number, or `preferredNo` if that one is free) and
 * links the request to it. Returns null when none is free: a full cabinet is a normal answer, not an error.
 */
export function reserveCompartment(
  ctx: StoreContext,
  args: { requestId: number; direction: Direction; preferredNo?: number },
  actor: Actor,
): Compartment | null {
  return inTransaction(ctx.db, () => {
    const now = ctx.now();
    const held = compartmentOfRequest(ctx, args.requestId);
    if (held) {
      throw new CabinetError('COMPARTMENT_STATE', `request #${args.requestId} already holds compartment ${held.no}`, {
        requestId: args.requestId,
        compartmentNo: held.no,
      });
    }
    const pick =
      (args.preferredNo !== undefined
        ? stmt<[number], { no: number }>(ctx.db, `SELECT no FROM compartments WHERE no = ? AND state = 'free'`).get(args.preferredNo)
        : undefined) ?? stmt<[], { no: number }>(ctx.db, `SELECT no FROM compartments WHERE state = 'free' ORDER BY no LIMIT 1`).get();
    if (!pick) return null;
    stmt(ctx.db, `UPDATE compartments SET state = 'reserved', request_id = ?, direction = ?, updated_at = ? WHERE no = ? AND state = 'free'`).run(
      args.requestId,
      args.direction,
      now,
      pick.no,
    );
    const r = stmt(ctx.db, 'UPDATE requests SET compartment_no = ?, updated_at = ? WHERE id = ?').run(pick.no, now, args.requestId);
    if (r.changes !== 1) throw new CabinetError('NOT_FOUND', `no request #${args.requestId}`, { requestId: args.requestId });
    appendAudit(ctx.db, now, {
      actor,
      action: 'compartment.reserved',
      compartmentNo: pick.no,
      requestId: args.requestId,
      detail: { direction: args.direction },
    });
    return requireCompartment(ctx, pick.no);
  });
}

export interface CompartmentChange {
  readonly to: CompartmentState;
  readonly actor: Actor;
  /** Required when going to fault. */
  readonly faultReason?: string;
  /** Empty the compartment (required for free/disabled; optional otherwise). */
  readonly clearContents?: boolean;
  /** Refuse unless the compartment is in this state now (guards against a concurrent change). */
  readonly expectFrom?: CompartmentState;
  /** Free-form, non-secret, for the audit row: what a staff member typed (detail.note). */
  readonly note?: string;
  /**
   * What the system notes on the change, as a key of the word catalogue and its parameters (detail.noteKey and
   * detail.noteParams): the screens say it in their language.
   */
  readonly said?: Said;
  /**
   * How the resident's door closed, when it closed the wrong way: recorded on the request the compartment holds
   * (requests.ts lastDoorNotice). Every door change of that request (open, occupied, free) records it, so an opening
   * clears it.
   */
  readonly doorOutcome?: DoorOutcome;
}

/** The changes that tell how a resident's door went: it opened, or it closed with or without something inside. */
const DOOR_CHANGES: ReadonlySet<CompartmentState> = new Set(['open', 'occupied', 'free']);

/** Moves a compartment to another state as the domain table (domain/compartment-states.ts) allows, with its audit row. */
export function transitionCompartment(ctx: StoreContext, no: number, change: CompartmentChange): Compartment {
  return inTransaction(ctx.db, () => {
    const now = ctx.now();
    const c = requireCompartment(ctx, no);
    if (change.expectFrom !== undefined && c.state !== change.expectFrom) {
      throw new CabinetError('COMPARTMENT_STATE', `compartment ${no} is ${c.state}, expected ${change.expectFrom}`, {
        compartmentNo: no,
        state: c.state,
      });
    }
    const holding = c.contents
      ? {
          requestState:
            stmt<[number], { state: RequestState }>(ctx.db, 'SELECT state FROM requests WHERE id = ?').get(c.contents.requestId)?.state ?? null,
        }
      : null;
    const decision = decideCompartmentChange({
      from: c.state,
      to: change.to,
      clearContents: change.clearContents === true,
      faultReason: change.faultReason,
      holding: holding?.requestState ? { requestState: holding.requestState } : null,
    });
    if (!decision.ok) {
      const r = decision.refusal;
      if (r.code === 'FAULT_REASON') throw new CabinetError('REASON_REQUIRED', `compartment ${no}: a fault needs a reason`, { compartmentNo: no });
      const why =
        r.code === 'TRANSITION'
          ? `${c.state} → ${change.to} is not allowed`
          : r.code === 'NEEDS_CONTENTS'
            ? `${change.to} needs contents`
            : `request #${c.contents?.requestId} is ${r.requestState}: what it holds stays recorded`;
      throw new CabinetError('COMPARTMENT_STATE', `compartment ${no}: ${why}`, { compartmentNo: no, state: c.state, to: change.to });
    }
    const clear = decision.clear;
    stmt(
      ctx.db,
      `UPDATE compartments SET state = ?, fault_reason = ?, updated_at = ?,
           request_id = CASE WHEN ? THEN NULL ELSE request_id END, direction = CASE WHEN ? THEN NULL ELSE direction END
         WHERE no = ?`,
    ).run(change.to, change.to === 'fault' ? (change.faultReason?.trim() ?? null) : null, now, clear ? 1 : 0, clear ? 1 : 0, no);
    appendAudit(ctx.db, now, {
      actor: change.actor,
      action: change.to === 'fault' ? 'compartment.fault' : `compartment.${change.to}`,
      compartmentNo: no,
      requestId: c.contents?.requestId ?? null,
      detail: {
        from: c.state,
        to: change.to,
        ...(change.to === 'fault' ? { reason: change.faultReason?.trim() } : {}),
        ...(clear && c.contents ? { cleared: true } : {}),
        ...(change.note ? { note: change.note } : {}),
        ...(change.said ? { noteKey: change.said.key, ...(change.said.params ? { noteParams: { ...change.said.params } } : {}) } : {}),
        ...(change.doorOutcome ? { doorOutcome: change.doorOutcome } : {}),
      },
    });
    if (c.contents && DOOR_CHANGES.has(change.to)) {
      stmt(ctx.db, 'UPDATE requests SET door_outcome = ? WHERE id = ?').run(change.doorOutcome ?? null, c.contents.requestId);
    }
    return requireCompartment(ctx, no);
  });
}
