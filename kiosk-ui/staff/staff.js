// The staff console: sign-in, the request list by what needs doing, the request detail with its audit trail,
// the 24 compartments and the alarms, both live from /ws/staff. Everything the page allows, the API checks again.
import { addressText } from '../shared/address.js';
import { $, $maybe } from '../shared/elements.js';
import { loadWords, sayBoth } from '../shared/words.js';
import { api, ApiError, errorWords, loadSession, saveSession, setAuthProblemHandler } from './api.js';
import { bi, el, en, replaceKeepingFocus } from './dom.js';
import { connectLive } from './live.js';
import { startOffice, stopOffice } from './office.js';
import {
  ACTION_ORDER,
  ACTIONS,
  alarmWords,
  COMPARTMENT_WORDS,
  DONE_WORDS,
  DOOR_WORDS,
  GROUPS,
  LINK_WORDS,
  historySentence,
  maskName,
  REQUEST_NUMBER_RE,
  stateWords,
  timeWords,
  wordTable,
  wordsOf,
} from './words.js';

/**
 * @import {
 *   Alarm, AlarmAckAnswer, AlarmList, CompartmentContents, CompartmentList, DoorAnswer, LiveCompartment, LiveMessage,
 *   LiveRequest, LoginAnswer, MeAnswer, RequestDetail, RequestItem, RequestList, RequestNotification, StaffMember,
 * } from './api-types.js'
 * @import { ActionKey, Words } from './words.js'
 */

/**
 * A compartment as the grid shows it: a row of GET /api/staff/compartments, patched by live events (whose state and
 * door are plain strings).
 * @typedef {{
 *   no: number, state: string, door: string, doorAt: string | null, faultReason: string | null,
 *   contents: CompartmentContents | null,
 * }} GridCompartment
 */

/**
 * The big answer at the top; `compartment`, `requestId` and `doorOpen` let later events finish its sentence.
 * @typedef {{
 *   tone: 'ok' | 'warn' | 'error', zh: string, en: string,
 *   compartment?: number | null, requestId?: number, doorOpen?: boolean,
 * }} Answer
 */

/** @typedef {'force-open' | 'disable' | 'enable'} CompartmentOp */

// ------------------------------------------------------------------------------------------------
// State
// ------------------------------------------------------------------------------------------------

/**
 * @type {{
 *   me: StaffMember | null, live: ReturnType<typeof connectLive> | null, requests: RequestItem[], numbers: Map<number, string>,
 *   search: { q: string, results: RequestItem[] } | null, detailId: number | null, detail: RequestDetail | null,
 *   compartments: Map<number, GridCompartment>, selectedNo: number | null, flashing: Map<number, ReturnType<typeof setTimeout>>,
 *   alarms: Alarm[], alarmNotes: Map<number, string>, alarmErrors: Map<number, Words>, link: string,
 *   form: { requestId: number, action: ActionKey, text: string, error: Words | null } | null,
 *   compForm: { no: number, text: string, error: Words | null } | null,
 *   busy: Set<string>, lastActed: number | null, answer: Answer | null,
 * }}
 */
const state = {
  me: null,
  live: null,
  /** open requests (GET /api/staff/requests?state=open) */
  requests: [],
  /** request id → number, from every list, event and snapshot seen */
  numbers: new Map(),
  search: null, // { q, results: [] } while a search is shown
  detailId: null,
  detail: null,
  /** no → compartment (GET /api/staff/compartments shape; live events patch state/door/contents) */
  compartments: new Map(),
  selectedNo: null,
  flashing: new Map(), // no → timeout
  alarms: [], // open ones first (newest first), then those dealt with (most recent first)
  /** alarm id → the note being typed, and → the error under its form */
  alarmNotes: new Map(),
  alarmErrors: new Map(),
  link: 'connecting',
  /** the open reason form: { requestId, action, text, error } */
  form: null,
  /** the compartment admin form: { no, text, error } */
  compForm: null,
  busy: new Set(), // `${requestId}:${action}` or `c${no}:${op}` in flight
  /** the request last acted on: keyboard focus follows it when its row moves to another group */
  lastActed: null,
  /** the big answer at the top: { tone, zh, en, compartment, requestId } */
  answer: null,
};

// ------------------------------------------------------------------------------------------------
// Screens: sign-in, PIN change, console
// ------------------------------------------------------------------------------------------------

/** @param {'signin' | 'pin' | 'console'} screen */
function show(screen) {
  $('#signin-screen', HTMLElement).hidden = screen !== 'signin';
  $('#pin-screen', HTMLElement).hidden = screen !== 'pin';
  $('#console', HTMLElement).hidden = screen !== 'console';
  $('#status-area', HTMLElement).hidden = screen !== 'console';
}

function showSignin(note = '') {
  stopConsole();
  saveSession(null);
  show('signin');
  $('#signin-note', HTMLElement).textContent = note;
  $('#signin-error', HTMLElement).textContent = '';
  $('#pin', HTMLInputElement).value = '';
  $('#login', HTMLInputElement).focus();
}

function showPinChange() {
  stopConsole();
  show('pin');
  for (const id of ['current-pin', 'new-pin', 'new-pin2']) $(`#${id}`, HTMLInputElement).value = '';
  $('#pin-username', HTMLInputElement).value = loadSession()?.staff?.login ?? '';
  $('#pin-error', HTMLElement).textContent = '';
  $('#current-pin', HTMLInputElement).focus();
}

setAuthProblemHandler((err) => {
  if (err.code === 'PIN_CHANGE_REQUIRED') showPinChange();
  else showSignin('登录已过期或已退出，请重新登录。Your session has ended: please sign in again.');
});

/**
 * @param {HTMLElement} node
 * @param {unknown} err
 */
function fieldError(node, err) {
  node.replaceChildren(...bi(errorWords(err))); // Chinese, English beside it
}

$('#signin-form', HTMLFormElement).addEventListener('submit', async (e) => {
  e.preventDefault();
  const loginBox = $('#login', HTMLInputElement);
  const pinBox = $('#pin', HTMLInputElement);
  const login = loginBox.value.trim();
  const pin = pinBox.value;
  const out = $('#signin-error', HTMLElement);
  if (!login) {
    out.textContent = '请填写账号。Enter your login.';
    return loginBox.focus();
  }
  if (!pin) {
    out.textContent = '请填写 PIN。Enter your PIN.';
    return pinBox.focus();
  }
  out.textContent = '正在登录… Signing in…';
  try {
    /** @type {LoginAnswer} */
    const r = await api('POST', '/api/staff/login', { login, pin });
    saveSession({ token: r.token, staff: r.staff });
    out.textContent = '';
    pinBox.value = '';
    if (r.staff.mustChangePin) showPinChange();
    else startConsole(r.staff);
  } catch (err) {
    fieldError(out, err);
    pinBox.value = '';
    pinBox.focus();
  }
});

