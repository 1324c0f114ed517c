/**
 * What the touchscreen says, in words (zh-CN + en) and in spoken clips, for every code the controller answers
 * (door-routes.ts kioskAnswerSchema, the kiosk channel's door-closed outcomes in flows/cabinet.ts DoorClosedCode)
 * and for the screen's own states. The server's message texts are never shown or parsed: codes in, words out.
 * Clip names are those of sounds.js CLIPS; numbers are spoken by composing the number clips (numberClips).
 */

/** @import { KioskAnswer } from './api-types.js' */

/** @typedef {KioskAnswer['code']} AnswerCode */
/** How a resident's door ended when it closed (flows/cabinet.ts DoorClosedCode). @typedef {'COLLECTED' | 'ITEM_NOT_TAKEN' | 'DEPOSITED' | 'NOTHING_DEPOSITED'} ClosedCode */
/** The screen's own: the controller could not be asked (NETWORK), answered an error (HTTP), or the link is down. @typedef {'NETWORK' | 'HTTP' | 'LINK_DOWN'} LocalCode */
/** @typedef {AnswerCode | ClosedCode | LocalCode} ShownCode */

/**
 * What the words may use.
 * @typedef {{ doors: number[], kind: 'qr' | 'code', action: 'pickup' | 'dropoff' | null, triesLeft?: number, phone: string | null }} Ctx
 */

/**
 * One code's words. `tone`: ok (done), warn (needs the resident again), stop (cannot go on here).
 * `retry`: what the main button offers (null: none). `staff`: show "ask the staff / call".
 * @typedef {{
 *   tone: 'ok' | 'warn' | 'stop',
 *   head: (c: Ctx) => readonly [string, string],
 *   body: (c: Ctx) => readonly [string, string],
 *   clips: (c: Ctx) => string[],
 *   retry: 'code' | 'scan' | null,
 *   staff: boolean,
 *   doorOpen: boolean,
 * }} Said
 */

/** Doors as people write them: "3" or "3、5". @param {number[]} d */
const zhDoors = (d) => d.join('、');
/** @param {number[]} d */
const enDoors = (d) => (d.length > 1 ? `Doors ${d.join(', ')} are` : `Door ${d[0] ?? ''} is`);

/**
 * A number as Mandarin clips: 3 → n3; 12 → n10 n2; 20 → n2 n10; 23 → n2 n10 n3; above 99, digit by digit.
 * @param {number} n
 * @returns {string[]}
 */
export function numberClips(n) {
  if (!Number.isInteger(n) || n < 0) return [];
  if (n < 10) return [`n${n}`];
  if (n < 100) {
    const t = Math.floor(n / 10);
    const u = n % 10;
    return [...(t > 1 ? [`n${t}`] : []), 'n10', ...(u ? [`n${u}`] : [])];
  }
  return digitClips(String(n));
}

/** A phone number digit by digit (separators are not spoken). @param {string} s */
export function digitClips(s) {
  return [...s].filter((ch) => /[0-9]/.test(ch)).map((d) => `n${d}`);
}

/** @param {number[]} doors  each door's number, then 号 */
function doorClips(doors) {
  return doors.flatMap((d, i) => [...(i > 0 ? ['and'] : []), ...numberClips(d)]);
}

/** The committee phone, when there is one. @param {Ctx} c @returns {string[]} */
function callClips(c) {
  return c.phone ? ['call', ...digitClips(c.phone)] : ['staff'];
}

/** @param {Ctx} c @returns {readonly [string, string]} */
function callWords(c) {
  return c.phone
    ? [`请拨打居委会电话 ${c.phone}。`, `Please call the residents’ committee: ${c.phone}.`]
    : ['请联系居委会工作人员。', 'Please ask the committee staff.'];
}

/** @param {readonly [string, string]} a @param {readonly [string, string]} b @returns {readonly [string, string]} */
const join = (a, b) => [`${a[0]}${b[0]}`, `${a[1]} ${b[1]}`];

