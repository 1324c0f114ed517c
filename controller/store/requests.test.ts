import { describe, expect, it } from 'vitest';
import { TransitionError, type RequestState } from '../domain/request-states.js';
import { SYSTEM_ACTOR, kioskActor, residentActor, staffActor } from '../domain/types.js';
import { appendAudit, listAudit } from './audit.js';
import { applyLayout, getCompartment, layoutGrid, reserveCompartment, transitionCompartment } from './compartments.js';
import { localDateKey } from './context.js';
import { activeCredentials, verifyCode } from './credentials.js';
import { listNotifications } from './outbox.js';
import {
  createRequest,
  findOverdueCandidates,
  findRequestByNumber,
  findRequestByStatusToken,
  getRequest,
  issueDepositCode,
  lastDoorNotice,
  nextRequestNumber,
  pageRequests,
  transitionRequest,
} from './requests.js';
import { createResident } from './residents.js';
import { setServiceItemEnabled } from './service-items.js';
import { DOOR_OUTCOME_MIGRATION, MIGRATIONS } from './migrations.js';
import { databaseBytes, FakeClock, loadedRequest, makeResident, makeStaff, openTestStore, tempDir, type TestStore } from './test-support.js';

describe('request numbers', () => {
  it('count per local day from 0001 and start again the next day', () => {
    const s = openTestStore();
    // 2025-03-14 23:30 in China (UTC+8) = 15:30 UTC
    s.clock.t = Date.UTC(2025, 2, 14, 15, 30);
    expect(nextRequestNumber(s.ctx)).toBe('BB-20250314-0001');
    expect(nextRequestNumber(s.ctx)).toBe('BB-20250314-0002');
    // 16:00 UTC is already midnight in China
    s.clock.t = Date.UTC(2025, 2, 14, 16, 0);
    expect(nextRequestNumber(s.ctx)).toBe('BB-20250315-0001');
    s.clock.t = Date.UTC(2025, 2, 14, 15, 59);
    expect(nextRequestNumber(s.ctx)).toBe('BB-20250314-0003');
    const s2 = s.reopen();
    s2.clock.t = Date.UTC(2025, 2, 15, 3, 0);
    expect(nextRequestNumber(s2.ctx)).toBe('BB-20250315-0002');
    s2.close();
  });

  it('uses the local date', () => {
    expect(localDateKey(Date.UTC(2025, 11, 31, 16, 0), 480)).toBe('20260101');
    expect(localDateKey(Date.UTC(2025, 11, 31, 16, 0), 0)).toBe('20251231');
  });

  it('are given to requests, unique, with a status token that is only stored hashed', () => {
    const s = openTestStore();
    const r = makeResident(s);
    const a = createRequest(s.ctx, { residentId: r.id, serviceCode: 'residence_certificate' }, residentActor(r.id));
    const b = createRequest(s.ctx, { residentId: r.id, serviceCode: 'elderly_benefit' }, residentActor(r.id));
    expect(a.request.number).toMatch(/^BB-\d{8}-0001$/);
    expect(b.request.number).toMatch(/^BB-\d{8}-0002$/);
    expect(a.statusToken).toMatch(/^[A-Za-z0-9_-]{22}$/); // 128 bits
    expect(findRequestByStatusToken(s.ctx, a.statusToken)?.id).toBe(a.request.id);
    expect(findRequestByStatusToken(s.ctx, b.statusToken)?.id).toBe(b.request.id);
    expect(findRequestByStatusToken(s.ctx, 'x'.repeat(22))).toBeNull();
    expect(findRequestByNumber(s.ctx, b.request.number)?.id).toBe(b.request.id);
    s.db.pragma('wal_checkpoint(PASSIVE)');
    expect(databaseBytes(s.dir).includes(a.statusToken)).toBe(false);
    s.close();
  });
});

describe('creating requests', () => {
  it('starts in awaiting_materials when the service needs a drop-off', () => {
    const s = openTestStore();
    const r = makeResident(s);
    expect(createRequest(s.ctx, { residentId: r.id, serviceCode: 'family_relationship' }, residentActor(r.id)).request.state).toBe(
      'awaiting_materials',
    );
    expect(createRequest(s.ctx, { residentId: r.id, serviceCode: 'residence_certificate' }, residentActor(r.id)).request.state).toBe('submitted');
    s.close();
  });

  it('refuses a disabled service, an unknown one, and a resident missing details the service needs', () => {
    const s = openTestStore();
    const r = makeResident(s);
    setServiceItemEnabled(s.ctx, 'elderly_benefit', false, SYSTEM_ACTOR);
    expect(() => createRequest(s.ctx, { residentId: r.id, serviceCode: 'elderly_benefit' }, SYSTEM_ACTOR)).toThrow(
      expect.objectContaining({ code: 'SERVICE_DISABLED' }),
    );
    expect(() => createRequest(s.ctx, { residentId: r.id, serviceCode: 'nope' }, SYSTEM_ACTOR)).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
    const bare = createResident(s.ctx, { name: '王五', mobile: '13900001111' }, SYSTEM_ACTOR);
    expect(() => createRequest(s.ctx, { residentId: bare.id, serviceCode: 'residence_certificate' }, SYSTEM_ACTOR)).toThrow(
      expect.objectContaining({ code: 'RESIDENT_DETAILS_MISSING' }),
    );
    s.close();
  });
});

