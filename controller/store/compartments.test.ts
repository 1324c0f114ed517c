import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR, staffActor } from '../domain/types.js';
import { DEFAULT_UNLOCK_POLICY } from '../domain/unlock-policy.js';
import { listAudit } from './audit.js';
import {
  applyLayout,
  countByState,
  getCompartment,
  layoutGrid,
  listCompartments,
  reserveCompartment,
  transitionCompartment,
} from './compartments.js';
import { createRequest } from './requests.js';
import { loadedRequest, makeResident, openTestStore } from './test-support.js';
import {
  claimIntentForSend,
  createUnlockIntent,
  expireStaleIntents,
  getIntent,
  markIntentAcked,
  recordDoorFact,
  unresolvedIntents,
} from './unlocks.js';

describe('compartment layout', () => {
  it('maps 1x24 and 2x12 to board address + channel, idempotently', () => {
    expect(layoutGrid(2, 12).slice(10, 14)).toEqual([
      { no: 11, boardAddress: 1, channel: 11 },
      { no: 12, boardAddress: 1, channel: 12 },
      { no: 13, boardAddress: 2, channel: 1 },
      { no: 14, boardAddress: 2, channel: 2 },
    ]);
    const s = openTestStore();
    expect(applyLayout(s.ctx, layoutGrid(1, 24), SYSTEM_ACTOR)).toEqual({ added: 24, moved: 0, removed: 0 });
    expect(applyLayout(s.ctx, layoutGrid(1, 24), SYSTEM_ACTOR)).toEqual({ added: 0, moved: 0, removed: 0 });
    expect(applyLayout(s.ctx, layoutGrid(2, 12), SYSTEM_ACTOR)).toEqual({ added: 0, moved: 12, removed: 0 });
    expect(getCompartment(s.ctx, 13)).toMatchObject({ boardAddress: 2, channel: 1, state: 'free' });
    expect(applyLayout(s.ctx, layoutGrid(2, 10), SYSTEM_ACTOR)).toEqual({ added: 0, moved: 10, removed: 4 });
    expect(listCompartments(s.ctx)).toHaveLength(20);
    s.close();
  });

  it('refuses to rewire a compartment that holds something, and duplicate wiring', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s); // 1x24, request reserved in compartment 1
    expect(() =>
      applyLayout(
        s.ctx,
        layoutGrid(2, 12).map((e) => (e.no === 1 ? { ...e, channel: 30 } : e)),
        SYSTEM_ACTOR,
      ),
    ).toThrow(expect.objectContaining({ code: 'LAYOUT_CONFLICT' }));
    expect(() =>
      applyLayout(
        s.ctx,
        [
          { no: 1, boardAddress: 1, channel: 1 },
          { no: 2, boardAddress: 1, channel: 1 },
        ],
        SYSTEM_ACTOR,
      ),
    ).toThrow(/twice/);
    expect(getCompartment(s.ctx, l.compartmentNo)?.state).toBe('reserved');
    s.close();
  });
});

describe('compartment states', () => {
  it('reserves the lowest free compartment, and says "full" with null rather than an error', () => {
    const s = openTestStore();
    applyLayout(s.ctx, layoutGrid(1, 2), SYSTEM_ACTOR);
    const r = makeResident(s);
    const ids = [0, 1, 2].map(() => createRequest(s.ctx, { residentId: r.id, serviceCode: 'residence_certificate' }, SYSTEM_ACTOR).request.id);
    expect(reserveCompartment(s.ctx, { requestId: ids[0] ?? 0, direction: 'for_resident' }, SYSTEM_ACTOR)?.no).toBe(1);
    expect(reserveCompartment(s.ctx, { requestId: ids[1] ?? 0, direction: 'for_resident' }, SYSTEM_ACTOR)?.no).toBe(2);
    expect(reserveCompartment(s.ctx, { requestId: ids[2] ?? 0, direction: 'for_resident' }, SYSTEM_ACTOR)).toBeNull();
    expect(countByState(s.ctx)).toMatchObject({ free: 0, reserved: 2 });
    s.close();
  });

  it('follows the compartment table, keeps contents through a fault, and needs a reason for it', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    const staff = staffActor(l.staffId);
    const no = l.compartmentNo;
    transitionCompartment(s.ctx, no, { to: 'opening', actor: staff });
    transitionCompartment(s.ctx, no, { to: 'open', actor: staff });
    transitionCompartment(s.ctx, no, { to: 'occupied', actor: staff });
    expect(() => transitionCompartment(s.ctx, no, { to: 'free', actor: staff })).toThrow(expect.objectContaining({ code: 'COMPARTMENT_STATE' }));
    expect(() => transitionCompartment(s.ctx, no, { to: 'fault', actor: staff })).toThrow(expect.objectContaining({ code: 'REASON_REQUIRED' }));
    const f = transitionCompartment(s.ctx, no, { to: 'fault', actor: SYSTEM_ACTOR, faultReason: 'door sensor reads open for ever' });
    expect(f).toMatchObject({ state: 'fault', faultReason: 'door sensor reads open for ever', contents: { requestId: l.requestId } });
    expect(() => transitionCompartment(s.ctx, no, { to: 'disabled', actor: staff, expectFrom: 'occupied' })).toThrow(/expected occupied/);
    // The document is still there on record: a fault is never "free" while its request is loaded.
    expect(() => transitionCompartment(s.ctx, no, { to: 'free', actor: staff })).toThrow(/stays recorded/);
    expect(() => transitionCompartment(s.ctx, no, { to: 'fault', actor: staff, faultReason: 'x', clearContents: true })).toThrow(/stays recorded/);
    const back = transitionCompartment(s.ctx, no, { to: 'occupied', actor: staff });
    expect(back).toMatchObject({ state: 'occupied', contents: { requestId: l.requestId }, faultReason: null });
    expect(listAudit(s.db, { compartmentNo: no }).map((a) => a.action)).toEqual([
      'compartment.reserved',
      'request.start_load',
      'request.load_done',
      'compartment.opening',
      'compartment.open',
      'compartment.occupied',
      'compartment.fault',
      'compartment.occupied',
    ]);
    s.close();
  });
});

