/**
 * The staff console's routes: requests (list, detail, the state changes that open no door), the full ID
 * number (audited), compartments, audit log, alarms, notifications; for administrators, accounts and the
 * service catalogue. Every state change goes through a store function (which writes its audit row in the
 * same transaction) and is then published on the event bus.
 *
 * Personal data on these screens: mobile `138****5678`, ID number first 3 + last 4; the full ID number only
 * through GET /api/staff/requests/:id/id-number with a purpose, which is audited. Never a pickup code.
 */
import { isWordKey, said, type Said } from '../words/keys.js';
import { say } from '../words/catalogue.js';
import { createAccount, resetAccountPin, setAccountDisabled } from '../flows/staff-accounts.js';
import { z } from 'zod';
import { eventsFrom, REQUEST_STATES, TERMINAL_STATES, type RequestEvent, type RequestState } from '../domain/request-states.js';
import { ALARM_KINDS, staffActor } from '../domain/types.js';
import { alarmView } from '../events.js';
import { maskMobile } from '../domain/validation.js';
import {
  acknowledgeAlarm,
  confirmIdentity,
  ALARM_NOTE_MAX,
  COMPARTMENT_STATES,
  countOpenAlarms,
  listAlarms,
  getResident,
  getServiceItem,
  getStaff,
  listAudit,
  listCompartments,
  listNotifications,
  listServiceItems,
  listStaff,
  NOTIFICATION_KINDS,
  pageRequests,
  reissuePickupCode,
  requireRequest,
  revealIdNumber,
  rotateResidentQrId,
  searchRequests,
  transitionRequest,
  upsertServiceItem,
  type AuditEntry,
  type Request,
  type Resident,
  type Staff,
} from '../store/index.js';
import type { StoreContext } from '../store/context.js';
import type { AppDeps } from './app.js';
import { staffCaller } from './auth.js';
import { HttpError, languageOf, route, type RouteSpec } from './routes.js';
import { compartmentNoField, errorResponse, idField, iso, isoOrNull, okSchema, STATE_TEXT, textSchema } from './schemas.js';
import { serviceSchema } from './public-routes.js';

// ---------------------------------------------------------------------------------------------
// Answer shapes
// ---------------------------------------------------------------------------------------------

export const requestItemSchema = z.object({
  id: z.number().int(),
  number: z.string(),
  serviceCode: z.string(),
  serviceNameZh: z.string(),
  state: z.enum(REQUEST_STATES),
  stateText: textSchema,
  residentId: z.number().int(),
  residentName: z.string(),
  mobileMasked: z.string().describe('138****5678'),
  idNumberMasked: z.string().nullable().describe('first 3 and last 4 digits'),
  compartmentNo: z.number().int().nullable(),
  createdAt: z.string(),
  stateChangedAt: z.string(),
  actions: z.array(z.string()).describe('events the state table allows now (some are door flows)'),
  identityCheck: z
    .object({ residentId: z.number().int(), residentName: z.string(), mobileMasked: z.string(), idNumberMasked: z.string().nullable() })
    .nullable()
    .describe(
      'the ID number given for this request is registered to this resident: confirm who the person is (confirm-identity) or reject; accepting waits',
    ),
});

const auditEntrySchema = z.object({
  id: z.number().int(),
  at: z.string(),
  actorKind: z.string(),
  actorId: z.string().nullable(),
  actorName: z.string().nullable().describe('the staff member’s name when a staff member did it'),
  action: z.string(),
  compartmentNo: z.number().int().nullable(),
  requestId: z.number().int().nullable(),
  detail: z.record(z.string(), z.unknown()),
});

