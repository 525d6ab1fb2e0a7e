// The evenkeel dashboard: one page, no framework, no build step. It logs in once with the admin
// token (traded for an HttpOnly session cookie), then follows GET /api/v1/stream (server-sent
// events: history, sample, status, event) and renders what it says. Everything from the server
// goes into the page as text (textContent), never as HTML.

const WINDOW_MS = 5 * 60_000;
// The page marks a backend by the serving version's guardrails (status.guardrails: skew, and
// nearCapacity = 1 - headroom) even before a monitor fires (a monitor needs a whole window of
// traffic first).
const CSRF = { 'x-evenkeel-csrf': '1' };
const MONITOR_TITLE = { overload: 'OVERLOAD', concentration: 'CONCENTRATION', skew: 'SKEW', 'error-rate': 'ERROR RATE', latency: 'LATENCY', health: 'HEALTH' };

const state = { status: null, points: [], events: new Map(), versions: [], lkg: null, open: new Set(), diffs: new Map(), source: null, shownVersion: null, timers: {} };

const $ = (id) => document.getElementById(id);

/** An element with attributes (`text` sets textContent, `on…` adds a listener) and children. */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = String(v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}

/**
 * Puts `nodes` in `box`, keeping an existing child whose data-key and data-sig match a new one's
 * (and, for a keyed child without a sig, reconciling its keyed children the same way). The
 * dashboard renders every second: a button replaced under the pointer loses the click, so the
 * rollback buttons stay the same element while what they do stays the same.
 */
function reconcile(box, nodes) {
  const old = new Map();
  for (const c of box.children) if (c.dataset.key) old.set(c.dataset.key, c);
  const next = nodes.map((n) => {
    const o = n.dataset?.key ? old.get(n.dataset.key) : undefined;
    if (!o || o.tagName !== n.tagName) return n;
    if (n.dataset.sig !== undefined) return o.dataset.sig === n.dataset.sig ? o : n;
    if (![...n.children].every((c) => c.dataset.key)) return n;
    reconcile(o, [...n.children]);
    for (const a of n.attributes) if (o.getAttribute(a.name) !== a.value) o.setAttribute(a.name, a.value);
    return o;
  });
  if (next.length !== box.children.length || next.some((n, i) => n !== box.children[i])) box.replaceChildren(...next);
}

function svg(tag, attrs = {}, text) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---- formatting ----

function pct(x, digits) {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  const p = x * 100;
  const d = digits ?? (p !== 0 && Math.abs(p) < 10 ? 1 : 0);
  return `${p.toFixed(d)}%`;
}
function num(n) {
  if (n === null || n === undefined) return '–';
  return n < 10 && n !== Math.round(n) ? n.toFixed(1) : Math.round(n).toLocaleString('en-US');
}
function clock(t) {
  const d = new Date(t);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((x) => String(x).padStart(2, '0')).join(':');
}
function ago(t) {
  const s = Math.max(0, Math.round((Date.now() - new Date(t).getTime()) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400 * 2) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}
function when(t) {
  return `${clock(t)} (${ago(t)})`;
}
/** "12:03:04 (5 s ago)" that stays true: the ticker rewrites every [data-when] / [data-ago] element. */
function whenEl(t) {
  return el('span', { 'data-when': new Date(t).toISOString(), text: when(t) });
}
function agoEl(t) {
  return el('span', { 'data-ago': new Date(t).toISOString(), text: ago(t) });
}
function tickTimes() {
  for (const e of document.querySelectorAll('[data-when]')) e.textContent = when(e.dataset.when);
  for (const e of document.querySelectorAll('[data-ago]')) e.textContent = ago(e.dataset.ago);
}

// ---- talking to the admin API ----

/** A JSON call with the session cookie; writes carry the CSRF header. */
async function api(path, { method = 'GET', body } = {}) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') Object.assign(headers, CSRF, { 'content-type': 'application/json' });
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' });
  const data = await res.json().catch(() => null);
  if (res.status === 401) showLogin('Your session has ended: enter the admin token again.');
  if (!res.ok) throw Object.assign(new Error(data?.error ?? `${method} ${path}: HTTP ${res.status}`), { status: res.status });
  return data;
}

