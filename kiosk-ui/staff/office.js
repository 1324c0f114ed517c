// The office: the request history with filters and search (a request's history read as sentences), the audit log,
// statistics drawn as charts, CSV exports, and for administrators the staff accounts and the document catalogue.
// Each view is a tab of the console (index.html); the desk (queue, compartments, alarms) stays in staff.js.
//
// Charts are drawn here as plain SVG: a few bar charts need no library, no build step and nothing more to serve
// or keep up to date, and their labels and values are real text a screen reader (and a test) can read.
import { $ } from '../shared/elements.js';
import { api, ApiError, errorAnswerWords, errorWords as apiErrorWords, loadSession } from './api.js';
import { sayBoth, sayEach } from '../shared/words.js';
import { bi, el, en } from './dom.js';
import { ACTOR_KIND_WORDS, auditFamilies, historySentence, REQUEST_STATES, stateWords, waitBucketWords } from './words.js';

/**
 * @import {
 *   Account, AccountAnswer, AccountList, AccountPin, AuditPage, AuditRow, HistoryItem, HistoryPage, Service,
 *   ServiceList, SetupAnswer, StaffMember, Statistics,
 * } from './api-types.js'
 * @import { Words } from './words.js'
 */

/** @typedef {'desk' | 'history' | 'audit' | 'stats' | 'accounts' | 'services'} View */

const VIEWS = /** @type {const} */ (['desk', 'history', 'audit', 'stats', 'accounts', 'services']);

/**
 * The catalogue's words for `key`: [中文, English].
 * @param {string} key
 * @param {Readonly<Record<string, import('../shared/words.js').WordParam>>} [params]
 * @returns {[string, string]}
 */
const w = (key, params) => sayBoth(params ? { key, params } : { key });

/** A column head from the catalogue (none for an empty key). @param {string} key */
const th = (key) => el('th', { scope: 'col' }, key ? bi(w(key)) : null);

/**
 * @type {{
 *   me: StaffMember | null, view: View, services: Service[], accounts: Account[],
 *   history: { query: URLSearchParams, rows: HistoryItem[], next: string | null, open: HistoryItem | null, sentences: AuditRow[] | null },
 *   audit: { query: URLSearchParams, rows: AuditRow[], next: string | null },
 * }}
 */
const office = {
  me: null,
  view: 'desk',
  services: [],
  accounts: [],
  history: { query: new URLSearchParams(), rows: [], next: null, open: null, sentences: null },
  audit: { query: new URLSearchParams(), rows: [], next: null },
};

const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
/** @param {Date} d */
const ymd = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
/** @param {string} iso */
function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : `${ymd(d)} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Local-date ranges the office asks for most. @returns {Record<'lastMonth' | 'thisMonth' | 'week', [string, string]>} */
function quickRanges() {
  const now = new Date();
  const firstThis = new Date(now.getFullYear(), now.getMonth(), 1);
  const lastPrev = new Date(now.getFullYear(), now.getMonth(), 0);
  const firstPrev = new Date(lastPrev.getFullYear(), lastPrev.getMonth(), 1);
  const weekAgo = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 6);
  return { lastMonth: [ymd(firstPrev), ymd(lastPrev)], thisMonth: [ymd(firstThis), ymd(now)], week: [ymd(weekAgo), ymd(now)] };
}

/**
 * The nodes that are there.
 * @param {...(Node | null)} nodes
 * @returns {Node[]}
 */
function present(...nodes) {
  return nodes.filter((n) => n !== null);
}

/** @param {unknown} err @returns {Words} */
function errorWords(err) {
  return apiErrorWords(err);
}

/**
 * A message line under a form: `role=alert` for errors, `role=status` otherwise.
 * @param {HTMLElement} node
 * @param {'ok' | 'error'} tone
 * @param {Words} words
 */
function say(node, tone, words) {
  node.className = tone === 'error' ? 'error' : 'note ok-note';
  node.replaceChildren(...bi(words));
}

// ------------------------------------------------------------------------------------------------
// Start, stop, tabs, setup banner
// ------------------------------------------------------------------------------------------------

/** @param {StaffMember} me */
export function startOffice(me) {
  office.me = me;
  for (const b of document.querySelectorAll('.tabs [data-admin]')) if (b instanceof HTMLElement) b.hidden = me.role !== 'admin';
  showView('desk');
  void loadSetup();
  void loadServices();
  void loadAccounts(); // administrators: the audit log's "which staff member" choice
}

export function stopOffice() {
  office.me = null;
  office.accounts = [];
  office.history = { query: new URLSearchParams(), rows: [], next: null, open: null, sentences: null };
  office.audit = { query: new URLSearchParams(), rows: [], next: null };
  for (const v of VIEWS) if (v !== 'desk') $(`#view-${v}`, HTMLElement).replaceChildren();
}