$('#pin-form', HTMLFormElement).addEventListener('submit', async (e) => {
  e.preventDefault();
  const currentBox = $('#current-pin', HTMLInputElement);
  const newBox = $('#new-pin', HTMLInputElement);
  const againBox = $('#new-pin2', HTMLInputElement);
  const currentPin = currentBox.value;
  const newPin = newBox.value;
  const out = $('#pin-error', HTMLElement);
  if (!currentPin) {
    out.textContent = '请填写现在的 PIN。Enter your current PIN.';
    return currentBox.focus();
  }
  if (!/^\d{6,12}$/.test(newPin)) {
    out.textContent = '新的 PIN 应为 6–12 位数字。The new PIN must be 6–12 digits.';
    return newBox.focus();
  }
  if (newPin !== againBox.value) {
    out.textContent = '两次输入的新 PIN 不一样，请再输一次。The two new PINs differ: enter it again.';
    againBox.value = '';
    return againBox.focus();
  }
  try {
    await api('POST', '/api/staff/me/pin', { currentPin, newPin });
    const s = loadSession();
    if (!s) return showSignin('登录已过期或已退出，请重新登录。Your session has ended: please sign in again.');
    const staff = { ...s.staff, mustChangePin: false };
    saveSession({ ...s, staff });
    startConsole(staff);
    showAnswer({ tone: 'ok', zh: 'PIN 已修改。', en: 'Your PIN has been changed.' });
  } catch (err) {
    fieldError(out, err);
    if (err instanceof ApiError && err.field === 'currentPin') currentBox.focus();
    else newBox.focus();
  }
});

async function signOut() {
  try {
    await api('POST', '/api/staff/logout');
  } catch {
    /* the session ends here anyway */
  }
  showSignin('已退出登录。You have signed out.');
}
$('#signout', HTMLButtonElement).addEventListener('click', signOut);
$('#pin-signout', HTMLButtonElement).addEventListener('click', signOut);

/** @param {StaffMember} me */
function startConsole(me) {
  const session = loadSession();
  if (!session) return showSignin('登录已过期或已退出，请重新登录。Your session has ended: please sign in again.');
  state.me = me;
  show('console');
  const role = me.role === 'admin' ? ['管理员', 'administrator'] : ['工作人员', 'staff'];
  $('#who', HTMLElement).replaceChildren(`${me.name}（${role[0]}）`, ' ', en(`${me.login}, ${role[1]}`) ?? '');
  document.body.classList.toggle('is-admin', me.role === 'admin');
  renderAll();
  startOffice(me);
  void refreshRequests();
  void refreshCompartments();
  void refreshAlarms();
  state.live = connectLive(session.token, {
    onMessage: onLiveMessage,
    onState: onLiveState,
    onAuthClosed: (code) => {
      if (code === 4403) showPinChange();
      else showSignin('登录已过期或已退出，请重新登录。Your session has ended: please sign in again.');
    },
  });
  $('#search', HTMLInputElement).focus();
}

function stopConsole() {
  stopOffice();
  state.live?.stop();
  state.live = null;
  for (const t of state.flashing.values()) clearTimeout(t);
  Object.assign(state, {
    me: null,
    lastActed: null,
    requests: [],
    search: null,
    detailId: null,
    detail: null,
    selectedNo: null,
    alarms: [],
    form: null,
    compForm: null,
    answer: null,
  });
  state.compartments.clear();
  state.alarmNotes.clear();
  state.alarmErrors.clear();
  state.flashing.clear();
  state.busy.clear();
  $('#search', HTMLInputElement).value = '';
}

// ------------------------------------------------------------------------------------------------
// Live channel
// ------------------------------------------------------------------------------------------------

/** @type {import('./live.js').LiveHandlers['onState']} */
function onLiveState(s, info) {
  const pill = $('#ws-status', HTMLElement);
  const banner = $('#conn-banner', HTMLElement);
  if (s === 'open') {
    pill.className = 'pill ok';
    pill.replaceChildren(...bi(['实时更新中', 'Live']));
    banner.hidden = true;
  } else if (s === 'connecting') {
    pill.className = 'pill wait';
    pill.replaceChildren(...bi(['正在连接…', 'Connecting…']));
  } else {
    pill.className = 'pill bad';
    const secs = info.retryInMs ? Math.max(1, Math.round(info.retryInMs / 1000)) : null;
    pill.replaceChildren(...bi(['连接中断', secs ? `Disconnected, retry in ${secs} s` : 'Disconnected']));
    banner.hidden = false;
  }
}
$('#reconnect', HTMLButtonElement).addEventListener('click', () => state.live?.retryNow());

/** @param {LiveMessage} msg */
function onLiveMessage(msg) {
  switch (msg.type) {
    case 'snapshot':
      setLink(msg.link?.state);
      for (const r of msg.requests?.open ?? []) state.numbers.set(r.id, r.number);
      for (const c of msg.compartments ?? []) patchCompartment(c);
      state.alarms = sortAlarms(msg.alarms ?? []);
      renderGrid();
      renderAlarms();
      // whatever happened while the channel was down
      void refreshRequests();
      void refreshCompartments();
      if (state.detailId) void refreshDetail();
      break;
    case 'compartment':
      patchCompartment(msg);
      onAnswerCompartment(msg);
      renderGrid();
      scheduleCompartments();
      break;
    case 'request':
      state.numbers.set(msg.id, msg.number);
      onAnswerRequest(msg);
      scheduleRequests();
      scheduleCompartments(); // the grid shows overdue documents too
      if (msg.id === state.detailId) scheduleDetail();
      break;
    case 'alarm': // new, or raised again (same id, larger count)
    case 'alarm-ack': {
      // dealt with, here or on another console
      const { type: _type, ...alarm } = msg;
      upsertAlarm(alarm);
      renderAlarms();
      break;
    }
    case 'link':
      setLink(msg.state);
      break;
    default:
      break;
  }
}

/** @param {string | undefined} s */
function setLink(s) {
  state.link = s ?? 'connecting';
  const pill = $('#link-status', HTMLElement);
  const words = wordsOf(LINK_WORDS, state.link) ?? [state.link, state.link];
  pill.className = `pill ${state.link === 'online' ? 'ok' : state.link === 'offline' ? 'bad' : 'wait'}`;
  pill.replaceChildren(...bi(words));
}

/**
 * @param {() => void} fn
 * @param {number} ms
 */
function debounce(fn, ms) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let t;
  return () => {
    clearTimeout(t);
    t = setTimeout(fn, ms);
  };
}
const scheduleRequests = debounce(() => void refreshRequests(), 120);
const scheduleCompartments = debounce(() => void refreshCompartments(), 250);
const scheduleDetail = debounce(() => void refreshDetail(), 120);

// ------------------------------------------------------------------------------------------------
// Data
// ------------------------------------------------------------------------------------------------

/**
 * Run `fn`; a failure shows as the answer at the top (an ended session has its own screen).
 * @param {() => Promise<void>} fn
 */
function quiet(fn) {
  return fn().catch((err) => {
    if (err instanceof ApiError && (err.status === 401 || err.code === 'PIN_CHANGE_REQUIRED')) return;
    showAnswer({ tone: 'error', ...pair(err) });
  });
}

/**
 * @param {string} q
 * @param {number} [enough]
 * @param {number} [maxCalls]
 * @returns {Promise<RequestList>}
 * Search, newest first. Each answer looks at a bounded slice of the history and says where to go on
 * (`nextBefore`); go on, a few slices at a time, until there are enough hits or nothing older is left.
 */