async function boot() {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  window.addEventListener('resize', () => drawCharts());
  setInterval(tickTimes, 1000); // "x s ago" stays true between changes
  const s = await fetch('/api/v1/session', { cache: 'no-store', credentials: 'same-origin' }).then((r) => r.json()).catch(() => ({ authenticated: false }));
  if (s.tokenFile) $('token-file').textContent = s.tokenFile;
  if (s.authenticated) start();
  else showLogin();
}

async function login(ev) {
  ev.preventDefault();
  const input = $('token');
  const token = input.value;
  const button = ev.submitter ?? $('login-form').querySelector('button');
  button.disabled = true;
  $('login-error').textContent = '';
  try {
    const res = await fetch('/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }), credentials: 'same-origin' });
    input.value = '';
    if (res.ok) return start();
    const why = await res.json().catch(() => ({}));
    $('login-error').textContent = res.status === 403 ? 'That is not this instance\u2019s admin token.' : why.error ?? `Login failed (HTTP ${res.status}).`;
    input.focus();
  } catch (err) {
    $('login-error').textContent = `Could not reach evenkeel: ${err.message}`;
  } finally {
    button.disabled = false;
  }
}

async function logout() {
  await fetch('/api/v1/session', { method: 'DELETE', headers: CSRF, credentials: 'same-origin' }).catch(() => undefined);
  showLogin('Logged out.');
}

function showLogin(message = '') {
  if (state.source) state.source.close();
  state.source = null;
  $('dash').hidden = true;
  $('logout').hidden = true;
  $('login').hidden = false;
  $('glance').replaceChildren();
  setConn('idle', '');
  $('login-error').textContent = message;
  $('token').focus();
}

function start() {
  $('login').hidden = true;
  $('dash').hidden = false;
  $('logout').hidden = false;
  renderJournal();
  connect();
  loadVersions();
}

function setConn(s, text) {
  $('conn').dataset.state = s;
  $('conn').textContent = text;
}

/** Follows the live stream; the browser reconnects by itself, and after a refusal we check the session. */
function connect() {
  if (state.source) state.source.close();
  const es = new EventSource('/api/v1/stream');
  state.source = es;
  setConn('reconnecting', 'connecting\u2026');
  es.addEventListener('open', () => setConn('live', 'live'));
  es.addEventListener('history', (m) => {
    state.points = JSON.parse(m.data).points;
    drawCharts();
  });
  es.addEventListener('sample', (m) => {
    const p = JSON.parse(m.data);
    const last = state.points[state.points.length - 1];
    if (!last || p.t > last.t) state.points.push(p);
    while (state.points.length && state.points[0].t < p.t - WINDOW_MS) state.points.shift();
    drawCharts();
    if (state.status) renderGlance(state.status);
  });
  es.addEventListener('status', (m) => {
    state.status = JSON.parse(m.data);
    renderStatus();
  });
  es.addEventListener('event', (m) => addEvent(JSON.parse(m.data)));
  es.addEventListener('error', async () => {
    if (state.source !== es) return;
    setConn('reconnecting', 'reconnecting\u2026');
    if (es.readyState !== EventSource.CLOSED) return;
    // Closed for good (401, 503, server gone while connecting): find out why, then retry.
    const s = await fetch('/api/v1/session', { cache: 'no-store', credentials: 'same-origin' }).then((r) => r.json()).catch(() => null);
    if (s && !s.authenticated) return showLogin('Your session has ended: enter the admin token again.');
    setTimeout(() => state.source === es && connect(), 3000);
  });
}

function later(name, fn, ms = 250) {
  clearTimeout(state.timers[name]);
  state.timers[name] = setTimeout(fn, ms);
}

// ---- rendering ----

function renderStatus() {
  const s = state.status;
  if (!s) return;
  const active = s.active?.id ?? s.version;
  if (active !== state.shownVersion) {
    state.shownVersion = active;
    later('versions', loadVersions);
  }
  renderGlance(s);
  renderAlerts(s);
  renderCanary(s.canary);
  renderServing(s);
  renderPools(s);
}

function allBackends(s) {
  return Object.values(s.pools ?? {}).flatMap((p) => p.backends);
}

function renderGlance(s) {
  const all = allBackends(s);
  const up = all.filter((b) => b.up).length;
  const last = state.points[state.points.length - 1];
  const alerts = s.alerts?.length ?? 0;
  const item = (label, value, bad) => el('span', { class: bad ? 'bad' : '' }, el('b', { text: value }), ` ${label}`);
  $('glance').replaceChildren(
    item('', `Serving v${s.active?.id ?? s.version}`),
    item('backends up', `${up}/${all.length}`, up < all.length),
    item('req/s', last ? num(last.rps) : '–'),
    item('errors', last ? pct(last.errorRate) : '–', last && last.errorRate >= 0.01),
    item(alerts === 1 ? 'alert firing' : 'alerts firing', String(alerts), alerts > 0),
  );
}

function rollbackTarget(s) {
  const active = s.active?.id ?? s.version;
  return s.lastKnownGood && s.lastKnownGood !== active ? s.lastKnownGood : null;
}

function rollbackButton(to, label, extra = '') {
  return el('button', { type: 'button', class: extra, 'data-rollback-to': to, onclick: (e) => rollback(to, e.currentTarget) }, label);
}

/**
 * When the latest change to what serves was evenkeel's own automatic rollback (in the last 30
 * min), what it did and what is left for a person to do; null otherwise.
 */
function autoRollbackNotice() {
  const changes = [...state.events.values()].filter((e) => /^(config\.applied|rollback\.)/.test(e.type)).sort((a, b) => a.id - b.id);
  const last = changes.at(-1);
  if (!last || last.type !== 'rollback.auto' || Date.now() - new Date(last.time).getTime() > 30 * 60_000) return null;
  const d = last.data ?? {};
  return el('div', { class: 'rolled-back', role: 'status' },
    el('strong', { text: `evenkeel already rolled back: v${d.from ?? '?'} \u2192 v${d.to ?? last.version} ` }), whenEl(last.time),
    el('div', { text: `${d.monitor ? `${d.monitor} fired inside the bake window of v${d.from}` : 'a monitor fired inside the bake window'}; nothing to roll back by hand.` }),
    el('div', { class: 'muted', text: `Left to do: check that the alert resolves; fix v${d.from} and apply the fix as a new version (serving v${d.from} again is refused without --force); write the postmortem with evenkeel report.` }),
  );
}

function renderAlerts(s) {
  const box = $('alerts');
  const alerts = s.alerts ?? [];
  const notice = autoRollbackNotice();
  if (notice) Object.assign(notice.dataset, { key: 'notice', sig: notice.textContent });
  if (alerts.length === 0) return reconcile(box, [notice, el('div', { class: 'all-clear', 'data-key': 'clear', 'data-sig': '', text: 'No alerts firing' })].filter(Boolean));
  const to = rollbackTarget(s);
  const serving = s.active?.id ?? s.version;
  const part = (key, sig, attrs, ...children) => el('div', { ...attrs, 'data-key': key, 'data-sig': sig }, ...children);
  reconcile(box, [...(notice ? [notice] : []), ...alerts.map((a) => {
    const what = `${MONITOR_TITLE[a.monitor] ?? a.monitor.toUpperCase()} \u2014 ${a.backend ? `backend ${a.backend}, pool ${a.pool}` : `pool ${a.pool}`}`;
    return el('article', { class: 'alert', 'data-key': `${a.monitor}|${a.pool}|${a.backend ?? ''}`, 'data-monitor': a.monitor, 'data-pool': a.pool, 'data-backend': a.backend ?? '' },
      part('what', what, { class: 'what', text: what }),
      part('summary', a.summary, { class: 'summary', text: a.summary }),
      part('since', `${a.since} ${serving}`, { class: 'since' }, 'firing since ', whenEl(a.since), ` while serving v${serving}`),
      part('act', String(to), { class: 'act' }, to ? rollbackButton(to, `Roll back to v${to}`, 'danger') : null, to ? el('span', { class: 'muted', text: 'last known good' }) : null),
    );
  })]);
}

function renderCanary(c) {
  const box = $('canary');
  if (!c) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const elapsed = Date.now() - new Date(c.startedAt).getTime();
  const bar = el('div', { class: 'progress' }, el('span'));
  bar.firstChild.style.width = `${Math.min(100, Math.max(0, (elapsed / c.durationMs) * 100))}%`;
  box.replaceChildren(
    el('h2', {}, `Canary: version ${c.version} `, el('span', { class: 'muted', text: `${c.percent}% of requests for ${Math.round(c.durationMs / 1000)} s` })),
    el('div', { text: c.summary }),
    el('div', { class: 'muted' }, `${num(c.requests)} canary requests \u00b7 started `, whenEl(c.startedAt)),
    bar,
  );
}

function renderServing(s) {
  const a = s.active ?? {};
  const to = rollbackTarget(s);
  const row = (k, v) => [el('dt', { text: k }), el('dd', {}, v)];
  reconcile($('serving'), [
    el('h2', { text: 'Serving', 'data-key': 'h', 'data-sig': '' }),
    el('dl', {},
      row('version', el('span', { class: 'big', text: `v${a.id ?? s.version}` })),
      row('hash', el('code', { text: (a.hash ?? s.hash ?? '').slice(0, 12) })),
      row('by', a.author ?? '–'),
      row('reason', a.reason || '–'),
      row('applied', a.createdAt ? whenEl(a.createdAt) : '–'),
      row('known good', s.lastKnownGood ? `v${s.lastKnownGood}` : 'none yet'),
      row('listeners', (s.listeners ?? []).map((l) => `${l.name} :${l.port}`).join(', ') || '–'),
    ),
    to ? el('div', { class: 'actions', 'data-key': 'actions', 'data-sig': String(to) }, rollbackButton(to, `Roll back to v${to} (last known good)`, 'quiet')) : null,
  ].filter(Boolean));
}

/** What is wrong with one backend, worst first: [{ level: 'bad' | 'warn', text }]. */
function problems(b, poolName, pool, alerts, g) {
  const out = [];
  const enough = pool.rps >= 1;
  if (!b.up) out.push({ level: 'bad', text: 'DOWN: failing health checks, out of rotation' });
  if (b.utilization !== null && b.utilization > 1) out.push({ level: 'bad', text: `OVERLOADED: ${num(b.rps)} req/s, ${pct(b.utilization, 0)} of capacity ${num(b.capacity)}` });
  else if (b.utilization !== null && b.utilization >= g.nearCapacity) out.push({ level: 'warn', text: `NEAR CAPACITY: ${num(b.rps)} req/s, ${pct(b.utilization, 0)} of capacity ${num(b.capacity)}` });
  // Amber until the skew monitor fires: right after a weight change the observed shares (a
  // sliding window) lag behind the new expected ones for a few seconds.
  const skewed = b.up && enough && Math.abs(b.observedShare - b.expectedShare) > g.skew;
  const skewAlert = alerts.some((a) => a.monitor === 'skew');
  if (skewed) out.push({ level: skewAlert ? 'bad' : 'warn', text: `SKEWED: gets ${pct(b.observedShare, 0)} \u2014 expected ${pct(b.expectedShare, 0)}` });
  for (const a of alerts) {
    if (a.monitor === 'concentration') out.push({ level: 'bad', text: `CONCENTRATED: takes ${pct(b.observedShare, 0)} of pool ${poolName}'s requests (expected ${pct(b.expectedShare, 0)})` });
    else if (a.monitor === 'overload' && !out.some((p) => p.text.startsWith('OVERLOADED'))) out.push({ level: 'bad', text: `OVERLOADED: ${num(a.value)} req/s over its capacity ${num(a.threshold)}` });
    else if (a.monitor === 'skew' && !skewed) out.push({ level: 'bad', text: `SKEWED: gets ${pct(b.observedShare, 0)} \u2014 expected ${pct(b.expectedShare, 0)}` });
    else if (!['overload', 'skew', 'concentration'].includes(a.monitor)) out.push({ level: 'bad', text: `${MONITOR_TITLE[a.monitor] ?? a.monitor}: ${a.summary}` });
  }
  return out.sort((x, y) => (x.level === y.level ? 0 : x.level === 'bad' ? -1 : 1));
}

function meter(label, fillFraction, hot, marks, text) {
  const bar = el('div', { class: 'bar' });
  const fill = el('span', { class: `fill${hot ? ' hot' : ''}` });
  fill.style.width = `${Math.max(0, Math.min(1, fillFraction)) * 100}%`;
  bar.append(fill);
  for (const m of marks) {
    const mark = el('span', { class: m.cls, title: m.title });
    mark.style.left = `${Math.max(0, Math.min(1, m.at)) * 100}%`;
    bar.append(mark);
  }
  return el('div', { class: 'meter' }, el('span', { class: 'label', text: label }), bar, el('span', { class: 'text', text }));
}

function renderPools(s) {
  const g = s.guardrails;
  const byBackend = new Map();
  const byPool = new Map();
  for (const a of s.alerts ?? []) {
    const map = a.backend ? byBackend : byPool;
    const k = a.backend ? `${a.pool}\0${a.backend}` : a.pool;
    map.set(k, [...(map.get(k) ?? []), a]);
  }
  const cards = Object.entries(s.pools ?? {}).map(([name, pool]) => {
    const up = pool.backends.filter((b) => b.up).length;
    const scale = Math.max(1.25, ...pool.backends.map((b) => b.utilization ?? 0));
    const rows = pool.backends.map((b) => {
      const found = problems(b, name, pool, byBackend.get(`${name}\0${b.backend}`) ?? [], g);
      const level = found.some((p) => p.level === 'bad') ? 'bad' : found.length ? 'warn' : '';
      const drained = b.up && b.expectedShare === 0;
      if (drained && found.length === 0 && b.observedShare < 0.01) {
        return el('div', { class: 'backend compact', 'data-backend': b.backend, 'data-level': 'ok' },
          el('div', { class: 'name' }, b.backend, el('span', { class: 'state drained', text: 'DRAINED' }), el('span', { class: 'muted', text: 'weight 0: gets no requests' })));
      }
      const share = meter('share', b.observedShare, level !== '' && b.observedShare > b.expectedShare + g.skew, [{ cls: 'mark', at: b.expectedShare, title: `expected ${pct(b.expectedShare)}` }],
        `${pct(b.observedShare, 0)} of requests \u00b7 expected ${pct(b.expectedShare, 0)}`);
      const load = b.capacity
        ? meter('load', (b.utilization ?? 0) / scale, (b.utilization ?? 0) >= g.nearCapacity, [{ cls: 'cap', at: 1 / scale, title: `capacity ${b.capacity} req/s` }],
          `${num(b.rps)} req/s of ${num(b.capacity)} capacity (${pct(b.utilization ?? 0, 0)})`)
        : meter('load', 0, false, [], `${num(b.rps)} req/s \u00b7 no capacity declared`);
      return el('div', { class: `backend ${level}`, 'data-backend': b.backend, 'data-level': level || 'ok' },
        el('div', { class: 'name' }, b.backend, el('span', { class: `state${b.up ? (drained ? ' drained' : '') : ' down'}`, text: b.up ? (drained ? 'DRAINED' : 'UP') : 'DOWN' })),
        found.map((p) => el('div', { class: 'problem', text: p.text })),
        share,
        load,
      );
    });
    const notes = (byPool.get(name) ?? []).map((a) => ({ level: 'bad', text: `${MONITOR_TITLE[a.monitor] ?? a.monitor}: ${a.summary}` }));
    const top = pool.backends.reduce((a, b) => (b.observedShare > a.observedShare ? b : a), pool.backends[0]);
    // One backend with most of a pool that has others up to share it (the seed incident's picture).
    if (up >= 2 && pool.rps >= 1 && top && top.observedShare >= 0.6) {
      const idle = pool.backends.filter((b) => b !== top && b.observedShare < 0.01).map((b) => b.backend);
      const hot = (top.utilization ?? 0) > 1 || (byBackend.get(`${name}\0${top.backend}`) ?? []).length > 0;
      notes.push({ level: hot ? 'bad' : 'warn', text: `${top.backend} takes ${pct(top.observedShare, 0)} of this pool's requests${idle.length ? `; ${idle.join(', ')} get${idle.length === 1 ? 's' : ''} none` : ''}` });
    }
    return el('section', { class: 'card pool', 'data-pool': name },
      el('header', {}, el('h3', { text: `pool ${name}` }), el('span', { class: 'muted', text: `${num(pool.rps)} req/s \u00b7 ${up}/${pool.backends.length} up` })),
      notes.map((n) => el('div', { class: `note ${n.level}`, text: n.text })),
      rows,
    );
  });
  $('pools').replaceChildren(...cards);
}

// ---- the chart ----

function niceMax(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** A line chart of the last 5 minutes of `value(point)` into an <svg>, sized to the element. */
function chart(node, points, value, now, o) {
  const w = Math.max(120, node.clientWidth || 300);
  const h = Math.max(60, node.clientHeight || 120);
  const L = 44, R = 4, T = 8, B = 18;
  const max = niceMax(Math.max(o.floor, ...points.map(value)));
  const x = (t) => L + (1 - (now - t) / WINDOW_MS) * (w - L - R);
  const y = (v) => T + (1 - v / max) * (h - T - B);
  node.setAttribute('viewBox', `0 0 ${w} ${h}`);
  const parts = [];
  for (const v of [0, max / 2, max]) {
    parts.push(svg('line', { class: 'grid', x1: L, x2: w - R, y1: y(v), y2: y(v) }));
    parts.push(svg('text', { class: 'axis', x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, o.fmt(v)));
  }
  for (let m = 1; m < 5; m++) parts.push(svg('line', { class: 'grid minor', x1: x(now - m * 60_000), x2: x(now - m * 60_000), y1: T, y2: y(0) }));
  parts.push(svg('text', { class: 'axis', x: x(now - WINDOW_MS), y: h - 3, 'text-anchor': 'start' }, '5 min ago'));
  parts.push(svg('text', { class: 'axis', x: x(now), y: h - 3, 'text-anchor': 'end' }, 'now'));
  // One path per run of consecutive seconds: a gap (serve restarted) is not drawn as a slope.
  let line = '';
  let area = '';
  let run = [];
  const flush = () => {
    if (run.length === 0) return;
    line += `M${run.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join('L')}`;
    area += `M${run[0][0].toFixed(1)},${y(0)}L${run.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join('L')}L${run[run.length - 1][0].toFixed(1)},${y(0)}Z`;
    run = [];
  };
  let prev = null;
  for (const p of points) {
    if (now - p.t > WINDOW_MS) continue;
    if (prev && p.t - prev.t > 3000) flush();
    run.push([x(p.t), y(Math.min(max, value(p)))]);
    prev = p;
  }
  flush();
  parts.push(svg('path', { class: 'area', d: area || 'M0,0' }), svg('path', { class: 'line', d: line || 'M0,0' }));
  node.replaceChildren(...parts);
  node.classList.toggle('bad', Boolean(o.bad));
  node.dataset.points = String(points.length);
  node.dataset.last = String(points.length ? points[points.length - 1].t : 0);
}

function drawCharts() {
  if ($('dash').hidden) return;
  const pts = state.points;
  const last = pts[pts.length - 1];
  const now = last ? last.t : Date.now();
  const errBad = Boolean(last && last.errorRate >= 0.01);
  chart($('chart-rps'), pts, (p) => p.rps, now, { floor: 5, fmt: (v) => num(v) });
  chart($('chart-err'), pts, (p) => p.errorRate * 100, now, { floor: 1, bad: errBad, fmt: (v) => `${v % 1 ? v.toFixed(1) : v}%` });
  $('rps-now').textContent = last ? `${num(last.rps)} req/s` : '–';
  $('err-now').textContent = last ? pct(last.errorRate) : '–';
  $('err-now').classList.toggle('bad', errBad);
}

// ---- versions, diffs, rollback ----

async function loadVersions() {
  try {
    const v = await api('/api/v1/versions?limit=25');
    state.versions = v.versions;
    state.lkg = v.lastKnownGood;
    renderVersions();
  } catch (err) {
    $('version-list').replaceChildren(el('li', { class: 'muted', text: `Could not load the versions: ${err.message}` }));
  }
}

// A version that served and was merely replaced may be served again at once; one that was
// refused, aborted or rolled back only as a secondary action, through the server's gate.
const ROLLBACK_OK = new Set(['superseded']);
const ROLLBACK_OVERRIDE = new Set(['rolled-back', 'aborted', 'refused']);

/** "Roll back to vN" for an older version; going forward to a newer one is not a rollback. */
function serveLabel(id, active) {
  return id < active ? `Roll back to v${id}` : `Serve v${id} again`;
}

function renderVersions() {
  const active = state.status?.active?.id ?? state.versions.find((v) => v.status === 'active')?.id;
  $('version-list').replaceChildren(...state.versions.map((v) => {
    const tags = [el('span', { class: `tag ${v.status}`, text: v.status })];
    if (v.knownGood) tags.push(el('span', { class: 'tag good', text: 'known good' }));
    const diffButton = el('button', { type: 'button', class: 'quiet', 'aria-expanded': state.open.has(v.id), onclick: () => toggleDiff(v.id) }, state.open.has(v.id) ? 'Hide diff' : 'Diff');
    const buttons = [diffButton];
    if (v.id !== active && ROLLBACK_OK.has(v.status)) buttons.push(rollbackButton(v.id, serveLabel(v.id, active)));
    else if (v.id !== active && ROLLBACK_OVERRIDE.has(v.status)) buttons.push(rollbackButton(v.id, `${serveLabel(v.id, active)} anyway\u2026`, 'quiet override'));
    const li = el('li', { 'data-version': v.id },
      el('div', { class: 'vhead' }, el('span', { class: 'id', text: `v${v.id}` }), tags,
        el('span', { class: 'who' }, `${v.author} \u00b7 `, agoEl(v.createdAt), ` \u00b7 ${v.reason || 'no reason given'}`),
        el('span', { class: 'buttons' }, buttons)),
    );
    if (state.open.has(v.id)) li.append(renderDiff(v.id));
    return li;
  }));
}

async function toggleDiff(id) {
  if (state.open.has(id)) state.open.delete(id);
  else {
    state.open.add(id);
    if (!state.diffs.has(id)) {
      try {
        state.diffs.set(id, await api(`/api/v1/versions/${id}/diff`));
      } catch (err) {
        state.diffs.set(id, { error: err.message });
      }
    }
  }
  renderVersions();
}

function renderDiff(id) {
  const d = state.diffs.get(id);
  if (!d) return el('div', { class: 'diff muted', text: 'loading\u2026' });
  if (d.error) return el('div', { class: 'diff error', text: d.error });
  if (d.against === null) return el('div', { class: 'diff muted', text: 'The first version: nothing before it to compare with.' });
  if (!d.diff) return el('div', { class: 'diff muted', text: `Same text as v${d.against}.` });
  const lines = d.diff.replace(/\n$/, '').split('\n').map((l) => el('span', { class: l.startsWith('@@') ? 'hunk' : l.startsWith('+') && !l.startsWith('+++') ? 'add' : l.startsWith('-') && !l.startsWith('---') ? 'del' : '', text: l || ' ' }));
  return el('div', { class: 'diff' },
    el('div', { class: 'muted', text: `Changes from v${d.against}:` }),
    el('ul', {}, d.changes.slice(0, 12).map((c) => el('li', {}, el('code', { text: c }))), d.changes.length > 12 ? el('li', { text: `and ${d.changes.length - 12} more` }) : null),
    el('pre', {}, lines),
  );
}

/**
 * Serves version `to` again through the server's gate. A version with a bad past or error
 * findings is refused (409) unless forced: the dashboard then shows what the server said about
 * it and asks for the reason the override is recorded with.
 */
async function rollback(to, button) {
  const active = state.status?.active?.id ?? state.status?.version;
  const forward = to > active;
  const what = forward ? `Serve version ${to} again (a newer version; version ${active} becomes superseded)` : `Roll back to version ${to}`;
  if (!confirm(`${what}?\n\nevenkeel judges version ${to} against the live version first; if it passes, it serves it instead of version ${active} at once, and the journal records that it was done from the dashboard.`)) return;
  if (button) button.disabled = true;
  const body = { to, reason: `${forward ? 'served again' : 'rolled back'} from the dashboard (v${active} \u2192 v${to})`, author: 'dashboard' };
  try {
    let r;
    try {
      r = await api('/api/v1/rollback', { method: 'POST', body });
    } catch (err) {
      if (err.status !== 409 || !/needs --force --reason/.test(err.message)) throw err;
      const reason = prompt(`Version ${to} is not known good:\n\n${err.message.replace(/; nothing changed\. Serving it again needs --force --reason TEXT$/, '.')}\n\nServing it again is an override, recorded with your reason. Why must it be served?`);
      if (!reason || !reason.trim()) return void toast(`Nothing changed: still serving version ${active}.`);
      r = await api('/api/v1/rollback', { method: 'POST', body: { ...body, reason: reason.trim(), force: true } });
    }
    toast(r.forward ? `Now serving version ${r.to} again (version ${r.from} is superseded).` : `Rolled back: now serving version ${r.to} (was ${r.from}).`);
    loadVersions();
  } catch (err) {
    toast(`${forward ? 'Serving it again' : 'Rollback'} failed: ${err.message}`, true);
  } finally {
    if (button) button.disabled = false;
  }
}

function toast(text, bad = false) {
  const t = $('toast');
  t.textContent = text;
  t.className = `toast${bad ? ' bad' : ''}`;
  t.hidden = false;
  later('toast', () => (t.hidden = true), 6000);
}

// ---- the journal ----

function addEvent(e) {
  if (state.events.has(e.id)) return;
  state.events.set(e.id, e);
  if (state.events.size > 200) state.events.delete(Math.min(...state.events.keys()));
  later('journal', renderJournal, 100);
  if (/^(config|canary|rollback)\./.test(e.type)) later('versions', loadVersions);
  if (/^(config\.applied|rollback\.)/.test(e.type)) later('alerts', () => state.status && renderAlerts(state.status), 100);
}

function describe(e) {
  const d = e.data ?? {};
  const v = e.version;
  switch (e.type) {
    case 'config.applied': return [`v${v} applied${d.forced ? ' (forced)' : ''}`, `by ${d.author}: ${d.reason || 'no reason given'}`];
    case 'config.refused': return [`v${v} refused`, `by ${d.author}: ${d.reason || 'no reason given'} \u2014 ${(d.findings ?? []).filter((f) => f.severity === 'error').map((f) => f.code).join(', ')}`];
    case 'alert.fired': return [`${d.monitor} alert fired`, `${d.summary ?? ''}${d.action ? `; ${d.action}` : ''}`];
    case 'alert.resolved': return [`${d.monitor} alert resolved`, d.summary ?? ''];
    case 'rollback.auto': return [`automatic rollback v${d.from ?? '?'} \u2192 v${d.to ?? v}`, d.reason ?? ''];
    case 'rollback.manual': return [d.direction === 'forward' ? `v${d.to} served again (forward from v${d.from})` : `rollback v${d.from} \u2192 v${d.to}`, `by ${d.by ?? d.author}${d.forced ? ' (forced)' : ''}: ${d.reason ?? ''}`];
    case 'canary.started': return [`canary v${v} started`, `${d.percent ?? '?'}% of requests, by ${d.author}: ${d.reason || 'no reason given'}`];
    case 'canary.promoted': return [`canary v${v} promoted`, d.summary ?? ''];
    case 'canary.aborted': return [`canary v${v} aborted`, d.summary ?? ''];
    case 'backend.down': return [`backend ${d.backend} of pool ${d.pool} down`, `${d.address ?? ''}: ${d.reason ?? ''}`];
    case 'backend.up': return [`backend ${d.backend} of pool ${d.pool} up again`, d.address ?? ''];
    default: return [e.type, d.summary ?? d.reason ?? ''];
  }
}

const BAD_EVENTS = new Set(['alert.fired', 'rollback.auto', 'canary.aborted', 'backend.down']);

function renderJournal() {
  const list = [...state.events.values()].sort((a, b) => b.id - a.id).slice(0, 40);
  if (list.length === 0) return $('event-list').replaceChildren(el('li', { class: 'muted', text: 'Nothing journalled yet.' }));
  $('event-list').replaceChildren(...list.map((e) => {
    const [title, text] = describe(e);
    return el('li', { 'data-type': e.type },
      el('time', { datetime: e.time, title: e.time, text: clock(e.time) }),
      el('span', { class: `type${BAD_EVENTS.has(e.type) ? ' bad' : ''}`, text: title }),
      text ? el('span', { class: 'text', text }) : null);
  }));
}

boot();