for (const b of document.querySelectorAll('.tabs .tab')) {
  if (b instanceof HTMLButtonElement) b.addEventListener('click', () => showView(/** @type {View} */ (b.dataset.view ?? 'desk')));
}

/** @param {View} view */
function showView(view) {
  office.view = view;
  for (const v of VIEWS) {
    const pane = $(`#view-${v}`, HTMLElement);
    pane.hidden = v !== view;
    const tab = $(`.tabs [data-view="${v}"]`, HTMLButtonElement);
    if (v === view) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  if (view === 'history') renderHistory();
  if (view === 'audit') renderAudit();
  if (view === 'stats') renderStatsForm();
  if (view === 'accounts') void loadAccounts();
  if (view === 'services') void loadServices().then(() => renderServices(null));
}

async function loadSetup() {
  const banner = $('#setup-banner', HTMLElement);
  try {
    /** @type {SetupAnswer} */
    const r = await api('GET', '/api/staff/setup');
    banner.hidden = r.warnings.length === 0;
    const lead = w('office.setup_lead');
    banner.replaceChildren(...r.warnings.map((x) => el('p', {}, el('strong', {}, lead[0]), x.zh, ' ', en(`${lead[1]} ${x.en}`))));
  } catch {
    banner.hidden = true;
  }
}

async function loadServices() {
  try {
    /** @type {ServiceList} */
    const r = await api('GET', '/api/staff/services');
    office.services = r.services;
  } catch {
    /* the filters then offer no document types */
  }
}

/**
 * Downloads a CSV from the API (the session token goes in a header, so not through a plain link).
 * @param {string} path
 * @param {URLSearchParams} query
 * @param {HTMLElement} out  where to say how it went
 */
async function downloadCsv(path, query, out) {
  const session = loadSession();
  say(out, 'ok', w('office.exporting'));
  try {
    const res = await fetch(`${path}?${query}`, { headers: session ? { Authorization: `Bearer ${session.token}` } : {}, cache: 'no-store' });
    if (!res.ok) {
      /** @type {unknown} */
      const body = await res.json().catch(() => null);
      throw new ApiError(res.status, 'EXPORT', errorAnswerWords(res.status, body));
    }
    const blob = await res.blob();
    const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') ?? '')?.[1] ?? 'export.csv';
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    say(out, 'ok', w('office.exported', { name }));
  } catch (err) {
    say(out, 'error', errorWords(err));
  }
}

// ------------------------------------------------------------------------------------------------
// Request history
// ------------------------------------------------------------------------------------------------

/**
 * A labelled field.
 * @param {string} id
 * @param {Words} label
 * @param {HTMLElement} input
 */
function field(id, label, input) {
  input.id = id;
  return el('div', { class: 'field' }, el('label', { for: id }, label[0], ' ', en(label[1])), input);
}

/** @param {string} value @param {Words} words @param {string} current */
function option(value, words, current) {
  return el('option', { value, selected: value === current }, `${words[0]} ${words[1]}`);
}

/**
 * The date fields and the quick ranges shared by the history, the audit log and the statistics.
 * @param {string} prefix
 * @param {URLSearchParams} q
 * @param {() => void} run  after a quick range is chosen
 */
function dateFields(prefix, q, run) {
  const from = el('input', { type: 'date', value: q.get('from') ?? '' });
  const to = el('input', { type: 'date', value: q.get('to') ?? '' });
  const r = quickRanges();
  /** @param {[string, string]} range */
  const pick = (range) => () => {
    from.value = range[0];
    to.value = range[1];
    run();
  };
  return el(
    'div',
    { class: 'filters-dates' },
    field(`${prefix}-from`, w('office.from'), from),
    field(`${prefix}-to`, w('office.to'), to),
    el(
      'div',
      { class: 'quick' },
      el('button', { type: 'button', class: 'btn secondary small', onclick: pick(r.lastMonth) }, bi(w('office.last_month'))),
      el('button', { type: 'button', class: 'btn secondary small', onclick: pick(r.thisMonth) }, bi(w('office.this_month'))),
      el('button', { type: 'button', class: 'btn secondary small', onclick: pick(r.week) }, bi(w('office.last_7_days'))),
    ),
  );
}

/** @param {HTMLFormElement} form @param {string} prefix @param {string[]} names */
function readForm(form, prefix, names) {
  const q = new URLSearchParams();
  for (const n of names) {
    const input = form.querySelector(`#${prefix}-${n}`);
    const v = input instanceof HTMLInputElement || input instanceof HTMLSelectElement ? input.value.trim() : '';
    if (v) q.set(n, v);
  }
  return q;
}

function renderHistory() {
  const view = $('#view-history', HTMLElement);
  const h = office.history;
  const q = h.query;
  const states = /** @type {[string, Words][]} */ ([
    ['', w('office.all')],
    ['open', w('office.open')],
    ['finished', w('office.finished')],
    ...REQUEST_STATES.map((st) => /** @type {[string, Words]} */ ([st, stateWords(st)])),
  ]);
  const out = el('p', { class: 'note', role: 'status' });
  const form = el(
    'form',
    { class: 'filters', role: 'search', novalidate: true },
    field(
      'hist-state',
      w('office.col.state'),
      el(
        'select',
        {},
        states.map(([v, words]) => option(v, words, q.get('state') ?? '')),
      ),
    ),
    field(
      'hist-service',
      w('office.col.document'),
      el(
        'select',
        {},
        option('', w('office.all'), q.get('service') ?? ''),
        office.services.map((s) => option(s.code, [s.nameZh, s.nameEn], q.get('service') ?? '')),
      ),
    ),
    dateFields('hist', q, () => form.requestSubmit()),
    field('hist-q', w('office.search_label'), el('input', { type: 'search', maxlength: 40, value: q.get('q') ?? '', autocomplete: 'off' })),
    el(
      'div',
      { class: 'actions' },
      el('button', { type: 'submit', class: 'btn primary' }, bi(w('staff.find'))),
      el('button', { type: 'button', class: 'btn secondary', onclick: () => exportRequests() }, bi(w('office.export_csv'))),
      office.me?.role === 'admin'
        ? el('label', { class: 'check' }, el('input', { type: 'checkbox', id: 'hist-unmasked' }), ' ', bi(w('office.export_unmasked')))
        : null,
    ),
    out,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    h.query = readForm(form, 'hist', ['state', 'service', 'from', 'to', 'q']);
    void findHistory(false, out);
  });
  /** Export of what the filters select now; a date range is needed. */
  const exportRequests = () => {
    const query = readForm(form, 'hist', ['state', 'service', 'from', 'to', 'q']);
    if (!query.get('from') || !query.get('to')) return say(out, 'error', w('office.choose_dates_first'));
    const box = form.querySelector('#hist-unmasked');
    if (box instanceof HTMLInputElement && box.checked) query.set('unmasked', 'true');
    void downloadCsv('/api/staff/export/requests.csv', query, out);
  };

  const table = h.rows.length
    ? el(
        'table',
        { class: 'list', 'aria-labelledby': 'history-count' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            [
              'office.col.number',
              'office.col.document',
              'office.col.resident',
              'office.col.mobile',
              'office.col.state',
              'office.col.submitted',
              'office.col.ended',
            ].map(th),
          ),
        ),
        el(
          'tbody',
          {},
          h.rows.map((r) =>
            el(
              'tr',
              { 'data-request': r.number, class: h.open?.id === r.id ? 'is-current' : '' },
              el('td', {}, el('button', { type: 'button', class: 'linkish', onclick: () => void openHistory(r) }, r.number)),
              el('td', {}, r.serviceNameZh),
              el('td', {}, r.residentName),
              el('td', {}, r.mobileMasked),
              el('td', {}, stateWords(r.state)[0]),
              el('td', { class: 'nowrap' }, when(r.createdAt)),
              el('td', { class: 'nowrap' }, r.closedAt ? when(r.closedAt) : '—'),
            ),
          ),
        ),
      )
    : null;
  view.replaceChildren(
    el('h2', { id: 'history-title' }, bi(w('office.history_title'))),
    form,
    el(
      'p',
      { id: 'history-count', class: 'note' },
      h.rows.length ? bi(w(h.next ? 'office.found_more' : 'office.found', { count: h.rows.length })) : null,
    ),
    el(
      'div',
      { class: `history-columns${h.open ? ' has-story' : ''}` },
      el(
        'div',
        {},
        table,
        h.next ? el('button', { type: 'button', class: 'btn secondary', onclick: () => void findHistory(true, out) }, bi(w('office.more'))) : null,
      ),
      h.open ? historyStory(h.open, h.sentences) : null,
    ),
  );
}

