// The JSON API, same origin, with the session token kept in sessionStorage (gone when the tab closes).

/** @import { StaffMember } from './api-types.js' */

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

/** An API error: code and "中文 / English" message from the server, or words of our own for a network failure. */
export class ApiError extends Error {
  /**
   * @param {number} status  HTTP status; 0: no answer
   * @param {string} code
   * @param {string} message
   * @param {string} [field]  the input field at fault
   */
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
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
    throw new ApiError(0, 'NETWORK', '连不上服务器，请检查网络后再试 / Cannot reach the server: check the network and try again');
  }
  /** @type {unknown} */
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = errorOf(data) ?? { code: 'HTTP_' + res.status, message: `出错了（${res.status}），请稍后再试 / Something went wrong (${res.status})` };
    const err = new ApiError(res.status, e.code, e.message, e.field);
    if (path !== '/api/staff/login' && path !== '/api/staff/me/pin' && (res.status === 401 || e.code === 'PIN_CHANGE_REQUIRED')) onAuthProblem(err);
    throw err;
  }
  return /** @type {T} */ (data);
}

/**
 * The `error` of an error answer ({ error: { code, message, field? } }, controller/http/routes.ts), when it has one.
 * @param {unknown} data
 * @returns {{ code: string, message: string, field?: string } | null}
 */
function errorOf(data) {
  if (typeof data !== 'object' || data === null || !('error' in data)) return null;
  const e = data.error;
  if (typeof e !== 'object' || e === null || !('code' in e) || !('message' in e)) return null;
  if (typeof e.code !== 'string' || typeof e.message !== 'string') return null;
  return { code: e.code, message: e.message, ...('field' in e && typeof e.field === 'string' ? { field: e.field } : {}) };
}

/**
 * "中文 / English" → [zh, en].
 * @param {string | null | undefined} message
 * @returns {[string, string]}
 */
export function splitBilingual(message) {
  const text = message ?? '';
  const i = text.indexOf(' / ');
  return i < 0 ? [text, ''] : [text.slice(0, i), text.slice(i + 3)];
}
