// Words the staff console shows: Chinese first, English second. No logic the API does not check.

import { hasWords, primaryLanguage, say, sayBoth, sayEach } from '../shared/words.js';

/**
 * @import { AlarmKind, CompartmentState, DoorState, RequestState, StaffMember } from './api-types.js'
 * @import { WordParam } from '../shared/words.js'
 */

/** @typedef {readonly [string, string]} Words [中文, English] */

/**
 * The words for `key` in `table`, or undefined when it has none: for keys that come as plain strings (live events,
 * audit rows) and may name something this page does not know yet.
 * @param {Readonly<Record<string, Words>>} table
 * @param {string} key
 * @returns {Words | undefined}
 */
export function wordsOf(table, key) {
  return table[key];
}

/** The request states, in the order of the life cycle (controller/domain/request-states.ts REQUEST_STATES). */
/** @type {readonly RequestState[]} */
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
];

/**
 * The catalogue's words for `key`, or `fallback` when it has none (a code this page does not know yet).
 * @param {string} key
 * @param {Words} fallback
 * @returns {Words}
 */
function catalogueWords(key, fallback) {
  return hasWords(key) ? sayBoth({ key }) : fallback;
}

/**
 * A table of words by code whose words are the catalogue's (`<prefix><code>`), read when used: the catalogue
 * loads after this module.
 * @param {string} prefix
 * @param {readonly string[]} codes
 * @returns {Readonly<Record<string, Words>>}
 */
export function wordTable(prefix, codes) {
  /** @type {Record<string, Words>} */
  const t = {};
  for (const code of codes) Object.defineProperty(t, code, { enumerable: true, get: () => catalogueWords(prefix + code, [code, code]) });
  return t;
}

/**
 * `fields` with `zh` and `en` read from the catalogue's `key` when used (the catalogue loads after this module).
 * @template {object} T
 * @param {string} key
 * @param {T} fields
 * @returns {T & { readonly zh: string, readonly en: string }}
 */
function labelled(key, fields) {
  return Object.defineProperties(/** @type {T & { zh: string, en: string }} */ (fields), {
    zh: { enumerable: true, get: () => catalogueWords(key, [key, key])[0] },
    en: { enumerable: true, get: () => catalogueWords(key, [key, key])[1] },
  });
}

/**
 * A request state as staff read it (the catalogue's staff.state.<state>; the API's stateText is for residents).
 * @param {string} state
 * @returns {Words}
 */
export function stateWords(state) {
  return catalogueWords(`staff.state.${state}`, [state, '']);
}

/**
 * The request list, grouped by what needs doing. Terminal states are only found by searching.
 * @type {readonly { key: string, zh: string, en: string, states: readonly RequestState[] }[]}
 */
export const GROUPS = [
  labelled('staff.group.submitted', { key: 'submitted', states: /** @type {readonly RequestState[]} */ (['submitted']) }),
  labelled('staff.group.materials-wait', {
    key: 'materials-wait',
    states: /** @type {readonly RequestState[]} */ (['awaiting_materials', 'depositing']),
  }),
  labelled('staff.group.materials-in', {
    key: 'materials-in',
    states: /** @type {readonly RequestState[]} */ (['materials_deposited', 'materials_retrieved']),
  }),
  labelled('staff.group.accepted', { key: 'accepted', states: /** @type {readonly RequestState[]} */ (['accepted']) }),
  labelled('staff.group.ready', { key: 'ready', states: /** @type {readonly RequestState[]} */ (['ready', 'loading']) }),
  labelled('staff.group.cabinet', { key: 'cabinet', states: /** @type {readonly RequestState[]} */ (['overdue', 'loaded']) }),
];

/**
 * A button for a request event.
 * @typedef {{
 *   path: string, zh: string, en: string, kind: 'primary' | 'secondary' | 'danger', row: boolean,
 *   door?: true, adminOnly?: true, reason?: 'required' | 'optional',
 * }} Action
 */

/**
 * The request events the console has buttons for (the API's `actions` may list others, which get none).
 * @typedef {'accept' | 'start_load' | 'retrieve_materials' | 'retrieve' | 'admin_retrieve' | 'mark_ready'
 *   | 'request_materials' | 'reject' | 'cancel'} ActionKey
 */

/**
 * Buttons for the events the API lists in `actions`. `path` is the POST route under /api/staff/requests/:id/.
 * `row`: also shown in the list (cancel and reissue only in the detail panel, away from quick clicks).
 * @type {Readonly<Record<ActionKey, Action>>}
 */