describe('unlock intents and door facts', () => {
  it('intent → sent → acked → door opened are separate facts; an ack alone is not an opening', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    const i = createUnlockIntent(s.ctx, {
      compartmentNo: l.compartmentNo,
      requestId: l.requestId,
      actor: { kind: 'kiosk', id: 'k' },
      reason: 'pickup',
    });
    expect(i).toMatchObject({ status: 'pending', expiresAt: s.clock.t + 5000 });
    expect(unresolvedIntents(s.ctx).map((x) => x.id)).toEqual([i.id]);
    expect(claimIntentForSend(s.ctx, i.id, 17)).toMatchObject({ status: 'sent', seq: 17 });
    markIntentAcked(s.ctx, i.id);
    // crash here: acked, door never seen open — still listed at restart
    const s2 = s.reopen();
    expect(unresolvedIntents(s2.ctx).map((x) => [x.id, x.status])).toEqual([[i.id, 'acked']]);
    const opened = recordDoorFact(s2.ctx, { compartmentNo: l.compartmentNo, door: 'open', source: 'event' });
    expect(opened).toMatchObject({ changed: true, unexplainedOpen: false, fact: { intentId: i.id } });
    expect(recordDoorFact(s2.ctx, { compartmentNo: l.compartmentNo, door: 'open', source: 'poll' }).changed).toBe(false);
    expect(unresolvedIntents(s2.ctx)).toEqual([]);
    s2.close();
  });

  it('an intent claimed after it expired is never sent', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    const i = createUnlockIntent(s.ctx, { compartmentNo: l.compartmentNo, actor: staffActor(l.staffId), reason: 'staff_open' });
    s.clock.advance(5000);
    expect(claimIntentForSend(s.ctx, i.id, 1)).toBeNull();
    expect(getIntent(s.ctx, i.id)?.status).toBe('expired');
    s.close();
  });

  it('sent but unanswered past expiry becomes failed (outcome unknown); one live intent per compartment', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    const a = createUnlockIntent(s.ctx, { compartmentNo: l.compartmentNo, actor: staffActor(l.staffId), reason: 'staff_open' });
    expect(() => createUnlockIntent(s.ctx, { compartmentNo: l.compartmentNo, actor: staffActor(l.staffId), reason: 'staff_open' })).toThrow(
      expect.objectContaining({ code: 'UNLOCK_ALREADY_PENDING' }),
    );
    claimIntentForSend(s.ctx, a.id, 2);
    s.clock.advance(6000);
    expect(expireStaleIntents(s.ctx)).toBe(1);
    expect(getIntent(s.ctx, a.id)).toMatchObject({ status: 'failed', error: expect.stringMatching(/outcome unknown/) });
    // the door did open after all: attributed to that intent, not tamper
    expect(recordDoorFact(s.ctx, { compartmentNo: l.compartmentNo, door: 'open', source: 'poll' }).unexplainedOpen).toBe(false);
    s.close();
  });

  it('the first reading after a start is explained by an unlock sent after the door was last recorded, though the clock moved between them', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    const no = 9;
    expect(recordDoorFact(s.ctx, { compartmentNo: no, door: 'closed', source: 'event' }).changed).toBe(true);
    s.clock.advance(60_000);
    s.clock.advance(-3_600_000); // the clock is set an hour back; the unlock is stamped an hour "before" the door
    const i = createUnlockIntent(s.ctx, { compartmentNo: no, actor: staffActor(l.staffId), reason: 'staff_open' });
    claimIntentForSend(s.ctx, i.id, 41);
    // the process dies; the next start has a clock only ten minutes behind and finds the door open
    s.clock.advance(50 * 60_000);
    const seen = recordDoorFact(s.ctx, { compartmentNo: no, door: 'open', source: 'startup', ageMs: null });
    expect(seen).toMatchObject({ changed: true, unexplainedOpen: false, fact: { intentId: i.id } });
    s.close();
  });

  it('a door opening with no intent is unexplained (tamper), and unlocks are capped per minute', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    const t = recordDoorFact(s.ctx, { compartmentNo: 5, door: 'open', source: 'event' });
    expect(t).toMatchObject({ changed: true, unexplainedOpen: true, fact: { intentId: null } });
    expect(listAudit(s.db, { action: 'door.opened_unexplained' })).toHaveLength(1);
    const actor = staffActor(l.staffId);
    for (let no = 1; no <= DEFAULT_UNLOCK_POLICY.maxPerMinute; no++) createUnlockIntent(s.ctx, { compartmentNo: no, actor, reason: 'fault_check' });
    expect(() => createUnlockIntent(s.ctx, { compartmentNo: DEFAULT_UNLOCK_POLICY.maxPerMinute + 1, actor, reason: 'fault_check' })).toThrow(
      expect.objectContaining({ code: 'UNLOCK_RATE_LIMITED' }),
    );
    s.clock.advance(60_001);
    expect(createUnlockIntent(s.ctx, { compartmentNo: DEFAULT_UNLOCK_POLICY.maxPerMinute + 1, actor, reason: 'fault_check' }).status).toBe('pending');
    s.close();
  });
});
