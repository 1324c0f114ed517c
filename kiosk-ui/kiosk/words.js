/**
 * What the touchscreen says, in words (zh-CN + en) and in spoken clips, for every code the controller answers
 * (door-routes.ts kioskAnswerSchema, the kiosk channel's door-closed outcomes in flows/cabinet.ts DoorClosedCode)
 * and for the screen's own states. The server's message texts are never shown or parsed: codes in, words out. The
 * words are the catalogue's (kiosk.* in controller/words/languages/); what is here is how each code behaves: its
 * tone, what the main button offers, and what is spoken.
 * Clip names are those of sounds.js CLIPS; numbers are spoken by composing the number clips (numberClips).
 */

import { hasWords, sayBoth } from '../shared/words.js';

/** @import { KioskAnswer } from './api-types.js' */

/** @typedef {KioskAnswer['code']} AnswerCode */
/** How a resident's door ended when it closed (flows/cabinet.ts DoorClosedCode). @typedef {'COLLECTED' | 'ITEM_NOT_TAKEN' | 'DEPOSITED' | 'NOTHING_DEPOSITED'} ClosedCode */
/** The screen's own: the controller could not be asked (NETWORK), answered an error (HTTP), or the link is down. @typedef {'NETWORK' | 'HTTP' | 'LINK_DOWN'} LocalCode */
/** @typedef {AnswerCode | ClosedCode | LocalCode} ShownCode */

/**
 * What the words may use.
 * @typedef {{ doors: number[], kind: 'qr' | 'code', action: 'pickup' | 'dropoff' | null, triesLeft?: number, phone: string | null }} Ctx
 */

/**
 * One code's words. `tone`: ok (done), warn (needs the resident again), stop (cannot go on here).
 * `retry`: what the main button offers (null: none). `staff`: show "ask the staff / call".
 * @typedef {{
 *   tone: 'ok' | 'warn' | 'stop',
 *   head: (c: Ctx) => readonly [string, string],
 *   body: (c: Ctx) => readonly [string, string],
 *   clips: (c: Ctx) => string[],
 *   retry: 'code' | 'scan' | null,
 *   staff: boolean,
 *   doorOpen: boolean,
 * }} Said
 */

/**
 * Words of the catalogue (GET /api/words, or until it comes the copy in index.html): [中文, English]; a key with no
 * words is shown as nothing, never as the key.
 * @param {string} key
 * @param {Record<string, string | number | number[]>} [params]
 * @returns {readonly [string, string]}
 */
const w = (key, params) => (hasWords(key) ? sayBoth(params ? { key, params } : { key }) : ['', '']);

/** @param {number[]} doors */
const openedHead = (doors) => w(doors.length > 1 ? 'kiosk.opened_head_many' : 'kiosk.opened_head', { doors });

/**
 * A number as Mandarin clips: 3 → n3; 12 → n10 n2; 20 → n2 n10; 23 → n2 n10 n3; above 99, digit by digit.
 * @param {number} n
 * @returns {string[]}
 */
export function numberClips(n) {
  if (!Number.isInteger(n) || n < 0) return [];
  if (n < 10) return [`n${n}`];
  if (n < 100) {
    const t = Math.floor(n / 10);
    const u = n % 10;
    return [...(t > 1 ? [`n${t}`] : []), 'n10', ...(u ? [`n${u}`] : [])];
  }
  return digitClips(String(n));
}

/** A phone number digit by digit (separators are not spoken). @param {string} s */
export function digitClips(s) {
  return [...s].filter((ch) => /[0-9]/.test(ch)).map((d) => `n${d}`);
}

/** @param {number[]} doors  each door's number, then 号 */
function doorClips(doors) {
  return doors.flatMap((d, i) => [...(i > 0 ? ['and'] : []), ...numberClips(d)]);
}

/** The committee phone, when there is one. @param {Ctx} c @returns {string[]} */
function callClips(c) {
  return c.phone ? ['call', ...digitClips(c.phone)] : ['staff'];
}

