import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR, kioskActor, residentActor, staffActor } from '../domain/types.js';
import { getCounter } from './attempts.js';
import { listAudit } from './audit.js';
import {
  activeCredentials,
  codeHash,
  issueCredential,
  makeRequestQrToken,
  makeResidentQrToken,
  parseRequestQrToken,
  parseResidentQrToken,
  resolveResidentQr,
  verifyCode,
  verifyRequestQr,
} from './credentials.js';
import { listNotifications } from './outbox.js';
import { createRequest, issueDepositCode, reissuePickupCode, transitionRequest } from './requests.js';
import { rotateResidentQrId } from './residents.js';
import { databaseBytes, loadedRequest, makeResident, openTestStore } from './test-support.js';

const last4 = (mobile: string) => mobile.slice(-4);
const wrong4 = (mobile: string) => String((Number(mobile.slice(-4)) + 1) % 10000).padStart(4, '0');

describe('pickup codes', () => {
  it('are 8 digits, and never stored in clear anywhere in the database files', async () => {
    const s = openTestStore();
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) codes.push((await loadedRequest(s)).code);
    for (const c of codes) expect(c).toMatch(/^\d{8}$/);
    s.db.pragma('wal_checkpoint(PASSIVE)');
    const bytes = databaseBytes(s.dir);
    expect(bytes.length).toBeGreaterThan(4096);
    for (const c of codes) {
      expect(bytes.includes(c)).toBe(false);
      // not in the spaced form the message text uses either
      expect(bytes.includes(`${c.slice(0, 4)} ${c.slice(4)}`)).toBe(false);
    }
    // but the keyed hash is what is stored
    const stored = s.db.prepare('SELECT code_hash FROM credentials').all() as { code_hash: Buffer }[];
    expect(stored.map((r) => r.code_hash.toString('hex')).sort()).toEqual(codes.map((c) => codeHash(s.keys, c).toString('hex')).sort());
    s.close();
  });

  it('verify with the right phone digits; wrong digits or a wrong code give the same "invalid"', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    const ok = verifyCode(s.ctx, { code: l.code, phoneLast4: last4(l.resident.mobile), deviceId: 'kiosk-1' });
    expect(ok).toMatchObject({ ok: true, requestId: l.requestId, purpose: 'pickup', compartmentNo: l.compartmentNo, residentId: l.resident.id });
    expect(verifyCode(s.ctx, { code: l.code, phoneLast4: wrong4(l.resident.mobile), deviceId: 'kiosk-1' })).toMatchObject({
      ok: false,
      reason: 'invalid',
    });
    const otherCode = l.code === '00000000' ? '00000001' : '00000000';
    expect(verifyCode(s.ctx, { code: otherCode, phoneLast4: last4(l.resident.mobile), deviceId: 'kiosk-1' })).toMatchObject({
      ok: false,
      reason: 'invalid',
    });
    expect(verifyCode(s.ctx, { code: '1234', phoneLast4: '1', deviceId: 'kiosk-1' })).toEqual({ ok: false, reason: 'malformed' });
    expect(getCounter(s.db, 'device', 'kiosk-1').consecutive).toBe(2);
    s.close();
  });

  it('is revoked by the collection: a second use fails', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    const args = { code: l.code, phoneLast4: last4(l.resident.mobile), deviceId: 'kiosk-1' };
    expect(verifyCode(s.ctx, args).ok).toBe(true);
    transitionRequest(s.ctx, { requestId: l.requestId, event: 'collect', actor: kioskActor('kiosk-1') });
    expect(verifyCode(s.ctx, args)).toMatchObject({ ok: false, reason: 'invalid' });
    expect(activeCredentials(s.ctx, l.requestId)).toEqual([]);
    s.close();
  });

  it('stays valid when the item becomes overdue, ends when staff retrieve it', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    const args = { code: l.code, phoneLast4: last4(l.resident.mobile), deviceId: 'kiosk-1' };
    transitionRequest(s.ctx, { requestId: l.requestId, event: 'mark_overdue', actor: SYSTEM_ACTOR });
    expect(verifyCode(s.ctx, args).ok).toBe(true);
    transitionRequest(s.ctx, { requestId: l.requestId, event: 'retrieve', actor: staffActor(l.staffId) });
    expect(verifyCode(s.ctx, args).ok).toBe(false);
    s.close();
  });

  it('a re-issued code replaces the old one, and the old message with it', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    const re = reissuePickupCode(s.ctx, l.requestId, staffActor(l.staffId));
    expect(re.code).toMatch(/^\d{8}$/);
    expect(verifyCode(s.ctx, { code: l.code, phoneLast4: last4(l.resident.mobile), deviceId: 'k' }).ok).toBe(l.code === re.code);
    expect(verifyCode(s.ctx, { code: re.code, phoneLast4: last4(l.resident.mobile), deviceId: 'k' }).ok).toBe(true);
    const msgs = listNotifications(s.ctx, { requestId: l.requestId });
    expect(msgs.map((m) => [m.kind, m.status, m.hasSecret])).toEqual([
      ['ready_with_code', 'cancelled', false],
      ['ready_with_code', 'pending', true],
    ]);
    s.close();
  });

  it('draws again when a code is already active for another request', async () => {
    const s = openTestStore();
    const a = await loadedRequest(s);
    const b = makeResident(s);
    const { request } = createRequest(s.ctx, { residentId: b.id, serviceCode: 'family_relationship' }, residentActor(b.id));
    const draws = [a.code, a.code, '87654321'];
    const issued = issueCredential(s.ctx, { requestId: request.id, purpose: 'deposit' }, SYSTEM_ACTOR, () => draws.shift() ?? '11111111');
    expect(issued.code).toBe(a.code === '87654321' ? '11111111' : '87654321');
    s.close();
  });
});

