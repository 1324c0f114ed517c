/**
 * Every sentence the product says, by key, with the names of its parameters. This file is the list of what can
 * be said; the words are in languages/<language>.ts, one file a language (zh-CN first, then en). Code that
 * needs a sentence answers with a `Said` (a key and its parameters) and the catalogue (catalogue.ts) turns it
 * into words at the edge: the HTTP error bodies and answers, the notifications, the pages (/api/words).
 *
 * Keys are grouped by who says them:
 *   error.*   one for every error code the controller or the HTTP layer answers with (the generic words)
 *   the rest  the particular sentences of a flow, a check or a screen
 * A parameter is a string, a number or a list of numbers (compartments: joined the language's way).
 */
import type { RequestState } from '../domain/request-states.js';

export const WORDS = {
  // ------------------------------------------------------------------ error codes: CabinetError (errors.ts)
  'error.CONFIG_INVALID': [],
  'error.KEY_FILE_INVALID': [],
  'error.KEY_FILE_PERMISSIONS': [],
  'error.KEY_MISMATCH': [],
  'error.DB_TOO_NEW': [],
  'error.DB_PRAGMA_FAILED': [],
  'error.DB_PERMISSIONS': [],
  'error.DB_MIGRATION_FAILED': [],
  'error.LISTEN_FAILED': [],
  'error.LINK_TIMEOUT': [],
  'error.LINK_NAK': [],
  'error.LINK_DISCONNECTED': [],
  'error.LINK_OFFLINE': [],
  'error.LINK_CLOSED': [],
  'error.BOARD_REBOOTED': [],
  'error.BOARD_MISMATCH': [],
  'error.UNLOCK_EXPIRED': [],
  'error.UNLOCK_UNCONFIRMED': [],
  'error.NO_SUCH_COMPARTMENT': [],
  'error.VALIDATION': [],
  'error.NOT_FOUND': [],
  'error.DUPLICATE': [],
  'error.TRANSITION_NOT_ALLOWED': [],
  'error.ACTOR_NOT_ALLOWED': [],
  'error.REASON_REQUIRED': [],
  'error.SERVICE_DISABLED': [],
  'error.RESIDENT_DETAILS_MISSING': [],
  'error.COMPARTMENT_NOT_RESERVED': [],
  'error.COMPARTMENT_STATE': [],
  'error.LAYOUT_CONFLICT': [],
  'error.UNLOCK_RATE_LIMITED': [],
  'error.UNLOCK_ALREADY_PENDING': [],
  'error.ALARM_ALREADY_ACKNOWLEDGED': [],
  'error.CODE_SPACE_EXHAUSTED': [],
  'error.PIN_POLICY': [],
  'error.BACKUP_FAILED': [],
  'error.RESTORE_REFUSED': [],
  'error.STORAGE_UNAVAILABLE': [],
  'error.ASYNC_IN_TRANSACTION': [],
  'error.DATA_CORRUPT': [],
  // ------------------------------------------------------------------ error codes: the HTTP layer's own (http/)
  'error.BAD_HOST': [],
  'error.BAD_JSON': [],
  'error.TOO_LARGE': [],
  'error.BAD_REQUEST': [],
  'error.INTERNAL': [],
  'error.UNSUPPORTED_MEDIA_TYPE': [],
  'error.BODY_REQUIRED': [],
  'error.BAD_INPUT': [],
  'error.UNAUTHENTICATED': [],
  'error.KIOSK_ONLY': [],
  'error.ADMIN_ONLY': [],
  'error.PIN_CHANGE_REQUIRED': [],
  'error.INVALID_LOGIN': [],
  'error.LOGIN_LOCKED': [],
  'error.TOO_MANY_REQUESTS': [],
  'error.UNKNOWN_SERVICE': [],
  'error.NOT_WAITING': [],
  'error.NOT_AWAITING': [],
  'error.RESIDENT_MISMATCH': [],
  'error.RESIDENT_TOKEN_INVALID': [],
  // ------------------------------------------------------------------ particular HTTP answers
  'http.no_such_endpoint': ['method', 'path'],
  'http.session_ended': [],
  'http.login_locked_minutes': ['minutes'],
  'http.current_pin_wrong': [],
  'http.pin_unchanged': [],
  'submit.resident_mismatch': [],
  'submit.no_such_request': [],
  'submit.resident_token_invalid': [],
  'submit.needs_id_number': [],
  'submit.needs_address': [],
  'submit.id_number_registered': [],
  'submit.qr_no_longer_valid': [],
  'submit.resident_registration_ended': [],
  'office.choose_dates': [],
  'office.no_such_date': [],
  'office.end_before_start': [],
  'office.range_too_long': ['days'],
  'office.bad_cursor': [],
  'office.unmasked_admin_only': [],
  'staff.no_id_number': [],
  'staff.no_such_account': [],
  'pin.one_digit': [],
  'pin.run_of_digits': [],
  'storage.full': [],
  'storage.read_only': [],
  'storage.io_error': [],
  'storage.damaged': [],
  'http.page_not_found': [],
  'actor.staff': [],
  'actor.resident': [],
  'actor.system': [],
  'actor.kiosk': [],
  'csv.number': [],
  'csv.document': [],
  'csv.state': [],
  'csv.submitted': [],
  'csv.loaded': [],
  'csv.ended': [],
  'csv.compartment': [],
  'csv.name': [],
  'csv.mobile': [],
  'csv.id_number': [],
  'csv.address': [],
  'csv.reason': [],
  'csv.time': [],
  'csv.who': [],
  'csv.actor': [],
  'csv.action': [],
  'csv.request': [],
  'csv.detail': [],
  'setup.public_url_unset': ['example'],
  'setup.public_url_loopback': ['url', 'example'],
  'setup.note': ['text'],
  // ------------------------------------------------------------------ input: what is wrong with a field (validation)
  'input.required': [],
  'input.invalid_type': [],
  'input.too_short': ['minimum'],
  'input.too_long': ['maximum'],
  'input.too_small': ['minimum'],
  'input.too_big': ['maximum'],
  'input.too_few': ['minimum'],
  'input.too_many': ['maximum'],
  'input.invalid_format': [],
  'input.invalid_value': [],
  'input.unrecognized_keys': ['keys'],
  'input.invalid': [],
  'input.pin_digits': [],
  'input.link_incomplete': [],
  'input.choose_service': [],
  'input.note_too_long': [],
  'input.mobile_required': [],
  'input.mobile_format': [],
  'input.id_number_required': [],
  'input.id_number_format': [],
  'input.id_number_region': [],
  'input.id_number_birth_date': [],
  'input.id_number_check_digit': [],
  'input.name_required': [],
  'input.name_too_short': [],
  'input.name_too_long': [],
  'input.name_characters': [],
  'input.building_required': [],
  'input.unit_required': [],
  'input.room_required': [],
  'input.address_characters': [],
  'input.pickup_code_format': [],
  'input.phone_last4_format': [],
  'input.date_format': [],
  'input.document_code': [],
  'input.action_name': [],
  'input.compartment_no': [],
  'input.reason_required': [],
  'input.purpose_required': [],
  'input.login_format': [],
  'input.service_code_format': [],
  'input.page_cursor': [],
  // ---- state: each request state as a resident reads it (the phone pages, the API's stateText)
  'state.submitted': [],
  'state.awaiting_materials': [],
  'state.depositing': [],
  'state.materials_deposited': [],
  'state.materials_retrieved': [],
  'state.accepted': [],
  'state.rejected': [],
  'state.ready': [],
  'state.loading': [],
  'state.loaded': [],
  'state.overdue': [],
  'state.collected': [],
  'state.retrieved': [],
  'state.cancelled': [],
  // ---- sms
  'sms.ready_with_code': ['service', 'number', 'box', 'code'],
  'sms.overdue_reminder': ['service', 'number', 'box'],
  'sms.rejected': ['service', 'number', 'reason'],
  'sms.materials_received': ['service', 'number'],
  'sms.item_retrieved': ['service', 'number'],
  'sms.compartment': ['compartmentNo'],
  'sms.the_cabinet': [],
  'sms.your_materials': [],
  'sms.code_unavailable': [],
  'sms.reason_unknown': [],
  // ---- phone
  'phone.no_connection': [],
  'phone.something_wrong': [],
  'phone.door_notice.item_not_taken': [],
  'phone.door_notice.nothing_deposited': [],
  'phone.field.name': [],
  'phone.field.mobile': [],
  'phone.field.idNumber': [],
  'phone.field.address': [],
  'phone.field.address.building': [],
  'phone.field.address.unit': [],
  'phone.field.address.room': [],
  'phone.field_missing.name': [],
  'phone.field_missing.mobile': [],
  'phone.field_missing.idNumber': [],
  'phone.field_missing.address.building': [],
  'phone.field_missing.address.unit': [],
  'phone.field_missing.address.room': [],
  'phone.field_problem': ['field', 'problem'],
  'phone.fix_summary_one': [],
  'phone.fix_summary': ['count'],
  'phone.services_loading': [],
  'phone.services_failed': ['problem'],
  'phone.services_none': [],
  'phone.materials_first': [],
  'phone.kept_id_and_address': [],
  'phone.kept_id': [],
  'phone.kept_address': [],
  'phone.submitting': [],
  'phone.submitted_opening': [],
  'phone.step.submitted': [],
  'phone.step.accepted': [],
  'phone.step.ready': [],
  'phone.step.in_cabinet': [],
  'phone.step.collected': [],
  'phone.step_done': [],
  'phone.step_current': [],
  'phone.your_phone': [],
  'phone.refreshing': [],
  'phone.updated_at': ['time'],
  'phone.qr_failed': [],
  'phone.myqr_show': [],
  'phone.myqr_hide': [],
  'phone.myqr_registration_ended': [],
  'phone.myqr_failed': [],
  // ---- staff
  'staff.state.submitted': [],
  'staff.state.awaiting_materials': [],
  'staff.state.depositing': [],
  'staff.state.materials_deposited': [],
  'staff.state.materials_retrieved': [],
  'staff.state.accepted': [],
  'staff.state.rejected': [],
  'staff.state.ready': [],
  'staff.state.loading': [],
  'staff.state.loaded': [],
  'staff.state.overdue': [],
  'staff.state.collected': [],
  'staff.state.retrieved': [],
  'staff.state.cancelled': [],
  'input.id_whole_number': [],
  'staff.identity_unverified': [],
  'staff.identity_nothing_to_confirm': [],
} as const satisfies Record<string, readonly string[]>;

