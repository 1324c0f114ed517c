/**
 * Spoken prompts: short Mandarin clips (sounds/*.wav) and, for the reader who pressed English, English clips
 * (sounds/en/*.wav), 22 050 Hz, made by sounds/make-sounds.sh, because Chromium on the kiosk has no speech voices.
 * Numbers are composed from the number clips ("3 号柜门已打开" = n3 door-opened; "Door 3 is open" = door n3 is-open;
 * which clips each answer says, by language: words.js `clips` for Chinese, speech.js for English).
 * A clip is fetched the first time it is said, not at page load. One clip list plays at a time; a new one interrupts the old; the 重听 button
 * replays the current screen's list. Typed digits are never spoken: keys get the same short tone, made here.
 *
 * Browsers may refuse sound before the first touch (autoplay policy); the kiosk's Chromium should run with
 * --autoplay-policy=no-user-gesture-required. A refused play is not an error: the words are on the screen.
 */

/**
 * Clip name → the words it says (kept in step with sounds/make-sounds.sh).
 * @type {Readonly<Record<string, string>>}
 */
export const CLIPS = {
  welcome: '欢迎',
  prompt: '请扫码或输入取件码',
  scan: '请将手机二维码对准扫描口',
  'scan-dropoff': '请将放件二维码对准扫描口，或输入放件码',
  code: '请输入八位取件码',
  phone: '请输入手机号后四位',
  'door-opened': '号柜门已打开',
  'take-close': '请取走文件，然后关好柜门',
  'put-close': '请放入材料，然后关好柜门',
  checking: '柜门已关上，正在确认',
  'door-closed': '柜门已关好，谢谢',
  deposited: '材料已放好，柜门已关好，谢谢',
  'still-inside': '号柜门已关上，但文件还在柜内',
  'open-again': '取件码仍然有效，请再取一次',
  'nothing-inside': '号柜里没有放入材料',
  'deposit-again': '放件码仍然有效，请再放一次',
  wrong: '取件码或手机号后四位不对',
  'tries-left': '还可以再试',
  times: '次',
  'qr-bad': '这个二维码不能使用',
  nothing: '您目前没有待取的文件',
  locked: '输错次数太多，请稍等',
  please: '请',
  'seconds-later': '秒后再试',
  'minutes-later': '分钟后再试',
  'try-now': '现在可以再试了',
  staff: '请联系工作人员',
  call: '请拨打居委会电话',
  offline: '暂停服务，现在不能开柜门',
  full: '柜子已满',
  'not-opened': '柜门没有打开',
  'please-wait': '请稍候',
  later: '请稍后再试',
  'more-time': '还需要更多时间吗？',
  and: '和',
  n0: '零',
  n1: '一',
  n2: '二',
  n3: '三',
  n4: '四',
  n5: '五',
  n6: '六',
  n7: '七',
  n8: '八',
  n9: '九',
  n10: '十',
};

/**
 * English clip name → the words it says (kept in step with sounds/make-sounds.sh, which makes sounds/en/ from it).
 * Fixed prompts share their Chinese clip's name; sentences with a number are cut where the number goes.
 * @type {Readonly<Record<string, string>>}
 */
export const CLIPS_EN = {
  welcome: 'Welcome.',
  prompt: 'Scan your QR code, or type your pickup code.',
  scan: 'Hold the QR code on your phone to the scanner.',
  'scan-dropoff': 'Hold the drop-off QR code to the scanner, or type the drop-off code.',
  code: 'Type the eight-digit pickup code.',
  phone: 'Type the last four digits of your phone number.',
  door: 'Door',
  doors: 'Doors',
  'is-open': 'is open.',
  'are-open': 'are open.',
  'take-close': 'Take your document, then close the door.',
  'put-close': 'Put your materials in, then close the door.',
  checking: 'The door is closed. Checking inside.',
  'door-closed': 'The door is closed. Thank you.',
  deposited: 'Your materials are in, and the door is closed. Thank you.',
  'still-inside': 'Your document is still in',
  'open-again': 'Your code still works. Type it again, and the door opens again.',
  'nothing-inside': 'Nothing was put in',
  'deposit-again': 'Your drop-off code still works. Scan it again, and the door opens again.',
  wrong: 'The code or the last four digits are not right.',
  'you-have': 'You have',
  'tries-left': 'tries left.',
  'try-left': 'try left.',
  'qr-bad': 'This QR code cannot be used here.',
  'qr-used': 'This QR code was used, or has expired.',
  nothing: 'Nothing is waiting for you.',
  locked: 'Too many wrong tries. Please wait.',
  'try-again-in': 'Please try again in',
  second: 'second.',
  seconds: 'seconds.',
  minute: 'minute.',
  minutes: 'minutes.',
  'try-now': 'You can try again now.',
  staff: 'Please ask the committee staff.',
  call: 'Please call the residents committee on',
  offline: 'Out of service. No door can open now.',
  full: 'The cabinet is full.',
  'not-opened': 'The door did not open.',
  'please-wait': 'Please wait.',
  later: 'Please try again in a minute.',
  'more-time': 'Do you need more time?',
  and: 'and',
  n0: 'zero',
  n1: 'one',
  n2: 'two',
  n3: 'three',
  n4: 'four',
  n5: 'five',
  n6: 'six',
  n7: 'seven',
  n8: 'eight',
  n9: 'nine',
  n10: 'ten',
  n11: 'eleven',
  n12: 'twelve',
  n13: 'thirteen',
  n14: 'fourteen',
  n15: 'fifteen',
  n16: 'sixteen',
  n17: 'seventeen',
  n18: 'eighteen',
  n19: 'nineteen',
  n20: 'twenty',
  n30: 'thirty',
  n40: 'forty',
  n50: 'fifty',
  n60: 'sixty',
  n70: 'seventy',
  n80: 'eighty',
  n90: 'ninety',
};

