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
import { createWedge } from './wedge.js';

/** @import { KioskAnswer, KioskInfo, KioskMessage } from './api-types.js' */

/**
 * What the answer screen shows: a kiosk route's answer, a serial scan's event, or words of our own when the
 * controller could not be asked (code HTTP_<status> or NETWORK).
 * @typedef {{
 *   ok: boolean, code: string, action?: KioskAnswer['action'], messageZh: string, messageEn: string,
 *   compartments: number[], retryAfterMs?: number,
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
/** What 重听 says on the current screen. */
let screenClips = ['welcome', 'prompt'];
let busy = false;

/** @param {Screen} name */
function show(name) {
  screen = name;
  for (const s of SCREENS) $(`#screen-${s}`, HTMLElement).hidden = s !== name;
  document.body.dataset.screen = name;
  window.scrollTo(0, 0);
}

/** @param {string[]} clips */
function speak(clips) {
  screenClips = clips;
  voice.say(clips);
}

/** Back to the start: everything typed is forgotten. `greet`: someone is still there to hear it. */
function goHome({ greet = false } = {}) {
  clearEntry();
  stopResultTimers();
  hideWarning();
  idle.disarm();
  busy = false;
  voice.reset();
  show('home');
  screenClips = ['welcome', 'prompt'];
  if (greet) speak(screenClips);
}

function goScan() {
  clearEntry();
  stopResultTimers();
  show('scan');
  idle.arm();
  speak(['scan']);
}

