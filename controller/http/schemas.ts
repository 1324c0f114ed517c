/** Small pieces shared by the route modules: answer schemas, state names in plain words, links, dates. */
import { z } from 'zod';
import type { RequestState } from '../domain/request-states.js';
import { errorBodySchema, type ResponseSpec } from './routes.js';

export const okSchema = z.object({ ok: z.literal(true) });

export function errorResponse(description: string): ResponseSpec {
  return { description, schema: errorBodySchema };
}

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

/** Each request state as a resident or staff member reads it: plain Chinese, then English. */
export const STATE_TEXT: Readonly<Record<RequestState, { zh: string; en: string }>> = {
  submitted: { zh: '已提交，等待工作人员受理', en: 'Submitted, waiting for staff' },
  awaiting_materials: { zh: '请把材料放入帮办柜', en: 'Please drop your materials off at the cabinet' },
  depositing: { zh: '正在放入材料', en: 'Materials going in' },
  materials_deposited: { zh: '材料已放入，等待工作人员取走', en: 'Materials dropped off, waiting for staff' },
  materials_retrieved: { zh: '工作人员已收到材料', en: 'Staff have your materials' },
  accepted: { zh: '已受理，正在办理', en: 'Accepted, being prepared' },
  rejected: { zh: '未能办理', en: 'Could not be done' },
  ready: { zh: '已办好，等待放入帮办柜', en: 'Ready, about to go into the cabinet' },
  loading: { zh: '正在放入帮办柜', en: 'Going into the cabinet' },
  loaded: { zh: '已放入帮办柜，请取件', en: 'In the cabinet: please collect it' },
  overdue: { zh: '已放入帮办柜多日，请尽快取件', en: 'Waiting in the cabinet for days: please collect it soon' },
  collected: { zh: '已取走', en: 'Collected' },
  retrieved: { zh: '超时未取，已由工作人员取回，请联系居委会', en: 'Not collected in time: staff took it back; please contact the committee' },
  cancelled: { zh: '已取消', en: 'Cancelled' },
};

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

const ID_TEXT = '编号应为从 1 开始的整数，不带小数点、前导零或符号 / an id is a whole number from 1, written without a point, leading zero or sign';

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
