import { describe, expect, it } from 'vitest';
import { isCabinetError } from '../errors.js';
import { SYSTEM_ACTOR, staffActor } from '../domain/types.js';
import { acknowledgeAlarm, countOpenAlarms, getAlarm, listAlarms, raiseAlarm, resolveAlarms } from './alarms.js';
import { listAudit } from './audit.js';
import { readPragmas } from './db.js';
import { ALARM_NOTE_WORDS_MIGRATION, MIGRATIONS } from './migrations.js';
import { makeStaff, openTestStore } from './test-support.js';
import { said } from '../words/keys.js';

const LEFT_OPEN = { kind: 'door_left_open', said: said('alarm.door_left_open', { no: 3 }), compartmentNo: 3 } as const;

function refusal(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a refusal');
}

describe('alarms store', () => {
  it('migration 3 creates the table; alarms survive closing and reopening the store', () => {
    let s = openTestStore();
    expect(readPragmas(s.db).userVersion).toBe(MIGRATIONS.length);
    expect(MIGRATIONS[2]?.name).toBe('alarms');
    const a = raiseAlarm(s.ctx, { kind: 'tamper', said: said('alarm.tamper', { no: 5 }), compartmentNo: 5 });
    const b = raiseAlarm(s.ctx, { kind: 'link_offline', said: said('alarm.link_offline') });
    s = s.reopen();
    expect(listAlarms(s.ctx).map((x) => x.id)).toEqual([b.id, a.id]);
    expect(getAlarm(s.ctx, a.id)).toEqual({
      id: a.id,
      kind: 'tamper',
      said: { key: 'alarm.tamper', params: { no: 5 } },
      message: '格口 5 的门在没有开锁指令时被打开。',
      compartmentNo: 5,
      requestId: null,
      raisedAt: s.clock.t,
      lastAt: s.clock.t,
      count: 1,
      acknowledgedAt: null,
      acknowledgedBy: null,
      note: null,
      noteSaid: null,
    });
    s.close();
  });

  it('an identical open alarm raised again bumps count and last_at instead of adding a row; after acknowledging, the next one is new', async () => {
    const s = openTestStore();
    const staffId = await makeStaff(s);
    const first = raiseAlarm(s.ctx, LEFT_OPEN);
    s.clock.advance(60_000);
    const again = raiseAlarm(s.ctx, LEFT_OPEN);
    s.clock.advance(60_000);
    const third = raiseAlarm(s.ctx, LEFT_OPEN);
    expect(again.id).toBe(first.id);
    expect(third).toMatchObject({ id: first.id, count: 3, raisedAt: first.raisedAt, lastAt: first.raisedAt + 120_000 });
    // another compartment, another request or another kind is its own alarm
    const other = raiseAlarm(s.ctx, { ...LEFT_OPEN, compartmentNo: 4 });
    const withRequest = raiseAlarm(s.ctx, { ...LEFT_OPEN, requestId: 9 });
    const tamper = raiseAlarm(s.ctx, { ...LEFT_OPEN, kind: 'tamper' });
    expect(new Set([first.id, other.id, withRequest.id, tamper.id]).size).toBe(4);
    expect(s.db.prepare('SELECT count(*) AS n FROM alarms').get()).toEqual({ n: 4 });
    // link_offline on every reconnect attempt: one row
    for (let i = 0; i < 5; i++) raiseAlarm(s.ctx, { kind: 'link_offline', said: said('alarm.link_offline') });
    expect(
      listAlarms(s.ctx)
        .filter((a) => a.kind === 'link_offline')
        .map((a) => a.count),
    ).toEqual([5]);

    acknowledgeAlarm(s.ctx, first.id, staffActor(staffId));
    const next = raiseAlarm(s.ctx, LEFT_OPEN);
    expect(next.id).not.toBe(first.id);
    expect(next.count).toBe(1);
    expect(getAlarm(s.ctx, first.id)?.count).toBe(3);
    s.close();
  });

  it('acknowledges once, with who, when and a note, and an audit row; a second time is ALARM_ALREADY_ACKNOWLEDGED', async () => {
    const s = openTestStore();
    const staffId = await makeStaff(s);
    const a = raiseAlarm(s.ctx, {
      kind: 'item_not_taken',
      said: said('alarm.item_not_taken', { no: 4 }),
      compartmentNo: 4,
      requestId: 7,
    });
    s.clock.advance(5_000);
    const done = acknowledgeAlarm(s.ctx, a.id, staffActor(staffId), '  已电话通知居民  ');
    expect(done).toMatchObject({ acknowledgedAt: s.clock.t, acknowledgedBy: { id: staffId, name: expect.any(String) }, note: '已电话通知居民' });
    expect(done.acknowledgedBy?.name.length).toBeGreaterThan(0);
    expect(listAudit(s.db, { action: 'alarm.acknowledge' })).toEqual([
      {
        id: expect.any(Number),
        at: s.clock.t,
        actorKind: 'staff',
        actorId: String(staffId),
        action: 'alarm.acknowledge',
        compartmentNo: 4,
        requestId: 7,
        detail: { alarmId: a.id, kind: 'item_not_taken', count: 1, note: '已电话通知居民' },
      },
    ]);

    s.clock.advance(5_000);
    const twice = refusal(() => acknowledgeAlarm(s.ctx, a.id, staffActor(staffId)));
    expect(isCabinetError(twice, 'ALARM_ALREADY_ACKNOWLEDGED')).toBe(true);
    expect((twice as { context: Record<string, unknown> }).context).toMatchObject({ alarmId: a.id, acknowledgedBy: staffId });
    expect(getAlarm(s.ctx, a.id)?.acknowledgedAt).toBe(s.clock.t - 5_000);
    expect(listAudit(s.db, { action: 'alarm.acknowledge' })).toHaveLength(1);

    expect(
      isCabinetError(
        refusal(() => acknowledgeAlarm(s.ctx, 999, staffActor(staffId))),
        'NOT_FOUND',
      ),
    ).toBe(true);
    const b = raiseAlarm(s.ctx, { kind: 'tamper', said: said('alarm.tamper', { no: 6 }), compartmentNo: 6 });
    expect(
      isCabinetError(
        refusal(() => acknowledgeAlarm(s.ctx, b.id, SYSTEM_ACTOR)),
        'ACTOR_NOT_ALLOWED',
      ),
    ).toBe(true);
    expect(
      isCabinetError(
        refusal(() => acknowledgeAlarm(s.ctx, b.id, staffActor(staffId), 'x'.repeat(201))),
        'VALIDATION',
      ),
    ).toBe(true);
    expect(getAlarm(s.ctx, b.id)?.acknowledgedAt).toBeNull();
    s.close();
  });

  it('lists open alarms first (newest first), then acknowledged ones (most recently dealt with first); filters and counts', async () => {
    const s = openTestStore();
    const staffId = await makeStaff(s);
    const ids: number[] = [];
    for (let no = 1; no <= 4; no++) {
      ids.push(raiseAlarm(s.ctx, { kind: 'tamper', said: said('alarm.tamper', { no }), compartmentNo: no }).id);
      s.clock.advance(1000);
    }
    acknowledgeAlarm(s.ctx, ids[2]!, staffActor(staffId));
    s.clock.advance(1000);
    acknowledgeAlarm(s.ctx, ids[0]!, staffActor(staffId));
    s.clock.advance(1000);
    raiseAlarm(s.ctx, { kind: 'tamper', said: said('alarm.tamper', { no: 2 }), compartmentNo: 2 }); // bumped: now the newest open one
    expect(listAlarms(s.ctx).map((a) => a.compartmentNo)).toEqual([2, 4, 1, 3]);
    expect(listAlarms(s.ctx, { open: true }).map((a) => a.compartmentNo)).toEqual([2, 4]);
    expect(listAlarms(s.ctx, { open: false }).map((a) => a.compartmentNo)).toEqual([1, 3]);
    expect(listAlarms(s.ctx, { limit: 3 }).map((a) => a.compartmentNo)).toEqual([2, 4, 1]);
    expect(countOpenAlarms(s.ctx)).toBe(2);
    s.close();
  });

  it('alarms of a kind about a request end when the staff member did what they asked for, each audited; others stay', async () => {
    const s = openTestStore();
    const staffId = await makeStaff(s);
    const mine = raiseAlarm(s.ctx, {
      kind: 'materials_deposited',
      said: said('alarm.materials_deposited', { number: 'BB-1', no: 4 }),
      compartmentNo: 4,
      requestId: 11,
    });
    const other = raiseAlarm(s.ctx, {
      kind: 'materials_deposited',
      said: said('alarm.materials_deposited', { number: 'BB-2', no: 5 }),
      compartmentNo: 5,
      requestId: 12,
    });
    const tamper = raiseAlarm(s.ctx, { kind: 'tamper', said: said('alarm.tamper', { no: 4 }), compartmentNo: 4, requestId: 11 });
    s.clock.advance(1000);
    const ended = resolveAlarms(s.ctx, 'materials_deposited', 11, staffActor(staffId), said('alarm.materials_taken_out'));
    // what the system noted is kept as a key of the word catalogue, not as words
    expect(ended.map((a) => [a.id, a.acknowledgedBy?.id, a.note, a.noteSaid, a.acknowledgedAt])).toEqual([
      [mine.id, staffId, null, { key: 'alarm.materials_taken_out' }, s.clock.t],
    ]);
    expect(getAlarm(s.ctx, mine.id)?.noteSaid).toEqual({ key: 'alarm.materials_taken_out' });
    expect(getAlarm(s.ctx, other.id)?.acknowledgedAt).toBeNull();
    expect(getAlarm(s.ctx, tamper.id)?.acknowledgedAt).toBeNull();
    expect(
      listAudit(s.db, { action: 'alarm.acknowledge' }).map((e) => [e.requestId, e.detail.alarmId, e.detail.resolvedBy, e.detail.noteKey]),
    ).toEqual([[11, mine.id, 'done', 'alarm.materials_taken_out']]);
    expect(resolveAlarms(s.ctx, 'materials_deposited', 11, staffActor(staffId), said('alarm.materials_taken_out'))).toEqual([]);
    expect(() => resolveAlarms(s.ctx, 'materials_deposited', 12, SYSTEM_ACTOR, said('alarm.materials_taken_out'))).toThrow();
    expect(getAlarm(s.ctx, other.id)?.acknowledgedAt).toBeNull();
    s.close();
  });

  it('keeps what an alarm says as key and parameters: the same key with other parameters is another alarm; message has the primary words', () => {
    const s = openTestStore();
    const three = raiseAlarm(s.ctx, { kind: 'flow_failed', said: said('alarm.flow_failed', { doors: [3, 5] }) });
    const again = raiseAlarm(s.ctx, { kind: 'flow_failed', said: said('alarm.flow_failed', { doors: [3, 5] }) });
    const other = raiseAlarm(s.ctx, { kind: 'flow_failed', said: said('alarm.flow_failed', { doors: [3] }) });
    expect(again).toMatchObject({ id: three.id, count: 2 });
    expect(other.id).not.toBe(three.id);
    expect(three.said).toEqual({ key: 'alarm.flow_failed', params: { doors: [3, 5] } });
    expect(s.db.prepare('SELECT message, words_key, words_params FROM alarms WHERE id = ?').get(three.id)).toEqual({
      message: '3、5 号柜的操作因错误中断，重启自检时会处理完。',
      words_key: 'alarm.flow_failed',
      words_params: '{"doors":[3,5]}',
    });
    // parameters given in another order are the same parameters
    const m1 = raiseAlarm(s.ctx, { kind: 'materials_deposited', said: { key: 'alarm.materials_deposited', params: { number: 'BB-1', no: 4 } } });
    const m2 = raiseAlarm(s.ctx, { kind: 'materials_deposited', said: { key: 'alarm.materials_deposited', params: { no: 4, number: 'BB-1' } } });
    expect(m2).toMatchObject({ id: m1.id, count: 2 });
    s.close();
  });

  it('alarms stored before the alarm-words migration keep their message and no key; a new alarm with the same words is its own row', () => {
    const before = MIGRATIONS.findIndex((m) => m.name === 'alarm words: catalogue key and parameters');
    expect(before).toBeGreaterThan(2);
    const old = openTestStore({ migrations: MIGRATIONS.slice(0, before) });
    old.db
      .prepare(`INSERT INTO alarms (kind, message, compartment_no, raised_at, last_at) VALUES ('tamper', ?, 5, ?, ?)`)
      .run('格口 5 的门在没有开锁指令时被打开。', old.clock.t, old.clock.t);
    old.close();
    const s = openTestStore({ dir: old.dir, clock: old.clock });
    expect(readPragmas(s.db).userVersion).toBe(MIGRATIONS.length);
    const [legacy] = listAlarms(s.ctx);
    expect(legacy).toMatchObject({ kind: 'tamper', said: null, message: '格口 5 的门在没有开锁指令时被打开。', compartmentNo: 5 });
    const fresh = raiseAlarm(s.ctx, { kind: 'tamper', said: said('alarm.tamper', { no: 5 }), compartmentNo: 5 });
    expect(fresh.id).not.toBe(legacy?.id);
    expect(fresh.message).toBe(legacy?.message);
    expect(raiseAlarm(s.ctx, { kind: 'tamper', said: said('alarm.tamper', { no: 5 }), compartmentNo: 5 })).toMatchObject({ id: fresh.id, count: 2 });
    expect(getAlarm(s.ctx, legacy!.id)?.count).toBe(1);
    s.close();
  });

  it('an alarm the system ended before its notes had keys keeps its note as written; the migration only adds columns', async () => {
    const before = MIGRATIONS.findIndex((m) => m.name === ALARM_NOTE_WORDS_MIGRATION);
    expect(before).toBeGreaterThan(0);
    const old = openTestStore({ migrations: MIGRATIONS.slice(0, before) });
    const staffId = await makeStaff(old);
    old.db
      .prepare(
        `INSERT INTO alarms (kind, message, words_key, words_params, request_id, raised_at, last_at, acknowledged_at, acknowledged_by, note)
           VALUES ('materials_deposited', 'm', 'alarm.materials_deposited', '{"no":4,"number":"BB-1"}', 11, ?, ?, ?, ?, '材料已取出')`,
      )
      .run(old.clock.t, old.clock.t, old.clock.t, staffId);
    old.close();
    const s = openTestStore({ dir: old.dir, clock: old.clock });
    expect(readPragmas(s.db).userVersion).toBe(MIGRATIONS.length);
    expect(listAlarms(s.ctx)[0]).toMatchObject({ note: '材料已取出', noteSaid: null });
    s.close();
  });
});
