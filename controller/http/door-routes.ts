/**
 * Routes that open doors: the kiosk's pickup and drop-off (kiosk device only), and staff loading,
 * retrieval, force-open and disable/enable (staff session). They call the flows
 * (controller/flows/cabinet.ts) and nothing else.
 */
import { z } from 'zod';
import type { DoorAnswer, KioskAnswer } from '../flows/cabinet.js';
import type { AppDeps } from './app.js';
import type { Request } from 'express';
import type { Said } from '../words/keys.js';
import { errorBodySchema, HttpError, languageOf, route, spoken, type Caller, type ResponseSpec, type RouteSpec } from './routes.js';
import { compartmentNoField, idField } from './schemas.js';

/** What an answer says: a key of the word catalogue, its parameters, and its words in the caller's language. */
function saidFields() {
  return {
    key: z.string().describe('what to say: a key of the word catalogue (GET /api/words)'),
    params: z
      .record(z.string(), z.union([z.string(), z.number(), z.array(z.number())]))
      .optional()
      .describe('the parameters of `key` (compartments: a list of numbers)'),
    message: z.string().describe('those words in the language the caller accepts (Accept-Language; Chinese by default)'),
  };
}

export const kioskAnswerSchema = z.object({
  ok: z.boolean(),
  code: z.enum([
    'OPENED',
    'INVALID',
    'USED',
    'LOCKED',
    'NOTHING_WAITING',
    'CABINET_FULL',
    'NOT_OPENED',
    'OUT_OF_ORDER',
    'NOT_READY',
    'OUT_OF_SERVICE',
    'UNKNOWN_SCAN',
  ]),
  action: z.enum(['pickup', 'dropoff']).nullable().describe('what the open door is for'),
  ...saidFields(),
  compartments: z.array(z.number().int()).describe('compartments now open'),
  retryAfterMs: z.number().int().optional(),
  triesLeft: z.number().int().min(1).optional().describe('INVALID after a typed code: wrong tries left before a wait'),
});

export const doorAnswerSchema = z.object({
  opened: z.boolean(),
  compartment: z.number().int().nullable(),
  code: z.enum(['OPENED', 'CABINET_FULL', 'NOT_OPENED', 'NOT_SENT']),
  ...saidFields(),
});

const idParams = z.object({ id: idField });
const noParams = z.object({ no: compartmentNoField });
const reasonBody = z.object({ reason: z.string().trim().min(2, { error: 'input.reason_required' }).max(200) });

/** An answer as the route sends it: no promise, and what it says in words of the caller's language. */
function answerOut(a: KioskAnswer | DoorAnswer, req: Request): readonly [number, unknown] {
  const { done: _done, said, ...rest } = a;
  return [200, { ...rest, ...spoken(said satisfies Said, languageOf(req)) }];
}
function deviceOf(caller: Caller): string {
  return caller.kind === 'kiosk' ? caller.deviceId : 'kiosk';
}
function staffOf(caller: Caller): number {
  if (caller.kind !== 'staff') throw new HttpError(401, 'UNAUTHENTICATED');
  return caller.staffId;
}

const err = (description: string): ResponseSpec => ({ description, schema: errorBodySchema });
/** What a staff door action may answer besides 200 (the 400/401/403 of every route are added by the OpenAPI builder). */
const staffDoorErrors = {
  404: err('no such request or compartment'),
  409: err('the request or compartment is not in a state that allows this'),
  429: err('too many unlocks in the last minute: try again shortly'),
  503: err('the cabinet is not ready (link down, or the start-up check is still running)'),
};
const doorResponses = {
  200: { description: 'the door is open, or why not (CABINET_FULL is an answer, not an error)', schema: doorAnswerSchema },
  ...staffDoorErrors,
};
const kioskResponses = {
  200: {
    description: 'what to show the resident; ok=false says why in plain words (NOT_READY while the cabinet checks itself)',
    schema: kioskAnswerSchema,
  },
  409: err('a compartment changed under the operation'),
  429: err('too many unlocks in the last minute'),
  503: err('the lock board link is down'),
};