describe('failed-attempt lockout', () => {
  it('wrong typed codes cost the kiosk a short growing wait (at most 30 s), never a lock-out; valid QR scans are never refused for them; across a power cycle', async () => {
    let s = openTestStore();
    const l = await loadedRequest(s);
    const wrongCode = l.code === '00000000' ? '00000001' : '00000000';
    const bad = (i: number) => ({ code: wrongCode, phoneLast4: String(1000 + i), deviceId: 'kiosk-1' });
    const good = { code: l.code, phoneLast4: last4(l.resident.mobile), deviceId: 'kiosk-1' };
    for (let i = 0; i < 2; i++) expect(verifyCode(s.ctx, bad(i))).toEqual({ ok: false, reason: 'invalid', triesLeft: 2 - i });
    expect(verifyCode(s.ctx, bad(2))).toEqual({ ok: false, reason: 'locked', retryAfterMs: 5_000 });

    s = s.reopen(); // power cycle: the wait is still there
    expect(verifyCode(s.ctx, good)).toEqual({ ok: false, reason: 'locked', retryAfterMs: 5_000 });
    // the next person's valid QR codes open at once on the same kiosk
    const credentialId = l.load.issued?.credentialId ?? -1;
    expect(
      verifyRequestQr(s.ctx, { token: makeRequestQrToken(s.keys, { requestId: l.requestId, credentialId, purpose: 'pickup' }), deviceId: 'kiosk-1' })
        .ok,
    ).toBe(true);
    expect(resolveResidentQr(s.ctx, { token: makeResidentQrToken(s.keys, l.resident.qrId, s.clock.t), deviceId: 'kiosk-1' }).ok).toBe(true);
    // another kiosk is not affected
    expect(verifyCode(s.ctx, { ...good, deviceId: 'kiosk-2' }).ok).toBe(true);
    s.clock.advance(5_000);
    expect(verifyCode(s.ctx, good).ok).toBe(true);

    // someone keeps guessing: the wait grows, but never past 30 s, so the next person is never locked out
    const waits: number[] = [];
    for (let round = 0; round < 20; round++) {
      let last: ReturnType<typeof verifyCode> = { ok: false, reason: 'invalid' };
      for (let i = 0; i < 3; i++) last = verifyCode(s.ctx, bad(10 + round * 3 + i));
      expect(last).toMatchObject({ ok: false, reason: 'locked' });
      const wait = (last as { retryAfterMs: number }).retryAfterMs;
      waits.push(wait);
      s.clock.advance(wait);
    }
    expect(waits.slice(0, 4)).toEqual([10_000, 20_000, 30_000, 30_000]);
    expect(Math.max(...waits)).toBe(30_000);
    expect(verifyCode(s.ctx, good).ok).toBe(true);
    s.close();
  });

  it('guesses at one phone suffix are limited across kiosks, without touching other residents', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    const other = await loadedRequest(s);
    const suffix = last4(l.resident.mobile);
    let n = 0;
    const wrongCode = (): string => {
      let c: string;
      do c = String(10_000_000 + n++).slice(-8);
      while (c === l.code || c === other.code);
      return c;
    };
    // ten wrong codes with this suffix, each from another kiosk (no kiosk waits)
    for (let i = 0; i < 10; i++) verifyCode(s.ctx, { code: wrongCode(), phoneLast4: suffix, deviceId: `kiosk-${i}` });
    const refused = verifyCode(s.ctx, { code: l.code, phoneLast4: suffix, deviceId: 'kiosk-new' });
    expect(refused).toMatchObject({ ok: false, reason: 'locked' });
    if (last4(other.resident.mobile) !== suffix) {
      expect(verifyCode(s.ctx, { code: other.code, phoneLast4: last4(other.resident.mobile), deviceId: 'kiosk-new' }).ok).toBe(true);
    }
    s.clock.advance((refused as { retryAfterMs: number }).retryAfterMs);
    expect(verifyCode(s.ctx, { code: l.code, phoneLast4: suffix, deviceId: 'kiosk-new' }).ok).toBe(true);
    // what is stored is a keyed digest of the suffix, not the digits
    const keys = (s.db.prepare('SELECT key FROM attempt_counters').all() as { key: string }[]).map((r) => r.key);
    expect(keys.some((k) => k.includes(suffix))).toBe(false);
    s.close();
  });

  it('locks the code itself after 5 wrong phone digits, whichever kiosks they came from', async () => {
    let s = openTestStore();
    const l = await loadedRequest(s);
    for (let i = 0; i < 5; i++) {
      expect(verifyCode(s.ctx, { code: l.code, phoneLast4: wrong4(l.resident.mobile), deviceId: `kiosk-${i}` })).toMatchObject({
        ok: false,
        reason: 'invalid',
      });
    }
    s = s.reopen();
    // the right phone digits from a fresh kiosk: still refused while the code is locked, with the same answer
    const good = { code: l.code, phoneLast4: last4(l.resident.mobile), deviceId: 'kiosk-9' };
    expect(verifyCode(s.ctx, good)).toMatchObject({ ok: false, reason: 'invalid' });
    s.clock.advance(60_001);
    expect(verifyCode(s.ctx, { ...good, deviceId: 'kiosk-10' }).ok).toBe(true);
    s.close();
  });

  it('a success does not reset the device counter (no interleaving guesses with one valid code)', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    const bad = { code: l.code, phoneLast4: wrong4(l.resident.mobile), deviceId: 'k' };
    const good = { code: l.code, phoneLast4: last4(l.resident.mobile), deviceId: 'k' };
    for (let i = 0; i < 2; i++) verifyCode(s.ctx, bad);
    expect(verifyCode(s.ctx, good).ok).toBe(true);
    expect(verifyCode(s.ctx, bad)).toMatchObject({ reason: 'locked' });
    s.close();
  });

  it('revokes a code after 100 failures against it (NIST 800-63B)', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    for (let i = 0; i < 100; i++) {
      verifyCode(s.ctx, { code: l.code, phoneLast4: wrong4(l.resident.mobile), deviceId: `device-${i}` });
      s.clock.advance(61 * 60_000); // past any lockout
    }
    expect(activeCredentials(s.ctx, l.requestId)).toEqual([]);
    expect(verifyCode(s.ctx, { code: l.code, phoneLast4: last4(l.resident.mobile), deviceId: 'fresh' }).ok).toBe(false);
    s.close();
  });
});

