// Cabinet simulator panel: live view over /ws, commands through the HTTP API. No build step.
'use strict';

/**
 * What the panel reads, as sim/panel/server.ts sends it (PanelMessage, and CabinetSnapshot in sim/cabinet.ts): only
 * the fields the panel uses. Keep them in step when those change.
 *
 * @typedef {{
 *   n: number, addr: number, channel: number, doorOpen: boolean, item: boolean, doorLevel: 'C' | 'O',
 *   lockReleased: boolean, led: 'OFF' | 'ON' | 'BLINK', unlocks: number,
 *   jammed: boolean, stuckSensor: 'C' | 'O' | null, coilFault: 'NONE' | 'COIL_OPEN' | 'COIL_SHORT',
 * }} SimCompartment
 * @typedef {{ addr: number, firmware: string, eventCounter: number, boots: number, online: boolean }} SimBoard
 * @typedef {{
 *   dropToBoard: number, dropToController: number, corruptToBoard: number, corruptToController: number,
 *   delayMs: number, pacing: boolean,
 * }} SimLinkFaults
 * @typedef {{
 *   framesReceived: number, repliesSent: number, eventsSent: number, naksSent: number, badCrc: number,
 *   undecodable: number, notForMe: number, duplicates: number, overlongLines: number, ignoredWhileDisconnected: number,
 *   unlocksExecuted: Record<number, number>,
 *   dropped: { toBoard: number, toController: number }, corrupted: { toBoard: number, toController: number },
 * }} SimCounters
 * @typedef {{
 *   layout: { text: string }, polarity: string, baudRate: number, springMs: number, autoCloseMs: number | null,
 *   connected: boolean, disconnectMode: 'drop' | 'silent' | null, faults: SimLinkFaults,
 *   boards: SimBoard[], compartments: SimCompartment[],
 *   links: { id: string, kind: string, description: string }[],
 *   endpoints: { role: string, address: string, connected: boolean, error?: string }[],
 *   counters: SimCounters,
 * }} SimSnapshot
 * @typedef {{ at: number, dir: 'in' | 'out', link: string, text: string, fate: string, note?: string }} SimFrame
 * @typedef {{ type: 'snapshot', state: SimSnapshot, frames: SimFrame[] }
 *   | { type: 'state', state: SimSnapshot }
 *   | { type: 'frames', frames: SimFrame[], skipped: number }
 *   | { type: 'scan', text: string }} PanelMessage
 */

