/**
 * What a resident's phone calls (no login), and the QR images the kiosk and the phone pages show.
 *
 * Binding a phone to a resident: the first submission answers `residentToken`, the resident's signed QR
 * identity (credentials.makeResidentQrToken). The phone page keeps it in localStorage, sends it with every
 * later submission (which then adds the request to the same resident instead of creating one) and shows it as
 * the resident's QR code at the cabinet (GET /api/residents/qr.svg?token=…), where one scan opens everything
 * waiting for that resident. It is a bearer secret: it is never derived from personal data. It carries its issue
 * time and the cabinet refuses it after 30 days; every submission with it and every renewal (POST
 * /api/residents/token, which the phone page calls when it shows the QR) answers a new one with a new QR id, so
 * the old one, and any copy of it, stops working at once. A resident who lost the phone asks staff, who rotate it
 * (POST /api/staff/residents/:id/qr/rotate). What a submission does is the use case flows/submit-request.ts:
 * a submission whose ID number is registered to another resident is neither bound to them nor refused (which
 * would tell anyone who is registered), but answered like any other and held for staff to confirm the person.
 *
 * The status link (`statusUrl`, token of 128 bits, stored hashed) shows the request's progress, masked; once
 * the document is in the cabinet it also links the pickup QR. The pickup code itself only travels in the
 * notification (SMS), never in an answer here.
 */
import { groupCommit } from '../store/group-commit.js';
import { createHash } from 'node:crypto';
import type { Response } from 'express';
import { z } from 'zod';
import { MAX_GRID_SIDE, NUMBERINGS } from '../domain/cabinet-face.js';
import { residentActor } from '../domain/types.js';
import { addressSchema, idNumberSchema, mobileSchema, nameSchema } from '../domain/validation.js';
import { WAITING_FOR_RESIDENT } from '../domain/request-states.js';
import {
  activeCredentials,
  countByState,
  findRequestByStatusToken,
  findResidentByQrId,
  getResident,
  getServiceItem,
  lastDoorNotice,
  listServiceItems,
  makeRequestQrToken,
  makeResidentQrToken,
  parseResidentQrToken,
  RESIDENT_QR_MAX_AGE_MS,
  rotateResidentQrId,
} from '../store/index.js';
import type { AppDeps } from './app.js';
import { qrResponse, sendQr, type QrFormat } from './qr.js';
import { WindowLimiter } from './rate-limit.js';
import { HttpError, route, type RouteSpec } from './routes.js';
import { errorResponse, isoOrNull, iso, joinUrl, PHONE_PAGES, STATE_TEXT, textSchema } from './schemas.js';

import { said } from '../words/keys.js';
import { submitRequest, type SubmitRefusal } from '../flows/submit-request.js';

export const serviceSchema = z.object({
  code: z.string(),
  nameZh: z.string(),
  nameEn: z.string(),
  needs: z.object({ idNumber: z.boolean(), address: z.boolean() }).describe('resident details the service needs besides name and mobile'),
  needsMaterials: z.boolean().describe('the resident drops materials off at the cabinet first'),
});

const tokenParam = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, { error: 'input.link_incomplete' });

const submitBody = z.object({
  name: nameSchema,
  mobile: mobileSchema,
  idNumber: idNumberSchema.optional().describe('needed when the service needs it (GB 11643, checked); omit otherwise'),
  address: addressSchema.optional().describe('needed when the service needs it; omit otherwise'),
  serviceCode: z.string({ error: 'input.choose_service' }).regex(/^[a-z][a-z0-9_]{0,39}$/, { error: 'input.choose_service' }),
  note: z.string().trim().max(200, { error: 'input.note_too_long' }).optional(),
  residentToken: z.string().max(64).optional().describe('the residentToken this phone got at its first submission'),
});
type SubmitBody = z.output<typeof submitBody>;

export const submitAnswer = z.object({
  requestId: z.number().int(),
  number: z.string().describe('BB-YYYYMMDD-NNNN'),
  state: z.string(),
  stateText: textSchema,
  statusToken: z.string(),
  statusUrl: z.string().describe('the phone page showing this request’s progress'),
  residentToken: z.string().describe('keep on the phone (localStorage); send with later submissions; it is also the resident’s QR code'),
  residentQrUrl: z.string(),
});

