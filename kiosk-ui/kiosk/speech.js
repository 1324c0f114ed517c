/**
 * What the touchscreen says aloud, by language. Chinese: the clip lists of words.js (`clips`, `waitWords`). English:
 * this table, for the same codes and the same context, in English word order ("Door 3 is open" = door n3 is-open),
 * with the English clips of sounds.js CLIPS_EN. A code without English speech fails the type check here.
 */
import { WORDS, waitWords } from './words.js';

/** @import { Ctx, ShownCode } from './words.js' */
/** @import { Lang } from './sounds.js' */

/**
 * A number as English clips: 3 → n3; 15 → n15; 23 → n20 n3; 40 → n40; above 99, digit by digit.
 * @param {number} n
 * @returns {string[]}
 */
export function enNumberClips(n) {
  if (!Number.isInteger(n) || n < 0) return [];
  if (n <= 20) return [`n${n}`];
  if (n < 100) {
    const u = n % 10;
    return [`n${n - u}`, ...(u ? [`n${u}`] : [])];
  }
  return enDigitClips(String(n));
}

/** A phone number digit by digit (separators are not spoken). @param {string} s */
export function enDigitClips(s) {
  return [...s].filter((ch) => /[0-9]/.test(ch)).map((d) => `n${d}`);
}

/** "Door 3" or "Doors 3 and 5". @param {number[]} doors */
function doorClips(doors) {
  return [doors.length > 1 ? 'doors' : 'door', ...doors.flatMap((d, i) => [...(i > 0 ? ['and'] : []), ...enNumberClips(d)])];
}

/** The committee phone, when there is one. @param {Ctx} c @returns {string[]} */
function callClips(c) {
  return c.phone ? ['call', ...enDigitClips(c.phone)] : ['staff'];
}

/** @type {Readonly<Record<ShownCode, (c: Ctx) => string[]>>} */
export const SPEECH_EN = {
  OPENED: (c) => [...doorClips(c.doors), c.doors.length > 1 ? 'are-open' : 'is-open', c.action === 'dropoff' ? 'put-close' : 'take-close'],
  COLLECTED: () => ['door-closed'],
  DEPOSITED: () => ['deposited'],
  ITEM_NOT_TAKEN: (c) => ['still-inside', ...doorClips(c.doors), 'open-again'],
  NOTHING_DEPOSITED: (c) => ['nothing-inside', ...doorClips(c.doors), 'deposit-again'],
  INVALID: (c) =>
    c.kind === 'qr'
      ? ['qr-bad']
      : ['wrong', ...(c.triesLeft ? ['you-have', ...enNumberClips(c.triesLeft), c.triesLeft === 1 ? 'try-left' : 'tries-left'] : [])],
  USED: () => ['qr-used'],
  LOCKED: () => ['locked'],
  NOTHING_WAITING: () => ['nothing'],
  CABINET_FULL: (c) => ['full', ...callClips(c)],
  NOT_OPENED: (c) => ['not-opened', ...callClips(c)],
  OUT_OF_ORDER: (c) => ['not-opened', ...callClips(c)],
  NOT_READY: () => ['please-wait', 'later'],
  OUT_OF_SERVICE: (c) => ['offline', ...callClips(c)],
  UNKNOWN_SCAN: () => ['qr-bad'],
  LINK_DOWN: (c) => ['offline', ...callClips(c)],
  NETWORK: (c) => ['offline', ...callClips(c)],
  HTTP: () => ['later'],
};

/**
 * A wait as English clips: "Please try again in 40 seconds", "… in 1 minute" (minutes rounded up from 60 s on).
 * @param {number} ms
 * @returns {string[]}
 */
export function enWaitClips(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s === 0) return ['try-now'];
  if (s < 60) return ['try-again-in', ...enNumberClips(s), s === 1 ? 'second' : 'seconds'];
  const m = Math.ceil(s / 60);
  return ['try-again-in', ...enNumberClips(m), m === 1 ? 'minute' : 'minutes'];
}

/**
 * The clips that say a code's answer in this language.
 * @param {Lang} lang
 * @param {ShownCode} code
 * @param {Ctx} ctx
 */
export function answerClips(lang, code, ctx) {
  return lang === 'en' ? SPEECH_EN[code](ctx) : WORDS[code].clips(ctx);
}

/**
 * The clips that say how long to wait in this language.
 * @param {Lang} lang
 * @param {number} ms
 */
export function waitClips(lang, ms) {
  return lang === 'en' ? enWaitClips(ms) : waitWords(ms).clips;
}