export const ACTIONS = {
  accept: labelled('staff.action.accept', { path: 'accept', kind: 'primary', row: true }),
  start_load: labelled('staff.action.start_load', { path: 'load', kind: 'primary', row: true, door: true }),
  retrieve_materials: labelled('staff.action.retrieve_materials', { path: 'retrieve', kind: 'primary', row: true, door: true }),
  retrieve: labelled('staff.action.retrieve', { path: 'retrieve', kind: 'primary', row: true, door: true }),
  admin_retrieve: labelled('staff.action.admin_retrieve', { path: 'retrieve', kind: 'secondary', row: true, door: true, adminOnly: true }),
  mark_ready: labelled('staff.action.mark_ready', { path: 'ready', kind: 'primary', row: true }),
  request_materials: labelled('staff.action.request_materials', { path: 'request-materials', kind: 'secondary', row: true }),
  reject: labelled('staff.action.reject', { path: 'reject', kind: 'danger', row: true, reason: 'required' }),
  cancel: labelled('staff.action.cancel', { path: 'cancel', kind: 'danger', row: false, reason: 'optional' }),
};
/** @type {readonly ActionKey[]} */
export const ACTION_ORDER = [
  'accept',
  'start_load',
  'retrieve_materials',
  'retrieve',
  'admin_retrieve',
  'mark_ready',
  'request_materials',
  'reject',
  'cancel',
];

/**
 * What was done and by whom when an action succeeds (the banner).
 * @type {Readonly<Partial<Record<ActionKey, Words>> & { reissue: Words }>}
 */
export const DONE_WORDS = /** @type {Readonly<Partial<Record<ActionKey, Words>> & { reissue: Words }>} */ (
  wordTable('staff.done.', ['accept', 'mark_ready', 'request_materials', 'reject', 'cancel', 'reissue'])
);

/** @type {Readonly<Record<CompartmentState, Words>>} */
export const COMPARTMENT_WORDS = /** @type {Readonly<Record<CompartmentState, Words>>} */ (
  wordTable('staff.compartment.', ['free', 'reserved', 'occupied', 'opening', 'open', 'fault', 'disabled'])
);

/** @type {Readonly<Record<DoorState, Words>>} */
export const DOOR_WORDS = /** @type {Readonly<Record<DoorState, Words>>} */ (wordTable('staff.door_state.', ['open', 'closed', 'unknown']));

/**
 * An alarm's kind in words (the catalogue's staff.alarm.<kind>).
 * @param {AlarmKind | string} kind
 * @returns {Words}
 */
export function alarmWords(kind) {
  return catalogueWords(`staff.alarm.${kind}`, [kind, kind]);
}

/** @type {Readonly<Record<string, Words>>}  the driver's link states; 'stopped' is shown as it is */
export const LINK_WORDS = /** @type {Readonly<Record<string, Words>>} */ (wordTable('staff.link.', ['online', 'offline', 'connecting']));

/**
 * [zh, en] for an audit action.
 * @param {string} action
 * @returns {Words}
 */
export function auditWords(action) {
  return catalogueWords(`staff.audit.${action}`, [action, action]);
}

/**
 * Who did it, in words ("我（张三）" for the one signed in).
 * @param {string} kind  the audit row's actorKind
 * @param {string | null} id
 * @param {StaffMember | null} me
 */
export function actorWords(kind, id, me) {
  if (kind === 'staff' && me && String(me.id) === String(id)) return sayBoth({ key: 'staff.who.me', params: { name: me.name } })[0];
  const base = catalogueWords(`staff.actor_kind.${kind}`, [kind, kind])[0];
  return id && kind !== 'resident' ? `${base} ${id}` : base;
}

/**
 * 张三 → 张*；李秀英 → 李*英 (rows show masked names; the detail shows the full name).
 * @param {string | null | undefined} name
 */
export function maskName(name) {
  const chars = [...(name ?? '')];
  if (chars.length <= 1) return chars.join('');
  const [first = '', ...rest] = chars;
  if (chars.length === 2) return `${first}*`;
  return `${first}${'*'.repeat(chars.length - 2)}${rest.at(-1) ?? ''}`;
}

const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');

/**
 * Local time: today "14:05:09", otherwise "6月3日 14:05".
 * @param {string} iso
 */
export function timeWords(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const now = new Date();
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (d.toDateString() === now.toDateString()) return `${hm}:${pad(d.getSeconds())}`;
  return say({ key: 'staff.date_time', params: { month: d.getMonth() + 1, day: d.getDate(), time: hm } }, primaryLanguage());
}

/** A request number as printed on the barcode: BB-YYYYMMDD-NNNN. */
export const REQUEST_NUMBER_RE = /^BB-\d{8}-\d{4,}$/i;

// ---- the office: a request's history as sentences, the audit log, statistics ----

