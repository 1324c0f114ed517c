/**
 * Firmware behaviour through the in-process link: encoded frames in, decoded replies and events out.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  crcHex,
  DEDUP_ENTRIES,
  DEDUP_WINDOW_MS,
  encode,
  PROTOCOL_VERSION,
  type IdentAck,
  type Nak,
  type StatusAck,
  type UnlockAck,
  type LedAck,
} from '../../firmware-protocol/index.js';
import { SimCabinet, type FrameLogEntry } from '../cabinet.js';
import type { SimOptions } from '../config.js';
import { isSimError } from '../errors.js';
import { Wire } from './wire.js';

const open: Array<{ sim: SimCabinet; wire: Wire }> = [];

function setup(options: SimOptions = {}): { sim: SimCabinet; wire: Wire } {
  const sim = new SimCabinet({ springMs: 5, ...options });
  const wire = new Wire(sim.connectInProcess());
  const pair = { sim, wire };
  open.push(pair);
  return pair;
}

afterEach(async () => {
  for (const { sim, wire } of open.splice(0)) {
    wire.close();
    await sim.close();
  }
});

/** A frame with a correct CRC for any body (even one the codec would refuse to encode). */
function rawFrame(body: string): string {
  return `${body}*${crcHex(body)}\n`;
}

/** Resolves once `count` frame-log entries matching `test` were seen. */
function waitFrames(sim: SimCabinet, test: (f: FrameLogEntry) => boolean, count: number): Promise<FrameLogEntry[]> {
  const seen: FrameLogEntry[] = [];
  return new Promise((resolve) => {
    const on = (f: FrameLogEntry): void => {
      if (!test(f)) return;
      seen.push(f);
      if (seen.length === count) {
        sim.off('frame', on);
        resolve(seen);
      }
    };
    sim.on('frame', on);
  });
}

/** Resolves once compartment n's lock coil is no longer energised. */
function released(sim: SimCabinet, n: number): Promise<void> {
  return new Promise((resolve) => {
    if (!sim.compartment(n).lockReleased) return resolve();
    const on = (): void => {
      if (sim.compartment(n).lockReleased) return;
      sim.off('change', on);
      resolve();
    };
    sim.on('change', on);
  });
}

/** A round trip that proves everything sent before it was processed (replies come in order). */
async function sync(wire: Wire, addr = 1): Promise<void> {
  await wire.request({ kind: 'ident', addr, seq: wire.seq() });
}

describe('IDENT and STATUS', () => {
  it('answers IDENT with protocol version, firmware and channel count', async () => {
    const { wire } = setup({ firmware: 'TEST-2.1' });
    const ack = await wire.request<IdentAck>({ kind: 'ident', addr: 1, seq: 7 });
    expect(ack).toEqual({ kind: 'ack-ident', addr: 1, seq: 7, protocol: PROTOCOL_VERSION, firmware: 'TEST-2.1', channels: 24 });
  });

  it('answers STATUS with raw levels, items and faults per channel', async () => {
    const { wire } = setup({ initial: { items: [2, 24], openDoors: [3] } });
    const ack = await wire.request<StatusAck>({ kind: 'status', addr: 1, seq: 1 });
    expect(ack.kind).toBe('ack-status');
    expect(ack.eventCounter).toBe(0);
    expect(ack.doors).toHaveLength(24);
    expect(ack.doors[0]).toBe('C');
    expect(ack.doors[2]).toBe('O');
    expect(ack.items.map((v, i) => (v ? i + 1 : 0)).filter(Boolean)).toEqual([2, 24]);
    expect(ack.faults.every((f) => f === 'NONE')).toBe(true);
  });

  it('numbers compartments across boards: compartment 13 of 2x12 is board 2 channel 1', async () => {
    const { sim, wire } = setup({ layout: '2x12' });
    expect(sim.locate(13)).toEqual({ addr: 2, channel: 1 });
    expect(sim.compartmentOf(2, 12)).toBe(24);
    const ident = await wire.request<IdentAck>({ kind: 'ident', addr: 2, seq: 1 });
    expect(ident.channels).toBe(12);
    await wire.request<UnlockAck>({ kind: 'unlock', addr: 2, seq: 2, channel: 1, pulseMs: 300 });
    const door = await wire.event('door');
    expect(door).toMatchObject({ addr: 2, channel: 1, level: 'O', seq: 1 });
    expect(sim.compartment(13).doorOpen).toBe(true);
    expect(sim.unlockCount(13)).toBe(1);
    expect(sim.unlockCount(1)).toBe(0);
  });
});

