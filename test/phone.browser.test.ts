/**
 * A resident on a phone (390×844), in a real browser against the real app: applies for a residence
 * certificate at /m/submit (a wrong mobile number is refused next to the field, in words, and nothing is
 * created), follows it on the status page while staff accept, prepare and load it, sees the compartment and
 * a pickup QR code that loads, and applies again from the same phone without giving the ID number again.
 * Sizes for older residents are measured from the rendered DOM; screenshots go to /tmp/phone-*.png.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, uniqueIdNumber, type TestApp } from './app-harness.js';
import { axeViolations } from './axe.js';
import { launchBrowser } from './browser.js';

let browser: Browser;
let h: TestApp;
let context: BrowserContext;

beforeAll(async () => {
  [browser, h] = await Promise.all([launchBrowser(), startTestApp()]);
  h.flows.markReady();
  context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, hasTouch: true, locale: 'zh-CN' });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await h?.close();
});

interface Measure {
  bodyFont: number;
  bodyLineHeight: number;
  h1Font: number;
  /** Smallest font of visible Chinese text (outside the smaller English lines). */
  minZhFont: number;
  minZhWhere: string;
  minEnFont: number;
  /** Smallest height of a visible button, link-button or text input. */
  minTarget: number;
  minTargetWhere: string;
  targets: number;
  /** Lowest text contrast ratio against the nearest opaque background. */
  minContrast: number;
  minContrastWhere: string;
  scrollWidth: number;
}