/** @param {Ctx} c @returns {readonly [string, string]} */
function callWords(c) {
  return c.phone ? w('kiosk.call_phone', { phone: c.phone }) : w('kiosk.call_staff');
}

/** @param {readonly [string, string]} a @param {readonly [string, string]} b @returns {readonly [string, string]} */
const join = (a, b) => [`${a[0]}${b[0]}`, `${a[1]} ${b[1]}`];

/** @type {Readonly<Record<ShownCode, Said>>} */
export const WORDS = {
  OPENED: {
    tone: 'ok',
    retry: null,
    staff: false,
    doorOpen: true,
    head: (c) => openedHead(c.doors),
    body: (c) => w(c.action === 'dropoff' ? 'kiosk.opened_body_dropoff' : 'kiosk.opened_body_pickup'),
    clips: (c) => [...doorClips(c.doors), 'door-opened', c.action === 'dropoff' ? 'put-close' : 'take-close'],
  },
  COLLECTED: {
    tone: 'ok',
    retry: null,
    staff: false,
    doorOpen: false,
    head: () => w('kiosk.collected_head'),
    body: () => w('kiosk.collected_body'),
    clips: () => ['door-closed'],
  },
  DEPOSITED: {
    tone: 'ok',
    retry: null,
    staff: false,
    doorOpen: false,
    head: () => w('kiosk.deposited_head'),
    body: () => w('kiosk.deposited_body'),
    clips: () => ['deposited'],
  },
  ITEM_NOT_TAKEN: {
    tone: 'warn',
    retry: 'code',
    staff: false,
    doorOpen: false,
    head: (c) => w('kiosk.item_not_taken_head', { doors: c.doors }),
    body: () => w('kiosk.item_not_taken_body'),
    clips: (c) => [...doorClips(c.doors), 'still-inside', 'open-again'],
  },
  NOTHING_DEPOSITED: {
    tone: 'warn',
    retry: 'scan',
    staff: false,
    doorOpen: false,
    head: (c) => w('kiosk.nothing_deposited_head', { doors: c.doors }),
    body: () => w('kiosk.nothing_deposited_body'),
    clips: (c) => [...doorClips(c.doors), 'nothing-inside', 'deposit-again'],
  },
  INVALID: {
    tone: 'warn',
    retry: 'code',
    staff: false,
    doorOpen: false,
    head: (c) => w(c.kind === 'qr' ? 'kiosk.invalid_head_qr' : 'kiosk.invalid_head_code'),
    body: (c) =>
      !c.triesLeft
        ? w('kiosk.invalid_body')
        : c.triesLeft === 1
          ? w('kiosk.invalid_body_last_try')
          : w('kiosk.invalid_body_tries', { tries: c.triesLeft }),
    clips: (c) => (c.kind === 'qr' ? ['qr-bad'] : ['wrong', ...(c.triesLeft ? ['tries-left', ...numberClips(c.triesLeft), 'times'] : [])]),
  },
  USED: {
    tone: 'warn',
    retry: 'code',
    staff: false,
    doorOpen: false,
    head: () => w('kiosk.used_head'),
    body: () => w('kiosk.used_body'),
    clips: () => ['qr-bad'],
  },
  LOCKED: {
    tone: 'warn',
    retry: null,
    staff: false,
    doorOpen: false,
    head: () => w('kiosk.locked_head'),
    body: () => w('kiosk.locked_body'),
    clips: () => ['locked'],
  },
  NOTHING_WAITING: {
    tone: 'warn',
    retry: null,
    staff: false,
    doorOpen: false,
    head: () => w('kiosk.nothing_waiting_head'),
    body: () => w('kiosk.nothing_waiting_body'),
    clips: () => ['nothing'],
  },
  CABINET_FULL: {
    tone: 'stop',
    retry: null,
    staff: true,
    doorOpen: false,
    head: () => w('kiosk.cabinet_full_head'),
    body: (c) => join(w('kiosk.cabinet_full_body'), callWords(c)),
    clips: (c) => ['full', ...callClips(c)],
  },
  NOT_OPENED: {
    tone: 'stop',
    retry: null,
    staff: true,
    doorOpen: false,
    head: () => w('kiosk.not_opened_head'),
    body: (c) => join(w('kiosk.not_opened_body'), callWords(c)),
    clips: (c) => ['not-opened', ...callClips(c)],
  },
  OUT_OF_ORDER: {
    tone: 'stop',
    retry: null,
    staff: true,
    doorOpen: false,
    head: () => w('kiosk.out_of_order_head'),
    body: (c) => join(w('kiosk.out_of_order_body'), callWords(c)),
    clips: (c) => ['not-opened', ...callClips(c)],
  },
  NOT_READY: {
    tone: 'warn',
    retry: null,
    staff: false,
    doorOpen: false,
    head: () => w('kiosk.not_ready_head'),
    body: () => w('kiosk.not_ready_body'),
    clips: () => ['please-wait', 'later'],
  },
  OUT_OF_SERVICE: {
    tone: 'stop',
    retry: null,
    staff: true,
    doorOpen: false,
    head: () => w('kiosk.out_of_service'),
    body: (c) => join(w('kiosk.out_of_service_body'), callWords(c)),
    clips: (c) => ['offline', ...callClips(c)],
  },
  UNKNOWN_SCAN: {
    tone: 'warn',
    retry: 'code',
    staff: false,
    doorOpen: false,
    head: () => w('kiosk.unknown_scan_head'),
    body: () => w('kiosk.unknown_scan_body'),
    clips: () => ['qr-bad'],
  },
  LINK_DOWN: {
    tone: 'stop',
    retry: null,
    staff: true,
    doorOpen: false,
    head: () => w('kiosk.out_of_service'),
    body: (c) => join(w('kiosk.link_down_body'), callWords(c)),
    clips: (c) => ['offline', ...callClips(c)],
  },
  NETWORK: {
    tone: 'stop',
    retry: null,
    staff: true,
    doorOpen: false,
    head: () => w('kiosk.out_of_service'),
    body: (c) => join(w('kiosk.network_body'), callWords(c)),
    clips: (c) => ['offline', ...callClips(c)],
  },
  HTTP: {
    tone: 'warn',
    retry: null,
    staff: true,
    doorOpen: false,
    head: () => w('kiosk.http_head'),
    body: () => w('kiosk.http_body'),
    clips: () => ['later'],
  },
};

