/**
 * Alarms for staff, kept until someone deals with them (table `alarms`, migration 3).
 *
 * Not personal data: an alarm names compartments and request numbers, never a resident. What it says is kept as a
 * key of the word catalogue and its parameters (`words_key`, `words_params`, the migration 'alarm words'), so that every screen
 * says it in its own language; `message` holds its words in the primary language for older readers. Rows raised
 * before it have no key, and their message (as raised) is all there is.
 *
 * Floods: an alarm raised again while an identical one (same kind, compartment, request, key and parameters) is still
 * unacknowledged does not add a row; that row's `count` and `last_at` grow instead. A door left open is re-raised
 * by its timer and the link goes down again on every reconnect attempt: staff see one line "×12", not twelve.
 * Once acknowledged, the next occurrence is a new alarm.
 *
 * Acknowledging is a staff action: the row and its audit row commit together, and an alarm is acknowledged once.
 */
import { CabinetError } from '../errors.js';
import { ALARM_KINDS, type Actor, type AlarmKind } from '../domain/types.js';
import { appendAudit } from './audit.js';
import type { StoreContext } from './context.js';
import { inTransaction, stmt } from './db.js';
import { say } from '../words/catalogue.js';
import { isWordKey, type Said, type WordParam } from '../words/keys.js';

export const ALARM_NOTE_MAX = 200;
export const ALARM_MESSAGE_MAX = 500;

export interface AlarmInput {
  readonly kind: AlarmKind;
  /** What the alarm says: a key of the word catalogue and its parameters. */
  readonly said: Said;
  readonly compartmentNo?: number | null;
  readonly requestId?: number | null;
}

export interface AlarmRecord {
  readonly id: number;
  readonly kind: AlarmKind;
  /** What it says; null for an alarm stored before alarms had keys (then `message` is all there is). */
  readonly said: Said | null;
  /** Its words in the primary language, as stored. */
  readonly message: string;
  readonly compartmentNo: number | null;
  readonly requestId: number | null;
  /** first raised (ms) */
  readonly raisedAt: number;
  /** last raised again (ms); equals raisedAt for a single occurrence */
  readonly lastAt: number;
  /** how many times it was raised while open */
  readonly count: number;
  readonly acknowledgedAt: number | null;
  /** the staff member who dealt with it */
  readonly acknowledgedBy: { readonly id: number; readonly name: string } | null;
  /** What the staff member typed, or (noteSaid) what the system noted when it ended the alarm itself. */
  readonly note: string | null;
  readonly noteSaid: Said | null;
}

interface Row {
  id: number;
  kind: string;
  message: string;
  words_key: string | null;
  words_params: string | null;
  compartment_no: number | null;
  request_id: number | null;
  raised_at: number;
  last_at: number;
  count: number;
  acknowledged_at: number | null;
  acknowledged_by: number | null;
  staff_name: string | null;
  note: string | null;
  note_key: string | null;
  note_params: string | null;
}

const SELECT = `SELECT a.*, s.name AS staff_name FROM alarms a LEFT JOIN staff s ON s.id = a.acknowledged_by`;

function toAlarm(r: Row): AlarmRecord {
  if (!(ALARM_KINDS as readonly string[]).includes(r.kind)) {
    throw new CabinetError('DATA_CORRUPT', `alarm ${r.id} has an unknown kind`, { alarmId: r.id, kind: r.kind });
  }
  return {
    id: r.id,
    kind: r.kind as AlarmKind,
    said: saidOf(r),
    message: r.message,
    compartmentNo: r.compartment_no,
    requestId: r.request_id,
    raisedAt: r.raised_at,
    lastAt: r.last_at,
    count: r.count,
    acknowledgedAt: r.acknowledged_at,
    acknowledgedBy: r.acknowledged_by === null ? null : { id: r.acknowledged_by, name: r.staff_name ?? '' },
    note: r.note,
    noteSaid: saidOf({ words_key: r.note_key, words_params: r.note_params }),
  };
}

/**
 * The parameters as stored: JSON with its names in order, so that identical parameters are identical text (the
 * identical-alarm check compares them).
 */
export function paramsText(s: Said): string | null {
  if (!s.params) return null;
  const params = s.params as Readonly<Record<string, WordParam>>;
  return JSON.stringify(
    Object.fromEntries(
      Object.keys(params)
        .sort()
        .map((k) => [k, params[k]]),
    ),
  );
}

