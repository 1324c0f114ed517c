/**
 * The cabinet's touchscreen (GET /kiosk). Screens: home (scan or type), scan instructions, code entry
 * (8-digit pickup code, then the last 4 digits of the phone), busy, and the answer. It talks to
 *   POST /api/kiosk/pickup {code, phoneLast4}   POST /api/kiosk/scan {text}   GET /api/kiosk/info
 *   ws /ws/kiosk: snapshot, link, scan (results of the serial scanner), compartment (doors)
 * and decides nothing the API does not check. Typed digits are never spoken and are forgotten after every
 * answer, on 返回 and at the idle reset.
 *
 * Query parameters (for a test or an installation): idle=<s> warn=<s> done=<s> (idle time, warning time,
 * time on the "door open" screen), scanner=below|above|left|right (where the scanner is, for the arrow).
 */
import { $ } from '../shared/elements.js';
import { createIdle } from './idle.js';
import { createVoice } from './sounds.js';
import { answerClips, waitClips } from './speech.js';
import { createWedge } from './wedge.js';
import { listSeparator, loadWords, renderWords, wordsFromPage } from '../shared/words.js';
import { CLOSED_CODES, isShownCode, screenWords, waitWords, WORDS } from './words.js';

/** @import { KioskAnswer, KioskInfo, KioskMessage } from './api-types.js' */

/**
 * What the answer screen shows, by code (words.js): a kiosk route's answer, a serial scan's event, how a door
 * ended, or the screen's own codes when the controller could not be asked (NETWORK, HTTP, LINK_DOWN).
 * @typedef {{
 *   ok: boolean, code: import('./words.js').ShownCode, action?: KioskAnswer['action'],
 *   compartments: number[], retryAfterMs?: number, triesLeft?: number,
 * }} Shown
 */

/** @typedef {'home' | 'scan' | 'code' | 'busy' | 'result'} Screen */

const params = new URLSearchParams(location.search);
/**
 * @param {string} name
 * @param {number} def  seconds when the parameter is absent or out of range
 * @returns {number} milliseconds
 */
function seconds(name, def) {
  const v = Number(params.get(name));
  return (Number.isFinite(v) && v > 0 && v <= 3600 ? v : def) * 1000;
}
const IDLE_MS = seconds('idle', 60);
const WARN_MS = seconds('warn', 20);
const DONE_MS = seconds('done', 20);
const CODE_LEN = 8;
const PHONE_LEN = 4;

const voice = createVoice();

// ------------------------------------------------------------------ screens

/** @type {readonly Screen[]} */
const SCREENS = ['home', 'scan', 'code', 'busy', 'result'];
/** @type {Screen} */
let screen = 'home';
/**
 * What a screen says: clip names both languages have, or the clips for a language (answers with numbers).
 * @typedef {readonly string[] | ((lang: import('./sounds.js').Lang) => string[])} Speech
 */
/** @type {Speech} */
const WELCOME = ['welcome', 'prompt'];
/** What 重听 says on the current screen (in the language chosen when it is said). @type {Speech} */
let screenSpeech = WELCOME;
let busy = false;

/** @param {Screen} name */
function show(name) {
  screen = name;
  for (const s of SCREENS) $(`#screen-${s}`, HTMLElement).hidden = s !== name;
  document.body.dataset.screen = name;
  window.scrollTo(0, 0);
}

/** The language the voice speaks: the English reader's switch, else Chinese. @returns {import('./sounds.js').Lang} */
function spokenLanguage() {
  return document.body.dataset.lang === 'en' ? 'en' : 'zh';
}

/** Say it now, in the chosen language, without making it the screen's. @param {Speech} what */
function sayNow(what) {
  const lang = spokenLanguage();
  voice.say(typeof what === 'function' ? what(lang) : what, lang);
}

/** The screen's words, said now and again on 重听. @param {Speech} what */
function speak(what) {
  screenSpeech = what;
  sayNow(what);
}

