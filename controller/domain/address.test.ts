import { describe, expect, it, vi } from 'vitest';
import { wordsAnswer } from '../http/words-routes.js';
import { addressText } from './address.js';

describe('addressText', () => {
  it('never doubles a word the resident typed, and adds it to a bare number (the pages’ copy says the same)', async () => {
    // the page's copy takes its words (单元, 室) from the catalogue the page loaded: give it the server's, in a fresh
    // module graph, so that the result does not depend on which test loaded words before
    vi.resetModules();
    const wordsPath: string = '../../kiosk-ui/shared/words.js';
    const pageWords = (await import(wordsPath)) as { useWords: (w: unknown) => void };
    pageWords.useWords(wordsAnswer());
    const pagePath: string = '../../kiosk-ui/shared/address.js';
    const { addressText: pageAddressText } = (await import(pagePath)) as { addressText: typeof addressText };
    const cases: [{ building: string; unit: string; room: string }, string][] = [
      [{ building: '12号楼', unit: '2', room: '301' }, '12号楼 2单元 301室'],
      [{ building: '12', unit: '2单元', room: '301室' }, '12号楼 2单元 301室'],
      [{ building: 'A座', unit: '东', room: 'B-2' }, 'A座 东 B-2室'],
      [{ building: ' 7栋 ', unit: '1', room: '502' }, '7栋 1单元 502室'],
    ];
    for (const [a, want] of cases) {
      expect(addressText(a)).toBe(want);
      expect(pageAddressText(a)).toBe(want);
    }
  });
});
