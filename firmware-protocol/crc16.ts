/**
 * CRC-16/MODBUS: poly 0x8005 reflected (0xA001), init 0xFFFF, no final XOR.
 * Check value: crc16modbus("123456789") === 0x4B37.
 */
const TABLE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** CRC over the low byte of each character code (the protocol is ASCII). */
export function crc16modbus(text: string): number {
  let crc = 0xffff;
  for (let i = 0; i < text.length; i++) {
    crc = (crc >>> 8) ^ TABLE[(crc ^ text.charCodeAt(i)) & 0xff]!;
  }
  return crc;
}

export function crcHex(text: string): string {
  return crc16modbus(text).toString(16).toUpperCase().padStart(4, '0');
}