/** Back to the start: everything typed is forgotten. `greet`: someone is still there to hear it. */
function goHome({ greet = false } = {}) {
  clearEntry();
  stopResultTimers();
  hideWarning();
  idle.disarm();
  busy = false;
  voice.reset();
  resetPerson();
  delete document.body.dataset.code;
  show('home');
  screenSpeech = WELCOME;
  if (greet) speak(screenSpeech);
}

/** @param {'pickup' | 'dropoff'} [purpose] */
function goScan(purpose = 'pickup') {
  if (!serviceUp()) return showPaused();
  clearEntry();
  stopResultTimers();
  const drop = purpose === 'dropoff';
  document.body.dataset.purpose = purpose;
  bilingual($('#scan-title', HTMLElement), screenWords(drop ? 'kiosk.scan_title_dropoff' : 'kiosk.scan_title_pickup'));
  bilingual($('#scan-note', HTMLElement), screenWords(drop ? 'kiosk.scan_note_dropoff' : 'kiosk.scan_note_pickup'));
  bilingual($('#scan-type', HTMLElement), screenWords(drop ? 'kiosk.scan_type_dropoff' : 'kiosk.scan_type_pickup'));
  show('scan');
  idle.arm();
  speak([drop ? 'scan-dropoff' : 'scan']);
}

function goCode() {
  if (!serviceUp()) return showPaused();
  clearEntry();
  stopResultTimers();
  show('code');
  renderEntry();
  idle.arm();
  speak(['code']);
}

// ------------------------------------------------------------------ code entry

const entry = { code: '', phone: '', step: /** @type {'code' | 'phone'} */ ('code') };

function clearEntry() {
  entry.code = '';
  entry.phone = '';
  entry.step = 'code';
  if (screen === 'code') renderEntry();
}

/**
 * @param {string} boxesId
 * @param {string} value  what is typed so far
 * @param {boolean} active  the cursor is in these boxes
 */
function fillBoxes(boxesId, value, active) {
  const boxes = $(`#${boxesId}`, HTMLElement).querySelectorAll('.box');
  boxes.forEach((b, i) => {
    b.textContent = value[i] ?? '';
    b.classList.toggle('filled', i < value.length);
    b.classList.toggle('cursor', active && i === value.length);
  });
}

function renderEntry() {
  const onCode = entry.step === 'code';
  fillBoxes('boxes-code', entry.code, onCode);
  fillBoxes('boxes-phone', entry.phone, !onCode);
  $('#field-code', HTMLElement).dataset.active = String(onCode);
  $('#field-phone', HTMLElement).dataset.active = String(!onCode);
  bilingual($('#code-step', HTMLElement), screenWords('kiosk.code_step', { step: onCode ? 1 : 2 }));
  bilingual($('#code-title', HTMLElement), screenWords(onCode ? 'kiosk.code_title' : 'kiosk.phone_title'));
  const len = onCode ? CODE_LEN : PHONE_LEN;
  const typed = onCode ? entry.code.length : entry.phone.length;
  const left = len - typed;
  bilingual(
    $('#code-count', HTMLElement),
    left > 0 ? screenWords('kiosk.code_count', { typed, left }) : screenWords(onCode ? 'kiosk.code_complete' : 'kiosk.phone_complete'),
  );
  const ok = $('#key-ok', HTMLButtonElement);
  ok.disabled = left > 0;
  const [okZh, okEn] = screenWords(onCode ? 'kiosk.key_next' : 'kiosk.key_open');
  $('#key-ok-zh', HTMLElement).textContent = okZh;
  $('#key-ok-en', HTMLElement).textContent = okEn;
}

/** @param {string} d  one digit */
function pressDigit(d) {
  if (busy) return;
  voice.tone(); // never the digit itself
  if (entry.step === 'code' && entry.code.length < CODE_LEN) entry.code += d;
  else if (entry.step === 'phone' && entry.phone.length < PHONE_LEN) entry.phone += d;
  renderEntry();
}

function pressDelete() {
  if (busy) return;
  voice.tone();
  if (entry.step === 'phone') {
    if (entry.phone) entry.phone = entry.phone.slice(0, -1);
    else entry.step = 'code'; // back to the code, as it was typed
  } else {
    entry.code = entry.code.slice(0, -1);
  }
  renderEntry();
}