export function doorRoutes({ flows }: AppDeps): RouteSpec[] {
  return [
    route<Record<string, never>, Record<string, never>, { text: string }>({
      method: 'post',
      path: '/api/kiosk/scan',
      tag: 'kiosk',
      access: 'kiosk',
      summary: 'A QR code scanned at the cabinet (keyboard-wedge scanner on the kiosk page): opens what it entitles',
      body: z.object({ text: z.string().min(1).max(512).describe('the scanned text, as read') }),
      responses: kioskResponses,
      handler: async ({ body, caller, req }) => answerOut(await flows.scan(body.text, deviceOf(caller)), req),
    }),
    route<Record<string, never>, Record<string, never>, { code: string; phoneLast4: string }>({
      method: 'post',
      path: '/api/kiosk/pickup',
      tag: 'kiosk',
      access: 'kiosk',
      summary: 'Pickup by the 8-digit code typed on the touchscreen plus the last 4 digits of the phone',
      body: z.object({
        code: z.string().regex(/^\d{8}$/, { error: 'input.pickup_code_format' }),
        phoneLast4: z.string().regex(/^\d{4}$/, { error: 'input.phone_last4_format' }),
      }),
      responses: kioskResponses,
      handler: async ({ body, caller, req }) => answerOut(await flows.pickupByCode(body.code, body.phoneLast4, deviceOf(caller)), req),
    }),
    route<{ id: number }>({
      method: 'post',
      path: '/api/staff/requests/:id/load',
      tag: 'cabinet',
      access: 'staff',
      summary: 'Load a ready document: a free compartment is reserved and opened; closing it with the document inside issues the pickup code',
      params: idParams,
      responses: doorResponses,
      handler: async ({ params, caller, req }) => answerOut(await flows.load(staffOf(caller), params.id), req),
    }),
    route<{ id: number }>({
      method: 'post',
      path: '/api/staff/requests/:id/retrieve',
      tag: 'cabinet',
      access: 'staff',
      summary: 'Take back an overdue document (administrators: any waiting one) or dropped-off materials',
      params: idParams,
      responses: doorResponses,
      handler: async ({ params, caller, req }) => answerOut(await flows.retrieve(staffOf(caller), params.id), req),
    }),
    route<{ no: number }, Record<string, never>, { reason: string }>({
      method: 'post',
      path: '/api/staff/compartments/:no/force-open',
      tag: 'cabinet',
      access: 'admin',
      summary: 'Open any compartment (administrators only), with a mandatory reason kept in the audit log',
      params: noParams,
      body: reasonBody,
      responses: doorResponses,
      handler: async ({ params, body, caller, req }) => answerOut(await flows.forceOpen(staffOf(caller), params.no, body.reason), req),
    }),
    route<{ no: number }, Record<string, never>, { reason: string }>({
      method: 'post',
      path: '/api/staff/compartments/:no/disable',
      tag: 'cabinet',
      access: 'admin',
      summary: 'Take an empty compartment out of service',
      params: noParams,
      body: reasonBody,
      responses: {
        200: { description: 'the compartment', schema: z.object({ no: z.number().int(), state: z.string() }) },
        404: staffDoorErrors[404],
        409: staffDoorErrors[409],
      },
      handler: ({ params, body, caller }) => {
        const c = flows.setDisabled(staffOf(caller), params.no, true, body.reason);
        return [200, { no: c.no, state: c.state }];
      },
    }),
    route<{ no: number }, Record<string, never>, { reason: string }>({
      method: 'post',
      path: '/api/staff/compartments/:no/enable',
      tag: 'cabinet',
      access: 'admin',
      summary: 'Put a disabled compartment back into service',
      params: noParams,
      body: reasonBody,
      responses: {
        200: { description: 'the compartment', schema: z.object({ no: z.number().int(), state: z.string() }) },
        404: staffDoorErrors[404],
        409: staffDoorErrors[409],
      },
      handler: ({ params, body, caller }) => {
        const c = flows.setDisabled(staffOf(caller), params.no, false, body.reason);
        return [200, { no: c.no, state: c.state }];
      },
    }),
  ];
}
