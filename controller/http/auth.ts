/**
 * Who may call what, in one place.
 *
 * Staff: POST /api/staff/login with login + PIN (verifyStaffPin: failures counted per login and per device in
 * the database, so a restart does not reset them) gives a random 256-bit bearer token; only its SHA-256 is
 * stored (store/sessions.ts). Sent as `Authorization: Bearer <token>`. Sessions end after 30 min unused
 * (sliding) or 12 h after sign-in, on logout, on a PIN change or reset, and at once when the account is
 * disabled. 'admin' routes need the admin role (403 otherwise); no or a dead session is 401. An account whose
 * PIN must be changed (a new account, a reset PIN, the first admin) may only read /me, change its PIN and log
 * out until it does (403 PIN_CHANGE_REQUIRED).
 *
 * Kiosk: the cabinet's own screen talks to the kiosk listener, a second port bound to 127.0.0.1 (KIOSK_PORT,
 * main.ts). A connection accepted there, from loopback, without any proxy header, is the kiosk. The public
 * port (PORT) never takes loopback for the kiosk: anything relaying to it on this machine (an nginx without
 * X-Forwarded-For, stunnel, `ssh -L`, a TCP relay) would otherwise turn every phone into the kiosk. A kiosk
 * elsewhere on the network sends X-Kiosk-Key (KIOSK_KEY) to the public port. A key that is sent must be right,
 * on either port. Anything else: 403 KIOSK_ONLY. Keys are compared as SHA-256 digests with timingSafeEqual.
 *
 * Errors: `mapError` turns the controller's CabinetError codes into HTTP statuses (shared by every route
 * module, door routes included). What a user reads comes from the word catalogue (the error's Said, or its code's words).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP, type Server as NetServer, type Socket } from 'node:net';
import type { Request } from 'express';
import { z } from 'zod';
import { staffActor } from '../domain/types.js';
import { CabinetError, saidOf, type CabinetErrorCode } from '../errors.js';
import { said } from '../words/keys.js';
import {
  createSession,
  DEFAULT_SESSION_POLICY,
  deleteSession,
  deleteSessionsOfStaff,
  findSession,
  setStaffPin,
  verifyStaffPin,
  type SessionPolicy,
  type StaffSession,
  type Store,
} from '../store/index.js';
import { HttpError, route, type Authenticate, type Caller, type ErrorMapper, type RouteSpec } from './routes.js';
import { errorResponse, okSchema } from './schemas.js';

// ---------------------------------------------------------------------------------------------
// Kiosk
// ---------------------------------------------------------------------------------------------

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export const KIOSK_LOCAL_DEVICE = 'kiosk-1';

/** Connections accepted by a kiosk listener (see markKioskListener). */
const KIOSK_SOCKETS = new WeakSet<object>();

/**
 * Makes `server` a kiosk listener: every connection it accepts is the cabinet's own screen. Call it only for a
 * server listening on a loopback address (main.ts: 127.0.0.1:KIOSK_PORT), before it accepts connections.
 */
export function markKioskListener(server: NetServer): void {
  server.on('connection', (socket: Socket) => KIOSK_SOCKETS.add(socket));
}

