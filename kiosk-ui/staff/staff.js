// The staff console: sign-in, the request list by what needs doing, the request detail with its audit trail,
// the 24 compartments and the alarms, both live from /ws/staff. Everything the page allows, the API checks again.
import { addressText } from '../shared/address.js';
import { $, $maybe } from '../shared/elements.js';
import { loadWords, renderWords, sayBoth, sayEach } from '../shared/words.js';
import { api, ApiError, errorWords, loadSession, saveSession, setAuthProblemHandler } from './api.js';
import { bi, el, en, replaceKeepingFocus } from './dom.js';
import { connectLive } from './live.js';
import { startOffice, stopOffice } from './office.js';
import {
  ACTION_ORDER,
  ACTIONS,
  alarmWords,
  auditDetailWords,
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

/**
 * The catalogue's words for `key`: [中文, English].
 * @param {string} key
 * @param {Readonly<Record<string, import('../shared/words.js').WordParam>>} [params]
 * @returns {[string, string]}
 */
const w = (key, params) => sayBoth(params ? { key, params } : { key });

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

/** @param {Words | null} [note] */
function showSignin(note = null) {
  stopConsole();
  saveSession(null);
  show('signin');
  $('#signin-note', HTMLElement).replaceChildren(...(note ? bi(note) : []));
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
  else showSignin(w('staff.session_ended'));
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
    out.replaceChildren(...bi(w('staff.enter_login')));
    return loginBox.focus();
  }
  if (!pin) {
    out.replaceChildren(...bi(w('staff.enter_pin')));
    return pinBox.focus();
  }
  out.replaceChildren(...bi(w('staff.signing_in')));
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
    out.replaceChildren(...bi(w('staff.enter_current_pin')));
    return currentBox.focus();
  }
  if (!/^\d{6,12}$/.test(newPin)) {
    out.replaceChildren(...bi(w('staff.new_pin_format')));
    return newBox.focus();
  }
  if (newPin !== againBox.value) {
    out.replaceChildren(...bi(w('staff.new_pins_differ')));
    againBox.value = '';
    return againBox.focus();
  }
  try {
    await api('POST', '/api/staff/me/pin', { currentPin, newPin });
    const s = loadSession();
    if (!s) return showSignin(w('staff.session_ended'));
    const staff = { ...s.staff, mustChangePin: false };
    saveSession({ ...s, staff });
    startConsole(staff);
    showAnswer({ tone: 'ok', ...pairOf(w('staff.pin_changed')) });
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
  showSignin(w('staff.signed_out'));
}
$('#signout', HTMLButtonElement).addEventListener('click', signOut);
$('#pin-signout', HTMLButtonElement).addEventListener('click', signOut);

/** @param {StaffMember} me */
function startConsole(me) {
  const session = loadSession();
  if (!session) return showSignin(w('staff.session_ended'));
  state.me = me;
  show('console');
  // the name in Chinese, the login in English (as the accounts list shows them)
  const [zh, enWords] = sayEach(me.role === 'admin' ? 'staff.signed_in_admin' : 'staff.signed_in_staff', {}, { name: [me.name, me.login] });
  $('#who', HTMLElement).replaceChildren(zh, ' ', en(enWords) ?? '');
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
      else showSignin(w('staff.session_ended'));
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
    pill.replaceChildren(...bi(w('staff.live.open')));
    banner.hidden = true;
  } else if (s === 'connecting') {
    pill.className = 'pill wait';
    pill.replaceChildren(...bi(w('staff.live.connecting')));
  } else {
    pill.className = 'pill bad';
    const secs = info.retryInMs ? Math.max(1, Math.round(info.retryInMs / 1000)) : null;
    pill.replaceChildren(...bi(secs ? w('staff.live.down_retry', { seconds: secs }) : w('staff.live.down')));
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
  return pairOf(errorWords(err));
}

/**
 * @param {Words} words
 * @returns {{ zh: string, en: string }}
 */