describe('UNLOCK', () => {
  it('pulses, ACKs, and the door springs open with a DOOR event carrying the event counter', async () => {
    const { sim, wire } = setup();
    const ack = await wire.request<UnlockAck>({ kind: 'unlock', addr: 1, seq: 0x10, channel: 5, pulseMs: 300 });
    expect(ack).toEqual({ kind: 'ack-unlock', addr: 1, seq: 0x10, channel: 5, duplicate: false });
    const door = await wire.event('door');
    expect(door).toEqual({ kind: 'door', addr: 1, seq: 1, channel: 5, level: 'O' });
    expect(sim.compartment(5).doorOpen).toBe(true);
    sim.closeDoor(5);
    const closed = await wire.event('door');
    expect(closed).toEqual({ kind: 'door', addr: 1, seq: 2, channel: 5, level: 'C' });
    const status = await wire.request<StatusAck>({ kind: 'status', addr: 1, seq: 0x11 });
    expect(status.eventCounter).toBe(2);
    expect(sim.getCounters().unlocksExecuted[5]).toBe(1);
  });

  it('ACKs a retransmission with DUP and does not pulse again', async () => {
    const { sim, wire } = setup();
    const unlock = { kind: 'unlock', addr: 1, seq: 0x42, channel: 3, pulseMs: 300 } as const;
    const unlocks: number[] = [];
    sim.on('unlock', (u) => unlocks.push(u.compartment));
    expect((await wire.request<UnlockAck>(unlock)).duplicate).toBe(false);
    expect((await wire.request<UnlockAck>(unlock)).duplicate).toBe(true);
    expect((await wire.request<UnlockAck>(unlock)).duplicate).toBe(true);
    expect(sim.unlockCount(3)).toBe(1);
    expect(unlocks).toEqual([3]);
    expect(sim.getCounters().duplicates).toBe(2);
    // Same seq, other channel: a different command.
    expect((await wire.request<UnlockAck>({ ...unlock, channel: 4 })).duplicate).toBe(false);
    expect(sim.unlockCount(4)).toBe(1);
  });

  it('forgets executed unlocks after the window and beyond the last 16', async () => {
    let now = 1_000_000;
    const { sim, wire } = setup({ clock: () => now, springMs: 60_000 });
    const first = { kind: 'unlock', addr: 1, seq: 1, channel: 1, pulseMs: 100 } as const;
    await wire.request(first);
    now += DEDUP_WINDOW_MS - 1;
    expect((await wire.request<UnlockAck>(first)).duplicate).toBe(true);
    now += 1;
    await released(sim, 1); // a channel whose own pulse still runs answers BUSY
    expect((await wire.request<UnlockAck>(first)).duplicate).toBe(false);
    expect(sim.unlockCount(1)).toBe(2);

    // Fill the memory with DEDUP_ENTRIES newer unlocks (one per channel): the first one drops out.
    for (let i = 0; i < DEDUP_ENTRIES; i++) await wire.request({ kind: 'unlock', addr: 1, seq: 100 + i, channel: 3 + i, pulseMs: 100 });
    expect(
      (await wire.request<UnlockAck>({ kind: 'unlock', addr: 1, seq: 100 + DEDUP_ENTRIES - 1, channel: 2 + DEDUP_ENTRIES, pulseMs: 100 })).duplicate,
    ).toBe(true);
    await released(sim, 1);
    expect((await wire.request<UnlockAck>(first)).duplicate).toBe(false);
    expect(sim.unlockCount(1)).toBe(3);
  });

  it('refuses a channel above the board channel count with NAK BAD_CHANNEL', async () => {
    const { sim, wire } = setup({ layout: '2x12' });
    const nak = await wire.request<Nak>({ kind: 'unlock', addr: 1, seq: 9, channel: 13, pulseMs: 300 });
    expect(nak).toEqual({ kind: 'nak', addr: 1, seq: 9, verb: 'UNLOCK', reason: 'BAD_CHANNEL' });
    const ledNak = await wire.request<Nak>({ kind: 'led', addr: 2, seq: 10, channel: 40, mode: 'ON' });
    expect(ledNak.reason).toBe('BAD_CHANNEL');
    expect(sim.getCounters().naksSent).toBe(2);
    expect(Object.values(sim.getCounters().unlocksExecuted).every((n) => n === 0)).toBe(true);
  });

  it('with singleCoil, refuses an unlock while another coil pulses with NAK BUSY', async () => {
    const { sim, wire } = setup({ singleCoil: true, springMs: 1 });
    await wire.request({ kind: 'unlock', addr: 1, seq: 1, channel: 1, pulseMs: 2000 });
    const nak = await wire.request<Nak>({ kind: 'unlock', addr: 1, seq: 2, channel: 2, pulseMs: 300 });
    expect(nak.reason).toBe('BUSY');
    expect(sim.unlockCount(2)).toBe(0);
  });
});

