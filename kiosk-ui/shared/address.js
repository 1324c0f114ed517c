/**
 * An address as staff read it: "12号楼 2单元 301室". A part typed with its own word ("12号楼", "2单元", "301室",
 * "A座") is shown as typed; a bare number or letter gets the word. The same rule as controller/domain/address.ts.
 * @param {{ building: string, unit: string, room: string }} a
 * @returns {string}
 */
export function addressText(a) {
  /** @param {string} v @param {string} word */
  const part = (v, word) => (/[\u3400-\u9fff]$/.test(v.trim()) ? v.trim() : `${v.trim()}${word}`);
  return `${part(a.building, '号楼')} ${part(a.unit, '单元')} ${part(a.room, '室')}`;
}