describe('transitionRequest', () => {
  it('names the request, event and state when refused, and changes nothing', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    const auditBefore = listAudit(s.db).length;
    let err: unknown;
    try {
      transitionRequest(s.ctx, { requestId: l.requestId, event: 'accept', actor: staffActor(l.staffId) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TransitionError);
    expect((err as TransitionError).message).toMatch(/BB-\d{8}-\d{4}.*"accept".*"loaded"/);
    expect(listAudit(s.db).length).toBe(auditBefore);
    s.close();
  });

  it('requires a reserved compartment before start_load', async () => {
    const s = openTestStore();
    const r = makeResident(s);
    const staff = staffActor(await makeStaff(s));
    const { request } = createRequest(s.ctx, { residentId: r.id, serviceCode: 'residence_certificate' }, residentActor(r.id));
    transitionRequest(s.ctx, { requestId: request.id, event: 'accept', actor: staff });
    transitionRequest(s.ctx, { requestId: request.id, event: 'mark_ready', actor: staff });
    expect(() => transitionRequest(s.ctx, { requestId: request.id, event: 'start_load', actor: staff })).toThrow(
      expect.objectContaining({ code: 'COMPARTMENT_NOT_RESERVED' }),
    );
    s.close();
  });

  it('load_done issues the code and owes a ready_with_code message whose code is encrypted', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    expect(l.load.request.state).toBe('loaded');
    expect(l.load.request.loadedAt).toBe(s.clock.t);
    const msgs = listNotifications(s.ctx, { requestId: l.requestId });
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({ kind: 'ready_with_code', status: 'pending', hasSecret: true });
    expect(JSON.stringify(msgs[0]?.payload)).not.toContain(l.code);
    expect(getCompartment(s.ctx, l.compartmentNo)?.contents).toEqual({ requestId: l.requestId, direction: 'for_resident' });
    s.close();
  });

  it('reject stores the reason and owes a message; a resident may cancel', async () => {
    const s = openTestStore();
    const r = makeResident(s);
    const staff = staffActor(await makeStaff(s));
    const a = createRequest(s.ctx, { residentId: r.id, serviceCode: 'residence_certificate' }, residentActor(r.id)).request;
    expect(() => transitionRequest(s.ctx, { requestId: a.id, event: 'reject', actor: staff })).toThrow(
      expect.objectContaining({ code: 'REASON_REQUIRED' }),
    );
    const out = transitionRequest(s.ctx, { requestId: a.id, event: 'reject', actor: staff, reason: '不在本社区居住' });
    expect(out.request).toMatchObject({ state: 'rejected', reason: '不在本社区居住', closedAt: s.clock.t });
    expect(listNotifications(s.ctx, { requestId: a.id }).map((n) => [n.kind, n.payload.reason])).toEqual([['rejected', '不在本社区居住']]);
    const b = createRequest(s.ctx, { residentId: r.id, serviceCode: 'residence_certificate' }, residentActor(r.id)).request;
    expect(transitionRequest(s.ctx, { requestId: b.id, event: 'cancel', actor: residentActor(r.id) }).request.state).toBe('cancelled');
    s.close();
  });

  it('a cancel that frees its compartment notes it as words of the catalogue, and a fault it leaves has a fault key', () => {
    const s = openTestStore();
    applyLayout(s.ctx, layoutGrid(1, 2), SYSTEM_ACTOR);
    const r = makeResident(s);
    const [a, b] = [0, 1].map(() => createRequest(s.ctx, { residentId: r.id, serviceCode: 'residence_certificate' }, residentActor(r.id)).request);
    const freed = reserveCompartment(s.ctx, { requestId: a!.id, direction: 'for_resident' }, SYSTEM_ACTOR)!.no;
    const broken = reserveCompartment(s.ctx, { requestId: b!.id, direction: 'for_resident' }, SYSTEM_ACTOR)!.no;
    transitionCompartment(s.ctx, broken, { to: 'fault', actor: SYSTEM_ACTOR, faultReason: 'fault.door_not_opened' });
    for (const x of [a!, b!]) transitionRequest(s.ctx, { requestId: x.id, event: 'cancel', actor: residentActor(r.id) });
    const [free] = listAudit(s.db, { compartmentNo: freed, action: 'compartment.free' });
    expect(free?.detail).toMatchObject({ noteKey: 'note.request_cancelled', noteParams: { number: a!.number } });
    expect(free?.detail).not.toHaveProperty('note');
    expect(getCompartment(s.ctx, broken)).toMatchObject({ state: 'fault', faultReason: 'fault.cancelled_while_out_of_order', contents: null });
    s.close();
  });

  it('admin_retrieve needs an enabled admin; retrieve of an overdue item is for any staff', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    expect(() => transitionRequest(s.ctx, { requestId: l.requestId, event: 'admin_retrieve', actor: staffActor(l.staffId) })).toThrow(
      expect.objectContaining({ code: 'ACTOR_NOT_ALLOWED' }),
    );
    const admin = await makeStaff(s, 'admin');
    const out = transitionRequest(s.ctx, { requestId: l.requestId, event: 'admin_retrieve', actor: staffActor(admin) });
    expect(out.request.state).toBe('retrieved');
    expect(activeCredentials(s.ctx, l.requestId)).toEqual([]);
    expect(listNotifications(s.ctx, { requestId: l.requestId }).map((n) => [n.kind, n.status])).toEqual([
      ['ready_with_code', 'cancelled'],
      ['item_retrieved', 'pending'],
    ]);
    s.close();
  });

  it('finds loaded items past the overdue time; mark_overdue owes a reminder and keeps the code', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    const week = 7 * 24 * 3600_000;
    expect(findOverdueCandidates(s.ctx, week)).toEqual([]);
    s.clock.advance(week);
    expect(findOverdueCandidates(s.ctx, week).map((r) => r.id)).toEqual([l.requestId]);
    transitionRequest(s.ctx, { requestId: l.requestId, event: 'mark_overdue', actor: SYSTEM_ACTOR });
    expect(findOverdueCandidates(s.ctx, week)).toEqual([]);
    expect(listNotifications(s.ctx, { requestId: l.requestId }).map((n) => n.kind)).toEqual(['ready_with_code', 'overdue_reminder']);
    expect(activeCredentials(s.ctx, l.requestId)).toHaveLength(1);
    s.close();
  });

  it('the drop-off path: deposit code, depositing, deposited (code revoked), retrieved, accepted', async () => {
    const s = openTestStore();
    applyLayout(s.ctx, layoutGrid(2, 12), SYSTEM_ACTOR);
    const r = makeResident(s);
    const staff = staffActor(await makeStaff(s));
    const { request } = createRequest(s.ctx, { residentId: r.id, serviceCode: 'family_relationship' }, residentActor(r.id));
    const dep = issueDepositCode(s.ctx, request.id, residentActor(r.id));
    const check = () => verifyCode(s.ctx, { code: dep.code, phoneLast4: r.mobile.slice(-4), deviceId: 'k' });
    expect(check()).toMatchObject({ ok: true, purpose: 'deposit' });
    expect(reserveCompartment(s.ctx, { requestId: request.id, direction: 'for_staff' }, kioskActor('k'))?.no).toBe(1);
    transitionRequest(s.ctx, { requestId: request.id, event: 'start_deposit', actor: kioskActor('k') });
    transitionRequest(s.ctx, { requestId: request.id, event: 'deposit', actor: kioskActor('k') });
    expect(check().ok).toBe(false);
    transitionRequest(s.ctx, { requestId: request.id, event: 'retrieve_materials', actor: staff });
    const out = transitionRequest(s.ctx, { requestId: request.id, event: 'accept', actor: staff });
    expect(out.request.state).toBe('accepted');
    expect(listNotifications(s.ctx, { requestId: request.id }).map((n) => n.kind)).toEqual(['materials_received']);
    s.close();
  });
});

