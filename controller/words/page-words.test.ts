/**
 * The pages' loader (kiosk-ui/shared/words.js) says what the controller's catalogue says: the same words for every
 * key, with parameters filled in and lists of compartments joined the language's way.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { sep } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { wordsAnswer } from '../http/words-routes.js';
import { catalogue, LANGUAGES, say } from './catalogue.js';
import { isWordKey, WORDS, type Said, type WordKey } from './keys.js';

type PageWords = typeof import('../../kiosk-ui/shared/words.js');

/** A fresh copy of the page module (it keeps the catalogue it loaded). */
async function pageWords(): Promise<PageWords> {
  vi.resetModules();
  return import('../../kiosk-ui/shared/words.js');
}

afterEach(() => {
  vi.unstubAllGlobals();
});

/** Sample parameters for a key: numbers, except `doors`, a list. */
function sample(key: WordKey): Said {
  const names = WORDS[key] as readonly string[];
  if (names.length === 0) return { key } as Said;
  return { key, params: Object.fromEntries(names.map((n, i) => [n, n === 'doors' ? [3, 12] : i + 7])) } as unknown as Said;
}

describe('page words (kiosk-ui/shared/words.js)', () => {
  it('says every key as the controller does, in every language', async () => {
    const page = await pageWords();
    page.useWords(wordsAnswer());
    for (const key of Object.keys(WORDS) as WordKey[]) {
      const s = sample(key);
      for (const language of LANGUAGES) expect(page.say(s, language), `${key} in ${language}`).toBe(say(s, language));
      expect(page.sayBoth(s)).toEqual([say(s, 'zh-CN'), say(s, 'en')]);
    }
  });

  it('joins a list of compartments with the language’s separator', async () => {
    const page = await pageWords();
    page.useWords({
      languages: [
        { language: 'zh-CN', name: '中文' },
        { language: 'en', name: 'English' },
      ],
      catalogues: {
        'zh-CN': { listSeparator: '、', words: { 'x.open': '{doors} 号柜门已打开' } },
        en: { listSeparator: ', ', words: { 'x.open': 'Door {doors} is open' } },
      },
    });
    expect(page.sayBoth({ key: 'x.open', params: { doors: [3, 5] } })).toEqual(['3、5 号柜门已打开', 'Door 3, 5 is open']);
    // an unknown language falls back to the primary one; an unknown key is shown as the key
    expect(page.say({ key: 'x.open', params: { doors: [4] } }, 'fr')).toBe('4 号柜门已打开');
    expect(page.say({ key: 'no.such' }, 'en')).toBe('no.such');
  });

  it('fetches /api/words once, and tries again after a failed load', async () => {
    const page = await pageWords();
    expect(page.wordsLoaded()).toBe(false);
    expect(page.say({ key: 'error.INTERNAL' })).toBe('error.INTERNAL');
    const answer = wordsAnswer();
    const fetch = vi
      .fn<(url: string) => Promise<Response>>()
      .mockResolvedValueOnce(new Response('no', { status: 503 }))
      .mockResolvedValue(new Response(JSON.stringify(answer), { status: 200 }));
    vi.stubGlobal('fetch', fetch);
    await expect(page.loadWords()).rejects.toThrow(/503/);
    await page.loadWords();
    await page.loadWords();
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(fetch.mock.calls[1]?.[0]).toBe('/api/words');
    expect(page.primaryLanguage()).toBe('zh-CN');
    expect(page.say({ key: 'error.INTERNAL' }, 'en')).toBe(catalogue('en').words['error.INTERNAL']);
  });
});

const UI = new URL('../../kiosk-ui/', import.meta.url);
/** Every file of the pages, as a path from the project's root. */
const UI_FILES = (readdirSync(UI, { recursive: true }) as string[]).map((name) => `kiosk-ui/${name.split(sep).join('/')}`);
/** The pages whose every word is the catalogue's. */
const PAGES = UI_FILES.filter((path) => path.endsWith('.html'));
/** Pages that write their words as their first text (a page may else leave a data-word element empty). */
const MUST_WRITE = ['kiosk-ui/kiosk/index.html'];
const SCRIPTS = UI_FILES.filter((path) => path.endsWith('.js'));
/**
 * Chinese a script may hold, and why. sounds.js's CLIPS names each speech clip (sounds/<name>.wav) with the words
 * the recording says, kept in step with sounds/make-sounds.sh that records them: what is heard, never shown.
 */
