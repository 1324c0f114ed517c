/**
 * The phone side against the real app: submitting (validation names the field and writes nothing), the
 * masked status page, binding a phone to its resident, and the QR images (read back module by module).
 */
import { say } from '../words/catalogue.js';
import type { Said, WordKey } from '../words/keys.js';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { staffActor } from '../domain/types.js';
import { makeRequestQrToken, parseResidentQrToken, reserveCompartment, transitionRequest, activeCredentials } from '../store/index.js';
import { FakeClock } from '../store/test-support.js';
import { startTestApp, uniqueIdNumber, type TestApp } from '../../test/app-harness.js';
import { hasCommand, waitFor } from '../../test/harness.js';
import { expectedModules, pngModules, segmentsText, svgModules } from '../../test/qr-decode.js';

let h: TestApp;
beforeEach(async () => {
  h = await startTestApp();
});
afterEach(async () => {
  await h.close();
});

const count = (table: string): number => (h.store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

function validBody(over: Record<string, unknown> = {}) {
  return {
    name: '张三',
    mobile: '13812345678',
    idNumber: uniqueIdNumber(7),
    address: { building: '12号楼', unit: '2', room: '301' },
    serviceCode: 'residence_certificate',
    ...over,
  };
}

describe('GET /api/services', () => {
  it('lists the enabled catalogue with what each item needs', async () => {
    const r = await h.api.get('/api/services');
    expect(r.status).toBe(200);
    const rc = r.body.services.find((s: { code: string }) => s.code === 'residence_certificate');
    expect(rc).toEqual({
      code: 'residence_certificate',
      nameZh: '居住证明',
      nameEn: 'Residence certificate',
      needs: { idNumber: true, address: true },
      needsMaterials: false,
    });
    expect(r.body.services.find((s: { code: string }) => s.code === 'family_relationship').needsMaterials).toBe(true);
  });
});

describe('POST /api/requests validation', () => {
  const cases: [string, Record<string, unknown>, string, WordKey][] = [
    ['a mobile number of the wrong shape', { mobile: '12812345678' }, 'mobile', 'input.mobile_format'],
    [
      'an ID number with a wrong check digit',
      { idNumber: uniqueIdNumber(7).slice(0, 17) + (uniqueIdNumber(7).endsWith('1') ? '2' : '1') },
      'idNumber',
      'input.id_number_check_digit',
    ],
    ['an address without the room', { address: { building: '12号楼', unit: '2' } }, 'address.room', 'input.room_required'],
    ['a name with digits', { name: '张3' }, 'name', 'input.name_characters'],
  ];
  for (const [what, over, field, message] of cases) {
    it(`refuses ${what}, naming the field, and writes nothing`, async () => {
      const r = await h.api.post('/api/requests', { body: validBody(over) });
      expect(r.status).toBe(400);
      expect(r.body.error.field).toBe(field);
      expect(r.body.error.key).toBe(message);
      expect(r.body.error.message).toBe(say({ key: message } as Said));
      expect([count('residents'), count('requests')]).toEqual([0, 0]);
    });
  }

  it('names every wrong field of a body at once in `fields`, the first one also as `field`, and writes nothing', async () => {
    const r = await h.api.post('/api/requests', { body: validBody({ name: '张3', mobile: '123', address: { building: '12号楼', unit: '2' } }) });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('BAD_INPUT');
    const fields = r.body.error.fields as { field: string; message: string }[];
    expect(fields.map((f) => f.field)).toEqual(['name', 'mobile', 'address.room']);
    expect(r.body.error.field).toBe('name');
    expect(fields[0]?.message).toMatch(/姓名只能包含汉字或字母/);
    expect(fields[2]).toMatchObject({ key: 'input.room_required', message: '请填写房号' });
    expect(fields.every((f) => !f.message.startsWith(`${f.field}: `))).toBe(true);
    expect([count('residents'), count('requests')]).toEqual([0, 0]);
  });

  it('refuses a missing address when the service needs one, and an unknown service', async () => {
    const auditBefore = count('audit_log');
    const { address: _a, ...noAddress } = validBody();
    const r1 = await h.api.post('/api/requests', { body: noAddress });
    expect(r1.status).toBe(400);
    expect(r1.body.error).toMatchObject({ code: 'BAD_INPUT', field: 'address' });
    expect(r1.body.error).toMatchObject({ key: 'submit.needs_address', message: '办理这个事项需要填写住址（楼号、单元、房号）' });
    const inEnglish = await h.api.post('/api/requests', { body: noAddress, headers: { 'accept-language': 'en-US,en;q=0.9' } });
    expect(inEnglish.body.error.message).toBe('This service needs your address (building, unit, room).');

    const { idNumber: _i, ...noId } = validBody();
    const r2 = await h.api.post('/api/requests', { body: noId });
    expect(r2.body.error).toMatchObject({ code: 'BAD_INPUT', field: 'idNumber' });

    const r3 = await h.api.post('/api/requests', { body: validBody({ serviceCode: 'flying_licence' }) });
    expect(r3.status).toBe(400);
    expect(r3.body.error).toMatchObject({ code: 'UNKNOWN_SERVICE', field: 'serviceCode' });
    expect([count('residents'), count('requests'), count('audit_log')]).toEqual([0, 0, auditBefore]);
  });

  it('answers garbage, oversized and empty bodies in the one error shape', async () => {
    const garbage = await h.api.post('/api/requests', { rawBody: '{"name": "张三",' });
    expect(garbage.status).toBe(400);
    expect(garbage.body.error.code).toBe('BAD_JSON');
    const big = await h.api.post('/api/requests', { rawBody: JSON.stringify({ ...validBody(), note: 'x'.repeat(40_000) }) });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('TOO_LARGE');
    const empty = await h.api.post('/api/requests', { body: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.error.field).toBe('name');
    const array = await h.api.post('/api/requests', { body: [1, 2] });
    expect(array.status).toBe(400);
    expect([count('residents'), count('requests')]).toEqual([0, 0]);
  });

  it('refuses a disabled service with 409 and writes nothing', async () => {
    h.store.db.prepare(`UPDATE service_items SET enabled = 0 WHERE code = 'residence_certificate'`).run();
    const r = await h.api.post('/api/requests', { body: validBody() });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('SERVICE_DISABLED');
    expect(count('residents')).toBe(0);
  });
});

describe('/api/health', () => {
  it('tells anyone the link and doors, but which compartments hold something only this machine and staff', async () => {
    // something in compartment 3 (its sensor reports it)
    h.cabinet.openDoor(3);
    h.cabinet.putItem(3);
    h.cabinet.closeDoor(3);
    await waitFor(() => h.driver.snapshot().compartments[2]?.item === 'present', 'the item sensor of compartment 3');
    const staff = await h.staffSession();
    const full = await staff.api.get('/api/staff/health');
    expect(full.status).toBe(200);
    expect(full.body.compartments[2].item).toBe('present');
    const local = await h.kiosk.get('/api/health');
    expect(local.body.compartments[2].item).toBe('present');

    const pub = await h.api.get('/api/health');
    expect(pub.status).toBe(200);
    expect(pub.body).toMatchObject({ status: 'ok', link: { state: 'online' }, compartmentCount: 24 });
    expect(pub.body.compartments[2]).not.toHaveProperty('item');
    expect(pub.raw.toString('utf8')).not.toMatch(/present|absent/);
    expect((await h.api.get('/api/staff/health')).status).toBe(401);
  });
});

describe('submission limits', () => {
  it('limits submissions per phone number as well as per address (5 an hour per number)', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await h.api.post('/api/requests', { body: validBody({ idNumber: uniqueIdNumber(100 + i), name: `张${'三四五六七'[i]}` }) });
      expect(r.status, `submission ${i + 1}`).toBe(201);
    }
    const sixth = await h.api.post('/api/requests', { body: validBody({ idNumber: uniqueIdNumber(200), name: '王五' }) });
    expect(sixth.status).toBe(429);
    expect(sixth.body.error.code).toBe('TOO_MANY_REQUESTS');
    expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThan(0);
    // another number from the same address still gets through
    expect(
      (await h.api.post('/api/requests', { body: validBody({ mobile: '13912345678', idNumber: uniqueIdNumber(201), name: '赵六' }) })).status,
    ).toBe(201);
  });

  it('limits submissions in total across the cabinet (SUBMIT_MAX_PER_HOUR), whatever the address and number', async () => {
    await h.close();
    h = await startTestApp({ env: { SUBMIT_MAX_PER_HOUR: '3' } });
    const body = (i: number) => validBody({ mobile: `1391234567${i}`, idNumber: uniqueIdNumber(300 + i), name: `李${'一二三四五'[i]}` });
    for (let i = 0; i < 3; i++) expect((await h.api.post('/api/requests', { body: body(i) })).status, `submission ${i + 1}`).toBe(201);
    const before = count('requests');
    const fourth = await h.api.post('/api/requests', { body: body(3) });
    expect(fourth.status).toBe(429);
    expect(fourth.body.error.code).toBe('TOO_MANY_REQUESTS');
    expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(count('requests')).toBe(before);
  });

  it('a wall clock set forward (or back) opens no fresh window: the limits count on the monotonic clock', async () => {
    await h.close();
    const wall = new FakeClock(Date.now());
    h = await startTestApp({ clock: wall, env: { SUBMIT_MAX_PER_HOUR: '2' } });
    const body = (i: number) => validBody({ mobile: `1371234567${i}`, idNumber: uniqueIdNumber(400 + i), name: `周${'一二三四五'[i]}` });
    for (let i = 0; i < 2; i++) expect((await h.api.post('/api/requests', { body: body(i) })).status, `submission ${i + 1}`).toBe(201);
    expect((await h.api.post('/api/requests', { body: body(2) })).status).toBe(429);
    wall.advance(2 * 3_600_000); // an operator or NTP moves the clock two hours ahead
    const before = count('requests');
    expect((await h.api.post('/api/requests', { body: body(3) })).status).toBe(429);
    wall.advance(-4 * 3_600_000); // and then two hours behind where it was
    expect((await h.api.post('/api/requests', { body: body(4) })).status).toBe(429);
    expect(count('requests')).toBe(before);
  });
});

