/**
 * The catalogue is complete: every code the controller or the HTTP layer answers with has words in every
 * language, every key has words with the same parameters in every language, and no words exist for no key.
 */
import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../errors.js';
import { HTTP_ERROR_CODES } from '../http/routes.js';
import { catalogue, LANGUAGES, languagesDir, negotiate, placeholders, PRIMARY, problemsOf, say, type Catalogue } from './catalogue.js';
import { REQUEST_STATES } from '../domain/request-states.js';
import { isWordKey, said, stateSaid, WORDS } from './keys.js';

const errorCodes = [...Object.values(ERROR_CODES).flat(), ...HTTP_ERROR_CODES];

describe('word catalogue', () => {
  it('has a file for each language, Chinese first and English second', () => {
    const files = readdirSync(new URL('./languages/', import.meta.url)).filter((f) => !f.endsWith('.d.ts'));
    expect(LANGUAGES.length).toBe(files.length);
    expect(LANGUAGES.slice(0, 2)).toEqual([PRIMARY, 'en']);
  });

  it('finds languages/ beside the module (sources, tsc) and from the bundled controller or its chunks (dist/controller/words/languages/)', () => {
    const dist = mkdtempSync(path.join(os.tmpdir(), 'catalogue-'));
    const words = path.join(dist, 'controller', 'words');
    mkdirSync(path.join(words, 'languages'), { recursive: true });
    mkdirSync(path.join(dist, 'controller', 'chunks'));
    const dirOf = (file: string) => path.resolve(languagesDir(pathToFileURL(path.join(dist, file)).href).pathname);
    expect(dirOf('controller/words/catalogue.js')).toBe(path.join(words, 'languages'));
    expect(dirOf('controller/main.js')).toBe(path.join(words, 'languages'));
    expect(dirOf('controller/chunks/chunk-ABC.js')).toBe(path.join(words, 'languages'));
  });

  it.each(LANGUAGES)('%s has words for every key, with the key’s parameters, and none for no key', (language) => {
    expect(problemsOf(catalogue(language))).toEqual([]);
  });

  it('finds a key without words, words without a key, and parameters that differ (the check can fail)', () => {
    const zh = catalogue(PRIMARY);
    const words: Record<string, string> = { ...zh.words, 'no.such.key': '多余', 'http.login_locked_minutes': '请 {minute} 分钟后再试' };
    delete words['error.INTERNAL'];
    const broken = { ...zh, words } as unknown as Catalogue;
    expect(problemsOf(broken)).toEqual([
      'zh-CN: no words for error.INTERNAL',
      'zh-CN: http.login_locked_minutes uses {minute} but its parameters are {minutes}',
      'zh-CN: words for no.such.key, which is no key',
    ]);
  });

  it('has the words of every error code, and no error words for a code that does not exist', () => {
    for (const code of errorCodes) expect(isWordKey(`error.${code}`), code).toBe(true);
    const errorKeys = Object.keys(WORDS).filter((k) => k.startsWith('error.'));
    expect(errorKeys.map((k) => k.slice('error.'.length)).sort()).toEqual([...new Set(errorCodes)].sort());
  });

  it('puts parameters into the words, a list of compartments the language’s way', () => {
    expect(say(said('http.login_locked_minutes', { minutes: 5 }))).toBe('失败次数太多，请 5 分钟后再试');
    expect(say(said('http.login_locked_minutes', { minutes: 5 }), 'en')).toBe('Too many failures. Please try again in 5 min.');
    expect(placeholders('{doors} 号柜门 {doors} {n}')).toEqual(['doors', 'n']);
    // a list of compartments: joined the language's way (a key with a list parameter is checked by the flows)
    const zh = catalogue(PRIMARY);
    const en = catalogue('en');
    expect([zh.listSeparator, en.listSeparator]).toEqual(['、', ', ']);
  });

  it('answers in the language asked for, by Accept-Language, and in Chinese otherwise', () => {
    expect(negotiate(undefined)).toBe('zh-CN');
    expect(negotiate('en-GB,en;q=0.9')).toBe('en');
    expect(negotiate('fr-FR, en;q=0.5')).toBe('en');
    expect(negotiate('zh-Hans-CN')).toBe('zh-CN');
    expect(negotiate('en;q=0.2, zh;q=0.8')).toBe('zh-CN');
    expect(negotiate('de')).toBe('zh-CN');
    expect(say(said('error.INTERNAL'), 'xx')).toBe(catalogue(PRIMARY).words['error.INTERNAL']);
  });

  it('has the words of every request state, for residents and for staff, in every language', () => {
    for (const state of REQUEST_STATES) {
      expect(isWordKey(`state.${state}`), state).toBe(true);
      expect(isWordKey(`staff.state.${state}`), state).toBe(true);
    }
    const stateKeys = Object.keys(WORDS).filter((k) => /^(staff\.)?state\./.test(k));
    expect(stateKeys.length).toBe(REQUEST_STATES.length * 2); // and none for a state that does not exist
    expect(say(stateSaid('loaded'))).toBe('已放入帮办柜，请取件');
    expect(say(stateSaid('loaded', 'staff'), 'en')).toBe('In the cabinet, waiting for pickup');
  });
});
