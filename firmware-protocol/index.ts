export * from './messages.js';
export * from './codec.js';
export { crc16modbus, crcHex } from './crc16.js';
export { BoundedReadlineParser, type LineCounters } from './line-reader.js';