/**
 * @param {boolean} more  the next page of the same search
 * @param {HTMLElement} out
 */
async function findHistory(more, out) {
  const h = office.history;
  const q = new URLSearchParams(h.query);
  q.set('limit', '50');
  if (more && h.next) q.set('after', h.next);
  try {
    /** @type {HistoryPage} */
    let page = await api('GET', `/api/staff/history/requests?${q}`);
    let rows = page.requests;
    // a search over names looks at a bounded slice per call: go on a few times to fill the page
    for (let i = 0; i < 10 && q.get('q') && rows.length < 50 && page.next; i++) {
      q.set('after', page.next);
      page = await api('GET', `/api/staff/history/requests?${q}`);
      rows = rows.concat(page.requests);
    }
    h.rows = more ? h.rows.concat(rows) : rows;
    h.next = page.next;
    if (!more) (h.open = null), (h.sentences = null);
    renderHistory();
    if (!h.rows.length) say($('#history-count', HTMLElement), 'ok', w('office.no_request_matches'));
  } catch (err) {
    say(out, 'error', errorWords(err));
  }
}

/** @param {HistoryItem} r */
async function openHistory(r) {
  const h = office.history;
  h.open = r;
  h.sentences = null;
  renderHistory();
  try {
    /** @type {AuditPage} */
    const page = await api('GET', `/api/staff/history/audit?q=${encodeURIComponent(r.number)}&limit=500`);
    if (h.open?.id === r.id) h.sentences = [...page.entries].reverse();
  } catch {
    if (h.open?.id === r.id) h.sentences = [];
  }
  renderHistory();
  document.getElementById('story-title')?.focus();
}

