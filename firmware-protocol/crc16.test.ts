import { describe, expect, it } from 'vitest';
import { crc16modbus, crcHex } from './crc16.js';

describe('CRC-16/MODBUS', () => {
  it('has the catalogue check value 0x4B37 for "123456789"', () => {
    expect(crc16modbus('123456789')).toBe(0x4b37);
    expect(crcHex('123456789')).toBe('4B37');
  });

  it('starts from 0xFFFF with no final XOR (empty input gives the initial value)', () => {
    expect(crc16modbus('')).toBe(0xffff);
  });

  it('matches the worked example in PROTOCOL.md', () => {
    expect(crcHex('>01 0000 STATUS')).toBe('5792');
    // Register value after each byte (no final XOR, so a prefix's CRC is the register state).
    const text = '>01 0000 STATUS';
    const steps = [...text].map((_, i) => crcHex(text.slice(0, i + 1)));
    expect(steps).toEqual(['903E', 'C411', 'D8C5', '8B19', 'DE4A', 'E35F', '2CA3', '6D6C', 'F56C', '10B5', '48D0', 'AC89', '596C', '1299', '5792']);
  });

  it('writes 4 uppercase hex digits, zero-padded', () => {
    const all = Array.from({ length: 300 }, (_, i) => crcHex(`x${i}`));
    for (const h of all) expect(h).toMatch(/^[0-9A-F]{4}$/);
    expect(all.some((h) => h.startsWith('0'))).toBe(true);
  });
});
