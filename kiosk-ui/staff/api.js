// The JSON API, same origin, with the session token kept in sessionStorage (gone when the tab closes).

const KEY = 'staff-console.session';

export function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
    return s && typeof s.token === 'string' ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s) {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
}

/** An API error: code and "中文 / English" message from the server, or words of our own for a network failure. */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** Called on 401 (session ended) and 403 PIN_CHANGE_REQUIRED, so the page can change screen. */
let onAuthProblem = () => {};
export function setAuthProblemHandler(fn) {
  onAuthProblem = fn;
}

export async function api(method, path, body) {
  const session = loadSession();
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (session) headers.Authorization = `Bearer ${session.token}`;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'NETWORK', '连不上服务器，请检查网络后再试 / Cannot reach the server: check the network and try again');
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = data && data.error ? data.error : { code: 'HTTP_' + res.status, message: `出错了（${res.status}），请稍后再试 / Something went wrong (${res.status})` };
    const err = new ApiError(res.status, e.code, e.message, e.field);
    if (path !== '/api/staff/login' && path !== '/api/staff/me/pin' && (res.status === 401 || e.code === 'PIN_CHANGE_REQUIRED')) onAuthProblem(err);
    throw err;
  }
  return data;
}

/** "中文 / English" → [zh, en]. */
export function splitBilingual(message) {
  const i = (message ?? '').indexOf(' / ');
  return i < 0 ? [message ?? '', ''] : [message.slice(0, i), message.slice(i + 3)];
}
