/**
 * The office's routes: the request history and the audit log found by filters and text (newest first, paged with
 * an opaque cursor), the statistics a committee reports, and CSV exports of both for a date range.
 *
 * Exports: UTF-8 with BOM, formula injection neutralised (csv.ts), streamed a page at a time. Personal data is
 * masked (张**, 138****5678, 310***********1234, building only) unless an administrator asks for `unmasked=true`
 * (then name, mobile and address in full; the ID number stays masked: reading one is its own audited act). Every
 * export is written to the audit log (who, what, which range, masked or not) before its first byte goes out.
 */
import { say } from '../words/catalogue.js';
import type { Said } from '../words/keys.js';
import { said } from '../words/keys.js';
import { z } from 'zod';
import { REQUEST_STATES, TERMINAL_STATES, type RequestState } from '../domain/request-states.js';
import { ACTOR_KINDS, staffActor, type ActorKind } from '../domain/types.js';
import { maskMobile } from '../domain/validation.js';
import {
  appendAudit,
  decodeCursor,
  encodeCursor,
  findAudit,
  findRequests,
  localDateTime,
  localDayStart,
  offsetMinutes,
  residentForExport,
  statistics,
  type AuditFilter,
  type AuditRow,
  type Cursor,
  type RequestFilter,
  type RequestRow,
  type TimeRange,
} from '../store/index.js';
import type { StoreContext } from '../store/context.js';
import { setupWarnings } from '../setup-warnings.js';
import type { AppDeps } from './app.js';
import { staffCaller } from './auth.js';
import { writeCsv, type CsvValue } from './csv.js';
import { HttpError, route, type RouteSpec } from './routes.js';
import { compartmentNoField, errorResponse, idField, iso, isoOrNull, STATE_TEXT, textSchema } from './schemas.js';

const DAY = 86_400_000;
/** The longest range one statistics call or export covers (ten years). */
const MAX_RANGE_DAYS = 3660;

const dayField = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'input.date_format' });
const cursorField = z
  .string()
  .regex(/^\d{1,15}\.\d{1,15}$/, { error: 'input.page_cursor' })
  .describe('the `next` of the previous page');
const stateField = z
  .union([z.enum(REQUEST_STATES), z.literal('open'), z.literal('finished')])
  .describe('a state, or "open" (not finished) or "finished"');
const serviceField = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,39}$/, { error: 'input.document_code' })
  .describe('a document type code');

const requestFilterQuery = z.object({
  state: stateField.optional(),
  service: serviceField.optional(),
  from: dayField.optional().describe('created on or after this local day'),
  to: dayField.optional().describe('created on or before this local day'),
  q: z.string().trim().max(40).optional().describe('part of the request number, the resident’s name, or mobile digits'),
});
type RequestFilterQuery = z.output<typeof requestFilterQuery>;

const auditFilterQuery = z.object({
  from: dayField.optional(),
  to: dayField.optional(),
  action: z
    .string()
    .regex(/^[a-z_.]{1,64}$/, { error: 'input.action_name' })
    .optional()
    .describe('an action ("request.accept"), or a family ending in "." ("request.")'),
  actorKind: z.enum(ACTOR_KINDS).optional(),
  staff: idField.optional().describe('a staff member’s id (the actor)'),
  compartment: compartmentNoField.optional(),
  q: z.string().trim().max(60).optional().describe('a request number, or words in the action or its detail'),
});
type AuditFilterQuery = z.output<typeof auditFilterQuery>;

const historyItemSchema = z.object({
  id: z.number().int(),
  number: z.string(),
  serviceCode: z.string(),
  serviceNameZh: z.string(),
  serviceNameEn: z.string(),
  state: z.enum(REQUEST_STATES),
  stateText: textSchema,
  residentName: z.string(),
  mobileMasked: z.string(),
  idNumberMasked: z.string().nullable(),
  compartmentNo: z.number().int().nullable(),
  createdAt: z.string(),
  stateChangedAt: z.string(),
  loadedAt: z.string().nullable(),
  closedAt: z.string().nullable(),
});

