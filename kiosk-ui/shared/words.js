/**
 * The word catalogue on the pages: the controller's words for every key (GET /api/words, from
 * controller/words/languages/), loaded once. The API answers with a key and its parameters (a "said"); a page puts
 * words to it here, in the language it shows, and never reads meaning out of a message's text.
 *
 *   await loadWords();                                   // once, before the first words are needed
 *   say({ key: 'kiosk.opened_head', params: { doors: [3, 5] } }, 'en')   // → 'Doors 3, 5 are open'
 *   const [zh, en] = sayBoth(answer);                    // the primary language first, then English
 *
 * Templates name their parameters in braces ({doors}); a list of numbers is joined with the language's own
 * separator ('、' in Chinese, ', ' in English), as the controller's catalogue.ts does.
 */

/**
 * A parameter's value: a list of numbers (compartments) is joined the language's way.
 * @typedef {string | number | readonly number[]} WordParam
 */

/**
 * Something to say: a key of the catalogue and its parameters (what the API's answers carry as key + params).
 * @typedef {{ key: string, params?: Readonly<Record<string, WordParam>> | undefined }} Said
 */

/**
 * GET /api/words (controller/http/words-routes.ts wordsSchema).
 * @typedef {{
 *   languages: { language: string, name: string }[],
 *   catalogues: Record<string, { listSeparator: string, words: Record<string, string> }>,
 * }} WordsAnswer
 */

/** @type {WordsAnswer | null} */
let loaded = null;
/**
 * The page's own copy of some of the catalogue's words (wordsFromPage), said until the catalogue is loaded.
 * @type {WordsAnswer | null}
 */
let fallback = null;
/** @type {Promise<WordsAnswer> | null} */
let loading = null;

/**
 * Fetches the catalogue once (later calls share the first answer); a failed load is tried again on the next call.
 * @param {{ timeoutMs?: number }} [opts]
 * @returns {Promise<WordsAnswer>}
 */
export function loadWords(opts = {}) {
  if (loaded) return Promise.resolve(loaded);
  if (!loading) {
    loading = (async () => {
      const res = await fetch('/api/words', { signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
      if (!res.ok) throw new Error(`GET /api/words answered ${res.status}`);
      const body = /** @type {WordsAnswer} */ (await res.json());
      if (!body || !Array.isArray(body.languages) || !body.catalogues || !body.languages[0]) throw new Error('GET /api/words: not a catalogue');
      useWords(body);
      return body;
    })();
    loading.catch(() => {
      loading = null;
    });
  }
  return loading;
}

/**
 * Use a catalogue the page already has (a test, or a page that got it another way) instead of fetching it.
 * @param {WordsAnswer} words
 */
export function useWords(words) {
  loaded = words;
}

/**
 * The words a page carries in its HTML, as its first text, for when GET /api/words cannot be had (the controller
 * restarting): every element with `data-word="key"` whose content is the words themselves, "中文" then
 * `<span class="en" lang="en">English</span>` (with `data-word-lang`, only that language's), also inside `<template>`s.
 * Templates keep their `{placeholders}`. Read them before anything on the page is changed; say() uses them until the
 * catalogue is loaded. The pages' test checks that every such text is the catalogue's words for its key.
 * @param {ParentNode} [root]
 * @param {{ listSeparators?: Readonly<Record<string, string>> }} [opts]  each language's separator for lists
 */
export function wordsFromPage(root = document, opts = {}) {
  /** @type {Record<string, string>} */
  const zh = {};
  /** @type {Record<string, string>} */
  const english = {};
  const words = { 'zh-CN': zh, en: english };
  /** @param {ParentNode} from */
  const read = (from) => {
    for (const node of from.querySelectorAll('[data-word]')) {
      const key = node.getAttribute('data-word') ?? '';
      const only = node.getAttribute('data-word-lang');
      const own = [...node.childNodes]
        .filter((c) => c.nodeType === Node.TEXT_NODE)
        .map((c) => c.textContent)
        .join('')
        .trim();
      if (only === 'zh-CN' || only === 'en') {
        if (own) words[only][key] = own;
        continue;
      }
      const en = node.querySelector(':scope > .en')?.textContent?.trim() ?? '';
      if (own) zh[key] = own;
      if (en) english[key] = en;
    }
    for (const t of from.querySelectorAll('template')) read(t.content);
  };
  read(root);
  const sep = opts.listSeparators ?? {};
  fallback = {
    languages: [
      { language: 'zh-CN', name: '' },
      { language: 'en', name: '' },
    ],
    catalogues: {
      'zh-CN': { listSeparator: sep['zh-CN'] ?? ', ', words: zh },
      en: { listSeparator: sep.en ?? ', ', words: english },
    },
  };
}

/** The words said now: the catalogue, or until it is loaded the page's own copy (wordsFromPage). */
function current() {
  return loaded ?? fallback;
}

/** Whether the catalogue is here (say() before it is gives the key itself, or the page's own words). */
export function wordsLoaded() {
  return loaded !== null;
}

/** The languages the catalogue has, the primary one first (empty before it is loaded). */
export function languages() {
  return loaded ? loaded.languages.map((l) => l.language) : [];
}

/** The primary language: what a resident reads first ('zh-CN' until the catalogue says otherwise). */
export function primaryLanguage() {
  return current()?.languages[0]?.language ?? 'zh-CN';
}

/** How `language` (the primary one by default) joins a list of numbers ('、' in Chinese). @param {string} [language] */
export function listSeparator(language) {
  const words = current();
  return words?.catalogues[language ?? primaryLanguage()]?.listSeparator ?? ', ';
}

/** Whether the catalogue has words for `key`. @param {string} key */
export function hasWords(key) {
  const words = current();
  return words !== null && Object.hasOwn(words.catalogues[primaryLanguage()]?.words ?? {}, key);
}

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9]*)\}/g;

