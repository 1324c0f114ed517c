// Small DOM helpers: elements are built with text nodes only (never innerHTML), so names typed by residents
// can never become markup.

/**
 * el('button', { class: 'btn', type: 'button', onclick: fn, 'data-fk': 'x' }, '受理 ', en('Accept'))
 * Keys starting with "on" are listeners; `hidden`/`disabled` booleans; everything else is an attribute.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else if (k === 'value') node.value = v;
    else if (v === true) node.setAttribute(k, '');
    else node.setAttribute(k, String(v));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** The English half of a label, in its own span (smaller weight, same minimum size). */
export function en(text) {
  return text ? el('span', { class: 'en', lang: 'en' }, text) : null;
}

/** "中文 English" as two spans. */
export function bi(pair) {
  return [el('span', { class: 'zh' }, pair[0]), ' ', en(pair[1])];
}

/** Replace the children of `node`, keeping keyboard focus on the element with the same data-fk if it is still there. */
export function replaceKeepingFocus(node, children, fallbackKeys = []) {
  const active = document.activeElement;
  const inside = active && active !== document.body && node.contains(active);
  const key = inside ? active.getAttribute('data-fk') : null;
  const selection = inside && 'selectionStart' in active ? [active.selectionStart, active.selectionEnd] : null;
  node.replaceChildren(...children.filter(Boolean));
  if (!inside) return;
  for (const k of [key, ...fallbackKeys]) {
    if (!k) continue;
    const again = node.querySelector(`[data-fk="${CSS.escape(k)}"]`);
    if (again) {
      again.focus({ preventScroll: true });
      if (selection && 'setSelectionRange' in again) {
        try {
          again.setSelectionRange(selection[0], selection[1]);
        } catch {
          /* not a text field */
        }
      }
      return;
    }
  }
}
