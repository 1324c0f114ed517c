/**
 * /m/submit: choose a document, give only the details it needs, submit, go to its status page.
 *
 * The page checks that no field it shows is empty, the API checks everything; either way every wrong field gets its
 * message next to it (the API's `error.fields`) and a list of them at the top, each leading to its field.
 * A phone that submitted before sends its residentToken and is not asked for the ID number or the
 * address again, unless the API says they are missing.
 */
import { $, $maybe } from '../shared/elements.js';
import { api } from '../shared/phone-api.js';
import {
  bilingual,
  focusOn,
  loadPageWords,
  forgetResident,
  loadBinding,
  maskMobile,
  maskName,
  saveBinding,
  setBilingual,
  setText,
  setUpMyQr,
} from './common.js';
import { hasWords, sayBoth } from '../shared/words.js';

/**
 * @import { ApiProblem, ApiResult, FieldProblem } from '../shared/phone-api.js'
 * @import { Service, ServiceList, SubmitAnswer } from './api-types.js'
 */

/** @typedef {'contact' | 'idNumber' | 'address'} Row */

let binding = loadBinding();
/** @type {Service[]} */
let services = [];
/** @type {Service | null} */
let chosen = null;
/** Rows the resident asked to see, or the API said are needed, although the binding would hide them. */
const forced = { contact: false, idNumber: false, address: false };
/** Applying for another person from a phone registered to someone: no binding is sent, and the phone's stays. */
let forOther = false;

const myQr = setUpMyQr(
  () => binding,
  (b) => {
    binding = b;
  },
);

/**
 * Each field the API can name, and where its message goes; its name in the list at the top is the catalogue's
 * `phone.field.<field>`.
 * @type {Readonly<Record<string, { input: string, error: string, row: Row }>>}
 */
const FIELDS = {
  name: { input: 'name', error: 'err-name', row: 'contact' },
  mobile: { input: 'mobile', error: 'err-mobile', row: 'contact' },
  idNumber: { input: 'idNumber', error: 'err-idNumber', row: 'idNumber' },
  address: { input: 'building', error: 'err-address', row: 'address' },
  'address.building': { input: 'building', error: 'err-address-building', row: 'address' },
  'address.unit': { input: 'unit', error: 'err-address-unit', row: 'address' },
  'address.room': { input: 'room', error: 'err-address-room', row: 'address' },
};

// ------------------------------------------------------------------------------------------- step 1

async function loadServices() {
  const status = $('#services-status', HTMLElement);
  $('#services-retry', HTMLElement).hidden = true;
  await loadPageWords(); // tried again with the list until it is here
  setBilingual(status, ...sayBoth({ key: 'phone.services_loading' }));
  /** @type {ApiResult<ServiceList>} */
  const r = await api('GET', '/api/services');
  if (!r.ok) {
    const [zh] = sayBoth({ key: 'phone.services_failed', params: { problem: r.error.zh } });
    const [, en] = sayBoth({ key: 'phone.services_failed', params: { problem: r.error.en } });
    setBilingual(status, zh, en);
    $('#services-retry', HTMLElement).hidden = false;
    return;
  }
  services = Array.isArray(r.body?.services) ? r.body.services : [];
  setBilingual(status, ...(services.length ? /** @type {[string, string]} */ (['', '']) : sayBoth({ key: 'phone.services_none' })));
  status.hidden = services.length > 0;
  const list = $('#services', HTMLElement);
  list.replaceChildren(
    ...services.map((s) => {
      const li = document.createElement('li');
      const b = bilingual('button', s.nameZh, s.nameEn, 'service');
      b.type = 'button';
      b.dataset.code = s.code;
      if (s.needsMaterials) {
        b.append(bilingual('span', ...sayBoth({ key: 'phone.materials_first' }), 'tag'));
      }
      b.addEventListener('click', () => choose(s.code, true));
      li.append(b);
      return li;
    }),
  );
  route();
}

function renderRegistered() {
  const bound = !!binding.residentToken;
  const who = maskName(binding.name);
  const phone = maskMobile(binding.mobile);
  $('#registered', HTMLElement).hidden = !bound || !who;
  setText($('#reg-name', HTMLElement), who);
  setText($('#reg-name-en', HTMLElement), who);
  setText($('#reg-mobile', HTMLElement), phone);
  $('#reg-mobile-line', HTMLElement).hidden = !phone;
  myQr.refresh();

  const mine = binding.requests;
  $('#mine-section', HTMLElement).hidden = mine.length === 0;
  $('#mine', HTMLElement).replaceChildren(
    ...mine.map((q) => {
      const li = document.createElement('li');
      const a = bilingual('a', `${q.nameZh || ''}  ${q.number || ''}`, q.nameEn || '', 'button');
      a.href = '/m/status/' + encodeURIComponent(q.statusToken);
      li.append(a);
      return li;
    }),
  );
}