describe('the resident QR: renewed from the phone, rotated by staff for a lost phone', () => {
  it('the phone renews it: a new token with its expiry, the old one stops working at once', async () => {
    const first = await h.api.post('/api/requests', { body: validBody() });
    expect(first.status).toBe(201);
    const old = first.body.residentToken as string;
    const r = await h.api.post('/api/residents/token', { body: { residentToken: old } });
    expect(r.status).toBe(200);
    expect(r.body.residentToken).not.toBe(old);
    expect(Date.parse(r.body.expiresAt)).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    expect(r.body.residentQrUrl).toBe(`${h.url}/api/residents/qr.svg?token=${r.body.residentToken}`);
    expect((await h.api.get('/api/residents/qr.svg', { query: { token: old } })).status).toBe(404);
    expect((await h.api.get('/api/residents/qr.svg', { query: { token: r.body.residentToken } })).status).toBe(200);
    // the old one cannot renew itself again (whoever renews first wins; the other goes to the office)
    expect((await h.api.post('/api/residents/token', { body: { residentToken: old } })).status).toBe(404);
    // a later submission with the current token binds and answers a fresh token again
    const again = await h.api.post('/api/requests', { body: { ...validBody(), residentToken: r.body.residentToken } });
    expect(again.status).toBe(201);
    expect(again.body.residentToken).not.toBe(r.body.residentToken);
    expect((await h.api.get('/api/residents/qr.svg', { query: { token: r.body.residentToken } })).status).toBe(404);
  });

  it('staff rotate it for a lost phone (audited); the lost phone’s QR stops working', async () => {
    const first = await h.api.post('/api/requests', { body: validBody() });
    const staff = await h.staffSession();
    const residentId = (h.store.db.prepare('SELECT resident_id AS id FROM requests WHERE id = ?').get(first.body.requestId) as { id: number }).id;
    const r = await staff.api.post(`/api/staff/residents/${residentId}/qr/rotate`);
    expect(r.status).toBe(200);
    expect((await h.api.get('/api/residents/qr.svg', { query: { token: first.body.residentToken } })).status).toBe(404);
    expect(h.store.db.prepare(`SELECT count(*) AS n FROM audit_log WHERE action = 'resident.qr_rotated'`).get()).toEqual({ n: 1 });
    expect((await h.api.post(`/api/staff/residents/999999/qr/rotate`, { unrouted: false })).status).toBe(401);
    expect((await staff.api.post(`/api/staff/residents/999999/qr/rotate`)).status).toBe(404);
  });
});

