// Small DOM helpers: elements are built with text nodes only (never innerHTML), so names typed by residents
// can never become markup.

/**
 * What el() takes as properties: listeners (keys starting with "on"), attributes, booleans; absent values are skipped.
 * @typedef {Record<string, string | number | boolean | null | undefined | ((e: Event) => void)>} Props
 */

/**
 * What el() takes as children: nodes, text (numbers are written out), or lists of them; absent values are skipped.
 * @typedef {Node | string | number | null | undefined | false} Child
 */

/**
 * el('button', { class: 'btn', type: 'button', onclick: fn, 'data-fk': 'x' }, '受理 ', en('Accept'))
 * Keys starting with "on" are listeners; `hidden`/`disabled` booleans; everything else is an attribute.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props | null} [props]
 * @param {...(Child | readonly Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (typeof v === 'function')
      continue; // a listener under a name that does not start with "on": never set as text
    else if (k === 'class') node.className = String(v);
    else if (k === 'value' && 'value' in node) node.value = String(v);
    else if (v === true) node.setAttribute(k, '');
    else node.setAttribute(k, String(v));
  }
  append(node, children);
  return node;
}

/**
 * @param {Element} node
 * @param {readonly (Child | readonly Child[])[]} children
 */
function append(node, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/**
 * The English half of a label, in its own span (smaller weight, same minimum size).
 * @param {string | null | undefined} text
 */
export function en(text) {
  return text ? el('span', { class: 'en', lang: 'en' }, text) : null;
}

/**
 * "中文 English" as two spans.
 * @param {readonly [string, string]} pair
 */
export function bi(pair) {
  const zh = el('span', { class: 'zh' }, pair[0]);
  const english = en(pair[1]);
  return english ? [zh, ' ', english] : [zh, ' '];
}

/**
 * Replace the children of `node`, keeping keyboard focus on the element with the same data-fk if it is still there.
 * @param {Element} node
 * @param {readonly (Node | string | null | undefined | false)[]} children  absent ones are skipped
 * @param {readonly (string | null | undefined)[]} [fallbackKeys]  data-fk values to focus instead, in order
 */
export function replaceKeepingFocus(node, children, fallbackKeys = []) {
  const active = document.activeElement;
  const inside = active && active !== document.body && node.contains(active) ? active : null;
  const key = inside ? inside.getAttribute('data-fk') : null;
  const selection = inside instanceof HTMLInputElement || inside instanceof HTMLTextAreaElement ? [inside.selectionStart, inside.selectionEnd] : null;
  node.replaceChildren(...children.filter(present));
  if (!inside) return;
  for (const k of [key, ...fallbackKeys]) {
    if (!k) continue;
    const again = node.querySelector(`[data-fk="${CSS.escape(k)}"]`);
    if (again instanceof HTMLElement) {
      again.focus({ preventScroll: true });
      if (selection && (again instanceof HTMLInputElement || again instanceof HTMLTextAreaElement)) {
        try {
          again.setSelectionRange(selection[0] ?? null, selection[1] ?? null);
        } catch {
          /* not a text field */
        }
      }
      return;
    }
  }
}

/**
 * @param {Node | string | null | undefined | false} c
 * @returns {c is Node | string}
 */
function present(c) {
  return c !== null && c !== undefined && c !== false && c !== '';
}