describe('the door outcome told on the status page (lastDoorNotice)', () => {
  /** The pickup door opens for the request, as the door flows record it. */
  function openDoor(s: TestStore, no: number): void {
    transitionCompartment(s.ctx, no, { to: 'opening', actor: kioskActor('k1') });
    transitionCompartment(s.ctx, no, { to: 'open', actor: kioskActor('k1') });
  }

  it('is the code recorded with the door change, never read from a note', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    openDoor(s, l.compartmentNo);
    expect(lastDoorNotice(s.ctx, l.requestId, 'loaded')).toBeNull();
    // the words of the note are for people reading the audit log; they change nothing here
    transitionCompartment(s.ctx, l.compartmentNo, { to: 'occupied', actor: kioskActor('k1'), doorOutcome: 'item_not_taken', note: 'anything' });
    expect(lastDoorNotice(s.ctx, l.requestId, 'loaded')).toBe('item_not_taken');
    expect(lastDoorNotice(s.ctx, l.requestId, 'overdue')).toBe('item_not_taken');
    // opened again: nothing to say until it closes
    openDoor(s, l.compartmentNo);
    expect(lastDoorNotice(s.ctx, l.requestId, 'loaded')).toBeNull();
    // a note that reads like the old one, with no code: nothing
    transitionCompartment(s.ctx, l.compartmentNo, { to: 'occupied', actor: kioskActor('k1'), note: 'closed with the document still inside' });
    expect(lastDoorNotice(s.ctx, l.requestId, 'loaded')).toBeNull();
    s.close();
  });

  it('an existing database keeps what its notes said: the migration records the code for them once', () => {
    const dir = tempDir();
    const clock = new FakeClock();
    const before = MIGRATIONS.findIndex((m) => m.name === DOOR_OUTCOME_MIGRATION);
    expect(before).toBeGreaterThan(0);
    const old = openTestStore({ dir, clock, migrations: MIGRATIONS.slice(0, before) });
    // a loaded request, written as that schema has it (today's store code needs later columns)
    old.db
      .prepare(`INSERT INTO residents (id, name, mobile, qr_id, created_at, updated_at) VALUES (1, '张三', '13812345678', 'q1', ?, ?)`)
      .run(clock.t, clock.t);
    old.db
      .prepare(
        `INSERT INTO requests (id, number, status_token_hash, resident_id, service_code, state, compartment_no, created_at, updated_at,
                               state_changed_at, loaded_at)
           VALUES (1, 'BB-20250101-0001', ?, 1, 'residence_certificate', 'loaded', NULL, ?, ?, ?, ?)`,
      )
      .run(Buffer.alloc(32, 1), clock.t, clock.t, clock.t, clock.t);
    const l = { requestId: 1 };
    // what the door flows wrote before the code existed: only the audit note
    appendAudit(old.db, clock.t, {
      actor: kioskActor('k1'),
      action: 'compartment.occupied',
      requestId: l.requestId,
      detail: { from: 'open', to: 'occupied', note: 'closed with the document still inside' },
    });
    old.close();
    const s = openTestStore({ dir, clock });
    expect(lastDoorNotice(s.ctx, l.requestId, 'loaded')).toBe('item_not_taken');
    s.close();
  });
});

