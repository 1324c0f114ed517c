import fc from 'fast-check';
import { say } from '../words/catalogue.js';
import type { Said } from '../words/keys.js';
import { describe, expect, it } from 'vitest';
import {
  hasValidIdCheckDigit,
  idCheckDigit,
  idNumberProblem,
  isValidIdNumber,
  isValidMobile,
  maskIdNumberForKiosk,
  maskIdNumberForStaff,
  maskMobile,
  maskNameForKiosk,
  validate,
  validateResidentInput,
  mobileSchema,
} from './validation.js';

const TODAY = new Date(2025, 2, 14);

describe('ID number (GB 11643)', () => {
  it('accepts known valid numbers, including the X check digit of the standard example', () => {
    for (const id of ['11010519491231002X', '310115198702143612', '440308199911101516', '320583200012290076', '510107196503011236']) {
      expect(idNumberProblem(id, TODAY), id).toBeNull();
    }
    expect(isValidIdNumber('11010519491231002x', TODAY)).toBe(true); // lower-case x is normalized
    expect(idCheckDigit('11010519491231002')).toBe('X');
  });

  it('refuses known invalid numbers with the right reason', () => {
    expect(idNumberProblem('110105194912310021', TODAY)).toBe('check_digit');
    expect(idNumberProblem('310115198702143613', TODAY)).toBe('check_digit');
    expect(idNumberProblem('11010519491231002', TODAY)).toBe('format'); // 17 characters
    expect(idNumberProblem('1101051949123100XX', TODAY)).toBe('format');
    expect(idNumberProblem('01010519491231002X', TODAY)).toBe('region');
    const feb30 = '31011519870230361';
    expect(idNumberProblem(feb30 + idCheckDigit(feb30), TODAY)).toBe('birth_date');
    const future = '31011520300101361';
    expect(idNumberProblem(future + idCheckDigit(future), TODAY)).toBe('birth_date');
    const old = '31011518800101361';
    expect(idNumberProblem(old + idCheckDigit(old), TODAY)).toBe('birth_date');
  });

  const body17 = fc.stringMatching(/^\d{17}$/);

  it('property: a body with its computed check digit always has a valid check digit', () => {
    fc.assert(fc.property(body17, (b) => hasValidIdCheckDigit(b + idCheckDigit(b))));
  });

  it('property: with a plausible region and birth date the whole number validates', () => {
    const plausible = fc
      .record({
        region: fc.integer({ min: 110000, max: 829999 }),
        birth: fc.date({ min: new Date(1900, 0, 1), max: new Date(2025, 2, 13), noInvalidDate: true }),
        seq: fc.integer({ min: 0, max: 999 }),
      })
      .map(({ region, birth, seq }) => {
        const d = `${birth.getFullYear()}${String(birth.getMonth() + 1).padStart(2, '0')}${String(birth.getDate()).padStart(2, '0')}`;
        return `${region}${d}${String(seq).padStart(3, '0')}`;
      });
    fc.assert(fc.property(plausible, (b) => isValidIdNumber(b + idCheckDigit(b), TODAY)));
  });

  it('property: changing any one character always invalidates the check digit', () => {
    fc.assert(
      fc.property(body17, fc.integer({ min: 0, max: 17 }), fc.integer({ min: 1, max: 10 }), (b, pos, delta) => {
        const id = b + idCheckDigit(b);
        let changed: string;
        if (pos < 17) {
          const d = (Number(id[pos]) + (delta % 10 || 1)) % 10;
          changed = id.slice(0, pos) + String(d) + id.slice(pos + 1);
        } else {
          const chars = '0123456789X'.replace(id.charAt(17), '');
          changed = id.slice(0, 17) + chars.charAt(delta % chars.length);
        }
        return changed !== id && !hasValidIdCheckDigit(changed);
      }),
    );
  });
});

describe('mobile numbers', () => {
  it('accepts 1[3-9] followed by 9 digits, and nothing else', () => {
    expect(isValidMobile('13812345678')).toBe(true);
    expect(isValidMobile('19912345678')).toBe(true);
    for (const bad of ['12812345678', '1381234567', '138123456789', '+8613812345678', '1381234567a', '']) expect(isValidMobile(bad), bad).toBe(false);
    expect(validate(mobileSchema, ' 13812345678 ')).toEqual({ ok: true, value: '13812345678' });
  });
});

describe('resident input', () => {
  it('gives each wrong field its own words, by key, from the catalogue', () => {
    const r = validateResidentInput({
      name: '王',
      mobile: '12345',
      idNumber: '110105194912310021',
      address: { building: '12号楼', unit: '', room: '3<01' },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const byField = Object.fromEntries(r.errors.map((e) => [e.field, e.said]));
    expect(Object.keys(byField).sort()).toEqual(['address.room', 'address.unit', 'idNumber', 'mobile', 'name']);
    expect(byField).toEqual({
      name: { key: 'input.name_too_short' },
      mobile: { key: 'input.mobile_format' },
      idNumber: { key: 'input.id_number_check_digit' },
      'address.unit': { key: 'input.unit_required' },
      'address.room': { key: 'input.address_characters' },
    });
    expect(say(byField.mobile as Said)).toContain('手机号码');
    expect(say(byField.mobile as Said, 'en')).toContain('mobile');
    expect(say(byField['address.unit'] as Said)).toContain('单元');
  });

  it('says how long a field may be when a schema gives no words of its own', () => {
    const r = validateResidentInput({ name: '王小明', mobile: '13812345678', address: { building: 'x'.repeat(21), unit: '1', room: '1' } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([{ field: 'address.building', said: { key: 'input.too_long', params: { maximum: 20 } } }]);
    expect(say(r.errors[0]?.said as Said)).toBe('最多 20 个字');
  });

  it('normalizes valid input', () => {
    const r = validateResidentInput({ name: ' 欧阳·娜娜 ', mobile: '13812345678', idNumber: '11010519491231002x' });
    expect(r).toEqual({ ok: true, value: { name: '欧阳·娜娜', mobile: '13812345678', idNumber: '11010519491231002X' } });
  });
});

describe('masking', () => {
  it('masks the phone as 138****5678', () => {
    expect(maskMobile('13812345678')).toBe('138****5678');
  });

  it('never shows the birth date (digits 7–14) of an ID number on staff screens', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{17}[\dX]$/), (id) => {
        const m = maskIdNumberForStaff(id);
        return m.length === 18 && m.slice(0, 3) === id.slice(0, 3) && m.slice(14) === id.slice(14) && m.slice(3, 14) === '*'.repeat(11);
      }),
    );
    expect(maskIdNumberForStaff('11010519491231002X')).toBe('110***********002X');
  });

  it('shows only the last 4 on the public kiosk', () => {
    expect(maskIdNumberForKiosk('11010519491231002X')).toBe('**************002X');
    expect(maskNameForKiosk('张三丰')).toBe('张**');
  });
});