describe('QR tokens', () => {
  it('a request token is compact base64url, opens the credential, and stops working after collection', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    const credentialId = l.load.issued?.credentialId ?? -1;
    const token = makeRequestQrToken(s.keys, { requestId: l.requestId, credentialId, purpose: 'pickup' });
    expect(token).toMatch(/^[A-Za-z0-9_-]{35}$/);
    expect(parseRequestQrToken(s.keys, token)).toEqual({ requestId: l.requestId, credentialId, purpose: 'pickup' });
    expect(verifyRequestQr(s.ctx, { token, deviceId: 'k' })).toMatchObject({ ok: true, requestId: l.requestId });
    transitionRequest(s.ctx, { requestId: l.requestId, event: 'collect', actor: kioskActor('k') });
    expect(verifyRequestQr(s.ctx, { token, deviceId: 'k' })).toEqual({ ok: false, reason: 'revoked' });
    s.close();
  });

  it('a forged or altered token is refused and counted; purpose cannot be swapped', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    const credentialId = l.load.issued?.credentialId ?? -1;
    const token = makeRequestQrToken(s.keys, { requestId: l.requestId, credentialId, purpose: 'pickup' });
    const raw = Buffer.from(token, 'base64url');
    raw[5] = (raw[5] ?? 0) ^ 1; // another request id, same signature
    expect(verifyRequestQr(s.ctx, { token: raw.toString('base64url'), deviceId: 'k' })).toEqual({ ok: false, reason: 'invalid' });
    const asDeposit = makeRequestQrToken(s.keys, { requestId: l.requestId, credentialId, purpose: 'deposit' });
    expect(verifyRequestQr(s.ctx, { token: asDeposit, deviceId: 'k' })).toEqual({ ok: false, reason: 'revoked' });
    expect(verifyRequestQr(s.ctx, { token: 'not a token', deviceId: 'k' })).toEqual({ ok: false, reason: 'invalid' });
    // audited, but a scan never slows the kiosk down: forging a 128-bit signature is not a guessing game
    expect(listAudit(s.db, { action: 'credential.verify_failed' }).filter((a) => a.detail.via === 'qr')).toHaveLength(3);
    expect(getCounter(s.db, 'device', 'k').consecutive).toBe(0);
    s.close();
  });

  it("a resident's QR finds every waiting document with one scan, and rotation ends the old QR", async () => {
    const s = openTestStore();
    const first = await loadedRequest(s);
    const second = await loadedRequest(s, first.resident, first.staffId);
    const other = await loadedRequest(s);
    const { request: dropOff } = createRequest(
      s.ctx,
      { residentId: first.resident.id, serviceCode: 'family_relationship' },
      residentActor(first.resident.id),
    );
    issueDepositCode(s.ctx, dropOff.id, residentActor(first.resident.id));
    const token = makeResidentQrToken(s.keys, first.resident.qrId, s.clock.t);
    expect(token).toMatch(/^[A-Za-z0-9_-]{51}$/);
    const scan = resolveResidentQr(s.ctx, { token, deviceId: 'k' });
    expect(scan.ok).toBe(true);
    if (!scan.ok) return;
    expect(scan.resident.id).toBe(first.resident.id);
    expect(scan.waiting.map((w) => [w.requestId, w.purpose])).toEqual([
      [first.requestId, 'pickup'],
      [second.requestId, 'pickup'],
      [dropOff.id, 'deposit'],
    ]);
    expect(scan.waiting.some((w) => w.requestId === other.requestId)).toBe(false);
    rotateResidentQrId(s.ctx, first.resident.id, staffActor(first.staffId));
    expect(resolveResidentQr(s.ctx, { token, deviceId: 'k' })).toEqual({ ok: false, reason: 'revoked' });
    s.close();
  });

  it('a resident QR expires 30 days after it was issued (a photographed one does not open every future document)', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    const token = makeResidentQrToken(s.keys, l.resident.qrId, s.clock.t);
    expect(parseResidentQrToken(s.keys, token)).toEqual({ qrId: l.resident.qrId, issuedAt: s.clock.t - (s.clock.t % 60_000) });
    s.clock.advance(29 * 24 * 3600_000);
    expect(resolveResidentQr(s.ctx, { token, deviceId: 'k' }).ok).toBe(true);
    s.clock.advance(2 * 24 * 3600_000);
    expect(resolveResidentQr(s.ctx, { token, deviceId: 'k' })).toEqual({ ok: false, reason: 'revoked' });
    expect(listAudit(s.db, { action: 'resident.qr_rejected' }).at(-1)?.detail).toMatchObject({ expired: true });
    // a freshly issued one for the same identity works
    expect(resolveResidentQr(s.ctx, { token: makeResidentQrToken(s.keys, l.resident.qrId, s.clock.t), deviceId: 'k' }).ok).toBe(true);
    s.close();
  });
});