describe('pageRequests', () => {
  it('pages newest first through the requests of some states, the same as a read of every request, at any page size', async () => {
    const s = openTestStore();
    const res = makeResident(s);
    const staff = staffActor(await makeStaff(s));
    for (let k = 0; k < 40; k++) {
      const { request } = createRequest(s.ctx, { residentId: res.id, serviceCode: 'residence_certificate' }, residentActor(res.id));
      if (k % 5 === 0) transitionRequest(s.ctx, { requestId: request.id, event: 'cancel', actor: residentActor(res.id) });
      else if (k % 3 === 0) transitionRequest(s.ctx, { requestId: request.id, event: 'accept', actor: staff });
    }
    const every = (states: readonly RequestState[]) =>
      s.db
        .prepare<string[], { id: number }>(`SELECT id FROM requests WHERE state IN (${states.map(() => '?').join(', ')}) ORDER BY id DESC`)
        .all(...states)
        .map((r) => r.id);
    for (const states of [['submitted'], ['accepted', 'submitted'], ['cancelled', 'accepted', 'accepted'], ['ready']] as RequestState[][]) {
      for (const limit of [1, 3, 7, 8, 100]) {
        const seen: number[] = [];
        let before: number | undefined;
        for (let calls = 0; calls < 100; calls++) {
          const page = pageRequests(s.ctx, { states, limit, ...(before !== undefined ? { before } : {}) });
          expect(page.requests.length).toBeLessThanOrEqual(limit);
          for (const r of page.requests) expect(states).toContain(r.state);
          seen.push(...page.requests.map((r) => r.id));
          if (page.nextBefore === null) break;
          before = page.nextBefore;
        }
        expect(seen, `${states} limit ${limit}`).toEqual(every(states));
      }
    }
    const first = pageRequests(s.ctx, { states: ['accepted'], limit: 2 }).requests[0]!;
    expect(first).toEqual(getRequest(s.ctx, first.id));
    s.close();
  });
});
