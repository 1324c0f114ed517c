/**
 * Talking to the controller's JSON API from the phone pages (same origin only).
 *
 *   const r = await api('GET', '/api/services');
 *   if (r.ok) use(r.body) else show(r.error)   // error: { code, field, fields, zh, en, status }
 *
 * An error answer carries what to say as a key of the word catalogue and its parameters; the words are the
 * catalogue's (./words.js), in Chinese and in English. The message text is never read for its meaning: it is shown
 * only when the catalogue has no words for the key (a newer controller than the page).
 */
import { hasWords, loadWords, sayBoth } from './words.js';

/** @import { Said } from './words.js' */

/**
 * One wrong field of a validation error, in words.
 * @typedef {{ field: string, zh: string, en: string }} FieldProblem
 */

/**
 * An error as the pages show it: the API's code and field, its words in Chinese and English, and every wrong field
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
 * The words of an error (or of one wrong field): its key and parameters from the catalogue; the API's message when
 * the catalogue has no words for the key.
 * @param {object} e  an error object of the answer, or one entry of its `fields`
 * @returns {{ zh: string, en: string }}
 */
function wordsOfError(e) {
  const key = 'key' in e && typeof e.key === 'string' ? e.key : '';
  const params = 'params' in e && e.params && typeof e.params === 'object' ? /** @type {Said['params']} */ (e.params) : undefined;
  if (key && hasWords(key)) {
    const [zh, en] = sayBoth({ key, params });
    return { zh, en };
  }
  const message = 'message' in e && typeof e.message === 'string' ? e.message : '';
  if (message) return { zh: message, en: '' };
  const [zh, en] = sayBoth({ key: 'phone.something_wrong' });
  return { zh, en };
}

/**
 * The API's error body ({ error: { code, key, params, message, field?, fields? } }, ErrorAnswer in
 * ../phone/api-types.js) as { code, field, fields, zh, en }.
 * @param {number} status
 * @param {unknown} body
 * @returns {ApiProblem}
 */
export function readError(status, body) {
  const e = body && typeof body === 'object' && 'error' in body && body.error && typeof body.error === 'object' ? body.error : null;
  if (!e) {
    const [zh, en] = sayBoth({ key: 'phone.something_wrong' });
    return { status, code: 'HTTP_' + status, field: null, fields: [], zh, en };
  }
  const field = 'field' in e && typeof e.field === 'string' && e.field ? e.field : null;
  /** @type {FieldProblem[]} */
  const fields = [];
  const list = 'fields' in e && Array.isArray(e.fields) ? e.fields : [];
  for (const f of /** @type {unknown[]} */ (list)) {
    if (!f || typeof f !== 'object' || !('field' in f) || typeof f.field !== 'string' || !f.field) continue;
    fields.push({ field: f.field, ...wordsOfError(f) });
  }
  return { status, code: String(('code' in e ? e.code : undefined) ?? ''), field, fields, ...wordsOfError(e) };
}

/** No answer at all: the connection failed. */
function networkError() {
  const [zh, en] = sayBoth({ key: 'phone.no_connection' });
  return { status: 0, code: 'NETWORK', field: null, fields: [], zh, en };
}

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
    return { ok: false, status: 0, error: networkError() };
  }
  /** @type {unknown} */
  let parsed = null;
  try {
    parsed = await res.json();
  } catch {
    parsed = null;
  }
  if (res.ok) return { ok: true, status: res.status, body: /** @type {T} */ (parsed) };
  await loadWords().catch(() => undefined); // the words of the error (a page loads them first; this is the fallback)
  return { ok: false, status: res.status, error: readError(res.status, parsed) };
}
