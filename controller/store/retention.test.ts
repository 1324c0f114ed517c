import { afterEach, describe, expect, it } from 'vitest';
import { residentActor, staffActor } from '../domain/types.js';
import { createRequest, findResidentByQrId, getResident, listAudit, listNotifications, requireRequest, transitionRequest } from './index.js';
import { eraseResident, erasePersonalData, ERASED_NAME } from './retention.js';
import { databaseBytes, loadedRequest, makeResident, makeStaff, openTestStore, type TestStore } from './test-support.js';

const DAY = 86_400_000;
let s: TestStore;
afterEach(() => s.close());

describe('personal data retention', () => {
  it('erases a resident whose requests all ended long ago, keeping the anonymous records', async () => {
    s = openTestStore();
    const { resident, requestId } = await loadedRequest(s);
    transitionRequest(s.ctx, { requestId, event: 'collect', actor: residentActor(resident.id) });
    const before = getResident(s.ctx, resident.id)!;
    expect(findResidentByQrId(s.ctx, before.qrId)?.id).toBe(resident.id);

    s.clock.advance(179 * DAY);
    expect(erasePersonalData(s.ctx, 180 * DAY)).toBe(0);
    s.clock.advance(2 * DAY);
    expect(erasePersonalData(s.ctx, 180 * DAY)).toBe(1);

    const after = getResident(s.ctx, resident.id)!;
    expect(after).toMatchObject({ name: ERASED_NAME, idNumberMasked: null, address: null });
    expect(after.mobile).not.toBe(before.mobile);
    expect(findResidentByQrId(s.ctx, before.qrId)).toBeNull();
    expect(requireRequest(s.ctx, requestId)).toMatchObject({ state: 'collected', number: expect.stringMatching(/^BB-/) });
    expect(listAudit(s.db, { action: 'resident.erased' })).toHaveLength(1);
    // Nothing of the person is left in the database files.
    s.db.pragma('wal_checkpoint(TRUNCATE)');
    const bytes = databaseBytes(s.dir);
    expect(bytes).not.toContain(before.mobile);
    expect(bytes.includes(before.name)).toBe(false);
    expect(bytes).not.toContain(before.idNumberMasked!);
    // Erasing again changes nothing.
    expect(erasePersonalData(s.ctx, 180 * DAY)).toBe(0);
  });

  it('never touches a resident with a request still open, however old the others are', async () => {
    s = openTestStore();
    const staff = staffActor(await makeStaff(s));
    const resident = makeResident(s);
    const old = createRequest(s.ctx, { residentId: resident.id, serviceCode: 'residence_certificate' }, residentActor(resident.id)).request;
    transitionRequest(s.ctx, { requestId: old.id, event: 'reject', actor: staff, reason: '不在本社区' });
    createRequest(s.ctx, { residentId: resident.id, serviceCode: 'elderly_benefit' }, residentActor(resident.id));
    s.clock.advance(400 * DAY);
    expect(erasePersonalData(s.ctx, 180 * DAY)).toBe(0);
    expect(eraseResident(s.ctx, resident.id)).toBe(false);
    expect(getResident(s.ctx, resident.id)).toMatchObject({ name: resident.name, mobile: resident.mobile, idNumberMasked: resident.idNumberMasked });
  });

  it('cancels messages still owed to an erased resident', async () => {
    s = openTestStore();
    const staff = staffActor(await makeStaff(s));
    const resident = makeResident(s);
    const r = createRequest(s.ctx, { residentId: resident.id, serviceCode: 'residence_certificate' }, residentActor(resident.id)).request;
    transitionRequest(s.ctx, { requestId: r.id, event: 'reject', actor: staff, reason: '材料不全' });
    expect(listNotifications(s.ctx, { requestId: r.id }).map((n) => n.status)).toEqual(['pending']);
    s.clock.advance(200 * DAY);
    expect(erasePersonalData(s.ctx, 180 * DAY)).toBe(1);
    expect(listNotifications(s.ctx, { requestId: r.id }).map((n) => n.status)).toEqual(['cancelled']);
  });
});
