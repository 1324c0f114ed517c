/**
 * Settings that let the controller run but keep the office from working as it should, said once in words (Chinese,
 * then English): printed by `npm start` and shown as a banner on the staff console (GET /api/staff/setup).
 */
import type { Config } from './config.js';

export interface SetupWarning {
  readonly code: 'PUBLIC_URL_UNSET' | 'PUBLIC_URL_LOOPBACK';
  readonly zh: string;
  readonly en: string;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|0\.0\.0\.0)$/i;

/** What is wrong with the settings as they stand; [] when nothing is. `port` is the HTTP port phones would use. */
export function setupWarnings(config: Pick<Config, 'publicUrl'>, port: number): SetupWarning[] {
  const example = `PUBLIC_URL=http://192.168.1.20:${port}`;
  if (!config.publicUrl) {
    return [
      {
        code: 'PUBLIC_URL_UNSET',
        zh: `未设置 PUBLIC_URL：触摸屏上的二维码指向本机地址，居民的手机打不开。请设置为居民手机能访问的地址，例如 ${example}。`,
        en: `PUBLIC_URL is not set: the touchscreen's QR code points at this machine's own address, which no phone can reach. Set it to an address phones can open, e.g. ${example}.`,
      },
    ];
  }
  let host = '';
  try {
    host = new URL(config.publicUrl).hostname;
  } catch {
    host = '';
  }
  if (LOOPBACK.test(host)) {
    return [
      {
        code: 'PUBLIC_URL_LOOPBACK',
        zh: `PUBLIC_URL（${config.publicUrl}）指向本机，居民的手机打不开二维码。请设置为居民手机能访问的地址，例如 ${example}。`,
        en: `PUBLIC_URL (${config.publicUrl}) points at this machine itself, which no phone can reach. Set it to an address phones can open, e.g. ${example}.`,
      },
    ];
  }
  return [];
}