(function () {
  /**
   * The panel's element for `sel`, which must be a `type`; a missing one is an error that names it.
   * @template {Element} T
   * @param {string} sel
   * @param {{ new (): T, prototype: T }} type
   * @returns {T}
   */
  function $(sel, type) {
    const found = document.querySelector(sel);
    if (!found) throw new Error(`panel element ${sel} is missing`);
    if (!(found instanceof type)) throw new Error(`panel element ${sel} is a <${found.tagName.toLowerCase()}>, not the ${type.name} expected`);
    return found;
  }
  /** @type {SimSnapshot | null} */
  let state = null;
  /** @type {number | null} */
  let selected = null;
  const LOG_MAX = 500;

  /**
   * @template {keyof HTMLElementTagNameMap} K
   * @param {K} tag
   * @param {Record<string, string | ((ev: Event) => void)> | null} attrs  on* keys are listeners
   * @param {...(Node | string | number | null | undefined)} children
   * @returns {HTMLElementTagNameMap[K]}
   */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class' && typeof v === 'string') e.className = v;
      else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, String(v));
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
    return e;
  }
  /**
   * @param {string} zh
   * @param {string} en
   */
  const bi = (zh, en) => [zh + ' ', el('span', { class: 'en' }, en)];

  // ---- API ----------------------------------------------------------------------------------
  /**
   * POST a command; the answer's `state` (when there is one) is drawn. Failures are shown and answer null.
   * @param {string} path
   * @param {object} [body]
   * @returns {Promise<{ state?: SimSnapshot, delivered?: number } | null>}
   */
  async function api(path, body) {
    try {
      const res = await fetch(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body || {}),
      });
      /** @type {{ error?: { code?: string, message?: string }, state?: SimSnapshot, delivered?: number }} the panel API's answer */
      const json = await res.json().catch(() => ({}));
      if (!res.ok) {
        const err = json.error || {};
        toast(`操作失败 Failed: ${err.message || res.status}${err.code ? ` (${err.code})` : ''}`);
        return null;
      }
      if (json.state) render(json.state);
      return json;
    } catch (e) {
      toast('无法连接模拟器 Cannot reach the simulator: ' + (e instanceof Error ? e.message : String(e)));
      return null;
    }
  }

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let toastTimer;
  /**
   * @param {string} text
   * @param {boolean} [info]  news, not a failure
   */
  function toast(text, info) {
    const t = $('#toast', HTMLElement);
    t.textContent = text;
    t.className = info ? 'info' : '';
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (t.hidden = true), 4000);
  }

  // ---- rendering ----------------------------------------------------------------------------
  /** @param {SimSnapshot} s */
  function render(s) {
    state = s;
    $('#summary', HTMLElement).textContent =
      `布局 layout ${s.layout.text} · 门磁 polarity ${s.polarity.toUpperCase()} · ${s.baudRate} Bd · ` +
      `弹开 spring ${s.springMs} ms · 自动关门 auto-close ${s.autoCloseMs === null ? '关 off' : s.autoCloseMs + ' ms'}`;
    renderBoards(s);
    renderDetail();
    renderWire(s);
    renderLinks(s);
    renderCounters(s.counters);
  }

  /** @param {SimSnapshot} s */
  function renderBoards(s) {
    const root = $('#boards', HTMLElement);
    root.replaceChildren();
    for (const b of s.boards) {
      const cells = el('div', { class: 'cells' });
      for (const c of s.compartments.filter((x) => x.addr === b.addr)) cells.append(cell(c));
      root.append(
        el(
          'div',
          { class: 'board' + (b.online ? '' : ' offline') },
          el(
            'h3',
            {},
            ...bi(`板 ${b.addr}`, `board ${b.addr}`),
            el(
              'span',
              { class: 'muted' },
              `${b.firmware} · 事件计数 event# ${b.eventCounter} · 启动 boots ${b.boots}${b.online ? '' : ' · 重启中 rebooting'}`,
            ),
            el('button', { onclick: () => api(`/api/boards/${b.addr}/reboot`, {}) }, ...bi('重启', 'Reboot')),
          ),
          cells,
        ),
      );
    }
  }

  /** @param {SimCompartment} c */
  function cell(c) {
    const fault = c.jammed || c.stuckSensor || c.coilFault !== 'NONE';
    const badges = el('div', { class: 'badges' });
    if (c.lockReleased) badges.append(el('span', { class: 'badge info' }, '开锁中 unlocking'));
    if (c.jammed) badges.append(el('span', { class: 'badge' }, '锁卡 jammed'));
    if (c.stuckSensor) badges.append(el('span', { class: 'badge' }, `门磁卡 stuck ${c.stuckSensor}`));
    if (c.coilFault !== 'NONE') badges.append(el('span', { class: 'badge' }, `线圈 ${c.coilFault}`));
    const ledMark = { OFF: '○', ON: '●', BLINK: '●' }[c.led];
    /** @param {() => void} fn */
    const stop = (fn) => (/** @type {Event} */ ev) => {
      ev.stopPropagation();
      fn();
    };
    // a group, not a button: it holds buttons of its own (no interactive control inside another); its number selects it
    return el(
      'div',
      {
        class: 'cell' + (c.doorOpen ? ' open' : '') + (fault ? ' fault' : '') + (selected === c.n ? ' selected' : ''),
        role: 'group',
        'aria-label': `格口 ${c.n} ${c.doorOpen ? '门开' : '门关'} ${c.item ? '有件' : '空'}`,
        onclick: () => select(c.n),
      },
      el('span', { class: 'led ' + c.led, title: 'LED ' + c.led }, ledMark),
      el('button', { class: 'num', 'aria-pressed': String(selected === c.n), title: '选择 select', onclick: stop(() => select(c.n)) }, c.n),
      el('div', { class: 'where', title: 'board · channel · raw door-switch level' }, `板${c.addr}·通道${c.channel}·读数${c.doorLevel}`),
      el('div', { class: 'state' }, c.doorOpen ? '门开 open' : '门关 closed', ' · ', c.item ? '有件 item' : '空 empty'),
      badges,
      el(
        'div',
        { class: 'quick' },
        el('button', { onclick: stop(() => api(`/api/compartments/${c.n}/${c.doorOpen ? 'close' : 'open'}`)) }, c.doorOpen ? '关 close' : '开 open'),
        c.doorOpen
          ? el('button', { onclick: stop(() => api(`/api/compartments/${c.n}/${c.item ? 'take' : 'put'}`)) }, c.item ? '取 take' : '放 put')
          : null,
      ),
    );
  }

  /** @param {number} n */
  function select(n) {
    selected = n;
    if (state) render(state);
  }

  function renderDetail() {
    const c = state && selected ? state.compartments.find((x) => x.n === selected) : null;
    $('#sel-n', HTMLElement).textContent = c ? String(c.n) : '—';
    $('#sel-info', HTMLElement).textContent = c
      ? `板 board ${c.addr} · 通道 channel ${c.channel} · 门 door ${c.doorOpen ? '开 open' : '关 closed'} (读数 level ${c.doorLevel}) · ` +
        `${c.item ? '有件 item' : '空 empty'} · LED ${c.led} · 开锁次数 unlocks ${c.unlocks}`
      : '未选择 nothing selected';
    for (const b of document.querySelectorAll('#detail button, #detail input, #detail select')) {
      if (b instanceof HTMLButtonElement || b instanceof HTMLInputElement || b instanceof HTMLSelectElement) b.disabled = !c;
    }
    if (!c) return;
    $('#f-jammed', HTMLInputElement).checked = c.jammed;
    $('#f-stuck', HTMLSelectElement).value = c.stuckSensor || '';
    $('#f-coil', HTMLSelectElement).value = c.coilFault;
  }

  const pct = (/** @type {number} */ x) => String(Math.round(x * 1000) / 10);
  /** @param {SimSnapshot} s */
  function renderWire(s) {
    const f = s.faults;
    /**
     * @param {string} id
     * @param {string} v
     */
    const set = (id, v) => {
      const e = $(id, HTMLInputElement);
      if (document.activeElement !== e) e.value = v;
    };
    set('#w-drop-in', pct(f.dropToBoard));
    set('#w-drop-out', pct(f.dropToController));
    set('#w-cor-in', pct(f.corruptToBoard));
    set('#w-cor-out', pct(f.corruptToController));
    set('#w-delay', String(f.delayMs));
    $('#w-pacing', HTMLInputElement).checked = f.pacing;
  }

  /** @param {SimSnapshot} s */
  function renderLinks(s) {
    const conn = $('#conn', HTMLElement);
    conn.replaceChildren(
      ...(s.connected
        ? bi('已连接', 'connected')
        : bi(s.disconnectMode === 'silent' ? '静默' : '已断开', s.disconnectMode === 'silent' ? 'silent' : 'disconnected')),
    );
    conn.className = 'pill ' + (s.connected ? 'up' : 'down');
    const lines = [];
    for (const e of s.endpoints) {
      lines.push(
        `${e.role === 'bus' ? '总线 bus' : '扫码 scanner'} ${e.address}: ${e.connected ? '已连 connected' : '等待 waiting'}${e.error ? ' — ' + e.error : ''}`,
      );
    }
    for (const l of s.links.filter((x) => x.kind === 'inprocess')) lines.push(`总线 bus ${l.id}: ${l.description}`);
    $('#links', HTMLElement).replaceChildren(...lines.map((t) => el('div', {}, t)));
    if (lines.length === 0) $('#links', HTMLElement).textContent = '无连接 no links';
  }

  /** @type {[keyof SimCounters, string, string][]} */
  const COUNTER_LABELS = [
    ['framesReceived', '收到帧', 'frames received'],
    ['repliesSent', '应答', 'replies'],
    ['eventsSent', '事件', 'events'],
    ['naksSent', '拒绝 NAK', 'NAKs sent'],
    ['badCrc', '校验错', 'bad CRC'],
    ['undecodable', '无法解析', 'undecodable'],
    ['notForMe', '非本板', 'not for me'],
    ['duplicates', '重复开锁', 'duplicate unlocks'],
    ['overlongLines', '超长行', 'over-long lines'],
    ['ignoredWhileDisconnected', '断开时忽略', 'ignored (disconnected)'],
  ];
  /** @param {SimCounters} c */
  function renderCounters(c) {
    const total = Object.values(c.unlocksExecuted).reduce((a, b) => a + b, 0);
    /** @type {[string, string, string | number][]} */
    const rows = COUNTER_LABELS.map(([k, zh, en]) => {
      const v = c[k];
      return [zh, en, typeof v === 'number' ? v : String(v)];
    });
    rows.push(['开锁执行', 'unlocks executed', total]);
    rows.push(['丢帧 →板/→主机', 'dropped in/out', `${c.dropped.toBoard} / ${c.dropped.toController}`]);
    rows.push(['误码 →板/→主机', 'corrupted in/out', `${c.corrupted.toBoard} / ${c.corrupted.toController}`]);
    $('#counters', HTMLTableElement).replaceChildren(...rows.map(([zh, en, v]) => el('tr', {}, el('td', {}, ...bi(zh, en)), el('td', {}, v))));
  }

  // ---- frame log ----------------------------------------------------------------------------
  const BAD = new Set(['dropped', 'corrupted', 'bad-crc', 'undecodable', 'nak', 'ignored', 'unsent']);
  /** @param {readonly SimFrame[]} frames */
  function addFrames(frames) {
    if ($('#log-pause', HTMLInputElement).checked) return;
    const body = $('#log tbody', HTMLTableSectionElement);
    const filter = $('#log-filter', HTMLInputElement).value.trim().toLowerCase();
    for (const f of frames) {
      if (filter && !(f.text + ' ' + f.fate + ' ' + f.link).toLowerCase().includes(filter)) continue;
      const t = new Date(f.at);
      const ts = t.toLocaleTimeString('zh-CN', { hour12: false }) + '.' + String(t.getMilliseconds()).padStart(3, '0');
      body.prepend(
        el(
          'tr',
          { class: f.dir + (BAD.has(f.fate) ? ' bad' : '') },
          el('td', {}, ts),
          el('td', { class: 'dir' }, f.dir === 'in' ? '→板 in' : '←板 out'),
          el('td', {}, f.link),
          el('td', { class: 'fate' }, f.fate),
          el('td', {}, f.text + (f.note ? `   (${f.note})` : '')),
        ),
      );
    }
    while (body.rows.length > LOG_MAX) body.deleteRow(body.rows.length - 1);
  }

  // ---- controls -----------------------------------------------------------------------------
  for (const b of document.querySelectorAll('#detail button[data-act]')) {
    if (!(b instanceof HTMLButtonElement)) continue;
    b.addEventListener('click', () => selected && api(`/api/compartments/${selected}/${b.dataset.act}`));
  }
  /** @param {object} patch  one compartment's faults (sim/config.ts compartmentFaultPatchSchema) */
  const compFault = (patch) => selected && api('/api/faults', { compartments: [{ compartment: selected, ...patch }] });
  const jammedBox = $('#f-jammed', HTMLInputElement);
  const stuckBox = $('#f-stuck', HTMLSelectElement);
  const coilBox = $('#f-coil', HTMLSelectElement);
  jammedBox.addEventListener('change', () => compFault({ jammed: jammedBox.checked }));
  stuckBox.addEventListener('change', () => compFault({ stuckSensor: stuckBox.value || null }));
  coilBox.addEventListener('change', () => compFault({ coilFault: coilBox.value }));

  const frac = (/** @type {string} */ id) => Number($(id, HTMLInputElement).value) / 100;
  const pacingBox = $('#w-pacing', HTMLInputElement);
  $('#w-apply', HTMLButtonElement).addEventListener('click', () =>
    api('/api/faults', {
      dropToBoard: frac('#w-drop-in'),
      dropToController: frac('#w-drop-out'),
      corruptToBoard: frac('#w-cor-in'),
      corruptToController: frac('#w-cor-out'),
      delayMs: Math.round(Number($('#w-delay', HTMLInputElement).value)),
      pacing: pacingBox.checked,
    }),
  );
  pacingBox.addEventListener('change', () => api('/api/faults', { pacing: pacingBox.checked }));
  $('#w-clear', HTMLButtonElement).addEventListener('click', () => api('/api/faults', { clear: true }));
  $('#c-drop', HTMLButtonElement).addEventListener('click', () => api('/api/disconnect', { mode: 'drop' }));
  $('#c-silent', HTMLButtonElement).addEventListener('click', () => api('/api/disconnect', { mode: 'silent' }));
  $('#c-re', HTMLButtonElement).addEventListener('click', () => api('/api/reconnect', {}));
  $('#scan-form', HTMLFormElement).addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = $('#scan-text', HTMLInputElement).value;
    const r = await api('/api/scan', { text });
    if (r) toast(`已扫码 Scanned (送达 ${r.delivered} 个扫码连接 scanner links)`, true);
  });
  $('#log-clear', HTMLButtonElement).addEventListener('click', () => $('#log tbody', HTMLTableSectionElement).replaceChildren());

  // ---- live connection ----------------------------------------------------------------------
  let backoff = 500;
  function connect() {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    ws.onopen = () => {
      backoff = 500;
    };
    ws.onmessage = (ev) => {
      /** @type {PanelMessage} what /ws sends (sim/panel/server.ts) */
      const msg = JSON.parse(ev.data);
      if (msg.type === 'snapshot') {
        $('#log tbody', HTMLTableSectionElement).replaceChildren();
        render(msg.state);
        addFrames(msg.frames);
      } else if (msg.type === 'state') render(msg.state);
      else if (msg.type === 'frames') {
        addFrames(msg.frames);
        if (msg.skipped) addFrames([{ at: Date.now(), dir: 'in', link: '-', text: `… 省略 ${msg.skipped} 帧 skipped`, fate: 'ok' }]);
      } else if (msg.type === 'scan') $('#scan-last', HTMLElement).textContent = '最近扫码 last scan: ' + msg.text;
    };
    ws.onclose = () => {
      const conn = $('#conn', HTMLElement);
      conn.replaceChildren(...bi('面板未连接，重试中', 'panel offline, retrying'));
      conn.className = 'pill down';
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 5000);
    };
  }
  renderDetail();
  connect();
})();
