/** The catalogue of matters residents can ask for. */
import { z } from 'zod';
import { CabinetError } from '../errors.js';
import type { Actor } from '../domain/types.js';
import { appendAudit } from './audit.js';
import type { StoreContext } from './context.js';
import { inTransaction, stmt } from './db.js';

/** Resident details a service may need beyond name and mobile (always needed, to send the code). */
export const RESIDENT_FIELDS = ['id_number', 'address'] as const;
export type ResidentField = (typeof RESIDENT_FIELDS)[number];

export interface ServiceItem {
  readonly code: string;
  readonly nameZh: string;
  readonly nameEn: string;
  readonly requiredFields: readonly ResidentField[];
  /** The resident must drop materials off (e.g. household register copies) before staff can prepare it. */
  readonly needsMaterials: boolean;
  readonly enabled: boolean;
  readonly sortOrder: number;
}

interface Row {
  code: string;
  name_zh: string;
  name_en: string;
  required_fields: string;
  needs_materials: number;
  enabled: number;
  sort_order: number;
}

const fieldsSchema = z.array(z.enum(RESIDENT_FIELDS));

function toItem(r: Row): ServiceItem {
  return {
    code: r.code,
    nameZh: r.name_zh,
    nameEn: r.name_en,
    requiredFields: fieldsSchema.parse(JSON.parse(r.required_fields)),
    needsMaterials: r.needs_materials === 1,
    enabled: r.enabled === 1,
    sortOrder: r.sort_order,
  };
}

export function listServiceItems(ctx: StoreContext, opts: { enabledOnly?: boolean } = {}): ServiceItem[] {
  const rows = stmt<[], Row>(ctx.db, `SELECT * FROM service_items ${opts.enabledOnly ? 'WHERE enabled = 1' : ''} ORDER BY sort_order, code`).all();
  return rows.map(toItem);
}

export function getServiceItem(ctx: StoreContext, code: string): ServiceItem | null {
  const r = stmt<[string], Row>(ctx.db, 'SELECT * FROM service_items WHERE code = ?').get(code);
  return r ? toItem(r) : null;
}

export const serviceItemInputSchema = z.object({
  code: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/),
  nameZh: z.string().trim().min(1).max(40),
  nameEn: z.string().trim().min(1).max(80),
  requiredFields: fieldsSchema.default([]),
  needsMaterials: z.boolean().default(false),
  enabled: z.boolean().default(true),
  sortOrder: z.number().int().default(0),
});
export type ServiceItemInput = z.input<typeof serviceItemInputSchema>;

/** Adds or replaces a catalogue entry (admin). */
export function upsertServiceItem(ctx: StoreContext, input: ServiceItemInput, actor: Actor): ServiceItem {
  const v = serviceItemInputSchema.parse(input);
  return inTransaction(ctx.db, () => {
    stmt(
      ctx.db,
      `INSERT INTO service_items (code, name_zh, name_en, required_fields, needs_materials, enabled, sort_order)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en,
           required_fields = excluded.required_fields, needs_materials = excluded.needs_materials,
           enabled = excluded.enabled, sort_order = excluded.sort_order`,
    ).run(v.code, v.nameZh, v.nameEn, JSON.stringify(v.requiredFields), v.needsMaterials ? 1 : 0, v.enabled ? 1 : 0, v.sortOrder);
    appendAudit(ctx.db, ctx.now(), { actor, action: 'service_item.saved', detail: { serviceCode: v.code, enabled: v.enabled } });
    const item = getServiceItem(ctx, v.code);
    if (!item) throw new CabinetError('NOT_FOUND', `service item ${v.code} vanished`);
    return item;
  });
}

export function setServiceItemEnabled(ctx: StoreContext, code: string, enabled: boolean, actor: Actor): void {
  inTransaction(ctx.db, () => {
    const r = stmt(ctx.db, 'UPDATE service_items SET enabled = ? WHERE code = ?').run(enabled ? 1 : 0, code);
    if (r.changes !== 1) throw new CabinetError('NOT_FOUND', `no service item "${code}"`, { code });
    appendAudit(ctx.db, ctx.now(), { actor, action: enabled ? 'service_item.enabled' : 'service_item.disabled', detail: { serviceCode: code } });
  });
}