/**
 * One audit row as a sentence: "王主任受理了申请" / "王主任 accepted the request"; "我（李四）…" for the one signed in.
 * @param {{ action: string, actorKind: string, actorId: string | null, actorName?: string | null, compartmentNo: number | null }} e
 * @param {StaffMember | null} [me]
 * @returns {Words}
 */
export function historySentence(e, me = null) {
  const staffName = e.actorKind === 'staff' ? e.actorName || sayBoth({ key: 'staff.who.staff', params: { id: e.actorId ?? '' } })[0].trim() : null;
  const mine = staffName !== null && me !== null && String(me.id) === String(e.actorId);
  /** @type {Words} */
  const who = mine
    ? sayBoth({ key: 'staff.who.me', params: { name: me.name } })
    : staffName
      ? [staffName, staffName]
      : catalogueWords(`staff.who.${e.actorKind}`, [e.actorKind, e.actorKind]);
  /** @type {Words} */
  const door = e.compartmentNo ? sayBoth({ key: 'staff.door', params: { no: e.compartmentNo } }) : sayBoth({ key: 'staff.the_door' });
  const key = `staff.history.${e.action}`;
  if (!hasWords(key)) {
    const zh = sayBoth({ key: 'staff.history_other', params: { who: who[0], action: auditWords(e.action)[0] } })[0];
    const enText = sayBoth({ key: 'staff.history_other', params: { who: who[1], action: e.action.replace(/[._]/g, ' ') } })[1];
    return [zh, enText];
  }
  const zh = sayBoth({ key, params: { who: who[0], door: door[0] } })[0];
  const enText = sayBoth({ key, params: { who: who[1], door: door[1] } })[1];
  return [zh, enText.charAt(0).toUpperCase() + enText.slice(1)];
}

/**
 * Filters of the audit log by family of actions: [prefix, words] (the catalogue's staff.audit_family.<family>).
 * @returns {[string, Words][]}
 */
export function auditFamilies() {
  /** @type {readonly string[]} */
  const prefixes = [
    'request.',
    'unlock.',
    'compartment.',
    'alarm.',
    'credential.',
    'staff.',
    'export.',
    'service_item.',
    'resident.',
    'notification.',
  ];
  return prefixes.map(
    (prefix) => /** @type {[string, Words]} */ ([prefix, catalogueWords(`staff.audit_family.${prefix.slice(0, -1)}`, [prefix, prefix])]),
  );
}

/** @type {Readonly<Record<string, Words>>} who did it, as the audit filter offers it */
export const ACTOR_KIND_WORDS = /** @type {Readonly<Record<string, Words>>} */ (
  wordTable('staff.actor_kind.', ['staff', 'resident', 'kiosk', 'system'])
);

/**
 * "上限 4 小时" style labels of the collection-time buckets.
 * @param {number | null} upToHours
 * @returns {Words}
 */
export function waitBucketWords(upToHours) {
  if (upToHours === null) return sayBoth({ key: 'staff.wait.over_7_days' });
  if (upToHours < 24) return sayBoth({ key: 'staff.wait.hours', params: { hours: upToHours } });
  if (upToHours === 24) return sayBoth({ key: 'staff.wait.one_day' });
  return sayBoth({ key: 'staff.wait.days', params: { days: upToHours / 24 } });
}

/**
 * What an audit row's detail adds, in words: each part [中文, English].
 * @param {Record<string, unknown>} d  an audit row's detail
 * @returns {Words[]}
 */
export function auditDetailWords(d) {
  /** @type {Words[]} */
  const out = [];
  if (typeof d.reason === 'string' && d.reason) out.push(sayBoth({ key: 'staff.detail.reason', params: { reason: d.reason } }));
  if (typeof d.note === 'string' && d.note) out.push(sayBoth({ key: 'staff.detail.note', params: { note: d.note } }));
  // what the system noted: a key of the catalogue and its parameters, said in the console's languages
  if (typeof d.noteKey === 'string') {
    const params = typeof d.noteParams === 'object' && d.noteParams !== null ? /** @type {Record<string, WordParam>} */ (d.noteParams) : {};
    out.push(sayEach('staff.detail.note', {}, { note: sayBoth({ key: d.noteKey, params }) }));
  }
  if (typeof d.from === 'string' && typeof d.to === 'string') {
    const [from, to] = [stateWords(d.from), stateWords(d.to)];
    out.push([`${from[0]} → ${to[0]}`, from[1] && to[1] ? `${from[1]} → ${to[1]}` : '']);
  }
  if (typeof d.purpose === 'string' && d.purpose) out.push(sayBoth({ key: 'staff.detail.purpose', params: { purpose: d.purpose } }));
  return out;
}
