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

/** A request number as printed on the barcode: BB-YYYYMMDD-NNNN. */
export const REQUEST_NUMBER_RE = /^BB-\d{8}-\d{4,}$/i;

// ---- the office: a request's history as sentences, the audit log, statistics ----

/**
 * What happened, as a sentence about `{who}` (and `{door}`, the compartment): [中文, English].
 * @type {Readonly<Record<string, Words>>}
 */
const HISTORY_SENTENCES = {
  'request.created': ['{who}提交申请', '{who} submitted the request'],
  'request.accept': ['{who}受理了申请', '{who} accepted the request'],
  'request.reject': ['{who}决定不予办理', '{who} rejected the request'],
  'request.request_materials': ['{who}请居民到柜子交材料', '{who} asked the resident for materials'],
  'request.start_deposit': ['居民打开了{door}，开始放材料', 'The resident opened {door} to drop materials off'],
  'request.deposit': ['材料已放入{door}', 'The materials went into {door}'],
  'request.deposit_aborted': ['{door}关上时没有材料，放材料未完成', '{door} closed with nothing inside: no materials'],
  'request.retrieve_materials': ['{who}从{door}取出了材料', '{who} took the materials out of {door}'],
  'request.mark_ready': ['{who}把文件办好了', '{who} marked the document ready'],
  'request.start_load': ['{who}打开{door}装入文件', '{who} opened {door} to load the document'],
  'request.load_done': ['文件已放入{door}，取件码已发给居民', 'The document is in {door}; the resident was sent a pickup code'],
  'request.load_aborted': ['{door}关上时没有文件，装柜未完成', '{door} closed with no document inside: not loaded'],
  'request.mark_overdue': ['文件在柜中超过期限，居民还没有取', 'The document waited past its time; not collected yet'],
  'request.collect': ['居民从{door}取走了文件', 'The resident collected the document from {door}'],
  'request.retrieve': ['{who}从{door}取回了逾期的文件', '{who} took the overdue document back from {door}'],
  'request.admin_retrieve': ['{who}从{door}取回了文件', '{who} took the document back from {door}'],
  'request.cancel': ['{who}取消了申请', '{who} cancelled the request'],
  'unlock.intended': ['{who}要求打开{door}', '{who} asked for {door} to open'],
  'unlock.sent': ['开锁指令已发往{door}', 'The unlock was sent to {door}'],
  'unlock.acked': ['{door}的锁已打开', 'The lock of {door} opened'],
  'unlock.failed': ['{door}开锁失败', 'Unlocking {door} failed'],
  'unlock.expired': ['{door}的开锁指令过期未发送', 'The unlock of {door} expired unsent'],
  'compartment.occupied': ['{door}里有东西了', '{door} now holds it'],
  'compartment.free': ['{door}空出来了', '{door} is free again'],
  'compartment.fault': ['{door}出现故障', '{door} was marked as a fault'],
  'compartment.reserved': ['为它预留了{door}', '{door} was reserved for it'],
  'credential.issued': ['取件码已生成', 'A pickup code was issued'],
  'credential.verified': ['取件码核验通过', 'The pickup code was accepted'],
  'credential.verify_failed': ['有人输错了取件码', 'A wrong pickup code was typed'],
  'credential.revoked': ['取件码已作废', 'The pickup code was revoked'],
  'notification.sent': ['短信已发给居民', 'A message went to the resident'],
  'notification.failed': ['给居民的短信没有发出', 'A message to the resident failed'],
  'alarm.acknowledge': ['{who}处理了报警', '{who} dealt with an alarm'],
  'resident.id_number_revealed': ['{who}查看了完整身份证号', '{who} read the full ID number'],
  'export.requests': ['{who}导出了申请记录', '{who} exported requests'],
  'export.audit': ['{who}导出了操作记录', '{who} exported the audit log'],
  'staff.created': ['{who}新建了工作人员账号', '{who} added a staff account'],
  'staff.disabled': ['{who}停用了账号', '{who} disabled an account'],
  'staff.enabled': ['{who}启用了账号', '{who} enabled an account'],
  'staff.pin_changed': ['{who}修改了 PIN', '{who} changed a PIN'],
  'staff.login': ['{who}登录', '{who} signed in'],
  'staff.login_failed': ['登录失败', 'A sign-in failed'],
  'service_item.saved': ['{who}修改了证明目录', '{who} changed the document catalogue'],
};

/** @type {Readonly<Record<string, Words>>} */
const WHO = { resident: ['居民', 'The resident'], kiosk: ['柜机屏幕', 'The cabinet screen'], system: ['系统', 'The system'] };

/**
 * One audit row as a sentence: "王主任受理了申请" / "王主任 accepted the request"; "我（李四）…" for the one signed in.
 * @param {{ action: string, actorKind: string, actorId: string | null, actorName?: string | null, compartmentNo: number | null }} e
 * @param {StaffMember | null} [me]
 * @returns {Words}
 */
export function historySentence(e, me = null) {
  const staffName = e.actorKind === 'staff' ? e.actorName || `工作人员 ${e.actorId ?? ''}`.trim() : null;
  const mine = staffName !== null && me !== null && String(me.id) === String(e.actorId);
  /** @type {Words} */
  const who = mine ? [`我（${me.name}）`, `${me.name} (me)`] : staffName ? [staffName, staffName] : (WHO[e.actorKind] ?? [e.actorKind, e.actorKind]);
  /** @type {Words} */
  const door = e.compartmentNo ? [`${e.compartmentNo} 号柜门`, `door ${e.compartmentNo}`] : ['柜门', 'the door'];
  const t = HISTORY_SENTENCES[e.action];
  if (!t) return [`${who[0]}：${auditWords(e.action)[0]}`, `${who[1]}: ${e.action.replace(/[._]/g, ' ')}`];
  const fill = (/** @type {string} */ s, /** @type {0 | 1} */ i) => s.replace('{who}', who[i]).replace('{door}', door[i]);
  const enText = fill(t[1], 1);
  return [fill(t[0], 0), enText.charAt(0).toUpperCase() + enText.slice(1)];
}

/**
 * Filters of the audit log by family of actions.
 * @type {readonly [string, Words][]}
 */
export const AUDIT_FAMILIES = [
  ['request.', ['申请的办理', 'Requests']],
  ['unlock.', ['开锁', 'Unlocks']],
  ['compartment.', ['柜格', 'Compartments']],
  ['alarm.', ['报警', 'Alarms']],
  ['credential.', ['取件码', 'Pickup codes']],
  ['staff.', ['工作人员账号', 'Staff accounts']],
  ['export.', ['导出', 'Exports']],
  ['service_item.', ['证明目录', 'Catalogue']],
  ['resident.', ['居民信息', 'Residents']],
  ['notification.', ['短信', 'Messages']],
];

/** @type {Readonly<Record<string, Words>>} who did it, as the audit filter offers it */
export const ACTOR_KIND_WORDS = {
  staff: ['工作人员', 'Staff'],
  resident: ['居民', 'Residents'],
  kiosk: ['柜机屏幕', 'Cabinet screen'],
  system: ['系统', 'System'],
};

/**
 * "上限 4 小时" style labels of the collection-time buckets.
 * @param {number | null} upToHours
 * @returns {Words}
 */
export function waitBucketWords(upToHours) {
  if (upToHours === null) return ['7 天以上', 'over 7 days'];
  if (upToHours < 24) return [`${upToHours} 小时内`, `within ${upToHours} h`];
  return [`${upToHours / 24} 天内`, `within ${upToHours / 24} day${upToHours === 24 ? '' : 's'}`];
}