/** @type {Readonly<Record<ShownCode, Said>>} */
export const WORDS = {
  OPENED: {
    tone: 'ok',
    retry: null,
    staff: false,
    doorOpen: true,
    head: (c) => [`${zhDoors(c.doors)} 号柜门已打开`, `${enDoors(c.doors)} open`],
    body: (c) =>
      c.action === 'dropoff'
        ? ['请放入材料，然后关好柜门。', 'Put your materials in, then close the door.']
        : ['请取走文件，然后关好柜门。', 'Take your document, then close the door.'],
    clips: (c) => [...doorClips(c.doors), 'door-opened', c.action === 'dropoff' ? 'put-close' : 'take-close'],
  },
  COLLECTED: {
    tone: 'ok',
    retry: null,
    staff: false,
    doorOpen: false,
    head: () => ['柜门已关好，谢谢！', 'The door is closed. Thank you!'],
    body: () => ['文件已取走，祝您顺利。', 'Your document is collected.'],
    clips: () => ['door-closed'],
  },
  DEPOSITED: {
    tone: 'ok',
    retry: null,
    staff: false,
    doorOpen: false,
    head: () => ['材料已放好，柜门已关好', 'Materials in, door closed'],
    body: () => ['工作人员会尽快取出办理，谢谢！', 'The staff will take them out soon. Thank you!'],
    clips: () => ['deposited'],
  },
  ITEM_NOT_TAKEN: {
    tone: 'warn',
    retry: 'code',
    staff: false,
    doorOpen: false,
    head: (c) => [`文件还在 ${zhDoors(c.doors)} 号柜内`, `Your document is still in door ${c.doors.join(', ')}`],
    body: () => [
      '柜门已关上，但文件没有取走。取件码仍然有效：请再扫码或输入取件码，柜门会再次打开。',
      'The door is closed but the document was not taken. Your code still works: scan or type it again and the door opens again.',
    ],
    clips: (c) => [...doorClips(c.doors), 'still-inside', 'open-again'],
  },
  NOTHING_DEPOSITED: {
    tone: 'warn',
    retry: 'scan',
    staff: false,
    doorOpen: false,
    head: (c) => [`${zhDoors(c.doors)} 号柜里没有材料`, `Nothing was put in door ${c.doors.join(', ')}`],
    body: () => [
      '柜门已关上，但柜内没有材料。放件码仍然有效：请再扫码或输入放件码，柜门会再次打开。',
      'The door is closed with nothing inside. Your drop-off code still works: scan or type it again and the door opens again.',
    ],
    clips: (c) => [...doorClips(c.doors), 'nothing-inside', 'deposit-again'],
  },
  INVALID: {
    tone: 'warn',
    retry: 'code',
    staff: false,
    doorOpen: false,
    head: (c) =>
      c.kind === 'qr'
        ? ['这个二维码不能使用', 'This QR code does not work']
        : ['取件码或手机号后 4 位不对', 'The code or the last 4 digits are not right'],
    body: (c) =>
      c.triesLeft
        ? [
            `请核对短信后重试。还可以再试 ${c.triesLeft} 次，之后需要等一会儿。`,
            `Please check your text message and try again. ${c.triesLeft} ${c.triesLeft === 1 ? 'try' : 'tries'} left before a short wait.`,
          ]
        : ['请核对短信后重试。', 'Please check your text message and try again.'],
    clips: (c) => (c.kind === 'qr' ? ['qr-bad'] : ['wrong', ...(c.triesLeft ? ['tries-left', ...numberClips(c.triesLeft), 'times'] : [])]),
  },
  USED: {
    tone: 'warn',
    retry: 'code',
    staff: false,
    doorOpen: false,
    head: () => ['这个二维码已经用过或已失效', 'This QR code was used or has expired'],
    body: () => [
      '请打开“办理进度”页面的最新二维码，或输入短信里的取件码。',
      'Open the newest QR code on your progress page, or type the code from your text message.',
    ],
    clips: () => ['qr-bad'],
  },
  LOCKED: {
    tone: 'warn',
    retry: null,
    staff: false,
    doorOpen: false,
    head: () => ['输错次数太多，请稍等', 'Too many wrong tries: please wait'],
    body: () => ['等待结束后可以再输入取件码；扫码取件不受影响。', 'You can type the code again after the wait; scanning your QR code still works.'],
    clips: () => ['locked'],
  },
  NOTHING_WAITING: {
    tone: 'warn',
    retry: null,
    staff: false,
    doorOpen: false,
    head: () => ['您目前没有待取的文件', 'Nothing is waiting for you'],
    body: () => ['文件放入柜中后，您会收到短信。', 'You will get a text message when your document is in the cabinet.'],
    clips: () => ['nothing'],
  },
  CABINET_FULL: {
    tone: 'stop',
    retry: null,
    staff: true,
    doorOpen: false,
    head: () => ['柜子已满，没有打开柜门', 'The cabinet is full'],
    body: (c) => join(['现在放不进材料。', 'There is no free compartment for your materials now.'], callWords(c)),
    clips: (c) => ['full', ...callClips(c)],
  },
  NOT_OPENED: {
    tone: 'stop',
    retry: null,
    staff: true,
    doorOpen: false,
    head: () => ['柜门没有打开', 'The door did not open'],
    body: (c) => join(['您的文件仍安全地在柜中。', 'Your document is still safe in the cabinet.'], callWords(c)),
    clips: (c) => ['not-opened', ...callClips(c)],
  },
  OUT_OF_ORDER: {
    tone: 'stop',
    retry: null,
    staff: true,
    doorOpen: false,
    head: () => ['存放您文件的柜门暂时故障', 'That door is out of order'],
    body: (c) => join(['文件仍在柜中。', 'Your document is safe inside.'], callWords(c)),
    clips: (c) => ['not-opened', ...callClips(c)],
  },
  NOT_READY: {
    tone: 'warn',
    retry: null,
    staff: false,
    doorOpen: false,
    head: () => ['柜子正在自检，请稍候', 'The cabinet is checking itself'],
    body: () => ['请 1 分钟后再试。', 'Please try again in a minute.'],
    clips: () => ['please-wait', 'later'],
  },
  OUT_OF_SERVICE: {
    tone: 'stop',
    retry: null,
    staff: true,
    doorOpen: false,
    head: () => ['暂停服务', 'Out of service'],
    body: (c) =>
      join(['柜子现在不能开门，您的文件仍安全地在柜中。', 'The cabinet cannot open doors now; your document is safe inside.'], callWords(c)),
    clips: (c) => ['offline', ...callClips(c)],
  },
  UNKNOWN_SCAN: {
    tone: 'warn',
    retry: 'code',
    staff: false,
    doorOpen: false,
    head: () => ['无法识别这个二维码', 'This QR code is not ours'],
    body: () => [
      '请扫描“办理进度”页面上的二维码，或输入短信里的取件码。',
      'Scan the QR code on your progress page, or type the code from your text message.',
    ],
    clips: () => ['qr-bad'],
  },
  LINK_DOWN: {
    tone: 'stop',
    retry: null,
    staff: true,
    doorOpen: false,
    head: () => ['暂停服务', 'Out of service'],
    body: (c) =>
      join(
        [
          '柜子暂时连不上，现在不能开门；恢复后会自动继续服务。',
          'The screen cannot reach the cabinet now, so no door can open; service resumes by itself when it is back.',
        ],
        callWords(c),
      ),
    clips: (c) => ['offline', ...callClips(c)],
  },
  NETWORK: {
    tone: 'stop',
    retry: null,
    staff: true,
    doorOpen: false,
    head: () => ['暂停服务', 'Out of service'],
    body: (c) =>
      join(
        [
          '屏幕暂时连不上柜子，现在不能开门；恢复后会自动继续服务。',
          'The screen cannot reach the cabinet now, so no door can open; service resumes by itself.',
        ],
        callWords(c),
      ),
    clips: (c) => ['offline', ...callClips(c)],
  },
  HTTP: {
    tone: 'warn',
    retry: null,
    staff: true,
    doorOpen: false,
    head: () => ['没有打开柜门', 'No door was opened'],
    body: () => ['柜子暂时不能处理，请 1 分钟后再试。', 'The cabinet cannot do this right now. Please try again in a minute.'],
    clips: () => ['later'],
  },
};