function pressOk() {
  if (busy) return;
  if (entry.step === 'code' && entry.code.length === CODE_LEN) {
    entry.step = 'phone';
    renderEntry();
    speak(['phone']);
  } else if (entry.step === 'phone' && entry.phone.length === PHONE_LEN) {
    const body = { code: entry.code, phoneLast4: entry.phone };
    clearEntry();
    void ask('/api/kiosk/pickup', body, 'code');
  }
}

// ------------------------------------------------------------------ asking the controller

/**
 * POST to a kiosk endpoint; always resolves to something to show. The words come from words.js by code,
 * never from the text of an error message.
 * @param {string} path
 * @param {object} body
 * @returns {Promise<Shown>}
 */
async function post(path, body) {
  try {
    const res = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    /** @type {unknown} */
    const json = await res.json().catch(() => null);
    if (res.ok && isAnswer(json)) return json;
    // 503: the lock board link is down or the cabinet is stopping — a lost link, never a door's fault
    return { ok: false, code: res.status === 503 ? 'LINK_DOWN' : 'HTTP', action: null, compartments: [] };
  } catch {
    return { ok: false, code: 'NETWORK', action: null, compartments: [] };
  }
}

/**
 * A kiosk answer (door-routes.ts kioskAnswerSchema): the server's schema vouches for the rest once `code` is there.
 * @param {unknown} json
 * @returns {json is KioskAnswer}
 */
function isAnswer(json) {
  return typeof json === 'object' && json !== null && 'code' in json && typeof json.code === 'string' && isShownCode(json.code);
}

/**
 * @param {string} path
 * @param {object} body
 * @param {'qr' | 'code'} kind  scanned here, or typed
 */
async function ask(path, body, kind) {
  busy = true;
  show('busy');
  speak(['please-wait']);
  const answer = await post(path, body);
  busy = false;
  showAnswer(answer, kind);
}

/** @param {string} text */
function onScan(text) {
  if (busy) return;
  if (!serviceUp()) {
    showPaused();
    return;
  }
  void ask('/api/kiosk/scan', { text: text.slice(0, 512) }, 'qr');
}

// ------------------------------------------------------------------ the answer

/** @type {ReturnType<typeof setInterval> | null} */
let doneTimer = null;
/** @type {ReturnType<typeof setInterval> | null} */
let waitTimer = null;
/**
 * Doors this answer opened that are still open, and all the doors it opened (their closing outcome is awaited).
 * @type {Set<number>}
 */
let openDoors = new Set();
/** @type {Set<number>} */
let answerDoors = new Set();

function stopResultTimers() {
  if (doneTimer) clearInterval(doneTimer);
  if (waitTimer) clearInterval(waitTimer);
  doneTimer = waitTimer = null;
  openDoors = new Set();
  answerDoors = new Set();
}

/**
 * @param {Element} el
 * @param {string} id  the symbol to show
 */
function icon(el, id) {
  el.innerHTML = `<use href="#${id}"/>`;
}

/**
 * Chinese, then English below it; the English reader's switch puts English first (never forced on the Chinese reader).
 * @param {HTMLElement} el
 * @param {readonly [string, string]} words
 */
function bilingual(el, words) {
  el.textContent = '';
  el.append(words[0]);
  const en = document.createElement('span');
  en.className = 'en';
  en.lang = 'en';
  en.textContent = words[1];
  el.append(en);
}

/** The committee phone, from GET /api/kiosk/info (COMMITTEE_PHONE). @type {string | null} */
let committeePhone = null;

/**
 * Show a code's words: an answer to a scan or typed code, a serial scanner's event, or how a door ended.
 * In words, with an icon and a headline, never by colour alone; and spoken.
 * @param {Shown} a
 * @param {'qr' | 'code'} kind
 */