/** Sizes and contrast as rendered, for every visible element. */
async function measure(page: Page): Promise<Measure> {
  return page.evaluate(() => {
    const visible = (el: Element) => {
      const r = el.getBoundingClientRect();
      const s = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
    };
    const px = (v: string) => parseFloat(v);
    const describe = (el: Element) =>
      `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className ? '.' + String(el.className).replace(/ /g, '.') : ''} "${(el.textContent ?? '').trim().slice(0, 20)}"`;
    const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const lum = ([r, g, b]: number[]) => {
      const f = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
    };
    const background = (el: Element | null): number[] => {
      for (let e = el; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length >= 3 && (c.length < 4 || c[3]! >= 0.99)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };

    const body = getComputedStyle(document.body);
    const out = {
      bodyFont: px(body.fontSize),
      bodyLineHeight: px(body.lineHeight) / px(body.fontSize),
      h1Font: Math.min(
        ...Array.from(document.querySelectorAll('h1'))
          .filter(visible)
          .map((e) => px(getComputedStyle(e).fontSize)),
      ),
      minZhFont: Infinity,
      minZhWhere: '',
      minEnFont: Infinity,
      minTarget: Infinity,
      minTargetWhere: '',
      targets: 0,
      minContrast: Infinity,
      minContrastWhere: '',
      scrollWidth: document.documentElement.scrollWidth,
    };
    for (const el of Array.from(document.querySelectorAll('body *'))) {
      if (!visible(el)) continue;
      const ownText = Array.from(el.childNodes).some((n) => n.nodeType === Node.TEXT_NODE && (n.textContent ?? '').trim() !== '');
      if (ownText) {
        const s = getComputedStyle(el);
        const size = px(s.fontSize);
        if (el.closest('.en')) out.minEnFont = Math.min(out.minEnFont, size);
        else if (size < out.minZhFont) (out.minZhFont = size), (out.minZhWhere = describe(el));
        const ratio = (() => {
          const a = lum(rgb(s.color));
          const b = lum(background(el));
          return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        })();
        if (ratio < out.minContrast) (out.minContrast = ratio), (out.minContrastWhere = describe(el));
      }
      if (el.matches('button, a.button, input, select, textarea')) {
        out.targets++;
        const hgt = el.getBoundingClientRect().height;
        if (hgt < out.minTarget) (out.minTarget = hgt), (out.minTargetWhere = describe(el));
      }
    }
    return out;
  });
}

function checkSizes(m: Measure, where: string): void {
  expect(m.bodyFont, `${where}: body text`).toBeGreaterThanOrEqual(24);
  expect(m.minZhFont, `${where}: smallest Chinese text ${m.minZhWhere}`).toBeGreaterThanOrEqual(24);
  expect(m.minEnFont, `${where}: English lines (18 pt)`).toBeGreaterThanOrEqual(24);
  expect(m.h1Font, `${where}: main title`).toBeGreaterThanOrEqual(40);
  expect(m.bodyLineHeight, `${where}: line spacing`).toBeGreaterThanOrEqual(1.3);
  expect(m.targets, `${where}: touch targets found`).toBeGreaterThan(0);
  expect(m.minTarget, `${where}: smallest touch target ${m.minTargetWhere}`).toBeGreaterThanOrEqual(60);
  expect(m.minContrast, `${where}: lowest contrast ${m.minContrastWhere}`).toBeGreaterThanOrEqual(4.5);
  expect(m.scrollWidth, `${where}: no sideways scrolling`).toBeLessThanOrEqual(390);
}

/** The whole page, and the first screen as the resident sees it. */
async function shoot(page: Page, path: string): Promise<void> {
  // every phone page state shown here is checked by axe-core (WCAG 2.2 A/AA): no serious or critical violation
  expect(await axeViolations(page), `${path}: axe-core`).toEqual([]);
  await page.screenshot({ path: `${path}.png`, fullPage: true });
  await page.screenshot({ path: `${path}-screen.png` });
}

const requestCount = () => (h.store.db.prepare('SELECT count(*) AS n FROM requests').get() as { n: number }).n;

async function statusOf(statusToken: string): Promise<string> {
  return (await h.api.get<{ state: string }>(`/api/requests/status/${statusToken}`)).body.state;
}

it('a resident applies from the phone, follows the request to the cabinet, and applies again without the ID number', async () => {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // console errors (a CSP refusal shows there), except the one refused submission the test makes on purpose
  page.on('console', (m) => {
    if (m.type() === 'error' && !(m.text().includes('400') && m.location().url.endsWith('/api/requests')))
      errors.push(`${m.text()} ${m.location().url}`);
  });
  const sizes: Record<string, Measure> = {};

  // ------------------------------------------------------------------ choose, then a wrong mobile number
  await page.goto(`${h.url}/m/submit`);
  await page.getByRole('button', { name: /居住证明/ }).waitFor();
  sizes.choose = await measure(page);
  await shoot(page, '/tmp/phone-choose');
  await page.getByRole('button', { name: /居住证明/ }).click();
  await page.getByLabel('身份证号码').waitFor({ state: 'visible' });
  await page.getByLabel('楼号').waitFor({ state: 'visible' });
  await page.getByLabel('姓名').fill('张三丰');
  await page.getByLabel('手机号码').fill('1381234567'); // 10 digits
  await page.getByLabel('身份证号码').fill(uniqueIdNumber(7));
  await page.getByLabel('楼号').fill('12号楼');
  await page.getByLabel('单元').fill('2');
  await page.getByLabel('房号').fill('301');
  await expect(page.locator('#mobile').getAttribute('inputmode')).resolves.toBe('numeric');
  await expect(page.locator('#idNumber').getAttribute('inputmode')).resolves.toBe('numeric');
  const xKey = await page.locator('#id-x').boundingBox();
  expect(Math.min(xKey!.width, xKey!.height), 'the ID number X key').toBeGreaterThanOrEqual(60);

  // ------------------------------------------------------------------ the page's own check: two empty fields, both shown
  await page.getByLabel('姓名').fill('');
  await page.getByLabel('房号').fill('');
  await page.getByRole('button', { name: /提交申请/ }).click();
  await expect.poll(() => page.locator('#err-name').textContent()).toContain('请填写姓名');
  expect(await page.locator('#err-address-room').textContent()).toContain('请填写房号');
  expect(await page.locator('#form-summary li').allTextContents()).toEqual([
    expect.stringContaining('请填写姓名'),
    expect.stringContaining('请填写房号'),
  ]);
  expect(await page.locator('#form-summary').isVisible()).toBe(true);
  expect(requestCount()).toBe(0);

  // ------------------------------------------------------------------ the server's check: two wrong fields, both shown with a summary
  await page.getByLabel('姓名').fill('张3');
  await page.getByLabel('房号').fill('301');
  await page.getByRole('button', { name: /提交申请/ }).click();
  await expect.poll(() => page.locator('#err-name').textContent()).toContain('姓名只能包含汉字或字母');
  expect(await page.locator('#err-mobile').textContent()).toContain('手机号码格式不正确');
  expect(await page.locator('#err-address-room').textContent()).toBe('');
  expect(await page.locator('#name').getAttribute('aria-invalid')).toBe('true');
  expect(await page.locator('#room').getAttribute('aria-invalid')).toBeNull();
  const summary = page.locator('#form-summary');
  expect(await summary.isVisible()).toBe(true);
  const items = await summary.locator('li').allTextContents();
  expect(items).toHaveLength(2);
  expect(items[0]).toContain('姓名');
  expect(items[1]).toContain('手机号码');
  // each summary line leads to its field
  await summary.locator('li a').nth(1).click();
  expect(await page.evaluate(() => document.activeElement?.id)).toBe('mobile');
  expect(requestCount()).toBe(0);
  await page.getByLabel('姓名').fill('张三丰');

  await page.getByRole('button', { name: /提交申请/ }).click();
  const mobileError = page.locator('#err-mobile');
  await expect.poll(() => mobileError.textContent()).toContain('手机号码格式不正确');
  expect(await mobileError.textContent()).not.toMatch(/^mobile:/);
  expect(await page.locator('#mobile').getAttribute('aria-invalid')).toBe('true');
  expect(await page.evaluate(() => document.activeElement?.id)).toBe('mobile');
  // the message sits with the field, under it
  const [inputBox, errorBox] = await Promise.all([page.locator('#mobile').boundingBox(), mobileError.boundingBox()]);
  expect(errorBox!.y).toBeGreaterThan(inputBox!.y);
  expect(errorBox!.y - (inputBox!.y + inputBox!.height)).toBeLessThan(40);
  expect(requestCount()).toBe(0);
  sizes.submit = await measure(page);
  await shoot(page, '/tmp/phone-submit-error');

  // ------------------------------------------------------------------ fixed: submitted, on the status page
  await page.getByLabel('手机号码').fill('13812345678');
  await page.getByRole('button', { name: /提交申请/ }).click();
  await page.waitForURL(/\/m\/status\/[A-Za-z0-9_-]+$/);
  const statusToken = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
  await expect.poll(() => page.locator('#number').textContent()).toMatch(/^BB-\d{8}-\d{4}$/);
  const number = (await page.locator('#number').textContent())!;
  expect(await page.locator('#state-zh').textContent()).toContain('已提交');
  expect(await page.locator('#doc').textContent()).toContain('居住证明');
  expect(await page.locator('#progress li[aria-current="step"]').textContent()).toContain('已提交');
  expect(await page.locator('body').textContent()).toContain('请保存此页面');
  expect(requestCount()).toBe(1);
  const stored = await page.evaluate(() => localStorage.getItem('bangbangui.phone.v1') ?? '');
  expect(stored).toContain('residentToken');
  expect(stored).not.toContain(uniqueIdNumber(7));
  sizes.submitted = await measure(page);
  await shoot(page, '/tmp/phone-status-submitted');

  // ------------------------------------------------------------------ staff accept, prepare and load it
  const { id } = h.store.db.prepare('SELECT id FROM requests WHERE number = ?').get(number) as { id: number };
  const staff = await h.staffSession('staff');
  expect((await staff.api.post(`/api/staff/requests/${id}/accept`)).status).toBe(200);
  expect((await staff.api.post(`/api/staff/requests/${id}/ready`)).status).toBe(200);
  const load = await staff.api.post<{ opened: boolean; compartment: number }>(`/api/staff/requests/${id}/load`);
  expect(load.body.opened).toBe(true);
  const no = load.body.compartment;
  h.cabinet.putItem(no);
  h.cabinet.closeDoor(no);
  await expect.poll(() => statusOf(statusToken)).toBe('loaded');

  await page.getByRole('button', { name: /刷新/ }).click();
  await page.locator('#pickup').waitFor({ state: 'visible' });
  expect(await page.locator('#pickup-title').textContent()).toContain('请到居委会门口帮办柜取件');
  expect(await page.locator('#compartment').textContent()).toBe(String(no));
  expect(await page.locator('#state-zh').textContent()).toContain('已放入帮办柜');
  expect(await page.locator('#progress li[aria-current="step"]').textContent()).toContain('已放入柜子');
  expect(await page.locator('#sms-note').textContent()).toContain('138********');
  expect(await page.locator('#sms-note').textContent()).not.toContain('5678');
  expect(await page.locator('#sms-note').textContent()).toContain('8 位取件码');
  const qr = page.locator('#pickup-img');
  await expect.poll(() => qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
  const qrBox = await qr.boundingBox();
  expect(qrBox!.width / 390, 'pickup QR width / screen width').toBeGreaterThanOrEqual(0.7);
  await page.evaluate(() => window.scrollTo(0, 0));
  const qrTop = await qr.boundingBox();
  expect(qrTop!.y + qrTop!.height, 'the whole pickup QR on the first screen, without scrolling').toBeLessThanOrEqual(844);
  sizes.loaded = { ...(await measure(page)), qrWidthShare: qrBox!.width / 390 } as Measure;
  const bodyText = (await page.locator('body').textContent())!;
  expect(bodyText).not.toContain('13812345678');
  expect(bodyText).not.toContain(uniqueIdNumber(7).slice(6, 14));
  await shoot(page, '/tmp/phone-status-loaded');

  // ------------------------------------------------------------------ the same phone applies again
  await page.getByRole('link', { name: /办理其他事项/ }).click();
  await page.waitForURL(/\/m\/submit$/);
  await expect.poll(() => page.locator('#registered').textContent()).toContain('张*丰');
  expect(await page.locator('#registered').textContent()).toContain('138****5678');
  expect(await page.locator('#mine').textContent()).toContain(number);
  const storedToken = () =>
    page.evaluate(() => (JSON.parse(localStorage.getItem('bangbangui.phone.v1') ?? '{}') as { residentToken?: string }).residentToken ?? '');
  const tokenBefore = await storedToken();
  await page.getByRole('button', { name: /我的二维码/ }).click();
  await page.locator('#myqr-img').waitFor({ state: 'visible' });
  // showing the QR renews it: the phone keeps the new token, the old one (and any photo of it) no longer works
  await expect.poll(storedToken).not.toBe(tokenBefore);
  expect((await fetch(`${h.url}/api/residents/qr.svg?token=${tokenBefore}`)).status).toBe(404);
  sizes.chooseRegistered = await measure(page);
  await shoot(page, '/tmp/phone-choose-registered');
  const myQr = page.locator('#myqr-img');
  await expect.poll(() => myQr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
  await page.getByRole('button', { name: /养老\/高龄补贴证明/ }).click();
  await page.locator('#registered-form').waitFor({ state: 'visible' });
  expect(await page.locator('#row-idNumber').isVisible()).toBe(false);
  expect(await page.locator('#row-address').isVisible()).toBe(false);
  expect(await page.locator('#name').isVisible()).toBe(false);
  sizes.again = await measure(page);
  await shoot(page, '/tmp/phone-submit-again');
  await page.getByRole('button', { name: /提交申请/ }).click();
  await page.waitForURL((u) => u.pathname.startsWith('/m/status/') && !u.pathname.endsWith(statusToken));
  await expect.poll(() => page.locator('#state-zh').textContent()).toContain('已提交');
  expect(await page.locator('#doc').textContent()).toContain('养老/高龄补贴证明');
  const residents = h.store.db.prepare('SELECT count(*) AS n FROM residents').get() as { n: number };
  expect(residents.n, 'the second request went to the same resident').toBe(1);
  expect(requestCount()).toBe(2);

  // ------------------------------------------------------------------ a family member applies on the same phone
  await page.goto(`${h.url}/m/submit`);
  await page.getByRole('button', { name: /居住证明/ }).click();
  await page.getByRole('button', { name: /为其他人办理/ }).click();
  await page.locator('#other-form').waitFor({ state: 'visible' });
  await page.locator('#name').fill('李秀英');
  await page.locator('#mobile').fill('13900139000');
  await page.locator('#idNumber').fill('11010519491231002X');
  await page.locator('#building').fill('3号楼');
  await page.locator('#unit').fill('1');
  await page.locator('#room').fill('502');
  await page.getByRole('button', { name: /提交申请/ }).click();
  await page.waitForURL((u) => u.pathname.startsWith('/m/status/'));
  await expect.poll(() => page.locator('#state-zh').textContent()).toContain('已提交');
  const people = h.store.db.prepare('SELECT name FROM residents ORDER BY id').all() as { name: string }[];
  expect(
    people.map((p) => p.name),
    'a new resident, and the phone’s own record unchanged',
  ).toEqual(['张三丰', '李秀英']);
  const kept = await page.evaluate(() => Object.values(localStorage).join(''));
  expect(kept, 'the phone is still registered to its own resident').toContain('张三丰');
  expect(kept).not.toContain('李秀英');

  // ------------------------------------------------------------------ narrowest phones: nothing scrolls sideways
  await page.setViewportSize({ width: 360, height: 740 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);

  for (const [where, m] of Object.entries(sizes)) checkSizes(m, where);
  console.log(
    'phone page sizes',
    JSON.stringify(sizes, (_k, v) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v)),
  );
  expect(errors).toEqual([]);
  await page.close();
});

it('materials expected: the drop-off QR code and what to do; then a refusal shows its reason in words', async () => {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const r = await h.api.post<{ requestId: number; statusToken: string; state: string }>('/api/requests', {
    body: {
      name: '李四',
      mobile: '13900001234',
      idNumber: uniqueIdNumber(8),
      address: { building: '3号楼', unit: '1', room: '502' },
      serviceCode: 'family_relationship',
    },
  });
  expect(r.status).toBe(201);
  expect(r.body.state).toBe('awaiting_materials');
  await page.goto(`${h.url}/m/status/${r.body.statusToken}`);
  await page.locator('#dropoff').waitFor({ state: 'visible' });
  expect(await page.locator('#dropoff').textContent()).toContain('柜门打开后，放入材料');
  const img = page.locator('#dropoff-img');
  await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBeGreaterThan(0);
  expect(await page.locator('#pickup').isVisible()).toBe(false);
  await shoot(page, '/tmp/phone-status-dropoff');

  const staff = await h.staffSession('staff');
  expect((await staff.api.post(`/api/staff/requests/${r.body.requestId}/reject`, { body: { reason: '户籍不在本社区' } })).status).toBe(200);
  await page.getByRole('button', { name: /刷新/ }).click();
  await page.locator('#reason').waitFor({ state: 'visible' });
  expect(await page.locator('#reason').textContent()).toContain('户籍不在本社区');
  expect(await page.locator('#state-zh').textContent()).toBe('未能办理');
  expect(await page.locator('#dropoff').isVisible()).toBe(false);
  expect(await page.locator('#progress-section').isVisible()).toBe(false);
  const m = await measure(page);
  checkSizes(m, 'rejected');
  await shoot(page, '/tmp/phone-status-rejected');
  expect(errors).toEqual([]);
  await page.close();
});

it('a door closed the wrong way: the status page says the document is still inside, or that nothing was dropped off', async () => {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const staff = await h.staffSession('staff');
  /** @returns the resident's tokens */
  const submit = async (n: number, serviceCode: string) => {
    const r = await h.api.post<{ requestId: number; statusToken: string; residentToken: string }>('/api/requests', {
      body: {
        name: '王五',
        mobile: `1370000${String(n).padStart(4, '0')}`,
        idNumber: uniqueIdNumber(20 + n),
        address: { building: '5号楼', unit: '1', room: '101' },
        serviceCode,
      },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body;
  };
  const scanAtKiosk = async (text: string) =>
    (await h.kiosk.post<{ code: string; compartments: number[] }>('/api/kiosk/scan', { body: { text } })).body;
  const notice = () => page.locator('#door-notice');

  // pickup: the door opens, the resident shuts it again without taking the document
  const p = await submit(1, 'residence_certificate');
  for (const step of ['accept', 'ready'] as const) expect((await staff.api.post(`/api/staff/requests/${p.requestId}/${step}`)).status).toBe(200);
  const load = await staff.api.post<{ opened: boolean; compartment: number }>(`/api/staff/requests/${p.requestId}/load`);
  const no = load.body.compartment;
  h.cabinet.putItem(no);
  h.cabinet.closeDoor(no);
  await expect.poll(() => statusOf(p.statusToken)).toBe('loaded');
  await page.goto(`${h.url}/m/status/${p.statusToken}`);
  await page.locator('#pickup').waitFor({ state: 'visible' });
  expect(await notice().isVisible(), 'nothing to say before the door was opened').toBe(false);
  expect(await scanAtKiosk(p.residentToken)).toMatchObject({ code: 'OPENED', compartments: [no] });
  h.cabinet.closeDoor(no); // the document is still inside
  await expect
    .poll(async () => (await h.api.get<{ doorNotice: string | null }>(`/api/requests/status/${p.statusToken}`)).body.doorNotice)
    .toBe('item_not_taken');
  await page.getByRole('button', { name: /刷新/ }).click();
  await notice().waitFor({ state: 'visible' });
  expect(await notice().getAttribute('data-code')).toBe('item_not_taken');
  expect(await notice().textContent()).toContain('还在柜内');
  expect(await page.locator('#pickup').isVisible(), 'the code still works: the pickup QR is still there').toBe(true);
  await shoot(page, '/tmp/phone-status-item-not-taken');

  // drop-off: the door opens for the materials and is shut with nothing inside
  const d = await submit(2, 'family_relationship');
  await page.goto(`${h.url}/m/status/${d.statusToken}`);
  await page.locator('#dropoff').waitFor({ state: 'visible' });
  expect(await notice().isVisible()).toBe(false);
  const drop = await scanAtKiosk(d.residentToken);
  expect(drop.code).toBe('OPENED');
  h.cabinet.closeDoor(drop.compartments[0]!); // nothing put in
  await expect
    .poll(async () => (await h.api.get<{ doorNotice: string | null }>(`/api/requests/status/${d.statusToken}`)).body.doorNotice)
    .toBe('nothing_deposited');
  await page.getByRole('button', { name: /刷新/ }).click();
  await notice().waitFor({ state: 'visible' });
  expect(await notice().getAttribute('data-code')).toBe('nothing_deposited');
  expect(await notice().textContent()).toContain('没有材料');
  expect(await page.locator('#dropoff').isVisible(), 'the drop-off code still works').toBe(true);
  await shoot(page, '/tmp/phone-status-nothing-deposited');
  expect(errors).toEqual([]);
  await page.close();
});

it('a desktop browser shows the same pages at a readable width', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${h.url}/m/submit`);
  await page.getByRole('button', { name: /居住证明/ }).waitFor();
  const main = await page.locator('main').boundingBox();
  expect(main!.width).toBeLessThanOrEqual(720);
  // keyboard only: Tab reaches the first document, Enter opens its form
  await page.keyboard.press('Tab');
  let focused = '';
  for (let i = 0; i < 6 && !focused.includes('居住证明'); i++) {
    focused = await page.evaluate(() => document.activeElement?.textContent ?? '');
    if (!focused.includes('居住证明')) await page.keyboard.press('Tab');
  }
  expect(focused).toContain('居住证明');
  await page.keyboard.press('Enter');
  await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('form-title');
  await shoot(page, '/tmp/phone-desktop-form');
  expect(errors).toEqual([]);
  await page.close();
});

it('without the word catalogue (GET /api/words answers 503): the page’s own words, never a key; the documents still listed', async () => {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  let refused = 0;
  await page.route('**/api/words', (route) => {
    refused += 1;
    return route.fulfill({ status: 503, contentType: 'application/json', body: '{"code":"NOT_READY"}' });
  });
  await page.goto(`${h.url}/m/submit`);
  await page.getByRole('button', { name: /居住证明/ }).waitFor();
  expect(refused).toBeGreaterThan(0);
  /** Anything that looks like a key of the catalogue (phone.choose_title): never shown. */
  const keysShown = () => page.evaluate(() => document.body.innerText.match(/\b(phone|input|error)\.[a-z_.]+/g) ?? []);
  await expect(page.locator('#choose-title').innerText()).resolves.toContain('请选择要办理的事项');
  await expect(page.locator('#choose-title').innerText()).resolves.toContain('Choose the document you need');
  expect(await keysShown()).toEqual([]);
  await page.getByRole('button', { name: /居住证明/ }).click();
  await page.getByLabel('身份证号码').waitFor({ state: 'visible' });
  await expect(page.locator('#submit').innerText()).resolves.toContain('提交申请');
  expect(await keysShown()).toEqual([]);
  expect(errors).toEqual([]);
  await page.close();
});