async function searchRequests(q, enough = 20, maxCalls = 40) {
  /** @type {RequestItem[]} */
  let results = [];
  /** @type {number | null} */
  let before = null;
  for (let i = 0; i < maxCalls; i++) {
    /** @type {RequestList} */
    const r = await api('GET', `/api/staff/requests?limit=100&q=${encodeURIComponent(q)}${before ? `&before=${before}` : ''}`);
    results = results.concat(r.requests);
    before = r.nextBefore;
    if (before === null || results.length >= enough) break;
  }
  return { requests: results, nextBefore: before };
}

function refreshRequests() {
  return quiet(async () => {
    if (!state.me) return;
    /** @type {RequestList} */
    const r = await api('GET', '/api/staff/requests?state=open&limit=500');
    state.requests = r.requests;
    for (const q of r.requests) state.numbers.set(q.id, q.number);
    if (state.search) {
      const s = await searchRequests(state.search.q);
      if (state.search) state.search.results = s.requests;
    }
    renderList();
  });
}

function refreshCompartments() {
  return quiet(async () => {
    if (!state.me) return;
    /** @type {CompartmentList} */
    const r = await api('GET', '/api/staff/compartments');
    for (const c of r.compartments) {
      state.compartments.set(c.no, c);
      if (c.contents) state.numbers.set(c.contents.requestId, c.contents.requestNumber);
    }
    renderGrid();
  });
}

function refreshAlarms() {
  return quiet(async () => {
    if (!state.me) return;
    /** @type {AlarmList} */
    const r = await api('GET', '/api/staff/alarms');
    state.alarms = sortAlarms(r.alarms);
    renderAlarms();
  });
}

function refreshDetail() {
  const id = state.detailId;
  if (!id) return Promise.resolve();
  return quiet(async () => {
    /** @type {RequestDetail} */
    const d = await api('GET', `/api/staff/requests/${id}`);
    if (state.detailId !== id) return;
    state.detail = d;
    state.numbers.set(d.id, d.number);
    renderDetail();
  });
}

/**
 * A live compartment event or snapshot row onto what we know (number and fault words come with the next fetch).
 * @param {{ no: number, state: string, door: string, requestId?: number | null }} e
 */
function patchCompartment(e) {
  const old = state.compartments.get(e.no) ?? { no: e.no, faultReason: null, contents: null, doorAt: null };
  /** @type {CompartmentContents | null} */
  let contents = old.contents;
  if (e.requestId === null) contents = null;
  else if (e.requestId !== undefined && (!contents || contents.requestId !== e.requestId)) {
    contents = { requestId: e.requestId, requestNumber: state.numbers.get(e.requestId) ?? '', requestState: '', direction: 'for_resident' };
  }
  state.compartments.set(e.no, { ...old, state: e.state, door: e.door, contents, faultReason: e.state === 'fault' ? old.faultReason : null });
}

// ------------------------------------------------------------------------------------------------
// The answer at the top (big words)
// ------------------------------------------------------------------------------------------------

/**
 * @param {unknown} err
 * @returns {{ zh: string, en: string }}
 */
function pair(err) {
  const [zh, enText] = errorWords(err);
  return { zh, en: enText };
}

/** @param {Answer | null} a */
function showAnswer(a) {
  state.answer = a;
  renderAnswer();
}

function renderAnswer() {
  const box = $('#answer', HTMLElement);
  const a = state.answer;
  box.hidden = !a;
  if (!a) return box.replaceChildren();
  box.className = `answer ${a.tone}`;
  /** @type {Record<Answer['tone'], Words>} */
  const leads = { ok: ['好了', 'Done'], warn: ['请注意', 'Please note'], error: ['没有成功', 'Not done'] };
  const lead = leads[a.tone];
  box.replaceChildren(
    el(
      'div',
      { class: 'answer-words' },
      el('p', { class: 'answer-lead' }, lead[0], ' ', en(lead[1])),
      el('p', { class: 'answer-zh', id: 'answer-text' }, a.zh),
      a.en ? el('p', { class: 'answer-en', lang: 'en' }, a.en) : null,
    ),
    el('button', { type: 'button', class: 'btn secondary', onclick: () => showAnswer(null) }, '知道了 ', en('OK')),
  );
}

/**
 * The door of the compartment we just opened closed: say so (the request event says what it meant).
 * @param {LiveCompartment} e
 */
function onAnswerCompartment(e) {
  const a = state.answer;
  if (!a || a.compartment !== e.no || !a.doorOpen) return;
  if (e.door === 'closed') {
    a.doorOpen = false;
    showAnswer({ ...a, tone: 'ok', zh: `${e.no} 号柜门已关好。`, en: `Door ${e.no} is closed.` });
  }
}

/** @param {LiveRequest} e */
function onAnswerRequest(e) {
  const a = state.answer;
  if (!a || a.requestId !== e.id) return;
  const no = a.compartment;
  /** @type {Record<string, [string, string, Answer['tone']] | null>} */
  const sentences = {
    loaded: [
      `${e.number} 已放入 ${no} 号柜，取件码已发给居民。`,
      `${e.number} is in compartment ${no}; the resident has been sent the pickup code.`,
      'ok',
    ],
    ready:
      e.from === 'loading'
        ? [
            `${no} 号柜关门时里面没有文件，${e.number} 仍是待装柜。`,
            `Compartment ${no} closed with nothing inside; ${e.number} is still waiting to be loaded.`,
            'warn',
          ]
        : null,
    retrieved: [`${e.number} 的文件已取回。`, `The document of ${e.number} has been taken back.`, 'ok'],
    materials_retrieved: [`${e.number} 的材料已取出，请受理。`, `Materials of ${e.number} taken out: accept or reject it now.`, 'ok'],
  };
  const words = sentences[e.state];
  if (words) showAnswer({ ...a, zh: words[0], en: words[1], tone: words[2], doorOpen: false });
}

// ------------------------------------------------------------------------------------------------
// Request actions
// ------------------------------------------------------------------------------------------------

/** @param {RequestItem} item */
function allowedActions(item) {
  const keys = ACTION_ORDER.filter((k) => item.actions.includes(k));
  return keys.filter((k) => !ACTIONS[k].adminOnly || state.me?.role === 'admin');
}

/**
 * @param {RequestItem} item
 * @param {ActionKey} key
 * @param {string} [reason]
 */
async function runAction(item, key, reason) {
  const a = ACTIONS[key];
  const busyKey = `${item.id}:${key}`;
  if (state.busy.has(busyKey)) return; // never send a door command twice for one click
  state.busy.add(busyKey);
  state.lastActed = item.id;
  renderList();
  renderDetail();
  try {
    const body = a.reason ? (reason ? { reason } : {}) : undefined;
    const path = `/api/staff/requests/${item.id}/${a.path}`;
    if (a.door) {
      /** @type {DoorAnswer} */
      const r = await api('POST', path);
      const tone = r.code === 'OPENED' ? 'ok' : r.code === 'CABINET_FULL' ? 'warn' : 'error';
      const [zh, enWords] = sayBoth(r);
      showAnswer({ tone, zh, en: enWords, compartment: r.compartment, requestId: item.id, doorOpen: r.opened });
      if (r.opened && r.compartment) flash(r.compartment);
    } else {
      await api('POST', path, { ...(body ?? {}), expectState: item.state });
      const w = DONE_WORDS[key] ?? ['已完成', 'Done'];
      showAnswer({ tone: 'ok', zh: `${item.number}：${w[0]}。`, en: `${item.number}: ${w[1]}.` });
    }
    if (state.form?.requestId === item.id) state.form = null;
  } catch (err) {
    if (state.form?.requestId === item.id && err instanceof ApiError && err.field === 'reason') {
      state.form.error = errorWords(err);
    } else {
      showAnswer({ tone: 'error', ...pair(err) });
    }
  } finally {
    state.busy.delete(busyKey);
    await refreshRequests();
    if (state.detailId === item.id) await refreshDetail();
    else renderDetail();
  }
}

