import { describe, expect, it } from 'vitest';
import { setupWarnings } from './setup-warnings.js';
import { say } from './words/catalogue.js';
import type { Said } from './words/keys.js';

describe('setup warnings', () => {
  it('says when PUBLIC_URL is not set, in Chinese and English, with an example on the right port', () => {
    const [w, ...rest] = setupWarnings({ publicUrl: null }, 3000);
    expect(rest).toEqual([]);
    expect(w?.code).toBe('PUBLIC_URL_UNSET');
    expect(w?.said).toEqual({ key: 'setup.public_url_unset', params: { example: 'PUBLIC_URL=http://192.168.1.20:3000' } });
    expect(say(w?.said as Said)).toContain('未设置 PUBLIC_URL');
    expect(say(w?.said as Said, 'en')).toContain('no phone can reach');
    expect(say(w?.said as Said, 'en')).toContain(':3000');
  });
  it.each(['http://127.0.0.1:3000', 'http://localhost:3000', 'http://[::1]:3000', 'http://0.0.0.0'])('warns for %s (this machine itself)', (url) => {
    expect(setupWarnings({ publicUrl: url }, 3000).map((w) => w.code)).toEqual(['PUBLIC_URL_LOOPBACK']);
  });
  it('is quiet for an address phones can reach', () => {
    expect(setupWarnings({ publicUrl: 'http://192.168.1.20:3000' }, 3000)).toEqual([]);
    expect(setupWarnings({ publicUrl: 'https://cabinet.example.org' }, 443)).toEqual([]);
  });
});
