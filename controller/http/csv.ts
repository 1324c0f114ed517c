/**
 * CSV for spreadsheets (RFC 4180, CRLF line ends), as the office opens it in Excel on Windows:
 *   - UTF-8 with a byte-order mark, so the Chinese reads right without an import dialog;
 *   - formula injection neutralised: a cell starting with = + - @ TAB or CR is a formula (or becomes one) to a
 *     spreadsheet, so it gets a leading ' (OWASP "CSV injection"). A resident's name or a staff note is typed by
 *     people; "=HYPERLINK(…)" in it must stay text.
 * Written as a stream, a chunk at a time, never holding the event loop for long (see writeCsv).
 */
import type { Writable } from 'node:stream';

export const UTF8_BOM = '\uFEFF';

export type CsvValue = string | number | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell: neutralised, then quoted when it holds a quote, comma or line break. */
export function csvCell(v: CsvValue): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(cells: readonly CsvValue[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/**
 * Writes the BOM, the header and every row the source yields, in 16 kB chunks, giving the event loop a turn after
 * each and waiting for 'drain' when the socket's buffer is full; stops early when the connection is gone. Returns
 * how many rows were written.
 */
export async function writeCsv(out: Writable, header: readonly string[], rows: Iterable<readonly CsvValue[]>): Promise<number> {
  let buf = UTF8_BOM + csvLine(header);
  let n = 0;
  const flush = async (): Promise<boolean> => {
    if (out.destroyed) return false;
    const ok = out.write(buf);
    buf = '';
    // Yield to the event loop after every chunk, also when the socket takes everything at once: a long export
    // must never hold up a door flow, a kiosk answer or the live channel.
    if (ok) await new Promise<void>((resolve) => setImmediate(resolve));
    else {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          out.off('drain', done);
          out.off('close', done);
          resolve();
        };
        out.on('drain', done);
        out.on('close', done);
      });
    }
    return !out.destroyed;
  };
  for (const row of rows) {
    buf += csvLine(row);
    n++;
    if (buf.length >= 16 * 1024 && !(await flush())) return n;
  }
  if (buf) await flush();
  return n;
}