describe('LED', () => {
  it('sets the LED, ACKs, and a reboot turns it off', async () => {
    const { sim, wire } = setup();
    const ack = await wire.request<LedAck>({ kind: 'led', addr: 1, seq: 3, channel: 7, mode: 'BLINK' });
    expect(ack).toEqual({ kind: 'ack-led', addr: 1, seq: 3, channel: 7, mode: 'BLINK' });
    expect(sim.compartment(7).led).toBe('BLINK');
    sim.reboot(1);
    await wire.event('boot');
    expect(sim.compartment(7).led).toBe('OFF');
  });
});

describe('frames the board must refuse or ignore', () => {
  it('NAKs an unknown verb and bad arguments, naming the verb as received', async () => {
    const { wire } = setup();
    wire.sendRaw(rawFrame('>01 0005 OPENALL'));
    expect(await wire.next((m) => m.kind === 'nak' && m.seq === 5)).toEqual({
      kind: 'nak',
      addr: 1,
      seq: 5,
      verb: 'OPENALL',
      reason: 'UNKNOWN_VERB',
    });
    wire.sendRaw(rawFrame('>01 0006 UNLOCK 1 50'));
    expect(await wire.next((m) => m.kind === 'nak' && m.seq === 6)).toMatchObject({ verb: 'UNLOCK', reason: 'BAD_ARGS' });
    wire.sendRaw(rawFrame('>01 0007 LED 1 PURPLE'));
    expect(await wire.next((m) => m.kind === 'nak' && m.seq === 7)).toMatchObject({ verb: 'LED', reason: 'BAD_ARGS' });
    wire.sendRaw(rawFrame('>01 0008 UNLOCK 49 300'));
    expect(await wire.next((m) => m.kind === 'nak' && m.seq === 8)).toMatchObject({ verb: 'UNLOCK', reason: 'BAD_CHANNEL' });
    wire.sendRaw(rawFrame('>01 0009 STATUS EXTRA'));
    expect(await wire.next((m) => m.kind === 'nak' && m.seq === 9)).toMatchObject({ verb: 'STATUS', reason: 'BAD_ARGS' });
  });

  it('NAK precedence (PROTOCOL.md §8): the first wrong argument decides, a channel above the board’s count included', async () => {
    const { sim, wire } = setup(); // 24 channels
    const reason = async (seq: number, body: string) => {
      wire.sendRaw(rawFrame(body));
      return ((await wire.next((m) => m.kind === 'nak' && m.seq === seq)) as Nak).reason;
    };
    expect(await reason(0x10, '>01 0010 UNLOCK 30 5000')).toBe('BAD_CHANNEL'); // above 24, and a bad pulse
    expect(await reason(0x11, '>01 0011 UNLOCK 0 5000')).toBe('BAD_CHANNEL');
    expect(await reason(0x12, '>01 0012 UNLOCK 07 5000')).toBe('BAD_ARGS'); // the channel is badly spelt
    expect(await reason(0x13, '>01 0013 LED 25 PURPLE')).toBe('BAD_CHANNEL');
    expect(await reason(0x14, '>01 0014 UNLOCK 30')).toBe('BAD_ARGS'); // the argument count comes first
    expect(sim.unlockCount(24)).toBe(0);
  });

  it('answers BAD_ARGS for a forbidden byte inside an argument of a frame whose CRC and header are good', async () => {
    const { sim, wire } = setup();
    for (const [seq, arg] of [
      [0x20, 'BL\x07NK'],
      [0x21, 'BL*NK'],
      [0x22, 'BL\xe9NK'],
    ] as const) {
      wire.sendRaw(Buffer.from(rawFrame(`>01 00${seq.toString(16).toUpperCase()} LED 7 ${arg}`), 'latin1')); // one byte per character
      expect(await wire.next((m) => m.kind === 'nak' && m.seq === seq)).toMatchObject({ verb: 'LED', reason: 'BAD_ARGS' });
    }
    expect(sim.compartment(7).led).toBe('OFF');
  });

  it('ignores frames for other addresses, bad CRCs and board frames, and counts them', async () => {
    const { sim, wire } = setup({ layout: '2x12' });
    wire.send({ kind: 'unlock', addr: 3, seq: 1, channel: 1, pulseMs: 300 }); // no board 3
    wire.sendRaw(rawFrame('>05 0002 FOO')); // an unknown verb for someone else: not ours to NAK
    const good = encode({ kind: 'unlock', addr: 1, seq: 3, channel: 1, pulseMs: 300 });
    wire.sendRaw(good.slice(0, -4) + (good.endsWith('0000') ? '0001' : '0000') + '\n'); // bad CRC
    wire.sendRaw(encode({ kind: 'ack-led', addr: 1, seq: 4, channel: 1, mode: 'ON' }) + '\n'); // another board's reply
    await sync(wire);
    const c = sim.getCounters();
    expect(c.notForMe).toBe(3);
    expect(c.badCrc).toBe(1);
    expect(c.naksSent).toBe(0);
    expect(sim.unlockCount(1)).toBe(0);
    // Nothing but the IDENT reply came back.
    expect(wire.messages().map((m) => m.kind)).toEqual(['ack-ident']);
  });

  it('survives a flood of garbage, binary noise and over-long lines, then still answers', async () => {
    const { sim, wire } = setup();
    let seed = 12345;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let chunk = 0; chunk < 64; chunk++) wire.sendRaw(Buffer.from(Array.from({ length: 4096 }, rand)));
    wire.sendRaw('\n' + 'A'.repeat(10_000) + '\n');
    wire.sendRaw('>'.repeat(300) + '\n');
    wire.sendRaw('<01 0000 ACK'.repeat(50) + '\n');
    wire.sendRaw('\x00\xff\r\n\r\n***\n>\n<\n');
    wire.sendRaw('garbage before a frame >01 0001 IDENT*' + crcHex('>01 0001 IDENT') + '\n');
    const ack = await wire.next((m) => m.kind === 'ack-ident' && m.seq === 1);
    expect(ack.addr).toBe(1);
    const status = await wire.request<StatusAck>({ kind: 'status', addr: 1, seq: 2 });
    expect(status.eventCounter).toBe(0);
    const c = sim.getCounters();
    expect(c.overlongLines).toBeGreaterThan(0);
    expect(c.undecodable + c.badCrc + c.notForMe).toBeGreaterThan(10);
    expect(sim.getCounters().unlocksExecuted[1]).toBe(0);
  });
});

