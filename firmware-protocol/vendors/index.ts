/**
 * Every vendor lock-board family the product drives, by its LOCK_BOARD value. Adding a family is
 * one codec file beside these and one line here; the controller's adapter and the simulator's
 * personality take it from this table (README, "A real cabinet" → "Another board family").
 */
import { codec8a80 } from './8a80.js';
import { codecKerongCu48 } from './kerong-cu48.js';
import type { VendorCodec } from './types.js';

export const VENDOR_CODECS = {
  '8a80': codec8a80,
  'kerong-cu48': codecKerongCu48,
} as const satisfies Record<string, VendorCodec>;

export type VendorFamily = keyof typeof VENDOR_CODECS;
export const VENDOR_FAMILIES = Object.keys(VENDOR_CODECS) as VendorFamily[];
/** LOCK_BOARD values: our own protocol, then every vendor family. */
export type BoardFamily = 'native' | VendorFamily;
export const BOARD_FAMILIES: readonly BoardFamily[] = ['native', ...VENDOR_FAMILIES];

export function vendorCodec(family: VendorFamily): VendorCodec {
  return VENDOR_CODECS[family];
}

export * from './types.js';
export { codec8a80 } from './8a80.js';
export { codecKerongCu48, KERONG_CU48_COMMANDS } from './kerong-cu48.js';
