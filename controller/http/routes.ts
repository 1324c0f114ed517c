/**
 * Routes are declared once, as data: method, path, who may call it, the zod schemas of its
 * input and of each answer, and the handler. From that one declaration come
 *   - the express route, with input validation (a bad input never reaches a handler),
 *   - the access check (public, kiosk device, staff session, admin),
 *   - the OpenAPI description served at /api/openapi.json (see openapi.ts).
 * Every error answer has one shape: { error: { code, key, params?, message, field?, fields? } }; `fields` lists every
 * wrong input of a validation error (its first is `field`), so that a form can mark all of them at once. `key` and
 * `params` are what to say (the word catalogue, controller/words/); `message` is those words in the language the
 * caller accepts (Accept-Language; Chinese when it names none we have). Pages put words to `key` themselves.
 */
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { CabinetErrorCode } from '../errors.js';
import { negotiate, say } from '../words/catalogue.js';
import { issueSaid } from '../domain/validation.js';
import { errorSaid, type Said } from '../words/keys.js';

/** The HTTP layer's own error codes (each has its words, `error.<CODE>`, in the catalogue). */
export const HTTP_ERROR_CODES = [
  'BAD_HOST',
  'BAD_JSON',
  'TOO_LARGE',
  'BAD_REQUEST',
  'INTERNAL',
  'UNSUPPORTED_MEDIA_TYPE',
  'BODY_REQUIRED',
  'BAD_INPUT',
  'UNAUTHENTICATED',
  'KIOSK_ONLY',
  'ADMIN_ONLY',
  'PIN_CHANGE_REQUIRED',
  'INVALID_LOGIN',
  'LOGIN_LOCKED',
  'TOO_MANY_REQUESTS',
  'UNKNOWN_SERVICE',
  'NOT_WAITING',
  'NOT_AWAITING',
  'RESIDENT_MISMATCH',
  'RESIDENT_TOKEN_INVALID',
] as const;
export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number] | CabinetErrorCode;

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** public: anyone (phones); kiosk: the cabinet's own screen only; staff/admin: a staff session. */
export type Access = 'public' | 'kiosk' | 'staff' | 'admin';

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().describe('machine-readable error code'),
    key: z.string().describe('what to say: a key of the word catalogue (GET /api/words)'),
    params: z
      .record(z.string(), z.union([z.string(), z.number(), z.array(z.number())]))
      .optional()
      .describe('the parameters of `key`'),
    message: z.string().describe('what went wrong, in plain words, in the language the caller accepts'),
    field: z.string().optional().describe('the input field at fault, when there is one (the first of `fields`)'),
    fields: z
      .array(
        z.object({
          field: z.string().describe('the input field at fault (a path, e.g. address.room)'),
          key: z.string().describe('what is wrong with it: a key of the word catalogue'),
          params: z.record(z.string(), z.union([z.string(), z.number(), z.array(z.number())])).optional(),
          message: z.string().describe('what is wrong with it, in plain words, without the field name'),
        }),
      )
      .optional()
      .describe('validation errors: every input field at fault, in the order of the input, one entry each'),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;
/** One wrong input field, and what to say of it. */
export interface FieldProblem {
  readonly field: string;
  readonly said: Said;
}

export interface ResponseSpec {
  description: string;
  /** JSON body schema; omit for non-JSON answers (then give contentType). */
  schema?: z.ZodType;
  contentType?: string;
}

/** Who is calling, as established by the access check. */
export type Caller =
  | { kind: 'public' }
  | { kind: 'kiosk'; deviceId: string }
  | { kind: 'staff'; staffId: number; role: 'staff' | 'admin'; sessionId: string };

export interface HandlerContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  caller: Caller;
  req: Request;
  res: Response;
}

/** A handler returns [status, body] for JSON, or sends the answer itself on `res` and returns undefined. */
export type HandlerResult = readonly [number, unknown] | undefined;

export interface RouteSpec<P = unknown, Q = unknown, B = unknown> {
  method: Method;
  /** Express path, e.g. /api/requests/:token */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  responses: Record<number, ResponseSpec>;
  handler: (ctx: HandlerContext<P, Q, B>) => HandlerResult | Promise<HandlerResult>;
}

/**
 * Declare a route: the handler is type-checked against its own schemas; the result is erased to
 * RouteSpec<unknown…> so that routes of every shape fit in one list (the schemas guarantee the types at run time).
 */
export function route<P = Record<string, never>, Q = Record<string, never>, B = undefined>(spec: RouteSpec<P, Q, B>): RouteSpec {
  return spec as unknown as RouteSpec;
}