/**
 * A request's history as sentences, oldest first.
 * @param {HistoryItem} r
 * @param {AuditRow[] | null} rows
 */
function historyStory(r, rows) {
  const st = stateWords(r.state);
  return el(
    'article',
    { class: 'story', 'aria-labelledby': 'story-title' },
    el('h3', { id: 'story-title', tabindex: '-1' }, r.number, ' ', el('span', { class: 'doc' }, r.serviceNameZh)),
    el('p', {}, bi(sayEach('office.story_now', { name: r.residentName, mobile: r.mobileMasked }, { state: st }))),
    rows === null
      ? el('p', { class: 'note' }, bi(w('staff.loading')))
      : el(
          'ol',
          { class: 'sentences' },
          rows.map((e) => {
            const s = sayEach('staff.sentence', {}, { text: historySentence(e, office.me) });
            return el('li', {}, el('time', { datetime: e.at }, when(e.at)), ' ', el('span', { class: 'zh' }, s[0]), ' ', en(s[1]));
          }),
        ),
  );
}

// ------------------------------------------------------------------------------------------------
// Audit log
// ------------------------------------------------------------------------------------------------

function renderAudit() {
  const view = $('#view-audit', HTMLElement);
  const a = office.audit;
  const q = a.query;
  const out = el('p', { class: 'note', role: 'status' });
  const staffChoice =
    office.me?.role === 'admin' && office.accounts.length
      ? field(
          'audit-staff',
          w('office.which_staff'),
          el(
            'select',
            {},
            option('', w('office.all'), q.get('staff') ?? ''),
            office.accounts.map((s) => option(String(s.id), [s.name, s.login], q.get('staff') ?? '')),
          ),
        )
      : null;
  const form = el(
    'form',
    { class: 'filters', role: 'search', novalidate: true },
    dateFields('audit', q, () => form.requestSubmit()),
    field(
      'audit-action',
      w('office.what'),
      el(
        'select',
        {},
        option('', w('office.all'), q.get('action') ?? ''),
        auditFamilies().map(([v, words]) => option(v, words, q.get('action') ?? '')),
      ),
    ),
    field(
      'audit-actorKind',
      w('office.who'),
      el(
        'select',
        {},
        option('', w('office.all'), q.get('actorKind') ?? ''),
        Object.entries(ACTOR_KIND_WORDS).map(([v, words]) => option(v, words, q.get('actorKind') ?? '')),
      ),
    ),
    staffChoice,
    field(
      'audit-compartment',
      w('office.door_no'),
      el('input', { type: 'number', min: 1, max: 999, inputmode: 'numeric', value: q.get('compartment') ?? '' }),
    ),
    field('audit-q', w('office.audit_q'), el('input', { type: 'search', maxlength: 60, value: q.get('q') ?? '', autocomplete: 'off' })),
    el(
      'div',
      { class: 'actions' },
      el('button', { type: 'submit', class: 'btn primary' }, bi(w('staff.find'))),
      el('button', { type: 'button', class: 'btn secondary', onclick: () => exportAudit() }, bi(w('office.export_csv'))),
    ),
    out,
  );
  const names = ['from', 'to', 'action', 'actorKind', 'staff', 'compartment', 'q'];
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    a.query = readForm(form, 'audit', names);
    void findAudit(false, out);
  });
  const exportAudit = () => {
    const query = readForm(form, 'audit', names);
    if (!query.get('from') || !query.get('to')) return say(out, 'error', w('office.choose_dates_first'));
    void downloadCsv('/api/staff/export/audit.csv', query, out);
  };
  view.replaceChildren(
    ...present(
      el('h2', { id: 'auditlog-title' }, bi(w('office.auditlog_title'))),
      form,
      a.rows.length
        ? el(
            'table',
            { class: 'list audit' },
            el('thead', {}, el('tr', {}, ['staff.col.time', 'staff.col.what', 'office.col.door', 'office.col.request'].map(th))),
            el(
              'tbody',
              {},
              a.rows.map((e) => {
                const s = sayEach('staff.sentence', {}, { text: historySentence(e, office.me) });
                return el(
                  'tr',
                  {},
                  el('td', { class: 'nowrap' }, when(e.at)),
                  el('td', {}, s[0], ' ', en(s[1])),
                  el('td', {}, e.compartmentNo ?? ''),
                  el('td', { class: 'nowrap' }, e.requestNumber ?? ''),
                );
              }),
            ),
          )
        : null,
      a.next ? el('button', { type: 'button', class: 'btn secondary', onclick: () => void findAudit(true, out) }, bi(w('office.more'))) : null,
    ),
  );
}