export type WordKey = keyof typeof WORDS;

/** A parameter's value: a list of numbers is joined the language's way (3、5 / 3, 5). */
export type WordParam = string | number | readonly number[];

export type WordParams<K extends WordKey> = { readonly [P in (typeof WORDS)[K][number]]: WordParam };

/** Something to say: a key and its parameters, turned into words by the catalogue at the edge. */
export type Said = {
  [K in WordKey]: (typeof WORDS)[K] extends readonly []
    ? { readonly key: K; readonly params?: undefined }
    : { readonly key: K; readonly params: WordParams<K> };
}[WordKey];

type ParamsArg<K extends WordKey> = (typeof WORDS)[K] extends readonly [] ? [] : [params: WordParams<K>];

/** said('http.login_locked_minutes', { minutes: 5 }): the type checks the key and that every parameter is given. */
export function said<K extends WordKey>(key: K, ...params: ParamsArg<K>): Said {
  return (params[0] === undefined ? { key } : { key, params: params[0] }) as Said;
}

/** The generic words of an error code (every `error.*` key takes no parameter). */
export type ErrorWordKey = Extract<WordKey, `error.${string}`>;
export function errorSaid(key: ErrorWordKey): Said {
  return { key } as Said;
}

/** A request state as a resident reads it (`state.<state>`), or as staff read it (`staff.state.<state>`). */
export function stateSaid(state: RequestState, reader: 'resident' | 'staff' = 'resident'): Said {
  const key: WordKey = reader === 'staff' ? `staff.state.${state}` : `state.${state}`;
  return { key } as Said;
}

export function isWordKey(key: string): key is WordKey {
  return Object.hasOwn(WORDS, key);
}