/** Headers a relay adds: a request that carries one was not typed on this machine's screen. */
const PROXY_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip', 'via', 'x-forwarded-host', 'x-forwarded-proto', 'client-ip', 'true-client-ip'];
export const KIOSK_KEY_DEVICE = 'kiosk-key';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time comparison of two strings of any length (via fixed-length digests). */
export function secretEquals(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The kiosk device calling, or null. Works on express requests and on WebSocket upgrade requests alike. */
export function kioskDevice(req: IncomingMessage, kioskKey: string | null): string | null {
  const key = header(req, 'x-kiosk-key');
  if (key !== undefined) return kioskKey !== null && secretEquals(key, kioskKey) ? KIOSK_KEY_DEVICE : null;
  if (!KIOSK_SOCKETS.has(req.socket) || !LOOPBACK.has(req.socket.remoteAddress ?? '')) return null;
  return PROXY_HEADERS.some((h) => req.headers[h] !== undefined) ? null : KIOSK_LOCAL_DEVICE;
}

// ---------------------------------------------------------------------------------------------
// Host names (DNS rebinding)
// ---------------------------------------------------------------------------------------------

/**
 * The names the controller answers to: loopback names, any IP address (a rebinding page always carries its own
 * name, never an address), PUBLIC_URL's host and HOST when it is a name. A web page elsewhere whose name was made
 * to resolve to this machine is refused before any route, page or live channel runs.
 */
export function allowedHosts(config: { host: string; publicUrl: string | null }): (hostHeader: string | undefined) => boolean {
  const names = new Set(['localhost']);
  if (config.publicUrl) names.add(new URL(config.publicUrl).hostname.toLowerCase());
  if (isIP(config.host) === 0) names.add(config.host.toLowerCase());
  return (hostHeader) => {
    if (hostHeader === undefined) return false;
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::\d{1,5})?$/.exec(hostHeader.trim());
    if (!m) return false;
    const name = m[1]!.toLowerCase().replace(/\.$/, '');
    if (name.startsWith('[')) return isIP(name.slice(1, -1)) === 6;
    return isIP(name) === 4 || names.has(name);
  };
}

// ---------------------------------------------------------------------------------------------
// Staff sessions
// ---------------------------------------------------------------------------------------------

export function bearerToken(req: IncomingMessage): string | null {
  const h = header(req, 'authorization');
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1] ?? null;
}

/** Routes an account that must change its PIN may still use. */
const ALLOWED_BEFORE_PIN_CHANGE = new Set(['/api/staff/me', '/api/staff/me/pin', '/api/staff/logout']);

const NOT_SIGNED_IN = () => new HttpError(401, 'UNAUTHENTICATED', said('http.session_ended'));

export interface AuthOptions {
  store: Store;
  kioskKey: string | null;
  sessionPolicy?: SessionPolicy;
}

export function createAuthenticate(opts: AuthOptions): Authenticate {
  const policy = opts.sessionPolicy ?? DEFAULT_SESSION_POLICY;
  return (req: Request, access): Caller | HttpError => {
    if (access === 'kiosk') {
      const device = kioskDevice(req, opts.kioskKey);
      return device ? { kind: 'kiosk', deviceId: device } : new HttpError(403, 'KIOSK_ONLY');
    }
    const token = bearerToken(req);
    if (!token) return NOT_SIGNED_IN();
    const session = findSession(opts.store.ctx, token, { touch: true }, policy);
    if (!session) return NOT_SIGNED_IN();
    if (access === 'admin' && session.role !== 'admin') {
      return new HttpError(403, 'ADMIN_ONLY');
    }
    const path = (req.route as { path?: unknown } | undefined)?.path;
    if (session.mustChangePin && !(typeof path === 'string' && ALLOWED_BEFORE_PIN_CHANGE.has(path))) {
      return new HttpError(403, 'PIN_CHANGE_REQUIRED');
    }
    return { kind: 'staff', staffId: session.staffId, role: session.role, sessionId: String(session.id) };
  };
}

/** The staff caller of a handler (access staff or admin guarantees it). */
export function staffCaller(caller: Caller): Extract<Caller, { kind: 'staff' }> {
  if (caller.kind !== 'staff') throw new HttpError(401, 'UNAUTHENTICATED');
  return caller;
}

// ---------------------------------------------------------------------------------------------
// CabinetError → HTTP
// ---------------------------------------------------------------------------------------------