// ------------------------------------------------------------------------------------------- step 2

/**
 * @param {string} code
 * @param {boolean} push  add a history entry (a click), or not (the address bar already says it)
 */
function choose(code, push) {
  const s = services.find((x) => x.code === code);
  if (!s) return;
  chosen = s;
  if (push) history.pushState({ code }, '', '#' + encodeURIComponent(code));
  clearErrors();
  setText($('#submit-status', HTMLElement), '');
  renderForm();
  $('#choose', HTMLElement).hidden = true;
  $('#form-step', HTMLElement).hidden = false;
  window.scrollTo(0, 0);
  focusOn($('#form-title', HTMLElement));
}

function showChooser() {
  chosen = null;
  $('#form-step', HTMLElement).hidden = true;
  $('#choose', HTMLElement).hidden = false;
  renderRegistered();
}

/** Shows the step the address bar says: #<code> is the form for that document, nothing is the list. */
function route() {
  const code = decodeURIComponent(location.hash.slice(1));
  if (code && services.some((s) => s.code === code)) choose(code, false);
  else showChooser();
}

/** @param {Row} row */
function needsRow(row) {
  if (!chosen) return false;
  const bound = !!binding.residentToken && !forOther;
  if (row === 'contact') return !bound || !binding.name || !binding.mobile || forced.contact;
  if (row === 'idNumber') return chosen.needs?.idNumber === true && (!bound || !binding.hasIdNumber || forced.idNumber);
  if (row === 'address') return chosen.needs?.address === true && (!bound || !binding.hasAddress || forced.address);
  return false;
}

function renderForm() {
  const s = chosen;
  if (!s) return;
  const doc = $('#chosen-doc', HTMLElement);
  doc.replaceChildren(...bilingual('span', s.nameZh, s.nameEn).childNodes);
  $('#chosen-materials', HTMLElement).hidden = !s.needsMaterials;

  const showContact = needsRow('contact');
  const showId = needsRow('idNumber');
  const showAddress = needsRow('address');
  $('#row-name', HTMLElement).hidden = !showContact;
  $('#row-mobile', HTMLElement).hidden = !showContact;
  $('#row-idNumber', HTMLElement).hidden = !showId;
  $('#row-address', HTMLElement).hidden = !showAddress;

  const bound = !!binding.residentToken && !!binding.name && !forOther;
  $('#registered-form', HTMLElement).hidden = !bound;
  $('#other-form', HTMLElement).hidden = !forOther;
  if (bound) {
    const who = maskName(binding.name);
    setText($('#regf-name', HTMLElement), who);
    setText($('#regf-name-en', HTMLElement), who);
    setText($('#regf-mobile', HTMLElement), maskMobile(binding.mobile));
    const keptId = s.needs?.idNumber && !showId;
    const keptAddress = s.needs?.address && !showAddress;
    const keptKey = keptId && keptAddress ? 'phone.kept_id_and_address' : keptId ? 'phone.kept_id' : keptAddress ? 'phone.kept_address' : null;
    const kept = keptKey ? sayBoth({ key: keptKey })[0] : '';
    setText($('#regf-kept', HTMLElement), kept);
    $('#regf-kept', HTMLElement).hidden = !kept;
    $('#edit-contact', HTMLElement).hidden = showContact;
    $('#edit-contact', HTMLElement).setAttribute('aria-expanded', String(showContact));
  }
  if (!forOther && !$('#name', HTMLInputElement).value && binding.name) $('#name', HTMLInputElement).value = binding.name;
  if (!forOther && !$('#mobile', HTMLInputElement).value && binding.mobile) $('#mobile', HTMLInputElement).value = binding.mobile;
}

/** @param {boolean} on */
function setForOther(on) {
  forOther = on;
  for (const id of ['name', 'mobile', 'idNumber', 'building', 'unit', 'room']) {
    const input = $maybe(`#${id}`, HTMLInputElement);
    if (input) input.value = '';
  }
  clearErrors();
  renderForm();
  (on ? $('#name', HTMLInputElement) : $('#submit', HTMLButtonElement)).focus();
}

