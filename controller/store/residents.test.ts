import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR, staffActor } from '../domain/types.js';
import { listAudit } from './audit.js';
import { createResident, findResidentByIdNumber, revealIdNumber, updateResident } from './residents.js';
import { databaseBytes, openTestStore } from './test-support.js';

const ID = '310115198702143612';

describe('residents', () => {
  it('keeps the ID number encrypted at rest, with a masked form and a keyed lookup', () => {
    const s = openTestStore();
    const r = createResident(
      s.ctx,
      { name: '张三', mobile: '13812345678', idNumber: ID, address: { building: '12号楼', unit: '2', room: '301' } },
      SYSTEM_ACTOR,
    );
    expect(r.idNumberMasked).toBe('310***********3612');
    expect(r.qrId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(JSON.stringify(r)).not.toContain(ID);
    s.db.pragma('wal_checkpoint(PASSIVE)');
    expect(databaseBytes(s.dir).includes(ID)).toBe(false);
    expect(databaseBytes(s.dir).includes('19870214')).toBe(false); // not even the birth date
    expect(findResidentByIdNumber(s.ctx, ID)?.id).toBe(r.id);
    expect(findResidentByIdNumber(s.ctx, '11010519491231002X')).toBeNull();
    s.close();
  });

  it('refuses a second resident with the same ID number, and invalid input with field names', () => {
    const s = openTestStore();
    createResident(s.ctx, { name: '张三', mobile: '13812345678', idNumber: ID }, SYSTEM_ACTOR);
    expect(() => createResident(s.ctx, { name: '李四', mobile: '13912345678', idNumber: ID }, SYSTEM_ACTOR)).toThrow(
      expect.objectContaining({ code: 'DUPLICATE' }),
    );
    expect(() => createResident(s.ctx, { name: '李四', mobile: '12345', idNumber: '310115198702143613' }, SYSTEM_ACTOR)).toThrow(
      expect.objectContaining({ code: 'VALIDATION', said: { key: 'input.mobile_format' }, context: { fields: 'mobile,idNumber' } }),
    );
    s.close();
  });

  it('reveals the full ID number only to staff, with a purpose, and audits it', () => {
    const s = openTestStore();
    const r = createResident(s.ctx, { name: '张三', mobile: '13812345678', idNumber: ID }, SYSTEM_ACTOR);
    expect(() => revealIdNumber(s.ctx, r.id, { kind: 'kiosk', id: 'k' }, 'print')).toThrow();
    expect(revealIdNumber(s.ctx, r.id, staffActor(1), '打印居住证明')).toBe(ID);
    const rows = listAudit(s.db, { action: 'resident.id_number_revealed' });
    expect(rows).toHaveLength(1);
    expect(rows[0]?.detail).toEqual({ residentId: r.id, purpose: '打印居住证明' });
    expect(JSON.stringify(listAudit(s.db))).not.toContain(ID);
    s.close();
  });

  it('updates fields with validation', () => {
    const s = openTestStore();
    const r = createResident(s.ctx, { name: '张三', mobile: '13812345678' }, SYSTEM_ACTOR);
    s.clock.advance(1000);
    const u = updateResident(s.ctx, r.id, { mobile: '13900001111', address: { building: '3', unit: '1', room: '102' } }, SYSTEM_ACTOR);
    expect(u).toMatchObject({
      mobile: '13900001111',
      address: { building: '3', unit: '1', room: '102' },
      updatedAt: r.updatedAt + 1000,
      idNumberMasked: null,
    });
    expect(() => updateResident(s.ctx, r.id, { mobile: '123' }, SYSTEM_ACTOR)).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
    s.close();
  });
});
