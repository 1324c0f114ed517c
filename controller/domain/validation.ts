/**
 * Input validation (zod) for what residents type on their phones, and masking for screens and logs.
 * Every message names the field and is given in plain Chinese and in English: "中文 / English".
 */
import { z } from 'zod';

const msg = (zh: string, en: string): string => `${zh} / ${en}`;

// ---------------------------------------------------------------------------------------------
// Mobile numbers
// ---------------------------------------------------------------------------------------------

export const MOBILE_RE = /^1[3-9]\d{9}$/;

export const mobileSchema = z
  .string({ error: msg('请填写手机号码', 'mobile number is required') })
  .trim()
  .regex(MOBILE_RE, { error: msg('手机号码格式不正确，应为 11 位数字', 'mobile number must be 11 digits starting with 13-19') });

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
  format: msg('身份证号码应为 18 位（最后一位可以是 X）', 'ID number must be 18 characters (the last may be X)'),
  region: msg('身份证号码前两位不正确', 'ID number: the first two digits are not a valid region'),
  birth_date: msg('身份证号码中的出生日期不正确', 'ID number: the birth date in it is not valid'),
  check_digit: msg('身份证号码有误，请核对后重新输入', 'ID number: the check digit does not match, please check it'),
};

export const idNumberSchema = z
  .string({ error: msg('请填写身份证号码', 'ID number is required') })
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
  .string({ error: msg('请填写姓名', 'name is required') })
  .trim()
  .min(2, { error: msg('姓名至少 2 个字', 'name must be at least 2 characters') })
  .max(30, { error: msg('姓名不能超过 30 个字', 'name must be at most 30 characters') })
  .regex(NAME_RE, { error: msg('姓名只能包含汉字或字母', 'name may contain Chinese characters or letters only') });

/** Building, unit and room: short text of Chinese characters, letters, digits and "-". */
const ADDRESS_PART_RE = /^[\p{Script=Han}A-Za-z0-9-]+$/u;

const addressPart = (zhField: string, enField: string, max: number) =>
  z
    .string({ error: msg(`请填写${zhField}`, `${enField} is required`) })
    .trim()
    .min(1, { error: msg(`请填写${zhField}`, `${enField} is required`) })
    .max(max, { error: msg(`${zhField}不能超过 ${max} 个字`, `${enField} must be at most ${max} characters`) })
    .regex(ADDRESS_PART_RE, {
      error: msg(`${zhField}只能包含汉字、字母、数字和“-”`, `${enField} may contain Chinese characters, letters, digits and "-" only`),
    });

export const addressSchema = z.object({
  building: addressPart('楼号', 'building', 20),
  unit: addressPart('单元', 'unit', 10),
  room: addressPart('房号', 'room', 10),
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

export const pickupCodeSchema = z.string().regex(/^\d{8}$/, { error: msg('取件码应为 8 位数字', 'pickup code must be 8 digits') });
export const phoneLast4Schema = z.string().regex(/^\d{4}$/, { error: msg('请输入手机号码后 4 位', 'enter the last 4 digits of the mobile number') });

// ---------------------------------------------------------------------------------------------
// Turning zod issues into field errors
// ---------------------------------------------------------------------------------------------

export interface FieldError {
  /** Dotted path of the field, e.g. "address.room". */
  readonly field: string;
  readonly zh: string;
  readonly en: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export function toFieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => {
    const field = issue.path.map(String).join('.') || '(input)';
    const sep = issue.message.indexOf(' / ');
    const zh = sep >= 0 ? issue.message.slice(0, sep) : issue.message;
    const en = sep >= 0 ? issue.message.slice(sep + 3) : issue.message;
    return { field, zh, en };
  });
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
