import { describe, expect, it } from 'vitest';
import { EventBus, type Alarm } from './events.js';
import { alarmSink } from './store/alarms.js';
import { openTestStore } from './store/test-support.js';
import { said } from './words/keys.js';

describe('EventBus alarms', () => {
  it('without a store: kept in memory, newest first, an identical one counted on the same id, each published', () => {
    const bus = new EventBus();
    const seen: Alarm[] = [];
    bus.on('alarm', (a) => seen.push(a));
    const a = bus.alarm('link_offline', said('alarm.link_offline'));
    const b = bus.alarm('tamper', said('alarm.tamper', { no: 5 }), { compartment: 5 });
    const again = bus.alarm('link_offline', said('alarm.link_offline'));
    expect(again).toMatchObject({ id: a.id, count: 2, acknowledged: null });
    expect(seen.map((x) => [x.id, x.count])).toEqual([
      [a.id, 1],
      [b.id, 1],
      [a.id, 2],
    ]);
    expect(bus.recentAlarms().map((x) => x.id)).toEqual([a.id, b.id]);
    expect(b).toMatchObject({
      kind: 'tamper',
      compartment: 5,
      key: 'alarm.tamper',
      params: { no: 5 },
      message: '格口 5 的门在没有开锁指令时被打开。',
    });
    expect(b).not.toHaveProperty('requestId');
    // the same words' key with other parameters is another alarm
    const c = bus.alarm('tamper', said('alarm.tamper', { no: 6 }), { compartment: 5 });
    expect(c.id).not.toBe(b.id);
  });

  it('with the store: the alarm id is the row id and recentAlarms reads the store', () => {
    const s = openTestStore();
    const bus = new EventBus({ alarms: alarmSink(s.ctx) });
    const a = bus.alarm('door_not_opened', said('alarm.door_not_opened', { no: 2 }), { compartment: 2, requestId: 3 });
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
    const stored = bus.alarm('tamper', said('alarm.tamper', { no: 1 }), { compartment: 1 });
    s.close(); // the database is gone (a disk failure, a shutdown in progress)
    const seen: Alarm[] = [];
    bus.on('alarm', (a) => seen.push(a));
    const lost = bus.alarm('link_offline', said('alarm.link_offline'));
    expect(lost.id).toBeLessThan(0);
    expect(seen).toEqual([lost]);
    expect(errors).toEqual([expect.stringMatching(/^link_offline: /)]);
    expect(stored.id).toBeGreaterThan(0);
  });
});
