// StreamGuard dashboard: polls the JSON API (docs/API.md) and renders it with plain DOM calls.
// No framework, no external resources. Every number shown carries its raw value in a
// data-value attribute so tests/e2e/dashboard.sh can compare the page with the API.
'use strict';

const POLL_MS = 2000;
const BATCH_POLL_MS = 30000;
const SEVERITIES = ['low', 'medium', 'high', 'critical'];
const series = { events: [], anomalies: [] };
let token = '';

// The URL fragment may carry #token=...&user=... (never sent to the server): the token is
// kept in sessionStorage and removed from the address bar; user opens the drill-down.
let initialUser = '';

function readToken() {
  const m = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
  const u = /(?:^|[#&])user=([^&]+)/.exec(location.hash);
  if (u) initialUser = decodeURIComponent(u[1]);
  if (m) {
    token = decodeURIComponent(m[1]);
    try { sessionStorage.setItem('sg_token', token); } catch (e) { /* private mode */ }
    window.history.replaceState(null, '', location.pathname + (u ? '#user=' + u[1] : ''));
  } else {
    try { token = sessionStorage.getItem('sg_token') || ''; } catch (e) { token = ''; }
  }
}

async function api(path) {
  const headers = token ? { Authorization: 'Bearer ' + token } : {};
  const r = await fetch(path, { headers, cache: 'no-store' });
  if (r.status === 401) {
    document.getElementById('token-form').classList.remove('hidden');
    throw new Error('unauthorized');
  }
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
  return r.json();
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function fmtInt(n) {
  return Number(n).toLocaleString('en-US');
}

function fmtRate(x) {
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(x >= 10 ? 1 : 2);
}

function fmtTime(ms) {
  if (ms === undefined || ms === null) return '–';
  const d = new Date(typeof ms === 'number' ? ms : Date.parse(ms));
  return isNaN(d) ? String(ms) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function setNum(id, value, text) {
  const e = document.getElementById(id);
  e.dataset.value = String(value);
  e.textContent = text !== undefined ? text : fmtInt(value);
}

function spark(id, values) {
  const svg = document.getElementById(id);
  const max = Math.max(1e-9, ...values);
  const pts = values.map((v, i) => `${(i * 120) / Math.max(1, values.length - 1)},${27 - (v / max) * 25}`);
  svg.innerHTML = '';
  const pl = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  pl.setAttribute('points', pts.join(' '));
  svg.append(pl);
}

function bars(id, entries, cls) {
  const box = document.getElementById(id);
  box.innerHTML = '';
  const max = Math.max(1, ...entries.map(([, v]) => v));
  if (entries.length === 0) box.append(el('div', { class: 'empty' }, 'none yet'));
  for (const [k, v] of entries) {
    const fill = el('div', { class: 'fill ' + (cls ? k : ''), style: `width:${(100 * v) / max}%` });
    box.append(el('div', { class: 'bar', 'data-key': k, 'data-value': v },
      el('span', { class: 'name', title: k }, k), el('div', { class: 'track' }, fill),
      el('span', { class: 'num' }, fmtInt(v))));
  }
}

function sevBadge(s) {
  return el('span', { class: 'sev ' + s }, s);
}

function userCell(u) {
  return el('td', { class: 'user', title: u, onclick: () => showUser(u) }, u);
}

function reasonsText(a) {
  return Array.isArray(a.reasons) ? a.reasons.join(', ') : '';
}

function fill(tableId, rows) {
  const tb = document.querySelector('#' + tableId + ' tbody');
  tb.innerHTML = '';
  if (rows.length === 0) {
    const n = document.querySelectorAll('#' + tableId + ' th').length;
    tb.append(el('tr', {}, el('td', { class: 'empty', colspan: n }, 'none')));
  }
  for (const r of rows) tb.append(r);
}

function renderStats(s) {
  setNum('events-total', s.events_total);
  setNum('anomalies-total', s.anomalies_total);
  setNum('users-total', s.users_total);
  setNum('event-rate', s.rates.events_per_s, fmtRate(s.rates.events_per_s));
  setNum('anomaly-rate', s.rates.anomalies_per_s, fmtRate(s.rates.anomalies_per_s));
  const wm = document.getElementById('watermark');
  wm.textContent = s.watermark_ms ? fmtTime(s.watermark_ms) : '–';
  series.events.push(s.rates.events_per_s);
  series.anomalies.push(s.rates.anomalies_per_s);
  for (const k of ['events', 'anomalies']) if (series[k].length > 60) series[k].shift();
  spark('event-spark', series.events);
  spark('anomaly-spark', series.anomalies);
  bars('by-severity', SEVERITIES.map((k) => [k, s.anomalies_by_severity[k] || 0]), true);
  const reasons = Object.entries(s.anomalies_by_reason).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  bars('by-reason', reasons.slice(0, 10), false);
}

function renderRecent(list) {
  fill('recent', list.anomalies.map((a) => el('tr', { 'data-event-id': a.event_id },
    el('td', {}, fmtTime(a.timestamp)), userCell(a.user), el('td', {}, sevBadge(a.severity)),
    el('td', {}, Number(a.score).toFixed(3)), el('td', { title: reasonsText(a) }, reasonsText(a)))));
}

function renderBatch(rep, users) {
  if (!rep) {
    document.getElementById('batch-time').textContent = 'none yet';
    setNum('batch-anomalous', 0, '–');
    fill('batch-top', []);
    return;
  }
  document.getElementById('batch-time').textContent = fmtTime(rep.finished_at || rep.generated_at);
  const n = rep.totals ? rep.totals.anomalous_users : undefined;
  if (n !== undefined) setNum('batch-anomalous', n);
  fill('batch-top', (users ? users.users : []).map((u) => el('tr', { 'data-user': u.user },
    userCell(u.user), el('td', {}, Number(u.anomaly_score).toFixed(3)),
    el('td', {}, u.events !== undefined ? fmtInt(u.events) : '–'))));
}

async function showUser(u) {
  document.getElementById('user-input').value = u;
  const enc = encodeURIComponent(u);
  const [info, ev, an] = await Promise.all([api('/api/users/' + enc),
    api('/api/users/' + enc + '/events?limit=20'), api('/api/users/' + enc + '/anomalies?limit=20')]);
  document.getElementById('user-detail').classList.remove('hidden');
  document.getElementById('u-name').textContent = u;
  if (!info) {
    document.getElementById('u-state').textContent = 'unknown user';
    return;
  }
  setNum('u-anomalies', info.recent_anomalies.count);
  const b = info.batch;
  document.getElementById('u-batch-score').textContent = b ? Number(b.anomaly_score).toFixed(3) : '–';
  document.getElementById('u-batch-flag').textContent = b ? (b.is_anomaly ? 'anomalous' : 'normal') : 'not scored';
  fill('u-events', (ev ? ev.events : []).map((e) => el('tr', {}, el('td', {}, fmtTime(e.timestamp)),
    el('td', {}, e.event_type), el('td', {}, e.status || 'success'), el('td', {}, e.source_ip))));
  fill('u-anoms', (an ? an.anomalies : []).map((a) => el('tr', { 'data-event-id': a.event_id }, el('td', {}, fmtTime(a.timestamp)),
    el('td', {}, sevBadge(a.severity)), el('td', {}, Number(a.score).toFixed(3)), el('td', {}, reasonsText(a)))));
  renderProfile(info.state);
  document.getElementById('u-state').textContent = JSON.stringify({ state: info.state, batch: info.batch }, null, 2);
}

// The speed layer's profile (sg_user_to_json): remembered values with their counts.
function renderProfile(st) {
  const box = document.getElementById('u-profile');
  box.innerHTML = '';
  if (!st) {
    box.append(el('div', { class: 'empty' }, 'no speed-layer profile'));
    return;
  }
  const groups = [['ips', 'Known IPs'], ['hosts', 'Hosts'], ['countries', 'Countries'], ['processes', 'Processes']];
  const facts = el('div', { class: 'group' }, el('b', {}, 'Activity'),
    el('span', { class: 'chip' }, fmtInt(st.events || 0) + ' events'),
    el('span', { class: 'chip' }, fmtInt(st.failures || 0) + ' failures'),
    el('span', { class: 'chip' }, 'since ' + fmtTime(st.first_seen)));
  box.append(facts);
  for (const [key, title] of groups) {
    const g = st[key];
    if (!g || !Array.isArray(g.values)) continue;
    const div = el('div', { class: 'group', 'data-group': key }, el('b', {}, `${title} (${g.distinct} distinct)`));
    for (const v of g.values.slice(0, 8)) div.append(el('span', { class: 'chip', title: 'last ' + fmtTime(v.last_seen) }, `${v.value} x${v.count}`));
    box.append(div);
  }
}

function status(ok, text) {
  const s = document.getElementById('status');
  s.className = 'status ' + (ok ? 'ok' : 'err');
  s.textContent = text;
}

async function poll() {
  try {
    const [stats, recent] = await Promise.all([api('/api/stats'), api('/api/anomalies?limit=15')]);
    renderStats(stats);
    renderRecent(recent);
    status(true, 'live');
  } catch (e) {
    status(false, e.message);
  }
}

async function pollBatch() {
  try {
    const [rep, users] = await Promise.all([api('/api/batch/report'),
      api('/api/batch/users?anomalous=true&limit=10')]);
    renderBatch(rep, users);
  } catch (e) {
    status(false, e.message);
  }
}

function main() {
  readToken();
  document.getElementById('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    token = document.getElementById('token').value.trim();
    try { sessionStorage.setItem('sg_token', token); } catch (e) { /* ignore */ }
    document.getElementById('token-form').classList.add('hidden');
    poll();
    pollBatch();
  });
  document.getElementById('user-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const u = document.getElementById('user-input').value.trim();
    if (u) showUser(u).catch((e) => status(false, e.message));
  });
  poll();
  pollBatch();
  if (initialUser) showUser(initialUser).catch((e) => status(false, e.message));
  setInterval(poll, POLL_MS);
  setInterval(pollBatch, BATCH_POLL_MS);
}

main();
