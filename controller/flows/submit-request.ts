/**
 * A resident submits a request from the phone: the use case, apart from HTTP. The route checks the body's
 * shape and the submission limits, calls `submitRequest` and answers; what a submission means is here.
 *
 * Binding a phone to a resident: a submission with the phone's `residentToken` adds the request to that
 * resident (updating the mobile or address it gives) instead of creating one. A bound phone used for somebody
 * else (another name, or an ID number other than the one on file) is refused, so one person's record never
 * becomes another's.
 *
 * An ID number already registered to another resident is never revealed to the phone: knowing someone's name
 * and ID number must be neither enough to take over their identity nor a way to find out who is registered.
 * The submission is answered like any other; the request is filed under the phone's own resident, without that
 * ID number, and held (`identityCheck`, naming the registered resident) until staff confirm who the person is
 * (store/requests.ts confirmIdentity) or reject it. See README, "Security".
 */
import { residentActor } from '../domain/types.js';
import type { Address } from '../domain/validation.js';
import {
  createRequest,
  createResident,
  findResidentByIdNumber,
  findResidentByQrId,
  getServiceItem,
  inTransaction,
  parseResidentQrToken,
  rotateResidentQrId,
  updateResident,
  type Request,
  type Resident,
  type ResidentPatch,
  type Store,
} from '../store/index.js';

export interface SubmitInput {
  readonly name: string;
  readonly mobile: string;
  readonly idNumber?: string | undefined;
  readonly address?: Address | undefined;
  readonly serviceCode: string;
  readonly note?: string | undefined;
  /** The token this phone got at an earlier submission, if any. */
  readonly residentToken?: string | undefined;
}

/** Why a submission is refused; `field` names the input to correct. Nothing is written. */
export type SubmitRefusal =
  | { readonly ok: false; readonly refusal: 'UNKNOWN_SERVICE'; readonly field: 'serviceCode' }
  | { readonly ok: false; readonly refusal: 'SERVICE_DISABLED'; readonly field: 'serviceCode' }
  | { readonly ok: false; readonly refusal: 'RESIDENT_TOKEN_INVALID'; readonly field: 'residentToken' }
  | { readonly ok: false; readonly refusal: 'RESIDENT_MISMATCH'; readonly field: 'name' | 'idNumber' }
  | { readonly ok: false; readonly refusal: 'NEEDS_ID_NUMBER'; readonly field: 'idNumber' }
  | { readonly ok: false; readonly refusal: 'NEEDS_ADDRESS'; readonly field: 'address' };

export interface Submitted {
  readonly ok: true;
  readonly request: Request;
  /** For the status link; shown once. */
  readonly statusToken: string;
  /** The phone's resident, with a new QR id when the phone was bound already (its old token stops working). */
  readonly resident: Resident;
}

const refuse = <R extends SubmitRefusal['refusal']>(refusal: R, field: Extract<SubmitRefusal, { refusal: R }>['field']) =>
  ({ ok: false, refusal, field }) as Extract<SubmitRefusal, { refusal: R }>;

export function submitRequest(store: Store, input: SubmitInput): Submitted | SubmitRefusal {
  const ctx = store.ctx;
  const item = getServiceItem(ctx, input.serviceCode);
  if (!item) return refuse('UNKNOWN_SERVICE', 'serviceCode');
  if (!item.enabled) return refuse('SERVICE_DISABLED', 'serviceCode');
  const needsId = item.requiredFields.includes('id_number');
  const needsAddress = item.requiredFields.includes('address');

  let bound: Resident | null = null;
  if (input.residentToken !== undefined) {
    const t = parseResidentQrToken(store.keys, input.residentToken);
    bound = t ? findResidentByQrId(ctx, t.qrId) : null;
    if (!bound) return refuse('RESIDENT_TOKEN_INVALID', 'residentToken');
  }
  if (bound) {
    const otherId = input.idNumber !== undefined && bound.idNumberMasked !== null && findResidentByIdNumber(ctx, input.idNumber)?.id !== bound.id;
    if (otherId) return refuse('RESIDENT_MISMATCH', 'idNumber');
    if (input.name.trim() !== bound.name) return refuse('RESIDENT_MISMATCH', 'name');
  }
  if (needsId && input.idNumber === undefined && !bound?.idNumberMasked) return refuse('NEEDS_ID_NUMBER', 'idNumber');
  if (needsAddress && input.address === undefined && !bound?.address) return refuse('NEEDS_ADDRESS', 'address');

  return inTransaction(store.db, () => {
    // an ID number the service needs, registered to somebody else than this phone's resident: held, not refused
    const registered = needsId && input.idNumber !== undefined ? findResidentByIdNumber(ctx, input.idNumber) : null;
    const held = registered !== null && registered.id !== bound?.id ? registered : null;
    const idNumber = needsId && held === null ? input.idNumber : undefined;
    const address = needsAddress ? input.address : undefined;

    let resident: Resident;
    if (bound) {
      const patch = residentPatch(bound, input.mobile, idNumber, address);
      resident = Object.keys(patch).length > 0 ? updateResident(ctx, bound.id, patch, residentActor(bound.id)) : bound;
    } else {
      // collect only what the service needs (PIPL art. 6)
      resident = createResident(
        ctx,
        { name: input.name, mobile: input.mobile, ...(idNumber !== undefined ? { idNumber } : {}), ...(address ? { address } : {}) },
        { kind: 'resident', id: null },
      );
    }
    const c = createRequest(
      ctx,
      { residentId: resident.id, serviceCode: item.code, ...(input.note ? { note: input.note } : {}), ...(held ? { identityCheck: held.id } : {}) },
      residentActor(resident.id),
    );
    // every use of the phone's token renews it with a new QR id: a copy taken from the screen dies here
    if (bound) resident = rotateResidentQrId(ctx, resident.id, residentActor(resident.id));
    return { ok: true, request: c.request, statusToken: c.statusToken, resident };
  });
}

/** What a bound phone's submission changes on its resident: the mobile, an ID number it had none of, the address. */
function residentPatch(r: Resident, mobile: string, idNumber: string | undefined, a: Address | undefined): ResidentPatch {
  const patch: { -readonly [K in keyof ResidentPatch]: ResidentPatch[K] } = {};
  if (mobile !== r.mobile) patch.mobile = mobile;
  if (idNumber !== undefined && r.idNumberMasked === null) patch.idNumber = idNumber;
  if (a && (a.building !== r.address?.building || a.unit !== r.address?.unit || a.room !== r.address?.room)) patch.address = a;
  return patch;
}
