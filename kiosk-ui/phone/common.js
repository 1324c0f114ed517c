/**
 * What both phone pages share: the phone's binding to its resident (localStorage), masking for display,
 * small DOM helpers, and the "我的二维码" section.
 *
 * Kept on the phone (the resident's own device), under one key:
 *   residentToken  the bearer token the API answered at the first submission (also the resident QR code)
 *   name, mobile   to fill the form again next time; shown only masked
 *   hasIdNumber, hasAddress  whether this resident already gave them (never the values)
 *   requests       the last few requests: number, document name, status link token
 * The ID number and the address are never kept here.
 */

import { $, $maybe } from '../shared/elements.js';
import { api } from '../shared/phone-api.js';
import { loadWords, primaryLanguage, renderWords, say, sayBoth, wordsFromPage } from '../shared/words.js';

/**
 * @import { ApiResult } from '../shared/phone-api.js'
 */

const KEY = 'bangbangui.phone.v1';
const MAX_REQUESTS = 10;

/**
 * @typedef {{ number: string, nameZh: string, nameEn: string, statusToken: string }} RememberedRequest
 * @typedef {{
 *   residentToken: string | null, name: string, mobile: string, hasIdNumber: boolean, hasAddress: boolean,
 *   requests: RememberedRequest[],
 * }} Binding
 */

/** @returns {Binding} */
function emptyBinding() {
  return { residentToken: null, name: '', mobile: '', hasIdNumber: false, hasAddress: false, requests: [] };
}

/** @returns {Binding} */
export function loadBinding() {
  try {
    const raw = window.localStorage.getItem(KEY);
    if (!raw) return emptyBinding();
    /** @type {unknown} */
    const parsed = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null) return emptyBinding();
    /** @type {Record<string, unknown>} */
    const v = { ...parsed };
    return {
      residentToken: typeof v.residentToken === 'string' && v.residentToken ? v.residentToken : null,
      name: typeof v.name === 'string' ? v.name : '',
      mobile: typeof v.mobile === 'string' ? v.mobile : '',
      hasIdNumber: v.hasIdNumber === true,
      hasAddress: v.hasAddress === true,
      requests: Array.isArray(v.requests) ? v.requests.flatMap(rememberedRequest).slice(0, MAX_REQUESTS) : [],
    };
  } catch {
    return emptyBinding();
  }
}

/**
 * One entry of the stored list, when it has a status link (text fields another version left out read as '').
 * @param {unknown} r
 * @returns {RememberedRequest[]}
 */
function rememberedRequest(r) {
  if (typeof r !== 'object' || r === null || !('statusToken' in r) || typeof r.statusToken !== 'string') return [];
  /** @type {Record<string, unknown>} */
  const o = { ...r };
  const text = (/** @type {string} */ k) => {
    const x = o[k];
    return typeof x === 'string' ? x : '';
  };
  return [{ number: text('number'), nameZh: text('nameZh'), nameEn: text('nameEn'), statusToken: r.statusToken }];
}

/** @param {Binding} b */
export function saveBinding(b) {
  try {
    window.localStorage.setItem(KEY, JSON.stringify({ ...b, requests: b.requests.slice(0, MAX_REQUESTS) }));
  } catch {
    // private mode or storage full: the page still works, the phone just will not remember
  }
}

/**
 * The registration stopped working (staff issued a new one, or the store was reset): forget it.
 * @param {Binding} b
 * @returns {Binding}
 */
export function forgetResident(b) {
  const next = { ...b, residentToken: null, hasIdNumber: false, hasAddress: false };
  saveBinding(next);
  return next;
}

/**
 * 张三 → 张*, 张三丰 → 张*丰, 欧阳小明 → 欧**明, Li Lei → L*****i
 * @param {string} name
 */
export function maskName(name) {
  const chars = Array.from(String(name || '').trim());
  const [first = '', ...rest] = chars;
  if (chars.length === 0) return '';
  if (chars.length === 1) return first;
  if (chars.length === 2) return first + '*';
  return first + '*'.repeat(chars.length - 2) + (rest.at(-1) ?? '');
}

/**
 * 13812345678 → 138****5678
 * @param {string} mobile
 */
export function maskMobile(mobile) {
  const m = String(mobile || '');
  return /^\d{11}$/.test(m) ? m.slice(0, 3) + '****' + m.slice(7) : '';
}

// ---------------------------------------------------------------------------------------------- DOM

// the words the page is written with (each the catalogue's, checked by page-words.test.ts): said until GET /api/words
// answers, so a page loaded while the controller restarts shows words, not keys
wordsFromPage(document);
let wordsRendered = false;

