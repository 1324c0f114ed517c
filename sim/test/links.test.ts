/**
 * The TCP links (bus and scanner), the in-process pipe and byte pacing.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { IdentAck, StatusAck, UnlockAck } from '../../firmware-protocol/index.js';
import { SimCabinet } from '../cabinet.js';
import { duplexPair } from '../links/duplex-pair.js';
import { Wire } from './wire.js';

const sims: SimCabinet[] = [];
const wires: Wire[] = [];
afterEach(async () => {
  for (const w of wires.splice(0)) w.close();
  for (const s of sims.splice(0)) await s.close();
});

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

function closed(s: net.Socket): Promise<void> {
  return new Promise((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));
}

describe('TCP bus link', () => {
  it('answers over TCP, sends events there, and a new client replaces the old one', async () => {
    const sim = new SimCabinet({ springMs: 1 });
    sims.push(sim);
    const { port } = await sim.listenTcp('127.0.0.1', 0);
    expect(port).toBeGreaterThan(0);
    const first = new Wire(await connect(port));
    wires.push(first);
    expect((await first.request<IdentAck>({ kind: 'ident', addr: 1, seq: 1 })).channels).toBe(24);
    await first.request<UnlockAck>({ kind: 'unlock', addr: 1, seq: 2, channel: 12, pulseMs: 200 });
    expect(await first.event('door')).toMatchObject({ channel: 12, level: 'O', seq: 1 });

    const firstClosed = closed(first.stream as net.Socket);
    const second = new Wire(await connect(port));
    wires.push(second);
    await firstClosed;
    const status = await second.request<StatusAck>({ kind: 'status', addr: 1, seq: 3 });
    expect(status.doors[11]).toBe('O');
    expect(sim.snapshot().links.filter((l) => l.kind === 'tcp')).toHaveLength(1);
  });

  it('disconnect drops the client and refuses new ones until reconnect', async () => {
    const sim = new SimCabinet();
    sims.push(sim);
    const { port } = await sim.listenTcp('127.0.0.1', 0);
    const sock = await connect(port);
    const w = new Wire(sock);
    wires.push(w);
    await w.request({ kind: 'ident', addr: 1, seq: 1 });
    const gone = closed(sock);
    sim.disconnect();
    await gone;
    const refused = await connect(port);
    await closed(refused);
    expect(sim.snapshot().links).toHaveLength(0);
    sim.reconnect();
    const back = new Wire(await connect(port));
    wires.push(back);
    expect((await back.request<IdentAck>({ kind: 'ident', addr: 1, seq: 2 })).kind).toBe('ack-ident');
  });

  it('survives the client vanishing mid-frame and garbage over TCP', async () => {
    const sim = new SimCabinet();
    sims.push(sim);
    const { port } = await sim.listenTcp('127.0.0.1', 0);
    const rude = await connect(port);
    const rudeWire = new Wire(rude);
    rude.write(Buffer.alloc(5000, 0x3e));
    rude.write('\n');
    await rudeWire.request({ kind: 'ident', addr: 1, seq: 9 });
    rude.write('>01 00');
    const rudeClosed = closed(rude);
    rude.destroy();
    await rudeClosed;
    const w = new Wire(await connect(port));
    wires.push(w);
    expect((await w.request<IdentAck>({ kind: 'ident', addr: 1, seq: 1 })).kind).toBe('ack-ident');
    expect(sim.getCounters().overlongLines).toBeGreaterThan(0);
  });
});

describe('scanner', () => {
  it('injectScan emits scan and writes the text as a line to the scanner client', async () => {
    const sim = new SimCabinet();
    sims.push(sim);
    const { port } = await sim.listenScannerTcp('127.0.0.1', 0);
    const sock = await connect(port);
    const got = new Promise<string>((resolve) => {
      let buf = '';
      sock.on('data', (d: Buffer) => {
        buf += d.toString('utf8');
        if (buf.includes('\n')) resolve(buf);
      });
    });
    const scans: string[] = [];
    sim.on('scan', (t) => scans.push(t));
    // The server attaches the link on accept: wait until it is known.
    while (sim.snapshot().links.length === 0) await new Promise((r) => setImmediate(r));
    expect(sim.injectScan('BBG:取件码 12345678')).toBe(1);
    expect(await got).toBe('BBG:取件码 12345678\n');
    expect(scans).toEqual(['BBG:取件码 12345678']);
    expect(() => sim.injectScan('two\nlines')).toThrowError(expect.objectContaining({ code: 'BAD_SCAN' }));
    expect(() => sim.injectScan('')).toThrowError(expect.objectContaining({ code: 'BAD_SCAN' }));
    sock.destroy();
  });
});

describe('in-process pipe and pacing', () => {
  it('duplexPair carries bytes both ways and ending one side ends the other', async () => {
    const [a, b] = duplexPair();
    const got: string[] = [];
    b.on('data', (d: Buffer) => got.push(d.toString()));
    const ended = new Promise<void>((resolve) => b.once('end', () => resolve()));
    a.write('hello ');
    a.end('world');
    await ended;
    expect(got.join('')).toBe('hello world');
  });

  it('with pacing on, a reply arrives in several small chunks with the same bytes', async () => {
    const sim = new SimCabinet({ baudRate: 115200, faults: { pacing: true } });
    sims.push(sim);
    const stream = sim.connectInProcess();
    const chunks: Buffer[] = [];
    stream.on('data', (d: Buffer) => chunks.push(d));
    const w = new Wire(stream);
    wires.push(w);
    const ack = await w.request<StatusAck>({ kind: 'status', addr: 1, seq: 1 });
    expect(ack.doors).toHaveLength(24);
    expect(chunks.length).toBeGreaterThan(1);
    expect(Buffer.concat(chunks).toString('latin1')).toMatch(/^<01 0001 ACK STATUS .*\*[0-9A-F]{4}\n$/);
  });
});
