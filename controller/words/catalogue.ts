/**
 * The word catalogue: the languages in languages/ (one file each, found at load), checked complete against
 * keys.ts, and `say` to turn a Said into words. Adding a language is adding one file there: `npm test` fails
 * until it has words for every key, with the same parameters.
 *
 * Templates name their parameters in braces: '{doors} 号柜门已打开'. A list of numbers is joined with the
 * language's listSeparator. Nothing here decides anything: it only puts words to what the domain decided.
 */
import { existsSync, readdirSync } from 'node:fs';
import { isWordKey, WORDS, type Said, type WordKey, type WordParam } from './keys.js';

export interface Catalogue {
  /** BCP 47 tag, the same as the file's name: zh-CN, en. */
  readonly language: string;
  /** The language's own name, for a language switch: 中文, English. */
  readonly name: string;
  /** How a list of compartments is joined: '、' in Chinese, ', ' in English. */
  readonly listSeparator: string;
  readonly words: { readonly [K in WordKey]: string };
}

/** The primary language: what a resident reads first, and what is said when a language has no answer. */
export const PRIMARY = 'zh-CN';

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9]*)\}/g;

/** The parameter names a template uses. */
export function placeholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string))].sort();
}

/** What is wrong with a language file: keys without words, words without a key, parameters that differ. */
export function problemsOf(c: Catalogue): string[] {
  const problems: string[] = [];
  const words = c.words as Readonly<Record<string, unknown>>;
  for (const key of Object.keys(WORDS) as WordKey[]) {
    const t = words[key];
    if (typeof t !== 'string' || t.trim() === '') {
      problems.push(`${c.language}: no words for ${key}`);
      continue;
    }
    const want = [...WORDS[key]].sort().join(',');
    const got = placeholders(t).join(',');
    if (want !== got) problems.push(`${c.language}: ${key} uses {${got}} but its parameters are {${want}}`);
  }
  for (const key of Object.keys(words)) if (!isWordKey(key)) problems.push(`${c.language}: words for ${key}, which is no key`);
  return problems;
}

const LANGUAGE_FILE = /^([a-z]{2,3}(?:-[A-Z][A-Za-z]{1,3})?)\.(?:ts|js)$/;

/**
 * The languages/ folder: beside this module (the sources, tsc's dist/); from the bundled controller
 * (deploy/bundle.mjs: dist/controller/main.js or one of its chunks), the one tsc wrote in dist/controller/words/.
 */
export function languagesDir(moduleUrl: string = import.meta.url): URL {
  const candidates = ['./languages/', './words/languages/', '../words/languages/'].map((rel) => new URL(rel, moduleUrl));
  return candidates.find((dir) => existsSync(dir)) ?? (candidates[0] as URL);
}

async function load(): Promise<ReadonlyMap<string, Catalogue>> {
  const dir = languagesDir();
  const files = readdirSync(dir)
    .filter((f) => LANGUAGE_FILE.test(f) && !f.endsWith('.d.ts'))
    .sort();
  const found = new Map<string, Catalogue>();
  for (const file of files) {
    const mod = (await import(new URL(file, dir).href)) as { default?: Catalogue };
    const c = mod.default;
    const tag = LANGUAGE_FILE.exec(file)?.[1];
    if (!c || c.language !== tag) throw new Error(`word catalogue: languages/${file} must export default a Catalogue whose language is "${tag}"`);
    const problems = problemsOf(c);
    if (problems.length) throw new Error(`word catalogue: languages/${file} is incomplete:\n  ${problems.join('\n  ')}`);
    found.set(c.language, c);
  }
  if (!found.has(PRIMARY)) throw new Error(`word catalogue: languages/${PRIMARY}.ts is missing`);
  // the primary language first, then English, then the others by name
  const order = [...found.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return new Map(order.map((l) => [l, found.get(l) as Catalogue]));
}

const rank = (l: string) => (l === PRIMARY ? 0 : l === 'en' ? 1 : 2);

const CATALOGUES = await load();

/** The languages, the primary one first. */
export const LANGUAGES: readonly string[] = [...CATALOGUES.keys()];

export function catalogue(language: string): Catalogue {
  return CATALOGUES.get(language) ?? (CATALOGUES.get(PRIMARY) as Catalogue);
}

function format(c: Catalogue, v: WordParam): string {
  return typeof v === 'object' ? v.join(c.listSeparator) : String(v);
}

/** The words of `s` in `language` (the primary language when there is no such file). */
export function say(s: Said, language: string = PRIMARY): string {
  const c = catalogue(language);
  const params = (s.params ?? {}) as Readonly<Record<string, WordParam>>;
  return c.words[s.key].replace(PLACEHOLDER, (whole, name: string) => {
    const v = params[name];
    return v === undefined ? whole : format(c, v);
  });
}

/** The words in every language, primary first: for answers shown side by side (中文 first, English under it). */
export function sayAll(s: Said): Readonly<Record<string, string>> {
  return Object.fromEntries(LANGUAGES.map((l) => [l, say(s, l)]));
}

/**
 * The language of an Accept-Language header that the catalogue has, by the header's order and q-values; the
 * primary language when none matches ('en-GB' finds 'en'; 'zh' and 'zh-Hans' find 'zh-CN').
 */
export function negotiate(acceptLanguage: string | undefined): string {
  if (!acceptLanguage) return PRIMARY;
  const asked = acceptLanguage
    .split(',')
    .map((part, i) => {
      const [tag = '', ...rest] = part.trim().split(';');
      const q = rest.map((r) => /^\s*q=([0-9.]+)\s*$/.exec(r)?.[1]).find((x) => x !== undefined);
      return { tag: tag.trim().toLowerCase(), q: q === undefined ? 1 : Number(q), i };
    })
    .filter((a) => a.tag && a.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const a of asked) {
    const exact = LANGUAGES.find((l) => l.toLowerCase() === a.tag);
    if (exact) return exact;
    const base = a.tag.split('-')[0];
    const same = LANGUAGES.find((l) => l.toLowerCase().split('-')[0] === base);
    if (same) return same;
  }
  return PRIMARY;
}
