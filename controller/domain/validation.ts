/**
 * Input validation (zod) for what residents type on their phones, and masking for screens and logs.
 * A schema's own message is a key of the word catalogue (controller/words/keys.ts, `input.*`); issueSaid turns
 * any zod issue into what to say of the field, so that the words come from the catalogue in every language.
 */
import { z } from 'zod';
import { isWordKey, said, type Said, type WordKey } from '../words/keys.js';

/** A schema's message: the key of what to say (checked by the type: it must be an input.* key). */
const msg = (key: Extract<WordKey, `input.${string}`>): string => key;
/** A schema-wide message for a missing value only: the checks' own issues keep their own words. */
const missing = (key: Extract<WordKey, `input.${string}`>) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? key : undefined),
});

// ---------------------------------------------------------------------------------------------
// Mobile numbers
// ---------------------------------------------------------------------------------------------

export const MOBILE_RE = /^1[3-9]\d{9}$/;

export const mobileSchema = z
  .string(missing('input.mobile_required'))
  .trim()
  .regex(MOBILE_RE, { error: msg('input.mobile_format') });

export function isValidMobile(s: string): boolean {
  return MOBILE_RE.test(s);
}

// ---------------------------------------------------------------------------------------------
// ID numbers (居民身份证号码, GB 11643)
// ---------------------------------------------------------------------------------------------

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const ID_CHECK_CHARS = '10X98765432';
const ID_BODY_RE = /^\d{17}$/;
export const ID_NUMBER_RE = /^\d{17}[\dX]$/;