/** An error a handler throws to answer 4xx/5xx in the standard shape; said: its code's generic words by default. */
export class HttpError extends Error {
  readonly said: Said;
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    what?: Said,
    readonly field?: string,
    readonly fields?: readonly FieldProblem[],
  ) {
    const s = what ?? errorSaid(`error.${code}`);
    super(say(s, 'en'));
    this.said = s;
    this.name = 'HttpError';
  }
}

/** Say `s` as a body part: its key, its parameters and its words in `language`. */
export function spoken(s: Said, language: string): { key: string; params?: Record<string, string | number | number[]>; message: string } {
  const out: { key: string; params?: Record<string, string | number | number[]>; message: string } = { key: s.key, message: say(s, language) };
  if (s.params) out.params = Object.fromEntries(Object.entries(s.params).map(([k, v]) => [k, typeof v === 'object' ? [...v] : v]));
  return out;
}

/** The language a request accepts, of those the catalogue has. */
export function languageOf(req: Pick<Request, 'headers'> | undefined): string {
  return negotiate(req?.headers['accept-language']);
}

export function sendError(res: Response, status: number, error: HttpError): void;
export function sendError(res: Response, status: number, code: HttpErrorCode, what?: Said): void;
export function sendError(res: Response, status: number, codeOrError: HttpErrorCode | HttpError, what?: Said): void {
  const e = codeOrError instanceof HttpError ? codeOrError : new HttpError(status, codeOrError, what);
  const language = languageOf(res.req);
  const error: ErrorBody['error'] = { code: e.code, ...spoken(e.said, language) };
  if (e.field !== undefined) error.field = e.field;
  // an error about one field (a use case's refusal after validation passed) is listed in `fields` too: a form
  // marks every field of `fields`, whichever way the error came
  const fields = e.fields !== undefined && e.fields.length > 0 ? e.fields : e.field !== undefined ? [{ field: e.field, said: e.said }] : [];
  if (fields.length > 0) error.fields = fields.map((f) => ({ field: f.field, ...spoken(f.said, language) }));
  res.status(status).json({ error } satisfies ErrorBody);
}

/**
 * A zod error as the first problem (field path and message: `field` and `message` of the answer) and every
 * field's first problem (`fields`, in the order zod found them; problems without a path are only in `message`).
 */
export function describeZodError(error: z.ZodError): HttpError {
  const fields: FieldProblem[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.');
    if (path && !fields.some((f) => f.field === path)) fields.push({ field: path, said: issueSaid(issue) });
  }
  const issue = error.issues[0];
  if (!issue) return new HttpError(400, 'BAD_INPUT');
  const field = issue.path.map(String).join('.');
  return new HttpError(400, 'BAD_INPUT', issueSaid(issue), field || undefined, fields);
}

export type Authenticate = (req: Request, access: Exclude<Access, 'public'>) => Caller | HttpError;
export type ErrorMapper = (err: unknown) => HttpError | null;

/** A body is required when its schema does not accept an empty object (then a request without one is a 400). */
export function bodyRequired(schema: z.ZodType): boolean {
  return !schema.safeParse({}).success;
}

/**
 * Register every route on the app: authenticate, check the body's media type (JSON only: 415) and presence (400
 * when required), validate, run, answer.
 */
export function mountRoutes(app: Express, routes: readonly RouteSpec[], authenticate: Authenticate, mapError: ErrorMapper): void {
  for (const spec of routes) {
    const handler: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
      void (async () => {
        let caller: Caller = { kind: 'public' };
        if (spec.access !== 'public') {
          const who = authenticate(req, spec.access);
          if (who instanceof HttpError) return sendError(res, who.status, who);
          caller = who;
        }
        if (spec.body) {
          const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
          if (hasBody && !req.is('application/json')) {
            return sendError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
          }
          if (!hasBody && bodyRequired(spec.body)) return sendError(res, 400, 'BODY_REQUIRED');
        }
        const parts = [
          ['params', spec.params, req.params],
          ['query', spec.query, req.query],
          ['body', spec.body, req.body],
        ] as const;
        const parsed: Record<string, unknown> = { params: {}, query: {}, body: undefined };
        for (const [where, schema, value] of parts) {
          if (!schema) continue;
          const r = schema.safeParse(where === 'body' && value === undefined ? {} : value);
          if (!r.success) {
            return sendError(res, 400, describeZodError(r.error));
          }
          parsed[where] = r.data;
        }
        const result = await spec.handler({ params: parsed.params, query: parsed.query, body: parsed.body, caller, req, res });
        if (result && !res.headersSent) res.status(result[0]).json(result[1]);
      })().catch((err: unknown) => {
        if (res.headersSent) return;
        const known = err instanceof HttpError ? err : mapError(err);
        if (known) return sendError(res, known.status, known);
        next(err);
      });
    };
    app[spec.method](spec.path, handler);
  }
}
