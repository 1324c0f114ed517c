/**
 * Delivering the notifications outbox: message text, delivery adapters (log, HTTP webhook) and a dispatcher
 * that drains due rows.
 *
 * Delivery is at-least-once: the HTTP call happens outside any transaction, and its outcome is recorded after.
 * A crash in between sends the message again, so every message carries its outbox id as an idempotency key
 * (`id` in the webhook body, `Idempotency-Key` header). Retries are persistent, with exponential back-off
 * (outbox.RetryPolicy): a restart resumes them, and one call of the adapter is one attempt.
 */
import { createHmac } from 'node:crypto';
import {
  DEFAULT_RETRY_POLICY,
  dueNotifications,
  markNotificationAttemptFailed,
  markNotificationSent,
  readNotificationSecret,
  type NotificationKind,
  type NotificationPayload,
  type RetryPolicy,
} from '../store/outbox.js';
import { appendAudit } from '../store/audit.js';
import type { StoreContext } from '../store/context.js';
import { inTransaction } from '../store/db.js';
import { makeRequestQrToken } from '../store/credentials.js';
import { maskMobile } from './validation.js';
import { SYSTEM_ACTOR } from './types.js';
import { PRIMARY, say } from '../words/catalogue.js';
import { said, type Said } from '../words/keys.js';

export interface OutgoingMessage {
  /** Outbox row id: the idempotency key. */
  readonly id: number;
  readonly kind: NotificationKind;
  readonly residentId: number;
  readonly mobile: string;
  readonly requestNo: string | null;
  /** Plain Chinese text, ready for an SMS (the catalogue's words: sms.<kind>). */
  readonly text: string;
  /** Only for ready_with_code: the pickup code and a QR token for the same credential. */
  readonly code?: string;
  readonly qrToken?: string;
  readonly payload: NotificationPayload;
}

export type DeliveryResult =
  | { readonly ok: true }
  /** permanent: retrying cannot help (e.g. the gateway rejected the request as malformed) */
  | { readonly ok: false; readonly permanent: boolean; readonly error: string };

export interface DeliveryAdapter {
  readonly name: string;
  deliver(message: OutgoingMessage): Promise<DeliveryResult>;
}

/** The subset of a pino logger used here. */
export interface NotifyLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

const str = (v: unknown): string | null => (typeof v === 'string' || typeof v === 'number' ? String(v) : null);

/**
 * The words of a message (catalogue keys `sms.<kind>`), in the residents' language unless another is asked for.
 * The code is spaced in two groups of four for reading aloud. The payload holds the Chinese service name (and
 * an English one when the request recorded it).
 */
export function messageSaid(kind: NotificationKind, payload: NotificationPayload, code?: string, language: string = PRIMARY): Said {
  const service =
    (language === PRIMARY ? null : str(payload.serviceNameEn)) ?? str(payload.serviceNameZh) ?? say(said('sms.your_materials'), language);
  const number = str(payload.requestNo) ?? '';
  const compartmentNo = str(payload.compartmentNo);
  const box = say(compartmentNo === null ? said('sms.the_cabinet') : said('sms.compartment', { compartmentNo }), language);
  switch (kind) {
    case 'ready_with_code':
      return said('sms.ready_with_code', {
        service,
        number,
        box,
        code: code ? `${code.slice(0, 4)} ${code.slice(4)}` : say(said('sms.code_unavailable'), language),
      });
    case 'overdue_reminder':
      return said('sms.overdue_reminder', { service, number, box });
    case 'rejected':
      return said('sms.rejected', { service, number, reason: str(payload.reason) ?? say(said('sms.reason_unknown'), language) });
    case 'materials_received':
      return said('sms.materials_received', { service, number });
    case 'item_retrieved':
      return said('sms.item_retrieved', { service, number });
  }
}

/** The SMS text of a message: plain words from the catalogue, Chinese unless another language is asked for. */
export function renderText(kind: NotificationKind, payload: NotificationPayload, code?: string, language: string = PRIMARY): string {
  return say(messageSaid(kind, payload, code, language), language);
}

// ---------------------------------------------------------------------------------------------
// Adapters
// ---------------------------------------------------------------------------------------------

/**
 * Writes each message to the log. The default, for development and for sites without an SMS gateway.
 * The mobile is always masked; the code too unless `revealSecrets` (a development switch for the simulator: logs are kept, codes must not be).
 */
export function createLogAdapter(logger: NotifyLogger, options: { revealSecrets?: boolean } = {}): DeliveryAdapter {
  return {
    name: 'log',
    deliver(m) {
      const text = options.revealSecrets || !m.code ? m.text : m.text.replace(`${m.code.slice(0, 4)} ${m.code.slice(4)}`, '**** ****');
      logger.info({ notificationId: m.id, kind: m.kind, to: maskMobile(m.mobile), requestNo: m.requestNo, text }, 'notification');
      return Promise.resolve({ ok: true });
    },
  };
}

export interface WebhookOptions {
  /** http(s) URL that receives a JSON POST per message. */
  readonly url: string;
  /** Per-request timeout, ms, 1000–60000. Default 10000. */
  readonly timeoutMs?: number;
  /** When set, the body is signed: header X-Signature: sha256=<hex HMAC of the body>. */
  readonly signingSecret?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Injectable for tests; default global fetch. */
  readonly fetch?: typeof fetch;
}

/**
 * POSTs `{ id, kind, to, requestNo, text, code?, qrToken? }`. 2xx = delivered; 408, 429 and 5xx, network errors
 * and timeouts are retried by the dispatcher; any other status is a permanent failure.
 */