/** @param {boolean} more @param {HTMLElement} out */
async function findAudit(more, out) {
  const a = office.audit;
  const q = new URLSearchParams(a.query);
  q.set('limit', '100');
  if (more && a.next) q.set('after', a.next);
  try {
    /** @type {AuditPage} */
    let page = await api('GET', `/api/staff/history/audit?${q}`);
    let rows = page.entries;
    for (let i = 0; i < 10 && q.get('q') && rows.length < 100 && page.next; i++) {
      q.set('after', page.next);
      page = await api('GET', `/api/staff/history/audit?${q}`);
      rows = rows.concat(page.entries);
    }
    a.rows = more ? a.rows.concat(rows) : rows;
    a.next = page.next;
    renderAudit();
    if (!a.rows.length) say($('#view-audit .filters .note', HTMLElement), 'ok', w('office.nothing_matches'));
  } catch (err) {
    say(out, 'error', errorWords(err));
  }
}

// ------------------------------------------------------------------------------------------------
// Statistics
// ------------------------------------------------------------------------------------------------

function renderStatsForm() {
  const view = $('#view-stats', HTMLElement);
  if (view.childElementCount) return;
  const r = quickRanges();
  const q = new URLSearchParams({ from: r.lastMonth[0], to: r.thisMonth[1] });
  const out = el('p', { class: 'note', role: 'status' });
  const charts = el('div', { id: 'charts', class: 'charts' });
  const form = el(
    'form',
    { class: 'filters', novalidate: true },
    dateFields('stats', q, () => form.requestSubmit()),
    el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'btn primary' }, bi(w('office.show')))),
    out,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void loadStats(readForm(form, 'stats', ['from', 'to']), charts, out);
  });
  view.replaceChildren(el('h2', { id: 'stats-title' }, bi(w('office.stats_title'))), form, charts);
  void loadStats(q, charts, out);
}

/** @param {URLSearchParams} q @param {HTMLElement} charts @param {HTMLElement} out */
async function loadStats(q, charts, out) {
  try {
    /** @type {Statistics} */
    const s = await api('GET', `/api/staff/statistics?${q}`);
    out.replaceChildren(...bi(w('office.range', { from: s.from, to: s.to })));
    out.className = 'note';
    charts.replaceChildren(...drawStatistics(s));
  } catch (err) {
    say(out, 'error', errorWords(err));
  }
}

const SVG = 'http://www.w3.org/2000/svg';
/**
 * @param {string} tag
 * @param {Record<string, string | number>} attrs
 * @param {...(SVGElement | string)} children
 */
function svg(tag, attrs, ...children) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  for (const c of children) n.append(c);
  return n;
}

/**
 * Vertical bars (one per day), value on each bar when there is room, a label every few bars.
 * @param {{ label: string, value: number }[]} items
 * @param {string} name  what the chart shows, for screen readers
 * @param {number} [w]  width in the chart's own units: smaller for a half-width chart, so its text stays large
 */