/**
 * @param {RequestItem} item
 * @param {ActionKey} key
 */
function onActionClick(item, key) {
  const a = ACTIONS[key];
  if (a.reason) {
    state.form = { requestId: item.id, action: key, text: '', error: null };
    renderList();
    renderDetail();
    $maybe(`[data-fk="reason-${item.id}"]`, HTMLElement)?.focus();
    return;
  }
  void runAction(item, key);
}

/**
 * Staff saw the person's ID card: the held request becomes the registered resident's.
 * @param {RequestItem} item
 */
async function confirmIdentity(item) {
  const busyKey = `${item.id}:identity`;
  if (state.busy.has(busyKey)) return;
  state.busy.add(busyKey);
  renderDetail();
  try {
    await api('POST', `/api/staff/requests/${item.id}/confirm-identity`);
    const [zh, enWords] = sayBoth({ key: 'staff.identity_confirmed' });
    showAnswer({ tone: 'ok', zh: `${item.number}：${zh}`, en: `${item.number}: ${enWords}` });
  } catch (err) {
    showAnswer({ tone: 'error', ...pair(err) });
  } finally {
    state.busy.delete(busyKey);
    await refreshRequests();
    await refreshDetail();
  }
}

/**
 * A request held because the ID number given is registered to another resident: who, and the button to confirm.
 * @param {RequestItem} d
 */
function identityCheckNotice(d) {
  const c = d.identityCheck;
  if (!c) return null;
  const [zh, enWords] = sayBoth({
    key: 'staff.identity_check',
    params: { name: c.residentName, idNumber: c.idNumberMasked ?? '—', mobile: c.mobileMasked || '—' },
  });
  const [bz, be] = sayBoth({ key: 'staff.identity_confirm' });
  return el(
    'div',
    { class: 'notice identity-check', role: 'note' },
    el('p', {}, zh, ' ', en(enWords)),
    el(
      'button',
      {
        type: 'button',
        class: 'btn primary',
        'data-fk': `identity-${d.id}`,
        disabled: state.busy.has(`${d.id}:identity`),
        onclick: () => void confirmIdentity(d),
      },
      bz,
      ' ',
      en(be),
    ),
  );
}

/** @param {RequestItem} item */
async function reissueCode(item) {
  const busyKey = `${item.id}:reissue`;
  if (state.busy.has(busyKey)) return;
  state.busy.add(busyKey);
  renderDetail();
  try {
    await api('POST', `/api/staff/requests/${item.id}/reissue-code`);
    showAnswer({ tone: 'ok', zh: `${item.number}：${DONE_WORDS.reissue[0]}。`, en: `${item.number}: ${DONE_WORDS.reissue[1]}.` });
  } catch (err) {
    showAnswer({ tone: 'error', ...pair(err) });
  } finally {
    state.busy.delete(busyKey);
    await refreshDetail();
  }
}

/**
 * @param {RequestItem} item
 * @param {'row' | 'detail'} where
 */
function actionButtons(item, where) {
  const keys = allowedActions(item).filter((k) => where === 'detail' || ACTIONS[k].row);
  const buttons = keys.map((k) => {
    const a = ACTIONS[k];
    const busy = state.busy.has(`${item.id}:${k}`);
    return el(
      'button',
      {
        type: 'button',
        class: `btn ${a.kind}`,
        'data-fk': `${where}-${k}-${item.id}`,
        'data-action': k,
        'aria-disabled': busy ? 'true' : undefined,
        'aria-expanded': a.reason ? String(state.form?.requestId === item.id && state.form.action === k) : undefined,
        onclick: () => onActionClick(item, k),
      },
      busy ? '请稍候… ' : `${a.zh} `,
      en(busy ? 'Please wait' : a.en),
    );
  });
  if (where === 'detail' && (item.state === 'loaded' || item.state === 'overdue')) {
    const busy = state.busy.has(`${item.id}:reissue`);
    buttons.push(
      el(
        'button',
        {
          type: 'button',
          class: 'btn secondary',
          'data-fk': `detail-reissue-${item.id}`,
          'aria-disabled': busy ? 'true' : undefined,
          onclick: () => void reissueCode(item),
        },
        '重发取件码 ',
        en('Send a new pickup code'),
      ),
    );
  }
  return buttons.length ? el('div', { class: 'actions' }, buttons) : null;
}

/**
 * The reason form under a row (or in the detail) for reject / cancel: a real form field, never prompt().
 * @param {RequestItem} item
 * @param {'row' | 'detail'} where
 */
function reasonForm(item, where) {
  const f = state.form;
  if (!f || f.requestId !== item.id) return null;
  const a = ACTIONS[f.action];
  const id = `reason-${where}-${item.id}`;
  const errId = `${id}-err`;
  const required = a.reason === 'required';
  const label =
    f.action === 'reject'
      ? ['不予办理的原因（居民会看到）', 'Reason (the resident will see it)']
      : ['取消的原因（可不填）', 'Reason for cancelling (optional)'];
  const submit = (/** @type {Event} */ e) => {
    e.preventDefault();
    if (state.busy.has(`${item.id}:${f.action}`)) return;
    const text = f.text.trim();
    if (required && !text) {
      f.error = sayBoth({ key: 'input.reason_required' });
      renderList();
      renderDetail();
      $maybe(`[data-fk="reason-${item.id}"]`, HTMLElement)?.focus();
      return;
    }
    void runAction(item, f.action, text);
  };
  const busy = state.busy.has(`${item.id}:${f.action}`);
  return el(
    'form',
    { class: 'reason-form', novalidate: true, onsubmit: submit },
    el('label', { for: id }, label[0], ' ', en(label[1])),
    el('textarea', {
      id,
      rows: '2',
      maxlength: '500',
      'data-fk': `reason-${item.id}`,
      value: f.text,
      required,
      'aria-invalid': f.error ? 'true' : undefined,
      'aria-describedby': f.error ? errId : undefined,
      oninput: (e) => {
        if (e.target instanceof HTMLTextAreaElement) f.text = e.target.value;
      },
    }),
    f.error ? el('p', { class: 'error', id: errId, role: 'alert' }, bi(f.error)) : null,
    el(
      'div',
      { class: 'actions' },
      el(
        'button',
        { type: 'submit', class: `btn ${a.kind}`, 'data-fk': `reason-submit-${item.id}`, 'aria-disabled': busy ? 'true' : undefined },
        `确认${a.zh} `,
        en(`Confirm: ${a.en.toLowerCase()}`),
      ),
      el(
        'button',
        { type: 'button', class: 'btn secondary', 'data-fk': `reason-back-${item.id}`, onclick: () => closeForm(item) },
        '返回 ',
        en('Back'),
      ),
    ),
  );
}

/** @param {{ id: number }} item */
function closeForm(item) {
  state.form = null;
  renderList();
  renderDetail();
  $maybe(`[data-action="${'reject'}"][data-fk$="-${item.id}"]`, HTMLElement)?.focus();
}