/** The check character for a 17-digit body. */
export function idCheckDigit(body17: string): string {
  if (!ID_BODY_RE.test(body17)) throw new RangeError('ID number body must be 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(body17.charCodeAt(i) - 48) * (ID_WEIGHTS[i] ?? 0);
  return ID_CHECK_CHARS.charAt(sum % 11);
}

/** Upper-cases a trailing x and strips spaces around. */
export function normalizeIdNumber(s: string): string {
  return s.trim().toUpperCase();
}

/** Only the shape and the check digit (no date check). */
export function hasValidIdCheckDigit(id: string): boolean {
  return ID_NUMBER_RE.test(id) && idCheckDigit(id.slice(0, 17)) === id.charAt(17);
}

/** The birth date encoded in digits 7–14, if it is a real calendar date from 1900 on and not after `today`. */
export function idBirthDate(id: string, today: Date = new Date()): { y: number; m: number; d: number } | null {
  if (!ID_NUMBER_RE.test(id)) return null;
  const y = Number(id.slice(6, 10));
  const m = Number(id.slice(10, 12));
  const d = Number(id.slice(12, 14));
  if (y < 1900 || m < 1 || m > 12 || d < 1) return null;
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null;
  const todayUtc = Date.UTC(today.getFullYear(), today.getMonth(), today.getDate());
  if (date.getTime() > todayUtc) return null;
  return { y, m, d };
}

export type IdNumberProblem = 'format' | 'region' | 'birth_date' | 'check_digit';

/** null when valid; otherwise the first problem found. `id` must already be normalized. */
export function idNumberProblem(id: string, today: Date = new Date()): IdNumberProblem | null {
  if (!ID_NUMBER_RE.test(id)) return 'format';
  // Province codes run from 11 (Beijing) to 82 (Macao); none start with 0 or 9.
  const province = Number(id.slice(0, 2));
  if (province < 11 || province > 82) return 'region';
  if (idBirthDate(id, today) === null) return 'birth_date';
  if (!hasValidIdCheckDigit(id)) return 'check_digit';
  return null;
}

export function isValidIdNumber(id: string, today: Date = new Date()): boolean {
  return idNumberProblem(normalizeIdNumber(id), today) === null;
}

const ID_PROBLEM_MESSAGES: Record<IdNumberProblem, string> = {
  format: msg('input.id_number_format'),
  region: msg('input.id_number_region'),
  birth_date: msg('input.id_number_birth_date'),
  check_digit: msg('input.id_number_check_digit'),
};

export const idNumberSchema = z
  .string(missing('input.id_number_required'))
  .transform(normalizeIdNumber)
  .superRefine((id, ctx) => {
    const problem = idNumberProblem(id);
    if (problem) ctx.addIssue({ code: 'custom', message: ID_PROBLEM_MESSAGES[problem] });
  });

// ---------------------------------------------------------------------------------------------
// Names and addresses
// ---------------------------------------------------------------------------------------------

/** Chinese names (with the middle dot of minority and transliterated names) or Latin-script names. */
const NAME_RE = /^(?:[\p{Script=Han}]+(?:[·•][\p{Script=Han}]+)*|[A-Za-z][A-Za-z .'-]*[A-Za-z.])$/u;

export const nameSchema = z
  .string(missing('input.name_required'))
  .trim()
  .min(2, { error: msg('input.name_too_short') })
  .max(30, { error: msg('input.name_too_long') })
  .regex(NAME_RE, { error: msg('input.name_characters') });

/** Building, unit and room: short text of Chinese characters, letters, digits and "-". */
const ADDRESS_PART_RE = /^[\p{Script=Han}A-Za-z0-9-]+$/u;

const addressPart = (part: 'building' | 'unit' | 'room', max: number) =>
  z
    .string(missing(`input.${part}_required`))
    .trim()
    .min(1, { error: msg(`input.${part}_required`) })
    .max(max) // input.too_long says how many
    .regex(ADDRESS_PART_RE, { error: msg('input.address_characters') });

export const addressSchema = z.object({
  building: addressPart('building', 20),
  unit: addressPart('unit', 10),
  room: addressPart('room', 10),
});
export type Address = z.infer<typeof addressSchema>;

export const residentInputSchema = z.object({
  name: nameSchema,
  mobile: mobileSchema,
  idNumber: idNumberSchema.optional(),
  address: addressSchema.optional(),
});
/** What the phone form sends. */
export type ResidentInputRaw = z.input<typeof residentInputSchema>;
/** After validation and normalization. */
export type ResidentInput = z.output<typeof residentInputSchema>;

export const pickupCodeSchema = z.string().regex(/^\d{8}$/, { error: msg('input.pickup_code_format') });
export const phoneLast4Schema = z.string().regex(/^\d{4}$/, { error: msg('input.phone_last4_format') });

// ---------------------------------------------------------------------------------------------
// Turning zod issues into field errors
// ---------------------------------------------------------------------------------------------

export interface FieldError {
  /** Dotted path of the field, e.g. "address.room". */
  readonly field: string;
  /** What is wrong with it (without the field's name: a form shows it next to the field). */
  readonly said: Said;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** What to say of one zod issue: the schema's own key, or the catalogue's words for the kind of issue. */
export function issueSaid(issue: z.core.$ZodIssue): Said {
  if (isWordKey(issue.message) && issue.message.startsWith('input.')) return { key: issue.message } as Said;
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? said('input.required') : said('input.invalid_type');
    case 'too_small':
      if (issue.origin === 'string') return said('input.too_short', { minimum: Number(issue.minimum) });
      if (issue.origin === 'array' || issue.origin === 'set') return said('input.too_few', { minimum: Number(issue.minimum) });
      return said('input.too_small', { minimum: Number(issue.minimum) });
    case 'too_big':
      if (issue.origin === 'string') return said('input.too_long', { maximum: Number(issue.maximum) });
      if (issue.origin === 'array' || issue.origin === 'set') return said('input.too_many', { maximum: Number(issue.maximum) });
      return said('input.too_big', { maximum: Number(issue.maximum) });
    case 'invalid_format':
      return said('input.invalid_format');
    case 'invalid_value':
      return said('input.invalid_value');
    case 'unrecognized_keys':
      return said('input.unrecognized_keys', { keys: issue.keys.join(', ') });
    default:
      return said('input.invalid');
  }
}

/** Each wrong field once, with its first problem, in the order zod found them. */
export function toFieldErrors(error: z.ZodError): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const field = issue.path.map(String).join('.') || '(input)';
    if (!out.some((f) => f.field === field)) out.push({ field, said: issueSaid(issue) });
  }
  return out;
}

export function validate<S extends z.ZodType>(schema: S, input: unknown): Validated<z.output<S>> {
  const r = schema.safeParse(input);
  return r.success ? { ok: true, value: r.data } : { ok: false, errors: toFieldErrors(r.error) };
}

export function validateResidentInput(input: unknown): Validated<ResidentInput> {
  return validate(residentInputSchema, input);
}

// ---------------------------------------------------------------------------------------------
// Masking
// ---------------------------------------------------------------------------------------------

/** `13812345678` → `138****5678`. Anything else is masked entirely but for its last 2 characters. */
export function maskMobile(mobile: string): string {
  if (/^\d{11}$/.test(mobile)) return `${mobile.slice(0, 3)}****${mobile.slice(7)}`;
  return mobile.length <= 2 ? '*'.repeat(mobile.length) : '*'.repeat(mobile.length - 2) + mobile.slice(-2);
}

/** Staff screens: first 3 and last 4 only; the birth date (digits 7–14) never shows. */
export function maskIdNumberForStaff(id: string): string {
  if (id.length !== 18) return '*'.repeat(id.length);
  return `${id.slice(0, 3)}${'*'.repeat(11)}${id.slice(14)}`;
}

/** The public kiosk: last 4 only. */
export function maskIdNumberForKiosk(id: string): string {
  if (id.length !== 18) return '*'.repeat(id.length);
  return `${'*'.repeat(14)}${id.slice(14)}`;
}

/** Names on the public kiosk: family name kept, the rest starred (张** / 欧阳*). */
export function maskNameForKiosk(name: string): string {
  const chars = [...name];
  if (chars.length <= 1) return '*';
  return chars[0] + '*'.repeat(chars.length - 1);
}