describe('submitting and following a request', () => {
  it('creates resident and request, and the status page shows it masked', async () => {
    const r = await h.api.post('/api/requests', { body: { ...validBody(), note: '用于孩子入学' } });
    expect(r.status).toBe(201);
    expect(r.body.number).toMatch(/^BB-\d{8}-0001$/);
    expect(r.body.state).toBe('submitted');
    expect(r.body.statusUrl).toBe(`${h.url}/m/status/${r.body.statusToken}`);
    expect(r.body.residentQrUrl).toBe(`${h.url}/api/residents/qr.svg?token=${r.body.residentToken}`);
    expect(parseResidentQrToken(h.store.keys, r.body.residentToken)).not.toBeNull();
    // the phone page's token is stored only as a hash
    expect(h.store.db.prepare('SELECT count(*) AS n FROM requests WHERE status_token_hash = ?').get(Buffer.from(r.body.statusToken))).toEqual({
      n: 0,
    });

    const s = await h.api.get(`/api/requests/status/${r.body.statusToken}`);
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({
      number: r.body.number,
      service: { code: 'residence_certificate', nameZh: '居住证明' },
      state: 'submitted',
      stateText: { zh: '已提交，等待工作人员受理', en: 'Submitted, waiting for staff' },
      mobileMasked: '138********',
      compartmentNo: null,
      pickupQrUrl: null,
    });
    const text = s.raw.toString('utf8');
    expect(text).not.toContain('13812345678');
    // the last 4 digits are the second pickup factor: a forwarded status link must not give them away
    expect(text).not.toContain('5678');
    expect(text).not.toContain(uniqueIdNumber(7));
    expect(text).not.toContain(uniqueIdNumber(7).slice(-4));
    expect(text).not.toContain('张三');

    const none = await h.api.get('/api/requests/status/AAAAAAAAAAAAAAAAAAAAAA');
    expect(none.status).toBe(404);
  });

  it('keeps the phone bound: a second submission with residentToken reuses the resident, without retyping the ID number', async () => {
    const first = await h.api.post('/api/requests', { body: validBody() });
    const { idNumber: _i, address: _a, ...second } = validBody({ serviceCode: 'elderly_benefit', residentToken: first.body.residentToken });
    const r = await h.api.post('/api/requests', { body: second });
    expect(r.status).toBe(201);
    // the same resident, with a renewed token (the old one stops working)
    expect(r.body.residentToken).not.toBe(first.body.residentToken);
    expect(parseResidentQrToken(h.store.keys, first.body.residentToken)?.qrId).not.toBe(
      parseResidentQrToken(h.store.keys, r.body.residentToken)?.qrId,
    );
    expect(count('residents')).toBe(1);
    expect(h.store.db.prepare('SELECT DISTINCT resident_id AS id FROM requests').all()).toHaveLength(1);

    // a changed mobile on the bound phone updates the resident (audited), still one resident
    const third = await h.api.post('/api/requests', {
      body: { ...second, residentToken: r.body.residentToken, serviceCode: 'no_criminal_record_letter', mobile: '13900001111' },
    });
    expect(third.status).toBe(201);
    expect(count('residents')).toBe(1);
    expect(h.store.db.prepare('SELECT mobile FROM residents').get()).toEqual({ mobile: '13900001111' });
    expect(h.store.db.prepare(`SELECT count(*) AS n FROM audit_log WHERE action = 'resident.updated'`).get()).toEqual({ n: 1 });
  });

  it('refuses to turn the bound resident into somebody else (another name or ID number on the same phone)', async () => {
    const first = await h.api.post('/api/requests', { body: validBody() });
    const { idNumber: _i, address: _a, ...bound } = validBody({ residentToken: first.body.residentToken });
    const otherName = await h.api.post('/api/requests', { body: { ...bound, name: '李秀英' } });
    expect(otherName.status).toBe(409);
    expect(otherName.body.error).toMatchObject({ code: 'RESIDENT_MISMATCH', field: 'name' });
    const otherId = await h.api.post('/api/requests', { body: { ...bound, idNumber: uniqueIdNumber(8) } });
    expect(otherId.status).toBe(409);
    expect(otherId.body.error).toMatchObject({ code: 'RESIDENT_MISMATCH', field: 'idNumber' });
    expect(count('requests')).toBe(1);
    expect(h.store.db.prepare('SELECT name FROM residents').all()).toEqual([{ name: validBody().name }]);
    expect(h.store.db.prepare(`SELECT count(*) AS n FROM audit_log WHERE action = 'resident.updated'`).get()).toEqual({ n: 0 });
  });

  it('refuses a forged residentToken', async () => {
    await h.api.post('/api/requests', { body: validBody() });
    const forged = await h.api.post('/api/requests', { body: validBody({ residentToken: 'A'.repeat(46) }) });
    expect(forged.status).toBe(400);
    expect(forged.body.error).toMatchObject({ code: 'RESIDENT_TOKEN_INVALID', field: 'residentToken' });
    expect(count('requests')).toBe(1);
  });
});