/** A stored key and parameters back as a Said; null for a row without a key, or with one this version does not know. */
function saidOf(r: Pick<Row, 'words_key' | 'words_params'>): Said | null {
  if (r.words_key === null || !isWordKey(r.words_key)) return null;
  if (r.words_params === null) return { key: r.words_key } as Said;
  const params: unknown = JSON.parse(r.words_params);
  return { key: r.words_key, params } as Said;
}

export function getAlarm(ctx: StoreContext, id: number): AlarmRecord | null {
  const r = stmt<[number], Row>(ctx.db, `${SELECT} WHERE a.id = ?`).get(id);
  return r ? toAlarm(r) : null;
}

/**
 * Records an alarm, or, when an identical one is still open, counts it again on that row (see the top of this
 * file). Returns the row as it stands now.
 */
export function raiseAlarm(ctx: StoreContext, input: AlarmInput): AlarmRecord {
  if (!(ALARM_KINDS as readonly string[]).includes(input.kind)) {
    throw new CabinetError('VALIDATION', `unknown alarm kind ${input.kind}`, { fields: 'kind' });
  }
  if (!isWordKey(input.said.key)) throw new CabinetError('VALIDATION', `unknown word key ${input.said.key}`, { fields: 'said' });
  const key = input.said.key;
  const params = paramsText(input.said);
  // the words in the primary language, for readers of `message` from before alarms had keys
  const message = say(input.said).trim().slice(0, ALARM_MESSAGE_MAX) || key;
  const compartmentNo = input.compartmentNo ?? null;
  const requestId = input.requestId ?? null;
  const now = ctx.now();
  return inTransaction(ctx.db, () => {
    const open = stmt<[string, number | null, number | null, string, string | null], { id: number }>(
      ctx.db,
      `SELECT id FROM alarms
        WHERE acknowledged_at IS NULL AND kind = ? AND compartment_no IS ? AND request_id IS ? AND words_key = ? AND words_params IS ?`,
    ).get(input.kind, compartmentNo, requestId, key, params);
    let id: number;
    if (open) {
      stmt(ctx.db, `UPDATE alarms SET count = count + 1, last_at = max(last_at, ?) WHERE id = ?`).run(now, open.id);
      id = open.id;
    } else {
      const r = stmt(
        ctx.db,
        `INSERT INTO alarms (kind, message, words_key, words_params, compartment_no, request_id, raised_at, last_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(input.kind, message, key, params, compartmentNo, requestId, now, now);
      id = Number(r.lastInsertRowid);
    }
    return getAlarm(ctx, id)!;
  });
}

export interface AlarmQuery {
  /** true: only open ones; false: only acknowledged ones; absent: both. */
  readonly open?: boolean;
  /** Default 200, 1–1000. */
  readonly limit?: number;
}

/**
 * Open alarms first (the most recently raised first), then acknowledged ones (the most recently dealt with first).
 */
export function listAlarms(ctx: StoreContext, q: AlarmQuery = {}): AlarmRecord[] {
  const limit = Math.min(Math.max(Math.trunc(q.limit ?? 200), 1), 1000);
  const where = q.open === undefined ? '' : q.open ? 'WHERE a.acknowledged_at IS NULL' : 'WHERE a.acknowledged_at IS NOT NULL';
  return stmt<[number], Row>(
    ctx.db,
    `${SELECT} ${where}
       ORDER BY a.acknowledged_at IS NOT NULL, coalesce(a.acknowledged_at, a.last_at) DESC, a.id DESC LIMIT ?`,
  )
    .all(limit)
    .map(toAlarm);
}

export function countOpenAlarms(ctx: StoreContext): number {
  return stmt<[], { n: number }>(ctx.db, `SELECT count(*) AS n FROM alarms WHERE acknowledged_at IS NULL`).get()!.n;
}

/**
 * A staff member has dealt with the alarm. Writes `alarm.acknowledge` to the audit log in the same transaction.
 * NOT_FOUND for no such alarm; ALARM_ALREADY_ACKNOWLEDGED (with who and when in the context) for a second time.
 */
export function acknowledgeAlarm(ctx: StoreContext, id: number, actor: Actor, note?: string | null): AlarmRecord {
  const staffId = actor.kind === 'staff' && actor.id !== null ? Number(actor.id) : NaN;
  if (!Number.isInteger(staffId)) throw new CabinetError('ACTOR_NOT_ALLOWED', 'only a staff member acknowledges an alarm', { alarmId: id });
  const text = note?.trim() ? note.trim() : null;
  if (text !== null && text.length > ALARM_NOTE_MAX) {
    throw new CabinetError('VALIDATION', `the note is longer than ${ALARM_NOTE_MAX} characters`, { fields: 'note' });
  }
  const now = ctx.now();
  return inTransaction(ctx.db, () => {
    const before = getAlarm(ctx, id);
    if (!before) throw new CabinetError('NOT_FOUND', `no alarm ${id}`, { alarmId: id });
    if (before.acknowledgedAt !== null) {
      throw new CabinetError('ALARM_ALREADY_ACKNOWLEDGED', `alarm ${id} was already dealt with`, {
        alarmId: id,
        acknowledgedAt: new Date(before.acknowledgedAt).toISOString(),
        acknowledgedBy: before.acknowledgedBy?.id ?? null,
      });
    }
    stmt(ctx.db, `UPDATE alarms SET acknowledged_at = ?, acknowledged_by = ?, note = ? WHERE id = ?`).run(now, staffId, text, id);
    appendAudit(ctx.db, now, {
      actor,
      action: 'alarm.acknowledge',
      compartmentNo: before.compartmentNo,
      requestId: before.requestId,
      detail: { alarmId: id, kind: before.kind, count: before.count, ...(text !== null ? { note: text } : {}) },
    });
    return getAlarm(ctx, id)!;
  });
}

/**
 * Alarms that end because the staff member did what they asked for (materials taken out of the cabinet): every
 * open alarm of `kind` about the request is acknowledged by that staff member, with `note`, each with its
 * `alarm.acknowledge` audit row (detail.resolvedBy says by what), all in one transaction. Returns those it ended.
 */
export function resolveAlarms(ctx: StoreContext, kind: AlarmKind, requestId: number, actor: Actor, note: Said): AlarmRecord[] {
  const staffId = actor.kind === 'staff' && actor.id !== null ? Number(actor.id) : NaN;
  if (!Number.isInteger(staffId)) throw new CabinetError('ACTOR_NOT_ALLOWED', 'only a staff member ends an alarm', { requestId });
  if (!isWordKey(note.key)) throw new CabinetError('VALIDATION', `unknown word key ${note.key}`, { fields: 'note' });
  const params = paramsText(note);
  const now = ctx.now();
  return inTransaction(ctx.db, () => {
    const open = ctx.db
      .prepare<[string, number], { id: number }>(`SELECT id FROM alarms WHERE acknowledged_at IS NULL AND kind = ? AND request_id = ?`)
      .all(kind, requestId);
    return open.map(({ id }) => {
      const before = getAlarm(ctx, id)!;
      ctx.db
        .prepare(`UPDATE alarms SET acknowledged_at = ?, acknowledged_by = ?, note = NULL, note_key = ?, note_params = ? WHERE id = ?`)
        .run(now, staffId, note.key, params, id);
      appendAudit(ctx.db, now, {
        actor,
        action: 'alarm.acknowledge',
        compartmentNo: before.compartmentNo,
        requestId,
        detail: {
          alarmId: id,
          kind,
          count: before.count,
          resolvedBy: 'done',
          noteKey: note.key,
          ...(note.params ? { noteParams: { ...note.params } } : {}),
        },
      });
      return getAlarm(ctx, id)!;
    });
  });
}

/** The store as the event bus's alarm sink: `new EventBus({ alarms: alarmSink(store.ctx) })`. */
export function alarmSink(ctx: StoreContext): {
  raise(input: AlarmInput): AlarmRecord;
  list(limit: number): AlarmRecord[];
  resolve(kind: AlarmKind, requestId: number, actor: Actor, note: Said): AlarmRecord[];
} {
  return {
    raise: (input) => raiseAlarm(ctx, input),
    list: (limit) => listAlarms(ctx, { limit }),
    resolve: (kind, requestId, actor, note) => resolveAlarms(ctx, kind, requestId, actor, note),
  };
}
