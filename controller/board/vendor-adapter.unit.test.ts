/**
 * The vendor adapter against a scripted board: exactly which bytes go out for each command of our protocol, and what
 * happens with replies that are wrong, late, doubled or unasked. Nothing here may crash, and nothing may put a second
 * unlock, or an unlock nobody decided, on the wire.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { crcHex as crcOf, decode, encodeLine, type Command, type Message } from '../../firmware-protocol/index.js';
import { codec8a80, hexBytes } from '../../firmware-protocol/vendors/index.js';
import { duplexPair } from '../../sim/links/duplex-pair.js';
import { waitFor } from '../../test/harness.js';
import { silentLogger } from '../log.js';
import { VendorAdapter } from './vendor-adapter.js';

const open: VendorAdapter[] = [];
afterEach(() => {
  vi.useRealTimers();
  while (open.length) open.pop()!.close('test over');
});

const bytes = (s: string) => Buffer.from(s.split(' ').map((h) => parseInt(h, 16)));
const statusReply = (closed: boolean[]) => Buffer.from(codec8a80.encodeReply({ kind: 'status', board: 1, set: closed }, 24));
const ALL_SHUT = statusReply(Array(24).fill(true));

/** An adapter on an 8A/80 bus whose board is this script: `answer` decides what each command frame gets back. */
function rig(answer: (frame: string) => Buffer | Buffer[] | null) {
  const [adapterEnd, boardEnd] = duplexPair();
  const adapter = new VendorAdapter(adapterEnd, {
    codec: codec8a80,
    boards: [{ addr: 1, channels: 24 }],
    pollMs: 10_000,
    replyTimeoutMs: 60,
    logger: silentLogger(),
  });
  open.push(adapter);
  const wire: string[] = [];
  boardEnd.on('data', (chunk: Buffer) => {
    for (let i = 0; i + 5 <= chunk.length; i += 5) {
      const frame = hexBytes(chunk.subarray(i, i + 5));
      wire.push(frame);
      const r = answer(frame);
      for (const b of r === null ? [] : Array.isArray(r) ? r : [r]) boardEnd.write(b);
    }
  });
  const got: Message[] = [];
  let buf = '';
  adapter.native.on('data', (c: Buffer | string) => {
    buf += c.toString();
    for (let n = buf.indexOf('\n'); n >= 0; n = buf.indexOf('\n')) {
      const r = decode(buf.slice(0, n + 1));
      buf = buf.slice(n + 1);
      if (r.ok) got.push(r.message);
    }
  });
  const send = (c: Command) => adapter.native.write(encodeLine(c));
  return { adapter, wire, got, send, boardEnd };
}

