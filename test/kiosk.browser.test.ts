/**
 * The cabinet's touchscreen (kiosk-ui/kiosk/) in a real browser against the real app (test/app-harness.ts):
 * a resident taps a wrong code, then the right code and the last 4 digits of the phone, and the door opens;
 * a keyboard-wedge scan of the pickup QR opens another; the serial scanner's results and the link state show;
 * the idle warning gives more time, then resets. Sizes and contrast are measured from the rendered page.
 * Screenshots go to test-output/kiosk/kiosk-*.png (git-ignored).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { residentActor, staffActor } from '../controller/domain/types.js';
import {
  activeCredentials,
  createRequest,
  issueDepositCode,
  listNotifications,
  makeRequestQrToken,
  readNotificationSecret,
  transitionRequest,
} from '../controller/store/index.js';
import { makeResident } from '../controller/store/test-support.js';
import { startTestApp, uniqueIdNumber, type TestApp } from './app-harness.js';
import { axeViolations } from './axe.js';
import { launchBrowser } from './browser.js';
import { waitFor } from './harness.js';
import { said as saidOf } from '../controller/words/keys.js';

/** Screenshots: the git-ignored test output folder. */
const SHOTS = path.resolve('test-output/kiosk');
fs.mkdirSync(SHOTS, { recursive: true });
const COMMITTEE_PHONE = '010-6254 1234';

let browser: Browser;
let h: TestApp;
let staff: Awaited<ReturnType<TestApp['staffSession']>>;
let seq = 0;

beforeAll(async () => {
  [browser, h] = await Promise.all([launchBrowser(), startTestApp({ env: { COMMITTEE_PHONE, UNLOCK_MAX_PER_MINUTE: '60' } })]);
  h.flows.markReady();
  staff = await h.staffSession('staff');
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

interface Loaded {
  requestId: number;
  no: number;
  code: string;
  last4: string;
}

/** A resident asks on the phone; staff accept, prepare and load it; the pickup code goes to the outbox. */
async function loadedDocument(): Promise<Loaded> {
  const n = ++seq;
  const mobile = `1390013${String(2000 + n).padStart(4, '0')}`;
  const sub = await h.api.post<{ requestId: number }>('/api/requests', {
    body: {
      name: '李秀英',
      mobile,
      idNumber: uniqueIdNumber(500 + n),
      address: { building: '3号楼', unit: '2', room: '301' },
      serviceCode: 'residence_certificate',
    },
  });
  expect(sub.status, JSON.stringify(sub.body)).toBe(201);
  const id = sub.body.requestId;
  for (const step of ['accept', 'ready'] as const) {
    const r = await staff.api.post(`/api/staff/requests/${id}/${step}`, { body: {} });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }
  const load = await staff.api.post<{ opened: boolean; compartment: number }>(`/api/staff/requests/${id}/load`);
  expect(load.body.opened).toBe(true);
  const no = load.body.compartment;
  h.cabinet.putItem(no);
  h.cabinet.closeDoor(no);
  const note = await waitFor(
    () => listNotifications(h.store.ctx, { requestId: id }).find((x) => readNotificationSecret(h.store.ctx, x.id)),
    'the pickup code in the outbox',
  );
  return { requestId: id, no, code: readNotificationSecret(h.store.ctx, note.id)!.code, last4: mobile.slice(-4) };
}

async function openKiosk(
  viewport: { width: number; height: number },
  query = '',
  before?: (p: Page) => void,
): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport });
  before?.(page);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
  });
  await page.goto(`${h.kioskUrl}/kiosk${query}`);
  await page.waitForSelector('body[data-ready="true"][data-link="online"]');
  return { page, errors };
}

async function tap(page: Page, digits: string): Promise<void> {
  for (const d of digits) await page.click(`#keypad [data-key="${d}"]`);
}

/** Every visible element with its own text: font size and contrast against what is painted behind it. */
interface TextFact {
  text: string;
  size: number;
  contrast: number;
}
async function textFacts(page: Page): Promise<TextFact[]> {
  return page.evaluate(() => {
    const rgba = (s: string): number[] => (s.match(/[\d.]+/g) ?? ['0', '0', '0', '0']).map(Number).concat([1]).slice(0, 4) as number[];
    const lum = ([r, g, b]: number[]) => {
      const f = (c: number) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
    };
    const over = (top: number[], under: number[]) => [0, 1, 2].map((i) => top[i]! * top[3]! + under[i]! * (1 - top[3]!)).concat([1]);
    const out: { text: string; size: number; contrast: number }[] = [];
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('body *'))) {
      const own = Array.from(el.childNodes)
        .filter((c) => c.nodeType === Node.TEXT_NODE)
        .map((c) => c.textContent ?? '')
        .join('')
        .trim();
      if (!own || el.closest('[hidden]') || el.getClientRects().length === 0) continue;
      const st = getComputedStyle(el);
      if (st.visibility === 'hidden' || st.display === 'none') continue;
      const layers: number[][] = [];
      for (let a: HTMLElement | null = el; a; a = a.parentElement) {
        const bg = rgba(getComputedStyle(a).backgroundColor);
        if (bg[3]! > 0) layers.push(bg);
      }
      let bg = [255, 255, 255, 1];
      for (const l of layers.reverse()) bg = over(l, bg);
      const fg = over(rgba(st.color), bg);
      const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      out.push({ text: own.slice(0, 30), size: parseFloat(st.fontSize), contrast: (hi! + 0.05) / (lo! + 0.05) });
    }
    return out;
  });
}