function goCode() {
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
  $('#code-step', HTMLElement).innerHTML = onCode
    ? '第 1 步，共 2 步<span class="en">Step 1 of 2</span>'
    : '第 2 步，共 2 步<span class="en">Step 2 of 2</span>';
  $('#code-title', HTMLElement).innerHTML = onCode
    ? '请输入 8 位取件码<span class="en">Enter the 8-digit pickup code</span>'
    : '请输入手机号后 4 位<span class="en">Enter the last 4 digits of your phone number</span>';
  const len = onCode ? CODE_LEN : PHONE_LEN;
  const typed = onCode ? entry.code.length : entry.phone.length;
  const left = len - typed;
  $('#code-count', HTMLElement).innerHTML = left > 0
    ? `已输入 ${typed} 位，还差 ${left} 位<span class="en">${typed} typed, ${left} to go</span>`
    : onCode
      ? '取件码已输完，请按“下一步”<span class="en">Code complete: press Next</span>'
      : '已输完，请按“开柜门”<span class="en">Done: press Open</span>';
  const ok = $('#key-ok', HTMLButtonElement);
  ok.disabled = left > 0;
  $('#key-ok-zh', HTMLElement).textContent = onCode ? '下一步' : '开柜门';
  $('#key-ok-en', HTMLElement).textContent = onCode ? 'Next' : 'Open';
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

const OFFLINE_EN = 'The cabinet cannot be reached right now. Please try again shortly.';

/**
 * POST to a kiosk endpoint; always resolves to something to show.
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
    const message = errorMessage(json);
    const [zh, en] = message.includes(' / ') ? message.split(' / ') : [message, ''];
    return {
      ok: false, code: `HTTP_${res.status}`, compartments: [],
      messageZh: zh || '柜子暂时不能使用，请稍后再试。', messageEn: en || OFFLINE_EN,
    };
  } catch {
    return {
      ok: false, code: 'NETWORK', compartments: [],
      messageZh: '屏幕暂时连不上柜子，请稍后再试。', messageEn: OFFLINE_EN,
    };
  }
}

/**
 * A kiosk answer (door-routes.ts kioskAnswerSchema): the server's schema vouches for the rest once `code` is there.
 * @param {unknown} json
 * @returns {json is KioskAnswer}
 */
function isAnswer(json) {
  return typeof json === 'object' && json !== null && 'code' in json && typeof json.code === 'string';
}

/**
 * The message of an error answer ({ error: { message } }), or ''.
 * @param {unknown} json
 */
function errorMessage(json) {
  if (typeof json !== 'object' || json === null || !('error' in json)) return '';
  const e = json.error;
  return typeof e === 'object' && e !== null && 'message' in e ? String(e.message ?? '') : '';
}

/**
 * @param {string} path
 * @param {object} body
 * @param {'qr' | 'code'} kind  scanned here, or typed
 */
async function ask(path, body, kind) {
  busy = true;
  show('busy');
  speak([]);
  const answer = await post(path, body);
  busy = false;
  showAnswer(answer, kind);
}

/** @param {string} text */
function onScan(text) {
  if (busy) return;
  void ask('/api/kiosk/scan', { text: text.slice(0, 512) }, 'qr');
}

// ------------------------------------------------------------------ the answer

/** @type {ReturnType<typeof setInterval> | null} */
let doneTimer = null;
/** @type {ReturnType<typeof setInterval> | null} */
let waitTimer = null;
/**
 * Doors this answer opened that are still open.
 * @type {Set<number>}
 */
let openDoors = new Set();

function stopResultTimers() {
  if (doneTimer) clearInterval(doneTimer);
  if (waitTimer) clearInterval(waitTimer);
  doneTimer = waitTimer = null;
  openDoors = new Set();
}

/**
 * @param {Element} el
 * @param {string} id  the symbol to show
 */
function icon(el, id) {
  el.innerHTML = `<use href="#${id}"/>`;
}

const NEEDS_STAFF = new Set(['LOCKED', 'CABINET_FULL', 'NOT_OPENED', 'OUT_OF_ORDER', 'OUT_OF_SERVICE', 'NETWORK']);

/**
 * @param {Shown} a
 * @param {'qr' | 'code'} kind
 * @returns {string[]}
 */
function clipsFor(a, kind) {
  switch (a.code) {
    case 'OPENED': return [a.action === 'dropoff' ? 'deposit' : 'opened'];
    case 'INVALID': return [kind === 'qr' ? 'qr-bad' : 'wrong'];
    case 'USED': case 'UNKNOWN_SCAN': return ['qr-bad'];
    case 'NOTHING_WAITING': return ['nothing'];
    case 'LOCKED': return ['locked', 'later', 'staff'];
    case 'CABINET_FULL': case 'NOT_OPENED': case 'OUT_OF_ORDER': case 'OUT_OF_SERVICE': return ['staff'];
    default: return ['later'];
  }
}

/** @param {number} ms */
function waitWords(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const m = Math.floor(s / 60);
  const r = s % 60;
  if (s === 0) return '现在可以再试了<span class="en">You can try again now</span>';
  const zh = m > 0 ? `${m} 分 ${r} 秒` : `${r} 秒`;
  const en = m > 0 ? `${m} min ${r} s` : `${r} s`;
  return `请等 ${zh}后再试<span class="en">Please wait ${en}, then try again</span>`;
}

/**
 * Show what the controller answered (a typed code, a scan here, or the serial scanner's scan):
 * in words, with an icon and a headline, never by colour alone.
 */
/**
 * @param {Shown} a
 * @param {'qr' | 'code'} kind
 */
function showAnswer(a, kind) {
  clearEntry();
  stopResultTimers();
  hideWarning();
  const opened = a.ok === true && a.code === 'OPENED';
  const panel = $('#result-panel', HTMLElement);
  panel.dataset.outcome = opened ? 'opened' : 'refused';
  panel.dataset.code = a.code;
  icon($('#result-icon', SVGSVGElement), opened ? 'i-ok' : 'i-warn');
  $('#result-head', HTMLElement).innerHTML = opened
    ? '柜门已打开<span class="en">The door is open</span>'
    : '没有打开柜门<span class="en">No door was opened</span>';
  const nos = Array.isArray(a.compartments) ? a.compartments : [];
  $('#result-doors', HTMLElement).hidden = !(opened && nos.length > 0);
  $('#result-nos', HTMLElement).textContent = nos.join('、');
  $('#result-zh', HTMLElement).textContent = a.messageZh ?? '';
  $('#result-en', HTMLElement).textContent = a.messageEn ?? '';
  $('#result-help', HTMLElement).hidden = opened || !(NEEDS_STAFF.has(a.code) || a.code.startsWith('HTTP_'));
  const retry = $('#result-retry', HTMLElement);
  retry.hidden = opened;
  $(':scope > :last-child', Element, retry).innerHTML = kind === 'qr'
    ? '改为输入取件码<span class="en">Type the code instead</span>'
    : '重新输入取件码<span class="en">Type the code again</span>';
  $('#result-home-zh', HTMLElement).textContent = opened ? '完成' : '返回首页';
  $('#result-home-en', HTMLElement).textContent = opened ? 'Done' : 'Back to start';

  const wait = $('#result-wait', HTMLElement);
  const retryAfterMs = a.code === 'LOCKED' ? a.retryAfterMs : undefined;
  wait.hidden = typeof retryAfterMs !== 'number';
  if (typeof retryAfterMs === 'number') {
    const until = Date.now() + retryAfterMs;
    wait.innerHTML = waitWords(until - Date.now());
    waitTimer = setInterval(() => {
      wait.innerHTML = waitWords(until - Date.now());
      if (until <= Date.now() && waitTimer) clearInterval(waitTimer);
    }, 1000);
  }

  const auto = $('#result-auto', HTMLElement);
  auto.hidden = !opened;
  if (opened) {
    // the task is done: no warning, back to the start after a while (sooner once the doors are shut)
    idle.disarm();
    openDoors = new Set(nos);
    let until = Date.now() + DONE_MS;
    const tick = () => {
      const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      auto.innerHTML = `${left} 秒后回到首页<span class="en">Back to the start in ${left} s</span>`;
      if (left <= 0) goHome();
    };
    tick();
    doneTimer = setInterval(tick, 250);
    resultDoneSooner = () => {
      until = Math.min(until, Date.now() + 5000);
      $('#result-zh', HTMLElement).textContent = '柜门已关好，谢谢！';
      $('#result-en', HTMLElement).textContent = 'The door is closed. Thank you!';
      tick();
    };
  } else {
    idle.arm();
  }
  show('result');
  speak(clipsFor(a, kind));
}

/** @type {() => void} */
let resultDoneSooner = () => undefined;

/**
 * @param {number} no
 * @param {string} door
 */
function onDoor(no, door) {
  if (screen !== 'result' || !openDoors.has(no) || door !== 'closed') return;
  openDoors.delete(no);
  if (openDoors.size === 0) resultDoneSooner();
}

// ------------------------------------------------------------------ idle warning

const idle = createIdle({
  idleMs: IDLE_MS,
  warnMs: WARN_MS,
  onWarn(left) {
    $('#idle-count', HTMLElement).innerHTML = countWords(left);
    $('#idle-warning', HTMLElement).hidden = false;
    document.body.dataset.warning = 'true';
    voice.say(['more-time']);
  },
  onCount(left) {
    $('#idle-count', HTMLElement).innerHTML = countWords(left);
  },
  onExtend() {
    hideWarning();
  },
  onExpire() {
    goHome();
  },
});

/** @param {number} left  seconds */
function countWords(left) {
  return `${left} 秒后回到首页，已输入的内容会清除<span class="en">Back to the start in ${left} s; what you typed will be cleared</span>`;
}

function hideWarning() {
  $('#idle-warning', HTMLElement).hidden = true;
  delete document.body.dataset.warning;
}

// ------------------------------------------------------------------ link state

let wsUp = false;
let link = 'connecting';

function renderLink() {
  const ok = wsUp && link === 'online';
  document.body.dataset.link = ok ? 'online' : 'offline';
  $('#link-banner', HTMLElement).hidden = ok;
  if (ok) return;
  let zh;
  let en;
  if (!wsUp) {
    zh = '屏幕暂时连不上柜子，正在自动重连。恢复后，扫码和输入取件码都可以照常使用。';
    en = 'The screen has lost the cabinet and is reconnecting. Once it is back, scanning and typing your code work as usual.';
  } else if (link === 'connecting') {
    zh = '正在连接柜子，请稍候。连接好后，扫码和输入取件码都可以使用。';
    en = 'Connecting to the cabinet. Once connected, scanning and typing your code work.';
  } else {
    zh = '柜子暂时离线，现在不能开门，正在自动重连。恢复后，扫码和输入取件码都可以照常使用；急需请联系工作人员。';
    en = 'The cabinet is offline and cannot open doors now; it is reconnecting. Once it is back, scanning and typing your code work as usual.';
  }
  $('#link-zh', HTMLElement).textContent = zh;
  $('#link-en', HTMLElement).textContent = en;
}

let backoff = 1000;
function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/kiosk`);
  ws.onopen = () => {
    wsUp = true;
    backoff = 1000;
    renderLink();
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
      renderLink();
    } else if (m.type === 'link') {
      link = String(m.state);
      renderLink();
    } else if (m.type === 'scan' && m.source === 'scanner') {
      // the serial scanner's results; this screen's own answers come back from its POSTs
      if (!busy) {
        showAnswer({
          ok: m.outcome === 'OPENED', code: String(m.outcome), action: m.action, compartments: m.compartments,
          messageZh: m.messageZh, messageEn: m.messageEn,
        }, m.kind);
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
  /** @type {Readonly<Record<string, readonly [string, string]>>} */
  const WHERE = {
    below: ['扫描口在屏幕下方', 'The scanner is below the screen'],
    above: ['扫描口在屏幕上方', 'The scanner is above the screen'],
    left: ['扫描口在屏幕左边', 'The scanner is left of the screen'],
    right: ['扫描口在屏幕右边', 'The scanner is right of the screen'],
  };
  const asked = params.get('scanner') ?? '';
  const where = ['below', 'above', 'left', 'right'].includes(asked) ? asked : 'below';
  document.body.dataset.scanner = where;
  const words = WHERE[where] ?? ['', ''];
  $('#scanner-where', HTMLElement).innerHTML = `${words[0]}<span class="en">${words[1]}</span>`;
}

function start() {
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
  });
  $('#go-scan', HTMLElement).addEventListener('click', goScan);
  $('#go-code', HTMLElement).addEventListener('click', goCode);
  $('#replay', HTMLElement).addEventListener('click', () => voice.say(screenClips));
  $('#more-time', HTMLElement).addEventListener('click', () => idle.touch());
  voice.preload();
  renderLink();
  goHome({ greet: true });
  connect();
  void loadInfo();
  document.body.dataset.ready = 'true';
}

start();
