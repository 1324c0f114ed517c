// Words the staff console shows: Chinese first, English second. No logic the API does not check.

/** @import { AlarmKind, CompartmentState, DoorState, RequestState, StaffMember } from './api-types.js' */

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

/**
 * Request states as staff read them (the API's stateText is written for residents).
 * @type {Readonly<Record<RequestState, Words>>}
 */
export const STATE_WORDS = {
  submitted: ['待受理', 'Waiting to be accepted'],
  awaiting_materials: ['等居民交材料', 'Waiting for the resident’s materials'],
  depositing: ['居民正在放材料', 'Resident is dropping materials off'],
  materials_deposited: ['材料已在柜中，请取出', 'Materials are in the cabinet: take them out'],
  materials_retrieved: ['已收到材料，请受理', 'Materials received: accept or reject'],
  accepted: ['办理中', 'Being prepared'],
  rejected: ['不予办理', 'Rejected'],
  ready: ['已办好，待装柜', 'Ready to load'],
  loading: ['正在装柜', 'Going into the cabinet'],
  loaded: ['在柜中，等居民取件', 'In the cabinet, waiting for pickup'],
  overdue: ['逾期未取', 'Overdue: not collected'],
  collected: ['居民已取走', 'Collected'],
  retrieved: ['已取回', 'Taken back by staff'],
  cancelled: ['已取消', 'Cancelled'],
};

/**
 * The request list, grouped by what needs doing. Terminal states are only found by searching.
 * @type {readonly { key: string, zh: string, en: string, states: readonly RequestState[] }[]}
 */
export const GROUPS = [
  { key: 'submitted', zh: '待受理', en: 'To accept', states: ['submitted'] },
  { key: 'materials-wait', zh: '待交材料', en: 'Waiting for materials', states: ['awaiting_materials', 'depositing'] },
  { key: 'materials-in', zh: '已交材料', en: 'Materials dropped off', states: ['materials_deposited', 'materials_retrieved'] },
  { key: 'accepted', zh: '办理中', en: 'Being prepared', states: ['accepted'] },
  { key: 'ready', zh: '待装柜', en: 'To load into the cabinet', states: ['ready', 'loading'] },
  { key: 'cabinet', zh: '柜中', en: 'In the cabinet', states: ['overdue', 'loaded'] },
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
  accept: { path: 'accept', zh: '受理', en: 'Accept', kind: 'primary', row: true },
  start_load: { path: 'load', zh: '装柜', en: 'Load', kind: 'primary', row: true, door: true },
  retrieve_materials: { path: 'retrieve', zh: '取出材料', en: 'Take materials out', kind: 'primary', row: true, door: true },
  retrieve: { path: 'retrieve', zh: '取回文件', en: 'Take back', kind: 'primary', row: true, door: true },
  admin_retrieve: { path: 'retrieve', zh: '取回文件', en: 'Take back', kind: 'secondary', row: true, door: true, adminOnly: true },
  mark_ready: { path: 'ready', zh: '已办好', en: 'Mark ready', kind: 'primary', row: true },
  request_materials: { path: 'request-materials', zh: '请居民交材料', en: 'Ask for materials', kind: 'secondary', row: true },
  reject: { path: 'reject', zh: '不予办理', en: 'Reject', kind: 'danger', row: true, reason: 'required' },
  cancel: { path: 'cancel', zh: '取消申请', en: 'Cancel request', kind: 'danger', row: false, reason: 'optional' },
};
/** @type {readonly ActionKey[]} */
export const ACTION_ORDER = ['accept', 'start_load', 'retrieve_materials', 'retrieve', 'admin_retrieve', 'mark_ready', 'request_materials', 'reject', 'cancel'];

/**
 * What was done and by whom when an action succeeds (the banner).
 * @type {Readonly<Partial<Record<ActionKey, Words>> & { reissue: Words }>}
 */
export const DONE_WORDS = {
  accept: ['已受理', 'Accepted'],
  mark_ready: ['已标记为办好，可以装柜', 'Marked ready: it can be loaded'],
  request_materials: ['已通知居民交材料', 'The resident is asked for materials'],
  reject: ['已不予办理，居民会收到原因', 'Rejected; the resident gets the reason'],
  cancel: ['已取消', 'Cancelled'],
  reissue: ['已重新发送取件码，旧的取件码不再有效', 'A new pickup code is on its way; the old one no longer works'],
};

/** @type {Readonly<Record<CompartmentState, Words>>} */
export const COMPARTMENT_WORDS = {
  free: ['空闲', 'Free'],
  reserved: ['已预留', 'Reserved'],
  occupied: ['有物品', 'Occupied'],
  opening: ['正在开门', 'Opening'],
  open: ['门已打开', 'Open'],
  fault: ['故障', 'Fault'],
  disabled: ['已停用', 'Disabled'],
};

/** @type {Readonly<Record<DoorState, Words>>} */
export const DOOR_WORDS = {
  open: ['门开着', 'door open'],
  closed: ['门已关', 'door closed'],
  unknown: ['门状态不明', 'door unknown'],
};