const STATUS: Partial<Record<CabinetErrorCode, number>> = {
  VALIDATION: 400,
  REASON_REQUIRED: 400,
  RESIDENT_DETAILS_MISSING: 400,
  PIN_POLICY: 400,
  NOT_FOUND: 404,
  NO_SUCH_COMPARTMENT: 404,
  ACTOR_NOT_ALLOWED: 403,
  DUPLICATE: 409,
  TRANSITION_NOT_ALLOWED: 409,
  COMPARTMENT_STATE: 409,
  COMPARTMENT_NOT_RESERVED: 409,
  SERVICE_DISABLED: 409,
  LAYOUT_CONFLICT: 409,
  UNLOCK_ALREADY_PENDING: 409,
  ALARM_ALREADY_ACKNOWLEDGED: 409,
  UNLOCK_RATE_LIMITED: 429,
  LINK_TIMEOUT: 503,
  LINK_NAK: 503,
  LINK_DISCONNECTED: 503,
  LINK_OFFLINE: 503,
  LINK_CLOSED: 503,
  BOARD_REBOOTED: 503,
  BOARD_MISMATCH: 503,
  UNLOCK_EXPIRED: 503,
  UNLOCK_UNCONFIRMED: 503,
  CODE_SPACE_EXHAUSTED: 503,
};

/** Names of resident details in the API (store context uses the column names). */
const FIELD_NAME: Record<string, string> = { id_number: 'idNumber', address: 'address' };

function fieldOf(err: CabinetError): string | undefined {
  if (err.code === 'REASON_REQUIRED') return 'reason';
  if (err.code === 'PIN_POLICY') return 'pin';
  const raw = err.code === 'RESIDENT_DETAILS_MISSING' ? err.context.missing : err.code === 'VALIDATION' ? err.context.fields : undefined;
  if (typeof raw !== 'string' || raw === '') return undefined;
  const first = raw.split(',')[0] ?? '';
  return FIELD_NAME[first] ?? first;
}

/** CabinetError → HttpError; null for anything else (the app answers 500 INTERNAL and logs it). */
export const mapError: ErrorMapper = (err: unknown): HttpError | null => {
  if (!(err instanceof CabinetError)) return null;
  const status = STATUS[err.code];
  if (status === undefined) return null;
  return new HttpError(status, err.code, saidOf(err), fieldOf(err));
};

// ---------------------------------------------------------------------------------------------
// Sign-in routes
// ---------------------------------------------------------------------------------------------

export const staffPublicSchema = z.object({
  id: z.number().int(),
  login: z.string(),
  name: z.string(),
  role: z.enum(['staff', 'admin']),
  mustChangePin: z.boolean().describe('true: only /me, /me/pin and /logout work until the PIN is changed'),
});

const sessionInfoSchema = z.object({
  expiresAt: z.string().describe('absolute end of the session (ISO 8601)'),
  idleExpiresAt: z.string().describe('when the session ends if unused from now (ISO 8601)'),
});

const iso = (ms: number): string => new Date(ms).toISOString();

function publicStaff(s: StaffSession): z.infer<typeof staffPublicSchema> {
  return { id: s.staffId, login: s.login, name: s.name, role: s.role, mustChangePin: s.mustChangePin };
}

const pinField = z.string().regex(/^\d{6,12}$/, { error: 'input.pin_digits' });

