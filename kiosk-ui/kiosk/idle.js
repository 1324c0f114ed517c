/**
 * The idle rule for a public screen: after `idleMs` without a touch or a key, warn for `warnMs` with one big
 * "need more time?" button (WCAG 2.2.1: at least 20 s to extend with a single action), then reset.
 */
/**
 * @param {{
 *   idleMs: number, warnMs: number,
 *   onWarn: (secondsLeft: number) => void, onCount: (secondsLeft: number) => void,
 *   onExtend: () => void, onExpire: () => void,
 * }} options
 */
export function createIdle({ idleMs, warnMs, onWarn, onCount, onExtend, onExpire }) {
  /** @type {ReturnType<typeof setTimeout> | null} */
  let idleTimer = null;
  /** @type {ReturnType<typeof setInterval> | null} */
  let countTimer = null;
  let warning = false;
  let armed = false;
  let deadline = 0;

  function clear() {
    if (idleTimer) clearTimeout(idleTimer);
    if (countTimer) clearInterval(countTimer);
    idleTimer = countTimer = null;
  }

  function startIdle() {
    clear();
    warning = false;
    idleTimer = setTimeout(warn, idleMs);
  }

  function warn() {
    warning = true;
    deadline = Date.now() + warnMs;
    onWarn(Math.ceil(warnMs / 1000));
    countTimer = setInterval(() => {
      const left = deadline - Date.now();
      if (left <= 0) {
        clear();
        warning = false;
        armed = false;
        onExpire();
      } else {
        onCount(Math.ceil(left / 1000));
      }
    }, 250);
  }

  return {
    /** Start watching (a screen where someone is in the middle of something). */
    arm() {
      armed = true;
      startIdle();
    },
    /** Stop watching (home, or a screen with its own timer). */
    disarm() {
      armed = false;
      warning = false;
      clear();
    },
    /** A touch or a key: the person is there. */
    touch() {
      if (!armed) return;
      if (warning) onExtend();
      startIdle();
    },
    get warning() {
      return warning;
    },
  };
}
