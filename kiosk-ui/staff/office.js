// The office: the request history with filters and search (a request's history read as sentences), the audit log,
// statistics drawn as charts, CSV exports, and for administrators the staff accounts and the document catalogue.
// Each view is a tab of the console (index.html); the desk (queue, compartments, alarms) stays in staff.js.
//
// Charts are drawn here as plain SVG: a few bar charts need no library, no build step and nothing more to serve
// or keep up to date, and their labels and values are real text a screen reader (and a test) can read.
import { $ } from '../shared/elements.js';
import { api, ApiError, errorAnswerWords, errorWords as apiErrorWords, loadSession } from './api.js';
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
    banner.replaceChildren(...r.warnings.map((w) => el('p', {}, el('strong', {}, '设置提醒：'), w.zh, ' ', en(`Setup: ${w.en}`))));
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
  say(out, 'ok', ['正在导出…', 'Exporting…']);
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
    say(out, 'ok', [`已导出 ${name}`, `Exported ${name}`]);
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
    field(`${prefix}-from`, ['从', 'From'], from),
    field(`${prefix}-to`, ['到', 'To'], to),
    el(
      'div',
      { class: 'quick' },
      el('button', { type: 'button', class: 'btn secondary small', onclick: pick(r.lastMonth) }, '上个月 ', en('Last month')),
      el('button', { type: 'button', class: 'btn secondary small', onclick: pick(r.thisMonth) }, '本月 ', en('This month')),
      el('button', { type: 'button', class: 'btn secondary small', onclick: pick(r.week) }, '最近 7 天 ', en('Last 7 days')),
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
    ['', ['全部', 'All']],
    ['open', ['未办结', 'Open']],
    ['finished', ['已办结', 'Finished']],
    ...REQUEST_STATES.map((st) => /** @type {[string, Words]} */ ([st, stateWords(st)])),
  ]);
  const out = el('p', { class: 'note', role: 'status' });
  const form = el(
    'form',
    { class: 'filters', role: 'search', novalidate: true },
    field(
      'hist-state',
      ['状态', 'State'],
      el(
        'select',
        {},
        states.map(([v, w]) => option(v, w, q.get('state') ?? '')),
      ),
    ),
    field(
      'hist-service',
      ['证明', 'Document'],
      el(
        'select',
        {},
        option('', ['全部', 'All'], q.get('service') ?? ''),
        office.services.map((s) => option(s.code, [s.nameZh, s.nameEn], q.get('service') ?? '')),
      ),
    ),
    dateFields('hist', q, () => form.requestSubmit()),
    field(
      'hist-q',
      ['编号、姓名或手机号', 'Number, name or mobile'],
      el('input', { type: 'search', maxlength: 40, value: q.get('q') ?? '', autocomplete: 'off' }),
    ),
    el(
      'div',
      { class: 'actions' },
      el('button', { type: 'submit', class: 'btn primary' }, '查找 ', en('Find')),
      el('button', { type: 'button', class: 'btn secondary', onclick: () => exportRequests() }, '导出 CSV ', en('Export CSV')),
      office.me?.role === 'admin'
        ? el(
            'label',
            { class: 'check' },
            el('input', { type: 'checkbox', id: 'hist-unmasked' }),
            ' 导出完整姓名和手机号 ',
            en('Export full names and mobiles'),
          )
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
    if (!query.get('from') || !query.get('to')) return say(out, 'error', ['请先选择开始和结束日期', 'Choose a start and an end date first']);
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
              ['编号', 'Number'],
              ['证明', 'Document'],
              ['居民', 'Resident'],
              ['手机', 'Mobile'],
              ['状态', 'State'],
              ['提交', 'Submitted'],
              ['结束', 'Ended'],
            ].map(([zh, e]) => el('th', { scope: 'col' }, zh, ' ', en(e))),
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
    el('h2', { id: 'history-title' }, '申请记录 ', en('Request history')),
    form,
    el(
      'p',
      { id: 'history-count', class: 'note' },
      h.rows.length ? `找到 ${h.rows.length} 件${h.next ? '（还有更多）' : ''}` : '',
      h.rows.length ? en(` ${h.rows.length} found${h.next ? ' (more below)' : ''}`) : null,
    ),
    el(
      'div',
      { class: `history-columns${h.open ? ' has-story' : ''}` },
      el(
        'div',
        {},
        table,
        h.next ? el('button', { type: 'button', class: 'btn secondary', onclick: () => void findHistory(true, out) }, '更多 ', en('More')) : null,
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
    if (!h.rows.length) say($('#history-count', HTMLElement), 'ok', ['没有找到符合条件的申请', 'No request matches']);
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
    el('p', {}, `${r.residentName}，${r.mobileMasked}。现在：${st[0]}`, ' ', en(`Now: ${st[1]}`)),
    rows === null
      ? el('p', { class: 'note' }, '正在读取… ', en('Loading…'))
      : el(
          'ol',
          { class: 'sentences' },
          rows.map((e) => {
            const s = historySentence(e, office.me);
            return el('li', {}, el('time', { datetime: e.at }, when(e.at)), ' ', el('span', { class: 'zh' }, `${s[0]}。`), ' ', en(`${s[1]}.`));
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
          ['哪位工作人员', 'Which staff member'],
          el(
            'select',
            {},
            option('', ['全部', 'All'], q.get('staff') ?? ''),
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
      ['做了什么', 'What'],
      el(
        'select',
        {},
        option('', ['全部', 'All'], q.get('action') ?? ''),
        auditFamilies().map(([v, w]) => option(v, w, q.get('action') ?? '')),
      ),
    ),
    field(
      'audit-actorKind',
      ['谁', 'Who'],
      el(
        'select',
        {},
        option('', ['全部', 'All'], q.get('actorKind') ?? ''),
        Object.entries(ACTOR_KIND_WORDS).map(([v, w]) => option(v, w, q.get('actorKind') ?? '')),
      ),
    ),
    staffChoice,
    field(
      'audit-compartment',
      ['柜门号', 'Door no.'],
      el('input', { type: 'number', min: 1, max: 999, inputmode: 'numeric', value: q.get('compartment') ?? '' }),
    ),
    field(
      'audit-q',
      ['申请编号或关键词', 'Request number or a word'],
      el('input', { type: 'search', maxlength: 60, value: q.get('q') ?? '', autocomplete: 'off' }),
    ),
    el(
      'div',
      { class: 'actions' },
      el('button', { type: 'submit', class: 'btn primary' }, '查找 ', en('Find')),
      el('button', { type: 'button', class: 'btn secondary', onclick: () => exportAudit() }, '导出 CSV ', en('Export CSV')),
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
    if (!query.get('from') || !query.get('to')) return say(out, 'error', ['请先选择开始和结束日期', 'Choose a start and an end date first']);
    void downloadCsv('/api/staff/export/audit.csv', query, out);
  };
  view.replaceChildren(
    ...present(
      el('h2', { id: 'auditlog-title' }, '操作记录 ', en('Audit log')),
      form,
      a.rows.length
        ? el(
            'table',
            { class: 'list audit' },
            el(
              'thead',
              {},
              el(
                'tr',
                {},
                [
                  ['时间', 'Time'],
                  ['发生了什么', 'What happened'],
                  ['柜门', 'Door'],
                  ['申请', 'Request'],
                ].map(([zh, e]) => el('th', { scope: 'col' }, zh, ' ', en(e))),
              ),
            ),
            el(
              'tbody',
              {},
              a.rows.map((e) => {
                const s = historySentence(e, office.me);
                return el(
                  'tr',
                  {},
                  el('td', { class: 'nowrap' }, when(e.at)),
                  el('td', {}, `${s[0]}。`, ' ', en(`${s[1]}.`)),
                  el('td', {}, e.compartmentNo ?? ''),
                  el('td', { class: 'nowrap' }, e.requestNumber ?? ''),
                );
              }),
            ),
          )
        : null,
      a.next ? el('button', { type: 'button', class: 'btn secondary', onclick: () => void findAudit(true, out) }, '更多 ', en('More')) : null,
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
    if (!a.rows.length) say($('#view-audit .filters .note', HTMLElement), 'ok', ['没有符合条件的记录', 'Nothing matches']);
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
    el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'btn primary' }, '统计 ', en('Show'))),
    out,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void loadStats(readForm(form, 'stats', ['from', 'to']), charts, out);
  });
  view.replaceChildren(el('h2', { id: 'stats-title' }, '统计 ', en('Statistics')), form, charts);
  void loadStats(q, charts, out);
}

/** @param {URLSearchParams} q @param {HTMLElement} charts @param {HTMLElement} out */
async function loadStats(q, charts, out) {
  try {
    /** @type {Statistics} */
    const s = await api('GET', `/api/staff/statistics?${q}`);
    out.replaceChildren(...bi([`${s.from} 至 ${s.to}`, `${s.from} to ${s.to}`]));
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
  const w = s.waitToCollect;
  const hours = (/** @type {number | null} */ x) => (x === null ? '—' : x < 48 ? `${x} 小时` : `${Math.round((x / 24) * 10) / 10} 天`);
  const hoursEn = (/** @type {number | null} */ x) => (x === null ? '—' : x < 48 ? `${x} h` : `${Math.round((x / 24) * 10) / 10} days`);
  return [
    figure(
      'chart-per-day',
      ['每天的申请', 'Requests per day'],
      el('p', { class: 'sum' }, `共 ${total} 件`, ' ', en(`${total} in all`)),
      columnChart(
        s.perDay.map((d) => ({ label: d.day.slice(5), value: d.count })),
        `每天的申请 Requests per day, ${s.from}–${s.to}`,
      ),
    ),
    figure(
      'chart-per-service',
      ['各类证明', 'By document type'],
      null,
      s.perService.length
        ? barChart(
            s.perService.map((x) => ({ label: x.nameZh, value: x.count })),
            '各类证明 Requests by document type',
          )
        : el('p', { class: 'note' }, '没有申请 ', en('No requests')),
    ),
    figure(
      'chart-wait',
      ['放入柜中到居民取走', 'From the cabinet to collection'],
      el(
        'p',
        { class: 'sum' },
        `取走 ${w.count} 件，一半在 ${hours(w.medianHours)} 内取走，九成在 ${hours(w.p90Hours)} 内`,
        ' ',
        en(`${w.count} collected; half within ${hoursEn(w.medianHours)}, 90 % within ${hoursEn(w.p90Hours)}`),
      ),
      barChart(
        w.buckets.map((b) => ({ label: waitBucketWords(b.upToHours)[0], value: b.count })),
        '放入柜中到取走的时间 Time to collection',
      ),
    ),
    figure(
      'chart-overdue',
      ['逾期未取', 'Overdue'],
      el(
        'p',
        { class: 'sum' },
        `这段时间逾期 ${s.overdue.inRange} 件，现在逾期未取 ${s.overdue.now} 件`,
        ' ',
        en(`${s.overdue.inRange} became overdue in this period; ${s.overdue.now} overdue now`),
      ),
      s.overdue.perDay.length
        ? columnChart(
            s.overdue.perDay.map((d) => ({ label: d.day.slice(5), value: d.count })),
            '每天逾期 Overdue per day',
            600,
          )
        : el('span'),
    ),
    figure(
      'chart-faults',
      ['柜门故障（按柜门）', 'Door faults by compartment'],
      el(
        'p',
        { class: 'sum' },
        `共 ${s.doorFaults.reduce((n, f) => n + f.count, 0)} 次`,
        ' ',
        en(`${s.doorFaults.reduce((n, f) => n + f.count, 0)} in all`),
      ),
      s.doorFaults.length
        ? barChart(
            s.doorFaults.map((f) => ({ label: `${f.compartment} 号柜门`, value: f.count })),
            '柜门故障 Door faults',
          )
        : el('p', { class: 'note' }, '没有故障 ', en('No faults')),
    ),
    figure(
      'chart-months',
      ['每月办结', 'Requests ended per month'],
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
              ['月份', 'Month'],
              ['已取走', 'Collected'],
              ['已取回', 'Taken back'],
              ['不予办理', 'Rejected'],
              ['已取消', 'Cancelled'],
              ['合计', 'Total'],
            ].map(([zh, e]) => el('th', { scope: 'col' }, zh, ' ', en(e))),
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
            ? el(
                'p',
                { class: 'pin' },
                'PIN：',
                el('strong', { 'data-pin': notice.pin }, notice.pin),
                ' ',
                en('shown only this once: give it to them; they change it at first sign-in'),
              )
            : null,
        )
      : null,
  );
  const err = el('p', { class: 'error', role: 'alert' });
  const form = el(
    'form',
    { class: 'filters', novalidate: true, 'aria-labelledby': 'account-add-title' },
    el('h3', { id: 'account-add-title' }, '添加工作人员 ', en('Add a staff member')),
    field(
      'acc-login',
      ['账号（小写字母或数字）', 'Login (lower-case letters or digits)'],
      el('input', { maxlength: 32, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' }),
    ),
    field('acc-name', ['姓名', 'Name'], el('input', { maxlength: 30, autocomplete: 'off' })),
    field(
      'acc-role',
      ['角色', 'Role'],
      el('select', {}, option('staff', ['工作人员', 'Staff'], 'staff'), option('admin', ['管理员', 'Administrator'], 'staff')),
    ),
    el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'btn primary' }, '添加 ', en('Add'))),
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
        words: [`已添加 ${r.account.name}（${r.account.login}）`, `${r.account.name} (${r.account.login}) added`],
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
        renderAccounts({ tone: 'ok', words: [`${a.name} 的 PIN 已重置`, `${a.name}'s PIN was reset`], pin: r.pin });
      } else {
        /** @type {AccountAnswer} */
        const r = await api('POST', `/api/staff/accounts/${a.id}/${op}`);
        await loadAccounts();
        renderAccounts({
          tone: 'ok',
          words: r.account.disabled ? [`已停用 ${a.name}`, `${a.name} disabled`] : [`已启用 ${a.name}`, `${a.name} enabled`],
        });
      }
    } catch (x) {
      renderAccounts({ tone: 'error', words: errorWords(x) });
    }
  };
  view.replaceChildren(
    el('h2', { id: 'accounts-title' }, '工作人员账号 ', en('Staff accounts')),
    out,
    el(
      'table',
      { class: 'list' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          [
            ['姓名', 'Name'],
            ['账号', 'Login'],
            ['角色', 'Role'],
            ['状态', 'Status'],
            ['操作', 'Actions'],
          ].map(([zh, e]) => el('th', { scope: 'col' }, zh, ' ', en(e))),
        ),
      ),
      el(
        'tbody',
        {},
        office.accounts.map((a) =>
          el(
            'tr',
            { 'data-login': a.login },
            el('td', {}, a.name),
            el('td', {}, a.login),
            el('td', {}, a.role === 'admin' ? '管理员' : '工作人员', ' ', en(a.role === 'admin' ? 'Administrator' : 'Staff')),
            el(
              'td',
              {},
              a.disabled ? '已停用' : a.mustChangePin ? '待改 PIN' : '正常',
              ' ',
              en(a.disabled ? 'Disabled' : a.mustChangePin ? 'PIN to change' : 'Active'),
            ),
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
                    a.disabled ? '启用 ' : '停用 ',
                    en(a.disabled ? 'Enable' : 'Disable'),
                  ),
              el('button', { type: 'button', class: 'btn small secondary', onclick: () => void act(a, 'reset-pin') }, '重置 PIN ', en('Reset PIN')),
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
  const check = (id, label, checked) =>
    el('label', { class: 'check', for: id }, el('input', { type: 'checkbox', id, checked }), ` ${label[0]} `, en(label[1]));
  const form = el(
    'form',
    { class: 'filters service-form', novalidate: true, 'aria-labelledby': 'service-form-title' },
    el('h3', { id: 'service-form-title' }, s ? `修改 ${s.nameZh}` : '添加证明', ' ', en(s ? `Edit ${s.nameEn}` : 'Add a document type')),
    field(
      'svc-code',
      ['代码（小写字母开头）', 'Code (starts with a lower-case letter)'],
      el('input', { maxlength: 40, value: s?.code ?? '', readonly: !!s, autocomplete: 'off', spellcheck: 'false' }),
    ),
    field('svc-nameZh', ['中文名称', 'Chinese name'], el('input', { maxlength: 40, value: s?.nameZh ?? '' })),
    field('svc-nameEn', ['英文名称', 'English name'], el('input', { maxlength: 80, value: s?.nameEn ?? '' })),
    el(
      'fieldset',
      {},
      el('legend', {}, '居民需要提供 ', en('The resident must give')),
      check('svc-id', ['身份证号', 'ID number'], s?.needs.idNumber ?? true),
      check('svc-address', ['住址', 'Address'], s?.needs.address ?? true),
      check('svc-materials', ['先到柜子交材料', 'Materials at the cabinet first'], s?.needsMaterials ?? false),
    ),
    check('svc-enabled', ['居民可以申请', 'Residents can ask for it'], s?.enabled ?? true),
    field(
      'svc-sort',
      ['排序（小的在前）', 'Order (smaller first)'],
      el('input', { type: 'number', value: s?.sortOrder ?? 100, min: -100000, max: 100000 }),
    ),
    el(
      'div',
      { class: 'actions' },
      el('button', { type: 'submit', class: 'btn primary' }, '保存 ', en('Save')),
      s ? el('button', { type: 'button', class: 'btn secondary', onclick: () => renderServices(null) }, '取消 ', en('Cancel')) : null,
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
    if (!/^[a-z][a-z0-9_]{0,39}$/.test(code))
      return say(err, 'error', ['代码应为小写字母开头的字母、数字或下划线', 'The code must be lower-case letters, digits or _']);
    if (!body.nameZh || !body.nameEn) return say(err, 'error', ['请填写中文和英文名称', 'Give both names']);
    try {
      /** @type {{ service: Service }} */
      const r = await api('PUT', `/api/staff/services/${encodeURIComponent(code)}`, body);
      await loadServices();
      renderServices(null, [`已保存 ${r.service.nameZh}`, `${r.service.nameEn} saved`]);
    } catch (x) {
      say(err, 'error', errorWords(x));
    }
  });
  /** @param {boolean} b */
  const yes = (b) => (b ? '✓' : '—');
  view.replaceChildren(
    el('h2', { id: 'services-title' }, '证明目录 ', en('Document catalogue')),
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
          [
            ['证明', 'Document'],
            ['代码', 'Code'],
            ['身份证号', 'ID'],
            ['住址', 'Address'],
            ['交材料', 'Materials'],
            ['可申请', 'Enabled'],
            ['', ''],
          ].map(([zh, e]) => el('th', { scope: 'col' }, zh, ' ', en(e))),
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
            el('td', {}, x.enabled ? '可申请' : '已停用', ' ', en(x.enabled ? 'Yes' : 'Disabled')),
            el('td', {}, el('button', { type: 'button', class: 'btn small secondary', onclick: () => renderServices(x) }, '修改 ', en('Edit'))),
          ),
        ),
      ),
    ),
    form,
  );
  if (s) $('#svc-nameZh', HTMLInputElement, form).focus();
}
