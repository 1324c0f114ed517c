/**
 * The controller's typed event bus: what the flows and the board driver tell the screens.
 * The WebSocket channels (kiosk, staff) send a snapshot on connect and then these events.
 * Nothing secret travels here: no pickup codes, no QR tokens, no ID numbers.
 */
import { EventEmitter } from 'node:events';

export type AlarmKind =
  | 'tamper' // a door opened with no unlock to explain it
  | 'door_not_opened' // unlocked (acknowledged) but the door never opened
  | 'door_left_open' // a door stayed open too long
  | 'item_not_taken' // a pickup door closed with the document still inside
  | 'item_left_behind' // an item found where none should be
  | 'item_missing' // an item recorded inside is gone
  | 'materials_deposited' // a resident dropped off materials: staff should take them out
  | 'compartment_fault'
  | 'link_offline'
  | 'board_rebooted'
  | 'reconcile'; // a finding of the start-up reconciliation

export interface Alarm {
  id: number;
  kind: AlarmKind;
  at: string;
  message: string;
  compartment?: number;
  requestId?: number;
}

export interface CabinetEvents {
  compartment: [{ no: number; state: string; door: string; requestId: number | null }];
  request: [{ id: number; number: string; state: string; from: string | null }];
  /** A scan arrived and was handled; `outcome` is a short machine word, never the scanned text. */
  scan: [{
    source: 'scanner' | 'kiosk'; kind: 'qr' | 'code'; outcome: string; action?: 'pickup' | 'dropoff' | null; retryAfterMs?: number;
    compartments: number[]; messageZh: string; messageEn: string;
  }];
  alarm: [Alarm];
  link: [{ state: string; reason?: string }];
}

export class EventBus extends EventEmitter<CabinetEvents> {
  private nextAlarmId = 1;
  private readonly recent: Alarm[] = [];

  /** Raise an alarm: kept in a short list for the staff console's snapshot and published. */
  alarm(kind: AlarmKind, message: string, where: { compartment?: number; requestId?: number } = {}): Alarm {
    const alarm: Alarm = { id: this.nextAlarmId++, kind, at: new Date().toISOString(), message, ...where };
    this.recent.push(alarm);
    if (this.recent.length > 200) this.recent.shift();
    this.emit('alarm', alarm);
    return alarm;
  }

  recentAlarms(): readonly Alarm[] {
    return this.recent;
  }
}
