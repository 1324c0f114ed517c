// The live channel /ws/staff: the token rides in Sec-WebSocket-Protocol (a browser cannot set headers).
// Reconnects with back-off (1 s, 2 s, 4 s … 30 s, a little jitter) until stopped; 4401/4403 are not retried.

/** @import { LiveMessage } from './api-types.js' */

const PROTOCOL = 'bangbangui.v1';
const MAX_DELAY_MS = 30_000;

/**
 * @typedef {{
 *   onMessage: (msg: LiveMessage) => void,
 *   onState: (state: 'connecting' | 'open' | 'down', info: { retryInMs?: number }) => void,
 *   onAuthClosed: (code: number) => void,
 * }} LiveHandlers
 */

/**
 * @param {string} token  the session token
 * @param {LiveHandlers} handlers
 * @returns {{ stop(): void, retryNow(): void }}
 */
export function connectLive(token, handlers) {
  /** @type {WebSocket | null} */
  let ws = null;
  let attempt = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let stopped = false;

  function open() {
    if (stopped) return;
    handlers.onState('connecting', {});
    const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws/staff`;
    try {
      ws = new WebSocket(url, [PROTOCOL, token]);
    } catch {
      return retry();
    }
    ws.addEventListener('open', () => {
      attempt = 0;
      handlers.onState('open', {});
    });
    ws.addEventListener('message', (ev) => {
      /** @type {LiveMessage} what /ws/staff sends (controller/http/live.ts) */
      let msg;
      try {
        msg = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      handlers.onMessage(msg);
    });
    ws.addEventListener('close', (ev) => {
      ws = null;
      if (stopped) return;
      if (ev.code === 4401 || ev.code === 4403) {
        stopped = true;
        handlers.onState('down', {});
        handlers.onAuthClosed(ev.code);
        return;
      }
      retry();
    });
  }

  function retry() {
    if (stopped) return;
    const base = Math.min(MAX_DELAY_MS, 1000 * 2 ** attempt);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    attempt++;
    handlers.onState('down', { retryInMs: delay });
    timer = setTimeout(open, delay);
  }

  open();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      if (ws) ws.close(1000, 'signed out');
      ws = null;
    },
    /** Try again now (the "重新连接" button). */
    retryNow() {
      if (stopped || ws) return;
      clearTimeout(timer);
      open();
    },
  };
}
