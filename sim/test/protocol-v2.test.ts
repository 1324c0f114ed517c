/**
 * The simulated boards speaking protocol version 2 (PROTOCOL.md §21): IDENT reports 2, and STATUS carries per
 * channel the door-switch contact's openings since boot, counted whatever became of their DOOR events.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decode, type IdentAck, type StatusAck } from '../../firmware-protocol/index.js';
import { SimCabinet } from '../cabinet.js';
import type { SimOptions } from '../config.js';
import { Wire } from './wire.js';

const open: Array<{ sim: SimCabinet; wire: Wire }> = [];

function setup(options: SimOptions = {}): { sim: SimCabinet; wire: Wire } {
  const sim = new SimCabinet({ springMs: 5, protocol: 2, ...options });
  const wire = new Wire(sim.connectInProcess(), sim.protocol);
  open.push({ sim, wire });
  return { sim, wire };
}

afterEach(async () => {
  for (const { sim, wire } of open.splice(0)) {
    wire.close();
    await sim.close();
  }
});

const status = (wire: Wire, addr = 1) => wire.request<StatusAck>({ kind: 'status', addr, seq: wire.seq() });

describe('a version 2 board', () => {
  it('reports protocol 2 in IDENT, and every count 0 after boot', async () => {
    const { sim, wire } = setup({ initial: { openDoors: [3] } });
    const ident = await wire.request<IdentAck>({ kind: 'ident', addr: 1, seq: 1 });
    expect(ident.protocol).toBe(2);
    const s = await status(wire);
    expect(s.doors[2]).toBe('O');
    expect(s.openings).toEqual(new Array(24).fill(0));
    expect(sim.snapshot().protocol).toBe(2);
    expect(sim.boardState(1)).toMatchObject({ protocol: 2, openings: new Array(24).fill(0) });
  });

  it('counts an opening whose two DOOR events were both lost on the wire', async () => {
    const { sim, wire } = setup();
    sim.setFaults({ dropToController: 1 });
    sim.openDoor(5);
    sim.closeDoor(5);
    sim.setFaults({ dropToController: 0 });
    const s = await status(wire);
    expect(wire.messages().filter((m) => m.kind === 'door')).toEqual([]);
    expect(s.eventCounter).toBe(2);
    expect(s.doors[4]).toBe('C');
    expect(s.openings![4]).toBe(1);
    expect(sim.openingCount(5)).toBe(1);
    expect(sim.compartment(5).openings).toBe(1);
  });

  it('counts openings by unlock and by hand, and those whose events went out while nobody listened', async () => {
    const { sim, wire } = setup();
    await wire.request({ kind: 'unlock', addr: 1, seq: 9, channel: 7, pulseMs: 100 });
    await wire.event('door', (e) => e.channel === 7 && e.level === 'O');
    sim.closeDoor(7);
    sim.disconnect('silent'); // nobody listens: the events are lost
    for (let i = 0; i < 20; i++) {
      sim.openDoor(2);
      sim.closeDoor(2);
    }
    sim.reconnect();
    const s = await status(wire);
    expect(s.openings![6]).toBe(1);
    expect(s.openings![1]).toBe(20);
    expect(sim.compartment(2).openings).toBe(20);
  });

  it('counts the contact opening, whatever the polarity: with polarity no, the door closing', async () => {
    const { sim, wire } = setup({ polarity: 'no' });
    sim.openDoor(4);
    expect((await status(wire)).openings![3]).toBe(0);
    sim.closeDoor(4);
    expect((await status(wire)).openings![3]).toBe(1);
  });

  it('does not count a stuck switch, which does not change', async () => {
    const { sim, wire } = setup();
    sim.setStuckSensor(6, 'C');
    sim.openDoor(6);
    sim.closeDoor(6);
    expect((await status(wire)).openings![5]).toBe(0);
    expect(sim.compartment(6).openings).toBe(1);
  });

  it('wraps a count from 255 to 0', async () => {
    const { sim, wire } = setup();
    sim.setOpeningCount(8, 255);
    expect((await status(wire)).openings![7]).toBe(255);
    sim.openDoor(8);
    sim.closeDoor(8);
    expect((await status(wire)).openings![7]).toBe(0);
  });

  it('sets every count back to 0 when it restarts', async () => {
    const { sim, wire } = setup();
    sim.openDoor(1);
    sim.closeDoor(1);
    expect((await status(wire)).openings![0]).toBe(1);
    sim.reboot(1);
    await wire.event('boot');
    expect((await status(wire)).openings![0]).toBe(0);
    expect(sim.compartment(1).openings).toBe(1);
  });

  it('is refused for more than 32 channels, and for vendor board families', () => {
    expect(() => new SimCabinet({ protocol: 2, layout: '1x48' })).toThrowError(expect.objectContaining({ code: 'BAD_CONFIG', field: 'protocol' }));
    expect(() => new SimCabinet({ protocol: 2, board: '8a80' })).toThrowError(expect.objectContaining({ code: 'BAD_CONFIG', field: 'protocol' }));
    expect(() => new SimCabinet({ protocol: 3 as 2 })).toThrowError(expect.objectContaining({ code: 'BAD_CONFIG', field: 'protocol' }));
  });
});

describe('a version 1 board (the default)', () => {
  it('reports protocol 1 and a STATUS without counts, which a version 2 decoder refuses', async () => {
    const sim = new SimCabinet({ springMs: 5 });
    const wire = new Wire(sim.connectInProcess());
    open.push({ sim, wire });
    expect((await wire.request<IdentAck>({ kind: 'ident', addr: 1, seq: 1 })).protocol).toBe(1);
    sim.openDoor(5);
    sim.closeDoor(5);
    const s = await status(wire);
    expect(s.openings).toBeUndefined();
    const line = wire.received.find((r) => r.ok && r.message.kind === 'ack-status')!.line;
    expect(decode(line, 2).ok).toBe(false);
    expect(sim.compartment(5).openings).toBe(1);
  });
});
