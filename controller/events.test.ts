import { describe, expect, it } from 'vitest';
import { EventBus, type Alarm } from './events.js';
import { alarmSink } from './store/alarms.js';
import { openTestStore } from './store/test-support.js';

describe('EventBus alarms', () => {
  it('without a store: kept in memory, newest first, an identical one counted on the same id, each published', () => {
    const bus = new EventBus();
    const seen: Alarm[] = [];
    bus.on('alarm', (a) => seen.push(a));
    const a = bus.alarm('link_offline', 'link down');
    const b = bus.alarm('tamper', 'door 5', { compartment: 5 });
    const again = bus.alarm('link_offline', 'link down');
    expect(again).toMatchObject({ id: a.id, count: 2, acknowledged: null });
    expect(seen.map((x) => [x.id, x.count])).toEqual([
      [a.id, 1],
      [b.id, 1],
      [a.id, 2],
    ]);
    expect(bus.recentAlarms().map((x) => x.id)).toEqual([a.id, b.id]);
    expect(b).toMatchObject({ kind: 'tamper', compartment: 5, message: 'door 5' });
    expect(b).not.toHaveProperty('requestId');
  });

  it('with the store: the alarm id is the row id and recentAlarms reads the store', () => {
    const s = openTestStore();
    const bus = new EventBus({ alarms: alarmSink(s.ctx) });
    const a = bus.alarm('door_not_opened', 'door 2 did not open', { compartment: 2, requestId: 3 });
    expect(s.db.prepare('SELECT id, compartment_no, request_id FROM alarms').all()).toEqual([{ id: a.id, compartment_no: 2, request_id: 3 }]);
    expect(a.at).toBe(new Date(s.clock.t).toISOString());
    const fresh = new EventBus({ alarms: alarmSink(s.ctx) });
    expect(fresh.recentAlarms()).toEqual([a]);
    s.close();
  });

  it('an alarm the store refuses is still published and listed, with a negative id, and the refusal is reported', () => {
    const s = openTestStore();
    const errors: string[] = [];
    const bus = new EventBus({ alarms: alarmSink(s.ctx), onAlarmStoreError: (err, input) => errors.push(`${input.kind}: ${String(err)}`) });
    const stored = bus.alarm('tamper', 'door 1', { compartment: 1 });
    s.close(); // the database is gone (a disk failure, a shutdown in progress)
    const seen: Alarm[] = [];
    bus.on('alarm', (a) => seen.push(a));
    const lost = bus.alarm('link_offline', 'link down');
    expect(lost.id).toBeLessThan(0);
    expect(seen).toEqual([lost]);
    expect(errors).toEqual([expect.stringMatching(/^link_offline: /)]);
    expect(stored.id).toBeGreaterThan(0);
  });
});