const auditItemSchema = z.object({
  id: z.number().int(),
  at: z.string(),
  actorKind: z.enum(ACTOR_KINDS),
  actorId: z.string().nullable(),
  actorName: z.string().nullable().describe('the staff member’s name when a staff member did it'),
  action: z.string(),
  compartmentNo: z.number().int().nullable(),
  requestId: z.number().int().nullable(),
  requestNumber: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
});

const countSchema = z.object({ count: z.number().int() });
const statisticsSchema = z.object({
  from: z.string(),
  to: z.string(),
  perDay: z.array(countSchema.extend({ day: z.string() })),
  perService: z.array(countSchema.extend({ code: z.string(), nameZh: z.string(), nameEn: z.string() })),
  waitToCollect: z
    .object({
      count: z.number().int(),
      medianHours: z.number().nullable(),
      p90Hours: z.number().nullable(),
      buckets: z.array(countSchema.extend({ upToHours: z.number().nullable() })),
    })
    .describe('documents collected in the range: hours from going into the cabinet to being collected'),
  overdue: z.object({ inRange: z.number().int(), perDay: z.array(countSchema.extend({ day: z.string() })), now: z.number().int() }),
  doorFaults: z.array(countSchema.extend({ compartment: z.number().int() })),
  perMonth: z
    .array(
      z.object({
        month: z.string(),
        collected: z.number().int(),
        retrieved: z.number().int(),
        rejected: z.number().int(),
        cancelled: z.number().int(),
        total: z.number().int(),
      }),
    )
    .describe('requests that ended in the range, per month and by how they ended'),
});

function historyItem(r: RequestRow): z.infer<typeof historyItemSchema> {
  return {
    id: r.id,
    number: r.number,
    serviceCode: r.serviceCode,
    serviceNameZh: r.serviceNameZh,
    serviceNameEn: r.serviceNameEn,
    state: r.state,
    stateText: STATE_TEXT[r.state],
    residentName: r.residentName,
    mobileMasked: r.mobile ? maskMobile(r.mobile) : '',
    idNumberMasked: r.idNumberMasked,
    compartmentNo: r.compartmentNo,
    createdAt: iso(r.createdAt),
    stateChangedAt: iso(r.stateChangedAt),
    loadedAt: isoOrNull(r.loadedAt),
    closedAt: isoOrNull(r.closedAt),
  };
}

function auditItem(a: AuditRow): z.infer<typeof auditItemSchema> {
  return { ...a, at: iso(a.at), detail: { ...a.detail } };
}

/** Local days [from, to] (both included, either open) as a time range; a clear 400 for a bad one. */
function rangeOf(ctx: StoreContext, from: string | undefined, to: string | undefined, opts: { required?: boolean } = {}): Partial<TimeRange> {
  const off = offsetMinutes(ctx);
  if (opts.required && (from === undefined || to === undefined)) {
    throw new HttpError(400, 'BAD_INPUT', said('office.choose_dates'), from === undefined ? 'from' : 'to');
  }
  const start = from === undefined ? undefined : localDayStart(from, off);
  const end = to === undefined ? undefined : localDayStart(to, off);
  if (start === null) throw new HttpError(400, 'BAD_INPUT', said('office.no_such_date'), 'from');
  if (end === null) throw new HttpError(400, 'BAD_INPUT', said('office.no_such_date'), 'to');
  if (start !== undefined && end !== undefined) {
    if (end < start) throw new HttpError(400, 'BAD_INPUT', said('office.end_before_start'), 'to');
    if ((end - start) / DAY >= MAX_RANGE_DAYS) throw new HttpError(400, 'BAD_INPUT', said('office.range_too_long', { days: MAX_RANGE_DAYS }), 'to');
  }
  return { ...(start !== undefined ? { from: start } : {}), ...(end !== undefined ? { to: end + DAY } : {}) };
}