describe('door switch, occupancy sensor and the event counter', () => {
  it("reports raw levels per polarity: 'no' reads O while the door is shut", async () => {
    const { sim, wire } = setup({ polarity: 'no' });
    const status = await wire.request<StatusAck>({ kind: 'status', addr: 1, seq: 1 });
    expect(status.doors.every((d) => d === 'O')).toBe(true);
    sim.openDoor(4);
    expect(await wire.event('door')).toMatchObject({ channel: 4, level: 'C', seq: 1 });
    expect(sim.compartment(4).doorLevel).toBe('C');
  });

  it('reports a forced (tampered) door without any unlock, and item changes only with the door open', async () => {
    const { sim, wire } = setup();
    expect(() => sim.putItem(2)).toThrowError(expect.objectContaining({ code: 'DOOR_CLOSED' }));
    sim.openDoor(2);
    expect(await wire.event('door')).toMatchObject({ channel: 2, level: 'O', seq: 1 });
    sim.putItem(2);
    expect(await wire.event('item')).toMatchObject({ channel: 2, present: true, seq: 2 });
    expect(() => sim.putItem(2)).toThrowError(expect.objectContaining({ code: 'ITEM_ALREADY_PRESENT' }));
    sim.takeItem(2);
    expect(await wire.event('item')).toMatchObject({ channel: 2, present: false, seq: 3 });
    expect(() => sim.takeItem(2)).toThrowError(expect.objectContaining({ code: 'NO_ITEM' }));
    expect(() => sim.openDoor(2)).toThrowError(expect.objectContaining({ code: 'DOOR_ALREADY_OPEN' }));
    sim.closeDoor(2);
    expect(() => sim.closeDoor(2)).toThrowError(expect.objectContaining({ code: 'DOOR_ALREADY_CLOSED' }));
    expect(() => sim.openDoor(25)).toThrowError(expect.objectContaining({ code: 'NO_SUCH_COMPARTMENT' }));
    expect(sim.unlockCount(2)).toBe(0);
  });

  it('closes a door by itself after the auto-close delay when one is set', async () => {
    const { sim, wire } = setup({ autoCloseMs: 20 });
    await wire.request({ kind: 'unlock', addr: 1, seq: 1, channel: 9, pulseMs: 100 });
    expect(await wire.event('door')).toMatchObject({ channel: 9, level: 'O' });
    expect(await wire.event('door')).toMatchObject({ channel: 9, level: 'C' });
    expect(sim.compartment(9).doorOpen).toBe(false);
  });

  it('wraps the event counter from 0xFFFF to 0', async () => {
    const { sim, wire } = setup();
    sim.setEventCounter(1, 0xfffe);
    sim.openDoor(1);
    sim.closeDoor(1);
    expect((await wire.event('door')).seq).toBe(0xffff);
    expect((await wire.event('door')).seq).toBe(0);
  });
});

