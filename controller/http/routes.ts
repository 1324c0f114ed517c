/**
 * Routes are declared once, as data: method, path, who may call it, the zod schemas of its
 * input and of each answer, and the handler. From that one declaration come
 *   - the express route, with input validation (a bad input never reaches a handler),
 *   - the access check (public, kiosk device, staff session, admin),
 *   - the OpenAPI description served at /api/openapi.json (see openapi.ts).
 * Every error answer has one shape: { error: { code, message, field?, fields? } }; `fields` lists every wrong input
 * of a validation error (its first is `field`), so that a form can mark all of them at once.
 */
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** public: anyone (phones); kiosk: the cabinet's own screen only; staff/admin: a staff session. */
export type Access = 'public' | 'kiosk' | 'staff' | 'admin';

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().describe('machine-readable error code'),
    message: z.string().describe('what went wrong, in plain words'),
    field: z.string().optional().describe('the input field at fault, when there is one (the first of `fields`)'),
    fields: z
      .array(
        z.object({
          field: z.string().describe('the input field at fault (a path, e.g. address.room)'),
          message: z.string().describe('what is wrong with it, in plain words, without the field name'),
        }),
      )
      .optional()
      .describe('validation errors: every input field at fault, in the order of the input, one entry each'),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;
export type FieldProblem = NonNullable<ErrorBody['error']['fields']>[number];

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

/** An error a handler throws to answer 4xx/5xx in the standard shape. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly fields?: readonly FieldProblem[],
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function sendError(res: Response, status: number, code: string, message: string, field?: string, fields?: readonly FieldProblem[]): void {
  const error: ErrorBody['error'] = { code, message };
  if (field !== undefined) error.field = field;
  if (fields !== undefined && fields.length > 0) error.fields = [...fields];
  res.status(status).json({ error } satisfies ErrorBody);
}

/**
 * A zod error as the first problem (field path and message: `field` and `message` of the answer) and every
 * field's first problem (`fields`, in the order zod found them; problems without a path are only in `message`).
 */
export function describeZodError(error: z.ZodError, where: string): { field?: string; message: string; fields: FieldProblem[] } {
  const fields: FieldProblem[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.');
    if (path && !fields.some((f) => f.field === path)) fields.push({ field: path, message: issue.message });
  }
  const issue = error.issues[0];
  if (!issue) return { message: `invalid ${where}`, fields };
  const field = issue.path.map(String).join('.');
  return field ? { field, message: `${field}: ${issue.message}`, fields } : { message: issue.message, fields };
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
          if (who instanceof HttpError) return sendError(res, who.status, who.code, who.message);
          caller = who;
        }
        if (spec.body) {
          const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
          if (hasBody && !req.is('application/json')) {
            return sendError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', '请以 JSON 提交 / send the body as application/json');
          }
          if (!hasBody && bodyRequired(spec.body)) return sendError(res, 400, 'BODY_REQUIRED', '缺少提交的内容 / this request needs a JSON body');
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
            const { field, message, fields } = describeZodError(r.error, where);
            return sendError(res, 400, 'BAD_INPUT', message, field, fields);
          }
          parsed[where] = r.data;
        }
        const result = await spec.handler({ params: parsed.params, query: parsed.query, body: parsed.body, caller, req, res });
        if (result && !res.headersSent) res.status(result[0]).json(result[1]);
      })().catch((err: unknown) => {
        if (res.headersSent) return;
        const known = err instanceof HttpError ? err : mapError(err);
        if (known) return sendError(res, known.status, known.code, known.message, known.field, known.fields);
        next(err);
      });
    };
    app[spec.method](spec.path, handler);
  }
}
