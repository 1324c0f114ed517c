/**
 * Talking to the controller's JSON API from the phone pages (same origin only).
 *
 *   const r = await api('GET', '/api/services');
 *   if (r.ok) use(r.body) else show(r.error)   // error: { code, field, fields, zh, en, status }
 *
 * Error messages come from the API as "中文 / English"; a message about a field may start with the field's
 * path ("mobile: ..."), which a resident should not see, so it is taken off here.
 */

/**
 * One wrong field of a validation error, its message in two halves.
 * @typedef {{ field: string, zh: string, en: string }} FieldProblem
 */

/**
 * An error as the pages show it: the API's code and field, its message in two halves, and every wrong field
 * (`fields`, empty unless the API named them; the first is `field`).
 * @typedef {{ status: number, code: string, field: string | null, fields: FieldProblem[], zh: string, en: string }} ApiProblem
 */

/**
 * What api() answers: the body on success (its type is what the caller declares, the route's answer schema on the
 * server guarantees it), the error otherwise.
 * @template T
 * @typedef {{ ok: true, status: number, body: T } | { ok: false, status: number, error: ApiProblem }} ApiResult
 */

/**
 * Splits "中文 / English" into its two halves.
 * @param {unknown} message
 */
export function splitMessage(message) {
  const text = String(message ?? '');
  const sep = text.indexOf(' / ');
  return sep >= 0 ? { zh: text.slice(0, sep), en: text.slice(sep + 3) } : { zh: text, en: '' };
}

/**
 * The API's error body ({ error: { code, message, field?, fields? } }, ErrorAnswer in ../phone/api-types.js) as
 * { code, field, fields, zh, en }.
 * @param {number} status
 * @param {unknown} body
 * @returns {ApiProblem}
 */
export function readError(status, body) {
  const e = body && typeof body === 'object' && 'error' in body && body.error && typeof body.error === 'object' ? body.error : null;
  if (!e) {
    return {
      status,
      code: 'HTTP_' + status,
      field: null,
      fields: [],
      zh: '系统出了点问题，请稍后再试',
      en: 'Something went wrong: please try again later',
    };
  }
  let message = String(('message' in e ? e.message : undefined) ?? '');
  const field = 'field' in e && typeof e.field === 'string' && e.field ? e.field : null;
  if (field && message.startsWith(field + ': ')) message = message.slice(field.length + 2);
  /** @type {FieldProblem[]} */
  const fields = [];
  const list = 'fields' in e && Array.isArray(e.fields) ? e.fields : [];
  for (const f of /** @type {unknown[]} */ (list)) {
    if (!f || typeof f !== 'object' || !('field' in f) || typeof f.field !== 'string' || !f.field) continue;
    fields.push({ field: f.field, ...splitMessage('message' in f ? f.message : '') });
  }
  return { status, code: String(('code' in e ? e.code : undefined) ?? ''), field, fields, ...splitMessage(message) };
}

/** @type {Readonly<ApiProblem>} */
export const NETWORK_ERROR = Object.freeze({
  status: 0,
  code: 'NETWORK',
  field: null,
  fields: [],
  zh: '网络连接失败，请检查网络后再试',
  en: 'No connection: check the network and try again',
});

/**
 * One call; never throws.
 * @template [T=unknown]
 * @param {'GET' | 'POST'} method
 * @param {string} path
 * @param {object} [body]
 * @returns {Promise<ApiResult<T>>}
 */
export async function api(method, path, body) {
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    return { ok: false, status: 0, error: NETWORK_ERROR };
  }
  /** @type {unknown} */
  let parsed = null;
  try {
    parsed = await res.json();
  } catch {
    parsed = null;
  }
  if (res.ok) return { ok: true, status: res.status, body: /** @type {T} */ (parsed) };
  return { ok: false, status: res.status, error: readError(res.status, parsed) };
}
