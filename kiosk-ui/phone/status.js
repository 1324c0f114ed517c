/**
 * /m/status/:token: a request's progress in plain words, the pickup QR code while the document waits in
 * the cabinet, the drop-off QR code while materials are expected. Refreshes itself every 30 s and on the
 * 刷新 button. Everything shown comes masked from GET /api/requests/status/:token.
 */
import { $ } from '../shared/elements.js';
import { api } from '../shared/phone-api.js';
import { bilingual, focusOn, loadPageWords, loadBinding, saveBinding, setBilingual, setText, setUpMyQr } from './common.js';
import { primaryLanguage, say, sayBoth } from '../shared/words.js';

/**
 * @import { ApiResult } from '../shared/phone-api.js'
 * @import { RequestStatus } from './api-types.js'
 */

const REFRESH_MS = 30_000;

/** The steps of the progress line, by their catalogue keys. */
const STEPS = ['phone.step.submitted', 'phone.step.accepted', 'phone.step.ready', 'phone.step.in_cabinet', 'phone.step.collected'];

/**
 * Which step each state is at; states off the line (rejected, cancelled, retrieved) have none.
 * @type {Readonly<Record<string, number>>}
 */
const STEP_OF = {
  submitted: 0,
  awaiting_materials: 0,
  depositing: 0,
  materials_deposited: 0,
  materials_retrieved: 0,
  accepted: 1,
  ready: 2,
  loading: 2,
  loaded: 3,
  overdue: 3,
  collected: 4,
};
const BAD = new Set(['rejected', 'cancelled', 'retrieved']);

const token = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
let binding = loadBinding();
setUpMyQr(
  () => binding,
  (b) => {
    binding = b;
  },
);

/**
 * Same-origin path of an image the API links (the page's CSP allows images from this origin only).
 * @param {string} url
 */
function samePath(url) {
  try {
    const u = new URL(url, location.href);
    return u.origin === location.origin ? u.href : u.pathname + u.search;
  } catch {
    return null;
  }
}

/**
 * @param {HTMLImageElement} img
 * @param {string | null} url
 * @param {Element} errorBox
 */
function setImage(img, url, errorBox) {
  const src = url ? samePath(url) : null;
  if (!src) {
    img.removeAttribute('src');
    setText(errorBox, '');
    return;
  }
  if (img.getAttribute('src') !== src) {
    setText(errorBox, '');
    img.src = src;
  }
}

/** @param {string} state */
function renderProgress(state) {
  const at = STEP_OF[state];
  const list = $('#progress', HTMLElement);
  $('#progress-section', HTMLElement).hidden = at === undefined;
  if (at === undefined) return;
  const key = String(at);
  if (list.dataset.at === key) return;
  list.dataset.at = key;
  list.replaceChildren(
    ...STEPS.map((s, i) => {
      const li = document.createElement('li');
      const done = i < at || (i === at && state === 'collected');
      const current = i === at && !done;
      li.className = done ? 'done' : current ? 'current' : 'todo';
      if (current) li.setAttribute('aria-current', 'step');
      const dot = document.createElement('span');
      dot.className = 'dot';
      dot.setAttribute('aria-hidden', 'true');
      dot.textContent = done ? '✓' : String(i + 1);
      const step = bilingual('span', ...sayBoth({ key: s }), 'step');
      const mark = document.createElement('span');
      mark.className = 'mark';
      mark.textContent = done ? say({ key: 'phone.step_done' }) : current ? say({ key: 'phone.step_current' }) : '';
      $('.zh', Element, step).append(mark);
      li.append(dot, step);
      return li;
    }),
  );
}