describe('an ID number already registered, typed on another phone', () => {
  /** The answer without what differs between any two submissions (ids, numbers, tokens, links). */
  const shape = (r: { status: number; body: Record<string, unknown> }) => ({
    status: r.status,
    keys: Object.keys(r.body).sort(),
    state: r.body.state,
    stateText: r.body.stateText,
  });

  it('is answered exactly like a new resident’s submission: whether a stranger’s ID number is on file is never revealed', async () => {
    const owner = await h.api.post('/api/requests', { body: validBody() });
    const stranger = await h.api.post('/api/requests', { body: validBody({ name: '李秀英', mobile: '13700002222' }) });
    const newcomer = await h.api.post('/api/requests', { body: validBody({ name: '王五', mobile: '13600003333', idNumber: uniqueIdNumber(9) }) });
    expect(newcomer.status).toBe(201);
    expect(shape(stranger)).toEqual(shape(newcomer));
    // their status pages look alike too: the submitter's own masked mobile, nothing of the registered resident
    const held = await h.api.get(`/api/requests/status/${stranger.body.statusToken}`);
    expect(held.body).toMatchObject({ state: 'submitted', mobileMasked: '137********' });
    // the phone is not bound to the registered resident: its token opens nothing of theirs
    const ownerId = parseResidentQrToken(h.store.keys, owner.body.residentToken)?.qrId;
    expect(parseResidentQrToken(h.store.keys, stranger.body.residentToken)?.qrId).not.toBe(ownerId);
    // the registered resident is unchanged: name, mobile, one ID number on file
    expect(h.store.db.prepare('SELECT name, mobile FROM residents WHERE qr_id = ?').get(ownerId)).toEqual({ name: '张三', mobile: '13812345678' });
    expect(h.store.db.prepare('SELECT count(*) AS n FROM residents WHERE id_number_hmac IS NOT NULL').get()).toEqual({ n: 2 });
  });

  it('holds the request for staff: the console names the registered resident, accepting waits until staff confirm who it is', async () => {
    const staff = await h.staffSession();
    const owner = await h.api.post('/api/requests', { body: validBody() });
    const stranger = await h.api.post('/api/requests', { body: validBody({ name: '李秀英', mobile: '13700002222' }) });
    const ownerRow = await staff.api.get(`/api/staff/requests/${owner.body.requestId}`);
    const detail = await staff.api.get(`/api/staff/requests/${stranger.body.requestId}`);
    expect(ownerRow.body.identityCheck).toBeNull();
    expect(detail.body.identityCheck).toEqual({
      residentId: ownerRow.body.residentId,
      residentName: '张三',
      mobileMasked: '138****5678',
      idNumberMasked: ownerRow.body.idNumberMasked,
    });
    const accept = await staff.api.post(`/api/staff/requests/${stranger.body.requestId}/accept`);
    expect(accept.status).toBe(409);
    expect(accept.body.error).toMatchObject({ code: 'TRANSITION_NOT_ALLOWED', key: 'staff.identity_unverified' });
    // staff checked the person's ID card: the request goes to the registered resident, then on as usual
    const confirmed = await staff.api.post(`/api/staff/requests/${stranger.body.requestId}/confirm-identity`);
    expect(confirmed.status).toBe(200);
    const after = await staff.api.get(`/api/staff/requests/${stranger.body.requestId}`);
    expect(after.body).toMatchObject({ identityCheck: null, residentId: ownerRow.body.residentId });
    expect((await staff.api.post(`/api/staff/requests/${stranger.body.requestId}/accept`)).status).toBe(200);
    expect((await staff.api.post(`/api/staff/requests/${owner.body.requestId}/confirm-identity`)).status).toBe(409);
    expect(h.store.db.prepare(`SELECT count(*) AS n FROM audit_log WHERE action = 'request.identity_confirmed'`).get()).toEqual({ n: 1 });
  });

  it('the same phone again, bound to its own record (which has no ID number): held the same way, nothing revealed', async () => {
    await h.api.post('/api/requests', { body: validBody() });
    const first = await h.api.post('/api/requests', { body: validBody({ name: '李秀英', mobile: '13700002222' }) });
    expect(first.status).toBe(201);
    const again = await h.api.post('/api/requests', {
      body: validBody({ name: '李秀英', mobile: '13700002222', serviceCode: 'elderly_benefit', residentToken: first.body.residentToken }),
    });
    expect(again.status).toBe(201);
    expect(again.body.state).toBe('submitted');
    const held = h.store.db.prepare('SELECT identity_check AS c FROM requests ORDER BY id').all() as { c: number | null }[];
    expect(held.map((r) => r.c !== null)).toEqual([false, true, true]);
    expect(h.store.db.prepare('SELECT count(*) AS n FROM residents WHERE id_number_hmac IS NOT NULL').get()).toEqual({ n: 1 });
    expect(count('residents')).toBe(2);
  });

  it('publishes the new request on the event bus', async () => {
    const seen: unknown[] = [];
    h.bus.on('request', (e) => seen.push(e));
    const r = await h.api.post('/api/requests', { body: validBody() });
    expect(seen).toEqual([{ id: r.body.requestId, number: r.body.number, state: 'submitted', from: null }]);
  });
});

