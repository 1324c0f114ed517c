/** Small shared domain types. */

/** Milliseconds since the Unix epoch. Injected everywhere time matters, so tests control it. */
export type Clock = () => number;
export const systemClock: Clock = () => Date.now();

export const ACTOR_KINDS = ['staff', 'resident', 'system', 'kiosk'] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

/**
 * Who did something. `id` is the staff id, resident id or kiosk device id as text; null for the system.
 * Never a name or phone number: audit rows outlive personal data.
 */
export interface Actor {
  readonly kind: ActorKind;
  readonly id: string | null;
}

export const SYSTEM_ACTOR: Actor = Object.freeze({ kind: 'system', id: null });
export const staffActor = (staffId: number): Actor => ({ kind: 'staff', id: String(staffId) });
export const residentActor = (residentId: number): Actor => ({ kind: 'resident', id: String(residentId) });
export const kioskActor = (deviceId: string): Actor => ({ kind: 'kiosk', id: deviceId });

/** The actor stored on a row (kind + id) as an Actor; an unknown kind reads as the system. */
export function actorFromRow(kind: string, id: string | null): Actor {
  return (ACTOR_KINDS as readonly string[]).includes(kind) ? { kind: kind as ActorKind, id } : SYSTEM_ACTOR;
}

/** What an alarm is about. Stored as text (migration 3 checks only its form, so a new kind needs no migration). */
export const ALARM_KINDS = [
  'tamper', // a door opened with no unlock to explain it
  'door_not_opened', // unlocked (acknowledged) but the door never opened
  'door_left_open', // a door stayed open too long
  'item_not_taken', // a pickup door closed with the document still inside
  'item_left_behind', // an item found where none should be
  'item_missing', // an item recorded inside is gone
  'materials_deposited', // a resident dropped off materials: staff should take them out
  'compartment_fault',
  'link_offline',
  'board_rebooted',
  'reconcile', // a finding of the start-up reconciliation
  'storage', // the database cannot be written (disk full, read-only, I/O error) or is damaged: out of service
  'flow_failed', // a door flow stopped on an unexpected error; start-up reconciliation finishes its rows
] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];