/**
 * The words of `said` in `language` (the primary language when the catalogue has no such language or no words for
 * the key in it). Before the catalogue is loaded, or for a key it does not have, the key itself: a visible fault,
 * never a made-up sentence.
 * @param {Said} said
 * @param {string} [language]
 * @returns {string}
 */
export function say(said, language) {
  const words = current();
  if (!words) return said.key;
  const primary = words.catalogues[primaryLanguage()];
  const own = words.catalogues[language ?? primaryLanguage()];
  const c = own && Object.hasOwn(own.words, said.key) ? own : primary;
  if (!c || !Object.hasOwn(c.words, said.key)) return said.key;
  const template = /** @type {string} */ (c.words[said.key]);
  const params = said.params ?? {};
  return template.replace(PLACEHOLDER, (whole, /** @type {string} */ name) => {
    const v = params[name];
    if (v === undefined) return whole;
    return typeof v === 'object' ? v.join(c.listSeparator) : String(v);
  });
}

/**
 * The words in the primary language and in English, for a page that shows both (中文 first, English under it).
 * English is '' when the catalogue has no English.
 * @param {Said} said
 * @returns {[string, string]}
 */
export function sayBoth(said) {
  const primary = primaryLanguage();
  const english = current()?.catalogues.en && primary !== 'en' ? say(said, 'en') : '';
  return [say(said, primary), english];
}

/**
 * Like sayBoth, for a template whose parameters are themselves words ([primary, English] each): every language gets
 * its own ('{number}：{done}。' with 已受理, '{number}: {done}.' with Accepted).
 * @param {string} key
 * @param {Readonly<Record<string, WordParam>>} params  the parameters that are the same in every language
 * @param {Readonly<Record<string, readonly [string, string]>>} words  the parameters that are words
 * @returns {[string, string]}
 */
export function sayEach(key, params, words) {
  /** @param {0 | 1} i */
  const own = (i) => ({ ...params, ...Object.fromEntries(Object.entries(words).map(([k, v]) => [k, v[i]])) });
  const primary = primaryLanguage();
  const english = current()?.catalogues.en && primary !== 'en' ? say({ key, params: own(1) }, 'en') : '';
  return [say({ key, params: own(0) }, primary), english];
}

/**
 * The words of a page's static HTML, from the catalogue: an element with `data-word="key"` gets the primary
 * language's words and, in a `<span class="en" lang="en">` after them, the English ("中文 English", as the pages
 * write them); `data-word-aria-label` and `data-word-placeholder` fill those attributes ("中文 / English",
 * "中文 — English"); a `<title data-word>` gets "中文 / English"; `data-word-lang="en"` (or "zh-CN") gives the element
 * only that language's words. Before the catalogue is loaded it changes nothing: what the page wrote stays.
 * @param {ParentNode} [root]
 */
export function renderWords(root = document) {
  if (!loaded) return;
  for (const node of root.querySelectorAll('[data-word]')) {
    const key = node.getAttribute('data-word') ?? '';
    const only = node.getAttribute('data-word-lang');
    if (only) {
      node.textContent = say({ key }, only);
      continue;
    }
    const [primary, english] = sayBoth({ key });
    if (node instanceof HTMLTitleElement) {
      node.textContent = english ? `${primary} / ${english}` : primary;
      continue;
    }
    const en = node.ownerDocument.createElement('span');
    en.className = 'en';
    en.lang = 'en';
    en.textContent = english;
    node.replaceChildren(primary, ...(english ? [' ', en] : []));
  }
  for (const [attr, joint] of /** @type {const} */ ([
    ['aria-label', ' / '],
    ['placeholder', ' — '],
    ['alt', ' / '],
  ])) {
    for (const node of root.querySelectorAll(`[data-word-${attr}]`)) {
      const [primary, english] = sayBoth({ key: node.getAttribute(`data-word-${attr}`) ?? '' });
      node.setAttribute(attr, english ? `${primary}${joint}${english}` : primary);
    }
  }
}
