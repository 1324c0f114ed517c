/**
 * Settings that let the controller run but keep the office from working as it should, by code and what to say
 * (the word catalogue, `setup.*`): printed by `npm start` and shown as a banner on the staff console
 * (GET /api/staff/setup).
 */
import type { Config } from './config.js';
import { said, type Said } from './words/keys.js';

export interface SetupWarning {
  readonly code: 'PUBLIC_URL_UNSET' | 'PUBLIC_URL_LOOPBACK';
  readonly said: Said;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|0\.0\.0\.0)$/i;

/** What is wrong with the settings as they stand; [] when nothing is. `port` is the HTTP port phones would use. */
export function setupWarnings(config: Pick<Config, 'publicUrl'>, port: number): SetupWarning[] {
  const example = `PUBLIC_URL=http://192.168.1.20:${port}`;
  if (!config.publicUrl) {
    return [
      {
        code: 'PUBLIC_URL_UNSET',
        said: said('setup.public_url_unset', { example }),
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
        said: said('setup.public_url_loopback', { url: config.publicUrl, example }),
      },
    ];
  }
  return [];
}
