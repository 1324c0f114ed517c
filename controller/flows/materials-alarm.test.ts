/**
 * The "materials dropped off" alarm is a to-do for staff: it ends when staff take the materials out, and not
 * before (a door closed with the materials still inside leaves it open).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { residentActor, staffActor } from '../domain/types.js';
import type { Alarm } from '../events.js';
import { createRequest, issueDepositCode, makeRequestQrToken, requireRequest, transitionRequest } from '../store/index.js';
import { makeResident } from '../store/test-support.js';
import { type Cleanups, world, type World } from './test-support.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function dropOff(w: World): Promise<{ requestId: number; no: number }> {
  const resident = makeResident(w.store);
  const { request } = createRequest(w.store.ctx, { residentId: resident.id, serviceCode: 'residence_certificate' }, residentActor(resident.id));
  transitionRequest(w.store.ctx, { requestId: request.id, event: 'request_materials', actor: staffActor(w.staffId) });
  const { credentialId } = issueDepositCode(w.store.ctx, request.id, staffActor(w.staffId));
  const answer = await w.flows.scan(makeRequestQrToken(w.store.keys, { requestId: request.id, credentialId, purpose: 'deposit' }), 'kiosk-1');
  const no = answer.compartments[0]!;
  w.sim.putItem(no);
  w.sim.closeDoor(no);
  expect(await answer.done).toEqual(['deposited']);
  return { requestId: request.id, no };
}

describe('the materials alarm', () => {
  it('ends when staff take the materials out, acknowledged by that staff member', async () => {
    const w = await world(cleanups);
    const acks: Alarm[] = [];
    w.bus.on('alarm-ack', (a) => acks.push(a));
    const { requestId, no } = await dropOff(w);
    const raised = w.alarms.find((a) => a.kind === 'materials_deposited' && a.requestId === requestId);
    expect(raised?.acknowledged).toBeNull();
    const number = requireRequest(w.store.ctx, requestId).number;
    expect(raised).toMatchObject({
      key: 'alarm.materials_deposited',
      params: { number, no },
      message: `申请 ${number} 的材料已放入 ${no} 号柜，请取出。`,
    });

    const back = await w.flows.retrieve(w.staffId, requestId);
    w.sim.takeItem(no);
    w.sim.closeDoor(no);
    expect(await back.done).toBe('materials_retrieved');
    expect(acks.map((a) => [a.id, a.kind, a.acknowledged?.by.id, a.acknowledged?.noteKey, a.acknowledged?.note])).toEqual([
      [raised!.id, 'materials_deposited', w.staffId, 'alarm.materials_taken_out', '材料已取出'],
    ]);
    const open = w.bus.recentAlarms().filter((a) => a.kind === 'materials_deposited' && a.acknowledged === null);
    expect(open).toEqual([]);
  });

  it('stays open when the door closes with the materials still inside', async () => {
    const w = await world(cleanups);
    const acks: Alarm[] = [];
    w.bus.on('alarm-ack', (a) => acks.push(a));
    const { requestId, no } = await dropOff(w);
    const back = await w.flows.retrieve(w.staffId, requestId);
    w.sim.closeDoor(no);
    expect(await back.done).toBe('item_still_inside');
    expect(acks).toEqual([]);
    expect(w.bus.recentAlarms().some((a) => a.kind === 'materials_deposited' && a.requestId === requestId && a.acknowledged === null)).toBe(true);
  });
});