/** @typedef {'zh' | 'en'} Lang */

/** Each language's clips and where they are served. @type {Readonly<Record<Lang, { clips: Readonly<Record<string, string>>, base: string }>>} */
export const VOICES = {
  zh: { clips: CLIPS, base: '/ui/kiosk/sounds/' },
  en: { clips: CLIPS_EN, base: '/ui/kiosk/sounds/en/' },
};

/** Volume steps of the kiosk's volume button (the last is the start: loud, a public place is not quiet). */
export const VOLUMES = /** @type {const} */ ([0.4, 0.7, 1]);

/** @param {{ volume?: number }} [options] */
export function createVoice({ volume = 1 } = {}) {
  /** Clips by their path: a language's clips are fetched when that language first says them. @type {Map<string, HTMLAudioElement>} */
  const cache = new Map();
  /** @type {Lang} */
  let lang = 'zh';
  let current = /** @type {HTMLAudioElement | null} */ (null);
  let queue = /** @type {string[]} */ ([]);
  let lastList = /** @type {string[]} */ ([]);
  let generation = 0;
  /** @type {AudioContext | null} */
  let tones = null;

  /** @param {string} name */
  function clip(name) {
    const url = VOICES[lang].base + name + '.wav';
    let a = cache.get(url);
    if (!a) {
      a = new Audio(url);
      cache.set(url, a);
    }
    return a;
  }

  function stop() {
    generation++;
    queue = [];
    if (current) {
      current.pause();
      current.currentTime = 0;
      current = null;
    }
  }

  /** @param {number} gen  the say() this belongs to; a later say() makes it stale */
  function next(gen) {
    if (gen !== generation) return;
    const name = queue.shift();
    if (!name) {
      current = null;
      return;
    }
    const a = clip(name);
    current = a;
    a.volume = volume;
    a.currentTime = 0;
    a.onended = () => next(gen);
    a.onerror = () => next(gen);
    // what was spoken, last few (the browser test reads it; never a digit)
    const spoken = (document.documentElement.dataset.spoken ?? '').split(' ').filter(Boolean).slice(-40);
    document.documentElement.dataset.spoken = [...spoken, name].join(' ');
    // a refused play (no touch yet) or a missing file must not stop the screen
    a.play().catch(() => next(gen));
  }

  return {
    /**
     * Say these clips of this language in order, interrupting whatever is playing; remembered for replay.
     * @param {readonly string[]} list
     * @param {Lang} [language]  default: Chinese
     */
    say(list, language = 'zh') {
      stop();
      lang = language;
      const known = VOICES[lang].clips;
      lastList = list.filter((n) => Object.hasOwn(known, n));
      queue = [...lastList];
      document.documentElement.dataset.lastSaid = lastList.join(' ');
      document.documentElement.dataset.saidLanguage = lang;
      next(generation);
    },
    replay() {
      this.say(lastList, lang);
    },
    /** Forget what was said (a new person): replay has nothing until the next screen speaks. */
    reset() {
      stop();
      lastList = [];
      volume = 1;
      document.documentElement.dataset.volume = '1';
    },
    stop,
    /** The same short tone for every key: a typed code is never spoken, and no tone tells one digit from another. */
    tone() {
      try {
        tones ??= new AudioContext();
        if (tones.state === 'suspended') void tones.resume().catch(() => undefined);
        const o = tones.createOscillator();
        const g = tones.createGain();
        o.frequency.value = 880;
        g.gain.setValueAtTime(0.0001, tones.currentTime);
        g.gain.exponentialRampToValueAtTime(0.25, tones.currentTime + 0.01);
        g.gain.exponentialRampToValueAtTime(0.0001, tones.currentTime + 0.08);
        o.connect(g).connect(tones.destination);
        o.start();
        o.stop(tones.currentTime + 0.1);
      } catch {
        // no audio device: silence is acceptable for a key tone
      }
    },
    /** The next volume step (wraps round); returns it. */
    louder() {
      const i = VOLUMES.findIndex((v) => v >= volume - 1e-6);
      volume = VOLUMES[(i + 1) % VOLUMES.length] ?? 1;
      if (current) current.volume = volume;
      document.documentElement.dataset.volume = String(volume);
      return volume;
    },
    get volume() {
      return volume;
    },
  };
}