function showAnswer(a, kind) {
  clearEntry();
  stopResultTimers();
  hideWarning();
  // a door that "did not open" while the link is down was never the door's fault
  const code = (a.code === 'NOT_OPENED' || a.code === 'HTTP') && !serviceUp() ? 'LINK_DOWN' : a.code;
  const said = WORDS[code];
  const nos = Array.isArray(a.compartments) ? a.compartments : [];
  /** @type {import('./words.js').Ctx} */
  const ctx = { doors: nos, kind, action: a.action ?? null, phone: committeePhone, ...(a.triesLeft ? { triesLeft: a.triesLeft } : {}) };
  const opened = a.ok === true && code === 'OPENED';
  const panel = $('#result-panel', HTMLElement);
  panel.dataset.outcome = said.tone === 'ok' ? (opened ? 'opened' : 'done') : 'refused';
  panel.dataset.code = code;
  document.body.dataset.code = code;
  icon($('#result-icon', SVGSVGElement), said.tone === 'ok' ? 'i-ok' : 'i-warn');
  bilingual($('#result-head', HTMLElement), said.head(ctx));
  $('#result-doors', HTMLElement).hidden = !(said.doorOpen && nos.length > 0);
  $('#result-nos', HTMLElement).textContent = nos.join(listSeparator());
  const [zh, en] = said.body(ctx);
  $('#result-zh', HTMLElement).textContent = zh;
  $('#result-en', HTMLElement).textContent = en;
  drawCabinet(nos, said.doorOpen);

  const retry = $('#result-retry', HTMLElement);
  const retryWords = $(':scope > :last-child', HTMLElement, retry);
  retry.hidden = said.retry === null;
  retry.dataset.action = said.retry === 'scan' ? 'scan' : 'code';
  if (said.retry === 'scan') bilingual(retryWords, screenWords('kiosk.retry_scan'));
  else if (code === 'ITEM_NOT_TAKEN') bilingual(retryWords, screenWords('kiosk.retry_code_reopen'));
  else bilingual(retryWords, screenWords(kind === 'qr' ? 'kiosk.retry_code_instead' : 'kiosk.retry_code_again'));
  const finished = said.tone === 'ok';
  const [homeZh, homeEn] = screenWords(finished ? 'kiosk.done' : 'kiosk.back_home');
  $('#result-home-zh', HTMLElement).textContent = homeZh;
  $('#result-home-en', HTMLElement).textContent = homeEn;

  /** When a wait (LOCKED) ends. @type {number | null} */
  let until = null;
  const wait = $('#result-wait', HTMLElement);
  const retryAfterMs = code === 'LOCKED' ? a.retryAfterMs : undefined;
  wait.hidden = typeof retryAfterMs !== 'number';
  if (typeof retryAfterMs === 'number') {
    const end = Date.now() + retryAfterMs;
    until = end;
    const render = () => {
      const w = waitWords(end - Date.now());
      bilingual(wait, [w.zh, w.en]);
    };
    render();
    waitTimer = setInterval(() => {
      render();
      if (end <= Date.now()) {
        if (waitTimer) clearInterval(waitTimer);
        waitTimer = null;
        // the wait is over: now the main button may offer typing again
        retry.hidden = false;
        bilingual(retryWords, screenWords('kiosk.retry_code_again'));
      }
    }, 1000);
  }

  const auto = $('#result-auto', HTMLElement);
  auto.hidden = !opened && !finished;
  if (opened) {
    // the task is done once the door closes: no warning; back to the start after a while
    idle.disarm();
    openDoors = new Set(nos);
    answerDoors = new Set(nos);
    startDone(auto, DONE_MS);
  } else if (finished) {
    idle.disarm();
    startDone(auto, Math.min(DONE_MS, 8000));
  } else {
    idle.arm();
  }
  show('result');
  const waitEnd = until;
  speak((lang) => [...answerClips(lang, code, ctx), ...(waitEnd !== null ? waitClips(lang, waitEnd - Date.now()) : [])]);
}

/**
 * Back to the start after `ms`, counting down on the screen.
 * @param {HTMLElement} auto
 * @param {number} ms
 */
