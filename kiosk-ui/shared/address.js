import { say } from './words.js';

/**
 * An address as staff read it: "12号楼 2单元 301室". A part typed with its own word ("12号楼", "2单元", "301室",
 * "A座") is shown as typed; a bare number or letter gets the word (address.building, address.unit, address.room in
 * the catalogue, in the primary language: addresses are written its way). The same rule as controller/domain/address.ts.
 * @param {{ building: string, unit: string, room: string }} a
 * @returns {string}
 */
export function addressText(a) {
  /** @param {string} v @param {'address.building' | 'address.unit' | 'address.room'} key */
  const part = (v, key) => (/[\u3400-\u9fff]$/.test(v.trim()) ? v.trim() : say({ key, params: { value: v.trim() } }));
  return `${part(a.building, 'address.building')} ${part(a.unit, 'address.unit')} ${part(a.room, 'address.room')}`;
}