function clearErrors() {
  setText($('#form-error', HTMLElement), '');
  $('#form-summary', HTMLElement).hidden = true;
  $('#form-summary-list', HTMLElement).replaceChildren();
  for (const f of Object.values(FIELDS)) {
    setText($maybe(`#${f.error}`, Element), '');
    $maybe(`#${f.input}`, Element)?.removeAttribute('aria-invalid');
  }
}

/**
 * The wrong fields of an API error: all it lists in `fields`, or the one it names in `field`.
 * @param {ApiProblem} err
 * @returns {FieldProblem[]}
 */
function problemsOf(err) {
  if (err.fields.length > 0) return err.fields;
  return err.field === null ? [] : [{ field: err.field, zh: err.zh, en: err.en }];
}

/**
 * Puts each message next to its field, in words, lists them all at the top (each leading to its field), and moves
 * the cursor to the first. False when none of them is a field of this form (then the caller shows the message).
 * @param {FieldProblem[]} problems
 */
function showFieldErrors(problems) {
  const known = problems.flatMap((p) => {
    const f = FIELDS[p.field];
    return f ? [{ ...p, f }] : [];
  });
  if (known.length === 0) return false;
  for (const { f } of known) {
    forced[f.row] = true;
    if (f.row === 'idNumber') binding.hasIdNumber = false;
    if (f.row === 'address') binding.hasAddress = false;
  }
  renderForm();
  const list = $('#form-summary-list', HTMLElement);
  for (const p of known) {
    const box = $(`#${p.f.error}`, Element);
    box.replaceChildren(...bilingual('span', '⚠ ' + p.zh, p.en).childNodes);
    const [labelZh, labelEn] = sayBoth({ key: `phone.field.${p.field}` });
    const input = $(`#${p.f.input}`, HTMLElement);
    input.setAttribute('aria-invalid', 'true');
    const li = document.createElement('li');
    const a = bilingual(
      'a',
      sayBoth({ key: 'phone.field_problem', params: { field: labelZh, problem: p.zh } })[0],
      p.en ? sayBoth({ key: 'phone.field_problem', params: { field: labelEn, problem: p.en } })[1] : '',
    );
    a.href = `#${p.f.input}`;
    a.addEventListener('click', (e) => {
      e.preventDefault();
      input.focus();
    });
    li.append(a);
    list.append(li);
  }
  const [zh, en] = sayBoth(known.length === 1 ? { key: 'phone.fix_summary_one' } : { key: 'phone.fix_summary', params: { count: known.length } });
  setBilingual($('#form-summary-title', HTMLElement), zh, en);
  $('#form-summary', HTMLElement).hidden = false;
  $(`#${known[0]?.f.input}`, HTMLElement).focus();
  return true;
}

/**
 * The page's own check before sending: every field it shows that is empty.
 * @param {Record<string, string>} values  by the API's field path
 * @returns {FieldProblem[]}
 */
function emptyFields(values) {
  return Object.entries(values).flatMap(([field, value]) => {
    const key = `phone.field_missing.${field}`;
    if (value !== '' || !hasWords(key)) return [];
    const [zh, en] = sayBoth({ key });
    return [{ field, zh, en }];
  });
}

/** @param {{ zh: string, en: string }} err */
function showFormError(err) {
  $('#form-error', HTMLElement).replaceChildren(...bilingual('span', '⚠ ' + err.zh, err.en).childNodes);
  focusOn($('#form-error', HTMLElement));
}

/** @param {string} id */
function fieldValue(id) {
  return $(`#${id}`, HTMLInputElement).value.trim();
}