async function expectReadable(page: Page, where: string): Promise<void> {
  // every state the kiosk shows is checked by axe-core (WCAG 2.2 A/AA): no serious or critical violation
  expect(await axeViolations(page), `${where}: axe-core`).toEqual([]);
  const facts = await textFacts(page);
  expect(facts.length, where).toBeGreaterThan(3);
  expect(
    facts.filter((f) => f.size < 32),
    `${where}: text under 32 px`,
  ).toEqual([]);
  expect(
    facts.filter((f) => f.contrast < 4.5),
    `${where}: contrast under 4.5:1`,
  ).toEqual([]);
  // nothing runs off the screen
  const fits = await page.evaluate(
    () => document.documentElement.scrollHeight <= innerHeight + 1 && document.documentElement.scrollWidth <= innerWidth + 1,
  );
  expect(fits, `${where}: fits the screen`).toBe(true);
}

/** Sizes of every visible button, and the keypad's gaps. */
async function targetSizes(page: Page) {
  return page.evaluate(() => {
    const rect = (el: Element) => el.getBoundingClientRect();
    const visible = Array.from(document.querySelectorAll('button')).filter((b) => b.getClientRects().length > 0 && !b.closest('[hidden]'));
    const keys = Array.from(document.querySelectorAll('#keypad .key')).map(rect);
    const [k1, k2, , k4] = keys;
    return {
      smallestButton: Math.min(...visible.map((b) => Math.min(rect(b).width, rect(b).height))),
      key: { w: Math.min(...keys.map((r) => r.width)), h: Math.min(...keys.map((r) => r.height)) },
      gap: k1 && k2 && k4 ? { x: k2.left - k1.right, y: k4.top - k1.bottom } : null,
      titleSize: parseFloat(getComputedStyle(document.querySelector('h1')!).fontSize),
      bodySize: parseFloat(getComputedStyle(document.body).fontSize),
    };
  });
}

/** The clip names that say a number (words.js numberClips), for the expected spoken lists. */
function numberClips(n: number): string {
  if (n < 10) return `n${n}`;
  const t = Math.floor(n / 10);
  const u = n % 10;
  return [...(t > 1 ? [`n${t}`] : []), 'n10', ...(u ? [`n${u}`] : [])].join(' ');
}

const said = (page: Page) => page.evaluate(() => document.documentElement.dataset.spoken ?? '');

// a real browser on a busy CI machine: more room than the default 20 s, each test takes 3–12 s alone
/**
 * A keyboard-wedge scanner's burst: every key of the text, then Enter, as keydown events dispatched inside the page
 * in one go. A scanner sends its keys a few milliseconds apart; typing them one call at a time from the test can
 * leave gaps of 100 ms on a loaded machine, which the page rightly takes for a person typing.
 */
async function wedgeScan(page: Page, text: string): Promise<void> {
  await page.evaluate((t) => {
    for (const key of [...t, 'Enter']) document.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
  }, text);
}

