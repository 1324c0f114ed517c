/**
 * A new user runs the office from the console in a real browser, over a generated history (about 2 500 requests over
 * the last 75 days, with their audit rows): sees the setup banner (PUBLIC_URL not set), finds last month's requests,
 * reads one request's history as sentences, exports them (the CSV has a BOM, masked personal data and neutralised
 * formulas, and the export is in the audit log), reads the charts (values as visible text, checked against the
 * generated history), adds a staff member (the new PIN is shown once, the account must change it) and adds a
 * document type (residents can ask for it at once). Every office screen (requests and a request's history, export,
 * statistics, audit log, accounts, document types) is checked by axe-core with the WCAG 2.2 A/AA rules: no serious or
 * critical violation. Screenshots go to test-output/office/ (git-ignored).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHistory, type GeneratedHistory } from '../controller/store/history-test-support.js';
import { findAudit, localDay } from '../controller/store/index.js';
import { startTestApp, TEST_PIN, type TestApp } from './app-harness.js';
import { axeViolations, type AxeFinding } from './axe.js';
import { launchBrowser } from './browser.js';

const OUT = path.resolve('test-output/office');
const OFF = 480;
let h: TestApp;
let browser: Browser;
let page: Page;
let hist: GeneratedHistory;
let adminLogin: string;
const problems: string[] = [];

/** Last month as local dates (the browser and the store both run in the test's zone: the store at UTC+8). */
function lastMonth(): [string, string] {
  const now = new Date();
  const first = new Date(now.getFullYear(), now.getMonth() - 1, 1);
  const last = new Date(now.getFullYear(), now.getMonth(), 0);
  const f = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  return [f(first), f(last)];
}