function startDone(auto, ms) {
  const until = Date.now() + ms;
  const tick = () => {
    const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
    bilingual(auto, screenWords('kiosk.auto_home', { seconds: left }));
    if (left <= 0) goHome();
  };
  tick();
  doneTimer = setInterval(tick, 250);
}

/**
 * A door of this answer closed: the screen stops saying it is open and waits for what the sensors say.
 * @param {number} no
 * @param {string} door
 */
function onDoor(no, door) {
  if (screen !== 'result' || !openDoors.has(no) || door !== 'closed') return;
  openDoors.delete(no);
  if (openDoors.size > 0) return;
  const panel = $('#result-panel', HTMLElement);
  panel.dataset.outcome = 'checking';
  document.body.dataset.code = 'CHECKING';
  icon($('#result-icon', SVGSVGElement), 'i-ok');
  bilingual($('#result-head', HTMLElement), screenWords('kiosk.checking'));
  $('#result-doors', HTMLElement).hidden = true;
  $('#result-zh', HTMLElement).textContent = '';
  $('#result-en', HTMLElement).textContent = '';
  drawCabinet([...answerDoors], false);
  speak(['checking']);
}

/**
 * How a door of this answer ended (the kiosk channel's COLLECTED, ITEM_NOT_TAKEN, DEPOSITED, NOTHING_DEPOSITED).
 * @param {import('./words.js').ClosedCode} code
 * @param {number[]} doors
 * @param {'pickup' | 'dropoff' | null} action
 */
function onClosed(code, doors, action) {
  if (screen !== 'result' || !doors.some((d) => answerDoors.has(d))) return;
  showAnswer({ ok: code === 'COLLECTED' || code === 'DEPOSITED', code, action, compartments: doors }, action === 'dropoff' ? 'qr' : 'code');
}

/** Every compartment number the cabinet has (the kiosk channel's snapshot), for the drawing. @type {number[]} */
let cabinetNos = [];
/**
 * How the doors sit on the cabinet, as numbered on it (GET /api/kiosk/info, CABINET_GRID and CABINET_NUMBERING).
 * @type {import('./api-types.js').CabinetFace | null}
 */
let cabinetFace = null;

/**
 * Where door `no` is drawn (column, row from 1), as the doors are numbered on the cabinet (controller/domain/cabinet-face.ts).
 * @param {import('./api-types.js').CabinetFace} face
 * @param {number} no
 */
function placeOf(face, no) {
  const i = no - 1;
  return face.numbering === 'rows'
    ? { column: (i % face.columns) + 1, row: Math.floor(i / face.columns) + 1 }
    : { column: Math.floor(i / face.rows) + 1, row: (i % face.rows) + 1 };
}

/**
 * The cabinet drawn as its doors sit and are numbered, the doors of this answer marked (open: filled and labelled).
 * @param {number[]} marked
 * @param {boolean} open
 */
function drawCabinet(marked, open) {
  const box = $('#result-cabinet', HTMLElement);
  const grid = $('#cabinet-grid', HTMLElement);
  box.hidden = marked.length === 0 || cabinetNos.length === 0;
  if (box.hidden) return;
  grid.textContent = '';
  const highest = Math.max(...cabinetNos);
  // until the controller has said (or for a number beyond its grid): as the controller's default draws it
  const fallback = highest > 12 ? 6 : 4;
  const face =
    cabinetFace && cabinetFace.columns * cabinetFace.rows >= highest
      ? cabinetFace
      : { columns: fallback, rows: Math.ceil(highest / fallback), numbering: /** @type {const} */ ('rows') };
  grid.style.setProperty('--cols', String(face.columns));
  grid.style.setProperty('--rows', String(face.rows));
  grid.dataset.grid = `${face.columns}x${face.rows}`;
  grid.dataset.numbering = face.numbering;
  for (const no of cabinetNos) {
    const cell = document.createElement('span');
    cell.className = 'door';
    cell.textContent = String(no);
    const at = placeOf(face, no);
    cell.style.gridColumn = String(at.column);
    cell.style.gridRow = String(at.row);
    if (marked.includes(no)) {
      cell.classList.add(open ? 'door-open' : 'door-marked');
      cell.dataset.marked = open ? 'open' : 'closed';
    }
    grid.append(cell);
  }
  grid.setAttribute('aria-label', screenWords(open ? 'kiosk.cabinet_open' : 'kiosk.cabinet_marked', { doors: marked }).join(' / '));
}

