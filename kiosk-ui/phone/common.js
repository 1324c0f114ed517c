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

const KEY = 'bangbangui.phone.v1';
const MAX_REQUESTS = 10;

function emptyBinding() {
  return { residentToken: null, name: '', mobile: '', hasIdNumber: false, hasAddress: false, requests: [] };
}

export function loadBinding() {
  try {
    const raw = window.localStorage.getItem(KEY);
    if (!raw) return emptyBinding();
    const v = JSON.parse(raw);
    return {
      residentToken: typeof v.residentToken === 'string' && v.residentToken ? v.residentToken : null,
      name: typeof v.name === 'string' ? v.name : '',
      mobile: typeof v.mobile === 'string' ? v.mobile : '',
      hasIdNumber: v.hasIdNumber === true,
      hasAddress: v.hasAddress === true,
      requests: Array.isArray(v.requests) ? v.requests.filter((r) => r && typeof r.statusToken === 'string').slice(0, MAX_REQUESTS) : [],
    };
  } catch {
    return emptyBinding();
  }
}

export function saveBinding(b) {
  try {
    window.localStorage.setItem(KEY, JSON.stringify({ ...b, requests: b.requests.slice(0, MAX_REQUESTS) }));
  } catch {
    // private mode or storage full: the page still works, the phone just will not remember
  }
}

/** The registration stopped working (staff issued a new one, or the store was reset): forget it. */
export function forgetResident(b) {
  const next = { ...b, residentToken: null, hasIdNumber: false, hasAddress: false };
  saveBinding(next);
  return next;
}

/** 张三 → 张*, 张三丰 → 张*丰, 欧阳小明 → 欧**明, Li Lei → L*****i */
export function maskName(name) {
  const chars = Array.from(String(name || '').trim());
  if (chars.length === 0) return '';
  if (chars.length === 1) return chars[0];
  if (chars.length === 2) return chars[0] + '*';
  return chars[0] + '*'.repeat(chars.length - 2) + chars[chars.length - 1];
}

/** 13812345678 → 138****5678 */
export function maskMobile(mobile) {
  const m = String(mobile || '');
  return /^\d{11}$/.test(m) ? m.slice(0, 3) + '****' + m.slice(7) : '';
}

// ---------------------------------------------------------------------------------------------- DOM

export const $ = (sel, root = document) => root.querySelector(sel);

/** Sets text only when it changed, so aria-live regions are not re-announced for nothing. */
export function setText(el, text) {
  const t = String(text ?? '');
  if (el && el.textContent !== t) el.textContent = t;
}

/** <tag class><span>中文</span><span class="en">English</span></tag> */
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

/** Fills an existing element with the two lines. */
export function setBilingual(el, zh, en) {
  const z = el.querySelector(':scope > .zh');
  const e = el.querySelector(':scope > .en');
  if (z && e) {
    setText(z, zh);
    setText(e, en || '');
    e.hidden = !en;
    return;
  }
  el.replaceChildren(...bilingual('span', zh, en).childNodes);
}

/** Moves keyboard and screen-reader focus to a heading or region that just appeared. */
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
export function setUpMyQr(getBinding) {
  const button = $('#myqr-button');
  const section = $('#myqr');
  const img = $('#myqr-img');
  if (!button || !section || !img) return { refresh() {} };

  function refresh() {
    const b = getBinding();
    button.hidden = !b.residentToken;
    if (!b.residentToken) {
      section.hidden = true;
      button.setAttribute('aria-expanded', 'false');
      img.removeAttribute('src');
    }
  }

  button.addEventListener('click', () => {
    const b = getBinding();
    if (!b.residentToken) return;
    const open = section.hidden;
    section.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    setBilingual($('.label', button), open ? '收起我的二维码' : '我的二维码', open ? 'hide my QR code' : 'my QR code');
    if (open) {
      img.src = '/api/residents/qr.svg?token=' + encodeURIComponent(b.residentToken);
      focusOn($('h2', section));
    }
  });

  img.addEventListener('error', () => {
    setText($('#myqr-error'), '二维码暂时显示不出来，请稍后再试，或到居委会办理。');
  });

  refresh();
  return { refresh };
}