/** The catalogue (GET /api/words); the page's words from it the first time it comes. A failure is tried again next call. */
export async function loadPageWords() {
  try {
    await loadWords();
  } catch {
    return;
  }
  if (wordsRendered) return;
  wordsRendered = true;
  renderWords();
}

/**
 * Sets text only when it changed, so aria-live regions are not re-announced for nothing.
 * @param {Element | null} el
 * @param {string | number | null | undefined} text
 */
export function setText(el, text) {
  const t = String(text ?? '');
  if (el && el.textContent !== t) el.textContent = t;
}

/**
 * <tag class><span>中文</span><span class="en">English</span></tag>
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} zh
 * @param {string} [en]
 * @param {string} [className]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function bilingual(tag, zh, en, className) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  const z = document.createElement('span');
  z.className = 'zh';
  z.textContent = zh;
  el.append(z);
  if (en) {
    const e = document.createElement('span');
    e.className = 'en';
    e.lang = 'en';
    e.textContent = en;
    el.append(e);
  }
  return el;
}

/**
 * Fills an existing element with the two lines.
 * @param {Element} el
 * @param {string} zh
 * @param {string} [en]
 */
export function setBilingual(el, zh, en) {
  const z = el.querySelector(':scope > .zh');
  const e = $maybe(':scope > .en', HTMLElement, el);
  if (z && e) {
    setText(z, zh);
    setText(e, en || '');
    e.hidden = !en;
    return;
  }
  el.replaceChildren(...bilingual('span', zh, en).childNodes);
}

/**
 * Moves keyboard and screen-reader focus to a heading or region that just appeared.
 * @param {HTMLElement | null} el
 */
export function focusOn(el) {
  if (!el) return;
  if (!el.hasAttribute('tabindex')) el.setAttribute('tabindex', '-1');
  el.focus({ preventScroll: false });
}

// ---------------------------------------------------------------------------------------------- my QR

/**
 * The "我的二维码 / my QR code" button and the section it opens (in the page, not a pop-up).
 * Hidden while the phone is not bound to a resident.
 */
/**
 * Opening the section renews the token first (POST /api/residents/token): the code shown is always fresh (the
 * cabinet refuses one older than 30 days) and any earlier copy, a photo of the screen say, stops working. A
 * token the server no longer knows (renewed elsewhere, or rotated by staff for a lost phone) is forgotten.
 * @param {() => Binding} getBinding
 * @param {(b: Binding) => void} setBinding  keeps the page's own copy of the binding in step
 * @returns {{ refresh(): void }}
 */
export function setUpMyQr(getBinding, setBinding) {
  const button = $maybe('#myqr-button', HTMLButtonElement);
  const section = $maybe('#myqr', HTMLElement);
  const img = $maybe('#myqr-img', HTMLImageElement);
  if (!button || !section || !img) return { refresh() {} };

  const refresh = () => {
    const b = getBinding();
    button.hidden = !b.residentToken;
    if (!b.residentToken) {
      section.hidden = true;
      button.setAttribute('aria-expanded', 'false');
      img.removeAttribute('src');
    }
  };

  /** @param {string} token */
  const renew = async (token) => {
    /** @type {ApiResult<{ residentToken: string }>} */
    const r = await api('POST', '/api/residents/token', { residentToken: token });
    if (r.ok) {
      const next = { ...getBinding(), residentToken: r.body.residentToken };
      saveBinding(next);
      setBinding(next);
      return r.body.residentToken;
    }
    if (r.status === 404) {
      setBinding(forgetResident(getBinding()));
      return null;
    }
    return token; // no connection: show what the phone has
  };

  button.addEventListener('click', () => {
    const b = getBinding();
    if (!b.residentToken) return;
    const open = section.hidden;
    section.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    setBilingual($('.label', Element, button), ...sayBoth({ key: open ? 'phone.myqr_hide' : 'phone.myqr_show' }));
    if (!open) return;
    void renew(b.residentToken).then((token) => {
      if (token === null) {
        refresh();
        setText($maybe('#myqr-error', Element), say({ key: 'phone.myqr_registration_ended' }, primaryLanguage()));
        return;
      }
      img.src = '/api/residents/qr.svg?token=' + encodeURIComponent(token);
      focusOn($maybe('h2', HTMLElement, section));
    });
  });

  img.addEventListener('error', () => {
    setText($maybe('#myqr-error', Element), say({ key: 'phone.myqr_failed' }, primaryLanguage()));
  });

  refresh();
  return { refresh };
}