// ------------------------------------------------------------------ one person's settings

/** @param {number} v */
function renderVolume(v) {
  /** @type {Readonly<Record<string, string>>} */
  const NAMES = { 0.4: 'kiosk.volume_soft', 0.7: 'kiosk.volume_medium', 1: 'kiosk.volume_loud' };
  const name = NAMES[String(v)];
  $('#volume-now', HTMLElement).textContent = name ? screenWords(name).join(' / ') : '';
}

/** @param {boolean} on */
function setLarge(on) {
  document.body.dataset.large = String(on);
  $('#large', HTMLElement).setAttribute('aria-pressed', String(on));
}

/**
 * English first for someone who asked for it; Chinese (with English below) for everyone else.
 * @param {'zh' | 'en'} lang
 */
function setLang(lang) {
  document.body.dataset.lang = lang;
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  $('#lang', HTMLElement).setAttribute('aria-pressed', String(lang === 'en'));
  // the switch names the other language, in that language first
  $('#lang-to-en', HTMLElement).hidden = lang === 'en';
  $('#lang-to-zh', HTMLElement).hidden = lang !== 'en';
}

/** The next person starts as everyone does: loud, normal text, Chinese. */
function resetPerson() {
  renderVolume(voice.volume);
  setLarge(false);
  setLang('zh');
}

// ------------------------------------------------------------------ idle warning

const idle = createIdle({
  idleMs: IDLE_MS,
  warnMs: WARN_MS,
  onWarn(left) {
    bilingual($('#idle-count', HTMLElement), screenWords('kiosk.idle_count', { seconds: left }));
    $('#idle-warning', HTMLElement).hidden = false;
    document.body.dataset.warning = 'true';
    sayNow(['more-time']);
  },
  onCount(left) {
    bilingual($('#idle-count', HTMLElement), screenWords('kiosk.idle_count', { seconds: left }));
  },
  onExtend() {
    hideWarning();
  },
  onExpire() {
    goHome();
  },
});

function hideWarning() {
  $('#idle-warning', HTMLElement).hidden = true;
  delete document.body.dataset.warning;
}

// ------------------------------------------------------------------ link state

let wsUp = false;
let link = 'connecting';

/** Doors can open: the screen reaches the controller and the controller reaches the lock boards. */
function serviceUp() {
  return wsUp && link === 'online';
}

/** Out of service: no pickup offered; what to do and whom to call, shown and spoken. */
function showPaused() {
  if (screen !== 'home') goHome();
  speak(linkDownSpeech());
}

/** What the screen says when the cabinet is out of service. @returns {Speech} */
function linkDownSpeech() {
  const ctx = { doors: [], kind: /** @type {const} */ ('qr'), action: null, phone: committeePhone };
  return (lang) => answerClips(lang, 'LINK_DOWN', ctx);
}

function renderLink() {
  const ok = serviceUp();
  const was = document.body.dataset.link;
  document.body.dataset.link = ok ? 'online' : link === 'connecting' && wsUp ? 'connecting' : 'offline';
  $('#link-banner', HTMLElement).hidden = true;
  const paused = $('#home-paused', HTMLElement);
  paused.hidden = ok;
  $('#home-choices', HTMLElement).hidden = !ok;
  $('#home-title', HTMLElement).hidden = !ok;
  if (!ok) {
    const connecting = wsUp && link === 'connecting';
    const [zh, en] = screenWords(connecting ? 'kiosk.paused_starting' : 'kiosk.paused');
    $('#paused-zh', HTMLElement).textContent = zh;
    $('#paused-en', HTMLElement).textContent = en;
    const call = $('#paused-call', HTMLElement);
    call.hidden = connecting;
    bilingual(call, committeePhone ? screenWords('kiosk.paused_call_phone', { phone: committeePhone }) : screenWords('kiosk.paused_call_staff'));
  }
  // going out of service: say so once (not while someone is mid-way; their screen answers for itself)
  if (!ok && was === 'online' && screen === 'home') speak(linkDownSpeech());
  if (ok && was !== undefined && was !== 'online' && screen === 'home') screenSpeech = WELCOME;
}

