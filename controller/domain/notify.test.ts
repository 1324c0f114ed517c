import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listAudit } from '../store/audit.js';
import { getNotification, listNotifications, retryDelay } from '../store/outbox.js';
import { transitionRequest } from '../store/requests.js';
import { databaseBytes, loadedRequest, openTestStore } from '../store/test-support.js';
import { createLogAdapter, createWebhookAdapter, messageSaid, NotificationDispatcher, renderText, type NotifyLogger } from './notify.js';
import { kioskActor } from './types.js';

interface Received {
  body: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
}

/** A webhook receiver on 127.0.0.1 answering with the given statuses in turn (then 200). */
async function receiver(statuses: number[]): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString('utf8')));
    req.on('end', () => {
      received.push({ body: JSON.parse(data) as Record<string, unknown>, headers: req.headers });
      res.statusCode = statuses.shift() ?? 200;
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/notify`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

describe('webhook delivery through the outbox', () => {
  it('retries with exponential back-off on the injected clock, then delivers the code once and blanks it', async () => {
    const s = openTestStore();
    cleanups.push(() => s.close());
    const rx = await receiver([500, 503]);
    cleanups.push(rx.close);
    const l = await loadedRequest(s);
    const policy = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 60_000 };
    const d = new NotificationDispatcher({ ctx: s.ctx, adapter: createWebhookAdapter({ url: rx.url, timeoutMs: 5000, signingSecret: 'k' }), policy });
    const [n] = listNotifications(s.ctx, { requestId: l.requestId });
    if (!n) throw new Error('no notification');

    expect(await d.drainOnce()).toEqual({ sent: 0, retrying: 1, failed: 0 });
    expect(getNotification(s.ctx, n.id)).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: 'HTTP 500',
      nextAttemptAt: s.clock.t + 1000,
      hasSecret: true,
    });
    s.clock.advance(999);
    expect(await d.drainOnce()).toEqual({ sent: 0, retrying: 0, failed: 0 }); // not due yet
    s.clock.advance(1);
    expect(await d.drainOnce()).toEqual({ sent: 0, retrying: 1, failed: 0 });
    expect(getNotification(s.ctx, n.id)).toMatchObject({ attempts: 2, lastError: 'HTTP 503', nextAttemptAt: s.clock.t + 2000 }); // doubled
    s.clock.advance(2000);
    expect(await d.drainOnce()).toEqual({ sent: 1, retrying: 0, failed: 0 });

    expect(rx.received).toHaveLength(3);
    const last = rx.received[2];
    expect(last?.body).toMatchObject({ id: n.id, kind: 'ready_with_code', to: l.resident.mobile, code: l.code });
    expect(String(last?.body.text)).toContain(`${l.code.slice(0, 4)} ${l.code.slice(4)}`);
    expect(String(last?.body.qrToken)).toMatch(/^[A-Za-z0-9_-]{35}$/);
    expect(last?.headers['idempotency-key']).toBe(`bangbangui-notification-${n.id}`);
    expect(last?.headers['x-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(getNotification(s.ctx, n.id)).toMatchObject({ status: 'sent', attempts: 3, hasSecret: false, sentAt: s.clock.t });
    expect(listAudit(s.db, { action: 'notification.sent' })).toHaveLength(1);
    expect(await d.drainOnce()).toEqual({ sent: 0, retrying: 0, failed: 0 }); // delivered once only
    s.db.pragma('wal_checkpoint(PASSIVE)');
    expect(databaseBytes(s.dir).includes(l.code)).toBe(false);
  });

  it('gives up after maxAttempts and on a permanent 4xx, blanking the code either way', async () => {
    const s = openTestStore();
    cleanups.push(() => s.close());
    const rx = await receiver([500, 500, 400]);
    cleanups.push(rx.close);
    const a = await loadedRequest(s);
    const policy = { maxAttempts: 2, baseDelayMs: 1000, maxDelayMs: 60_000 };
    const d = new NotificationDispatcher({ ctx: s.ctx, adapter: createWebhookAdapter({ url: rx.url }), policy });
    await d.drainOnce();
    s.clock.advance(1000);
    expect(await d.drainOnce()).toEqual({ sent: 0, retrying: 0, failed: 1 });
    const [na] = listNotifications(s.ctx, { requestId: a.requestId });
    expect(na).toMatchObject({ status: 'failed', attempts: 2, hasSecret: false });

    const b = await loadedRequest(s, a.resident, a.staffId);
    expect(await d.drainOnce()).toEqual({ sent: 0, retrying: 0, failed: 1 }); // 400: no retry
    expect(listNotifications(s.ctx, { requestId: b.requestId })[0]).toMatchObject({ status: 'failed', attempts: 1, lastError: 'HTTP 400' });
    expect(listAudit(s.db, { action: 'notification.failed' })).toHaveLength(2);
  });

  it('treats an unreachable endpoint as transient', async () => {
    const s = openTestStore();
    cleanups.push(() => s.close());
    const rx = await receiver([]);
    const url = rx.url;
    await rx.close(); // nothing listens there now
    await loadedRequest(s);
    const d = new NotificationDispatcher({ ctx: s.ctx, adapter: createWebhookAdapter({ url, timeoutMs: 2000 }) });
    expect(await d.drainOnce()).toEqual({ sent: 0, retrying: 1, failed: 0 });
  });

  it('does not send a code message whose code was revoked before delivery (collected by QR first)', async () => {
    const s = openTestStore();
    cleanups.push(() => s.close());
    const l = await loadedRequest(s);
    transitionRequest(s.ctx, { requestId: l.requestId, event: 'collect', actor: kioskActor('k') });
    const lines: object[] = [];
    const logger: NotifyLogger = { info: (o) => void lines.push(o), warn: (o) => void lines.push(o) };
    const d = new NotificationDispatcher({ ctx: s.ctx, adapter: createLogAdapter(logger) });
    expect(await d.drainOnce()).toEqual({ sent: 0, retrying: 0, failed: 0 });
    expect(listNotifications(s.ctx, { requestId: l.requestId })[0]).toMatchObject({ status: 'cancelled', hasSecret: false });
    expect(lines).toEqual([]);
  });
});

describe('log adapter', () => {
  it('logs the message with the code and the mobile masked', async () => {
    const s = openTestStore();
    cleanups.push(() => s.close());
    const l = await loadedRequest(s);
    const lines: Record<string, unknown>[] = [];
    const logger: NotifyLogger = { info: (o) => void lines.push(o as Record<string, unknown>), warn: () => undefined };
    const d = new NotificationDispatcher({ ctx: s.ctx, adapter: createLogAdapter(logger) });
    expect(await d.drainOnce()).toEqual({ sent: 1, retrying: 0, failed: 0 });
    const out = JSON.stringify(lines);
    expect(out).not.toContain(l.code);
    expect(out).not.toContain(`${l.code.slice(0, 4)} ${l.code.slice(4)}`);
    expect(out).not.toContain(l.resident.mobile);
    expect(out).toContain(`${l.resident.mobile.slice(0, 3)}****${l.resident.mobile.slice(7)}`);
    expect(out).toContain('**** ****');
  });
});

describe('message text and back-off', () => {
  const p = { requestNo: 'BB-20250314-0001', serviceNameZh: '居住证明', compartmentNo: 7, reason: '材料不全' };

  it('ready_with_code: the code in two groups of four, the compartment, how to collect', () => {
    expect(renderText('ready_with_code', p, '12345678')).toBe(
      '【居委会帮办柜】您办理的居住证明（BB-20250314-0001）已放入7号柜。取件码：1234 5678。请到居委会门口帮办柜，输入取件码和手机号后4位，或扫描您的二维码取件，24小时可取。',
    );
    expect(messageSaid('ready_with_code', p, '12345678')).toEqual({
      key: 'sms.ready_with_code',
      params: { service: '居住证明', number: 'BB-20250314-0001', box: '7号柜', code: '1234 5678' },
    });
    expect(renderText('ready_with_code', { ...p, compartmentNo: null })).toContain('已放入帮办柜。取件码：（请联系居委会）。');
    expect(renderText('ready_with_code', p, '12345678', 'en')).toContain('is in compartment 7. Pickup code: 1234 5678.');
  });

  it('overdue_reminder: still in the compartment, the code still works', () => {
    expect(renderText('overdue_reminder', p)).toBe(
      '【居委会帮办柜】您的居住证明（BB-20250314-0001）还在7号柜里，请尽快取件。取件码仍然有效；如有问题请联系居委会。',
    );
  });

  it('rejected: with the reason staff gave, or where to ask when there is none', () => {
    expect(renderText('rejected', p)).toBe('【居委会帮办柜】很抱歉，您申请的居住证明（BB-20250314-0001）未能办理。原因：材料不全。');
    expect(messageSaid('rejected', { requestNo: 'BB-20250314-0001', serviceNameZh: '居住证明' })).toEqual({
      key: 'sms.rejected',
      params: { service: '居住证明', number: 'BB-20250314-0001', reason: '请联系居委会' },
    });
  });

  it('materials_received: staff have the materials', () => {
    expect(renderText('materials_received', p)).toBe('【居委会帮办柜】您为居住证明（BB-20250314-0001）投递的材料工作人员已收到，将尽快为您办理。');
  });

  it('item_retrieved: staff took it back, collect it at the office', () => {
    expect(renderText('item_retrieved', p)).toBe(
      '【居委会帮办柜】您的居住证明（BB-20250314-0001）因长时间未取，已由工作人员取回保管，请到居委会领取。',
    );
    expect(renderText('item_retrieved', { requestNo: 'BB-20250314-0001' })).toContain('您的材料（BB-20250314-0001）');
  });

  it('doubles the delay per attempt up to the cap', () => {
    const policy = { maxAttempts: 10, baseDelayMs: 1000, maxDelayMs: 5000 };
    expect([1, 2, 3, 4, 5].map((a) => retryDelay(a, policy))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });
});
