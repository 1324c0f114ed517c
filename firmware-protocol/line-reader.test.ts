/**
 * The bounded line reader with the codec behind it: bytes in, as they come off a serial port, in
 * chunks of any size; lines out; decode on each line.
 */
import { finished } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { decode } from './codec.js';
import { BoundedReadlineParser } from './line-reader.js';

const STATUS = '>01 0000 STATUS*5792';
const UNLOCK = '>01 9C43 UNLOCK 7 300*7B8B';
const ACK = '<01 9C43 ACK UNLOCK 7*3254';

/** Feed chunks into a fresh parser, end the stream, and return the lines it emitted. */
async function lines(chunks: Buffer[], parser = new BoundedReadlineParser()): Promise<{ out: string[]; parser: BoundedReadlineParser }> {
  const out: string[] = [];
  parser.on('data', (line: string) => out.push(line));
  for (const c of chunks) parser.write(c);
  parser.end();
  await finished(parser);
  return { out, parser };
}
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
const oneByteChunks = (s: string): Buffer[] => [...bytes(s)].map((b) => Buffer.from([b]));

describe('BoundedReadlineParser + decode', () => {
  it('splits two frames that arrive in one chunk', async () => {
    const { out, parser } = await lines([bytes(`${UNLOCK}\n${ACK}\n`)]);
    expect(out).toEqual([UNLOCK, ACK]);
    expect(out.map((l) => decode(l))).toEqual([
      { ok: true, message: { kind: 'unlock', addr: 1, seq: 0x9c43, channel: 7, pulseMs: 300 }, noise: 0 },
      { ok: true, message: { kind: 'ack-unlock', addr: 1, seq: 0x9c43, channel: 7, duplicate: false }, noise: 0 },
    ]);
    expect(parser.counters).toEqual({ overlong: 0, discardedBytes: 0 });
  });

  it('joins one frame split across two chunks', async () => {
    const { out } = await lines([bytes('>01 9C43 UNL'), bytes('OCK 7 300*7B8B\n')]);
    expect(out).toEqual([UNLOCK]);
    expect(decode(out[0]!)).toMatchObject({ ok: true, message: { kind: 'unlock', channel: 7 } });
  });

  it('joins frames that arrive one byte at a time', async () => {
    const { out } = await lines(oneByteChunks(`${UNLOCK}\n${STATUS}\n`));
    expect(out).toEqual([UNLOCK, STATUS]);
    expect(out.map((l) => decode(l).ok)).toEqual([true, true]);
  });

  it('keeps garbage before a frame on the same line as noise, and decode counts it', async () => {
    const { out } = await lines([bytes('\x00\xff\xfe~#'), bytes(`${STATUS}\n`)]);
    expect(out).toEqual([`\x00\xff\xfe~#${STATUS}`]);
    expect(decode(out[0]!)).toEqual({ ok: true, message: { kind: 'status', addr: 1, seq: 0 }, noise: 5 });
  });

  it('ignores empty lines (a sender may send a lone LF before a frame) and holds nothing between lines', async () => {
    const parser = new BoundedReadlineParser();
    const { out } = await lines([bytes(`\n\n${STATUS}\n\n`), bytes('>01 9C')], parser);
    expect(out).toEqual([STATUS]);
    expect(parser.buffered).toBe(0); // the unfinished '>01 9C' was dropped at the end of the stream
  });

  it('accepts CRLF line endings', async () => {
    const { out } = await lines([bytes(`${STATUS}\r\n${UNLOCK}\r`), bytes('\n')]);
    expect(out).toEqual([`${STATUS}\r`, `${UNLOCK}\r`]);
    expect(out.map((l) => decode(l))).toEqual([
      { ok: true, message: { kind: 'status', addr: 1, seq: 0 }, noise: 0 },
      { ok: true, message: { kind: 'unlock', addr: 1, seq: 0x9c43, channel: 7, pulseMs: 300 }, noise: 0 },
    ]);
  });

  it('passes a 256-byte line (LF included) and drops a 257-byte one', async () => {
    const pad = (n: number) => 'x'.repeat(n - STATUS.length - 1);
    const { out, parser } = await lines([bytes(`${pad(256)}${STATUS}\n${pad(257)}${STATUS}\n${UNLOCK}\n`)]);
    expect(out).toEqual([`${pad(256)}${STATUS}`, UNLOCK]);
    expect(decode(out[0]!)).toMatchObject({ ok: true, noise: 256 - STATUS.length - 1 });
    expect(parser.counters).toEqual({ overlong: 1, discardedBytes: 257 });
  });

  it('counts the CR in the 256-byte limit, as decode does', async () => {
    const pad = (n: number) => 'x'.repeat(n - STATUS.length - 2);
    const { out, parser } = await lines([bytes(`${pad(256)}${STATUS}\r\n${pad(257)}${STATUS}\r\n`)]);
    expect(out).toEqual([`${pad(256)}${STATUS}\r`]);
    expect(decode(out[0]!)).toMatchObject({ ok: true });
    expect(decode(`${pad(257)}${STATUS}\r\n`)).toMatchObject({ ok: false, error: { code: 'TOO_LONG' } });
    expect(parser.counters).toEqual({ overlong: 1, discardedBytes: 257 });
  });

  it('discards and counts an over-long line that arrives whole, then decodes the next frame', async () => {
    const long = 'A'.repeat(300);
    const { out, parser } = await lines([bytes(`${long}\n${UNLOCK}\n`)]);
    expect(out).toEqual([UNLOCK]);
    expect(parser.counters).toEqual({ overlong: 1, discardedBytes: 301 });
    expect(decode(out[0]!).ok).toBe(true);
  });

  it('discards and counts an over-long line that arrives in pieces, tail included', async () => {
    const long = `${'B'.repeat(400)}${STATUS}`; // a frame glued to the end of a long line is part of that line
    const { out, parser } = await lines([...oneByteChunks(`${long}\n`), bytes(`${UNLOCK}\n`)]);
    expect(out).toEqual([UNLOCK]);
    expect(parser.counters).toEqual({ overlong: 1, discardedBytes: long.length + 1 });
  });

  it('stays bounded under a 1 MB flood with no newline, counts it, and decodes the next frame', async () => {
    const parser = new BoundedReadlineParser();
    const out: string[] = [];
    parser.on('data', (line: string) => out.push(line));
    const flood = Buffer.alloc(1 << 20, 0x55);
    let largest = 0;
    for (let off = 0; off < flood.length; off += 4096) {
      parser.write(flood.subarray(off, off + 4096));
      largest = Math.max(largest, parser.buffered);
    }
    expect(largest).toBeLessThan(256);
    parser.write(Buffer.alloc(1 << 20, 0xaa)); // and one more megabyte in a single chunk
    expect(parser.buffered).toBeLessThan(256);
    parser.write(bytes(`\n${STATUS}\n`));
    parser.end();
    await finished(parser);
    expect(out).toEqual([STATUS]);
    expect(decode(out[0]!)).toEqual({ ok: true, message: { kind: 'status', addr: 1, seq: 0 }, noise: 0 });
    expect(parser.counters).toEqual({ overlong: 1, discardedBytes: 2 * (1 << 20) + 1 });
  });

  it('counts each over-long line once', async () => {
    const { out, parser } = await lines([bytes(`${'x'.repeat(600)}\n${'y'.repeat(300)}\n${STATUS}\n`)]);
    expect(out).toEqual([STATUS]);
    expect(parser.counters).toEqual({ overlong: 2, discardedBytes: 902 });
  });

  it('drops an unfinished line when the stream ends (a cable pulled mid-frame is not a frame)', async () => {
    const { out } = await lines([bytes(`${STATUS}\n>01 9C43 UNLOCK 7 3`)]);
    expect(out).toEqual([STATUS]);
  });

  it('reads every byte value as one latin1 character, so noise never breaks decoding', async () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i).filter((b) => b !== 0x0a && b !== 0x3c && b !== 0x3e));
    const { out } = await lines([all.subarray(0, 200), Buffer.concat([bytes('\n'), all.subarray(200), bytes(`${STATUS}\n`)])]);
    expect(out).toHaveLength(2);
    expect(out[0]).toHaveLength(200);
    expect(decode(out[0]!)).toMatchObject({ ok: false, error: { code: 'NO_FRAME', noise: 200 } });
    expect(decode(out[1]!)).toMatchObject({ ok: true, noise: all.length - 200 });
  });
});