/** @type {Readonly<Record<AlarmKind, Words>>} */
export const ALARM_WORDS = {
  tamper: ['柜门被异常打开', 'Door opened without an unlock'],
  door_not_opened: ['开锁后柜门没打开', 'Door did not open'],
  door_left_open: ['柜门没有关', 'Door left open'],
  item_not_taken: ['文件没有被取走', 'Document not taken'],
  item_left_behind: ['柜内有不明物品', 'Unexpected item inside'],
  item_missing: ['柜内物品不见了', 'Item missing'],
  materials_deposited: ['居民交来材料，请取出', 'Materials dropped off: take them out'],
  compartment_fault: ['柜格故障', 'Compartment fault'],
  link_offline: ['柜子连接中断', 'Cabinet link down'],
  board_rebooted: ['控制板重启', 'Lock board restarted'],
  reconcile: ['启动自检发现问题', 'Start-up check finding'],
  storage: ['数据库无法写入，暂停服务', 'Database cannot be written: out of service'],
  flow_failed: ['开门操作因错误中断', 'A door operation stopped on an error'],
};

/** @type {Readonly<Record<string, Words>>}  the driver's link states; 'stopped' is shown as it is */
export const LINK_WORDS = {
  online: ['柜子连接正常', 'Cabinet online'],
  offline: ['柜子连接中断', 'Cabinet offline'],
  connecting: ['正在连接柜子', 'Connecting to the cabinet'],
};

/** @type {Readonly<Record<string, string>>} */
const ACTOR_WORDS = { staff: '工作人员', resident: '居民', kiosk: '柜机屏幕', system: '系统' };

/** @type {Readonly<Record<string, string>>} */
const AUDIT_WORDS = {
  'request.created': '居民提交申请',
  'request.accept': '受理',
  'request.reject': '不予办理',
  'request.request_materials': '请居民交材料',
  'request.start_deposit': '居民开始放材料',
  'request.deposit': '材料已放入柜中',
  'request.deposit_aborted': '放材料未完成',
  'request.retrieve_materials': '工作人员取出材料',
  'request.mark_ready': '标记为已办好',
  'request.start_load': '开始装柜',
  'request.load_done': '文件已放入柜中',
  'request.load_aborted': '装柜未完成（柜中没有文件）',
  'request.mark_overdue': '逾期未取',
  'request.collect': '居民已取走',
  'request.retrieve': '工作人员取回逾期文件',
  'request.admin_retrieve': '管理员取回文件',
  'request.cancel': '取消申请',
  'compartment.reserved': '预留柜格',
  'compartment.force_open': '强制开门',
  'alarm.acknowledge': '报警已处理',
  'unlock.intended': '准备开锁',
  'unlock.pending': '准备开锁',
  'unlock.sent': '已发送开锁指令',
  'unlock.acked': '柜子确认开锁',
  'unlock.failed': '开锁失败',
  'unlock.expired': '开锁指令过期',
  'unlock.rate_limited': '开锁太频繁，被拒绝',
  'door.opened_unexplained': '柜门被异常打开',
  'credential.issued': '发出取件码/二维码',
  'credential.verified': '取件码核验通过',
  'credential.verify_failed': '取件码核验失败',
  'credential.revoked': '取件码作废',
  'notification.sent': '短信已发出',
  'notification.failed': '短信发送失败',
  'resident.id_number_revealed': '查看了完整身份证号',
  'resident.created': '登记居民信息',
  'resident.updated': '更新居民信息',
};

/**
 * [zh, en] for an audit action.
 * @param {string} action
 * @returns {Words}
 */
export function auditWords(action) {
  return [AUDIT_WORDS[action] ?? action, action];
}

/**
 * Who did it, in words ("我（张三）" for the one signed in).
 * @param {string} kind  the audit row's actorKind
 * @param {string | null} id
 * @param {StaffMember | null} me
 */
export function actorWords(kind, id, me) {
  if (kind === 'staff' && me && String(me.id) === String(id)) return `我（${me.name}）`;
  const base = ACTOR_WORDS[kind] ?? kind;
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
  return `${d.getMonth() + 1}月${d.getDate()}日 ${hm}`;
}

/**
 * "中文。English." alarm messages → [zh, en].
 * @param {string | null | undefined} message
 * @returns {Words}
 */
export function splitMessage(message) {
  const m = /^(.*?[。！？])\s*([A-Za-z].*)$/s.exec(message ?? '');
  if (m) return [m[1] ?? '', m[2] ?? ''];
  const slash = (message ?? '').split(' / ');
  if (slash.length === 2) return [slash[0] ?? '', slash[1] ?? ''];
  return [message ?? '', ''];
}

/** A request number as printed on the barcode: BB-YYYYMMDD-NNNN. */
export const REQUEST_NUMBER_RE = /^BB-\d{8}-\d{4,}$/i;
