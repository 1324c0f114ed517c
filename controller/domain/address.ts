/**
 * An address as staff read it: "12号楼 2单元 301室". A part typed with its own word ("12号楼", "2单元", "301室",
 * "A座") is kept as typed; a bare number or letter gets the word. The same rule as kiosk-ui/shared/address.js.
 */
export function addressText(a: { building: string; unit: string; room: string }): string {
  const part = (v: string, word: string) => (/[\u3400-\u9fff]$/.test(v.trim()) ? v.trim() : `${v.trim()}${word}`);
  return `${part(a.building, '号楼')} ${part(a.unit, '单元')} ${part(a.room, '室')}`;
}
