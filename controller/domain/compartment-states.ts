/**
 * The compartment life cycle as one table, and what a compartment may hold in each state. Pure: no database.
 * `controller/store/compartments.ts` applies it inside a transaction.
 *
 *   free ──reserve──▶ reserved ──▶ opening ──▶ open ──▶ occupied / free / reserved
 *                                     │                    │
 *                                     └──▶ fault ◀─────────┘        (disabled: taken out of service, empty)
 *
 * Contents (the request whose document or materials are inside) follow the request, never the door: a door
 * that will not open, a fault, or a staff member putting the compartment back into service never forgets
 * what is inside. Contents may be let go only when the request no longer has anything in the compartment
 * (collected, retrieved, or its load / drop-off was aborted) — see `mayLetGo`.
 */
import type { RequestState } from './request-states.js';

export const COMPARTMENT_STATES = ['free', 'reserved', 'occupied', 'opening', 'open', 'fault', 'disabled'] as const;
export type CompartmentState = (typeof COMPARTMENT_STATES)[number];

/** Allowed compartment state changes. Restoring after a failed unlock (opening → reserved/occupied/free/fault) is allowed. */
export const COMPARTMENT_TRANSITIONS: Readonly<Record<CompartmentState, readonly CompartmentState[]>> = {
  free: ['reserved', 'opening', 'fault', 'disabled'],
  reserved: ['opening', 'free', 'fault'],
  occupied: ['opening', 'fault'],
  opening: ['open', 'fault', 'free', 'reserved', 'occupied'],
  open: ['occupied', 'free', 'reserved', 'fault'],
  fault: ['free', 'reserved', 'occupied', 'opening', 'disabled'],
  disabled: ['free'],
};

/** States in which the compartment holds nothing on record. */
export const EMPTY_STATES: readonly CompartmentState[] = ['free', 'disabled'];
/** States that need a request on record (something is, or is about to be, inside for it). */
export const HOLDING_STATES: readonly CompartmentState[] = ['reserved', 'occupied'];

/**
 * Request states in which the request has (or is putting) something into its compartment: its contents row
 * must stay. A loading / depositing request is let go only after its load or drop-off was aborted.
 */
export const REQUEST_STATES_IN_COMPARTMENT: readonly RequestState[] = ['loading', 'loaded', 'overdue', 'depositing', 'materials_deposited'];

/** Whether the compartment of a request in this state may forget it (its record of contents be cleared). */
export function mayLetGo(requestState: RequestState | null): boolean {
  return requestState === null || !REQUEST_STATES_IN_COMPARTMENT.includes(requestState);
}

export type CompartmentRefusal =
  | { code: 'TRANSITION'; from: CompartmentState; to: CompartmentState }
  | { code: 'NEEDS_CONTENTS'; to: CompartmentState }
  | { code: 'CONTENTS_HELD'; requestState: RequestState }
  | { code: 'FAULT_REASON' };

export interface CompartmentChangeInput {
  readonly from: CompartmentState;
  readonly to: CompartmentState;
  /** The request on record in the compartment and its state (null: none). */
  readonly holding: { readonly requestState: RequestState } | null;
  /** The caller asks for the contents to be cleared. */
  readonly clearContents: boolean;
  readonly faultReason?: string | undefined;
}

/**
 * Decides one compartment change: allowed (and whether the contents are cleared) or refused with why.
 * Going to free / disabled clears the contents; clearing is refused while the request still has something inside.
 */
export function decideCompartmentChange(c: CompartmentChangeInput): { ok: true; clear: boolean } | { ok: false; refusal: CompartmentRefusal } {
  if (c.from !== c.to && !COMPARTMENT_TRANSITIONS[c.from].includes(c.to))
    return { ok: false, refusal: { code: 'TRANSITION', from: c.from, to: c.to } };
  if (c.to === 'fault' && !c.faultReason?.trim()) return { ok: false, refusal: { code: 'FAULT_REASON' } };
  const clear = c.clearContents || EMPTY_STATES.includes(c.to);
  if (clear && c.holding && !mayLetGo(c.holding.requestState)) {
    return { ok: false, refusal: { code: 'CONTENTS_HELD', requestState: c.holding.requestState } };
  }
  if (HOLDING_STATES.includes(c.to) && (clear || c.holding === null)) return { ok: false, refusal: { code: 'NEEDS_CONTENTS', to: c.to } };
  return { ok: true, clear };
}

/** A compartment put back into service (enabled, or its fault cleared): occupied when it holds a request, else free. */
export function inServiceState(holdsRequest: boolean): CompartmentState {
  return holdsRequest ? 'occupied' : 'free';
}