describe('faults', () => {
  it('jammed lock: ACKs and counts the pulse, but the door does not open', async () => {
    const { sim, wire } = setup({ faults: { compartments: [{ compartment: 6, jammed: true }] } });
    const ack = await wire.request<UnlockAck>({ kind: 'unlock', addr: 1, seq: 1, channel: 6, pulseMs: 100 });
    expect(ack.duplicate).toBe(false);
    expect(sim.unlockCount(6)).toBe(1);
    // The lock coil runs and stops; only then is it certain the spring delay has passed too.
    await new Promise<void>((resolve) => sim.on('change', (c) => c.reason === 'lock' && !sim.compartment(6).lockReleased && resolve()));
    const status = await wire.request<StatusAck>({ kind: 'status', addr: 1, seq: 2 });
    expect(status.doors[5]).toBe('C');
    expect(status.eventCounter).toBe(0);
    expect(sim.compartment(6).doorOpen).toBe(false);
  });

  it('stuck door sensor: reports the fixed level whatever the door does', async () => {
    const { sim, wire } = setup();
    sim.setStuckSensor(8, 'O');
    expect(await wire.event('door')).toMatchObject({ channel: 8, level: 'O', seq: 1 }); // the reading changed
    expect(sim.compartment(8).doorOpen).toBe(false);
    sim.openDoor(8);
    sim.closeDoor(8);
    const status = await wire.request<StatusAck>({ kind: 'status', addr: 1, seq: 2 });
    expect(status.doors[7]).toBe('O');
    expect(status.eventCounter).toBe(1);
    sim.setStuckSensor(8, null);
    expect(await wire.event('door')).toMatchObject({ channel: 8, level: 'C', seq: 2 });
  });

  it('coil fault: FAULT event, NAK COIL_FAULT on unlock, FAULT NONE when cleared', async () => {
    const { sim, wire } = setup();
    sim.setCoilFault(10, 'COIL_OPEN');
    expect(await wire.event('fault')).toMatchObject({ channel: 10, fault: 'COIL_OPEN', seq: 1 });
    const nak = await wire.request<Nak>({ kind: 'unlock', addr: 1, seq: 5, channel: 10, pulseMs: 300 });
    expect(nak).toEqual({ kind: 'nak', addr: 1, seq: 5, verb: 'UNLOCK', reason: 'COIL_FAULT' });
    const status = await wire.request<StatusAck>({ kind: 'status', addr: 1, seq: 6 });
    expect(status.faults[9]).toBe('COIL_OPEN');
    expect(sim.unlockCount(10)).toBe(0);
    sim.clearFaults();
    expect(await wire.event('fault')).toMatchObject({ channel: 10, fault: 'NONE', seq: 2 });
    expect((await wire.request<UnlockAck>({ kind: 'unlock', addr: 1, seq: 7, channel: 10, pulseMs: 300 })).kind).toBe('ack-unlock');
  });

  it('reboot: BOOT as event 0, dedup memory and counter reset, doors and items kept, faults re-announced', async () => {
    const { sim, wire } = setup({ layout: '2x12', initial: { items: [1] } });
    const unlock = { kind: 'unlock', addr: 1, seq: 0x77, channel: 2, pulseMs: 300 } as const;
    await wire.request(unlock);
    await wire.event('door', (e) => e.channel === 2);
    sim.setCoilFault(3, 'COIL_SHORT');
    await wire.event('fault');
    sim.reboot(1, { reason: 'WATCHDOG' });
    expect(await wire.event('boot')).toEqual({ kind: 'boot', addr: 1, seq: 0, reason: 'WATCHDOG' });
    expect(await wire.event('fault')).toMatchObject({ addr: 1, seq: 1, channel: 3, fault: 'COIL_SHORT' });
    const status = await wire.request<StatusAck>({ kind: 'status', addr: 1, seq: 1 });
    expect(status.eventCounter).toBe(1);
    expect(status.doors[1]).toBe('O');
    expect(status.items[0]).toBe(true);
    // The board forgot the unlock: the same seq pulses again.
    expect((await wire.request<UnlockAck>(unlock)).duplicate).toBe(false);
    expect(sim.unlockCount(2)).toBe(2);
    // Board 2 was not rebooted.
    expect(sim.boardState(2).boots).toBe(1);
    expect(sim.boardState(1).boots).toBe(2);
  });

  it('a rebooting board answers nothing until it has booted', async () => {
    const { sim, wire } = setup({ layout: '2x12' });
    sim.reboot(2, { bootMs: 30 });
    wire.send({ kind: 'ident', addr: 2, seq: 1 });
    await sync(wire, 1);
    expect(sim.getCounters().notForMe).toBe(1);
    expect(await wire.event('boot')).toMatchObject({ addr: 2, seq: 0, reason: 'RESET' });
    expect((await wire.request<IdentAck>({ kind: 'ident', addr: 2, seq: 2 })).channels).toBe(12);
  });

  it('drops frames reproducibly from the seed, counting both directions', async () => {
    const run = async (): Promise<{ answered: number[]; dropped: { toBoard: number; toController: number } }> => {
      const { sim, wire } = setup({ seed: 99, faults: { drop: 0.3 } });
      const allIn = waitFrames(sim, (f) => f.dir === 'in', 40);
      for (let seq = 1; seq <= 40; seq++) wire.send({ kind: 'ident', addr: 1, seq });
      await allIn;
      sim.setFaults({ drop: 0 });
      await sync(wire);
      const answered = wire
        .messages()
        .filter((m) => m.seq <= 40)
        .map((m) => m.seq);
      return { answered, dropped: sim.getCounters().dropped };
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(a.answered.length).toBeLessThan(40);
    expect(a.answered.length).toBeGreaterThan(5);
    expect(a.dropped.toBoard).toBeGreaterThan(0);
    expect(a.dropped.toController).toBeGreaterThan(0);
    expect(a.dropped.toBoard + a.dropped.toController).toBe(40 - a.answered.length);
  });

  it('corrupted frames fail their check on both sides and are counted', async () => {
    const { sim, wire } = setup({ faults: { corruptToBoard: 1 } });
    const inSeen = waitFrames(sim, (f) => f.dir === 'in', 1);
    wire.send({ kind: 'unlock', addr: 1, seq: 1, channel: 1, pulseMs: 300 });
    await inSeen;
    sim.setFaults({ corruptToBoard: 0, corruptToController: 1 });
    const outSeen = waitFrames(sim, (f) => f.dir === 'out' && f.fate === 'corrupted', 1);
    wire.send({ kind: 'ident', addr: 1, seq: 2 });
    await outSeen;
    sim.setFaults({ corruptToController: 0 });
    await sync(wire);
    const c = sim.getCounters();
    expect(c.corrupted.toBoard).toBe(1);
    expect(c.corrupted.toController).toBe(1);
    expect(c.badCrc + c.undecodable).toBe(1);
    expect(c.repliesSent).toBe(2); // the IDENT and the sync, nothing for the corrupted unlock
    expect(sim.unlockCount(1)).toBe(0);
    const bad = wire.received.filter((r) => !r.ok);
    expect(bad).toHaveLength(1);
    expect(wire.messages().map((m) => m.seq)).not.toContain(2);
  });

  it('rejects bad fault settings and changes nothing', () => {
    const sim = new SimCabinet();
    open.push({ sim, wire: new Wire(sim.connectInProcess()) });
    expect(() => sim.setFaults({ drop: 1.5 })).toThrowError(expect.objectContaining({ code: 'BAD_CONFIG', field: 'drop' }));
    expect(() => sim.setFaults({ delayMs: 10, compartments: [{ compartment: 30, jammed: true }] })).toThrowError(
      expect.objectContaining({ code: 'NO_SUCH_COMPARTMENT' }),
    );
    expect(sim.faults.delayMs).toBe(0);
    expect(() => new SimCabinet({ layout: '0x24' })).toThrowError(expect.objectContaining({ code: 'BAD_CONFIG' }));
    expect(() => new SimCabinet({ initial: { items: [25] } })).toThrowError(expect.objectContaining({ code: 'BAD_CONFIG' }));
  });
});

describe('disconnect', () => {
  it("'silent' keeps the link but answers nothing until reconnect", async () => {
    const { sim, wire } = setup();
    sim.disconnect('silent');
    wire.send({ kind: 'ident', addr: 1, seq: 1 });
    await waitFrames(sim, (f) => f.fate === 'ignored', 1);
    sim.reconnect();
    await sync(wire);
    expect(wire.messages()).toHaveLength(1);
    expect(sim.getCounters().ignoredWhileDisconnected).toBe(1);
  });

  it("'drop' closes in-process links and refuses new ones until reconnect", async () => {
    const { sim, wire } = setup();
    const ended = new Promise<void>((resolve) => wire.stream.once('end', () => resolve()));
    sim.disconnect('drop');
    await ended;
    let refused: unknown;
    try {
      sim.connectInProcess();
    } catch (e) {
      refused = e;
    }
    expect(isSimError(refused, 'DISCONNECTED')).toBe(true);
    sim.reconnect();
    const again = new Wire(sim.connectInProcess());
    expect((await again.request<IdentAck>({ kind: 'ident', addr: 1, seq: 1 })).kind).toBe('ack-ident');
    again.close();
  });
});

describe('retries under frame loss', () => {
  it('with 10% loss each way, a client that retransmits the same seq gets every unlock executed exactly once', async () => {
    const { sim, wire } = setup({ seed: 2024, faults: { drop: 0.1 }, springMs: 60_000 });
    let retransmissions = 0;
    for (let n = 1; n <= 24; n++) {
      const cmd = { kind: 'unlock', addr: 1, seq: 0x500 + n, channel: n, pulseMs: 300 } as const;
      for (let attempt = 0; ; attempt++) {
        expect(attempt).toBeLessThan(20);
        try {
          await wire.request<UnlockAck>(cmd, 100);
          break;
        } catch {
          retransmissions++;
        }
      }
    }
    const c = sim.getCounters();
    for (let n = 1; n <= 24; n++) expect(c.unlocksExecuted[n], `compartment ${n}`).toBe(1);
    expect(retransmissions).toBeGreaterThan(0);
    // Every lost frame cost a retransmission; a retransmission after a lost reply was answered DUP.
    expect(retransmissions).toBeGreaterThanOrEqual(c.dropped.toBoard + c.dropped.toController);
    expect(c.dropped.toController).toBeGreaterThan(0);
    expect(c.duplicates).toBeGreaterThanOrEqual(1);
  });
});

describe('property: arbitrary bytes', () => {
  it('never crash the board, which keeps answering and never pulses', async () => {
    const { sim, wire } = setup();
    let seq = 0x1000;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), async (bytes) => {
        wire.sendRaw(Buffer.from(bytes));
        wire.sendRaw('\n');
        const ack = await wire.request<IdentAck>({ kind: 'ident', addr: 1, seq: seq++ });
        expect(ack.kind).toBe('ack-ident');
      }),
      { numRuns: 150, seed: 42 },
    );
    expect(Object.values(sim.getCounters().unlocksExecuted).every((n) => n === 0)).toBe(true);
  });
});

