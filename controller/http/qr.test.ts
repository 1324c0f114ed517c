/**
 * The QR SVGs every QR route sends decode with an independent decoder after a non-browser renderer:
 * rsvg-convert (librsvg) draws the SVG to PNG, zbarimg (zbar) reads it. Both come from Debian (.ci/test-tools.sh).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { qrImage } from './qr.js';

describe('QR images', () => {
  it('the SVG, rendered by librsvg and read by zbar, says exactly the text (a pickup link, a submission link, a bare token)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qr-'));
    try {
      const texts = [
        'http://192.168.1.20:3000/m/status/AbCdEf0123456789_-xyz',
        'https://cabinet.example.org/m/submit',
        'q8Zt-1kLmNoPqRsTuVwXyZ012345',
      ];
      for (const [i, text] of texts.entries()) {
        const svg = path.join(dir, `${i}.svg`);
        const png = path.join(dir, `${i}.png`);
        fs.writeFileSync(svg, await qrImage(text, 'svg'));
        execFileSync('rsvg-convert', ['--width', '400', '--background-color', 'white', '-o', png, svg]);
        const read = execFileSync('zbarimg', ['--quiet', '--raw', '-Sdisable', '-Sqrcode.enable', png], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }).trim();
        expect(read, text).toBe(text);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