/** @param {string} code @returns {code is ShownCode} */
export function isShownCode(code) {
  return Object.hasOwn(WORDS, code);
}

/** @type {readonly ClosedCode[]} */
export const CLOSED_CODES = ['COLLECTED', 'ITEM_NOT_TAKEN', 'DEPOSITED', 'NOTHING_DEPOSITED'];

/**
 * A wait as a person says it: "请 40 秒后再试", "请 1 分钟后再试" (minutes rounded up from 60 s on).
 * @param {number} ms
 * @returns {{ zh: string, en: string, clips: string[] }}
 */
export function waitWords(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  /** @param {readonly [string, string]} words @param {string[]} clips */
  const said = (words, clips) => ({ zh: words[0], en: words[1], clips });
  if (s === 0) return said(w('kiosk.wait_now'), ['try-now']);
  if (s < 60) return said(w('kiosk.wait_seconds', { seconds: s }), ['please', ...numberClips(s), 'seconds-later']);
  const m = Math.ceil(s / 60);
  return said(m === 1 ? w('kiosk.wait_one_minute') : w('kiosk.wait_minutes', { minutes: m }), ['please', ...numberClips(m), 'minutes-later']);
}

/**
 * The screen's own words by key (kiosk.* in the catalogue): [中文, English].
 * @param {string} key  e.g. 'kiosk.checking'
 * @param {Record<string, string | number | number[]>} [params]
 * @returns {readonly [string, string]}
 */
export function screenWords(key, params) {
  return w(key, params);
}
