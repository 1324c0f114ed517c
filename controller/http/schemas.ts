/** Small pieces shared by the route modules: answer schemas, state names in plain words, links, dates. */
import { z } from 'zod';
import { REQUEST_STATES, type RequestState } from '../domain/request-states.js';
import { say } from '../words/catalogue.js';
import { stateSaid } from '../words/keys.js';
import { errorBodySchema, type ResponseSpec } from './routes.js';

export const okSchema = z.object({ ok: z.literal(true) });

export function errorResponse(description: string): ResponseSpec {
  return { description, schema: errorBodySchema };
}

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

/**
 * Each request state as a resident reads it, Chinese and English, for API users that show `stateText`: the words
 * are the catalogue's (`state.<state>`); the pages take them from the catalogue themselves.
 */
export const STATE_TEXT: Readonly<Record<RequestState, { zh: string; en: string }>> = Object.fromEntries(
  REQUEST_STATES.map((state) => [state, { zh: say(stateSaid(state), 'zh-CN'), en: say(stateSaid(state), 'en') }]),
) as Record<RequestState, { zh: string; en: string }>;

export const textSchema = z.object({ zh: z.string(), en: z.string() });

/** Paths of the phone pages, under PUBLIC_URL. */
export const PHONE_PAGES = {
  submit: '/m/submit',
  status: (token: string) => `/m/status/${encodeURIComponent(token)}`,
} as const;

export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

/** The largest id a table row has here (SQLite INTEGER PRIMARY KEY fits far more; 2^31−1 is the one range everywhere). */
export const MAX_ID = 2 ** 31 - 1;

const ID_TEXT = 'input.id_whole_number';

/**
 * A database id in a path or query: decimal digits without a sign, point, exponent, hex prefix or leading zero
 * (`1.0`, `01`, `0x1`, `1e0`, `+1` are refused, not read as 1), from 1 to MAX_ID on every route.
 */
export const idField = z
  .string()
  .regex(/^[1-9][0-9]{0,9}$/, { error: ID_TEXT })
  .transform(Number)
  .pipe(z.number().int().min(1).max(MAX_ID, { error: ID_TEXT }));

/** A compartment number in a path or query, written like an id: 1 … 31 × 48. */
export const compartmentNoField = z
  .string()
  .regex(/^[1-9][0-9]{0,3}$/, { error: 'input.compartment_no' })
  .transform(Number)
  .pipe(
    z
      .number()
      .int()
      .min(1)
      .max(31 * 48),
  );
