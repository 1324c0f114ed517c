// The JSON API, same origin, with the session token kept in sessionStorage (gone when the tab closes).

import { hasWords, loadWords, sayBoth } from '../shared/words.js';

/**
 * @import { StaffMember } from './api-types.js'
 * @import { Said } from '../shared/words.js'
 */

const KEY = 'staff-console.session';

/** @typedef {{ token: string, staff: StaffMember }} Session what this tab keeps between page loads */

/** @returns {Session | null} */
export function loadSession() {
  try {
    /** @type {unknown} */
    const s = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
    return isSession(s) ? s : null;
  } catch {
    return null;
  }
}

/**
 * What saveSession wrote (a token and the staff member signed in); anything else is no session.
 * @param {unknown} s
 * @returns {s is Session}
 */
function isSession(s) {
  return typeof s === 'object' && s !== null && 'token' in s && typeof s.token === 'string';
}

/** @param {Session | null} s */
export function saveSession(s) {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
}

/**
 * An API error: its code, field, and its words in Chinese and English, from the key and parameters the API
 * answered, by the word catalogue (the API's message text only for a key the catalogue lacks). `message` is the
 * Chinese.
 */
export class ApiError extends Error {
  /**
   * @param {number} status  HTTP status; 0: no answer
   * @param {string} code
   * @param {readonly [string, string]} words  [中文, English]
   * @param {string} [field]  the input field at fault
   */
  constructor(status, code, words, field) {
    super(words[0]);
    this.status = status;
    this.code = code;
    this.zh = words[0];
    this.en = words[1];
    this.field = field;
  }
}

/**
 * [中文, English] of an error: an ApiError's words, or the text of anything else.
 * @param {unknown} err
 * @returns {[string, string]}
 */
export function errorWords(err) {
  if (err instanceof ApiError) return [err.zh, err.en];
  return [err instanceof Error ? err.message : String(err), ''];
}

/**
 * The words of what the API said: by the catalogue when it has the key, else the API's message (a newer
 * controller than this page).
 * @param {Said} said
 * @param {string} message
 * @returns {[string, string]}
 */
function wordsOf(said, message) {
  return hasWords(said.key) || !message ? sayBoth(said) : [message, ''];
}

/** Called on 401 (session ended) and 403 PIN_CHANGE_REQUIRED, so the page can change screen. */
/** @type {(err: ApiError) => void} */
let onAuthProblem = () => {};
/** @param {(err: ApiError) => void} fn */
export function setAuthProblemHandler(fn) {
  onAuthProblem = fn;
}

/**
 * One call to the JSON API. The answer has the type the caller declares (`@type {MeAnswer}` on the variable it goes
 * into): the route's answer schema on the server guarantees that shape, and api-types.js writes it down.
 * @template [T=unknown]
 * @param {'GET' | 'POST' | 'PUT'} method
 * @param {string} path
 * @param {object} [body]
 * @returns {Promise<T>}
 */
export async function api(method, path, body) {
  const session = loadSession();
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (session) headers.Authorization = `Bearer ${session.token}`;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    await loadWords().catch(() => undefined);
    throw new ApiError(0, 'NETWORK', sayBoth({ key: 'staff.no_connection' }));
  }
  /** @type {unknown} */
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    await loadWords().catch(() => undefined);
    const e = errorOf(data) ?? { code: 'HTTP_' + res.status, said: { key: 'staff.something_wrong', params: { status: res.status } }, message: '' };
    const err = new ApiError(res.status, e.code, wordsOf(e.said, e.message), e.field);
    if (path !== '/api/staff/login' && path !== '/api/staff/me/pin' && (res.status === 401 || e.code === 'PIN_CHANGE_REQUIRED')) onAuthProblem(err);
    throw err;
  }
  return /** @type {T} */ (data);
}

/**
 * The `error` of an error answer ({ error: { code, key, params?, message, field? } }, controller/http/routes.ts),
 * when it has one.
 * @param {unknown} data
 * @returns {{ code: string, said: Said, message: string, field?: string } | null}
 */
export function errorOf(data) {
  if (typeof data !== 'object' || data === null || !('error' in data)) return null;
  const e = data.error;
  if (typeof e !== 'object' || e === null || !('code' in e) || typeof e.code !== 'string') return null;
  const message = 'message' in e && typeof e.message === 'string' ? e.message : '';
  const key = 'key' in e && typeof e.key === 'string' ? e.key : `error.${e.code}`;
  const params = 'params' in e && typeof e.params === 'object' && e.params !== null ? /** @type {Said['params']} */ (e.params) : undefined;
  return { code: e.code, said: { key, params }, message, ...('field' in e && typeof e.field === 'string' ? { field: e.field } : {}) };
}

/**
 * The words of an error answer's body, or of its status when it has none.
 * @param {number} status
 * @param {unknown} data
 * @returns {[string, string]}
 */
export function errorAnswerWords(status, data) {
  const e = errorOf(data);
  return e ? wordsOf(e.said, e.message) : sayBoth({ key: 'staff.something_wrong', params: { status } });
}
