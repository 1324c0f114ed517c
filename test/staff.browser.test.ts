/**
 * The staff console in a real browser against the real app (simulated cabinet behind the real driver):
 * sign in, accept → ready → load (the door opens, the grid shows it), the cabinet closes on the document
 * (the grid follows live), reject with a reason, a tamper alarm arrives live and is dealt with (已处理, greyed with who
 * and when, also when another console deals with one), force-open is for admins only,
 * a new account changes its PIN first, and a dropped live channel says so. Everything is read from the DOM.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR, staffActor } from '../controller/domain/types.js';
import { transitionRequest } from '../controller/store/index.js';
import { startTestApp, TEST_PIN, uniqueIdNumber, type TestApp } from './app-harness.js';
import { axeViolations } from './axe.js';
import { launchBrowser } from './browser.js';
import { said } from '../controller/words/keys.js';

let h: TestApp;
let browser: Browser;
let seq = 40;

beforeAll(async () => {
  [h, browser] = await Promise.all([startTestApp(), launchBrowser()]);
  h.flows.markReady();
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

async function submit(name: string, mobile: string): Promise<{ id: number; number: string }> {
  const r = await h.api.post<{ requestId: number; number: string }>('/api/requests', {
    body: { name, mobile, idNumber: uniqueIdNumber(++seq), address: { building: '3', unit: '2', room: '502' }, serviceCode: 'residence_certificate' },
  });
  expect(r.status).toBe(201);
  return { id: r.body.requestId, number: r.body.number };
}

interface Watched {
  page: Page;
  problems: string[];
}

async function openConsole(): Promise<Watched> {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 1000 }, locale: 'zh-CN' });
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${String(e)}`));
  // CSP violations and failed loads show up as console errors
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[0139]/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  await page.goto(`${h.url}/staff`);
  return { page, problems };
}

async function signIn(page: Page, login: string, pin = TEST_PIN): Promise<void> {
  await page.getByLabel('账号').fill(login);
  await page.getByLabel('PIN（6–12 位数字）').fill(pin);
  await page.getByRole('button', { name: /^登录/ }).click();
}

const row = (page: Page, group: string, number: string) => page.locator(`[data-group="${group}"] [data-request="${number}"]`);
const cell = (page: Page, no: number) => page.locator(`#grid [data-no="${no}"]`);

/** Visible text under 18 px or under 4.5:1 contrast, and buttons under 44 × 44 px, measured from the rendered page. */
async function sizeProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const p = n.parentElement;
      if (!p || !n.textContent?.trim() || p.closest('[hidden], .visually-hidden')) continue;
      const r = p.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      const px = parseFloat(getComputedStyle(p).fontSize);
      if (px < 18) out.push(`text ${px}px: ${n.textContent.trim().slice(0, 30)}`);
    }
    // contrast of every visible text against the first opaque background behind it (stripes count as their lighter colour)
    const rgba = (c: string): number[] => (c.match(/[\d.]+/g) ?? []).map(Number);
    const lum = ([r, g, b]: number[]) => {
      const f = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
    };
    const background = (e: Element | null): number[] => {
      for (; e; e = e.parentElement) {
        const st = getComputedStyle(e);
        if (st.backgroundImage !== 'none') return [243, 243, 243];
        const c = rgba(st.backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3]! > 0.5)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const seen = new Set<Element>();
    const walker2 = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker2.nextNode(); n; n = walker2.nextNode()) {
      const p = n.parentElement;
      if (!p || seen.has(p) || !n.textContent?.trim() || p.closest('[hidden], .visually-hidden') || p.getBoundingClientRect().width === 0) continue;
      seen.add(p);
      const fg = rgba(getComputedStyle(p).color);
      const [a, b] = [lum(fg), lum(background(p))];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      if (ratio < 4.5) out.push(`contrast ${ratio.toFixed(2)}: ${n.textContent.trim().slice(0, 30)}`);
    }
    for (const b of Array.from(document.querySelectorAll('button'))) {
      const r = b.getBoundingClientRect();
      if (r.width === 0 || b.closest('[hidden]')) continue;
      if (r.height < 44 || r.width < 44) out.push(`button ${Math.round(r.width)}×${Math.round(r.height)}: ${b.textContent?.trim().slice(0, 30)}`);
    }
    return out;
  });
}