/** @param {Event} event */
async function submit(event) {
  event.preventDefault();
  if (!chosen) return;
  const button = $('#submit', HTMLButtonElement);
  if (button.disabled) return;
  clearErrors();

  /**
   * POST /api/requests (submitBody)
   * @type {{
   *   name: string, mobile: string, serviceCode: string, idNumber?: string,
   *   address?: { building: string, unit: string, room: string }, residentToken?: string,
   * }}
   */
  const body = { name: fieldValue('name'), mobile: fieldValue('mobile').replace(/\s+/g, ''), serviceCode: chosen.code };
  if (!$('#row-idNumber', HTMLElement).hidden) body.idNumber = fieldValue('idNumber').replace(/\s+/g, '').toUpperCase();
  if (!$('#row-address', HTMLElement).hidden) body.address = { building: fieldValue('building'), unit: fieldValue('unit'), room: fieldValue('room') };
  if (binding.residentToken && !forOther) body.residentToken = binding.residentToken;

  /** @type {Record<string, string>} */
  const shown = {};
  if (!$('#row-name', HTMLElement).hidden) shown.name = body.name;
  if (!$('#row-mobile', HTMLElement).hidden) shown.mobile = body.mobile;
  if (body.idNumber !== undefined) shown.idNumber = body.idNumber;
  if (body.address) {
    shown['address.building'] = body.address.building;
    shown['address.unit'] = body.address.unit;
    shown['address.room'] = body.address.room;
  }
  if (showFieldErrors(emptyFields(shown))) return;

  button.disabled = true;
  setBilingual($('#submit-status', HTMLElement), ...sayBoth({ key: 'phone.submitting' }));
  /** @type {ApiResult<SubmitAnswer>} */
  const r = await api('POST', '/api/requests', body);

  if (r.ok) {
    setBilingual($('#submit-status', HTMLElement), ...sayBoth({ key: 'phone.submitted_opening' }));
    const a = r.body;
    const entry = { number: a.number, nameZh: chosen.nameZh, nameEn: chosen.nameEn, statusToken: a.statusToken };
    if (forOther && binding.residentToken) {
      // the phone stays registered to its own resident; the other person's request is remembered for its status page
      binding = { ...binding, requests: [entry, ...binding.requests] };
      saveBinding(binding);
      location.assign('/m/status/' + encodeURIComponent(a.statusToken));
      return;
    }
    binding = {
      ...binding,
      residentToken: a.residentToken,
      name: body.name,
      mobile: body.mobile,
      hasIdNumber: binding.hasIdNumber || chosen.needs?.idNumber === true,
      hasAddress: binding.hasAddress || chosen.needs?.address === true,
      requests: [
        { number: a.number, nameZh: chosen.nameZh, nameEn: chosen.nameEn, statusToken: a.statusToken },
        ...binding.requests.filter((q) => q.statusToken !== a.statusToken),
      ],
    };
    saveBinding(binding);
    location.assign('/m/status/' + encodeURIComponent(a.statusToken));
    return;
  }

  button.disabled = false;
  setText($('#submit-status', HTMLElement), '');
  const err = r.error;
  if (err.field === 'residentToken') {
    // the registration on this phone is no longer valid: ask for everything again
    binding = forgetResident(binding);
    forced.contact = true;
    renderForm();
    myQr.refresh();
    showFormError(err);
    return;
  }
  if (err.code === 'RESIDENT_MISMATCH') {
    // another person on a registered phone: offer to apply for them without the registration
    showFormError(err);
    $('#for-other', HTMLElement).focus();
    return;
  }
  if (err.field === 'serviceCode') {
    history.replaceState(null, '', location.pathname);
    showChooser();
    $('#choose-error', HTMLElement).replaceChildren(...bilingual('span', '⚠ ' + err.zh, err.en).childNodes);
    focusOn($('#choose-error', HTMLElement));
    void loadServices();
    return;
  }
  if (!showFieldErrors(problemsOf(err))) showFormError(err);
}

// ------------------------------------------------------------------------------------------- wiring

$('#form', HTMLElement).addEventListener('submit', (e) => void submit(e));
$('#change-service', HTMLElement).addEventListener('click', () => {
  if (history.state && history.state.code) history.back();
  else {
    history.replaceState(null, '', location.pathname);
    showChooser();
  }
  focusOn($('#choose-title', HTMLElement));
});
$('#edit-contact', HTMLElement).addEventListener('click', () => {
  forced.contact = true;
  renderForm();
  $('#name', HTMLInputElement).focus();
});
$('#for-other', HTMLElement).addEventListener('click', () => setForOther(true));
$('#for-self', HTMLElement).addEventListener('click', () => setForOther(false));
$('#id-x', HTMLElement).addEventListener('click', () => {
  const input = $('#idNumber', HTMLInputElement);
  if (input.value.length < 18) input.value = input.value.replace(/x/gi, '') + 'X';
  input.focus();
});
$('#services-retry', HTMLElement).addEventListener('click', () => void loadServices());
window.addEventListener('popstate', () => {
  if (services.length) route();
});

renderRegistered();
void loadServices();