// ------------------------------------------------------------------------------------------------
// Request list
// ------------------------------------------------------------------------------------------------

/** @param {RequestItem} item */
function stateLabel(item) {
  const w = stateWords(item.state);
  return el(
    'span',
    { class: `state st-${item.state}` },
    item.state === 'overdue' ? el('strong', { class: 'overdue-tag' }, '逾期') : null,
    w[0],
    ' ',
    en(w[1]),
  );
}

/** @param {RequestItem} item */
function row(item) {
  return el(
    'li',
    { class: `row${item.state === 'overdue' ? ' is-overdue' : ''}${state.detailId === item.id ? ' is-current' : ''}`, 'data-request': item.number },
    el(
      'div',
      { class: 'row-main' },
      el(
        'button',
        {
          type: 'button',
          class: 'linkish num',
          'data-fk': `open-${item.id}`,
          onclick: () => openDetail(item.id),
          'aria-label': `${item.number} 查看详情 / details`,
        },
        item.number,
      ),
      el('span', { class: 'doc' }, item.serviceNameZh),
      el('span', { class: 'person' }, maskName(item.residentName), ' · ', item.mobileMasked),
      stateLabel(item),
      item.compartmentNo ? el('span', { class: 'where' }, `${item.compartmentNo} 号柜`, ' ', en(`No. ${item.compartmentNo}`)) : null,
    ),
    actionButtons(item, 'row'),
    reasonForm(item, 'row'),
  );
}

function renderList() {
  const view = $('#list-view', HTMLElement);
  if (!state.me) return view.replaceChildren();
  /** @type {HTMLElement[]} */
  const parts = [];
  if (state.search) {
    const res = state.search.results ?? [];
    parts.push(
      el(
        'section',
        { class: 'group', 'aria-labelledby': 'g-search' },
        el(
          'h3',
          { id: 'g-search' },
          `搜索“${state.search.q}”的结果 `,
          en(`Results for “${state.search.q}”`),
          el('span', { class: 'count' }, ` ${res.length}`),
        ),
        res.length ? el('ol', { class: 'rows' }, res.map(row)) : el('p', { class: 'empty' }, '没有找到。', en('Nothing found.')),
      ),
    );
  } else {
    const byCreated = (/** @type {RequestItem} */ a, /** @type {RequestItem} */ b) => a.createdAt.localeCompare(b.createdAt);
    for (const g of GROUPS) {
      const items = state.requests
        .filter((r) => g.states.includes(r.state))
        .sort((a, b) => g.states.indexOf(a.state) - g.states.indexOf(b.state) || byCreated(a, b));
      const id = `g-${g.key}`;
      parts.push(
        el(
          'section',
          { class: `group${items.length ? '' : ' is-empty'}`, 'data-group': g.key, 'aria-labelledby': id },
          el('h3', { id }, `${g.zh} `, en(g.en), el('span', { class: 'count' }, items.length ? ` ${items.length}` : ' 没有 none')),
          items.length ? el('ol', { class: 'rows' }, items.map(row)) : null,
        ),
      );
    }
  }
  // keep the keyboard where it was: the same button, else the request's number, wherever its row went
  const fallback = [
    state.form ? `reason-${state.form.requestId}` : null,
    state.lastActed ? `open-${state.lastActed}` : null,
    state.detailId ? `open-${state.detailId}` : null,
  ].filter(Boolean);
  replaceKeepingFocus(view, parts, fallback);
}

// ------------------------------------------------------------------------------------------------
// Search (typed, or a scanned request-number barcode + Enter)
// ------------------------------------------------------------------------------------------------

/**
 * @param {string} q
 * @param {{ openExact: boolean }} how  openExact: Enter (or a scanner) was pressed, open the one request found
 */
async function runSearch(q, { openExact }) {
  q = q.trim();
  const box = $('#search', HTMLInputElement);
  const note = $('#search-note', HTMLElement);
  $('#search-clear', HTMLElement).hidden = !q;
  if (!q) {
    state.search = null;
    note.textContent = '';
    return renderList();
  }
  try {
    const r = await searchRequests(q);
    if (box.value.trim() !== q && !openExact) return; // typed on meanwhile
    state.search = { q, results: r.requests };
    for (const x of r.requests) state.numbers.set(x.id, x.number);
    renderList();
    const exact = r.requests.find((x) => x.number.toUpperCase() === q.toUpperCase());
    const only = r.requests.length === 1 ? r.requests[0] : undefined;
    if (openExact) {
      const found = exact ?? only;
      if (found) {
        note.textContent = '';
        openDetail(found.id);
        box.select();
      } else if (REQUEST_NUMBER_RE.test(q)) {
        note.textContent = `没有找到申请 ${q.toUpperCase()}。No request ${q.toUpperCase()}.`;
      } else {
        note.textContent = r.requests.length
          ? `找到 ${r.requests.length} 个，请点编号查看。${r.requests.length} found: choose one.`
          : '没有找到。Nothing found.';
      }
    }
  } catch (err) {
    note.replaceChildren(...bi(errorWords(err)));
  }
}

const searchAsYouType = debounce(() => void runSearch($('#search', HTMLInputElement).value, { openExact: false }), 350);
$('#search', HTMLInputElement).addEventListener('input', () => {
  $('#search-note', HTMLElement).textContent = '';
  searchAsYouType();
});
$('#search-form', HTMLFormElement).addEventListener('submit', (e) => {
  e.preventDefault();
  void runSearch($('#search', HTMLInputElement).value, { openExact: true });
});
$('#search-clear', HTMLButtonElement).addEventListener('click', () => {
  const box = $('#search', HTMLInputElement);
  box.value = '';
  void runSearch('', { openExact: false });
  box.focus();
});

// A barcode scanner types like a keyboard: typing while no field has focus goes into the search box.
document.addEventListener('keydown', (e) => {
  if ($('#console', HTMLElement).hidden) return;
  const t = e.target;
  if (e.key === 'Escape') {
    if (state.form) {
      const item = { id: state.form.requestId };
      return closeForm(item);
    }
    if (state.compForm || state.selectedNo) return closeCompartment();
    if (state.detailId) return closeDetail();
    return;
  }
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return;
  if (e.ctrlKey || e.altKey || e.metaKey || e.key.length !== 1 || e.key === ' ') return;
  e.preventDefault();
  const box = $('#search', HTMLInputElement);
  box.value = e.key;
  box.focus();
});

// ------------------------------------------------------------------------------------------------
// Request detail with its audit trail
// ------------------------------------------------------------------------------------------------

/** @param {number} id */
function openDetail(id) {
  if (state.form && state.form.requestId !== id) state.form = null;
  state.detailId = id;
  state.detail = null;
  $('#list-view', HTMLElement).hidden = true;
  $('#detail-view', HTMLElement).hidden = false;
  renderDetail();
  void refreshDetail().then(() => $maybe('#detail-title', HTMLElement)?.focus());
  renderList();
}

function closeDetail() {
  const id = state.detailId;
  state.detailId = null;
  state.detail = null;
  if (state.form) state.form = null;
  $('#detail-view', HTMLElement).hidden = true;
  $('#list-view', HTMLElement).hidden = false;
  renderList();
  const back = $maybe(`[data-fk="open-${id}"]`, HTMLElement);
  if (back) back.focus();
  else $('#search', HTMLInputElement).focus();
}