const SPOKEN_CLIPS = { path: 'kiosk-ui/kiosk/sounds.js', from: 'export const CLIPS = {', to: '};' };
const source = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
/** Chinese characters and the full-width punctuation written with them (，。：（）“”…、). */
const CHINESE = /[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef\u201c\u201d]/;

/** The code of a script without its comments (block comments, and line comments that are not inside a URL). */
function withoutComments(js: string): string {
  return js.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** A script's code without the table of spoken clips (SPOKEN_CLIPS). */
function shownCode(path: string): string {
  const js = source(path);
  if (path !== SPOKEN_CLIPS.path) return js;
  const from = js.indexOf(SPOKEN_CLIPS.from);
  const to = js.indexOf(SPOKEN_CLIPS.to, from);
  if (from < 0 || to < 0) throw new Error(`${path}: no ${SPOKEN_CLIPS.from}`);
  return js.slice(0, from) + js.slice(from, to).replace(/[^\n]/g, '') + js.slice(to);
}

const htmlText = (text: string) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();

/**
 * An element of a page that carries words: `data-word="key"` with the words as its only content — the primary
 * language's, then `<span class="en" lang="en">` the English (data-word-lang: that language's alone; a title:
 * "中文 / English"). Templates keep their {placeholders}: they are the catalogue's templates.
 */
const WORD_ELEMENT = /<([a-z0-9]+)\b([^>]*?)\sdata-word="([^"]+)"([^>]*)>([^<]*)(?:<span class="en" lang="en">([^<]*)<\/span>)?\s*<\/\1>/g;

/** What a page says that is not the catalogue's words for its key; and its text outside such elements. */
function pageFaults(path: string): { wrong: string[]; own: string[]; keys: string[]; empty: string[] } {
  const html = source(path).replace(/<!--[\s\S]*?-->/g, '');
  const words = (key: string, language: string) => (isWordKey(key) ? catalogue(language).words[key] : undefined);
  const wrong: string[] = [];
  const keys: string[] = [];
  const empty: string[] = [];
  const rest = html.replace(WORD_ELEMENT, (_whole, tag: string, before: string, key: string, after: string, first: string, english?: string) => {
    keys.push(key);
    if (first.trim() === '' && english === undefined) {
      empty.push(key); // filled from the catalogue once it is loaded
      return ' ';
    }
    const only = /\sdata-word-lang="([^"]+)"/.exec(`${before} ${after}`)?.[1];
    const want =
      tag === 'title'
        ? [`${words(key, 'zh-CN')} / ${words(key, 'en')}`, undefined]
        : only
          ? [words(key, only), undefined]
          : [words(key, 'zh-CN'), words(key, 'en')];
    const got = [htmlText(first), english === undefined ? undefined : htmlText(english)];
    if (got[0] !== want[0] || got[1] !== want[1]) wrong.push(`${key}: ${JSON.stringify(got)} is not ${JSON.stringify(want)}`);
    return ' ';
  });
  for (const m of html.matchAll(/<[a-z0-9]+\b[^>]*>/g)) {
    const tag = m[0];
    for (const a of tag.matchAll(/\s(aria-label|placeholder|alt|title)="([^"]*)"/g)) {
      const [, attr, value] = a as unknown as [string, string, string];
      const key = new RegExp(`\\sdata-word-${attr}="([^"]+)"`).exec(tag)?.[1];
      if (value === '' && !key) continue;
      if (key) keys.push(key);
      const joint = attr === 'placeholder' ? ' — ' : ' / ';
      const want = key ? `${words(key, 'zh-CN')}${joint}${words(key, 'en')}` : '(a data-word-' + attr + ')';
      if (htmlText(value) !== want) wrong.push(`${attr}="${value}" is not ${want}`);
    }
  }
  const own = rest
    .replace(/<(script|style)\b[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]*>/g, '\n')
    .split('\n')
    .map((line) => line.trim())
    // digits and signs (a keypad's 0–9, the dash between the code's halves) are not words
    .filter((line) => /\p{L}/u.test(line));
  return { wrong, own, keys, empty };
}