/** How the doors sit on the cabinet (CABINET_GRID, CABINET_NUMBERING), for the kiosk's drawing. */
export const cabinetFaceSchema = z
  .object({
    columns: z.number().int().min(1).max(MAX_GRID_SIDE),
    rows: z.number().int().min(1).max(MAX_GRID_SIDE),
    numbering: z.enum(NUMBERINGS).describe('rows: left to right along each row from the top; columns: top to bottom down each column from the left'),
  })
  .describe('how the doors sit on the cabinet, as they are numbered on it');

export const statusAnswer = z.object({
  number: z.string(),
  service: z.object({ code: z.string(), nameZh: z.string(), nameEn: z.string() }),
  state: z.string(),
  stateText: textSchema,
  reason: z.string().nullable().describe('why it was rejected or cancelled'),
  compartmentNo: z.number().int().nullable().describe('set while the document waits in the cabinet'),
  pickupQrUrl: z.string().nullable().describe('QR code to scan at the cabinet, while the document waits there'),
  dropOffQrUrl: z.string().nullable().describe('QR code to scan at the cabinet to drop off materials, while they are expected'),
  mobileMasked: z.string().describe('where the pickup code is sent, masked (138********): never the last 4 digits, the second pickup factor'),
  createdAt: z.string(),
  stateChangedAt: z.string(),
  loadedAt: z.string().nullable(),
  closedAt: z.string().nullable(),
  doorNotice: z
    .enum(['item_not_taken', 'nothing_deposited'])
    .nullable()
    .describe('the last door closed the wrong way: the document is still inside (its code still works), or nothing was dropped off'),
});

/**
 * The status link may be forwarded or seen over a shoulder; the last 4 digits of the mobile are what a pickup by
 * code asks for besides the code, so the status page shows only the first 3 (the staff console shows 138****5678).
 */
function maskMobileForStatus(mobile: string): string {
  return `${mobile.slice(0, 3)}${'*'.repeat(Math.max(0, mobile.length - 3))}`;
}

function serviceView(item: { code: string; nameZh: string; nameEn: string; requiredFields: readonly string[]; needsMaterials: boolean }) {
  return {
    code: item.code,
    nameZh: item.nameZh,
    nameEn: item.nameEn,
    needs: { idNumber: item.requiredFields.includes('id_number'), address: item.requiredFields.includes('address') },
    needsMaterials: item.needsMaterials,
  };
}

/** Submission limits: one family is far below each, a script far above. */
export const SUBMIT_LIMITS = Object.freeze({
  /** per source address (behind a proxy every phone shares one: keep it generous) */
  perAddress: { limit: 20, windowMs: 10 * 60_000 },
  /** per mobile number, from any address */
  perPhone: { limit: 5, windowMs: 60 * 60_000 },
  /** the whole cabinet (≈10,000 requests a year is about 1 an hour) */
  global: { limit: 300, windowMs: 60 * 60_000 },
});

/** A refused submission as the API answers it. */
function refusalError(r: SubmitRefusal): HttpError {
  switch (r.refusal) {
    case 'UNKNOWN_SERVICE':
      return new HttpError(400, 'UNKNOWN_SERVICE', said('error.UNKNOWN_SERVICE'), r.field);
    case 'SERVICE_DISABLED':
      return new HttpError(409, 'SERVICE_DISABLED', said('error.SERVICE_DISABLED'), r.field);
    case 'RESIDENT_TOKEN_INVALID':
      return new HttpError(400, 'RESIDENT_TOKEN_INVALID', said('submit.resident_token_invalid'), r.field);
    case 'RESIDENT_MISMATCH':
      return new HttpError(409, 'RESIDENT_MISMATCH', said('submit.resident_mismatch'), r.field);
    case 'NEEDS_ID_NUMBER':
      return new HttpError(400, 'BAD_INPUT', said('submit.needs_id_number'), r.field);
    case 'NEEDS_ADDRESS':
      return new HttpError(400, 'BAD_INPUT', said('submit.needs_address'), r.field);
  }
}

