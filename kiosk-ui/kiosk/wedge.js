/**
 * A keyboard-wedge QR scanner types the code's text as key presses, a few milliseconds apart, then Enter.
 * A person types far slower (more than ~80 ms between keys). Every printable key is held back for `gapMs`:
 * if the next one follows sooner it belongs to a burst; a burst of at least `minLength` keys ended by Enter
 * (or Tab, or nothing) is a scan. Anything else is handed on, key by key, as typed by a person; `onKey` answers
 * whether it used the key (Space, and Enter on a focused button, keep their usual meaning otherwise).
 */
/**
 * @param {{
 *   onScan: (text: string) => void, onKey: (key: string) => boolean,
 *   gapMs?: number, minLength?: number, now?: () => number,
 * }} options
 */
export function createWedge({ onScan, onKey, gapMs = 60, minLength = 12, now = () => performance.now() }) {
  /** @type {string[]} */
  let buf = [];
  let last = 0;
  let burst = true;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;

  function flush() {
    if (timer) clearTimeout(timer);
    timer = null;
    const keys = buf;
    buf = [];
    burst = true;
    for (const k of keys) onKey(k);
  }

  const IGNORED = new Set(['Shift', 'Control', 'Alt', 'Meta', 'CapsLock', 'NumLock', 'Dead', 'Unidentified']);

  /** @param {KeyboardEvent} e */
  function handle(e) {
    if (e.ctrlKey || e.altKey || e.metaKey || IGNORED.has(e.key)) return;
    const t = now();
    if (e.key.length === 1 && e.key !== ' ') {
      e.preventDefault();
      if (buf.length > 0 && t - last > gapMs) burst = false;
      buf.push(e.key);
      last = t;
      if (timer) clearTimeout(timer);
      // a long fast burst may run on; a person's key is handed on once no other follows quickly
      timer = setTimeout(() => {
        if (buf.length >= minLength && burst)
          scan(); // a scanner set to send no Enter
        else flush();
      }, gapMs + 20);
      return;
    }
    if ((e.key === 'Enter' || e.key === 'Tab') && buf.length >= minLength && burst && t - last <= gapMs * 3) {
      e.preventDefault();
      scan();
      return;
    }
    flush();
    // the screen says whether it used the key; if not, the browser does its usual thing (Enter on a button)
    if (onKey(e.key)) e.preventDefault();
  }

  function scan() {
    if (timer) clearTimeout(timer);
    timer = null;
    const text = buf.join('');
    buf = [];
    burst = true;
    onScan(text);
  }

  return {
    handle,
    clear: () => {
      if (timer) clearTimeout(timer);
      timer = null;
      buf = [];
      burst = true;
    },
  };
}