const notificationSchema = z.object({
  id: z.number().int(),
  requestId: z.number().int().nullable(),
  requestNumber: z.string().nullable(),
  kind: z.enum(NOTIFICATION_KINDS),
  status: z.enum(['pending', 'sent', 'failed', 'cancelled']),
  attempts: z.number().int(),
  nextAttemptAt: z.string(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
  mobileMasked: z.string(),
});

export const requestDetailSchema = requestItemSchema.extend({
  note: z.string().nullable(),
  reason: z.string().nullable(),
  loadedAt: z.string().nullable(),
  closedAt: z.string().nullable(),
  resident: z.object({
    id: z.number().int(),
    name: z.string(),
    mobileMasked: z.string(),
    idNumberMasked: z.string().nullable(),
    address: z.object({ building: z.string(), unit: z.string(), room: z.string() }).nullable(),
  }),
  audit: z.array(auditEntrySchema),
  notifications: z.array(notificationSchema.omit({ mobileMasked: true, requestNumber: true })),
});

const accountSchema = z.object({
  id: z.number().int(),
  login: z.string(),
  name: z.string(),
  role: z.enum(['staff', 'admin']),
  mustChangePin: z.boolean(),
  disabled: z.boolean(),
  createdAt: z.string(),
});

export const alarmSchema = z.object({
  id: z.number().int().describe('negative: could not be stored, cannot be acknowledged'),
  kind: z.enum(ALARM_KINDS),
  at: z.string().describe('first raised'),
  lastAt: z.string().describe('last raised again while open'),
  count: z.number().int().min(1).describe('how many times it was raised while open'),
  key: z.string().nullable().describe('what it says: a key of the word catalogue (GET /api/words); null for an alarm stored before alarms had keys'),
  params: z
    .record(z.string(), z.union([z.string(), z.number(), z.array(z.number())]))
    .optional()
    .describe('the parameters of `key`'),
  message: z.string().describe('its words in the primary language (an alarm stored before alarms had keys: as raised)'),
  compartment: z.number().int().optional(),
  requestId: z.number().int().optional(),
  acknowledged: z
    .object({
      at: z.string(),
      by: z.object({ id: z.number().int(), name: z.string() }),
      note: z.string().nullable().describe('what the staff member typed; when the system ended it (noteKey): those words in the primary language'),
      noteKey: z
        .string()
        .nullable()
        .describe('what the system noted when it ended the alarm itself: a key of the word catalogue; null for a typed note'),
      noteParams: z
        .record(z.string(), z.union([z.string(), z.number(), z.array(z.number())]))
        .optional()
        .describe('the parameters of `noteKey`'),
    })
    .nullable()
    .describe('null while open'),
});

/**
 * Why a compartment is a fault, in words of `language`: the flows record a key of the word catalogue (fault.*);
 * a fault recorded before that (or by hand) is shown as it was written.
 */
function faultWords(reason: string | null, language: string): { faultReason: string | null; faultKey: string | null } {
  if (reason === null) return { faultReason: null, faultKey: null };
  return isWordKey(reason) && reason.startsWith('fault.')
    ? { faultReason: say({ key: reason } as Said, language), faultKey: reason }
    : { faultReason: reason, faultKey: null };
}

/** A row of GET /api/staff/compartments. */
export const compartmentRowSchema = z.object({
  no: z.number().int(),
  board: z.number().int(),
  channel: z.number().int(),
  state: z.enum(COMPARTMENT_STATES),
  door: z.enum(['open', 'closed', 'unknown']),
  doorAt: z.string().nullable(),
  faultReason: z.string().nullable().describe('why it is a fault, in the language the caller accepts (as recorded, for an old fault)'),
  faultKey: z.string().nullable().describe('why it is a fault, as a key of the word catalogue (GET /api/words); null for an old fault'),
  contents: z
    .object({ requestId: z.number().int(), requestNumber: z.string(), requestState: z.string(), direction: z.enum(['for_resident', 'for_staff']) })
    .nullable(),
  live: z.object({ door: z.string(), item: z.string(), fault: z.string() }).nullable(),
});

const staffServiceSchema = serviceSchema.extend({ enabled: z.boolean(), sortOrder: z.number().int() });

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

/** An audit row for the screens, with the staff member's name when one did it (`names` caches them per answer). */
function auditView(ctx: StoreContext, names: Map<string, string | null> = new Map()): (e: AuditEntry) => z.infer<typeof auditEntrySchema> {
  return (e) => {
    let actorName: string | null = null;
    if (e.actorKind === 'staff' && e.actorId !== null) {
      if (!names.has(e.actorId)) names.set(e.actorId, /^\d+$/.test(e.actorId) ? (getStaff(ctx, Number(e.actorId))?.name ?? null) : null);
      actorName = names.get(e.actorId) ?? null;
    }
    return { ...e, actorName, at: iso(e.at), detail: { ...e.detail } };
  };
}

function accountView(s: Staff): z.infer<typeof accountSchema> {
  return { id: s.id, login: s.login, name: s.name, role: s.role, mustChangePin: s.mustChangePin, disabled: s.disabled, createdAt: iso(s.createdAt) };
}

const idParam = z.object({ id: idField });
type IdParam = z.output<typeof idParam>;
const expectStateField = z.enum(REQUEST_STATES).optional().describe('refuse (409) unless the request is still in this state');

/** Staff actions that open no door. The door flows (loading, retrieval, materials) are in door-routes.ts. */
const ACTIONS: readonly { path: string; event: RequestEvent; summary: string; reason: 'required' | 'optional' | 'none' }[] = [
  { path: 'accept', event: 'accept', summary: 'Accept a submitted request (or one whose materials staff have)', reason: 'none' },
  { path: 'reject', event: 'reject', summary: 'Reject a request; the reason is shown to the resident and sent to them', reason: 'required' },
  { path: 'request-materials', event: 'request_materials', summary: 'Ask the resident to drop materials off first', reason: 'none' },
  { path: 'ready', event: 'mark_ready', summary: 'The document is prepared and can go into the cabinet', reason: 'none' },
  { path: 'cancel', event: 'cancel', summary: 'Cancel a request that is not in the cabinet', reason: 'optional' },
];

export function staffRoutes(deps: AppDeps): RouteSpec[] {
  const { store, bus } = deps;
  const ctx = store.ctx;

  function requestItem(r: Request, residents: Map<number, Resident | null> = new Map()): z.infer<typeof requestItemSchema> {
    if (!residents.has(r.residentId)) residents.set(r.residentId, getResident(ctx, r.residentId));
    const res = residents.get(r.residentId) ?? null;
    return {
      id: r.id,
      number: r.number,
      serviceCode: r.serviceCode,
      serviceNameZh: getServiceItem(ctx, r.serviceCode)?.nameZh ?? r.serviceCode,
      state: r.state,
      stateText: STATE_TEXT[r.state],
      residentId: r.residentId,
      residentName: res?.name ?? '',
      mobileMasked: res ? maskMobile(res.mobile) : '',
      idNumberMasked: res?.idNumberMasked ?? null,
      compartmentNo: r.compartmentNo,
      createdAt: iso(r.createdAt),
      stateChangedAt: iso(r.stateChangedAt),
      actions: eventsFrom(r.state),
      identityCheck: r.identityCheck === null ? null : identityCheckView(r.identityCheck, residents),
    };
  }

  function identityCheckView(residentId: number, residents: Map<number, Resident | null>) {
    if (!residents.has(residentId)) residents.set(residentId, getResident(ctx, residentId));
    const reg = residents.get(residentId) ?? null;
    return {
      residentId,
      residentName: reg?.name ?? '',
      mobileMasked: reg ? maskMobile(reg.mobile) : '',
      idNumberMasked: reg?.idNumberMasked ?? null,
    };
  }

  const routes: RouteSpec[] = [];

  // --- requests -----------------------------------------------------------------------------
  routes.push(
    route<Record<string, never>, { state?: RequestState | 'open'; q?: string; limit: number; before?: number }>({
      method: 'get',
      path: '/api/staff/requests',
      tag: 'staff',
      access: 'staff',
      summary: 'Requests, newest first; filter by state (or "open" = not finished) and search text; page with `before`',
      query: z.object({
        state: z.union([z.enum(REQUEST_STATES), z.literal('open')]).optional(),
        q: z.string().trim().max(40).optional().describe('part of the request number or the resident’s name, or their whole mobile number'),
        limit: z.coerce.number().int().min(1).max(500).default(100),
        before: idField.optional().describe('only requests older than this id: the `nextBefore` of the previous page'),
      }),
      responses: {
        200: {
          description: 'matching requests',
          schema: z.object({
            requests: z.array(requestItemSchema),
            nextBefore: z.number().int().nullable().describe('pass as `before` for the next (older) page; null: nothing older matches'),
          }),
        },
      },
      handler: ({ query }) => {
        const states = query.state === 'open' ? REQUEST_STATES.filter((s) => !TERMINAL_STATES.includes(s)) : query.state ? [query.state] : undefined;
        const filter = { ...(states ? { states } : {}), ...(query.before !== undefined ? { before: query.before } : {}), limit: query.limit };
        const page = query.q ? searchRequests(ctx, { ...filter, text: query.q }) : pageRequests(ctx, filter);
        const residents = new Map<number, Resident | null>();
        return [200, { requests: page.requests.map((r) => requestItem(r, residents)), nextBefore: page.nextBefore }];
      },
    }),
  );

  routes.push(
    route<IdParam>({
      method: 'get',
      path: '/api/staff/requests/:id',
      tag: 'staff',
      access: 'staff',
      summary: 'One request with its audit trail and its notifications’ delivery status (never a code)',
      params: idParam,
      responses: { 200: { description: 'the request', schema: requestDetailSchema }, 404: errorResponse('no such request') },
      handler: ({ params }) => {
        const r = requireRequest(ctx, params.id);
        const res = getResident(ctx, r.residentId);
        return [
          200,
          {
            ...requestItem(r),
            note: r.note,
            reason: r.reason,
            loadedAt: isoOrNull(r.loadedAt),
            closedAt: isoOrNull(r.closedAt),
            resident: {
              id: r.residentId,
              name: res?.name ?? '',
              mobileMasked: res ? maskMobile(res.mobile) : '',
              idNumberMasked: res?.idNumberMasked ?? null,
              address: res?.address ?? null,
            },
            audit: listAudit(store.db, { requestId: r.id, limit: 1000 }).map(auditView(ctx)),
            notifications: listNotifications(ctx, { requestId: r.id }).map((n) => ({
              id: n.id,
              requestId: n.requestId,
              kind: n.kind,
              status: n.status,
              attempts: n.attempts,
              nextAttemptAt: iso(n.nextAttemptAt),
              lastError: n.lastError,
              createdAt: iso(n.createdAt),
              sentAt: isoOrNull(n.sentAt),
            })),
          },
        ];
      },
    }),
  );

  for (const a of ACTIONS) {
    const body =
      a.reason === 'required'
        ? z.object({ reason: z.string().trim().min(1, { error: 'input.reason_required' }).max(500), expectState: expectStateField })
        : a.reason === 'optional'
          ? z.object({ reason: z.string().trim().max(500).optional(), expectState: expectStateField })
          : z.object({ expectState: expectStateField });
    routes.push(
      route<IdParam, Record<string, never>, { reason?: string; expectState?: RequestState }>({
        method: 'post',
        path: `/api/staff/requests/:id/${a.path}`,
        tag: 'staff',
        access: 'staff',
        summary: a.summary,
        params: idParam,
        body,
        responses: {
          200: { description: 'done; the audit row was written with the change', schema: z.object({ request: requestItemSchema, from: z.string() }) },
          404: errorResponse('no such request'),
          409: errorResponse('not allowed in the request’s current state'),
        },
        handler: ({ params, body, caller }) => {
          const me = staffCaller(caller);
          const out = transitionRequest(ctx, {
            requestId: params.id,
            event: a.event,
            actor: staffActor(me.staffId),
            ...(body.reason ? { reason: body.reason } : {}),
            ...(body.expectState ? { expectState: body.expectState } : {}),
          });
          bus.emit('request', { id: out.request.id, number: out.request.number, state: out.request.state, from: out.from });
          return [200, { request: requestItem(out.request), from: out.from }];
        },
      }),
    );
  }

  routes.push(
    route<IdParam>({
      method: 'post',
      path: '/api/staff/requests/:id/confirm-identity',
      tag: 'staff',
      access: 'staff',
      summary: 'Staff confirmed who the person is (ID card seen): the held request becomes the registered resident’s (audited)',
      params: idParam,
      responses: {
        200: { description: 'the request, now the registered resident’s', schema: z.object({ request: requestItemSchema }) },
        404: errorResponse('no such request'),
        409: errorResponse('the request has no identity to confirm'),
      },
      handler: ({ params, caller }) => {
        const r = confirmIdentity(ctx, params.id, staffActor(staffCaller(caller).staffId));
        bus.emit('request', { id: r.id, number: r.number, state: r.state, from: r.state });
        return [200, { request: requestItem(r) }];
      },
    }),
  );

  routes.push(
    route<IdParam>({
      method: 'post',
      path: '/api/staff/requests/:id/reissue-code',
      tag: 'staff',
      access: 'staff',
      summary: 'The resident lost the pickup message: a new code is sent, the old one stops working',
      params: idParam,
      responses: {
        200: { description: 'a new message is on its way (the code is only in it)', schema: z.object({ notificationId: z.number().int() }) },
        404: errorResponse('no such request'),
        409: errorResponse('the document is not waiting in the cabinet'),
      },
      handler: ({ params, caller }) => {
        const r = reissuePickupCode(ctx, params.id, staffActor(staffCaller(caller).staffId));
        return [200, { notificationId: r.notificationId }];
      },
    }),
  );

  routes.push(
    route<IdParam, { purpose: string }>({
      method: 'get',
      path: '/api/staff/requests/:id/id-number',
      tag: 'staff',
      access: 'staff',
      summary: 'The resident’s full ID number, for a stated purpose (audited)',
      params: idParam,
      query: z.object({ purpose: z.string().trim().min(2, { error: 'input.purpose_required' }).max(100) }),
      responses: {
        200: { description: 'the full ID number; the reading is in the audit log', schema: z.object({ idNumber: z.string() }) },
        404: errorResponse('no such request, or the resident gave no ID number'),
      },
      handler: ({ params, query, caller, res }) => {
        const r = requireRequest(ctx, params.id);
        const id = revealIdNumber(ctx, r.residentId, staffActor(staffCaller(caller).staffId), query.purpose);
        if (id === null) throw new HttpError(404, 'NOT_FOUND', said('staff.no_id_number'));
        res.setHeader('Cache-Control', 'no-store');
        return [200, { idNumber: id }];
      },
    }),
  );

  routes.push(
    route<IdParam>({
      method: 'post',
      path: '/api/staff/residents/:id/qr/rotate',
      tag: 'staff',
      access: 'staff',
      summary: 'A resident lost their phone (or their QR was photographed): their QR code stops working at once (audited)',
      params: idParam,
      responses: {
        200: { description: 'rotated; the resident binds a new phone at the office or by a new submission', schema: okSchema },
        404: errorResponse('no such resident'),
      },
      handler: ({ params, caller }) => {
        rotateResidentQrId(ctx, params.id, staffActor(staffCaller(caller).staffId));
        return [200, { ok: true }];
      },
    }),
  );

  // --- cabinet, audit, alarms, notifications ------------------------------------------------
  routes.push(
    route({
      method: 'get',
      path: '/api/staff/compartments',
      tag: 'staff',
      access: 'staff',
      summary: 'Every compartment: state, contents, last door state, fault reason, and what the board reports now',
      responses: {
        200: {
          description: 'the compartments',
          schema: z.object({
            compartments: z.array(compartmentRowSchema),
          }),
        },
      },
      handler: ({ req: http }) => {
        const language = languageOf(http);
        const live = new Map(deps.driver.snapshot().compartments.map((c) => [c.compartment, c]));
        return [
          200,
          {
            compartments: listCompartments(ctx).map((c) => {
              const req = c.contents ? requireRequest(ctx, c.contents.requestId) : null;
              const l = live.get(c.no);
              return {
                no: c.no,
                board: c.boardAddress,
                channel: c.channel,
                state: c.state,
                door: c.door,
                doorAt: isoOrNull(c.doorAt),
                ...faultWords(c.faultReason, language),
                contents:
                  c.contents && req
                    ? { requestId: req.id, requestNumber: req.number, requestState: req.state, direction: c.contents.direction }
                    : null,
                live: l ? { door: l.door, item: l.item, fault: l.fault } : null,
              };
            }),
          },
        ];
      },
    }),
  );

  routes.push(
    route<Record<string, never>, { compartment?: number; request?: number; limit: number }>({
      method: 'get',
      path: '/api/staff/audit',
      tag: 'staff',
      access: 'staff',
      summary: 'The audit log, newest first',
      query: z.object({
        compartment: compartmentNoField.optional(),
        request: idField.optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
      }),
      responses: { 200: { description: 'audit rows', schema: z.object({ entries: z.array(auditEntrySchema) }) } },
      handler: ({ query }) => [
        200,
        {
          entries: listAudit(store.db, {
            ...(query.compartment !== undefined ? { compartmentNo: query.compartment } : {}),
            ...(query.request !== undefined ? { requestId: query.request } : {}),
            limit: query.limit,
            newestFirst: true,
          }).map(auditView(ctx)),
        },
      ],
    }),
  );

  routes.push(
    route<Record<string, never>, { open?: boolean; limit: number }>({
      method: 'get',
      path: '/api/staff/alarms',
      tag: 'staff',
      access: 'staff',
      summary: 'Alarms (tamper, door left open, …): open ones first, newest first; then those dealt with, most recent first',
      query: z.object({
        open: z
          .enum(['true', 'false'])
          .transform((v) => v === 'true')
          .optional()
          .describe('true: only open ones; false: only those dealt with'),
        limit: z.coerce.number().int().min(1).max(1000).default(200),
      }),
      responses: {
        200: {
          description: 'alarms, and how many are open in all',
          schema: z.object({ alarms: z.array(alarmSchema), openCount: z.number().int() }),
        },
      },
      handler: ({ query }) => [
        200,
        {
          alarms: listAlarms(ctx, { ...(query.open !== undefined ? { open: query.open } : {}), limit: query.limit }).map(alarmView),
          openCount: countOpenAlarms(ctx),
        },
      ],
    }),
  );

  routes.push(
    route<IdParam, Record<string, never>, { note?: string }>({
      method: 'post',
      path: '/api/staff/alarms/:id/ack',
      tag: 'staff',
      access: 'staff',
      summary: 'A staff member has dealt with the alarm (optionally saying how); audited, and every console is told',
      params: idParam,
      body: z.object({
        note: z.string().trim().max(ALARM_NOTE_MAX).optional(),
      }),
      responses: {
        200: { description: 'acknowledged; the audit row was written with it', schema: z.object({ alarm: alarmSchema }) },
        404: errorResponse('no such alarm'),
        409: errorResponse('someone already dealt with it'),
      },
      handler: ({ params, body, caller }) => {
        const me = staffCaller(caller);
        const alarm = alarmView(acknowledgeAlarm(ctx, params.id, staffActor(me.staffId), body.note ?? null));
        bus.emit('alarm-ack', alarm);
        return [200, { alarm }];
      },
    }),
  );

  routes.push(
    route<Record<string, never>, { status?: 'pending' | 'sent' | 'failed' | 'cancelled'; limit: number }>({
      method: 'get',
      path: '/api/staff/notifications',
      tag: 'staff',
      access: 'staff',
      summary: 'Messages to residents and whether they went out (never their codes), newest first',
      query: z.object({
        status: z.enum(['pending', 'sent', 'failed', 'cancelled']).optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(200),
      }),
      responses: { 200: { description: 'notifications', schema: z.object({ notifications: z.array(notificationSchema) }) } },
      handler: ({ query }) => {
        const rows = listNotifications(ctx, query.status ? { status: query.status } : {})
          .reverse()
          .slice(0, query.limit);
        const numbers = new Map<number, string>();
        return [
          200,
          {
            notifications: rows.map((n) => {
              if (n.requestId !== null && !numbers.has(n.requestId)) numbers.set(n.requestId, requireRequest(ctx, n.requestId).number);
              const res = getResident(ctx, n.residentId);
              return {
                id: n.id,
                requestId: n.requestId,
                requestNumber: n.requestId !== null ? (numbers.get(n.requestId) ?? null) : null,
                kind: n.kind,
                status: n.status,
                attempts: n.attempts,
                nextAttemptAt: iso(n.nextAttemptAt),
                lastError: n.lastError,
                createdAt: iso(n.createdAt),
                sentAt: isoOrNull(n.sentAt),
                mobileMasked: res ? maskMobile(res.mobile) : '',
              };
            }),
          },
        ];
      },
    }),
  );

  // --- accounts (admin) ---------------------------------------------------------------------
  routes.push(
    route({
      method: 'get',
      path: '/api/staff/accounts',
      tag: 'admin',
      access: 'admin',
      summary: 'Staff accounts',
      responses: { 200: { description: 'accounts', schema: z.object({ accounts: z.array(accountSchema) }) } },
      handler: () => [200, { accounts: listStaff(ctx).map(accountView) }],
    }),
  );

  routes.push(
    route<Record<string, never>, Record<string, never>, { login: string; name: string; role: 'staff' | 'admin' }>({
      method: 'post',
      path: '/api/staff/accounts',
      tag: 'admin',
      access: 'admin',
      summary: 'Create a staff account; its first PIN is generated and shown only in this answer',
      body: z.object({
        login: z
          .string()
          .trim()
          .toLowerCase()
          .regex(/^[a-z0-9]{1,32}$/, { error: 'input.login_format' }),
        name: z.string().trim().min(1, { error: 'input.name_required' }).max(30),
        role: z.enum(['staff', 'admin']).default('staff'),
      }),
      responses: {
        201: { description: 'created; the PIN must be changed at first sign-in', schema: z.object({ account: accountSchema, pin: z.string() }) },
        409: errorResponse('the login is taken'),
      },
      handler: async ({ body, caller }) => {
        const { account, pin } = await createAccount(store, body, staffActor(staffCaller(caller).staffId));
        return [201, { account: accountView(account), pin }];
      },
    }),
  );

  for (const [path, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    routes.push(
      route<IdParam>({
        method: 'post',
        path: `/api/staff/accounts/:id/${path}`,
        tag: 'admin',
        access: 'admin',
        summary: disabled ? 'Disable an account (its sessions end at once)' : 'Enable a disabled account',
        params: idParam,
        responses: {
          200: { description: 'done', schema: z.object({ account: accountSchema }) },
          400: errorResponse('the last enabled administrator cannot be disabled'),
          404: errorResponse('no such account'),
        },
        handler: ({ params, caller }) => {
          return [200, { account: accountView(setAccountDisabled(store, params.id, disabled, staffActor(staffCaller(caller).staffId))) }];
        },
      }),
    );
  }

  routes.push(
    route<IdParam>({
      method: 'post',
      path: '/api/staff/accounts/:id/reset-pin',
      tag: 'admin',
      access: 'admin',
      summary: 'Give an account a new generated PIN (shown once; to be changed at next sign-in); its sessions end',
      params: idParam,
      responses: {
        200: { description: 'the new PIN', schema: z.object({ account: accountSchema, pin: z.string() }) },
        404: errorResponse('no such account'),
      },
      handler: async ({ params, caller }) => {
        const { account, pin } = await resetAccountPin(store, params.id, staffActor(staffCaller(caller).staffId));
        return [200, { account: accountView(account), pin }];
      },
    }),
  );

  // --- service catalogue --------------------------------------------------------------------
  routes.push(
    route({
      method: 'get',
      path: '/api/staff/services',
      tag: 'staff',
      access: 'staff',
      summary: 'The whole service catalogue, enabled or not',
      responses: { 200: { description: 'services', schema: z.object({ services: z.array(staffServiceSchema) }) } },
      handler: () => [
        200,
        {
          services: listServiceItems(ctx).map((s) => ({
            code: s.code,
            nameZh: s.nameZh,
            nameEn: s.nameEn,
            needs: { idNumber: s.requiredFields.includes('id_number'), address: s.requiredFields.includes('address') },
            needsMaterials: s.needsMaterials,
            enabled: s.enabled,
            sortOrder: s.sortOrder,
          })),
        },
      ],
    }),
  );

  type ServiceBody = {
    nameZh: string;
    nameEn: string;
    needs: { idNumber: boolean; address: boolean };
    needsMaterials: boolean;
    enabled: boolean;
    sortOrder: number;
  };
  routes.push(
    route<{ code: string }, Record<string, never>, ServiceBody>({
      method: 'put',
      path: '/api/staff/services/:code',
      tag: 'admin',
      access: 'admin',
      summary: 'Add or change a service in the catalogue (disable instead of deleting)',
      params: z.object({
        code: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, { error: 'input.service_code_format' }),
      }),
      body: z.object({
        nameZh: z.string().trim().min(1).max(40),
        nameEn: z.string().trim().min(1).max(80),
        needs: z.object({ idNumber: z.boolean(), address: z.boolean() }),
        needsMaterials: z.boolean().default(false),
        enabled: z.boolean().default(true),
        sortOrder: z.number().int().min(-100_000).max(100_000).default(0),
      }),
      responses: { 200: { description: 'saved', schema: z.object({ service: staffServiceSchema }) } },
      handler: ({ params, body, caller }) => {
        const s = upsertServiceItem(
          ctx,
          {
            code: params.code,
            nameZh: body.nameZh,
            nameEn: body.nameEn,
            requiredFields: [...(body.needs.idNumber ? ['id_number' as const] : []), ...(body.needs.address ? ['address' as const] : [])],
            needsMaterials: body.needsMaterials,
            enabled: body.enabled,
            sortOrder: body.sortOrder,
          },
          staffActor(staffCaller(caller).staffId),
        );
        return [
          200,
          {
            service: {
              code: s.code,
              nameZh: s.nameZh,
              nameEn: s.nameEn,
              needs: { idNumber: s.requiredFields.includes('id_number'), address: s.requiredFields.includes('address') },
              needsMaterials: s.needsMaterials,
              enabled: s.enabled,
              sortOrder: s.sortOrder,
            },
          },
        ];
      },
    }),
  );

  return routes;
}