/** @type {Readonly<Record<RequestNotification['status'], Words>>} */
const NOTIFY_STATUS = /** @type {Readonly<Record<RequestNotification['status'], Words>>} */ (
  wordTable('staff.notify_status.', ['pending', 'sent', 'failed', 'cancelled'])
);
/** @type {Readonly<Record<RequestNotification['kind'], Words>>} one for each kind the server sends (controller/store/outbox.ts) */
const NOTIFY_KIND = /** @type {Readonly<Record<RequestNotification['kind'], Words>>} */ (
  wordTable('staff.notify_kind.', ['ready_with_code', 'overdue_reminder', 'rejected', 'materials_received', 'item_retrieved'])
);

/** @param {Record<string, unknown>} d  an audit row's detail */
function auditDetailWords(d) {
  const out = [];
  if (typeof d.reason === 'string' && d.reason) out.push(`原因：${d.reason}`);
  if (typeof d.note === 'string' && d.note) out.push(`备注：${d.note}`);
  if (typeof d.from === 'string' && typeof d.to === 'string') out.push(`${stateWords(String(d.from))[0]} → ${stateWords(String(d.to))[0]}`);
  if (typeof d.purpose === 'string' && d.purpose) out.push(`用途：${d.purpose}`);
  return out.join('；');
}

function renderDetail() {
  const view = $('#detail-view', HTMLElement);
  if (!state.detailId) return view.replaceChildren();
  const d = state.detail && state.detail.id === state.detailId ? state.detail : null;
  const back = el(
    'button',
    { type: 'button', class: 'btn secondary', 'data-fk': 'detail-back', onclick: closeDetail },
    '← 返回列表 ',
    en('Back to the list'),
  );
  if (!d) {
    return replaceKeepingFocus(view, [back, el('p', { class: 'note' }, '正在读取… ', en('Loading…'))], ['detail-back']);
  }
  const addr = d.resident.address ? addressText(d.resident.address) : '—';
  /** @type {([Words, Node | string] | null)[]} */
  const facts = [
    [['状态', 'State'], stateLabel(d)],
    [['居民', 'Resident'], d.resident.name],
    [['手机', 'Mobile'], d.resident.mobileMasked || '—'],
    [['身份证', 'ID number'], d.resident.idNumberMasked ?? '—'],
    [['住址', 'Address'], addr],
    [['柜格', 'Compartment'], d.compartmentNo ? `${d.compartmentNo} 号柜` : '—'],
    [['提交时间', 'Submitted'], timeWords(d.createdAt)],
    d.loadedAt ? [['装柜时间', 'Loaded'], timeWords(d.loadedAt)] : null,
    d.reason ? [['原因', 'Reason'], d.reason] : null,
    d.note ? [['居民备注', 'Note'], d.note] : null,
  ];
  const audit = [...d.audit].reverse(); // newest first
  const parts = [
    back,
    el('h2', { id: 'detail-title', tabindex: '-1' }, d.number, ' ', el('span', { class: 'doc' }, d.serviceNameZh)),
    el(
      'dl',
      { class: 'facts' },
      facts.filter((f) => f !== null).flatMap(([k, v]) => [el('dt', {}, k[0], ' ', en(k[1])), el('dd', {}, v)]),
    ),
    identityCheckNotice(d),
    actionButtons(d, 'detail'),
    reasonForm(d, 'detail'),
    d.notifications.length ? el('h3', {}, '给居民的消息 ', en('Messages to the resident')) : null,
    d.notifications.length
      ? el(
          'ul',
          { class: 'notifications' },
          d.notifications.map((n) => {
            const k = NOTIFY_KIND[n.kind] ?? [n.kind, n.kind];
            const s = NOTIFY_STATUS[n.status] ?? [n.status, n.status];
            return el(
              'li',
              {},
              `${timeWords(n.createdAt)} ${k[0]}：${s[0]}`,
              ' ',
              en(`${k[1]}: ${s[1]}`),
              n.lastError ? el('span', { class: 'error' }, `（${n.lastError}）`) : null,
            );
          }),
        )
      : null,
    el('h3', { id: 'audit-title' }, '办理记录 ', en('Audit trail'), el('span', { class: 'count' }, ` ${audit.length}`)),
    el(
      'table',
      { class: 'audit', 'aria-labelledby': 'audit-title' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, '时间 ', en('Time')), el('th', { scope: 'col' }, '发生了什么 ', en('What happened')))),
      el(
        'tbody',
        {},
        audit.map((e) => {
          const w = historySentence(e, state.me);
          const extra = auditDetailWords(e.detail ?? {});
          return el(
            'tr',
            {},
            el('td', { class: 'nowrap' }, timeWords(e.at)),
            el('td', {}, `${w[0]}。`, extra ? el('div', { class: 'sub' }, extra) : null, ' ', en(`${w[1]}.`)),
          );
        }),
      ),
    ),
  ];
  replaceKeepingFocus(view, parts, ['detail-back']);
}

// ------------------------------------------------------------------------------------------------
// Compartment grid
// ------------------------------------------------------------------------------------------------

/** @param {number} no */
function flash(no) {
  clearTimeout(state.flashing.get(no));
  state.flashing.set(
    no,
    setTimeout(() => {
      state.flashing.delete(no);
      renderGrid();
    }, 10_000),
  );
  renderGrid();
}

/**
 * @param {GridCompartment} c
 * @returns {Words}
 */
function compartmentWords(c) {
  const s = wordsOf(COMPARTMENT_WORDS, c.state) ?? [c.state, c.state];
  if (c.state === 'occupied' && c.contents?.direction === 'for_staff') return ['有材料', 'Materials inside'];
  if (c.state === 'occupied') return ['有文件', 'Document inside'];
  return s;
}

function renderGrid() {
  const grid = $('#grid', HTMLElement);
  const list = [...state.compartments.values()].sort((a, b) => a.no - b.no);
  const cells = list.map((c) => {
    const s = compartmentWords(c);
    const door = wordsOf(DOOR_WORDS, c.door) ?? [c.door, c.door];
    const num = c.contents?.requestNumber || (c.contents ? (state.numbers.get(c.contents.requestId) ?? '') : '');
    const cls = [
      'cell',
      `cs-${c.state}`,
      `door-${c.door}`,
      state.flashing.has(c.no) ? 'flash' : '',
      state.selectedNo === c.no ? 'is-selected' : '',
    ].join(' ');
    const label = [`${c.no} 号柜`, s[0], door[0], num, c.contents?.requestState === 'overdue' ? '逾期' : '', c.faultReason ?? '']
      .filter(Boolean)
      .join('，');
    return el(
      'div',
      { role: 'listitem', class: 'cell-wrap' },
      el(
        'button',
        {
          type: 'button',
          class: cls,
          'data-no': c.no,
          'data-state': c.state,
          'data-door': c.door,
          'data-fk': `cell-${c.no}`,
          'aria-label': label,
          'aria-pressed': String(state.selectedNo === c.no),
          onclick: () => selectCompartment(c.no),
        },
        el(
          'span',
          { class: 'ctop' },
          el('span', { class: 'cno' }, `${c.no}`, el('span', { class: 'unit' }, '号')),
          el('span', { class: 'cstate' }, s[0]),
        ),
        el('span', { class: 'cdoor' }, door[0]),
        num ? el('span', { class: 'creq' }, num) : null,
        c.contents?.requestState === 'overdue' ? el('span', { class: 'overdue-tag' }, '逾期') : null,
        c.state === 'fault' && c.faultReason ? el('span', { class: 'cfault' }, c.faultReason) : null,
        state.flashing.has(c.no) && c.door === 'open' ? el('span', { class: 'cflash' }, '刚打开') : null,
      ),
    );
  });
  replaceKeepingFocus(grid, cells);
  renderLegend();
  renderCompartmentPanel();
}

