/**
 * PROTOCOL.md is written for firmware engineers who will not read this code: every frame quoted in it must be
 * exactly what the codec produces and accepts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decode, encode, nakReasonFor } from './codec.js';
import { crcHex } from './crc16.js';

const doc = readFileSync(new URL('./PROTOCOL.md', import.meta.url), 'utf8');
const FRAME_RE = /[<>][0-9A-F]{2} [0-9A-F]{4} [A-Z][^*`|\n]*\*[0-9A-F]{4}/g;
/** Sections 1 to 20 are version 1; §21 is version 2, and its frames are judged by a version 2 decoder. */
const v2At = doc.indexOf('\n## 21. Version 2');
const frames = [...doc.slice(0, v2At).matchAll(FRAME_RE)].map((m) => m[0]);
const framesV2 = [...doc.slice(v2At).matchAll(FRAME_RE)].map((m) => m[0]);

/**
 * Frames the document quotes as refused: commands with the NAK a 24-channel board answers (§8), board frames with
 * the decode error for which the controller drops them.
 */
const REFUSED: Record<string, string> = {
  '>01 9C48 OPENALL*7D2A': 'UNKNOWN_VERB',
  '>01 9C49 UNLOCK 0 300*B134': 'BAD_CHANNEL',
  '>01 9C4A UNLOCK 7 5000*DEC9': 'BAD_ARGS',
  '>01 9C4D LED 7 FLASH*E15E': 'BAD_ARGS',
  '>01 9C50 UNLOCK 30 5000*F9E1': 'BAD_CHANNEL',
  '>01 9C51 UNLOCK 07 5000*DE12': 'BAD_ARGS',
  '<01 0005 BOOT POWERON*85EC': 'BAD_ARGS',
};

describe('PROTOCOL.md', () => {
  it('quotes plenty of frames', () => {
    expect(frames.length).toBeGreaterThan(50);
    const what = (f: string): string => {
      const [, , verb, arg] = f.slice(0, f.lastIndexOf('*')).split(' ');
      return verb === 'ACK' || verb === 'NAK' ? `${verb} ${arg}` : verb!;
    };
    expect(new Set(frames.map(what))).toEqual(
      new Set([
        'IDENT',
        'STATUS',
        'UNLOCK',
        'LED',
        'OPENALL',
        'ACK IDENT',
        'ACK STATUS',
        'ACK UNLOCK',
        'ACK LED',
        'NAK UNLOCK',
        'NAK OPENALL',
        'NAK LED',
        'DOOR',
        'ITEM',
        'BOOT',
        'FAULT',
      ]),
    );
  });

  it('has the right CRC on every frame it quotes', () => {
    for (const f of frames) {
      const star = f.lastIndexOf('*');
      expect(`${f}: ${f.slice(star + 1)}`).toBe(`${f}: ${crcHex(f.slice(0, star))}`);
    }
  });

  it('quotes only frames that decode, re-encode to themselves, or are refused for the reason it gives', () => {
    for (const f of frames) {
      const r = decode(`${f}\n`);
      if (f in REFUSED) {
        const refusal = r.ok ? 'decoded' : f.startsWith('>') ? nakReasonFor(r.error, 24) : r.error.code;
        expect(`${f}: ${refusal}`).toBe(`${f}: ${REFUSED[f]}`);
      } else {
        expect(r.ok ? encode(r.message) : r.error.code).toBe(f);
      }
    }
  });

  it('quotes version 2 frames in §21 that decode as version 2 and re-encode to themselves', () => {
    expect(v2At).toBeGreaterThan(0);
    expect(framesV2.length).toBeGreaterThan(10);
    for (const f of framesV2) {
      const star = f.lastIndexOf('*');
      expect(`${f}: ${f.slice(star + 1)}`).toBe(`${f}: ${crcHex(f.slice(0, star))}`);
      const r = decode(`${f}\n`, 2);
      expect(r.ok ? encode(r.message, 2) : r.error.code).toBe(f);
    }
    const statuses = framesV2.filter((f) => f.includes(' ACK STATUS '));
    expect(statuses.length).toBeGreaterThan(3);
    for (const f of statuses) expect(`${f}: ${decode(f, 1).ok}`).toBe(`${f}: false`);
  });

  it('gives the bytes of the worked CRC example correctly', () => {
    const hexDump = [...Buffer.from('>01 0000 STATUS*5792\n', 'latin1')].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
    expect(doc).toContain(hexDump);
    expect(doc).toContain('`>01 0000 STATUS*5792`');
  });
});