function statesOf(state: RequestFilterQuery['state']): readonly RequestState[] | undefined {
  if (state === 'open') return REQUEST_STATES.filter((s) => !TERMINAL_STATES.includes(s));
  if (state === 'finished') return TERMINAL_STATES;
  return state ? [state] : undefined;
}

function requestFilter(ctx: StoreContext, q: RequestFilterQuery): RequestFilter {
  const states = statesOf(q.state);
  return {
    ...(states ? { states } : {}),
    ...(q.service ? { serviceCode: q.service } : {}),
    range: rangeOf(ctx, q.from, q.to),
    ...(q.q ? { text: q.q } : {}),
  };
}

function auditFilter(ctx: StoreContext, q: AuditFilterQuery): AuditFilter {
  return {
    range: rangeOf(ctx, q.from, q.to),
    ...(q.action ? { action: q.action } : {}),
    ...(q.staff !== undefined ? { actorKind: 'staff' as ActorKind, actorId: String(q.staff) } : q.actorKind ? { actorKind: q.actorKind } : {}),
    ...(q.compartment !== undefined ? { compartmentNo: q.compartment } : {}),
    ...(q.q ? { text: q.q } : {}),
  };
}

function cursorOf(s: string | undefined): { after?: Cursor } {
  if (s === undefined) return {};
  const c = decodeCursor(s);
  if (!c) throw new HttpError(400, 'BAD_INPUT', said('office.bad_cursor'), 'after');
  return { after: c };
}

/** Every page of a list, a page at a time (the generator resumes after the previous page was written). */
function* allPages<T>(find: (after: Cursor | undefined) => { items: T[]; next: Cursor | null }): Generator<T> {
  let after: Cursor | undefined;
  for (;;) {
    const page = find(after);
    yield* page.items;
    if (!page.next) return;
    after = page.next;
  }
}

/** A CSV column's or cell's words: Chinese, then English, so that either reader finds it in Excel. */
const both = (s: Said): string => `${say(s)} ${say(s, 'en')}`;
const isActorKind = (k: string): k is ActorKind => (ACTOR_KINDS as readonly string[]).includes(k);