export function createWebhookAdapter(options: WebhookOptions): DeliveryAdapter {
  const url = new URL(options.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RangeError('webhook URL must be http or https');
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1000 || timeoutMs > 60_000) throw new RangeError('webhook timeoutMs must be 1000–60000');
  const doFetch = options.fetch ?? fetch;
  return {
    name: 'webhook',
    async deliver(m) {
      const body = JSON.stringify({
        id: m.id,
        kind: m.kind,
        to: m.mobile,
        requestNo: m.requestNo,
        text: m.text,
        ...(m.code ? { code: m.code } : {}),
        ...(m.qrToken ? { qrToken: m.qrToken } : {}),
      });
      const headers: Record<string, string> = {
        'content-type': 'application/json; charset=utf-8',
        'idempotency-key': `bangbangui-notification-${m.id}`,
        ...options.headers,
      };
      if (options.signingSecret) headers['x-signature'] = `sha256=${createHmac('sha256', options.signingSecret).update(body).digest('hex')}`;
      try {
        const res = await doFetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
        await res.arrayBuffer().catch(() => undefined); // drain, so the connection can be reused
        if (res.ok) return { ok: true };
        const transient = res.status === 408 || res.status === 429 || res.status >= 500;
        return { ok: false, permanent: !transient, error: `HTTP ${res.status}` };
      } catch (err) {
        return { ok: false, permanent: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Dispatcher
// ---------------------------------------------------------------------------------------------

export interface DrainSummary {
  readonly sent: number;
  readonly retrying: number;
  readonly failed: number;
}

export interface DispatcherOptions {
  readonly ctx: StoreContext;
  readonly adapter: DeliveryAdapter;
  readonly policy?: RetryPolicy;
  readonly logger?: NotifyLogger;
  /** Rows per drain, 1–100. Default 20. */
  readonly batchSize?: number;
}

export class NotificationDispatcher {
  readonly #ctx: StoreContext;
  readonly #adapter: DeliveryAdapter;
  readonly #policy: RetryPolicy;
  readonly #logger: NotifyLogger | undefined;
  readonly #batch: number;
  #draining: Promise<DrainSummary> | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: DispatcherOptions) {
    this.#ctx = options.ctx;
    this.#adapter = options.adapter;
    this.#policy = options.policy ?? DEFAULT_RETRY_POLICY;
    this.#logger = options.logger;
    this.#batch = Math.min(Math.max(options.batchSize ?? 20, 1), 100);
  }

  /** Delivers every due row once. Concurrent calls share one drain. */
  drainOnce(): Promise<DrainSummary> {
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = null;
    });
    return this.#draining;
  }

  async #drain(): Promise<DrainSummary> {
    const ctx = this.#ctx;
    let sent = 0,
      retrying = 0,
      failed = 0;
    for (const n of dueNotifications(ctx, this.#batch)) {
      const to = ctx.db.prepare<[number], { mobile: string }>('SELECT mobile FROM residents WHERE id = ?').get(n.residentId);
      const secret = n.hasSecret ? readNotificationSecret(ctx, n.id) : null;
      const credentialId = typeof n.payload.credentialId === 'number' ? n.payload.credentialId : null;
      const message: OutgoingMessage = {
        id: n.id,
        kind: n.kind,
        residentId: n.residentId,
        mobile: to?.mobile ?? '',
        requestNo: typeof n.payload.requestNo === 'string' ? n.payload.requestNo : null,
        text: renderText(n.kind, n.payload, secret?.code),
        payload: n.payload,
        ...(secret ? { code: secret.code } : {}),
        ...(secret && credentialId !== null && n.requestId !== null
          ? { qrToken: makeRequestQrToken(ctx.keys, { requestId: n.requestId, credentialId, purpose: 'pickup' }) }
          : {}),
      };
      let result: DeliveryResult;
      if (!to) result = { ok: false, permanent: true, error: 'resident not found' };
      else if (n.kind === 'ready_with_code' && !secret) result = { ok: false, permanent: true, error: 'code no longer available' };
      else {
        try {
          result = await this.#adapter.deliver(message);
        } catch (err) {
          result = { ok: false, permanent: false, error: String(err) };
        }
      }
      // record the outcome (and its audit row) in one transaction, after the await
      const status = inTransaction(ctx.db, () => {
        if (result.ok) {
          markNotificationSent(ctx, n.id);
          appendAudit(ctx.db, ctx.now(), {
            actor: SYSTEM_ACTOR,
            action: 'notification.sent',
            requestId: n.requestId,
            detail: { notificationId: n.id, kind: n.kind, adapter: this.#adapter.name },
          });
          return 'sent' as const;
        }
        const s = markNotificationAttemptFailed(ctx, n.id, result.error, { permanent: result.permanent, policy: this.#policy });
        if (s === 'failed') {
          appendAudit(ctx.db, ctx.now(), {
            actor: SYSTEM_ACTOR,
            action: 'notification.failed',
            requestId: n.requestId,
            detail: { notificationId: n.id, kind: n.kind, adapter: this.#adapter.name, error: result.error },
          });
        }
        return s;
      });
      if (status === 'sent') sent++;
      else if (status === 'pending') retrying++;
      else failed++;
      if (!result.ok) this.#logger?.warn({ notificationId: n.id, kind: n.kind, error: result.error, status }, 'notification delivery failed');
    }
    return { sent, retrying, failed };
  }

  /** Drains every `intervalMs` (unref'd timer) until stop(). */
  start(intervalMs = 5000): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.drainOnce().catch((err: unknown) => this.#logger?.warn({ err: String(err) }, 'notification drain failed'));
    }, intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#draining?.catch(() => undefined);
  }
}
