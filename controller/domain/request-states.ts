/**
 * The request life cycle as one explicit table: event → allowed from-states → to-state (+ who may do it).
 * Pure: no database. `controller/store/requests.ts` applies it inside a transaction with the side effects
 * (credentials, notifications, audit).
 *
 *   document only:   submitted → accepted → ready → loading → loaded → (overdue) → collected | retrieved
 *   with materials:  awaiting_materials → depositing → materials_deposited → materials_retrieved → accepted → …
 *
 * Differences from the first sketch, on purpose:
 * - `depositing` mirrors `loading`: a resident's door is open and materials are going in. A crash or an aborted
 *   drop-off while it is open is then visible (`deposit_aborted` goes back to awaiting_materials), as for loading.
 *   `deposit` is therefore depositing → materials_deposited.
 * - Retrieving a document that is not yet overdue is a separate event, `admin_retrieve`, so "admins only" is
 *   a property of one table row rather than of a from-state.
 * - `request_materials` lets staff ask for materials on a request that was submitted without them.
 */
import { CabinetError } from '../errors.js';
import type { ActorKind } from './types.js';

export const REQUEST_STATES = [
  'submitted',
  'awaiting_materials',
  'depositing',
  'materials_deposited',
  'materials_retrieved',
  'accepted',
  'rejected',
  'ready',
  'loading',
  'loaded',
  'overdue',
  'collected',
  'retrieved',
  'cancelled',
] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

/** No event leaves these. */
export const TERMINAL_STATES: readonly RequestState[] = ['rejected', 'collected', 'retrieved', 'cancelled'];

/** A document is in a compartment waiting for the resident: the pickup code is valid in these states only. */
export const WAITING_FOR_RESIDENT: readonly RequestState[] = ['loaded', 'overdue'];

export interface TransitionRule {
  readonly from: readonly RequestState[];
  readonly to: RequestState;
  /** Actor kinds allowed to cause this event. */
  readonly actors: readonly ActorKind[];
  /** A non-empty reason must be given (it is stored on the request and shown to the resident). */
  readonly needsReason?: boolean;
  /** Only a staff member with the admin role. */
  readonly adminOnly?: boolean;
  /** A compartment must be reserved for the request (the door is about to open). */
  readonly needsCompartment?: boolean;
}

export const TRANSITIONS = {
  request_materials: { from: ['submitted'], to: 'awaiting_materials', actors: ['staff'] },
  accept: { from: ['submitted', 'materials_retrieved'], to: 'accepted', actors: ['staff'] },
  reject: {
    from: ['submitted', 'awaiting_materials', 'materials_retrieved', 'accepted'],
    to: 'rejected',
    actors: ['staff'],
    needsReason: true,
  },
  start_deposit: {
    from: ['awaiting_materials'],
    to: 'depositing',
    actors: ['resident', 'kiosk'],
    needsCompartment: true,
  },
  deposit: { from: ['depositing'], to: 'materials_deposited', actors: ['resident', 'kiosk', 'system'] },
  deposit_aborted: { from: ['depositing'], to: 'awaiting_materials', actors: ['resident', 'kiosk', 'system'] },
  retrieve_materials: { from: ['materials_deposited'], to: 'materials_retrieved', actors: ['staff'] },
  mark_ready: { from: ['accepted'], to: 'ready', actors: ['staff'] },
  start_load: { from: ['ready'], to: 'loading', actors: ['staff'], needsCompartment: true },
  load_done: { from: ['loading'], to: 'loaded', actors: ['staff', 'system'] },
  load_aborted: { from: ['loading'], to: 'ready', actors: ['staff', 'system'] },
  mark_overdue: { from: ['loaded'], to: 'overdue', actors: ['system'] },
  collect: { from: ['loaded', 'overdue'], to: 'collected', actors: ['resident', 'kiosk', 'system'] },
  retrieve: { from: ['overdue'], to: 'retrieved', actors: ['staff'] },
  admin_retrieve: { from: ['loaded'], to: 'retrieved', actors: ['staff'], adminOnly: true },
  // From loading / depositing only while no door is open for the request (the store checks): a way out of a
  // drop-off or load that nothing else will finish. A document or materials inside are retrieved instead.
  cancel: {
    from: ['submitted', 'awaiting_materials', 'depositing', 'accepted', 'ready', 'loading', 'materials_retrieved'],
    to: 'cancelled',
    actors: ['resident', 'staff'],
  },
} as const satisfies Record<string, TransitionRule>;

export type RequestEvent = keyof typeof TRANSITIONS;
export const REQUEST_EVENTS = Object.keys(TRANSITIONS) as RequestEvent[];

export function ruleOf(event: RequestEvent): TransitionRule {
  return TRANSITIONS[event];
}

/** The state `event` leads to from `from`, or null when the table does not allow it. */
export function nextState(from: RequestState, event: RequestEvent): RequestState | null {
  const rule: TransitionRule = TRANSITIONS[event];
  return rule.from.includes(from) ? rule.to : null;
}

/** Events that may happen in `state` (for UIs: which buttons to show). */
export function eventsFrom(state: RequestState): RequestEvent[] {
  return REQUEST_EVENTS.filter((e) => nextState(state, e) !== null);
}

export function isRequestState(s: string): s is RequestState {
  return (REQUEST_STATES as readonly string[]).includes(s);
}

export function isRequestEvent(s: string): s is RequestEvent {
  return Object.prototype.hasOwnProperty.call(TRANSITIONS, s);
}

/** Names the request (id and number), the event and the state it was in. */
export class TransitionError extends CabinetError {
  constructor(
    readonly requestId: number,
    readonly requestNo: string,
    readonly event: RequestEvent,
    readonly from: RequestState,
    code: 'TRANSITION_NOT_ALLOWED' | 'ACTOR_NOT_ALLOWED' | 'REASON_REQUIRED' = 'TRANSITION_NOT_ALLOWED',
    detail?: string,
  ) {
    super(code, `request ${requestNo} (#${requestId}): event "${event}" is not allowed in state "${from}"` + (detail ? `: ${detail}` : ''), {
      requestId,
      requestNo,
      event,
      from,
    });
    this.name = 'TransitionError';
  }
}

export interface TransitionSubject {
  readonly id: number;
  readonly number: string;
  readonly state: RequestState;
}

/**
 * Checks `event` against the table for this request and actor; returns the new state or throws TransitionError.
 * The admin role cannot be seen from an ActorKind: the store checks `adminOnly` against the staff table.
 */
export function applyTransition(request: TransitionSubject, event: RequestEvent, actorKind?: ActorKind, reason?: string | null): RequestState {
  const rule: TransitionRule = TRANSITIONS[event];
  const to = nextState(request.state, event);
  if (to === null) throw new TransitionError(request.id, request.number, event, request.state);
  if (actorKind !== undefined && !rule.actors.includes(actorKind)) {
    throw new TransitionError(request.id, request.number, event, request.state, 'ACTOR_NOT_ALLOWED', `actor kind "${actorKind}" may not cause it`);
  }
  if (rule.needsReason && !(reason && reason.trim().length > 0)) {
    throw new TransitionError(request.id, request.number, event, request.state, 'REASON_REQUIRED', 'a reason is required');
  }
  return to;
}