/** @param {RequestStatus} q */
function render(q) {
  $('#loading', HTMLElement).hidden = true;
  setText($('#load-error', HTMLElement), '');
  $('#request', HTMLElement).hidden = false;
  setText($('#number', HTMLElement), q.number);
  const doc = $('#doc', HTMLElement);
  if (doc.dataset.code !== q.service.code) {
    doc.dataset.code = q.service.code;
    doc.replaceChildren(...bilingual('span', q.service.nameZh, q.service.nameEn).childNodes);
  }

  // the state in the catalogue's words (the answer's stateText is for other API users)
  const [stateZh, stateEn] = sayBoth({ key: `state.${q.state}` });
  setText($('#state-zh', HTMLElement), stateZh);
  setText($('#state-en', HTMLElement), stateEn);
  const box = $('#state', HTMLElement);
  box.classList.toggle('bad', BAD.has(q.state));
  box.classList.toggle('done', q.state === 'collected' || q.state === 'loaded' || q.state === 'overdue');

  const notice = q.doorNotice ? sayBoth({ key: `phone.door_notice.${q.doorNotice}` }) : null;
  const doorNotice = $('#door-notice', HTMLElement);
  doorNotice.hidden = !notice;
  if (notice && q.doorNotice) doorNotice.dataset.code = q.doorNotice;
  else delete doorNotice.dataset.code;
  setText($('#door-notice-zh', HTMLElement), notice?.[0] ?? '');
  setText($('#door-notice-en', HTMLElement), notice?.[1] ?? '');

  $('#reason', HTMLElement).hidden = !q.reason;
  setText($('#reason-text', HTMLElement), q.reason || '');

  const waiting = !!q.pickupQrUrl && q.compartmentNo !== null;
  $('#pickup', HTMLElement).hidden = !waiting;
  document.body.dataset.waiting = String(waiting);
  setText($('#compartment', HTMLElement), waiting ? String(q.compartmentNo) : '');
  setText($('#compartment-en', HTMLElement), waiting ? String(q.compartmentNo) : '');
  $('#overdue', HTMLElement).hidden = q.state !== 'overdue';
  setText($('#sms-mobile', HTMLElement), q.mobileMasked || say({ key: 'phone.your_phone' }, primaryLanguage()));
  setImage($('#pickup-img', HTMLImageElement), waiting ? q.pickupQrUrl : null, $('#pickup-img-error', HTMLElement));

  $('#dropoff', HTMLElement).hidden = !q.dropOffQrUrl;
  setImage($('#dropoff-img', HTMLImageElement), q.dropOffQrUrl, $('#dropoff-img-error', HTMLElement));

  renderProgress(q.state);
  rememberRequest(q);
}

/**
 * Keep this request in the phone's list "我的申请" (submit page), so it can be found again.
 * @param {RequestStatus} q
 */
function rememberRequest(q) {
  binding = loadBinding();
  if (binding.requests.some((r) => r.statusToken === token)) return;
  binding.requests = [{ number: q.number, nameZh: q.service.nameZh, nameEn: q.service.nameEn, statusToken: token }, ...binding.requests];
  saveBinding(binding);
}

/**
 * @param {{ zh: string, en: string }} err
 * @param {boolean} keepShown  keep the request shown (a network blip), or hide it
 */
function showLoadError(err, keepShown) {
  $('#loading', HTMLElement).hidden = true;
  if (!keepShown) $('#request', HTMLElement).hidden = true;
  $('#load-error', HTMLElement).replaceChildren(...warning([err.zh, err.en]).childNodes);
}

/**
 * A warning line: ⚠ and the words, Chinese first and English under it.
 * @param {[string, string]} words
 */
function warning([zh, en]) {
  return bilingual('span', '⚠ ' + zh, en);
}

let busy = false;

/** @param {boolean} byHand */
async function refresh(byHand) {
  if (busy) return;
  busy = true;
  const button = $('#refresh', HTMLButtonElement);
  button.disabled = true;
  // only a refresh asked for by hand is announced; the automatic one every 30 s stays quiet
  $('#updated', HTMLElement).setAttribute('aria-live', byHand ? 'polite' : 'off');
  if (byHand) setBilingual($('#updated', HTMLElement), ...sayBoth({ key: 'phone.refreshing' }));
  await loadPageWords(); // tried again at each refresh until it is here
  /** @type {ApiResult<RequestStatus>} */
  const r = await api('GET', '/api/requests/status/' + encodeURIComponent(token));
  busy = false;
  button.disabled = false;
  if (r.ok) {
    render(r.body);
    const t = new Date().toLocaleTimeString('zh-CN', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
    setBilingual($('#updated', HTMLElement), ...sayBoth({ key: 'phone.updated_at', params: { time: t } }));
  } else {
    // a network blip keeps what was shown; "no such request" replaces it
    showLoadError(r.error, r.status === 0 || r.status >= 500);
    setText($('#updated', HTMLElement), '');
  }
}

$('#refresh', HTMLButtonElement).addEventListener('click', () => void refresh(true));
/** @type {[string, string][]} each QR image and where its error goes */
const QR_IMAGES = [
  ['#pickup-img', '#pickup-img-error'],
  ['#dropoff-img', '#dropoff-img-error'],
];
for (const [img, box] of QR_IMAGES) {
  $(img, HTMLImageElement).addEventListener('error', () => {
    if (!$(img, HTMLImageElement).getAttribute('src')) return;
    $(box, HTMLElement).replaceChildren(...warning(sayBoth({ key: 'phone.qr_failed' })).childNodes);
  });
}
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') void refresh(false);
});
setInterval(() => {
  if (document.visibilityState !== 'hidden') void refresh(false);
}, REFRESH_MS);

await loadPageWords();
if (!/^[A-Za-z0-9_-]{16,64}$/.test(token)) {
  const [zh, en] = sayBoth({ key: 'input.link_incomplete' });
  showLoadError({ zh, en }, false);
  focusOn($('#load-error', HTMLElement));
} else {
  void refresh(false);
}