let backoff = 1000;
function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/kiosk`);
  ws.onopen = () => {
    wsUp = true;
    backoff = 1000;
    renderLink();
    void loadInfo();
  };
  ws.onmessage = (ev) => {
    /** @type {KioskMessage} what /ws/kiosk sends (controller/http/live.ts) */
    let m;
    try {
      m = JSON.parse(String(ev.data));
    } catch {
      return;
    }
    if (m.type === 'snapshot') {
      link = String(m.link?.state ?? 'offline');
      cabinetNos = (m.compartments ?? [])
        .map((c) => Number(c.no))
        .filter(Number.isInteger)
        .sort((x, y) => x - y);
      renderLink();
    } else if (m.type === 'link') {
      link = String(m.state);
      renderLink();
    } else if (m.type === 'scan' && CLOSED_CODES.includes(/** @type {import('./words.js').ClosedCode} */ (m.outcome))) {
      onClosed(/** @type {import('./words.js').ClosedCode} */ (m.outcome), m.compartments, m.action);
    } else if (m.type === 'scan' && m.source === 'scanner') {
      // the serial scanner's results; this screen's own answers come back from its POSTs
      if (!busy && isShownCode(m.outcome)) {
        showAnswer(
          {
            ok: m.outcome === 'OPENED',
            code: m.outcome,
            action: m.action,
            compartments: m.compartments,
            ...(m.retryAfterMs !== undefined ? { retryAfterMs: m.retryAfterMs } : {}),
          },
          m.kind,
        );
      }
    } else if (m.type === 'compartment') {
      onDoor(Number(m.no), String(m.door));
    }
  };
  ws.onclose = () => {
    const was = wsUp;
    wsUp = false;
    renderLink();
    setTimeout(() => {
      connect();
      if (was) refreshSubmitQr();
    }, backoff);
    backoff = Math.min(backoff * 2, 15_000);
  };
  ws.onerror = () => undefined; // onclose follows
}

function refreshSubmitQr() {
  const img = $('#submit-qr', HTMLImageElement);
  img.src = `/api/kiosk/submit-qr.svg?t=${Date.now()}`;
}

async function loadInfo() {
  try {
    const res = await fetch('/api/kiosk/info', { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return;
    /** @type {KioskInfo} GET /api/kiosk/info */
    const info = await res.json();
    committeePhone = info.committeePhone ?? null;
    cabinetFace = info.cabinet ?? null;
    if (!wsUp) return;
    link = String(info.link ?? link);
    renderLink();
  } catch {
    // the live channel says the same thing
  }
}

// ------------------------------------------------------------------ input

/**
 * @param {string} key  KeyboardEvent.key
 * @returns {boolean} whether the screen used it
 */
function onKey(key) {
  if (idle.warning) return true;
  if (busy) return true;
  const digit = /^[0-9]$/.test(key);
  if (key === 'Escape') {
    if (screen !== 'home') goHome({ greet: screen === 'code' || screen === 'scan' });
    return true;
  }
  if (screen === 'code') {
    if (digit) pressDigit(key);
    else if (key === 'Backspace' || key === 'Delete') pressDelete();
    else if (key === 'Enter') pressOk();
    else return false;
    return true;
  }
  if (digit) {
    // someone at a physical keyboard: straight to code entry with that digit
    goCode();
    pressDigit(key);
    return true;
  }
  return false;
}

const wedge = createWedge({ onScan, onKey });

function placeScanner() {
  const asked = params.get('scanner') ?? '';
  const where = ['below', 'above', 'left', 'right'].includes(asked) ? asked : 'below';
  document.body.dataset.scanner = where;
  bilingual($('#scanner-where', HTMLElement), screenWords(`kiosk.scanner_${where}`));
}

/**
 * The page is drawn for a 1080×1920 or 1920×1080 panel; smaller panels (1280×800, 1366×768) get the same layout
 * scaled down to fit, so nothing is cut off (targets stay ≥ 64 px there: the smallest is 96 px at full size).
 */
function fitScreen() {
  const portrait = innerHeight >= innerWidth;
  const scale = Math.min(1, innerWidth / (portrait ? 1080 : 1920), innerHeight / (portrait ? 1920 : 1080));
  document.documentElement.style.setProperty('zoom', String(Math.max(0.5, scale)));
}

let wordsBackoff = 1000;
/**
 * The catalogue's words (GET /api/words), tried again until they come: until then the screen says the copy of them
 * the page carries (index.html, read by wordsFromPage), so a code can always be typed and its answer read.
 */
async function loadScreenWords() {
  try {
    await loadWords();
  } catch {
    setTimeout(() => void loadScreenWords(), wordsBackoff);
    wordsBackoff = Math.min(wordsBackoff * 2, 15_000);
    return;
  }
  renderWords();
  placeScanner();
  renderVolume(voice.volume);
  renderLink();
  if (screen === 'code') renderEntry();
}

async function start() {
  const words = $('#kiosk-words', HTMLTemplateElement);
  wordsFromPage(document, {
    listSeparators: { 'zh-CN': words.getAttribute('data-list-zh-CN') ?? ', ', en: words.getAttribute('data-list-en') ?? ', ' },
  });
  // the first screen waits a moment for the catalogue, never for long: the page's own copy says the same
  await Promise.race([loadScreenWords(), new Promise((resolve) => setTimeout(resolve, 3000))]);
  fitScreen();
  addEventListener('resize', fitScreen);
  placeScanner();
  // no context menu from a long press or a right click: Chromium's --kiosk mode still offers one
  document.addEventListener('contextmenu', (e) => e.preventDefault());
  document.addEventListener('keydown', (e) => {
    idle.touch();
    wedge.handle(e);
  });
  document.addEventListener('pointerdown', () => idle.touch(), { capture: true });
  $('#keypad', HTMLElement).addEventListener('click', (e) => {
    const key = e.target instanceof Element ? e.target.closest('[data-key]') : null;
    if (!key || (key instanceof HTMLButtonElement && key.disabled)) return;
    const k = key.getAttribute('data-key');
    if (k === 'del') pressDelete();
    else if (k === 'ok') pressOk();
    else if (k) pressDigit(k);
  });
  document.addEventListener('click', (e) => {
    const el = e.target instanceof Element ? e.target.closest('[data-action]') : null;
    if (!el) return;
    const action = el.getAttribute('data-action');
    if (action === 'home') goHome({ greet: screen === 'code' || screen === 'scan' });
    else if (action === 'code') goCode();
    else if (action === 'scan') goScan(document.body.dataset.purpose === 'dropoff' ? 'dropoff' : 'pickup');
  });
  $('#go-scan', HTMLElement).addEventListener('click', () => goScan('pickup'));
  $('#go-dropoff', HTMLElement).addEventListener('click', () => goScan('dropoff'));
  $('#volume', HTMLElement).addEventListener('click', () => {
    renderVolume(voice.louder());
    sayNow(screenSpeech);
  });
  $('#large', HTMLElement).addEventListener('click', () => setLarge(document.body.dataset.large !== 'true'));
  $('#lang', HTMLElement).addEventListener('click', () => {
    setLang(document.body.dataset.lang === 'en' ? 'zh' : 'en');
    sayNow(screenSpeech); // the screen again, in the language just chosen
  });
  $('#go-code', HTMLElement).addEventListener('click', goCode);
  $('#replay', HTMLElement).addEventListener('click', () => sayNow(screenSpeech));
  $('#more-time', HTMLElement).addEventListener('click', () => idle.touch());
  resetPerson();
  renderLink();
  goHome({ greet: true });
  connect();
  void loadInfo();
  document.body.dataset.ready = 'true';
}

void start();
