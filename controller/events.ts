/**
 * The controller's typed event bus: what the flows and the board driver tell the screens.
 * The WebSocket channels (kiosk, staff) send a snapshot on connect and then these events.
 * Nothing secret travels here: no pickup codes, no QR tokens, no ID numbers.
 */
import { EventEmitter } from 'node:events';
import type { Actor, AlarmKind } from './domain/types.js';
import { paramsText, type AlarmInput, type AlarmRecord } from './store/alarms.js';
import { PRIMARY, say } from './words/catalogue.js';
import type { Said, WordParam } from './words/keys.js';

export type { AlarmKind } from './domain/types.js';

/** An alarm as the screens get it (GET /api/staff/alarms, /ws/staff). */
export interface Alarm {
  /** The alarm's row id when the bus has a store (negative: it could not be stored and cannot be acknowledged). */
  id: number;
  kind: AlarmKind;
  /** first raised (ISO 8601) */
  at: string;
  /** last raised again while open; equals `at` for a single occurrence */
  lastAt: string;
  /** how many times it was raised while open */
  count: number;
  /** What it says: a key of the word catalogue (GET /api/words) and its parameters; null for an alarm stored before alarms had keys. */
  key: string | null;
  params?: Record<string, string | number | number[]>;
  /** Its words in the primary language (for an alarm stored before alarms had keys: as it was raised). */
  message: string;
  compartment?: number;
  requestId?: number;
  /** null while open */
  acknowledged: {
    at: string;
    by: { id: number; name: string };
    /** What the staff member typed; or, when the system ended it (noteKey), those words in the primary language. */
    note: string | null;
    /** What the system noted when it ended the alarm itself: a key of the word catalogue; null for a typed note. */
    noteKey: string | null;
    noteParams?: Record<string, string | number | number[]>;
  } | null;
}

export function alarmView(r: AlarmRecord): Alarm {
  return {
    id: r.id,
    kind: r.kind,
    at: new Date(r.raisedAt).toISOString(),
    lastAt: new Date(r.lastAt).toISOString(),
    count: r.count,
    key: r.said?.key ?? null,
    ...(r.said?.params ? { params: plainParams(r.said.params) } : {}),
    message: r.said ? say(r.said, PRIMARY) : r.message,
    ...(r.compartmentNo !== null ? { compartment: r.compartmentNo } : {}),
    ...(r.requestId !== null ? { requestId: r.requestId } : {}),
    acknowledged:
      r.acknowledgedAt !== null && r.acknowledgedBy !== null
        ? {
            at: new Date(r.acknowledgedAt).toISOString(),
            by: r.acknowledgedBy,
            note: r.noteSaid ? say(r.noteSaid, PRIMARY) : r.note,
            noteKey: r.noteSaid?.key ?? null,
            ...(r.noteSaid?.params ? { noteParams: plainParams(r.noteSaid.params) } : {}),
          }
        : null,
  };
}

/** Parameters as plain JSON values (a copy of each list). */
export function plainParams(p: Readonly<Record<string, WordParam>>): Record<string, string | number | number[]> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, typeof v === 'object' ? [...v] : v]));
}

/** Where the bus keeps alarms: the store (`alarmSink(store.ctx)`) in the controller, memory otherwise. */
export interface AlarmSink {
  /** Record the alarm, or count it again on an identical open one; the row as it stands now. */
  raise(input: AlarmInput): AlarmRecord;
  /** Open ones first (newest first), then acknowledged ones. */
  list(limit: number): AlarmRecord[];
  /** End the open alarms of `kind` about the request: the staff member `actor` did what they asked for. */
  resolve(kind: AlarmKind, requestId: number, actor: Actor, note: Said): AlarmRecord[];
}

/**
 * Alarms in memory, for a bus without a store (unit tests) and for alarms the store refused: the last `keep`,
 * counted again like the store does while open (nothing acknowledges them here). Ids step by `idStep`.
 */