export function authRoutes(opts: AuthOptions): RouteSpec[] {
  const { store } = opts;
  const policy = opts.sessionPolicy ?? DEFAULT_SESSION_POLICY;
  const invalid = new HttpError(401, 'INVALID_LOGIN');
  return [
    route<Record<string, never>, Record<string, never>, { login: string; pin: string }>({
      method: 'post',
      path: '/api/staff/login',
      tag: 'staff-auth',
      access: 'public',
      summary: 'Sign in with login and PIN; answers a bearer token',
      body: z.object({
        login: z.string().trim().toLowerCase().min(1, { error: 'input.required' }).max(32),
        pin: z.string().min(1, { error: 'input.required' }).max(12, { error: 'input.pin_digits' }),
      }),
      responses: {
        200: {
          description: 'signed in',
          schema: z.object({
            token: z.string().describe('send as Authorization: Bearer <token>'),
            staff: staffPublicSchema,
            expiresAt: z.string(),
            idleExpiresAt: z.string(),
          }),
        },
        401: errorResponse('wrong login or PIN (the same answer for both)'),
        429: errorResponse('too many failures for this login or this device: wait (Retry-After)'),
      },
      handler: async ({ body, req, res }) => {
        const device = `http:${req.socket.remoteAddress ?? 'unknown'}`;
        const r = await verifyStaffPin(store.ctx, { login: body.login, pin: body.pin, deviceId: device });
        if (!r.ok) {
          if (r.reason === 'locked') {
            const minutes = Math.ceil(r.retryAfterMs / 60_000);
            res.setHeader('Retry-After', String(Math.ceil(r.retryAfterMs / 1000)));
            throw new HttpError(429, 'LOGIN_LOCKED', said('http.login_locked_minutes', { minutes }));
          }
          throw invalid;
        }
        const { token, session } = createSession(store.ctx, { staffId: r.staff.id, device }, policy);
        return [200, { token, staff: publicStaff(session), expiresAt: iso(session.expiresAt), idleExpiresAt: iso(session.idleExpiresAt) }];
      },
    }),
    route({
      method: 'post',
      path: '/api/staff/logout',
      tag: 'staff-auth',
      access: 'staff',
      summary: 'End this session',
      responses: { 200: { description: 'signed out', schema: okSchema } },
      handler: ({ caller }) => {
        deleteSession(store.ctx, Number(staffCaller(caller).sessionId));
        return [200, { ok: true }];
      },
    }),
    route({
      method: 'get',
      path: '/api/staff/me',
      tag: 'staff-auth',
      access: 'staff',
      summary: 'Who is signed in, and until when',
      responses: { 200: { description: 'the signed-in staff member', schema: z.object({ staff: staffPublicSchema, session: sessionInfoSchema }) } },
      handler: ({ req }) => {
        const token = bearerToken(req);
        const s = token ? findSession(store.ctx, token, { touch: false }, policy) : null;
        if (!s) throw NOT_SIGNED_IN();
        return [200, { staff: publicStaff(s), session: { expiresAt: iso(s.expiresAt), idleExpiresAt: iso(s.idleExpiresAt) } }];
      },
    }),
    route<Record<string, never>, Record<string, never>, { currentPin: string; newPin: string }>({
      method: 'post',
      path: '/api/staff/me/pin',
      tag: 'staff-auth',
      access: 'staff',
      summary: 'Change my own PIN (other sessions of this account end)',
      body: z.object({ currentPin: z.string().min(1).max(12), newPin: pinField }),
      responses: {
        200: { description: 'PIN changed', schema: okSchema },
        401: errorResponse('the current PIN is wrong'),
        429: errorResponse('too many failures: wait (Retry-After)'),
      },
      handler: async ({ body, caller, req, res }) => {
        const me = staffCaller(caller);
        const session = findSession(store.ctx, bearerToken(req) ?? '', { touch: false }, policy);
        if (!session) throw NOT_SIGNED_IN();
        const device = `http:${req.socket.remoteAddress ?? 'unknown'}`;
        const r = await verifyStaffPin(store.ctx, { login: session.login, pin: body.currentPin, deviceId: device });
        if (!r.ok) {
          if (r.reason === 'locked') {
            res.setHeader('Retry-After', String(Math.ceil(r.retryAfterMs / 1000)));
            throw new HttpError(429, 'LOGIN_LOCKED');
          }
          throw new HttpError(401, 'INVALID_LOGIN', said('http.current_pin_wrong'), 'currentPin');
        }
        if (body.newPin === body.currentPin) throw new HttpError(400, 'PIN_POLICY', said('http.pin_unchanged'), 'newPin');
        try {
          await setStaffPin(store.ctx, me.staffId, body.newPin, staffActor(me.staffId));
        } catch (e) {
          if (e instanceof CabinetError && e.code === 'PIN_POLICY') throw new HttpError(400, 'PIN_POLICY', saidOf(e), 'newPin');
          throw e;
        }
        deleteSessionsOfStaff(store.ctx, me.staffId, session.id);
        return [200, { ok: true }];
      },
    }),
  ];
}
