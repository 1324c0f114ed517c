/**
 * An HTTP client for integration tests that checks every answer against the API's own declarations.
 *
 *   const api = new ApiClient(url, allRoutes(deps));           // or harness.api from test/app-harness.ts
 *   const r = await api.post('/api/requests', { body: {...} }); // r.status, r.body (parsed JSON), r.headers
 *   const staff = api.as(token);                                 // same client, with Authorization: Bearer
 *   const kiosk = api.with({ 'X-Forwarded-For': '10.0.0.9' });   // extra headers on every call
 *
 * For every call it finds the declared route (method + path, as express matches it) and then FAILS the test
 * (throws) when
 *   - no declared route serves that method and path (pass `{ unrouted: true }` to probe unknown paths),
 *   - the status is not one the route documents (its own responses, plus 400 for every route, 401/403 for
 *     routes that need a caller, 413 and 415 for routes with a body — exactly what openapi.ts adds),
 *   - a JSON answer does not parse with the zod schema declared for that status (error statuses without
 *     their own schema must have the one error shape),
 *   - a non-JSON answer does not have the declared content type.
 * So a test that only looks at `status` still checks the body's shape.
 */
import type { z } from 'zod';
import { errorBodySchema, type RouteSpec } from '../controller/http/routes.js';

export interface ApiAnswer<T = any> {
  status: number;
  /** Parsed JSON, or undefined for a non-JSON answer (see `raw`). */
  body: T;
  raw: Buffer;
  headers: Headers;
  /** The declared route that served it (null with `unrouted`). */
  route: RouteSpec | null;
}

export interface CallOptions {
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is, with Content-Type: application/json (for garbage and oversized bodies). */
  rawBody?: string | Buffer;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  /** Bearer token for this call (overrides the client's). */
  token?: string | null;
  /** The path is not a declared route (e.g. probing the 404 fallback): only the error shape is checked. */
  unrouted?: boolean;
}

interface Compiled {
  spec: RouteSpec;
  re: RegExp;
}

function compile(path: string): RegExp {
  const parts = path.split(/(:[A-Za-z0-9_]+)/).map((p) => (p.startsWith(':') ? '([^/]+)' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${parts.join('')}/?$`);
}

/** Statuses a route documents: its own, and those openapi.ts adds to every operation of its kind. */
export function documentedStatuses(spec: RouteSpec): Set<number> {
  const out = new Set(Object.keys(spec.responses).map(Number));
  out.add(400);
  if (spec.access !== 'public') out.add(401), out.add(403);
  if (spec.body) out.add(413), out.add(415);
  return out;
}

/** The zod schema a JSON answer with this status must match (null: not JSON per the declaration). */
export function schemaFor(spec: RouteSpec, status: number): z.ZodType | null {
  const declared = spec.responses[status];
  if (declared) return declared.schema ?? null;
  return errorBodySchema;
}

export class ApiClient {
  private readonly compiled: Compiled[];

  constructor(
    readonly baseUrl: string,
    readonly routes: readonly RouteSpec[],
    private readonly defaults: { token?: string | null; headers?: Record<string, string> } = {},
  ) {
    this.compiled = routes.map((spec) => ({ spec, re: compile(spec.path) }));
  }

  /** The same client, signed in as a staff member. */
  as(token: string | null): ApiClient {
    return new ApiClient(this.baseUrl, this.routes, { ...this.defaults, token });
  }

  /** The same client, with extra headers on every call. */
  with(headers: Record<string, string>): ApiClient {
    return new ApiClient(this.baseUrl, this.routes, { ...this.defaults, headers: { ...this.defaults.headers, ...headers } });
  }

  match(method: string, path: string): RouteSpec | null {
    const m = method.toLowerCase();
    return this.compiled.find((c) => c.spec.method === m && c.re.test(path))?.spec ?? null;
  }

  get<T = any>(path: string, opts: CallOptions = {}): Promise<ApiAnswer<T>> {
    return this.request<T>('GET', path, opts);
  }
  post<T = any>(path: string, opts: CallOptions = {}): Promise<ApiAnswer<T>> {
    return this.request<T>('POST', path, opts);
  }
  put<T = any>(path: string, opts: CallOptions = {}): Promise<ApiAnswer<T>> {
    return this.request<T>('PUT', path, opts);
  }

  async request<T = any>(method: string, path: string, opts: CallOptions = {}): Promise<ApiAnswer<T>> {
    const spec = this.match(method, path);
    if (!spec && !opts.unrouted) throw new Error(`api-client: no declared route serves ${method} ${path}`);
    const url = new URL(path, this.baseUrl);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { ...this.defaults.headers, ...opts.headers };
    const token = opts.token !== undefined ? opts.token : this.defaults.token;
    if (token) headers.Authorization = `Bearer ${token}`;
    let payload: string | Uint8Array | undefined;
    if (opts.rawBody !== undefined) payload = typeof opts.rawBody === 'string' ? opts.rawBody : new Uint8Array(opts.rawBody);
    else if (opts.body !== undefined) payload = JSON.stringify(opts.body);
    if (payload !== undefined) headers['Content-Type'] ??= 'application/json';
    const res = await fetch(url, { method, headers, ...(payload !== undefined ? { body: payload as BodyInit } : {}) });
    const raw = Buffer.from(await res.arrayBuffer());
    const type = res.headers.get('content-type') ?? '';
    let body: unknown;
    const where = `${method} ${path} → ${res.status}`;
    if (type.includes('application/json')) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new Error(`api-client: ${where}: the answer says JSON but does not parse: ${raw.toString('utf8').slice(0, 200)}`);
      }
    }
    if (!spec) {
      const r = errorBodySchema.safeParse(body);
      if (res.status >= 400 && !r.success) throw new Error(`api-client: ${where}: not the error shape: ${raw.toString('utf8').slice(0, 300)}`);
      return { status: res.status, body: body as T, raw, headers: res.headers, route: null };
    }
    const allowed = documentedStatuses(spec);
    if (!allowed.has(res.status)) {
      throw new Error(
        `api-client: ${where}: status not documented for ${spec.method.toUpperCase()} ${spec.path} (documented: ${[...allowed].join(', ')}); body: ${raw.toString('utf8').slice(0, 300)}`,
      );
    }
    const declared = spec.responses[res.status];
    const schema = schemaFor(spec, res.status);
    if (schema) {
      if (!type.includes('application/json')) throw new Error(`api-client: ${where}: expected JSON, got "${type}"`);
      const r = schema.safeParse(body);
      if (!r.success) {
        throw new Error(
          `api-client: ${where}: the answer does not match the declared schema:\n${JSON.stringify(r.error.issues, null, 2).slice(0, 1500)}\nbody: ${raw.toString('utf8').slice(0, 500)}`,
        );
      }
      if (res.status >= 400) {
        const e = errorBodySchema.safeParse(body);
        if (!e.success) throw new Error(`api-client: ${where}: an error answer without the one error shape: ${raw.toString('utf8').slice(0, 300)}`);
      }
    } else if (declared?.contentType && !type.startsWith(declared.contentType)) {
      throw new Error(`api-client: ${where}: expected ${declared.contentType}, got "${type}"`);
    }
    return { status: res.status, body: body as T, raw, headers: res.headers, route: spec };
  }
}