function pairOf(words) {
  return { zh: words[0], en: words[1] };
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
  const lead = w(`staff.answer_lead.${a.tone}`);
  box.replaceChildren(
    el(
      'div',
      { class: 'answer-words' },
      el('p', { class: 'answer-lead' }, lead[0], ' ', en(lead[1])),
      el('p', { class: 'answer-zh', id: 'answer-text' }, a.zh),
      a.en ? el('p', { class: 'answer-en', lang: 'en' }, a.en) : null,
    ),
    el('button', { type: 'button', class: 'btn secondary', onclick: () => showAnswer(null) }, bi(w('staff.answer_dismiss'))),
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
    showAnswer({ ...a, tone: 'ok', ...pairOf(w('staff.answer.door_closed', { no: e.no })) });
  }
}

/** @param {LiveRequest} e */
function onAnswerRequest(e) {
  const a = state.answer;
  if (!a || a.requestId !== e.id) return;
  const no = a.compartment;
  const number = e.number;
  /** @type {Record<string, [Words, Answer['tone']] | null>} */
  const sentences = {
    loaded: [w('staff.answer.loaded', { number, no: no ?? '' }), 'ok'],
    ready: e.from === 'loading' ? [w('staff.answer.load_empty', { number, no: no ?? '' }), 'warn'] : null,
    retrieved: [w('staff.answer.retrieved', { number }), 'ok'],
    materials_retrieved: [w('staff.answer.materials_retrieved', { number }), 'ok'],
  };
  const said = sentences[e.state];
  if (said) showAnswer({ ...a, ...pairOf(said[0]), tone: said[1], doorOpen: false });
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
      const done = DONE_WORDS[key] ?? w('staff.done.other');
      showAnswer({ tone: 'ok', ...pairOf(sayEach('staff.answer.done_for', { number: item.number }, { done })) });
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
    showAnswer({ tone: 'ok', ...pairOf(sayEach('staff.answer.done_for', { number: item.number }, { done: w('staff.identity_confirmed') })) });
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
    showAnswer({ tone: 'ok', ...pairOf(sayEach('staff.answer.done_for', { number: item.number }, { done: DONE_WORDS.reissue })) });
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
      bi(busy ? w('staff.please_wait') : [a.zh, a.en]),
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
        bi(w('staff.reissue_button')),
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
  const label = w(f.action === 'reject' ? 'staff.reason_label.reject' : 'staff.reason_label.cancel');
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
        bi(sayEach('staff.confirm_action', {}, { action: [a.zh, a.en.toLowerCase()] })),
      ),
      el(
        'button',
        { type: 'button', class: 'btn secondary', 'data-fk': `reason-back-${item.id}`, onclick: () => closeForm(item) },
        bi(w('staff.back')),
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
  const words = stateWords(item.state);
  return el(
    'span',
    { class: `state st-${item.state}` },
    item.state === 'overdue' ? el('strong', { class: 'overdue-tag' }, w('staff.overdue_tag')[0]) : null,
    words[0],
    ' ',
    en(words[1]),
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
          'aria-label': w('staff.open_details', { number: item.number }).filter(Boolean).join(' / '),
        },
        item.number,
      ),
      el('span', { class: 'doc' }, item.serviceNameZh),
      el('span', { class: 'person' }, maskName(item.residentName), ' · ', item.mobileMasked),
      stateLabel(item),
      item.compartmentNo ? el('span', { class: 'where' }, bi(w('staff.compartment_no', { no: item.compartmentNo }))) : null,
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
        el('h3', { id: 'g-search' }, bi(w('staff.search_results', { q: state.search.q })), el('span', { class: 'count' }, ` ${res.length}`)),
        res.length ? el('ol', { class: 'rows' }, res.map(row)) : el('p', { class: 'empty' }, bi(w('staff.nothing_found'))),
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
          el(
            'h3',
            { id },
            `${g.zh} `,
            en(g.en),
            el('span', { class: 'count' }, items.length ? ` ${items.length}` : ` ${w('staff.group_none').join(' ')}`),
          ),
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
        note.replaceChildren(...bi(w('staff.no_such_request', { number: q.toUpperCase() })));
      } else {
        note.replaceChildren(...bi(r.requests.length ? w('staff.found_choose', { count: r.requests.length }) : w('staff.nothing_found')));
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

function renderDetail() {
  const view = $('#detail-view', HTMLElement);
  if (!state.detailId) return view.replaceChildren();
  const d = state.detail && state.detail.id === state.detailId ? state.detail : null;
  const back = el('button', { type: 'button', class: 'btn secondary', 'data-fk': 'detail-back', onclick: closeDetail }, bi(w('staff.back_to_list')));
  if (!d) {
    return replaceKeepingFocus(view, [back, el('p', { class: 'note' }, bi(w('staff.loading')))], ['detail-back']);
  }
  const addr = d.resident.address ? addressText(d.resident.address) : '—';
  /** @type {([Words, Node | string] | null)[]} */
  const facts = [
    [w('staff.fact.state'), stateLabel(d)],
    [w('staff.fact.resident'), d.resident.name],
    [w('staff.fact.mobile'), d.resident.mobileMasked || '—'],
    [w('staff.fact.id_number'), d.resident.idNumberMasked ?? '—'],
    [w('staff.fact.address'), addr],
    [w('staff.fact.compartment'), d.compartmentNo ? w('staff.compartment_no', { no: d.compartmentNo })[0] : '—'],
    [w('staff.fact.submitted'), timeWords(d.createdAt)],
    d.loadedAt ? [w('staff.fact.loaded'), timeWords(d.loadedAt)] : null,
    d.reason ? [w('staff.fact.reason'), d.reason] : null,
    d.note ? [w('staff.fact.note'), d.note] : null,
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
    d.notifications.length ? el('h3', {}, bi(w('staff.messages_to_resident'))) : null,
    d.notifications.length
      ? el(
          'ul',
          { class: 'notifications' },
          d.notifications.map((n) => {
            const k = NOTIFY_KIND[n.kind] ?? [n.kind, n.kind];
            const s = NOTIFY_STATUS[n.status] ?? [n.status, n.status];
            const line = sayEach('staff.notification_line', {}, { kind: k, status: s });
            return el(
              'li',
              {},
              `${timeWords(n.createdAt)} ${line[0]}`,
              ' ',
              en(line[1]),
              n.lastError ? el('span', { class: 'error' }, w('staff.in_brackets', { text: n.lastError })[0]) : null,
            );
          }),
        )
      : null,
    el('h3', { id: 'audit-title' }, bi(w('staff.audit_trail')), el('span', { class: 'count' }, ` ${audit.length}`)),
    el(
      'table',
      { class: 'audit', 'aria-labelledby': 'audit-title' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, bi(w('staff.col.time'))), el('th', { scope: 'col' }, bi(w('staff.col.what'))))),
      el(
        'tbody',
        {},
        audit.map((e) => {
          const sentence = sayEach('staff.sentence', {}, { text: historySentence(e, state.me) });
          const extra = auditDetailWords(e.detail ?? {});
          return el(
            'tr',
            {},
            el('td', { class: 'nowrap' }, timeWords(e.at)),
            el(
              'td',
              {},
              sentence[0],
              extra.length ? el('div', { class: 'sub' }, extra.map((x) => x[0]).join(' · ')) : null,
              ' ',
              en(sentence[1]),
              extra.length
                ? el(
                    'div',
                    { class: 'sub' },
                    en(
                      extra
                        .map((x) => x[1])
                        .filter(Boolean)
                        .join(' · '),
                    ),
                  )
                : null,
            ),
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
  if (c.state === 'occupied' && c.contents?.direction === 'for_staff') return w('staff.compartment.occupied_materials');
  if (c.state === 'occupied') return w('staff.compartment.occupied_document');
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
    const overdue = c.contents?.requestState === 'overdue' ? w('staff.overdue_tag')[0] : '';
    const label = [w('staff.compartment_no', { no: c.no })[0], s[0], door[0], num, overdue, c.faultReason ?? '']
      .filter(Boolean)
      .join(w('staff.comma')[0]);
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
          el('span', { class: 'cno' }, `${c.no}`, el('span', { class: 'unit' }, w('staff.no_unit')[0])),
          el('span', { class: 'cstate' }, s[0]),
        ),
        el('span', { class: 'cdoor' }, door[0]),
        num ? el('span', { class: 'creq' }, num) : null,
        overdue ? el('span', { class: 'overdue-tag' }, overdue) : null,
        c.state === 'fault' && c.faultReason ? el('span', { class: 'cfault' }, c.faultReason) : null,
        state.flashing.has(c.no) && c.door === 'open' ? el('span', { class: 'cflash' }, w('staff.just_opened')[0]) : null,
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
    ['occupied', w('staff.compartment.occupied_document')],
    ['occupied', w('staff.compartment.occupied_materials')],
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
      showAnswer({ tone: 'ok', ...pairOf(w(op === 'disable' ? 'staff.answer.disabled' : 'staff.answer.enabled', { no })) });
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
    el('h3', {}, bi(w('staff.compartment_title', { no: c.no }))),
    el(
      'p',
      {},
      s[0],
      ' ',
      en(s[1]),
      w('staff.comma')[0],
      door[0],
      ' ',
      en(door[1]),
      c.doorAt ? w('staff.in_brackets', { text: timeWords(c.doorAt) })[0] : '',
    ),
    c.faultReason ? el('p', { class: 'error' }, bi(w('staff.fault_reason', { reason: c.faultReason }))) : null,
    num && contents
      ? el(
          'p',
          {},
          w('staff.inside')[0],
          el('button', { type: 'button', class: 'linkish', 'data-fk': 'comp-open-req', onclick: () => openDetail(contents.requestId) }, num),
        )
      : null,
  ];
  if (state.me?.role === 'admin') {
    const f = state.compForm ?? { no: c.no, text: '', error: null };
    state.compForm = f;
    /** @type {[CompartmentOp, string][]} */
    const ops = [];
    if (c.state !== 'disabled' && c.state !== 'opening' && c.state !== 'open') ops.push(['force-open', 'danger']);
    if (c.state === 'free' || c.state === 'fault') ops.push(['disable', 'secondary']);
    if (c.state === 'disabled') ops.push(['enable', 'primary']);
    parts.push(
      el(
        'form',
        { class: 'reason-form', novalidate: true, onsubmit: (e) => e.preventDefault() },
        el('label', { for: 'comp-reason' }, bi(w('staff.comp_reason_label'))),
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
          ops.map(([op, kind]) => {
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
              bi(w(busy ? 'staff.please_wait' : `staff.op.${op}`)),
            );
          }),
        ),
      ),
    );
  } else {
    parts.push(el('p', { class: 'note' }, bi(w('staff.admin_only'))));
  }
  parts.push(
    el('button', { type: 'button', class: 'btn secondary', 'data-fk': 'comp-close', onclick: closeCompartment }, bi(w('staff.close_panel'))),
  );
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
  pill.replaceChildren(...bi(open === 1 ? w('staff.alarms_open_one') : open ? w('staff.alarms_open', { count: open }) : w('staff.alarms_none_open')));
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
    a.compartment ? el('span', { class: 'alarm-where' }, ` · ${w('staff.compartment_no', { no: a.compartment })[0]}`) : null,
    a.count > 1 ? el('span', { class: 'alarm-repeat' }, ' · ', bi(w('staff.alarm_repeat', { count: a.count, time: timeWords(a.lastAt) }))) : null,
  );
  /** @type {HTMLElement[]} */
  const parts = [head, el('p', { class: 'alarm-msg' }, zh, ' ', en(enText))];
  if (done) {
    parts.push(
      el(
        'p',
        { class: 'alarm-done' },
        bi(w('staff.alarm_done', { name: done.by.name, time: timeWords(done.at) })),
        done.noteKey
          ? el(
              'span',
              { class: 'alarm-note' },
              ' · ',
              bi(sayEach('staff.alarm_done_note', {}, { note: sayBoth({ key: done.noteKey, params: done.noteParams }) })),
            )
          : done.note
            ? el('span', { class: 'alarm-note' }, ' · ', bi(w('staff.alarm_done_note', { note: done.note })))
            : null,
      ),
    );
  }
  const where = a.compartment;
  const show = where
    ? el(
        'button',
        { type: 'button', class: 'btn secondary small', 'data-fk': `alarm-show-${a.id}`, onclick: () => selectCompartment(where) },
        bi(w('staff.show_compartment', { no: where })),
      )
    : null;
  if (done || a.id < 0) {
    if (a.id < 0) parts.push(el('p', { class: 'note' }, bi(w('staff.alarm_unsaved'))));
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
        el('label', { for: noteId }, bi(w('staff.alarm_note_label'))),
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
            bi(w(busy ? 'staff.please_wait' : 'staff.alarm_done_button')),
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
    return list.replaceChildren(el('li', { class: 'empty' }, bi(w('staff.no_alarms'))));
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
  renderWords();
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
    showSignin(errorWords(err));
  }
}

void boot();