beforeAll(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  [h, browser] = await Promise.all([startTestApp(), launchBrowser()]);
  h.flows.markReady();
  const admin = await h.staffSession('admin');
  adminLogin = admin.login;
  hist = generateHistory(h.store.ctx, { requests: 2500, days: 75, now: Date.now() - 60_000, staffIds: [admin.id], seed: 11 });
  // the browser's zone is the store's (UTC+8), so "last month" means the same days to both
  const ctx = await browser.newContext({
    viewport: { width: 1440, height: 1000 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    acceptDownloads: true,
  });
  page = await ctx.newPage();
  page.on('pageerror', (e) => problems.push(`pageerror: ${String(e)}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  await page.goto(`${h.url}/staff`);
  await page.getByLabel('账号').fill(adminLogin);
  await page.getByLabel('PIN（6–12 位数字）').fill(TEST_PIN);
  await page.getByRole('button', { name: /^登录/ }).click();
  await page.locator('#console').waitFor();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

/** axe-core's serious and critical WCAG 2.2 A/AA violations on each office screen, gathered and checked at the end. */
const inaccessible: Record<string, AxeFinding[]> = {};
async function checkAccess(where: string): Promise<void> {
  const found = await axeViolations(page);
  if (found.length) inaccessible[where] = found;
}

/** Local day of a UTC ms in the store's zone. */
const dayOf = (ms: number) => localDay(ms, OFF);

describe('running the office', () => {
  it('says on the console that PUBLIC_URL is not set', async () => {
    const banner = page.locator('#setup-banner');
    await expect.poll(() => banner.isVisible()).toBe(true);
    expect(await banner.innerText()).toContain('未设置 PUBLIC_URL');
    expect(await banner.innerText()).toContain('no phone can reach');
  });

  it('finds last month’s requests and reads one request’s history as sentences', async () => {
    const [from, to] = lastMonth();
    await page.getByRole('button', { name: /^申请记录/ }).click();
    await page.getByRole('button', { name: /^上个月/ }).click();
    const rows = page.locator('#view-history tbody tr');
    await rows.first().waitFor();
    expect(await page.locator('#hist-from').inputValue()).toBe(from);
    expect(await page.locator('#hist-to').inputValue()).toBe(to);
    const want = hist.requests
      .filter((r) => dayOf(r.createdAt) >= from && dayOf(r.createdAt) <= to)
      .sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
    expect(want.length).toBeGreaterThan(100);
    expect(await rows.count()).toBe(50);
    expect(await page.locator('#history-count').innerText()).toContain('还有更多');
    expect(await page.locator('#history-count').innerText()).toContain('50 found (more below)');
    const numbers = await page.locator('#view-history tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-request')));
    expect(numbers).toEqual(want.slice(0, 50).map((r) => r.number));
    await page.getByRole('button', { name: /^更多/ }).click();
    await expect.poll(() => rows.count()).toBe(Math.min(100, want.length));

    // a collected one: its story from submission to collection
    const collected = want.find((r, i) => i < 100 && r.state === 'collected')!;
    await page.locator(`#view-history tr[data-request="${collected.number}"] button`).click();
    const story = page.locator('.story .sentences li');
    await story.first().waitFor();
    const text = await page.locator('.story').innerText();
    expect(text).toContain(collected.number);
    expect(text).toContain('提交申请');
    expect(text).toContain('受理了申请');
    expect(text).toContain(`居民从${collected.compartmentNo} 号柜门取走了文件`);
    expect(text).not.toMatch(/request\.\w+/); // sentences, not internal keys
    await checkAccess('requests and one request’s history');
    await page.screenshot({ path: path.join(OUT, 'history.png') });
  });

  it('exports last month’s requests: BOM, masked, formulas neutralised, audited', async () => {
    const [from, to] = lastMonth();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page
        .locator('#view-history')
        .getByRole('button', { name: /^导出 CSV/ })
        .click(),
    ]);
    expect(download.suggestedFilename()).toBe(`requests-${from}-${to}.csv`);
    const file = path.join(OUT, download.suggestedFilename());
    await download.saveAs(file);
    const bytes = fs.readFileSync(file);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.toString('utf8').slice(1).split('\r\n').filter(Boolean);
    const want = hist.requests.filter((r) => dayOf(r.createdAt) >= from && dayOf(r.createdAt) <= to);
    expect(lines.length).toBe(want.length + 1);
    for (const r of want.slice(0, 20)) {
      const line = lines.find((l) => l.startsWith(`${r.number},`))!;
      expect(line).toContain(`${r.mobile.slice(0, 3)}****${r.mobile.slice(7)}`);
      expect(line).not.toContain(r.mobile);
      expect(line).not.toContain(r.residentName.length > 1 ? r.residentName : '\u0000');
    }
    const injected = lines.filter((l) => l.includes('HYPERLINK'));
    expect(injected.length).toBeGreaterThan(0);
    expect(injected.every((l) => l.includes(`"'=HYPERLINK(""http://x"")"`))).toBe(true);
    expect(await page.locator('#view-history .filters [role="status"]').innerText()).toContain('已导出');
    await checkAccess('export');
    expect(findAudit(h.store.ctx, { action: 'export.requests', limit: 1 }).items[0]).toMatchObject({ detail: { from, to, masked: true } });
  });

  it('reads the charts: requests per day, per document type, time to collection, per month', async () => {
    await page.getByRole('button', { name: /^统计/ }).click();
    await page.getByRole('button', { name: /^上个月/ }).click();
    const [from, to] = lastMonth();
    await expect.poll(async () => page.locator('#view-stats .filters .note').innerText()).toContain(`${from} 至 ${to}`);
    const made = hist.requests.filter((r) => dayOf(r.createdAt) >= from && dayOf(r.createdAt) <= to);
    expect(await page.locator('#chart-per-day .sum').innerText()).toContain(`共 ${made.length} 件`);
    // per day: the bars' tooltips carry each day's value
    const days = await page.locator('#chart-per-day svg rect title').allTextContents();
    const firstDay = made.filter((r) => dayOf(r.createdAt) === from).length;
    expect(days[0]).toBe(`${from.slice(5)}: ${firstDay}`);
    // per document type: label and value as visible text
    const perService = new Map<string, number>();
    for (const r of made) perService.set(r.serviceCode, (perService.get(r.serviceCode) ?? 0) + 1);
    const serviceText = await page.locator('#chart-per-service svg').textContent();
    expect(serviceText).toContain('居住证明');
    expect(serviceText).toContain(String(perService.get('residence_certificate')));
    const collected = hist.requests.filter((r) => r.state === 'collected' && dayOf(r.closedAt!) >= from && dayOf(r.closedAt!) <= to);
    expect(await page.locator('#chart-wait .sum').innerText()).toContain(`取走 ${collected.length} 件`);
    expect(await page.locator('#chart-wait .sum').innerText()).toContain(`${collected.length} collected; half within`);
    expect(await page.locator('#chart-per-day svg').getAttribute('aria-label')).toBe(`每天的申请，${from}–${to} Requests per day, ${from}–${to}`);
    const month = from.slice(0, 7);
    const ended = hist.requests.filter((r) => r.closedAt !== null && dayOf(r.closedAt) >= from && dayOf(r.closedAt) <= to);
    const monthRow = page.locator(`#chart-months tr[data-month="${month}"]`);
    expect((await monthRow.locator('td').allInnerTexts()).map(Number)).toEqual([
      ended.filter((r) => r.state === 'collected').length,
      ended.filter((r) => r.state === 'retrieved').length,
      ended.filter((r) => r.state === 'rejected').length,
      ended.filter((r) => r.state === 'cancelled').length,
      ended.length,
    ]);
    await checkAccess('statistics');
    await page.screenshot({ path: path.join(OUT, 'statistics.png'), fullPage: true });
  });

  it('reads the audit log', async () => {
    await page.getByRole('button', { name: /^操作记录/ }).click();
    await page
      .locator('#view-audit')
      .getByRole('button', { name: /^上个月/ })
      .click();
    await page.locator('#view-audit tbody tr').first().waitFor();
    expect(await page.locator('#view-audit tbody tr').count()).toBeGreaterThan(10);
    await checkAccess('audit log');
    await page.screenshot({ path: path.join(OUT, 'audit.png'), fullPage: true });
  });

  it('adds a staff member: the PIN is shown once and must be changed at first sign-in', async () => {
    await page.getByRole('button', { name: /^账号/ }).click();
    await page.getByLabel(/^账号（小写字母或数字）/).fill('xiaowang');
    await page.getByLabel(/^姓名/).fill('小王');
    await page.locator('#view-accounts').getByRole('button', { name: /^添加/ }).click();
    const pin = page.locator('#view-accounts [data-pin]');
    await pin.waitFor();
    const shown = await pin.innerText();
    expect(shown).toMatch(/^\d{8}$/);
    expect(await page.locator('#view-accounts tr[data-login="xiaowang"]').innerText()).toContain('待改 PIN');
    const login = await h.api.post<{ staff: { mustChangePin: boolean } }>('/api/staff/login', { body: { login: 'xiaowang', pin: shown } });
    expect(login.status).toBe(200);
    expect(login.body.staff.mustChangePin).toBe(true);
    await checkAccess('accounts');
    await page.screenshot({ path: path.join(OUT, 'accounts.png'), fullPage: true });
  });

  it('adds a document type with the fields it needs; residents can ask for it at once', async () => {
    await page.getByRole('button', { name: /^证明目录/ }).click();
    await page.locator('#svc-code').fill('parking_permit');
    await page.locator('#svc-nameZh').fill('停车证明');
    await page.locator('#svc-nameEn').fill('Parking permit letter');
    await page.locator('#svc-id').uncheck();
    await page.locator('#svc-materials').check();
    await page.locator('#view-services').getByRole('button', { name: /^保存/ }).click();
    await page.locator('#view-services tr[data-code="parking_permit"]').waitFor();
    expect(await page.locator('#view-services [role="status"]').innerText()).toContain('已保存 停车证明');
    expect(await page.locator('#view-services [role="status"]').innerText()).toMatch(/saved$/);
    const services = await h.api.get<{ services: { code: string; needs: { idNumber: boolean; address: boolean }; needsMaterials: boolean }[] }>(
      '/api/services',
    );
    expect(services.body.services.find((s) => s.code === 'parking_permit')).toMatchObject({
      needs: { idNumber: false, address: true },
      needsMaterials: true,
    });
    await checkAccess('document types');
    await page.screenshot({ path: path.join(OUT, 'documents.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  it('every office screen passes axe-core (WCAG 2.2 A and AA): no serious or critical violation', () => {
    expect(Object.keys(inaccessible).length === 0 ? [] : inaccessible).toEqual([]);
  });
});