describe('QR images', () => {
  function zbar(png: Buffer): string | null {
    if (!hasCommand('zbarimg')) return null;
    const file = path.join(h.dir, 'qr.png');
    fs.writeFileSync(file, png);
    return execFileSync('zbarimg', ['--raw', '-q', file], { encoding: 'utf8' }).trim();
  }

  it('the kiosk shows the submission page link as SVG and PNG', async () => {
    const expected = `${h.url}/m/submit`;
    expect(segmentsText(expected)).toBe(expected);
    const svg = await h.api.get('/api/kiosk/submit-qr.svg');
    expect(svg.status).toBe(200);
    expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(svgModules(svg.raw.toString('utf8'))).toEqual(expectedModules(expected));
    const png = await h.api.get('/api/kiosk/submit-qr.png');
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(pngModules(png.raw)).toEqual(expectedModules(expected));
    const z = zbar(png.raw);
    if (z !== null) expect(z).toBe(expected);
  });

  it('the resident QR encodes the resident token; a bad token is 404', async () => {
    const r = await h.api.post('/api/requests', { body: validBody() });
    const img = await h.api.get('/api/residents/qr.png', { query: { token: r.body.residentToken } });
    expect(img.status).toBe(200);
    expect(img.headers.get('cache-control')).toBe('no-store');
    expect(pngModules(img.raw)).toEqual(expectedModules(r.body.residentToken));
    const svg = await h.api.get('/api/residents/qr.svg', { query: { token: r.body.residentToken } });
    expect(svgModules(svg.raw.toString('utf8'))).toEqual(expectedModules(r.body.residentToken));
    const bad = await h.api.get('/api/residents/qr.svg', { query: { token: 'nonsense' } });
    expect(bad.status).toBe(404);
  });

  it('the pickup QR exists only while the document waits in the cabinet, and encodes the signed request token', async () => {
    const r = await h.api.post('/api/requests', { body: validBody() });
    const token = r.body.statusToken as string;
    const before = await h.api.get(`/api/requests/status/${token}/pickup-qr.svg`);
    expect(before.status).toBe(404);
    expect(before.body.error.code).toBe('NOT_WAITING');

    const ctx = h.store.ctx;
    const staff = staffActor((await h.staffSession()).id);
    const id = r.body.requestId as number;
    transitionRequest(ctx, { requestId: id, event: 'accept', actor: staff });
    transitionRequest(ctx, { requestId: id, event: 'mark_ready', actor: staff });
    reserveCompartment(ctx, { requestId: id, direction: 'for_resident' }, staff);
    transitionRequest(ctx, { requestId: id, event: 'start_load', actor: staff });
    const load = transitionRequest(ctx, { requestId: id, event: 'load_done', actor: staff });

    const s = await h.api.get(`/api/requests/status/${token}`);
    expect(s.body.state).toBe('loaded');
    expect(s.body.compartmentNo).toBe(1);
    expect(s.body.pickupQrUrl).toBe(`${h.url}/api/requests/status/${token}/pickup-qr.svg`);
    // the code itself is never in the answer
    expect(load.issued?.code).toMatch(/^\d{8}$/);
    expect(s.raw.toString('utf8')).not.toContain(load.issued!.code);

    const cred = activeCredentials(ctx, id)[0]!;
    const qrToken = makeRequestQrToken(h.store.keys, { requestId: id, credentialId: cred.credentialId, purpose: 'pickup' });
    const png = await h.api.get(`/api/requests/status/${token}/pickup-qr.png`);
    expect(png.status).toBe(200);
    expect(pngModules(png.raw)).toEqual(expectedModules(qrToken));
    const svg = await h.api.get(`/api/requests/status/${token}/pickup-qr.svg`);
    expect(svgModules(svg.raw.toString('utf8'))).toEqual(expectedModules(qrToken));
    const z = zbar(png.raw);
    if (z !== null) expect(z).toBe(qrToken);
  });
});
