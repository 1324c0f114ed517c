import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { csvLine, UTF8_BOM, writeCsv } from './csv.js';

describe('writeCsv', () => {
  it('writes the BOM, the header and every row, CRLF-terminated', async () => {
    const chunks: string[] = [];
    const out = new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(c.toString('utf8'));
        cb();
      },
    });
    const n = await writeCsv(
      out,
      ['a', 'b'],
      [
        ['1', '=2'],
        ['x,y', null],
      ],
    );
    expect(n).toBe(2);
    expect(chunks.join('')).toBe(`${UTF8_BOM}a,b\r\n1,'=2\r\n"x,y",\r\n`);
    expect(csvLine(['-1'])).toBe("'-1\r\n");
  });

  it('lets other work run while a long export is written to a fast socket (the doors never wait for a CSV)', async () => {
    const out = new Writable({
      write(_c, _e, cb) {
        cb();
      },
    }); // never full: no 'drain' to wait for
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    function* rows(): Generator<string[]> {
      for (let i = 0; i < 200_000; i++) yield [`BB-20261101-${i}`, '居住证明', '张**', '138****5678'];
    }
    try {
      await writeCsv(out, ['n', 'd', 'name', 'mobile'], rows());
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(5);
  });
});