export function memoryAlarmSink(opts: { keep?: number; idStep?: 1 | -1; now?: () => number } = {}): AlarmSink {
  const keep = opts.keep ?? 200;
  const step = opts.idStep ?? 1;
  const now = opts.now ?? Date.now;
  let next = step;
  const rows: AlarmRecord[] = []; // oldest first
  return {
    raise(input) {
      const compartmentNo = input.compartmentNo ?? null;
      const requestId = input.requestId ?? null;
      const at = now();
      const params = paramsText(input.said);
      const i = rows.findIndex(
        (r) =>
          r.kind === input.kind &&
          r.compartmentNo === compartmentNo &&
          r.requestId === requestId &&
          r.said?.key === input.said.key &&
          (r.said ? paramsText(r.said) : null) === params,
      );
      if (i >= 0) {
        const bumped = { ...rows[i]!, count: rows[i]!.count + 1, lastAt: Math.max(rows[i]!.lastAt, at) };
        rows.splice(i, 1);
        rows.push(bumped);
        return bumped;
      }
      const row: AlarmRecord = {
        id: next,
        kind: input.kind,
        said: input.said,
        message: say(input.said),
        compartmentNo,
        requestId,
        raisedAt: at,
        lastAt: at,
        count: 1,
        acknowledgedAt: null,
        acknowledgedBy: null,
        note: null,
        noteSaid: null,
      };
      next += step;
      rows.push(row);
      if (rows.length > keep) rows.shift();
      return row;
    },
    list(limit) {
      return rows.slice(-limit).reverse();
    },
    resolve(kind, requestId, actor, note) {
      const ended: AlarmRecord[] = [];
      rows.forEach((r, i) => {
        if (r.kind !== kind || r.requestId !== requestId || r.acknowledgedAt !== null || actor.kind !== 'staff') return;
        const done: AlarmRecord = { ...r, acknowledgedAt: now(), acknowledgedBy: { id: Number(actor.id), name: '' }, note: null, noteSaid: note };
        rows[i] = done;
        ended.push(done);
      });
      return ended;
    },
  };
}

export interface EventBusOptions {
  /** Where alarms are kept; default: memory. */
  alarms?: AlarmSink;
  /** Told when the sink refuses an alarm (it is then kept in memory and still published). */
  onAlarmStoreError?: (err: unknown, alarm: AlarmInput) => void;
}

export interface CabinetEvents {
  compartment: [{ no: number; state: string; door: string; requestId: number | null }];
  request: [{ id: number; number: string; state: string; from: string | null }];
  /** A scan arrived and was handled; `outcome` is a short machine word, never the scanned text. */
  scan: [
    {
      source: 'scanner' | 'kiosk';
      kind: 'qr' | 'code';
      outcome: string;
      action?: 'pickup' | 'dropoff' | null;
      retryAfterMs?: number;
      compartments: number[];
      /** what the screen may say (the kiosk page has its own words by `outcome`) */
      said: Said;
    },
  ];
  /** raised, or raised again while open (same id, larger count) */
  alarm: [Alarm];
  /** a staff member dealt with it */
  'alarm-ack': [Alarm];
  link: [{ state: string; reason?: string }];
}

export class EventBus extends EventEmitter<CabinetEvents> {
  private readonly sink: AlarmSink;
  /** alarms the sink refused: still shown, with negative ids so they never collide with a stored one */
  private readonly unsaved = memoryAlarmSink({ keep: 50, idStep: -1 });
  private readonly onAlarmStoreError: (err: unknown, alarm: AlarmInput) => void;

  constructor(opts: EventBusOptions = {}) {
    super();
    this.sink = opts.alarms ?? memoryAlarmSink();
    this.onAlarmStoreError = opts.onAlarmStoreError ?? (() => undefined);
  }

  /**
   * Raise an alarm: kept (in the store when the bus has one) and published. An identical alarm that is still
   * open is not kept twice: its count and last time grow, and it is published again with the same id.
   */
  alarm(kind: AlarmKind, said: Said, where: { compartment?: number; requestId?: number } = {}): Alarm {
    const input: AlarmInput = { kind, said, compartmentNo: where.compartment ?? null, requestId: where.requestId ?? null };
    let record: AlarmRecord;
    try {
      record = this.sink.raise(input);
    } catch (err) {
      this.onAlarmStoreError(err, input);
      record = this.unsaved.raise(input);
    }
    const alarm = alarmView(record);
    this.emit('alarm', alarm);
    return alarm;
  }

  /**
   * End the open alarms of `kind` about a request because the staff member did what they asked for (took the
   * materials out); each is published as 'alarm-ack', as when someone marks it dealt with. A store that refuses
   * is told through onAlarmStoreError and the alarms stay open (to be dealt with by hand).
   */
  resolve(kind: AlarmKind, requestId: number, actor: Actor, note: Said): readonly Alarm[] {
    let ended: AlarmRecord[];
    try {
      ended = this.sink.resolve(kind, requestId, actor, note);
    } catch (err) {
      this.onAlarmStoreError(err, { kind, said: note, requestId });
      return [];
    }
    const views = ended.map(alarmView);
    for (const a of views) this.emit('alarm-ack', a);
    return views;
  }

  /** Open alarms first (newest first), then recently acknowledged ones; at most `limit`. */
  recentAlarms(limit = 200): readonly Alarm[] {
    return [...this.unsaved.list(limit), ...this.sink.list(limit)].slice(0, limit).map(alarmView);
  }
}
