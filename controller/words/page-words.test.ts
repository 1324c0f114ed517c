/**
 * The pages' loader (kiosk-ui/shared/words.js) says what the controller's catalogue says: the same words for every
 * key, with parameters filled in and lists of compartments joined the language's way.
 */
import { readdirSync, readFileSync } from 'node:fs';
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

/** The staff console's files: their words come from the catalogue, none is written in them. */
const CONSOLE_SCRIPTS = readdirSync(new URL('../../kiosk-ui/staff/', import.meta.url))
  .filter((name) => name.endsWith('.js'))
  .map((name) => `kiosk-ui/staff/${name}`);
const CONSOLE_PAGE = 'kiosk-ui/staff/index.html';
const source = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
/** Chinese characters and the full-width punctuation written with them (，。：（）“”…). */
const CHINESE = /[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef\u201c\u201d]/;

/** The code of a script without its comments (block comments, and line comments that are not inside a URL). */
function withoutComments(js: string): string {
  return js.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

describe('the staff console speaks from the catalogue', () => {
  it.each(CONSOLE_SCRIPTS)('%s has no Chinese outside its comments', (path) => {
    const lines = withoutComments(source(path))
      .split('\n')
      .map((line, i) => [i + 1, line] as const)
      .filter(([, line]) => CHINESE.test(line));
    expect(lines.map(([n, line]) => `${n}: ${line.trim()}`)).toEqual([]);
  });

  it('the page has no words of its own: every text comes from a data-word key', () => {
    const html = source(CONSOLE_PAGE).replace(/<!--[\s\S]*?-->/g, '');
    expect(html.split('\n').filter((line) => /\s(aria-label|placeholder|title|alt)="/.test(line))).toEqual([]);
    expect(html.replace(/<[^>]*>/g, ' ').trim()).toBe('');
  });

  it('every key the console names is in the catalogue', () => {
    const named = [
      ...[...source(CONSOLE_PAGE).matchAll(/data-word(?:-[a-z-]+)?="([^"]+)"/g)].map((m) => m[1] as string),
      ...CONSOLE_SCRIPTS.flatMap((path) =>
        [...source(path).matchAll(/'((?:staff|office|input)\.[A-Za-z0-9_.-]*[A-Za-z0-9_-])'/g)].map((m) => m[1] as string),
      ),
    ];
    expect(named.length).toBeGreaterThan(100);
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