describe('vendor adapter, scripted 8A/80 board', () => {
  it('translates STATUS, IDENT and LED, and polls nothing while asked nothing', async () => {
    const { wire, got, send } = rig((f) => (f === '80 01 00 33 B2' ? ALL_SHUT : null));
    send({ kind: 'ident', addr: 1, seq: 10 });
    await waitFor(() => got.length === 1, 'ACK IDENT');
    expect(got[0]).toMatchObject({ kind: 'ack-ident', seq: 10, protocol: 1, firmware: 'ADAPT-8A80-1.0', channels: 24 });
    send({ kind: 'status', addr: 1, seq: 11 });
    await waitFor(() => got.length === 2, 'ACK STATUS');
    expect(got[1]).toMatchObject({ kind: 'ack-status', seq: 11, eventCounter: 0, doors: Array(24).fill('C'), items: Array(24).fill(false) });
    send({ kind: 'led', addr: 1, seq: 12, channel: 3, mode: 'BLINK' });
    await waitFor(() => got.length === 3, 'ACK LED');
    expect(got[2]).toMatchObject({ kind: 'ack-led', seq: 12, channel: 3 });
    expect(wire).toEqual(['80 01 00 33 B2', '80 01 00 33 B2']); // LED never reaches the board
    send({ kind: 'status', addr: 2, seq: 13 }); // no such board on this bus: silence, no bytes
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toHaveLength(3);
    expect(wire).toHaveLength(2);
  });

  it('an unlock goes out once; a lost reply is followed by a read, never by a second unlock; the retransmission is answered from memory', async () => {
    let door = false;
    const { wire, got, send, adapter } = rig((f) => {
      if (f === '8A 01 07 11 9D') {
        door = true;
        return null; // the pulse happens, the reply is lost
      }
      return statusReply(Array.from({ length: 24 }, (_, i) => !(door && i === 6)));
    });
    send({ kind: 'status', addr: 1, seq: 1 });
    await waitFor(() => got.length === 1, 'first reading');
    send({ kind: 'unlock', addr: 1, seq: 2, channel: 7, pulseMs: 300 });
    send({ kind: 'unlock', addr: 1, seq: 2, channel: 7, pulseMs: 300 }); // the driver retransmits meanwhile: ignored
    await waitFor(() => got.some((m) => m.kind === 'ack-unlock'), 'ACK UNLOCK after the read');
    send({ kind: 'unlock', addr: 1, seq: 2, channel: 7, pulseMs: 300 }); // a late retransmission: from memory
    await waitFor(() => got.filter((m) => m.kind === 'ack-unlock').length === 2, 'ACK UNLOCK DUP');
    expect(wire.filter((f) => f.startsWith('8A'))).toEqual(['8A 01 07 11 9D']);
    expect(got.filter((m) => m.kind === 'ack-unlock').map((m) => (m as { duplicate: boolean }).duplicate)).toEqual([false, true]);
    expect(got.find((m) => m.kind === 'door')).toMatchObject({ channel: 7, level: 'O', seq: 1 });
    expect(adapter.counters).toMatchObject({ vendorUnlocks: 1, ignoredRetransmissions: 1, answeredFromMemory: 1 });
  });

  it('a wall clock set forward does not make it forget an unlock: the retransmission is still answered from memory, never pulsed again', async () => {
    const { wire, got, send, adapter } = rig((f) => {
      if (f === '8A 01 07 11 9D') return bytes('8A 01 07 00 8C');
      return ALL_SHUT;
    });
    send({ kind: 'unlock', addr: 1, seq: 5, channel: 7, pulseMs: 300 });
    await waitFor(() => got.some((m) => m.kind === 'ack-unlock'), 'ACK UNLOCK');
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 3_600_000 }); // NTP corrects a clock an hour slow
    send({ kind: 'unlock', addr: 1, seq: 5, channel: 7, pulseMs: 300 }); // the driver's retransmission, moments later
    await waitFor(() => got.filter((m) => m.kind === 'ack-unlock').length === 2, 'the second answer');
    expect(wire.filter((f) => f.startsWith('8A'))).toEqual(['8A 01 07 11 9D']);
    expect(adapter.counters).toMatchObject({ vendorUnlocks: 1, answeredFromMemory: 1 });
  });

  it('replies from the wrong board or lock, doubled, late and unasked are counted, never taken as the answer', async () => {
    const { got, send, adapter, boardEnd, wire } = rig((f) => {
      if (f === '8A 01 05 11 9F') return [bytes('8A 02 05 00 8D'), bytes('8A 01 06 00 8D')]; // wrong board, wrong lock: no real answer
      if (f === '80 01 00 33 B2') return [ALL_SHUT, ALL_SHUT]; // answered twice
      return null;
    });
    send({ kind: 'status', addr: 1, seq: 1 });
    await waitFor(() => got.length === 1, 'status');
    send({ kind: 'unlock', addr: 1, seq: 2, channel: 5, pulseMs: 300 });
    await new Promise((r) => setTimeout(r, 400));
    boardEnd.write(bytes('8A 01 09 00 82')); // an unlock reply nobody asked for
    boardEnd.write(bytes('FF 00 8A 01')); // and garbage
    await new Promise((r) => setTimeout(r, 50));
    expect(adapter.counters.unexpectedReplies).toBeGreaterThanOrEqual(4); // wrong board, wrong lock, the doubled ones, the unasked
    expect(got.filter((m) => m.kind === 'ack-unlock')).toEqual([expect.objectContaining({ seq: 2, channel: 5 })]); // ACK only after the read
    expect(got.some((m) => m.kind === 'door')).toBe(false); // nobody's reply moved a door
    expect(wire.filter((f) => f.startsWith('8A'))).toEqual(['8A 01 05 11 9F']);
  });

  it('refuses channel 0 and channels past the board: NAK, and no byte on the bus', async () => {
    const { got, wire, adapter } = rig(() => ALL_SHUT);
    adapter.native.write('>01 0005 UNLOCK 0 300*' + crcOf('>01 0005 UNLOCK 0 300') + '\n');
    adapter.native.write(encodeLine({ kind: 'unlock', addr: 1, seq: 6, channel: 25, pulseMs: 300 }));
    await waitFor(() => got.length === 2, 'two NAKs');
    expect(got.map((m) => m.kind === 'nak' && m.reason)).toEqual(['BAD_CHANNEL', 'BAD_CHANNEL']);
    expect(wire).toEqual([]);
  });

  it('a board that stops answering is silent; when it answers again it is read afresh, never reported as a restart (no BOOT): the counter shows events lost', async () => {
    let alive = true;
    const { got, send, adapter } = rig(() => (alive ? ALL_SHUT : null));
    send({ kind: 'status', addr: 1, seq: 1 });
    await waitFor(() => got.length === 1, 'status');
    expect(got[0]).toMatchObject({ kind: 'ack-status', seq: 1, eventCounter: 0 });
    alive = false;
    for (let s = 2; s <= 4; s++) send({ kind: 'status', addr: 1, seq: s });
    await waitFor(() => adapter.counters.vendorTimeouts === 3, 'three reads unanswered');
    expect(got).toHaveLength(1); // silence: the driver will call it offline
    alive = true;
    send({ kind: 'status', addr: 1, seq: 5 });
    await waitFor(() => got.length === 2, 'the status');
    expect(got[1]).toMatchObject({ kind: 'ack-status', seq: 5, eventCounter: 1 }); // one event the driver never got: it re-reads
    expect(got.some((m) => m.kind === 'boot')).toBe(false);
    expect(adapter.counters.answeredAgain).toBe(1);
  });

  it('a reply after the deadline but before the next command to the board is a reading: states taken, no events lost, never silent', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    let slow = false;
    let state = Array(24).fill(true) as boolean[];
    const late: Buffer[] = [];
    const { got, send, adapter, boardEnd } = rig(() => {
      const reply = statusReply(state);
      if (!slow) return reply;
      late.push(reply); // answered after the deadline, as by a loaded machine
      return null;
    });
    send({ kind: 'status', addr: 1, seq: 1 });
    await vi.waitFor(() => expect(got).toHaveLength(1));
    slow = true;
    state = state.map((v, i) => (i === 1 ? false : v)); // door 2 opens while the replies are late
    for (let s = 2; s <= 5; s++) {
      send({ kind: 'status', addr: 1, seq: s });
      await vi.waitFor(() => expect(late).toHaveLength(s - 1));
      await vi.advanceTimersByTimeAsync(61); // past the reply deadline
      boardEnd.write(late[s - 2]!); // the late reply, before the next command: the only one it can answer
      await vi.waitFor(() => expect(adapter.counters.lateReplies).toBe(s - 1));
    }
    expect(adapter.counters).toMatchObject({ vendorTimeouts: 4, unexpectedReplies: 0, answeredAgain: 0 });
    expect(got.filter((m) => m.kind === 'door')).toEqual([expect.objectContaining({ channel: 2, level: 'O', seq: 1 })]);
    slow = false;
    send({ kind: 'status', addr: 1, seq: 6 });
    await vi.waitFor(() => expect(got.filter((m) => m.kind === 'ack-status')).toHaveLength(2));
    expect(got.at(-1)).toMatchObject({ kind: 'ack-status', seq: 6, eventCounter: 1 }); // no value skipped: nothing was lost
    expect((got.at(-1) as { doors: string[] }).doors[1]).toBe('O');
    expect(got.some((m) => m.kind === 'boot')).toBe(false);
  });

  it('a late reply to a board already counted silent is its answering again: read afresh, the counter shows events lost', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    let mode: 'on time' | 'away' | 'late' = 'on time';
    const late: Buffer[] = [];
    const { got, send, adapter, boardEnd } = rig(() => {
      if (mode === 'on time') return ALL_SHUT;
      if (mode === 'late') late.push(ALL_SHUT);
      return null;
    });
    send({ kind: 'status', addr: 1, seq: 1 });
    await vi.waitFor(() => expect(got).toHaveLength(1));
    mode = 'away';
    for (let s = 2; s <= 4; s++) {
      send({ kind: 'status', addr: 1, seq: s });
      await vi.advanceTimersByTimeAsync(61);
    }
    await vi.waitFor(() => expect(adapter.counters.vendorTimeouts).toBe(3)); // three real silences: silent, as before
    mode = 'late';
    send({ kind: 'status', addr: 1, seq: 5 });
    await vi.waitFor(() => expect(late).toHaveLength(1));
    await vi.advanceTimersByTimeAsync(61);
    boardEnd.write(late[0]!);
    await vi.waitFor(() => expect(adapter.counters.answeredAgain).toBe(1));
    mode = 'on time';
    send({ kind: 'status', addr: 1, seq: 6 });
    await vi.waitFor(() => expect(got).toHaveLength(2));
    expect(got[1]).toMatchObject({ kind: 'ack-status', seq: 6, eventCounter: 1 });
    expect(got.some((m) => m.kind === 'boot' || m.kind === 'door')).toBe(false);
  });

  it('a late reply is not taken once another command has gone to the board, and a late unlock reply never sends a second unlock', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    let door = false;
    const late: Buffer[] = [];
    let slow = false;
    const { got, send, adapter, boardEnd, wire } = rig((f) => {
      if (f === '8A 01 07 11 9D') {
        door = true;
        late.push(bytes('8A 01 07 00 8C')); // the pulse happens; its reply comes after the deadline
        return null;
      }
      const reply = statusReply(Array.from({ length: 24 }, (_, i) => !(door && i === 6)));
      if (!slow) return reply;
      late.push(reply);
      return null;
    });
    send({ kind: 'status', addr: 1, seq: 1 });
    await vi.waitFor(() => expect(got).toHaveLength(1));
    slow = true;
    send({ kind: 'unlock', addr: 1, seq: 2, channel: 7, pulseMs: 300 });
    await vi.waitFor(() => expect(late).toHaveLength(1));
    await vi.advanceTimersByTimeAsync(61); // the unlock's deadline passes; the read after it goes out at once
    await vi.waitFor(() => expect(late).toHaveLength(2));
    boardEnd.write(late[0]!); // the unlock's reply, after the read went out: not taken
    await vi.waitFor(() => expect(adapter.counters.unexpectedReplies).toBe(1));
    await vi.advanceTimersByTimeAsync(61); // the read's deadline passes too
    boardEnd.write(late[1]!); // its reply before anything else went out: the reading
    await vi.waitFor(() => expect(adapter.counters.lateReplies).toBe(1));
    expect(got.find((m) => m.kind === 'door')).toMatchObject({ channel: 7, level: 'O', seq: 1 });
    slow = false;
    send({ kind: 'unlock', addr: 1, seq: 2, channel: 7, pulseMs: 300 }); // the driver's retransmission
    await vi.waitFor(() => expect(got.filter((m) => m.kind === 'ack-unlock')).toHaveLength(1));
    expect(got.find((m) => m.kind === 'ack-unlock')).toMatchObject({ seq: 2, duplicate: true });
    expect(wire.filter((f) => f.startsWith('8A'))).toEqual(['8A 01 07 11 9D']);
    expect(adapter.counters).toMatchObject({ vendorUnlocks: 1, answeredAgain: 0, vendorTimeouts: 2 });
  });
});
