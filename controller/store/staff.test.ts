import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR, staffActor } from '../domain/types.js';
import { listAudit } from './audit.js';
import {
  createStaff,
  DEFAULT_SCRYPT,
  ensureInitialAdmin,
  hashPin,
  listStaff,
  pinProblem,
  setStaffDisabled,
  setStaffPin,
  verifyPinHash,
  verifyStaffPin,
} from './staff.js';
import { databaseBytes, FAST_SCRYPT, openTestStore } from './test-support.js';

describe('PIN hashing (scrypt)', () => {
  it('verifies the right PIN and refuses a wrong one; parameters travel with the hash', async () => {
    const h = await hashPin('482915');
    expect(h).toMatch(new RegExp(`^scrypt\\$${DEFAULT_SCRYPT.N}\\$8\\$1\\$[A-Za-z0-9_-]{22}\\$[A-Za-z0-9_-]{43}$`));
    expect(await verifyPinHash('482915', h)).toBe(true);
    expect(await verifyPinHash('482916', h)).toBe(false);
    expect(await hashPin('482915')).not.toBe(h); // random salt
    expect(await verifyPinHash('482915', h.replace('scrypt$32768', 'scrypt$1073741824'))).toBe(false); // absurd N refused
    expect(await verifyPinHash('482915', 'garbage')).toBe(false);
  });

  it('refuses weak PINs', () => {
    expect(pinProblem('1234')).not.toBeNull();
    expect(pinProblem('111111')).not.toBeNull();
    expect(pinProblem('123456')).not.toBeNull();
    expect(pinProblem('654321')).not.toBeNull();
    expect(pinProblem('482915')).toBeNull();
  });
});

describe('staff accounts', () => {
  it('creates the first admin once, with a random 8-digit PIN that is not stored', async () => {
    let s = openTestStore();
    const first = await ensureInitialAdmin(s.ctx, FAST_SCRYPT);
    expect(first?.login).toBe('admin');
    expect(first?.pin).toMatch(/^\d{8}$/);
    expect(await ensureInitialAdmin(s.ctx, FAST_SCRYPT)).toBeNull();
    s = s.reopen();
    expect(await ensureInitialAdmin(s.ctx, FAST_SCRYPT)).toBeNull();
    const all = listStaff(s.ctx);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ login: 'admin', role: 'admin', mustChangePin: true, disabled: false });
    expect(listAudit(s.db, { action: 'staff.initial_admin_created' })).toHaveLength(1);
    s.db.pragma('wal_checkpoint(PASSIVE)');
    expect(databaseBytes(s.dir).includes(first?.pin ?? 'none')).toBe(false);
    const login = await verifyStaffPin(s.ctx, { login: 'admin', pin: first?.pin ?? '', deviceId: 'k' });
    expect(login.ok).toBe(true);
    s.close();
  });

  it('logs in with the right PIN; wrong PIN, unknown login and disabled account all answer "invalid"', async () => {
    const s = openTestStore();
    const admin = await createStaff(s.ctx, { login: 'boss', name: '王主任', role: 'admin', pin: '482915' }, SYSTEM_ACTOR, FAST_SCRYPT);
    const st = await createStaff(s.ctx, { login: 'li', name: '李四', role: 'staff', pin: '739164' }, staffActor(admin.id), FAST_SCRYPT);
    expect(await verifyStaffPin(s.ctx, { login: 'li', pin: '739164', deviceId: 'k' })).toMatchObject({ ok: true, staff: { id: st.id } });
    expect(await verifyStaffPin(s.ctx, { login: 'li', pin: '739165', deviceId: 'k' })).toEqual({ ok: false, reason: 'invalid' });
    expect(await verifyStaffPin(s.ctx, { login: 'nobody', pin: '739164', deviceId: 'k' })).toEqual({ ok: false, reason: 'invalid' });
    setStaffDisabled(s.ctx, st.id, true, staffActor(admin.id));
    expect(await verifyStaffPin(s.ctx, { login: 'li', pin: '739164', deviceId: 'k2' })).toEqual({ ok: false, reason: 'invalid' });
    expect(() => setStaffDisabled(s.ctx, admin.id, true, staffActor(admin.id))).toThrow(/last enabled administrator/);
    await expect(createStaff(s.ctx, { login: 'li', name: 'x', role: 'staff', pin: '739164' }, SYSTEM_ACTOR, FAST_SCRYPT)).rejects.toMatchObject({
      code: 'DUPLICATE',
    });
    s.close();
  });

  it('wrong PINs lock the address they come from, and only slow the account down (at most 60 s) for everyone else, across a restart', async () => {
    let s = openTestStore();
    const st = await createStaff(s.ctx, { login: 'li', name: '李四', role: 'staff', pin: '739164' }, SYSTEM_ACTOR, FAST_SCRYPT);
    const attacker = 'http:10.0.0.66';
    for (let i = 0; i < 4; i++)
      expect(await verifyStaffPin(s.ctx, { login: 'li', pin: '000001', deviceId: attacker })).toEqual({ ok: false, reason: 'invalid' });
    expect(await verifyStaffPin(s.ctx, { login: 'li', pin: '000001', deviceId: attacker })).toEqual({
      ok: false,
      reason: 'locked',
      retryAfterMs: 60_000,
    });
    s = s.reopen();
    // the attacker's address stays locked, even with the right PIN
    expect(await verifyStaffPin(s.ctx, { login: 'li', pin: '739164', deviceId: attacker })).toMatchObject({ ok: false, reason: 'locked' });
    // the owner, from their own desk, waits a few seconds at most
    const own = await verifyStaffPin(s.ctx, { login: 'li', pin: '739164', deviceId: 'http:10.0.0.5' });
    expect(own).toEqual({ ok: false, reason: 'locked', retryAfterMs: 5_000 });
    s.clock.advance(5_000);
    expect((await verifyStaffPin(s.ctx, { login: 'li', pin: '739164', deviceId: 'http:10.0.0.5' })).ok).toBe(true);

    // guesses from many addresses: the account's wait grows, never past 60 s
    const waits: number[] = [];
    for (let a = 0; a < 60; a++) {
      const r = await verifyStaffPin(s.ctx, { login: 'li', pin: '000002', deviceId: `http:10.1.0.${a}` });
      if (!r.ok && r.reason === 'locked') {
        waits.push(r.retryAfterMs);
        s.clock.advance(r.retryAfterMs);
      }
    }
    expect(waits.length).toBeGreaterThan(5);
    expect(Math.max(...waits)).toBe(60_000);
    expect((await verifyStaffPin(s.ctx, { login: 'li', pin: '739164', deviceId: 'http:10.0.0.5' })).ok).toBe(true);

    await setStaffPin(s.ctx, st.id, '592736', staffActor(st.id), FAST_SCRYPT);
    expect((await verifyStaffPin(s.ctx, { login: 'li', pin: '592736', deviceId: 'other' })).ok).toBe(true);
    expect((await verifyStaffPin(s.ctx, { login: 'li', pin: '739164', deviceId: 'other' })).ok).toBe(false);
    s.close();
  });
});