function columnChart(items, name, w = 900) {
  const h = w / 3.75,
    left = 36,
    bottom = 36,
    top = 20;
  const max = Math.max(1, ...items.map((i) => i.value));
  const bw = (w - left) / Math.max(1, items.length);
  const every = Math.ceil(items.length / 15);
  const g = svg('svg', { viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': name, class: 'chart' });
  g.append(svg('line', { x1: left, y1: h - bottom, x2: w, y2: h - bottom, class: 'axis' }));
  g.append(svg('text', { x: left - 6, y: top + 4, 'text-anchor': 'end', class: 'tick' }, String(max)));
  items.forEach((it, i) => {
    const bh = ((h - bottom - top) * it.value) / max;
    const x = left + i * bw;
    const bar = svg('rect', { x: x + 1, y: h - bottom - bh, width: Math.max(1, bw - 2), height: bh, class: 'bar' });
    bar.append(svg('title', {}, `${it.label}: ${it.value}`));
    g.append(bar);
    if (bw >= 22 && it.value > 0)
      g.append(svg('text', { x: x + bw / 2, y: h - bottom - bh - 4, 'text-anchor': 'middle', class: 'val' }, String(it.value)));
    if (i % every === 0) g.append(svg('text', { x: x + bw / 2, y: h - bottom + 18, 'text-anchor': 'middle', class: 'tick' }, it.label));
  });
  return g;
}

/**
 * Horizontal bars with their label and value written out.
 * @param {{ label: string, value: number }[]} items
 * @param {string} name
 */
function barChart(items, name) {
  const w = 600,
    row = 34,
    left = 200;
  const max = Math.max(1, ...items.map((i) => i.value));
  const h = Math.max(row, items.length * row) + 8;
  const g = svg('svg', { viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': name, class: 'chart' });
  items.forEach((it, i) => {
    const y = 4 + i * row;
    const bw = ((w - left - 80) * it.value) / max;
    g.append(svg('text', { x: left - 10, y: y + row / 2 + 6, 'text-anchor': 'end', class: 'label' }, it.label));
    const bar = svg('rect', { x: left, y: y + 4, width: Math.max(it.value ? 2 : 0, bw), height: row - 10, class: 'bar' });
    bar.append(svg('title', {}, `${it.label}: ${it.value}`));
    g.append(bar);
    g.append(svg('text', { x: left + bw + 8, y: y + row / 2 + 6, class: 'val' }, String(it.value)));
  });
  return g;
}

/**
 * @param {string} id
 * @param {Words} title
 * @param {Node | null} summary
 * @param {Node} body
 */
function figure(id, title, summary, body) {
  return el(
    'figure',
    { class: 'figure', id, 'aria-labelledby': `${id}-title` },
    el('figcaption', { id: `${id}-title` }, el('strong', {}, title[0]), ' ', en(title[1])),
    summary,
    body,
  );
}

/** @param {Statistics} s @returns {HTMLElement[]} */
function drawStatistics(s) {
  const total = s.perDay.reduce((n, d) => n + d.count, 0);
  const wait = s.waitToCollect;
  /** @returns {Words} */
  const hours = (/** @type {number | null} */ x) =>
    x === null ? ['—', '—'] : x < 48 ? w('office.hours', { hours: x }) : w('office.days', { days: Math.round((x / 24) * 10) / 10 });
  /** A chart's name for screen readers: both languages. @param {Words} words */
  const named = (words) => words.filter(Boolean).join(' ');
  return [
    figure(
      'chart-per-day',
      w('office.chart.per_day'),
      el('p', { class: 'sum' }, bi(w('office.in_all_requests', { count: total }))),
      columnChart(
        s.perDay.map((d) => ({ label: d.day.slice(5), value: d.count })),
        named(w('office.chart_name.per_day', { from: s.from, to: s.to })),
      ),
    ),
    figure(
      'chart-per-service',
      w('office.chart.per_service'),
      null,
      s.perService.length
        ? barChart(
            s.perService.map((x) => ({ label: x.nameZh, value: x.count })),
            named(w('office.chart_name.per_service')),
          )
        : el('p', { class: 'note' }, bi(w('office.no_requests'))),
    ),
    figure(
      'chart-wait',
      w('office.chart.wait'),
      el(
        'p',
        { class: 'sum' },
        bi(sayEach('office.wait_summary', { count: wait.count }, { median: hours(wait.medianHours), p90: hours(wait.p90Hours) })),
      ),
      barChart(
        wait.buckets.map((b) => ({ label: waitBucketWords(b.upToHours)[0], value: b.count })),
        named(w('office.chart_name.wait')),
      ),
    ),
    figure(
      'chart-overdue',
      w('office.chart.overdue'),
      el('p', { class: 'sum' }, bi(w('office.overdue_summary', { inRange: s.overdue.inRange, now: s.overdue.now }))),
      s.overdue.perDay.length
        ? columnChart(
            s.overdue.perDay.map((d) => ({ label: d.day.slice(5), value: d.count })),
            named(w('office.chart_name.overdue')),
            600,
          )
        : el('span'),
    ),
    figure(
      'chart-faults',
      w('office.chart.faults'),
      el('p', { class: 'sum' }, bi(w('office.in_all_times', { count: s.doorFaults.reduce((n, f) => n + f.count, 0) }))),
      s.doorFaults.length
        ? barChart(
            s.doorFaults.map((f) => ({ label: w('office.door_label', { no: f.compartment })[0], value: f.count })),
            named(w('office.chart_name.faults')),
          )
        : el('p', { class: 'note' }, bi(w('office.no_faults'))),
    ),
    figure(
      'chart-months',
      w('office.chart.months'),
      null,
      el(
        'table',
        { class: 'list months' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            [
              'office.col.month',
              'office.col.collected',
              'office.col.retrieved',
              'office.col.rejected',
              'office.col.cancelled',
              'office.col.total',
            ].map(th),
          ),
        ),
        el(
          'tbody',
          {},
          s.perMonth.map((m) =>
            el(
              'tr',
              { 'data-month': m.month },
              el('th', { scope: 'row' }, m.month),
              el('td', {}, m.collected),
              el('td', {}, m.retrieved),
              el('td', {}, m.rejected),
              el('td', {}, m.cancelled),
              el('td', {}, el('strong', {}, m.total)),
            ),
          ),
        ),
      ),
    ),
  ];
}

// ------------------------------------------------------------------------------------------------
// Accounts (administrators)
// ------------------------------------------------------------------------------------------------

async function loadAccounts() {
  if (office.me?.role !== 'admin') return;
  try {
    /** @type {AccountList} */
    const r = await api('GET', '/api/staff/accounts');
    office.accounts = r.accounts;
  } catch (err) {
    office.accounts = [];
    $('#view-accounts', HTMLElement).replaceChildren(el('p', { class: 'error', role: 'alert' }, ...bi(errorWords(err))));
    return;
  }
  if (office.view === 'accounts') renderAccounts(null);
}

/**
 * @param {{ tone: 'ok' | 'error', words: Words, pin?: string } | null} notice
 */
function renderAccounts(notice) {
  const view = $('#view-accounts', HTMLElement);
  const out = el(
    'div',
    { role: 'status', class: 'notice-area' },
    notice
      ? el(
          'div',
          { class: `notice ${notice.tone}` },
          el('p', {}, ...bi(notice.words)),
          notice.pin
            ? el('p', { class: 'pin' }, w('office.pin_label')[0], el('strong', { 'data-pin': notice.pin }, notice.pin), ' ', bi(w('office.pin_once')))
            : null,
        )
      : null,
  );
  const err = el('p', { class: 'error', role: 'alert' });
  const form = el(
    'form',
    { class: 'filters', novalidate: true, 'aria-labelledby': 'account-add-title' },
    el('h3', { id: 'account-add-title' }, bi(w('office.add_staff'))),
    field('acc-login', w('office.login_label'), el('input', { maxlength: 32, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' })),
    field('acc-name', w('office.name'), el('input', { maxlength: 30, autocomplete: 'off' })),
    field(
      'acc-role',
      w('office.role'),
      el('select', {}, option('staff', w('office.role.staff'), 'staff'), option('admin', w('office.role.admin'), 'staff')),
    ),
    el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'btn primary' }, bi(w('office.add')))),
    err,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const login = $('#acc-login', HTMLInputElement, form).value.trim().toLowerCase();
    const name = $('#acc-name', HTMLInputElement, form).value.trim();
    const role = $('#acc-role', HTMLSelectElement, form).value;
    try {
      /** @type {AccountPin} */
      const r = await api('POST', '/api/staff/accounts', { login, name, role });
      await loadAccounts();
      renderAccounts({
        tone: 'ok',
        words: w('office.added', { name: r.account.name, login: r.account.login }),
        pin: r.pin,
      });
    } catch (x) {
      say(err, 'error', errorWords(x));
      const f = x instanceof ApiError && x.field ? form.querySelector(`#acc-${x.field}`) : null;
      if (f instanceof HTMLElement) f.focus();
    }
  });
  /** @param {Account} a @param {'disable' | 'enable' | 'reset-pin'} op */
  const act = async (a, op) => {
    try {
      if (op === 'reset-pin') {
        /** @type {AccountPin} */
        const r = await api('POST', `/api/staff/accounts/${a.id}/reset-pin`);
        await loadAccounts();
        renderAccounts({ tone: 'ok', words: w('office.pin_reset', { name: a.name }), pin: r.pin });
      } else {
        /** @type {AccountAnswer} */
        const r = await api('POST', `/api/staff/accounts/${a.id}/${op}`);
        await loadAccounts();
        renderAccounts({
          tone: 'ok',
          words: w(r.account.disabled ? 'office.account_disabled' : 'office.account_enabled', { name: a.name }),
        });
      }
    } catch (x) {
      renderAccounts({ tone: 'error', words: errorWords(x) });
    }
  };
  view.replaceChildren(
    el('h2', { id: 'accounts-title' }, bi(w('office.accounts_title'))),
    out,
    el(
      'table',
      { class: 'list' },
      el('thead', {}, el('tr', {}, ['office.name', 'office.col.login', 'office.role', 'office.col.status', 'office.col.actions'].map(th))),
      el(
        'tbody',
        {},
        office.accounts.map((a) =>
          el(
            'tr',
            { 'data-login': a.login },
            el('td', {}, a.name),
            el('td', {}, a.login),
            el('td', {}, bi(w(a.role === 'admin' ? 'office.role.admin' : 'office.role.staff'))),
            el('td', {}, bi(w(a.disabled ? 'office.status.disabled' : a.mustChangePin ? 'office.status.pin_to_change' : 'office.status.active'))),
            el(
              'td',
              { class: 'actions' },
              a.id === office.me?.id
                ? null
                : el(
                    'button',
                    {
                      type: 'button',
                      class: `btn small ${a.disabled ? 'secondary' : 'danger'}`,
                      onclick: () => void act(a, a.disabled ? 'enable' : 'disable'),
                    },
                    bi(w(a.disabled ? 'office.enable' : 'office.disable')),
                  ),
              el('button', { type: 'button', class: 'btn small secondary', onclick: () => void act(a, 'reset-pin') }, bi(w('office.reset_pin'))),
            ),
          ),
        ),
      ),
    ),
    form,
  );
}

// ------------------------------------------------------------------------------------------------
// Document catalogue (administrators)
// ------------------------------------------------------------------------------------------------

/** @param {Service | null} editing  null: the form adds a new document type */
function renderServices(editing = null, /** @type {Words | null} */ done = null) {
  if (office.me?.role !== 'admin') return;
  const view = $('#view-services', HTMLElement);
  const s = editing;
  const err = el('p', { class: 'error', role: 'alert' });
  /** @param {string} id @param {Words} label @param {boolean} checked */
  const check = (id, label, checked) => el('label', { class: 'check', for: id }, el('input', { type: 'checkbox', id, checked }), ' ', bi(label));
  const form = el(
    'form',
    { class: 'filters service-form', novalidate: true, 'aria-labelledby': 'service-form-title' },
    el('h3', { id: 'service-form-title' }, bi(s ? sayEach('office.edit_service', {}, { name: [s.nameZh, s.nameEn] }) : w('office.add_service'))),
    field(
      'svc-code',
      w('office.code_label'),
      el('input', { maxlength: 40, value: s?.code ?? '', readonly: !!s, autocomplete: 'off', spellcheck: 'false' }),
    ),
    field('svc-nameZh', w('office.name_zh'), el('input', { maxlength: 40, value: s?.nameZh ?? '' })),
    field('svc-nameEn', w('office.name_en'), el('input', { maxlength: 80, value: s?.nameEn ?? '' })),
    el(
      'fieldset',
      {},
      el('legend', {}, bi(w('office.must_give'))),
      check('svc-id', w('office.needs_id'), s?.needs.idNumber ?? true),
      check('svc-address', w('office.needs_address'), s?.needs.address ?? true),
      check('svc-materials', w('office.needs_materials'), s?.needsMaterials ?? false),
    ),
    check('svc-enabled', w('office.service_enabled'), s?.enabled ?? true),
    field('svc-sort', w('office.sort_label'), el('input', { type: 'number', value: s?.sortOrder ?? 100, min: -100000, max: 100000 })),
    el(
      'div',
      { class: 'actions' },
      el('button', { type: 'submit', class: 'btn primary' }, bi(w('office.save'))),
      s ? el('button', { type: 'button', class: 'btn secondary', onclick: () => renderServices(null) }, bi(w('office.cancel'))) : null,
    ),
    err,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const code = $('#svc-code', HTMLInputElement, form).value.trim();
    const checked = (/** @type {string} */ id) => $(`#${id}`, HTMLInputElement, form).checked;
    const body = {
      nameZh: $('#svc-nameZh', HTMLInputElement, form).value.trim(),
      nameEn: $('#svc-nameEn', HTMLInputElement, form).value.trim(),
      needs: { idNumber: checked('svc-id'), address: checked('svc-address') },
      needsMaterials: checked('svc-materials'),
      enabled: checked('svc-enabled'),
      sortOrder: Number($('#svc-sort', HTMLInputElement, form).value || 0),
    };
    if (!/^[a-z][a-z0-9_]{0,39}$/.test(code)) return say(err, 'error', w('office.code_format'));
    if (!body.nameZh || !body.nameEn) return say(err, 'error', w('office.both_names'));
    try {
      /** @type {{ service: Service }} */
      const r = await api('PUT', `/api/staff/services/${encodeURIComponent(code)}`, body);
      await loadServices();
      renderServices(null, sayEach('office.saved_service', {}, { name: [r.service.nameZh, r.service.nameEn] }));
    } catch (x) {
      say(err, 'error', errorWords(x));
    }
  });
  /** @param {boolean} b */
  const yes = (b) => (b ? '✓' : '—');
  view.replaceChildren(
    el('h2', { id: 'services-title' }, bi(w('office.services_title'))),
    el('div', { role: 'status' }, done ? el('p', { class: 'notice ok' }, ...bi(done)) : null),
    el(
      'table',
      { class: 'list' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ['office.col.document', 'office.col.code', 'office.col.id', 'office.col.address', 'office.col.materials', 'office.col.enabled', ''].map(th),
        ),
      ),
      el(
        'tbody',
        {},
        office.services.map((x) =>
          el(
            'tr',
            { 'data-code': x.code, class: x.enabled ? '' : 'is-disabled' },
            el('td', {}, x.nameZh, ' ', en(x.nameEn)),
            el('td', {}, x.code),
            el('td', {}, yes(x.needs.idNumber)),
            el('td', {}, yes(x.needs.address)),
            el('td', {}, yes(x.needsMaterials)),
            el('td', {}, bi(w(x.enabled ? 'office.service_on' : 'office.service_off'))),
            el('td', {}, el('button', { type: 'button', class: 'btn small secondary', onclick: () => renderServices(x) }, bi(w('office.edit')))),
          ),
        ),
      ),
    ),
    form,
  );
  if (s) $('#svc-nameZh', HTMLInputElement, form).focus();
}