export function publicRoutes(deps: AppDeps, opts: { submitLimiter?: WindowLimiter; monotonicNow?: () => number } = {}): RouteSpec[] {
  const { store } = deps;
  const ctx = store.ctx;
  // the windows count on the monotonic clock: a wall clock set forward or back (NTP, an operator) neither opens a
  // fresh window early nor makes anyone wait longer
  const clock = opts.monotonicNow ?? (() => performance.now());
  const limiter = opts.submitLimiter ?? new WindowLimiter(SUBMIT_LIMITS.perAddress.limit, SUBMIT_LIMITS.perAddress.windowMs, clock);
  const phoneLimiter = new WindowLimiter(SUBMIT_LIMITS.perPhone.limit, SUBMIT_LIMITS.perPhone.windowMs, clock);
  // the cap across the cabinet is a setting (SUBMIT_MAX_PER_HOUR, 0 = none); the default is SUBMIT_LIMITS.global
  const globalCap = deps.config.submitMaxPerHour ?? SUBMIT_LIMITS.global.limit;
  const globalLimiter = globalCap > 0 ? new WindowLimiter(globalCap, SUBMIT_LIMITS.global.windowMs, clock, { maxKeys: 1 }) : null;
  // numbers are kept in memory only as keyed digests
  const phoneKey = (mobile: string) => createHash('sha256').update(store.keys.fingerprint()).update(mobile).digest('base64url').slice(0, 22);
  const tooMany = (res: Response, wait: number): HttpError => {
    res.setHeader('Retry-After', String(Math.ceil(wait / 1000)));
    return new HttpError(429, 'TOO_MANY_REQUESTS', said('error.TOO_MANY_REQUESTS'));
  };
  const statusLink = (token: string) => joinUrl(deps.publicUrl, PHONE_PAGES.status(token));
  const residentQrUrl = (token: string) => joinUrl(deps.publicUrl, `/api/residents/qr.svg?token=${encodeURIComponent(token)}`);

  const noSuchRequest = () => new HttpError(404, 'NOT_FOUND', said('submit.no_such_request'));

  /** The signed QR token a resident shows at the cabinet: to collect (pickup) or to drop off materials (deposit). */
  function cabinetToken(token: string, purpose: 'pickup' | 'deposit'): string | null {
    const req = findRequestByStatusToken(ctx, token);
    if (!req) throw noSuchRequest();
    if (purpose === 'pickup' ? !WAITING_FOR_RESIDENT.includes(req.state) : req.state !== 'awaiting_materials') return null;
    const cred = activeCredentials(ctx, req.id).find((c) => c.purpose === purpose);
    return cred ? makeRequestQrToken(store.keys, { requestId: req.id, credentialId: cred.credentialId, purpose }) : null;
  }

  const routes: RouteSpec[] = [
    route({
      method: 'get',
      path: '/api/services',
      tag: 'public',
      access: 'public',
      summary: 'The services residents can ask for now',
      responses: { 200: { description: 'enabled services, in display order', schema: z.object({ services: z.array(serviceSchema) }) } },
      handler: () => [200, { services: listServiceItems(ctx, { enabledOnly: true }).map(serviceView) }],
    }),
    route<Record<string, never>, Record<string, never>, SubmitBody>({
      method: 'post',
      path: '/api/requests',
      tag: 'public',
      access: 'public',
      summary: 'Submit a request from the phone (creates or updates the resident)',
      body: submitBody,
      responses: {
        201: { description: 'submitted', schema: submitAnswer },
        400: errorResponse('fields are missing or wrong: `fields` names each with what to fix, `field` is the first'),
        409: errorResponse(
          'the service is not offered now, or this phone is bound to another resident (RESIDENT_MISMATCH). An ID number registered to another resident is not refused: the answer is the same as for any submission and the request waits for staff to confirm who the person is',
        ),
        429: errorResponse('too many submissions from this address or for this phone number, or in total: wait (Retry-After)'),
      },
      handler: async ({ body, req, res }) => {
        const wait = Math.max(limiter.take(req.socket.remoteAddress ?? 'unknown'), phoneLimiter.take(`m:${phoneKey(body.mobile)}`));
        if (wait > 0) throw tooMany(res, wait);
        const globalWait = globalLimiter?.take('all') ?? 0;
        if (globalWait > 0) throw tooMany(res, globalWait);
        // submissions arriving together share one commit (store/group-commit.ts): each answered once it is durable
        const submitted = await groupCommit(store.db, () => submitRequest(store, body));
        if (!submitted.ok) throw refusalError(submitted);
        const { request, statusToken, resident } = submitted;
        deps.bus.emit('request', { id: request.id, number: request.number, state: request.state, from: null });
        const residentToken = makeResidentQrToken(store.keys, resident.qrId, ctx.now());
        return [
          201,
          {
            requestId: request.id,
            number: request.number,
            state: request.state,
            stateText: STATE_TEXT[request.state],
            statusToken,
            statusUrl: statusLink(statusToken),
            residentToken,
            residentQrUrl: residentQrUrl(residentToken),
          },
        ];
      },
    }),
    route<{ token: string }>({
      method: 'get',
      path: '/api/requests/status/:token',
      tag: 'public',
      access: 'public',
      summary: 'A request’s progress for the resident (masked; never the pickup code)',
      params: z.object({ token: tokenParam }),
      responses: { 200: { description: 'the request', schema: statusAnswer }, 404: errorResponse('no request has this link') },
      handler: ({ params }) => {
        const req = findRequestByStatusToken(ctx, params.token);
        if (!req) throw noSuchRequest();
        const item = getServiceItem(ctx, req.serviceCode);
        const resident = getResident(ctx, req.residentId);
        const waiting = WAITING_FOR_RESIDENT.includes(req.state);
        return [
          200,
          {
            number: req.number,
            service: { code: req.serviceCode, nameZh: item?.nameZh ?? req.serviceCode, nameEn: item?.nameEn ?? req.serviceCode },
            state: req.state,
            stateText: STATE_TEXT[req.state],
            reason: req.state === 'rejected' || req.state === 'cancelled' ? req.reason : null,
            compartmentNo: waiting ? req.compartmentNo : null,
            pickupQrUrl: waiting ? joinUrl(deps.publicUrl, `/api/requests/status/${params.token}/pickup-qr.svg`) : null,
            dropOffQrUrl: req.state === 'awaiting_materials' ? joinUrl(deps.publicUrl, `/api/requests/status/${params.token}/dropoff-qr.svg`) : null,
            mobileMasked: resident ? maskMobileForStatus(resident.mobile) : '',
            createdAt: iso(req.createdAt),
            stateChangedAt: iso(req.stateChangedAt),
            loadedAt: isoOrNull(req.loadedAt),
            closedAt: isoOrNull(req.closedAt),
            doorNotice: lastDoorNotice(ctx, req.id, req.state),
          },
        ];
      },
    }),
  ];

  for (const format of ['svg', 'png'] as QrFormat[]) {
    routes.push(
      route<{ token: string }>({
        method: 'get',
        path: `/api/requests/status/:token/pickup-qr.${format}`,
        tag: 'public',
        access: 'public',
        summary: `The pickup QR code (${format.toUpperCase()}) while the document waits in the cabinet`,
        params: z.object({ token: tokenParam }),
        responses: {
          200: qrResponse(format, 'scan it at the cabinet to open the door'),
          404: errorResponse('no such request, or nothing waiting in the cabinet'),
        },
        handler: async ({ params, res }) => {
          const qr = cabinetToken(params.token, 'pickup');
          if (!qr) throw new HttpError(404, 'NOT_WAITING', said('error.NOT_WAITING'));
          return sendQr(res, qr, format, { secret: true });
        },
      }),
      route<{ token: string }>({
        method: 'get',
        path: `/api/requests/status/:token/dropoff-qr.${format}`,
        tag: 'public',
        access: 'public',
        summary: `The drop-off QR code (${format.toUpperCase()}) while the request waits for the resident's materials`,
        params: z.object({ token: tokenParam }),
        responses: {
          200: qrResponse(format, 'scan it at the cabinet: a free compartment opens for the materials'),
          404: errorResponse('no such request, or no materials are expected'),
        },
        handler: async ({ params, res }) => {
          const qr = cabinetToken(params.token, 'deposit');
          if (!qr) throw new HttpError(404, 'NOT_AWAITING', said('error.NOT_AWAITING'));
          return sendQr(res, qr, format, { secret: true });
        },
      }),
      route<Record<string, never>, { token: string }>({
        method: 'get',
        path: `/api/residents/qr.${format}`,
        tag: 'public',
        access: 'public',
        summary: `The resident’s own QR code (${format.toUpperCase()}): one scan at the cabinet opens everything waiting for them`,
        query: z.object({ token: z.string().min(1).max(64).describe('the residentToken') }),
        responses: { 200: qrResponse(format, 'the resident QR code'), 404: errorResponse('the token is not (or no longer) valid') },
        handler: async ({ query, res }) => {
          const t = parseResidentQrToken(store.keys, query.token);
          if (!t || !findResidentByQrId(ctx, t.qrId)) {
            throw new HttpError(404, 'NOT_FOUND', said('submit.qr_no_longer_valid'));
          }
          return sendQr(res, query.token, format, { secret: true });
        },
      }),
      route({
        method: 'get',
        path: `/api/kiosk/submit-qr.${format}`,
        tag: 'public',
        access: 'public',
        summary: `QR code (${format.toUpperCase()}) of the phone page for submitting a request, shown on the cabinet`,
        responses: { 200: qrResponse(format, 'the QR code of PUBLIC_URL + /m/submit') },
        handler: async ({ res }) => sendQr(res, joinUrl(deps.publicUrl, PHONE_PAGES.submit), format, { secret: false }),
      }),
    );
  }

  routes.push(
    route<Record<string, never>, Record<string, never>, { residentToken: string }>({
      method: 'post',
      path: '/api/residents/token',
      tag: 'public',
      access: 'public',
      summary: 'Renew the phone’s resident token (its QR code): a new one with a new QR id; the old one stops working at once',
      body: z.object({ residentToken: z.string().min(1).max(64).describe('the token this phone holds') }),
      responses: {
        200: {
          description: 'the new token; keep it instead of the old one',
          schema: z.object({
            residentToken: z.string(),
            residentQrUrl: z.string(),
            expiresAt: z.string().describe('after this the cabinet refuses the QR code: renew before (ISO 8601)'),
          }),
        },
        404: errorResponse('the token is not (or no longer) valid: renewed elsewhere, or rotated by staff'),
      },
      handler: ({ body }) => {
        const t = parseResidentQrToken(store.keys, body.residentToken);
        const resident = t ? findResidentByQrId(ctx, t.qrId) : null;
        if (!resident) throw new HttpError(404, 'NOT_FOUND', said('submit.resident_registration_ended'));
        const now = ctx.now();
        const renewed = rotateResidentQrId(ctx, resident.id, residentActor(resident.id));
        const residentToken = makeResidentQrToken(store.keys, renewed.qrId, now);
        return [200, { residentToken, residentQrUrl: residentQrUrl(residentToken), expiresAt: iso(now + RESIDENT_QR_MAX_AGE_MS) }];
      },
    }),
  );

  routes.push(
    route({
      method: 'get',
      path: '/api/kiosk/info',
      tag: 'kiosk',
      access: 'kiosk',
      summary: 'What the cabinet screen shows when idle (no personal data)',
      responses: {
        200: {
          description: 'link state, free compartments and the submission link',
          schema: z.object({
            link: z.string(),
            freeCompartments: z.number().int(),
            submitUrl: z.string(),
            submitQrUrl: z.string(),
            deviceId: z.string(),
            committeePhone: z.string().nullable().describe('whom to call when the cabinet is out of service (COMMITTEE_PHONE)'),
            cabinet: cabinetFaceSchema,
          }),
        },
      },
      handler: ({ caller }) => [
        200,
        {
          link: deps.driver.snapshot().link,
          freeCompartments: countByState(ctx).free,
          submitUrl: joinUrl(deps.publicUrl, PHONE_PAGES.submit),
          submitQrUrl: '/api/kiosk/submit-qr.svg',
          deviceId: caller.kind === 'kiosk' ? caller.deviceId : '',
          committeePhone: deps.config.committeePhone ?? null,
          cabinet: deps.config.cabinet,
        },
      ],
    }),
  );
  return routes;
}