describe('when events may go out (PROTOCOL.md §11.3, §11.4)', () => {
  it('an UNLOCK of a channel whose own pulse still runs is refused with BUSY and not remembered', async () => {
    const { sim, wire } = setup({ springMs: 60_000 });
    await wire.request({ kind: 'unlock', addr: 1, seq: 1, channel: 1, pulseMs: 2000 });
    const nak = await wire.request<Nak>({ kind: 'unlock', addr: 1, seq: 2, channel: 1, pulseMs: 300 });
    expect(nak).toEqual({ kind: 'nak', addr: 1, seq: 2, verb: 'UNLOCK', reason: 'BUSY' });
    // Another channel is fine on a board that drives several coils.
    expect((await wire.request<UnlockAck>({ kind: 'unlock', addr: 1, seq: 3, channel: 2, pulseMs: 300 })).kind).toBe('ack-unlock');
    sim.reboot(1); // a restart de-energises every coil
    expect((await wire.request<UnlockAck>({ kind: 'unlock', addr: 1, seq: 2, channel: 1, pulseMs: 300 })).duplicate).toBe(false);
    expect(sim.unlockCount(1)).toBe(2);
  });

  it('never sends an event between a command and its (delayed) reply', async () => {
    const { sim, wire } = setup({ faults: { delayMs: 30 } });
    const seen = waitFrames(sim, (f) => f.dir === 'in', 1);
    wire.send({ kind: 'status', addr: 1, seq: 1 });
    await seen;
    sim.openDoor(1);
    const door = await wire.event('door');
    const kinds = wire.messages().map((m) => m.kind);
    expect(kinds).toEqual(['ack-status', 'door']);
    expect((wire.messages()[0] as StatusAck).eventCounter).toBe(0);
    expect(door.seq).toBe(1);
  });

  it('on a shared bus, holds events until the bus is quiet; STATUS reports only what left the queue', async () => {
    const { sim, wire } = setup({ layout: '2x12' });
    await wire.request({ kind: 'ident', addr: 1, seq: 1 }); // the bus was just busy
    sim.openDoor(13);
    expect(sim.boardState(2).queuedEvents).toBe(1);
    const status = await wire.request<StatusAck>({ kind: 'status', addr: 2, seq: 2 });
    expect(status.eventCounter).toBe(0);
    expect(status.doors[0]).toBe('O'); // the level itself is current
    const door = await wire.event('door');
    expect(door).toMatchObject({ addr: 2, channel: 1, seq: 1 });
    const kinds = wire.messages().map((m) => m.kind);
    expect(kinds.indexOf('ack-status')).toBeLessThan(kinds.indexOf('door'));
    expect((await wire.request<StatusAck>({ kind: 'status', addr: 2, seq: 3 })).eventCounter).toBe(1);
  });

  it('drops the oldest events when the queue overflows, leaving a gap in the counter', async () => {
    const { sim, wire } = setup({ layout: '2x12' });
    await wire.request({ kind: 'ident', addr: 1, seq: 1 });
    for (let i = 0; i < 20; i++) {
      sim.openDoor(2);
      sim.closeDoor(2);
    }
    expect(sim.boardState(1).droppedEvents).toBe(8);
    const status = await wire.request<StatusAck>({ kind: 'status', addr: 1, seq: 2 });
    expect(status.eventCounter).toBe(8);
    const first = await wire.event('door');
    expect(first.seq).toBe(9);
    expect(sim.getCounters().eventsDropped).toBe(8);
  });
});