describe('staff console', () => {
  it('a staff member works requests through to the cabinet, live, and sees alarms; no force-open for staff', async () => {
    const staff = await h.staffSession('staff');
    const a = await submit('张三', '13812345678');
    const { page, problems } = await openConsole();
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('zh-CN');
    // the page's own words come from the catalogue (data-word): Chinese, English beside it
    await expect.poll(() => page.title()).toBe('帮办柜 工作人员 / Cabinet staff console');
    expect(await page.locator('#signin-title').textContent()).toBe('工作人员登录 Staff sign-in');
    expect(await page.locator('#search').getAttribute('placeholder')).toBe('编号 / 姓名 / 手机号 — number, name, mobile');
    expect(await page.locator('#grid').getAttribute('aria-label')).toBe('24 个柜格 / 24 compartments');

    // wrong PIN: said in words
    await signIn(page, staff.login, '999999');
    await expect.poll(() => page.locator('#signin-error').textContent()).toContain('账号或 PIN 不正确');
    await signIn(page, staff.login);
    await page.locator('#ws-status.ok').waitFor();
    await page.locator('#grid [data-no="24"]').waitFor();

    // the new request is under 待受理, with the name and mobile masked
    const ra = row(page, 'submitted', a.number);
    await ra.waitFor();
    const text = await ra.textContent();
    expect(text).toContain('居住证明');
    expect(text).toContain('张*');
    expect(text).toContain('138****5678');
    expect(text).toContain('待受理');
    expect(text).not.toContain('13812345678');
    expect(await page.locator('[data-group="submitted"] h3').textContent()).toContain('待受理');

    await ra.getByRole('button', { name: /^受理/ }).click();
    await row(page, 'accepted', a.number).waitFor();
    // by keyboard: Enter on 已办好; the focus follows the request to its new group
    await row(page, 'accepted', a.number)
      .getByRole('button', { name: /^已办好/ })
      .focus();
    await page.keyboard.press('Enter');
    await row(page, 'ready', a.number).waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.closest('[data-request]')?.getAttribute('data-request'))).toBe(a.number);
    await row(page, 'ready', a.number).getByRole('button', { name: /^装柜/ }).click();

    // the answer in big words, and the compartment opening in the grid
    const answer = page.locator('#answer-text');
    await expect.poll(() => answer.textContent()).toMatch(/^\d+ 号柜门已打开，请放入文件并关好柜门/);
    const no = Number(/^(\d+) 号/.exec((await answer.textContent()) ?? '')![1]);
    await page.locator(`#grid [data-no="${no}"][data-door="open"].flash`).waitFor();
    expect(await cell(page, no).textContent()).toContain('门开着');
    await page.screenshot({ path: '/tmp/staff-1-door-open.png' });
    expect(await axeViolations(page), 'staff-1-door-open: axe-core (WCAG 2.2 A/AA)').toEqual([]);

    // the document goes in, the door closes: the grid follows without a reload
    h.cabinet.putItem(no);
    h.cabinet.closeDoor(no);
    await page.locator(`#grid [data-no="${no}"][data-state="occupied"][data-door="closed"]`).waitFor();
    await expect.poll(() => cell(page, no).textContent()).toContain(a.number);
    expect(await cell(page, no).textContent()).toContain('有文件');
    await row(page, 'cabinet', a.number).waitFor();
    await expect.poll(() => answer.textContent()).toContain(`${a.number} 已放入 ${no} 号柜`);

    // reject another request: the reason is asked in a form field
    const b = await submit('李秀英', '13987654321');
    const rb = row(page, 'submitted', b.number);
    await rb.waitFor();
    expect(await rb.textContent()).toContain('李*英');
    await rb.getByRole('button', { name: /^不予办理/ }).click();
    await rb.getByRole('button', { name: /^确认不予办理/ }).click();
    await expect(rb.locator('.error').textContent()).resolves.toContain('请填写原因');
    expect(await rb.locator('.error').textContent()).toContain('A reason is required.');
    // the API's own field error (too long: the page's maxlength taken away) is said in both languages, from its key
    await rb.getByLabel('不予办理的原因').evaluate((e) => e.removeAttribute('maxlength'));
    await rb.getByLabel('不予办理的原因').fill('长'.repeat(501));
    await rb.getByRole('button', { name: /^确认不予办理/ }).click();
    await expect.poll(() => rb.locator('.error').textContent()).toContain('最多 500 个字');
    expect(await rb.locator('.error').textContent()).toContain('At most 500 characters.');
    await rb.getByLabel('不予办理的原因').fill('户籍不在本社区，请到户籍所在地办理');
    await rb.getByRole('button', { name: /^确认不予办理/ }).click();
    await rb.waitFor({ state: 'detached' });
    await expect.poll(() => answer.textContent()).toContain(`${b.number}：已不予办理`);
    const detailB = await staff.api.get<{ state: string; reason: string }>(`/api/staff/requests/${b.id}`);
    expect(detailB.body).toMatchObject({ state: 'rejected', reason: '户籍不在本社区，请到户籍所在地办理' });

    // a scanned request number (typed like a keyboard, then Enter) opens its detail with the audit trail
    await page.locator('#grid-title').click();
    await page.keyboard.type(b.number);
    await page.keyboard.press('Enter');
    await page.locator('#detail-title').waitFor();
    expect(await page.locator('#detail-title').textContent()).toContain(b.number);
    const audit = page.locator('table.audit tbody');
    await expect.poll(() => audit.textContent()).toContain('不予办理');
    expect(await audit.textContent()).toContain('户籍不在本社区');
    expect(await audit.textContent()).toContain('居民提交申请');
    expect(await page.locator('#detail-view').textContent()).toContain('我（李四）');
    expect(await page.locator('#detail-view .facts').textContent()).toMatch(/\d{3}\*+\d{3}[\dX]/); // masked ID number
    await page.screenshot({ path: '/tmp/staff-2-detail.png', fullPage: true });
    expect(await axeViolations(page), 'staff-2-detail: axe-core (WCAG 2.2 A/AA)').toEqual([]);
    await page.keyboard.press('Escape');
    await page.locator('#list-view').waitFor();

    // a door forced open at the cabinet: the alarm arrives live, newest first, in words
    h.cabinet.openDoor(20);
    const first = page.locator('#alarms li').first();
    await expect.poll(() => first.textContent()).toContain('柜门被异常打开');
    expect(await first.textContent()).toContain('20 号柜');
    await page.locator('#grid [data-no="20"][data-door="open"]').waitFor();
    h.cabinet.closeDoor(20);
    await expect.poll(() => page.locator('#alarm-status').textContent()).toContain('1 条报警未处理');

    // the staff member deals with it: a short note and 已处理; it turns grey with who and when, the count goes to none
    const tamper = page.locator('#alarms li[data-kind="tamper"]');
    const tamperId = Number(await tamper.getAttribute('data-alarm'));
    // a note the API refuses (too long) shows its field error in both languages, from its key
    await tamper.getByLabel('处理说明').evaluate((e) => e.removeAttribute('maxlength'));
    await tamper.getByLabel('处理说明').fill('长'.repeat(201));
    await tamper.getByRole('button', { name: /^已处理/ }).click();
    await expect.poll(() => tamper.locator('.error').textContent()).toContain('最多 200 个字');
    expect(await tamper.locator('.error').textContent()).toContain('At most 200 characters.');
    await tamper.getByLabel('处理说明').fill('保洁误开，已关好');
    await page.locator('#cabinet-pane').screenshot({ path: '/tmp/staff-3-alarm-open.png' });
    await tamper.getByRole('button', { name: /^已处理/ }).click();
    const doneItem = page.locator(`#alarms li[data-alarm="${tamperId}"].done`);
    await doneItem.waitFor();
    expect(await doneItem.textContent()).toContain('已处理：李四');
    expect(await doneItem.textContent()).toContain('保洁误开，已关好');
    expect(await doneItem.getByRole('button', { name: /^已处理/ }).count()).toBe(0);
    expect(await doneItem.evaluate((e) => getComputedStyle(e).backgroundColor)).toBe('rgb(243, 243, 243)');
    await expect.poll(() => page.locator('#alarm-status').textContent()).toContain('没有未处理的报警');
    const stored = await staff.api.get<{ alarms: { id: number; acknowledged: { by: { id: number }; note: string } | null }[]; openCount: number }>(
      '/api/staff/alarms',
    );
    expect(stored.body.openCount).toBe(0);
    expect(stored.body.alarms.find((x) => x.id === tamperId)?.acknowledged).toMatchObject({ by: { id: staff.id }, note: '保洁误开，已关好' });

    // an alarm dealt with on another console turns grey here too, live; open ones stay above it
    const colleague = await h.staffSession('staff', 'wangwu');
    const other = h.bus.alarm('door_left_open', said('alarm.door_left_open', { no: 21 }), { compartment: 21 });
    await expect.poll(() => page.locator('#alarm-status').textContent()).toContain('1 条报警未处理');
    expect(await page.locator('#alarms li').first().getAttribute('data-alarm')).toBe(String(other.id));
    expect((await colleague.api.post(`/api/staff/alarms/${other.id}/ack`)).status).toBe(200);
    await page.locator(`#alarms li[data-alarm="${other.id}"].done`).waitFor();
    await expect.poll(() => page.locator('#alarm-status').textContent()).toContain('没有未处理的报警');

    // an alarm the system ends itself (materials taken out): its note comes as a key, said in both languages
    const materials = h.bus.alarm('materials_deposited', said('alarm.materials_deposited', { number: b.number, no: 22 }), { requestId: b.id });
    await expect.poll(() => page.locator('#alarm-status').textContent()).toContain('1 条报警未处理');
    h.bus.resolve('materials_deposited', b.id, staffActor(colleague.id), said('alarm.materials_taken_out'));
    const ended = page.locator(`#alarms li[data-alarm="${materials.id}"].done`);
    await ended.waitFor();
    expect(await ended.textContent()).toContain('说明：材料已取出');
    expect(await ended.textContent()).toContain('Note: Materials taken out');

    // staff see the compartment, but no force-open
    await cell(page, no).click();
    const panel = page.locator('#comp-panel');
    await expect.poll(() => panel.textContent()).toContain(a.number);
    expect(await panel.textContent()).toContain('只有管理员可以操作');
    expect(await panel.getByRole('button', { name: /强制开门/ }).count()).toBe(0);
    await page.screenshot({ path: '/tmp/staff-3-main.png', fullPage: true });
    expect(await axeViolations(page), 'staff-3-main: axe-core (WCAG 2.2 A/AA)').toEqual([]);

    expect(await sizeProblems(page)).toEqual([]);

    // the document in the compartment opens from the panel; its messages to the resident are named in words
    await panel.getByRole('button', { name: a.number }).click();
    await page.locator('#detail-title').waitFor();
    const messages = page.locator('#detail-view ul.notifications');
    await expect.poll(() => messages.textContent()).toContain('取件码');
    expect(await messages.textContent()).not.toContain('ready_with_code');

    expect(problems).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('a request held for an ID number registered to another resident: the console names them; confirming lets it be accepted', async () => {
    const staff = await h.staffSession('staff');
    const idNumber = uniqueIdNumber(++seq);
    const body = { idNumber, address: { building: '3', unit: '2', room: '502' }, serviceCode: 'residence_certificate' };
    expect((await h.api.post('/api/requests', { body: { ...body, name: '周八', mobile: '13811112222' } })).status).toBe(201);
    const held = await h.api.post<{ requestId: number; number: string }>('/api/requests', { body: { ...body, name: '吴九', mobile: '13733334444' } });
    expect(held.status).toBe(201);
    const { page, problems } = await openConsole();
    await signIn(page, staff.login);
    await page.locator('#ws-status.ok').waitFor();
    await page.locator('#grid-title').click();
    await page.keyboard.type(held.body.number);
    await page.keyboard.press('Enter');
    const notice = page.locator('#detail-view .identity-check');
    await notice.waitFor();
    expect(await notice.textContent()).toContain('身份待核对');
    expect(await notice.textContent()).toContain('周八');
    expect(await notice.textContent()).toContain('138****2222');
    expect(await axeViolations(page), 'staff-6-identity: axe-core (WCAG 2.2 A/AA)').toEqual([]);
    await notice.getByRole('button', { name: /^核对无误/ }).click();
    await expect.poll(() => page.locator('#answer').textContent()).toContain('已核对身份');
    await expect.poll(() => notice.count()).toBe(0);
    expect((await staff.api.post(`/api/staff/requests/${held.body.requestId}/accept`, { body: {} })).status).toBe(200);
    expect(problems).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('an administrator force-opens with a reason; a new account changes its PIN; a lost channel is said plainly', async () => {
    const admin = await h.staffSession('admin');
    // a document in the cabinet, loaded through the API
    const r = await submit('王芳', '13700001111');
    for (const step of ['accept', 'ready']) expect((await admin.api.post(`/api/staff/requests/${r.id}/${step}`, { body: {} })).status).toBe(200);
    const loaded = await admin.api.post<{ opened: boolean; compartment: number }>(`/api/staff/requests/${r.id}/load`);
    expect(loaded.body.opened).toBe(true);
    const no = loaded.body.compartment;
    h.cabinet.putItem(no);
    h.cabinet.closeDoor(no);

    const { page, problems } = await openConsole();
    await signIn(page, admin.login);
    await page.locator('#ws-status.ok').waitFor();
    const occupied = page.locator(`#grid [data-no="${no}"][data-state="occupied"]`);
    await occupied.waitFor();
    await expect.poll(() => occupied.textContent()).toContain(r.number);

    await occupied.click();
    const panel = page.locator('#comp-panel');
    const force = panel.getByRole('button', { name: /^强制开门/ });
    await force.click();
    await expect(panel.locator('.error').textContent()).resolves.toContain('请填写原因');
    expect(await panel.locator('.error').textContent()).toContain('Give a reason (at least 2 characters).');
    await panel.getByLabel('原因').fill('居民来电说文件拿错了，当面核对');
    await force.click();
    await expect.poll(() => page.locator('#answer-text').textContent()).toContain(`${no} 号柜门已打开`);
    await page.locator(`#grid [data-no="${no}"][data-door="open"]`).waitFor();
    h.cabinet.closeDoor(no);
    await page.locator(`#grid [data-no="${no}"][data-state="occupied"][data-door="closed"]`).waitFor();
    const audit = await admin.api.get<{ entries: { action: string; detail: { reason?: string } }[] }>('/api/staff/audit', {
      query: { compartment: no },
    });
    expect(audit.body.entries.find((e) => e.action === 'compartment.force_open')?.detail.reason).toBe('居民来电说文件拿错了，当面核对');

    // days later the document is overdue (the overdue job's transition, published as the flows do): 逾期 in words
    const od = transitionRequest(h.store.ctx, { requestId: r.id, event: 'mark_overdue', actor: SYSTEM_ACTOR });
    h.bus.emit('request', { id: r.id, number: r.number, state: od.request.state, from: od.from });
    const overdueRow = page.locator(`[data-group="cabinet"] [data-request="${r.number}"].is-overdue`);
    await overdueRow.waitFor();
    expect(await overdueRow.locator('.state').textContent()).toContain('逾期');
    expect(await overdueRow.getByRole('button', { name: /^取回文件/ }).count()).toBe(1);
    await expect.poll(() => cell(page, no).textContent()).toContain('逾期');
    await page.screenshot({ path: '/tmp/staff-5-admin.png', fullPage: true });
    expect(await axeViolations(page), 'staff-5-admin: axe-core (WCAG 2.2 A/AA)').toEqual([]);

    // disable and enable a free compartment
    const free = Number(await page.locator('#grid [data-state="free"]').first().getAttribute('data-no'));
    await cell(page, free).click();
    await panel.getByLabel('原因').fill('门锁松动，等维修');
    await panel.getByRole('button', { name: /^停用/ }).click();
    await page.locator(`#grid [data-no="${free}"][data-state="disabled"]`).waitFor();
    // the live channel can show the new state before the console has its own answer, which empties the reason field:
    // a reason typed in between would be lost, so type it once the answer is there, as a person reading it would
    await expect.poll(() => page.locator('#answer-text').textContent()).toContain(`${free} 号柜已停用`);
    await panel.getByLabel('原因').fill('已修好');
    await panel.getByRole('button', { name: /^恢复使用/ }).click();
    await page.locator(`#grid [data-no="${free}"][data-state="free"]`).waitFor();
    expect(await sizeProblems(page)).toEqual([]);

    // sign out; a new account (PIN to be changed) changes it first, then reaches the console
    const created = await admin.api.post<{ pin: string }>('/api/staff/accounts', { body: { login: 'zhaoliu', name: '赵六', role: 'staff' } });
    expect(created.status).toBe(201);
    await page.getByRole('button', { name: /^退出登录/ }).click();
    await page.locator('#signin-screen').waitFor();
    await signIn(page, 'zhaoliu', created.body.pin);
    await page.locator('#pin-screen').waitFor();
    await page.getByLabel('现在的 PIN').fill(created.body.pin);
    await page.getByLabel('新的 PIN', { exact: false }).first().fill('73950418');
    await page.getByLabel('再输入一次新的 PIN').fill('73950418');
    await page.getByRole('button', { name: /^修改 PIN/ }).click();
    await page.locator('#ws-status.ok').waitFor();
    expect(await page.locator('#who').textContent()).toContain('赵六');

    // the session survives a reload (sessionStorage)
    await page.reload();
    await page.locator('#ws-status.ok').waitFor();

    // the live channel goes away: "连接中断" in words
    await h.live.close();
    await page.locator('#conn-banner').waitFor();
    expect(await page.locator('#conn-banner').textContent()).toContain('连接中断');
    await expect.poll(() => page.locator('#ws-status').textContent()).toContain('连接中断');
    await page.screenshot({ path: '/tmp/staff-4-down.png' });
    expect(await axeViolations(page), 'staff-4-down: axe-core (WCAG 2.2 A/AA)').toEqual([]);
    expect(problems.filter((p) => !/WebSocket/.test(p))).toEqual([]);
    await page.context().close();
  }, 60_000);
});