/** @param {string} code @returns {code is ShownCode} */
export function isShownCode(code) {
  return Object.hasOwn(WORDS, code);
}

/** @type {readonly ClosedCode[]} */
export const CLOSED_CODES = ['COLLECTED', 'ITEM_NOT_TAKEN', 'DEPOSITED', 'NOTHING_DEPOSITED'];

/**
 * A wait as a person says it: "请 40 秒后再试", "请 1 分钟后再试" (minutes rounded up from 60 s on).
 * @param {number} ms
 * @returns {{ zh: string, en: string, clips: string[] }}
 */
export function waitWords(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s === 0) return { zh: '现在可以再试了', en: 'You can try again now', clips: ['try-now'] };
  if (s < 60) return { zh: `请 ${s} 秒后再试`, en: `Please try again in ${s} seconds`, clips: ['please', ...numberClips(s), 'seconds-later'] };
  const m = Math.ceil(s / 60);
  return {
    zh: `请 ${m} 分钟后再试`,
    en: `Please try again in ${m} ${m === 1 ? 'minute' : 'minutes'}`,
    clips: ['please', ...numberClips(m), 'minutes-later'],
  };
}

/** The screen's fixed words that change with a state. */
export const SCREEN = {
  checking: /** @type {const} */ (['柜门已关上，正在确认柜内情况…', 'The door is closed: checking inside…']),
  offlineHome: /** @type {const} */ (['暂停服务', 'Out of service']),
  busy: /** @type {const} */ (['请稍候，正在开柜门…', 'Please wait: opening…']),
};