export function reportRoutes(deps: AppDeps): RouteSpec[] {
  const { store } = deps;
  const ctx = store.ctx;
  const routes: RouteSpec[] = [];

  routes.push(
    route<Record<string, never>, RequestFilterQuery & { after?: string; limit: number }>({
      method: 'get',
      path: '/api/staff/history/requests',
      tag: 'staff',
      access: 'staff',
      summary: 'Every request, finished ones too, newest first: by state, document type, days created and text; paged with `after`',
      query: requestFilterQuery.extend({ after: cursorField.optional(), limit: z.coerce.number().int().min(1).max(500).default(50) }),
      responses: {
        200: {
          description: 'a page of requests; with text, a page may hold fewer than `limit` and still have a `next`',
          schema: z.object({
            requests: z.array(historyItemSchema),
            next: z.string().nullable().describe('pass as `after` for older ones; null: no more'),
          }),
        },
        400: errorResponse('a bad filter or cursor'),
      },
      handler: ({ query }) => {
        const page = findRequests(ctx, { ...requestFilter(ctx, query), ...cursorOf(query.after), limit: query.limit });
        return [200, { requests: page.items.map(historyItem), next: page.next ? encodeCursor(page.next) : null }];
      },
    }),
  );

  routes.push(
    route<Record<string, never>, AuditFilterQuery & { after?: string; limit: number }>({
      method: 'get',
      path: '/api/staff/history/audit',
      tag: 'staff',
      access: 'staff',
      summary: 'The whole audit log, newest first: by days, action, who, compartment and text; paged with `after`',
      query: auditFilterQuery.extend({ after: cursorField.optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }),
      responses: {
        200: {
          description: 'a page of audit rows',
          schema: z.object({
            entries: z.array(auditItemSchema),
            next: z.string().nullable().describe('pass as `after` for older ones; null: no more'),
          }),
        },
        400: errorResponse('a bad filter or cursor'),
      },
      handler: ({ query }) => {
        const page = findAudit(ctx, { ...auditFilter(ctx, query), ...cursorOf(query.after), limit: query.limit });
        return [200, { entries: page.items.map(auditItem), next: page.next ? encodeCursor(page.next) : null }];
      },
    }),
  );

  routes.push(
    route<Record<string, never>, { from: string; to: string }>({
      method: 'get',
      path: '/api/staff/statistics',
      tag: 'staff',
      access: 'staff',
      summary: 'Requests per day and per document type, time to collection, overdue, door faults per compartment, requests ended per month',
      query: z.object({ from: dayField.describe('first local day'), to: dayField.describe('last local day (included)') }),
      responses: { 200: { description: 'the numbers', schema: statisticsSchema }, 400: errorResponse('a bad date range') },
      handler: ({ query }) => {
        rangeOf(ctx, query.from, query.to, { required: true });
        return [200, statistics(ctx, query.from, query.to)];
      },
    }),
  );

  const exportQuery = z.object({
    from: dayField,
    to: dayField,
    unmasked: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional()
      .describe('administrators only: names, mobiles and addresses in full'),
  });

  routes.push(
    route<Record<string, never>, RequestFilterQuery & { from: string; to: string; unmasked?: boolean }>({
      method: 'get',
      path: '/api/staff/export/requests.csv',
      tag: 'staff',
      access: 'staff',
      summary: 'The requests made in a date range as CSV (UTF-8 with BOM); personal data masked unless an administrator asks; audited',
      query: requestFilterQuery.extend(exportQuery.shape),
      responses: {
        200: { description: 'CSV, one request a row', contentType: 'text/csv' },
        400: errorResponse('a bad filter or date range'),
        403: errorResponse('only administrators export unmasked data'),
      },
      handler: async ({ query, caller, res }) => {
        const me = staffCaller(caller);
        const masked = query.unmasked !== true;
        if (!masked && me.role !== 'admin') throw new HttpError(403, 'ADMIN_ONLY', said('office.unmasked_admin_only'));
        rangeOf(ctx, query.from, query.to, { required: true });
        const filter = requestFilter(ctx, query);
        const off = offsetMinutes(ctx);
        appendAudit(ctx.db, ctx.now(), {
          actor: staffActor(me.staffId),
          action: 'export.requests',
          detail: {
            from: query.from,
            to: query.to,
            masked,
            ...(query.state ? { state: query.state } : {}),
            ...(query.service ? { service: query.service } : {}),
            ...(query.q ? { text: query.q } : {}),
          },
        });
        sendCsvHeaders(res, `requests-${query.from}-${query.to}.csv`);
        const rows = (function* (): Generator<CsvValue[]> {
          for (const r of allPages((after) => findRequests(ctx, { ...filter, ...(after ? { after } : {}), limit: 500, scanRows: 20_000 }))) {
            const p = residentForExport(r, masked);
            yield [
              r.number,
              r.serviceNameZh,
              STATE_TEXT[r.state].zh,
              localDateTime(r.createdAt, off),
              r.loadedAt === null ? '' : localDateTime(r.loadedAt, off),
              r.closedAt === null ? '' : localDateTime(r.closedAt, off),
              r.compartmentNo,
              p.name,
              p.mobile,
              p.idNumber,
              p.address,
              r.reason,
            ];
          }
        })();
        await streamCsv(
          res,
          (
            [
              'number',
              'document',
              'state',
              'submitted',
              'loaded',
              'ended',
              'compartment',
              'name',
              'mobile',
              'id_number',
              'address',
              'reason',
            ] as const
          ).map((c) => both(said(`csv.${c}`))),
          rows,
        );
        return undefined;
      },
    }),
  );

  routes.push(
    route<Record<string, never>, AuditFilterQuery & { from: string; to: string }>({
      method: 'get',
      path: '/api/staff/export/audit.csv',
      tag: 'staff',
      access: 'staff',
      summary: 'The audit log of a date range as CSV (UTF-8 with BOM); audited',
      query: auditFilterQuery.extend({ from: dayField, to: dayField }),
      responses: { 200: { description: 'CSV, one audit row a row', contentType: 'text/csv' }, 400: errorResponse('a bad filter or date range') },
      handler: async ({ query, caller, res }) => {
        const me = staffCaller(caller);
        rangeOf(ctx, query.from, query.to, { required: true });
        const filter = auditFilter(ctx, query);
        const off = offsetMinutes(ctx);
        appendAudit(ctx.db, ctx.now(), {
          actor: staffActor(me.staffId),
          action: 'export.audit',
          detail: { from: query.from, to: query.to, ...(query.action ? { filterAction: query.action } : {}), ...(query.q ? { text: query.q } : {}) },
        });
        sendCsvHeaders(res, `audit-${query.from}-${query.to}.csv`);
        const rows = (function* (): Generator<CsvValue[]> {
          for (const a of allPages((after) => findAudit(ctx, { ...filter, ...(after ? { after } : {}), limit: 500, scanRows: 20_000 }))) {
            yield [
              localDateTime(a.at, off),
              isActorKind(a.actorKind) ? both(said(`actor.${a.actorKind}`)) : a.actorKind,
              a.actorName ?? a.actorId,
              a.action,
              a.compartmentNo,
              a.requestNumber,
              JSON.stringify(a.detail),
            ];
          }
        })();
        await streamCsv(
          res,
          (['time', 'who', 'actor', 'action', 'compartment', 'request', 'detail'] as const).map((c) => both(said(`csv.${c}`))),
          rows,
        );
        return undefined;
      },
    }),
  );

  routes.push(
    route({
      method: 'get',
      path: '/api/staff/setup',
      tag: 'staff',
      access: 'staff',
      summary: 'Settings that keep the office from working as it should (PUBLIC_URL not set, …), for a banner on the console',
      responses: {
        200: {
          description: 'the phone pages’ base address and what is wrong with the settings ([] when nothing is)',
          schema: z.object({
            publicUrl: z.string().describe('where the touchscreen’s QR code leads'),
            warnings: z.array(
              z.object({
                code: z.enum(['PUBLIC_URL_UNSET', 'PUBLIC_URL_LOOPBACK']),
                key: z.string(),
                params: z.record(z.string(), z.union([z.string(), z.number()])),
                zh: z.string().describe('the words in Chinese (the same as key and params say)'),
                en: z.string().describe('the words in English'),
              }),
            ),
          }),
        },
      },
      handler: () => [
        200,
        {
          publicUrl: deps.publicUrl,
          warnings: setupWarnings(deps.config, deps.config.port || 3000).map((w) => ({
            code: w.code,
            key: w.said.key,
            params: w.said.params ?? {},
            zh: say(w.said),
            en: say(w.said, 'en'),
          })),
        },
      ],
    }),
  );

  return routes;
}

/** Streams the CSV and ends the answer; a failure half-way cuts the connection (a short file must not look whole). */
async function streamCsv(res: import('express').Response, header: readonly string[], rows: Iterable<readonly CsvValue[]>): Promise<void> {
  try {
    await writeCsv(res, header, rows);
    res.end();
  } catch (err) {
    res.destroy(err instanceof Error ? err : new Error(String(err)));
  }
}

function sendCsvHeaders(res: import('express').Response, fileName: string): void {
  res.status(200);
  res.setHeader('Content-Type', 'text/csv; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="${fileName}"`);
  res.setHeader('Cache-Control', 'no-store');
}
