/**
 * Spoken prompts: short Mandarin clips (sounds/*.wav, made by sounds/make-sounds.sh), because Chromium on
 * the kiosk has no speech voices. One clip list plays at a time; a new one interrupts the old; the 重听 button
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
  code: '请输入八位取件码',
  phone: '请输入手机号后四位',
  opened: '柜门已打开，请取走文件并关好柜门',
  deposit: '柜门已打开，请放入材料并关好柜门',
  wrong: '取件码不正确，请重试',
  'qr-bad': '这个二维码不能使用',
  nothing: '您目前没有待取的文件',
  locked: '尝试次数过多',
  staff: '请联系工作人员',
  later: '请稍后再试',
  'more-time': '还需要更多时间吗？',
};

const BASE = '/ui/kiosk/sounds/';

/** @param {{ volume?: number }} [options] */
export function createVoice({ volume = 1 } = {}) {
  /** @type {Map<string, HTMLAudioElement>} */
  const cache = new Map();
  let current = /** @type {HTMLAudioElement | null} */ (null);
  let queue = /** @type {string[]} */ ([]);
  let lastList = /** @type {string[]} */ ([]);
  let generation = 0;
  /** @type {AudioContext | null} */
  let tones = null;

  /** @param {string} name */
  function clip(name) {
    let a = cache.get(name);
    if (!a) {
      a = new Audio(BASE + name + '.wav');
      a.preload = 'auto';
      cache.set(name, a);
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
    const spoken = (document.documentElement.dataset.spoken ?? '').split(' ').filter(Boolean).slice(-15);
    document.documentElement.dataset.spoken = [...spoken, name].join(' ');
    // a refused play (no touch yet) or a missing file must not stop the screen
    a.play().catch(() => next(gen));
  }

  return {
    /** Say these clips in order, interrupting whatever is playing; remembered for replay. */
    /** @param {readonly string[]} list */
    say(list) {
      stop();
      lastList = list.filter((n) => n in CLIPS);
      queue = [...lastList];
      document.documentElement.dataset.lastSaid = lastList.join(' ');
      next(generation);
    },
    replay() {
      this.say(lastList);
    },
    /** Forget what was said (a new person): replay has nothing until the next screen speaks. */
    reset() {
      stop();
      lastList = [];
      volume = 1;
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
    preload() {
      for (const name of Object.keys(CLIPS)) clip(name);
    },
  };
}