describe('the kiosk touchscreen', { timeout: 40_000 }, () => {
  it('portrait 1080×1920: a wrong code is refused in words, the right code opens the door', async () => {
    const doc = await loadedDocument();
    const { page, errors } = await openKiosk({ width: 1080, height: 1920 }, '?done=4');
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('zh-CN');
    await expect(page.locator('#go-scan').innerText()).resolves.toContain('扫码取件');
    await expect(page.locator('#go-code').innerText()).resolves.toContain('输入取件码');
    await expect(page.locator('.submit').innerText()).resolves.toContain('手机扫码办理证明');
    expect(await page.evaluate(() => (document.getElementById('submit-qr') as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    await expectReadable(page, 'home');
    await page.screenshot({ path: `${SHOTS}/kiosk-home-portrait.png` });

    await page.click('#go-code');
    const sizes = await targetSizes(page);
    expect(sizes.key.w).toBeGreaterThanOrEqual(100);
    expect(sizes.key.h).toBeGreaterThanOrEqual(100);
    expect(sizes.gap!.x).toBeGreaterThanOrEqual(10);
    expect(sizes.gap!.y).toBeGreaterThanOrEqual(10);
    expect(sizes.smallestButton).toBeGreaterThanOrEqual(64);
    expect(sizes.titleSize).toBeGreaterThanOrEqual(56);
    expect(sizes.bodySize).toBeGreaterThanOrEqual(32);
    console.log('portrait sizes', JSON.stringify(sizes));

    // a wrong code, by tapping
    const wrong = doc.code === '12345678' ? '87654321' : '12345678';
    await tap(page, wrong.slice(0, 5));
    await expect(page.locator('#code-count').innerText()).resolves.toContain('还差 3 位');
    await tap(page, wrong.slice(5));
    await page.screenshot({ path: `${SHOTS}/kiosk-code-portrait.png` });
    await page.click('#key-ok');
    await expect(page.locator('#code-title').innerText()).resolves.toContain('手机号后 4 位');
    await tap(page, doc.last4);
    await page.click('#key-ok');
    await page.waitForSelector('#result-panel[data-outcome="refused"]');
    await expect(page.locator('#result-head').innerText()).resolves.toContain('取件码或手机号后 4 位不对');
    await expect(page.locator('#result-zh').innerText()).resolves.toContain('还可以再试 2 次');
    expect(await page.evaluate(() => document.documentElement.dataset.lastSaid)).toBe('wrong tries-left n2 times');
    await expectReadable(page, 'refused');
    await page.screenshot({ path: `${SHOTS}/kiosk-refused-portrait.png` });
    const unlocksBefore = h.cabinet.unlockCount(doc.no); // staff's loading opened it once
    expect(unlocksBefore).toBe(1);

    // the right code, by tapping again
    await page.click('#result-retry');
    await expect(page.locator('#boxes-code').innerText()).resolves.toBe('-');
    await tap(page, doc.code);
    await page.click('#key-ok');
    await tap(page, doc.last4);
    await page.click('#key-ok');
    await page.waitForSelector('#result-panel[data-outcome="opened"]');
    await expect(page.locator('#result-head').innerText()).resolves.toContain('已打开');
    await expect(page.locator('#result-nos').innerText()).resolves.toBe(String(doc.no));
    await expect(page.locator('#result-head').innerText()).resolves.toContain(`${doc.no} 号柜门已打开`);
    expect(parseFloat(await page.locator('#result-nos').evaluate((e) => getComputedStyle(e).fontSize))).toBeGreaterThanOrEqual(200);
    expect(h.cabinet.unlockCount(doc.no)).toBe(unlocksBefore + 1);
    await expectReadable(page, 'opened');
    await page.screenshot({ path: `${SHOTS}/kiosk-opened-portrait.png` });
    // the prompts matched the screens; no digit was ever said
    await expect.poll(() => said(page)).toContain('door-opened');
    const spoken = await said(page);
    expect(spoken).toContain('wrong');
    expect(spoken.replace(/\bn\d+\b/g, '')).not.toMatch(/\d/); // number clips say door numbers and tries, never a typed digit

    // the resident takes the document and shuts the door: thanks, then home
    h.cabinet.takeItem(doc.no);
    h.cabinet.closeDoor(doc.no);
    await page.waitForFunction(() => document.getElementById('result-head')!.textContent!.includes('柜门已关好'));
    expect(await page.locator('#screen-result').innerText()).not.toContain('已打开');
    expect(await page.evaluate(() => document.documentElement.dataset.lastSaid)).toBe('door-closed');
    await page.waitForSelector('body[data-screen="home"]', { timeout: 8000 });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('without the word catalogue (GET /api/words answers 503 at first): the page’s own words, a code typed opens the door; the words come later', async () => {
    const doc = await loadedDocument();
    let asked = 0;
    let refused = 0;
    const { page, errors } = await openKiosk({ width: 1080, height: 1920 }, '?done=4', (p) => {
      void p.route('**/api/words', (route) => {
        asked += 1;
        // the controller restarting: the first answers are refusals, then the catalogue
        if (refused < 3) {
          refused += 1;
          return route.fulfill({ status: 503, contentType: 'application/json', body: '{"code":"NOT_READY"}' });
        }
        return route.continue();
      });
    });
    /** Anything on the screen that looks like a key of the catalogue (kiosk.code_title), never shown to a resident. */
    const keysShown = () => page.evaluate(() => document.body.innerText.match(/\b(kiosk|error|input)\.[a-z_.]+/g) ?? []);
    expect(refused).toBeGreaterThanOrEqual(1);
    await expect(page.locator('#go-code').innerText()).resolves.toContain('输入取件码');
    await expect(page.locator('#lang').innerText()).resolves.toContain('English');
    expect(await keysShown()).toEqual([]);

    await page.click('#go-code');
    await tap(page, doc.code.slice(0, 5));
    await expect(page.locator('#code-count').innerText()).resolves.toContain('还差 3 位');
    await expect(page.locator('#code-step').innerText()).resolves.toContain('第 1 步');
    await tap(page, doc.code.slice(5));
    await expect(page.locator('#key-ok').innerText()).resolves.toContain('下一步');
    await page.click('#key-ok');
    await expect(page.locator('#code-title').innerText()).resolves.toContain('手机号后 4 位');
    await tap(page, doc.last4);
    await expect(page.locator('#key-ok').innerText()).resolves.toContain('开柜门');
    expect(await keysShown()).toEqual([]);
    const before = h.cabinet.unlockCount(doc.no);
    await page.click('#key-ok');
    await page.waitForSelector('#result-panel[data-outcome="opened"]');
    expect(h.cabinet.unlockCount(doc.no)).toBe(before + 1);
    await expect(page.locator('#result-head').innerText()).resolves.toContain(`${doc.no} 号柜门已打开`);
    await expect(page.locator('#result-zh').innerText()).resolves.toContain('请取走文件');
    expect(await keysShown()).toEqual([]);

    // the screen keeps asking for the catalogue, and has it once the controller answers
    await expect.poll(() => asked, { timeout: 20_000 }).toBeGreaterThan(refused);
    await page.waitForFunction(() => document.querySelector('#home-title')?.querySelector('.en[lang="en"]') !== null);
    expect(await keysShown()).toEqual([]);
    // the refusals this test made, as the browser reports them
    expect(errors.filter((e) => !/^503 .*\/api\/words$/.test(e) && !/status of 503/.test(e))).toEqual([]);
    await page.close();
  });

  it('portrait: a keyboard-wedge scan opens the door; keyboard digits start code entry; serial scans and the link state show', async () => {
    const { page, errors } = await openKiosk({ width: 1080, height: 1920 });
    // a keyboard-wedge scanner types the pickup QR fast and presses Enter
    const doc2 = await loadedDocument();
    const cred = activeCredentials(h.store.ctx, doc2.requestId).find((c) => c.purpose === 'pickup')!;
    const token = makeRequestQrToken(h.store.keys, { requestId: doc2.requestId, credentialId: cred.credentialId, purpose: 'pickup' });
    const before2 = h.cabinet.unlockCount(doc2.no);
    await wedgeScan(page, token);
    await page.waitForSelector('#result-panel[data-outcome="opened"]');
    await expect(page.locator('#result-nos').innerText()).resolves.toBe(String(doc2.no));
    expect(h.cabinet.unlockCount(doc2.no)).toBe(before2 + 1);
    expect(await page.locator('body').getAttribute('data-screen')).toBe('result');

    // a person at a physical keyboard: a digit starts code entry
    await page.click('#result-home');
    await page.waitForSelector('body[data-screen="home"]');
    await page.keyboard.press('7');
    await page.waitForSelector('body[data-screen="code"]');
    await expect(page.locator('#boxes-code .box').first().innerText()).resolves.toBe('7');
    await page.keyboard.press('Backspace');
    expect(await page.locator('#boxes-code .box.filled').count()).toBe(0);
    await page.keyboard.press('Escape');
    await page.waitForSelector('body[data-screen="home"]');

    // the serial scanner's result arrives over /ws/kiosk
    await h.flows.scan('https://example.org/not-ours', 'serial', 'scanner');
    await page.waitForSelector('#result-panel[data-code="UNKNOWN_SCAN"]');
    await expect(page.locator('#result-head').innerText()).resolves.toContain('无法识别');

    // a drop-off opened through the serial scanner: the voice says to put materials in, not to take a document out
    await page.click('#result-home');
    await page.waitForSelector('body[data-screen="home"]');
    h.bus.emit('scan', {
      source: 'scanner',
      kind: 'qr',
      outcome: 'OPENED',
      action: 'dropoff',
      compartments: [7],
      said: saidOf('door.kiosk_opened_dropoff', { doors: [7] }),
    });
    await page.waitForSelector('#result-panel[data-outcome="opened"]');
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.lastSaid)).toBe('n7 door-opened put-close');

    // the cabinet goes offline: 暂停服务 with whom to call, no pickup offered; back by itself
    await page.click('#result-home');
    h.bus.emit('link', { state: 'offline' });
    await page.waitForSelector('#home-paused:not([hidden])');
    await expect(page.locator('#home-paused').innerText()).resolves.toContain('暂停服务');
    await expect(page.locator('#home-paused').innerText()).resolves.toContain(COMMITTEE_PHONE);
    expect(await page.locator('#go-code').isVisible()).toBe(false);
    expect(await page.locator('#go-scan').isVisible()).toBe(false);
    expect(await page.locator('body').innerText()).not.toMatch(/柜门没有打开|door did not open/);
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.lastSaid)).toBe('offline call n0 n1 n0 n6 n2 n5 n4 n1 n2 n3 n4');
    await page.screenshot({ path: `${SHOTS}/kiosk-offline-portrait.png` });
    h.bus.emit('link', { state: 'online' });
    await page.waitForSelector('#home-paused', { state: 'hidden' });
    await page.waitForSelector('#go-code');

    expect(errors).toEqual([]);
    await page.close();
  });

  it('landscape 1920×1080: every screen fits, text ≥ 32 px, contrast ≥ 4.5:1, keys ≥ 64 px', async () => {
    const { page, errors } = await openKiosk({ width: 1920, height: 1080 });
    await expectReadable(page, 'landscape home');
    await page.screenshot({ path: `${SHOTS}/kiosk-home-landscape.png` });
    await page.click('#go-scan');
    await expectReadable(page, 'landscape scan');
    await expect(page.locator('#screen-scan').innerText()).resolves.toContain('请将手机二维码对准扫描口');
    await page.screenshot({ path: `${SHOTS}/kiosk-scan-landscape.png` });
    await page.click('#screen-scan [data-action="code"]');
    await tap(page, '2024');
    await expectReadable(page, 'landscape code');
    const sizes = await targetSizes(page);
    expect(Math.min(sizes.key.w, sizes.key.h)).toBeGreaterThanOrEqual(100);
    expect(sizes.smallestButton).toBeGreaterThanOrEqual(64);
    console.log('landscape sizes', JSON.stringify(sizes));
    await page.screenshot({ path: `${SHOTS}/kiosk-code-landscape.png` });
    await tap(page, '1231');
    await page.click('#key-ok');
    await tap(page, '0000');
    await page.click('#key-ok');
    await page.waitForSelector('#result-panel[data-outcome="refused"]');
    await expectReadable(page, 'landscape refused');
    await page.screenshot({ path: `${SHOTS}/kiosk-refused-landscape.png` });
    const doc = await loadedDocument();
    await page.click('#result-retry');
    await tap(page, doc.code);
    await page.keyboard.press('Enter'); // a physical keyboard's Enter works as 下一步 / 开柜门
    await tap(page, doc.last4);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#result-panel[data-outcome="opened"]');
    await expect(page.locator('#result-nos').innerText()).resolves.toBe(String(doc.no));
    await expectReadable(page, 'landscape opened');
    await page.screenshot({ path: `${SHOTS}/kiosk-opened-landscape.png` });
    expect(errors).toEqual([]);
    await page.close();
  });

  const SIZES = [
    { width: 1080, height: 1920 },
    { width: 1920, height: 1080 },
    { width: 1280, height: 800 },
    { width: 1366, height: 768 },
  ] as const;

  it('the truth at the door, at the four panel sizes: a document left inside, an empty drop-off, the drawing, drop-off from home', {
    timeout: 160_000,
  }, async () => {
    for (const size of SIZES) {
      const tag = `${size.width}x${size.height}`;
      const doc = await loadedDocument();
      const { page, errors } = await openKiosk(size, '?done=30');
      await expectReadable(page, `${tag} home`);
      const small = size.width < 1920 && size.height < 1920;
      expect((await targetSizes(page)).smallestButton, tag).toBeGreaterThanOrEqual(small ? 60 : 64);
      await page.screenshot({ path: `${SHOTS}/kiosk-home-${tag}.png` });

      // the resident opens the door, then closes it without taking the document
      await page.click('#go-code');
      await tap(page, doc.code);
      await page.click('#key-ok');
      await tap(page, doc.last4);
      await page.click('#key-ok');
      await page.waitForSelector('#result-panel[data-outcome="opened"]');
      await expect(page.locator(`#cabinet-grid .door-open`).innerText()).resolves.toBe(String(doc.no));
      expect(await page.locator('#cabinet-grid .door').count()).toBe(24);
      await expect.poll(() => page.evaluate(() => document.documentElement.dataset.lastSaid)).toBe(`${numberClips(doc.no)} door-opened take-close`);
      await expectReadable(page, `${tag} opened`);
      await page.screenshot({ path: `${SHOTS}/kiosk-opened-${tag}.png` });
      h.cabinet.closeDoor(doc.no);
      await page.waitForSelector('#result-panel[data-code="ITEM_NOT_TAKEN"]');
      const text = await page.locator('#screen-result').innerText();
      expect(text).toContain(`文件还在 ${doc.no} 号柜内`);
      expect(text).toContain('取件码仍然有效');
      expect(text).not.toContain('已打开');
      expect(text).not.toContain('柜门已关好');
      await expect(page.locator('#result-retry').innerText()).resolves.toContain('重新打开柜门');
      await expect(page.locator('#cabinet-grid [data-marked="closed"]').innerText()).resolves.toBe(String(doc.no));
      expect(await page.evaluate(() => document.documentElement.dataset.lastSaid)).toBe(`${numberClips(doc.no)} still-inside open-again`);
      await expectReadable(page, `${tag} still inside`);
      await page.screenshot({ path: `${SHOTS}/kiosk-still-inside-${tag}.png` });
      // the code still works: type it again, the door opens again; this time the document is taken
      await page.click('#result-retry');
      await tap(page, doc.code);
      await page.click('#key-ok');
      await tap(page, doc.last4);
      await page.click('#key-ok');
      await page.waitForSelector('#result-panel[data-outcome="opened"]');
      h.cabinet.takeItem(doc.no);
      h.cabinet.closeDoor(doc.no);
      await page.waitForSelector('#result-panel[data-code="COLLECTED"]');
      expect(await page.locator('#screen-result').innerText()).not.toContain('已打开');

      // drop-off from the home screen: scan the drop-off QR; the door closes with nothing inside
      await page.click('#result-home');
      await page.click('#go-dropoff');
      await expect(page.locator('#scan-title').innerText()).resolves.toContain('放件二维码');
      expect(await page.evaluate(() => document.documentElement.dataset.lastSaid)).toBe('scan-dropoff');
      await expectReadable(page, `${tag} drop-off scan`);
      const resident = makeResident(h.store);
      const { request } = createRequest(h.store.ctx, { residentId: resident.id, serviceCode: 'residence_certificate' }, residentActor(resident.id));
      transitionRequest(h.store.ctx, { requestId: request.id, event: 'request_materials', actor: staffActor(staff.id) });
      const { credentialId } = issueDepositCode(h.store.ctx, request.id, staffActor(staff.id));
      await wedgeScan(page, makeRequestQrToken(h.store.keys, { requestId: request.id, credentialId, purpose: 'deposit' }));
      await page.waitForSelector('#result-panel[data-outcome="opened"]');
      const no = Number(await page.locator('#result-nos').innerText());
      await expect(page.locator('#result-zh').innerText()).resolves.toContain('请放入材料');
      h.cabinet.closeDoor(no);
      await page.waitForSelector('#result-panel[data-code="NOTHING_DEPOSITED"]');
      await expect(page.locator('#result-head').innerText()).resolves.toContain(`${no} 号柜里没有材料`);
      expect(await page.locator('#screen-result').innerText()).not.toContain('已打开');
      expect(await page.evaluate(() => document.documentElement.dataset.lastSaid)).toBe(`${numberClips(no)} nothing-inside deposit-again`);
      await page.screenshot({ path: `${SHOTS}/kiosk-nothing-deposited-${tag}.png` });

      // one person's switches, reset for the next person
      await page.click('#result-home');
      await page.click('#volume');
      await page.click('#large');
      await page.click('#lang');
      expect(
        await page.evaluate(() => [document.documentElement.dataset.volume, document.body.dataset.large, document.documentElement.lang]),
      ).toEqual(['0.4', 'true', 'en']);
      await page.screenshot({ path: `${SHOTS}/kiosk-large-en-${tag}.png` });
      await page.click('#go-code');
      await page.keyboard.press('Escape');
      await page.waitForSelector('body[data-screen="home"]');
      expect(
        await page.evaluate(() => [document.documentElement.dataset.volume, document.body.dataset.large, document.documentElement.lang]),
      ).toEqual(['1', 'false', 'zh-CN']);
      expect(errors, tag).toEqual([]);
      await page.close();
    }
  });

  const PORTRAIT = { width: 1080, height: 1920 };
  const LANDSCAPE = { width: 1920, height: 1080 };
  it('the cabinet drawing puts each door where it is on the cabinet: 6x4 numbered by rows (default), 4x6 numbered by columns', async () => {
    /** Door 7 opened through the serial scanner; the drawing's grid and where doors 1, 2, 7 and 24 sit (column, row). */
    async function drawn(app: TestApp, viewport: { width: number; height: number }) {
      const page = await browser.newPage({ viewport });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${app.kioskUrl}/kiosk`);
      await page.waitForSelector('body[data-ready="true"][data-link="online"]');
      // the kiosk info has arrived (the committee phone, the cabinet) once the home screen is drawn from it
      await page.waitForFunction(() => performance.getEntriesByType('resource').some((r) => r.name.endsWith('/api/kiosk/info')));
      app.bus.emit('scan', {
        source: 'scanner',
        kind: 'qr',
        outcome: 'OPENED',
        action: 'pickup',
        compartments: [7],
        said: saidOf('door.kiosk_opened_pickup', { doors: [7] }),
      });
      await page.waitForSelector('#cabinet-grid .door-open');
      const where = await page.evaluate(() => {
        const grid = document.getElementById('cabinet-grid')!;
        const at: Record<string, [number, number]> = {};
        const gridBox = grid.getBoundingClientRect();
        const cells = Array.from(grid.querySelectorAll<HTMLElement>('.door'));
        const w = cells[0]!.getBoundingClientRect().width;
        const hgt = cells[0]!.getBoundingClientRect().height;
        for (const c of cells) {
          const r = c.getBoundingClientRect();
          // measured from the drawing, not read back from the styles: column and row from 1
          at[c.textContent!] = [Math.round((r.left - gridBox.left - 12) / (w + 6)) + 1, Math.round((r.top - gridBox.top - 12) / (hgt + 6)) + 1];
        }
        return { grid: grid.dataset.grid, numbering: grid.dataset.numbering, open: grid.querySelector('.door-open')!.textContent, at };
      });
      await expectReadable(page, `drawing ${where.grid} at ${viewport.width}x${viewport.height}`);
      await page.screenshot({ path: `${SHOTS}/kiosk-cabinet-${where.grid}-${where.numbering}-${viewport.width}x${viewport.height}.png` });
      expect(errors).toEqual([]);
      await page.close();
      return where;
    }

    for (const viewport of [PORTRAIT, LANDSCAPE]) {
      const rows = await drawn(h, viewport);
      expect(rows).toMatchObject({ grid: '6x4', numbering: 'rows', open: '7' });
      expect([rows.at['1'], rows.at['2'], rows.at['7'], rows.at['24']]).toEqual([
        [1, 1],
        [2, 1],
        [1, 2],
        [6, 4],
      ]);
    }

    const other = await startTestApp({ env: { CABINET_GRID: '4x6', CABINET_NUMBERING: 'columns' } });
    try {
      other.flows.markReady();
      for (const viewport of [PORTRAIT, LANDSCAPE]) {
        const columns = await drawn(other, viewport);
        expect(columns).toMatchObject({ grid: '4x6', numbering: 'columns', open: '7' });
        expect([columns.at['1'], columns.at['2'], columns.at['7'], columns.at['24']]).toEqual([
          [1, 1],
          [1, 2],
          [2, 1],
          [4, 6],
        ]);
      }
    } finally {
      await other.close();
    }
  });

  it('English: the reader who presses English hears English clips, composed in English order; the next person hears Chinese', async () => {
    const fetched: string[] = [];
    const { page, errors } = await openKiosk({ width: 1080, height: 1920 }, '', (p) =>
      p.on('request', (r) => fetched.push(new URL(r.url()).pathname)),
    );
    const lastSaid = () => page.evaluate(() => [document.documentElement.dataset.saidLanguage, document.documentElement.dataset.lastSaid]);
    expect(await lastSaid()).toEqual(['zh', 'welcome prompt']);
    expect(
      fetched.filter((u) => u.includes('/sounds/en/')),
      'no English clip before English is asked for',
    ).toEqual([]);

    // the switch says the screen again, in English
    await page.click('#lang');
    expect(await lastSaid()).toEqual(['en', 'welcome prompt']);
    await expect.poll(() => fetched.filter((u) => u.includes('/sounds/en/'))).toContain('/ui/kiosk/sounds/en/welcome.wav');

    // a typed code that is wrong: the English clips, the tries left said in English
    await page.click('#go-code');
    expect(await lastSaid()).toEqual(['en', 'code']);
    await tap(page, '13572468');
    await page.click('#key-ok');
    expect(await lastSaid()).toEqual(['en', 'phone']);
    await tap(page, '0000');
    await page.click('#key-ok');
    await page.waitForSelector('#result-panel[data-outcome="refused"]');
    const [lang, refused] = await lastSaid();
    expect(lang).toBe('en');
    // wrong, with the tries left; or, after the wrong codes typed before, the wait
    expect(refused).toMatch(/^(wrong( you-have (n\d+ )+tr(y|ies)-left)?|locked (try-now|try-again-in (n\d+ )+(seconds?|minutes?)))$/);

    // two drop-off doors opened through the serial scanner: "Doors 3 and 21 are open. Put your materials in …"
    h.bus.emit('scan', {
      source: 'scanner',
      kind: 'qr',
      outcome: 'OPENED',
      action: 'dropoff',
      compartments: [3, 21],
      said: saidOf('door.kiosk_opened_dropoff', { doors: [3, 21] }),
    });
    await page.waitForSelector('#result-panel[data-outcome="opened"]');
    await expect.poll(lastSaid).toEqual(['en', 'doors n3 and n20 n1 are-open put-close']);
    // 重听 says it again, in English
    await page.click('#replay');
    expect(await lastSaid()).toEqual(['en', 'doors n3 and n20 n1 are-open put-close']);
    // each clip is fetched as it comes to be said, from the English folder
    for (const name of ['doors', 'n3', 'and', 'n20', 'n1', 'are-open', 'put-close']) {
      await expect.poll(() => fetched, { timeout: 15_000 }).toContain(`/ui/kiosk/sounds/en/${name}.wav`);
    }
    expect(fetched.filter((u) => u.endsWith('.wav') && !u.includes('/sounds/en/') && !/\/sounds\/(welcome|prompt)\.wav$/.test(u))).toEqual([]);

    // the next person starts in Chinese
    await page.click('#result-home');
    await page.waitForSelector('body[data-screen="home"]');
    await page.click('#go-code');
    expect(await lastSaid()).toEqual(['zh', 'code']);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('ships every spoken prompt as a small clip the browser decodes', async () => {
    const loadedAtStart: string[] = [];
    const { page, errors } = await openKiosk({ width: 1080, height: 1920 }, '', (p) => p.on('request', (r) => loadedAtStart.push(r.url())));
    const atStart = loadedAtStart.length;
    // a string, so that vitest leaves the page's own dynamic import alone
    const clips = await page.evaluate<{ name: string; bytes: number; seconds: number }[]>(`(async () => {
      const { VOICES } = await import('/ui/kiosk/sounds.js');
      const out = [];
      for (const [lang, voice] of Object.entries(VOICES)) for (const name of Object.keys(voice.clips)) {
        const url = voice.base + name + '.wav';
        const bytes = (await (await fetch(url)).arrayBuffer()).byteLength;
        const seconds = await new Promise((resolve, reject) => {
          const a = new Audio(url);
          a.onloadedmetadata = () => resolve(a.duration);
          a.onerror = () => reject(new Error(name + ': cannot decode'));
        });
        out.push({ name: lang + ':' + name, bytes, seconds });
      }
      return out;
    })()`);
    for (const required of ['welcome', 'prompt', 'door-opened', 'still-inside', 'nothing-inside', 'offline', 'call', 'please-wait', 'n0', 'n10']) {
      expect(clips.map((c) => c.name)).toContain(`zh:${required}`);
    }
    for (const required of ['welcome', 'prompt', 'door', 'is-open', 'still-inside', 'nothing-inside', 'offline', 'call', 'n0', 'n19', 'n90']) {
      expect(clips.map((c) => c.name)).toContain(`en:${required}`);
    }
    for (const c of clips) {
      expect(c.seconds, c.name).toBeGreaterThan(0.15);
      expect(c.seconds, c.name).toBeLessThan(8);
    }
    loadedAtStart.length = atStart;
    const total = clips.reduce((n, c) => n + c.bytes, 0);
    console.log('clips', clips.length, 'total bytes', total);
    // 22 050 Hz mu-law: about 22 KB a second of speech; fetched when first said, never all at page load
    expect(total).toBeLessThan(6_000_000);
    expect(loadedAtStart.filter((u) => u.endsWith('.wav')).length).toBeLessThanOrEqual(2);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('idle: a warning with one big button gives more time; then back home with what was typed cleared', async () => {
    const { page, errors } = await openKiosk({ width: 1080, height: 1920 }, '?idle=1&warn=2');
    await page.click('#go-code');
    await tap(page, '135');
    await page.waitForSelector('#idle-warning:not([hidden])', { timeout: 3000 });
    await expect(page.locator('#more-time').innerText()).resolves.toContain('还需要更多时间吗');
    const button = await page.locator('#more-time').boundingBox();
    expect(Math.min(button!.width, button!.height)).toBeGreaterThanOrEqual(200);
    await page.screenshot({ path: `${SHOTS}/kiosk-idle-portrait.png` });
    expect(await said(page)).toContain('more-time');
    await page.click('#more-time');
    await page.waitForSelector('#idle-warning', { state: 'hidden' });
    expect(await page.locator('#boxes-code .box.filled').count()).toBe(3);
    // nobody answers this time
    await page.waitForSelector('#idle-warning:not([hidden])', { timeout: 3000 });
    await page.waitForSelector('body[data-screen="home"]', { timeout: 4000 });
    await page.click('#go-code');
    expect(await page.locator('#boxes-code .box.filled').count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('too many wrong codes: LOCKED says so in words, with the wait, and points to the staff', async () => {
    // earlier wrong tries count too: keep failing through the API until the kiosk is locked
    for (let i = 0; i < 10; i++) {
      const r = await h.kiosk.post<{ code: string }>('/api/kiosk/pickup', { body: { code: '00000000', phoneLast4: '0000' } });
      if (r.body.code === 'LOCKED') break;
    }
    const { page, errors } = await openKiosk({ width: 1920, height: 1080 });
    await page.click('#go-code');
    await tap(page, '11112222');
    await page.click('#key-ok');
    await tap(page, '3333');
    await page.click('#key-ok');
    await page.waitForSelector('#result-panel[data-code="LOCKED"]');
    await expect(page.locator('#result-head').innerText()).resolves.toContain('输错次数太多');
    await expect(page.locator('#result-wait').innerText()).resolves.toMatch(/请 \d+ (秒|分钟)后再试/);
    // during the wait the main button is not "type again"
    expect(await page.locator('#result-retry').isVisible()).toBe(false);
    expect(await page.evaluate(() => document.documentElement.dataset.lastSaid)).toMatch(/^locked please (n\d+ )+(seconds|minutes)-later$/);
    await expectReadable(page, 'locked');
    await page.screenshot({ path: `${SHOTS}/kiosk-locked-landscape.png` });
    expect(errors).toEqual([]);
    await page.close();
  });
});
