/**
 * Residents. The ID number is sensitive personal data (PIPL): it is stored AES-256-GCM encrypted, with a keyed
 * HMAC for lookup and uniqueness and a staff-screen mask (first 3 + last 4). Reading the full value is audited.
 * Name and mobile stay readable: the mobile is where notifications go and its last 4 digits pair with a code.
 */
import { errorSaid } from '../words/keys.js';
import { CabinetError } from '../errors.js';
import type { Actor } from '../domain/types.js';
import {
  maskIdNumberForStaff,
  residentInputSchema,
  toFieldErrors,
  type Address,
  type ResidentInput,
  type ResidentInputRaw,
} from '../domain/validation.js';
import { appendAudit } from './audit.js';
import type { StoreContext } from './context.js';
import { inTransaction, stmt } from './db.js';
import { decryptField, encryptField, hmacSha256, randomToken } from './secrets.js';

const ID_AAD = 'resident.id_number';

export interface Resident {
  readonly id: number;
  readonly name: string;
  readonly mobile: string;
  /** First 3 + last 4 digits, for staff screens; null when no ID number was given. */
  readonly idNumberMasked: string | null;
  readonly address: Address | null;
  /** Random identity carried (signed) in the resident's QR code; see credentials.makeResidentQrToken. */
  readonly qrId: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

interface Row {
  id: number;
  name: string;
  mobile: string;
  id_number_enc: Buffer | null;
  id_number_hmac: Buffer | null;
  id_number_masked: string | null;
  building: string | null;
  unit: string | null;
  room: string | null;
  qr_id: string;
  created_at: number;
  updated_at: number;
}

function toResident(r: Row): Resident {
  return {
    id: r.id,
    name: r.name,
    mobile: r.mobile,
    idNumberMasked: r.id_number_masked,
    address: r.building !== null && r.unit !== null && r.room !== null ? { building: r.building, unit: r.unit, room: r.room } : null,
    qrId: r.qr_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function parseInput(input: ResidentInputRaw): ResidentInput {
  const r = residentInputSchema.safeParse(input);
  if (!r.success) {
    const errors = toFieldErrors(r.error);
    throw new CabinetError('VALIDATION', errors[0]?.said ?? errorSaid('error.VALIDATION'), {
      fields: errors.map((e) => e.field).join(','),
    });
  }
  return r.data;
}

function idLookupHash(ctx: StoreContext, idNumber: string): Buffer {
  return hmacSha256(ctx.keys.get('id-number-lookup'), idNumber);
}

function duplicateId(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === 'SQLITE_CONSTRAINT_UNIQUE' && (e.message ?? '').includes('id_number_hmac');
}

export function getResident(ctx: StoreContext, id: number): Resident | null {
  const r = stmt<[number], Row>(ctx.db, 'SELECT * FROM residents WHERE id = ?').get(id);
  return r ? toResident(r) : null;
}

export function requireResident(ctx: StoreContext, id: number): Resident {
  const r = getResident(ctx, id);
  if (!r) throw new CabinetError('NOT_FOUND', `no resident #${id}`, { residentId: id });
  return r;
}

/** Validates, encrypts the ID number, assigns a QR identity. DUPLICATE when the ID number is already registered. */
export function createResident(ctx: StoreContext, input: ResidentInputRaw, actor: Actor): Resident {
  const v = parseInput(input);
  const now = ctx.now();
  return inTransaction(ctx.db, () => {
    let id: number;
    try {
      const r = stmt(
        ctx.db,
        `INSERT INTO residents (name, mobile, id_number_enc, id_number_hmac, id_number_masked, building, unit, room,
                                  qr_id, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        v.name,
        v.mobile,
        v.idNumber ? encryptField(ctx.keys.get('id-number-encryption'), v.idNumber, ID_AAD) : null,
        v.idNumber ? idLookupHash(ctx, v.idNumber) : null,
        v.idNumber ? maskIdNumberForStaff(v.idNumber) : null,
        v.address?.building ?? null,
        v.address?.unit ?? null,
        v.address?.room ?? null,
        randomToken(16),
        now,
        now,
      );
      id = Number(r.lastInsertRowid);
    } catch (err) {
      if (duplicateId(err)) throw new CabinetError('DUPLICATE', 'a resident with this ID number is already registered');
      throw err;
    }
    appendAudit(ctx.db, now, { actor, action: 'resident.created', detail: { residentId: id } });
    return requireResident(ctx, id);
  });
}

export interface ResidentPatch {
  readonly name?: string;
  readonly mobile?: string;
  readonly idNumber?: string;
  readonly address?: Address;
}

/** Changes the given fields (validated like on creation). */
export function updateResident(ctx: StoreContext, id: number, patch: ResidentPatch, actor: Actor): Resident {
  const current = requireResident(ctx, id);
  const v = parseInput({
    name: patch.name ?? current.name,
    mobile: patch.mobile ?? current.mobile,
    ...(patch.idNumber !== undefined ? { idNumber: patch.idNumber } : {}),
    ...(patch.address !== undefined ? { address: patch.address } : {}),
  });
  const now = ctx.now();
  return inTransaction(ctx.db, () => {
    const sets: string[] = ['name = ?', 'mobile = ?', 'updated_at = ?'];
    const args: (string | number | Buffer | null)[] = [v.name, v.mobile, now];
    if (v.idNumber !== undefined) {
      sets.push('id_number_enc = ?', 'id_number_hmac = ?', 'id_number_masked = ?');
      args.push(
        encryptField(ctx.keys.get('id-number-encryption'), v.idNumber, ID_AAD),
        idLookupHash(ctx, v.idNumber),
        maskIdNumberForStaff(v.idNumber),
      );
    }
    if (v.address !== undefined) {
      sets.push('building = ?', 'unit = ?', 'room = ?');
      args.push(v.address.building, v.address.unit, v.address.room);
    }
    try {
      stmt(ctx.db, `UPDATE residents SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
    } catch (err) {
      if (duplicateId(err)) throw new CabinetError('DUPLICATE', 'a resident with this ID number is already registered');
      throw err;
    }
    const changed = Object.keys(patch).filter((k) => patch[k as keyof ResidentPatch] !== undefined);
    appendAudit(ctx.db, now, { actor, action: 'resident.updated', detail: { residentId: id, fields: changed } });
    return requireResident(ctx, id);
  });
}

export function findResidentByIdNumber(ctx: StoreContext, idNumber: string): Resident | null {
  const r = stmt<[Buffer], Row>(ctx.db, 'SELECT * FROM residents WHERE id_number_hmac = ?').get(idLookupHash(ctx, idNumber.trim().toUpperCase()));
  return r ? toResident(r) : null;
}

export function findResidentByQrId(ctx: StoreContext, qrId: string): Resident | null {
  const r = stmt<[string], Row>(ctx.db, 'SELECT * FROM residents WHERE qr_id = ?').get(qrId);
  return r ? toResident(r) : null;
}

export function findResidentsByMobile(ctx: StoreContext, mobile: string): Resident[] {
  return stmt<[string], Row>(ctx.db, 'SELECT * FROM residents WHERE mobile = ? ORDER BY id').all(mobile).map(toResident);
}

/**
 * The full ID number, for a staff member who must read it (e.g. to print a certificate). Always audited,
 * with the purpose; never call it to show a list.
 */
export function revealIdNumber(ctx: StoreContext, residentId: number, actor: Actor, purpose: string): string | null {
  if (actor.kind !== 'staff') throw new CabinetError('ACTOR_NOT_ALLOWED', 'only staff may read a full ID number');
  if (!purpose.trim()) throw new CabinetError('REASON_REQUIRED', 'reading a full ID number needs a purpose');
  return inTransaction(ctx.db, () => {
    const r = stmt<[number], Pick<Row, 'id_number_enc'>>(ctx.db, 'SELECT id_number_enc FROM residents WHERE id = ?').get(residentId);
    if (!r) throw new CabinetError('NOT_FOUND', `no resident #${residentId}`, { residentId });
    appendAudit(ctx.db, ctx.now(), { actor, action: 'resident.id_number_revealed', detail: { residentId, purpose } });
    return r.id_number_enc ? decryptField(ctx.keys.get('id-number-encryption'), r.id_number_enc, ID_AAD) : null;
  });
}

/** A new QR identity (lost or changed phone): the old QR code stops working at once. */
export function rotateResidentQrId(ctx: StoreContext, residentId: number, actor: Actor): Resident {
  return inTransaction(ctx.db, () => {
    const r = stmt(ctx.db, 'UPDATE residents SET qr_id = ?, updated_at = ? WHERE id = ?').run(randomToken(16), ctx.now(), residentId);
    if (r.changes !== 1) throw new CabinetError('NOT_FOUND', `no resident #${residentId}`, { residentId });
    appendAudit(ctx.db, ctx.now(), { actor, action: 'resident.qr_rotated', detail: { residentId } });
    return requireResident(ctx, residentId);
  });
}

/** Whether the resident has every detail the service needs. */
export function missingDetails(resident: Resident, required: readonly ('id_number' | 'address')[]): ('id_number' | 'address')[] {
  return required.filter((f) => (f === 'id_number' ? resident.idNumberMasked === null : resident.address === null));
}