describe('the pages speak from the catalogue', () => {
  it.each(SCRIPTS)('%s has no Chinese outside its comments', (path) => {
    const lines = withoutComments(shownCode(path))
      .split('\n')
      .map((line, i) => [i + 1, line] as const)
      .filter(([, line]) => CHINESE.test(line));
    expect(lines.map(([n, line]) => `${n}: ${line.trim()}`)).toEqual([]);
  });

  it.each(PAGES)('%s has no words of its own: every text is its data-word key’s words in the catalogue', (path) => {
    const { wrong, own, empty } = pageFaults(path);
    expect(wrong).toEqual([]);
    expect(own).toEqual([]);
    // the kiosk must be usable without GET /api/words: each of its texts is written in the page, as the catalogue has it
    if (MUST_WRITE.includes(path)) expect(empty).toEqual([]);
    // every element that names a key was read as words (no other content inside it)
    const named = [
      ...source(path)
        .replace(/<!--[\s\S]*?-->/g, '')
        .matchAll(/\sdata-word="/g),
    ].length;
    expect(pageFaults(path).keys.length).toBeGreaterThanOrEqual(named);
  });

  it('the list separators a page carries are the catalogue’s', () => {
    const kiosk = source('kiosk-ui/kiosk/index.html');
    expect(/data-list-zh-CN="([^"]*)"/.exec(kiosk)?.[1]).toBe(catalogue('zh-CN').listSeparator);
    expect(/data-list-en="([^"]*)"/.exec(kiosk)?.[1]).toBe(catalogue('en').listSeparator);
  });

  it('every key the pages and their scripts name is in the catalogue', () => {
    const named = [
      ...PAGES.flatMap((path) => [...source(path).matchAll(/data-word(?:-(?!lang=)[a-z-]+)?="([^"]+)"/g)].map((m) => m[1] as string)),
      ...SCRIPTS.flatMap((path) =>
        [...source(path).matchAll(/'((?:staff|office|input|kiosk|phone|address)\.[A-Za-z0-9_.-]*[A-Za-z0-9_-])'/g)].map((m) => m[1] as string),
      ),
    ];
    expect(named.length).toBeGreaterThan(200);
    expect([...new Set(named)].filter((key) => !isWordKey(key))).toEqual([]);
  });
});

describe('the console says what the system noted on an audit row', () => {
  it('from its key and parameters, in both languages; a note typed by staff as it was typed', async () => {
    const page = await pageWords();
    page.useWords(wordsAnswer());
    const { auditDetailWords } = await import('../../kiosk-ui/staff/words.js');
    expect(
      auditDetailWords({ from: 'reserved', to: 'free', noteKey: 'note.request_cancelled', noteParams: { number: 'BB-20260101-0001' } }),
    ).toContainEqual([
      `备注：${say({ key: 'note.request_cancelled', params: { number: 'BB-20260101-0001' } }, 'zh-CN')}`,
      `Note: ${say({ key: 'note.request_cancelled', params: { number: 'BB-20260101-0001' } }, 'en')}`,
    ]);
    expect(auditDetailWords({ noteKey: 'note.closed_document_inside' })).toEqual([
      ['备注：关门时文件还在柜内', 'Note: Closed with the document still inside'],
    ]);
    expect(auditDetailWords({ note: '门锁松动' })).toEqual([['备注：门锁松动', 'Note: 门锁松动']]);
  });
});

describe('the console’s times', () => {
  it('an earlier day is written the primary language’s way, from the catalogue', async () => {
    const page = await pageWords();
    page.useWords(wordsAnswer());
    const { timeWords } = await import('../../kiosk-ui/staff/words.js');
    expect(timeWords(new Date(2020, 5, 3, 14, 5).toISOString())).toBe('6月3日 14:05');
  });
});
