/**
 * Finding the page's own elements, typed: `$('#pin', HTMLInputElement)` is an HTMLInputElement or a clear error
 * naming what is missing. A page whose markup lost or changed an element then fails at that line with its name,
 * not later with "cannot read properties of null".
 */

/**
 * The first element matching `selector` (under `root`, the document by default), which must be a `type`.
 * @template {Element} T
 * @param {string} selector  a CSS selector: '#login', '.label', 'h2'
 * @param {{ new (): T, prototype: T }} type  the element's class: HTMLElement, HTMLInputElement, …
 * @param {ParentNode} [root]
 * @returns {T}
 */
export function $(selector, type, root = document) {
  const found = root.querySelector(selector);
  if (!found) throw new Error(`page element ${selector} is missing`);
  if (!(found instanceof type)) throw new Error(`page element ${selector} is a <${found.tagName.toLowerCase()}>, not the ${type.name} expected`);
  return found;
}

/**
 * Like `$`, for an element that may be absent (built later, or left out of a page): null then. When it is there,
 * it must still be a `type`.
 * @template {Element} T
 * @param {string} selector
 * @param {{ new (): T, prototype: T }} type
 * @param {ParentNode} [root]
 * @returns {T | null}
 */
export function $maybe(selector, type, root = document) {
  const found = root.querySelector(selector);
  if (!found) return null;
  if (!(found instanceof type)) throw new Error(`page element ${selector} is a <${found.tagName.toLowerCase()}>, not the ${type.name} expected`);
  return found;
}