/** What the cell words and colours mean, Chinese and English (the cells themselves only have room for Chinese). */
function renderLegend() {
  const legend = $('#grid-legend', HTMLElement);
  if (legend.childElementCount) return;
  /** @type {[string, Words][]} */
  const items = [
    ['free', COMPARTMENT_WORDS.free],
    ['occupied', ['有文件', 'Document inside']],
    ['occupied', ['有材料', 'Materials inside']],
    ['reserved', COMPARTMENT_WORDS.reserved],
    ['open', COMPARTMENT_WORDS.open],
    ['fault', COMPARTMENT_WORDS.fault],
    ['disabled', COMPARTMENT_WORDS.disabled],
  ];
  legend.replaceChildren(
    ...items.map(([st, w]) => el('li', {}, el('span', { class: `swatch cs-${st}`, 'aria-hidden': 'true' }), w[0], ' ', en(w[1]))),
  );
}

/** @param {number} no */
function selectCompartment(no) {
  if (state.selectedNo === no) return closeCompartment();
  state.selectedNo = no;
  state.compForm = { no, text: '', error: null };
  renderGrid();
}

function closeCompartment() {
  const no = state.selectedNo;
  state.selectedNo = null;
  state.compForm = null;
  renderGrid();
  if (no) $maybe(`[data-fk="cell-${no}"]`, HTMLElement)?.focus();
}

/**
 * @param {number} no
 * @param {CompartmentOp} op
 */
async function compartmentOp(no, op) {
  const f = state.compForm;
  const reason = (f?.text ?? '').trim();
  if (reason.length < 2) {
    if (f) f.error = sayBoth({ key: 'staff.reason_min_two' });
    renderCompartmentPanel();
    $maybe('[data-fk="comp-reason"]', HTMLElement)?.focus();
    return;
  }
  const busyKey = `c${no}:${op}`;
  if (state.busy.has(busyKey)) return;
  state.busy.add(busyKey);
  renderCompartmentPanel();
  try {
    const path = `/api/staff/compartments/${no}/${op}`;
    if (op === 'force-open') {
      /** @type {DoorAnswer} */
      const r = await api('POST', path, { reason });
      const tone = r.code === 'OPENED' ? 'ok' : 'error';
      const [zh, enWords] = sayBoth(r);
      showAnswer({ tone, zh, en: enWords, compartment: r.compartment, doorOpen: r.opened });
      if (r.opened) flash(no);
    } else {
      await api('POST', path, { reason });
      showAnswer({
        tone: 'ok',
        zh: op === 'disable' ? `${no} 号柜已停用。` : `${no} 号柜已恢复使用。`,
        en: op === 'disable' ? `Compartment ${no} is out of service.` : `Compartment ${no} is back in service.`,
      });
    }
    if (state.compForm) state.compForm = { no, text: '', error: null };
  } catch (err) {
    if (err instanceof ApiError && err.field === 'reason' && state.compForm) state.compForm.error = errorWords(err);
    else showAnswer({ tone: 'error', ...pair(err) });
  } finally {
    state.busy.delete(busyKey);
    await refreshCompartments();
  }
}

function renderCompartmentPanel() {
  const panel = $('#comp-panel', HTMLElement);
  const c = state.selectedNo ? state.compartments.get(state.selectedNo) : null;
  panel.hidden = !c;
  if (!c) return panel.replaceChildren();
  const s = compartmentWords(c);
  const door = wordsOf(DOOR_WORDS, c.door) ?? [c.door, c.door];
  const contents = c.contents;
  const num = contents?.requestNumber || '';
  /** @type {(HTMLElement | null)[]} */
  const parts = [
    el('h3', {}, `${c.no} 号柜 `, en(`Compartment ${c.no}`)),
    el('p', {}, s[0], ' ', en(s[1]), '，', door[0], ' ', en(door[1]), c.doorAt ? `（${timeWords(c.doorAt)}）` : ''),
    c.faultReason ? el('p', { class: 'error' }, '故障原因：', c.faultReason) : null,
    num && contents
      ? el(
          'p',
          {},
          '柜内：',
          el('button', { type: 'button', class: 'linkish', 'data-fk': 'comp-open-req', onclick: () => openDetail(contents.requestId) }, num),
        )
      : null,
  ];
  if (state.me?.role === 'admin') {
    const f = state.compForm ?? { no: c.no, text: '', error: null };
    state.compForm = f;
    /** @type {[CompartmentOp, string, string, string][]} */
    const ops = [];
    if (c.state !== 'disabled' && c.state !== 'opening' && c.state !== 'open') ops.push(['force-open', '强制开门', 'Force open', 'danger']);
    if (c.state === 'free' || c.state === 'fault') ops.push(['disable', '停用', 'Disable', 'secondary']);
    if (c.state === 'disabled') ops.push(['enable', '恢复使用', 'Enable', 'primary']);
    parts.push(
      el(
        'form',
        { class: 'reason-form', novalidate: true, onsubmit: (e) => e.preventDefault() },
        el('label', { for: 'comp-reason' }, '原因（必填，会记录在案） ', en('Reason (required, kept in the audit log)')),
        el('textarea', {
          id: 'comp-reason',
          rows: '2',
          maxlength: '200',
          'data-fk': 'comp-reason',
          value: f.text,
          'aria-invalid': f.error ? 'true' : undefined,
          'aria-describedby': f.error ? 'comp-reason-err' : undefined,
          oninput: (e) => {
            if (e.target instanceof HTMLTextAreaElement) f.text = e.target.value;
          },
        }),
        f.error ? el('p', { class: 'error', id: 'comp-reason-err', role: 'alert' }, bi(f.error)) : null,
        el(
          'div',
          { class: 'actions' },
          ops.map(([op, zh, enText, kind]) => {
            const busy = state.busy.has(`c${c.no}:${op}`);
            return el(
              'button',
              {
                type: 'button',
                class: `btn ${kind}`,
                'data-fk': `comp-${op}`,
                'aria-disabled': busy ? 'true' : undefined,
                onclick: () => void compartmentOp(c.no, op),
              },
              busy ? '请稍候… ' : `${zh} `,
              en(busy ? 'Please wait' : enText),
            );
          }),
        ),
      ),
    );
  } else {
    parts.push(
      el(
        'p',
        { class: 'note' },
        '强制开门、停用和恢复只有管理员可以操作。',
        en('Only an administrator can force a door open or take a compartment out of service.'),
      ),
    );
  }
  parts.push(el('button', { type: 'button', class: 'btn secondary', 'data-fk': 'comp-close', onclick: closeCompartment }, '收起 ', en('Close')));
  replaceKeepingFocus(panel, parts, ['comp-close']);
}

// ------------------------------------------------------------------------------------------------
// Alarms
// ------------------------------------------------------------------------------------------------

/** Open ones first, the most recently raised first; then those dealt with, the most recent first. */
/** @param {readonly Alarm[]} list */
function sortAlarms(list) {
  const key = (/** @type {Alarm} */ a) => (a.acknowledged ? a.acknowledged.at : (a.lastAt ?? a.at));
  return [...list].sort((a, b) => Number(!!a.acknowledged) - Number(!!b.acknowledged) || key(b).localeCompare(key(a)) || b.id - a.id).slice(0, 200);
}

/** @param {Alarm} alarm */
function upsertAlarm(alarm) {
  state.alarms = sortAlarms([alarm, ...state.alarms.filter((a) => a.id !== alarm.id)]);
}

/** @param {Alarm} a */
async function ackAlarm(a) {
  const key = `a${a.id}:ack`;
  if (state.busy.has(key)) return;
  state.busy.add(key);
  state.alarmErrors.delete(a.id);
  renderAlarms();
  try {
    const note = (state.alarmNotes.get(a.id) ?? '').trim();
    /** @type {AlarmAckAnswer} */
    const r = await api('POST', `/api/staff/alarms/${a.id}/ack`, note ? { note } : {});
    state.alarmNotes.delete(a.id);
    upsertAlarm(r.alarm);
  } catch (err) {
    if (err instanceof ApiError && err.field === 'note') state.alarmErrors.set(a.id, errorWords(err));
    else if (err instanceof ApiError && err.code === 'ALARM_ALREADY_ACKNOWLEDGED') {
      // someone else was quicker: the list will say who
      showAnswer({ tone: 'warn', ...pair(err) });
      await refreshAlarms();
    } else showAnswer({ tone: 'error', ...pair(err) });
  } finally {
    state.busy.delete(key);
    renderAlarms();
  }
}

/** @param {number} open  how many alarms are open */
function renderAlarmStatus(open) {
  $('#alarm-count', HTMLElement).textContent = open ? ` ${open}` : '';
  const pill = $('#alarm-status', HTMLElement);
  pill.className = `pill ${open ? 'bad' : 'ok'}`;
  pill.replaceChildren(...bi(open ? [`${open} 条报警未处理`, `${open} open alarm${open === 1 ? '' : 's'}`] : ['没有未处理的报警', 'No open alarms']));
}

/** @param {Alarm} a */
function alarmItem(a) {
  const kind = alarmWords(a.kind);
  // what it says, from its key; an alarm stored before alarms had keys shows its message as it was raised
  const [zh, enText] = a.key ? sayBoth({ key: a.key, params: a.params }) : [a.message, ''];
  const done = a.acknowledged;
  const head = el(
    'p',
    { class: 'alarm-head' },
    el('span', { class: 'alarm-time' }, timeWords(a.at)),
    ' ',
    el('strong', {}, done ? '✓ ' : '⚠ ', kind[0]),
    ' ',
    en(kind[1]),
    a.compartment ? el('span', { class: 'alarm-where' }, ` · ${a.compartment} 号柜`) : null,
    a.count > 1 ? el('span', { class: 'alarm-repeat' }, ` · 共 ${a.count} 次，最近 ${timeWords(a.lastAt)}`, en(`${a.count} times`)) : null,
  );
  /** @type {HTMLElement[]} */
  const parts = [head, el('p', { class: 'alarm-msg' }, zh, ' ', en(enText))];
  if (done) {
    parts.push(
      el(
        'p',
        { class: 'alarm-done' },
        `已处理：${done.by.name}，${timeWords(done.at)}`,
        done.note ? `。说明：${done.note}` : '',
        en(`Done by ${done.by.name}`),
      ),
    );
  }
  const where = a.compartment;
  const show = where
    ? el(
        'button',
        { type: 'button', class: 'btn secondary small', 'data-fk': `alarm-show-${a.id}`, onclick: () => selectCompartment(where) },
        `查看 ${where} 号柜 `,
        en('Show'),
      )
    : null;
  if (done || a.id < 0) {
    if (a.id < 0) parts.push(el('p', { class: 'note' }, '这条报警没能保存，重启后不再显示。', en('Not saved: gone after a restart.')));
    if (show) parts.push(show);
  } else {
    const busy = state.busy.has(`a${a.id}:ack`);
    const error = state.alarmErrors.get(a.id);
    const noteId = `alarm-note-${a.id}`;
    parts.push(
      el(
        'form',
        {
          class: 'alarm-ack',
          novalidate: true,
          onsubmit: (e) => {
            e.preventDefault();
            void ackAlarm(a);
          },
        },
        el('label', { for: noteId }, '处理说明（可不填） ', en('Note (optional)')),
        el('input', {
          id: noteId,
          type: 'text',
          maxlength: '200',
          autocomplete: 'off',
          'data-fk': noteId,
          value: state.alarmNotes.get(a.id) ?? '',
          'aria-invalid': error ? 'true' : undefined,
          'aria-describedby': error ? `${noteId}-err` : undefined,
          oninput: (e) => {
            if (e.target instanceof HTMLInputElement) state.alarmNotes.set(a.id, e.target.value);
          },
        }),
        error ? el('p', { class: 'error', id: `${noteId}-err`, role: 'alert' }, bi(error)) : null,
        el(
          'div',
          { class: 'actions' },
          el(
            'button',
            { type: 'submit', class: 'btn primary', 'data-fk': `alarm-ack-${a.id}`, 'aria-disabled': busy ? 'true' : undefined },
            busy ? '请稍候… ' : '已处理 ',
            en(busy ? 'Please wait' : 'Done'),
          ),
          show,
        ),
      ),
    );
  }
  return el(
    'li',
    { class: `alarm ak-${a.kind}${done ? ' done' : ''}`, 'data-kind': a.kind, 'data-alarm': String(a.id), 'data-open': done ? 'false' : 'true' },
    ...parts,
  );
}

function renderAlarms() {
  const list = $('#alarms', HTMLElement);
  const open = state.alarms.filter((a) => !a.acknowledged);
  renderAlarmStatus(open.length);
  if (!state.alarms.length) {
    return list.replaceChildren(el('li', { class: 'empty' }, '现在没有报警。', en('No alarms.')));
  }
  // after "已处理" the item moves down: keyboard focus goes on to the next open alarm's button
  replaceKeepingFocus(
    list,
    state.alarms.map(alarmItem),
    open.map((a) => `alarm-ack-${a.id}`),
  );
}

// ------------------------------------------------------------------------------------------------
// Everything
// ------------------------------------------------------------------------------------------------

function renderAll() {
  setLink(state.link);
  renderAnswer();
  renderList();
  renderDetail();
  renderGrid();
  renderAlarms();
}

async function boot() {
  // the words for the keys the API answers with; without them a key shows as itself, and the console still works
  await loadWords().catch(() => undefined);
  const s = loadSession();
  if (!s) return showSignin();
  try {
    /** @type {MeAnswer} */
    const r = await api('GET', '/api/staff/me');
    saveSession({ ...s, staff: r.staff });
    if (r.staff.mustChangePin) showPinChange();
    else startConsole(r.staff);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return; // the handler showed the sign-in
    showSignin(err instanceof Error ? err.message : String(err));
  }
}

void boot();
