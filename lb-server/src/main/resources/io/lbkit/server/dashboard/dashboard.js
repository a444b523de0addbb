// lbkit dashboard: reads /api/stream (server-sent events) with the admin token and changes servers
// through PATCH /api/upstreams/{u}/servers/{id}. The token is kept in sessionStorage (this tab
// only) and sent in the Authorization header, never in a URL. All data goes into the page as text
// (textContent), never as HTML.
'use strict';
(() => {
  const KEY = 'lbkit.admin.token';
  const HISTORY = 300; // points per chart: 5 minutes at one event a second
  const SVG = 'http://www.w3.org/2000/svg';
  const $ = (id) => document.getElementById(id);
  const sections = new Map(); // upstream name -> {section, tbody, policy, panic}
  const rows = new Map(); // upstream + '\n' + id -> {tr, cells, history}
  let controller = null;

  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const fmt = (v, digits) => (v === null || v === undefined ? '–' : Number(v).toFixed(digits));

  function setStatus(text, cls) {
    const s = $('status');
    s.textContent = text;
    s.className = 'status' + (cls ? ' ' + cls : '');
  }

  function say(text, isError) {
    const m = $('message');
    m.textContent = text;
    m.className = 'message' + (isError ? ' error' : '');
  }

  function showLogin(error) {
    if (controller) controller.abort();
    $('login').hidden = false;
    $('forget').hidden = true;
    $('login-error').textContent = error || '';
    setStatus('not connected', 'down');
    $('token').focus();
  }

  function connect() {
    const token = sessionStorage.getItem(KEY);
    if (!token) {
      showLogin();
      return;
    }
    $('login').hidden = true;
    $('forget').hidden = false;
    controller = new AbortController();
    const signal = controller.signal;
    setStatus('connecting');
    fetch('/api/stream', {
      headers: { Authorization: 'Bearer ' + token, Accept: 'text/event-stream' },
      cache: 'no-store', signal,
    }).then(async (r) => {
      if (r.status === 401 || r.status === 403) {
        if (r.status === 401) sessionStorage.removeItem(KEY);
        showLogin(await errorText(r));
        return;
      }
      if (!r.ok) throw new Error(await errorText(r));
      setStatus('live', 'live');
      const reader = r.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          onEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
      throw new Error('the stream ended');
    }).catch((e) => {
      if (signal.aborted) return;
      setStatus('reconnecting (' + e.message + ')', 'down');
      setTimeout(connect, 3000);
    });
  }

  async function errorText(r) {
    try {
      const body = await r.json();
      return r.status + ' ' + (body.error ? body.error.text : r.statusText);
    } catch (e) {
      return r.status + ' ' + r.statusText;
    }
  }

  function onEvent(block) {
    let type = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) type = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (type === 'status' && data.length) render(JSON.parse(data.join('\n')));
  }

  function render(event) {
    const seen = new Set();
    const main = $('upstreams');
    for (const [name, u] of Object.entries(event.upstreams)) {
      let s = sections.get(name);
      if (!s) {
        s = section(name);
        sections.set(name, s);
        main.appendChild(s.section);
      }
      s.policy.textContent = u.policy + ' · ' + u.peers.length + ' servers';
      s.panic.hidden = !u.panic;
      for (const p of u.peers) {
        const key = name + '\n' + p.id;
        seen.add(key);
        let row = rows.get(key);
        if (!row) {
          row = peerRow(name, p.id);
          rows.set(key, row);
          s.tbody.appendChild(row.tr);
        }
        update(row, p);
      }
    }
    for (const [key, row] of rows) {
      if (!seen.has(key)) {
        row.tr.remove();
        rows.delete(key);
      }
    }
    for (const [name, s] of sections) {
      if (!(name in event.upstreams)) {
        s.section.remove();
        sections.delete(name);
      }
    }
    $('updated').textContent = 'updated ' + new Date(event.time).toLocaleTimeString();
  }

  const COLUMNS = ['Server', 'State', 'Weight', 'Active', 'Req/s', 'Latency ms p50 / p95 / p99', 'Avg ms',
    'Errors', 'Health', 'Last 5 min', 'Actions'];

  function section(name) {
    const section = el('section', 'upstream');
    section.dataset.upstream = name;
    const h = el('h2');
    h.appendChild(el('span', null, name));
    const policy = el('span', 'muted');
    const panic = el('span', 'badge panic', 'panic');
    panic.hidden = true;
    h.append(policy, panic);
    const table = el('table');
    const tr = el('tr');
    for (const c of COLUMNS) tr.appendChild(el('th', null, c));
    table.appendChild(el('thead')).appendChild(tr);
    const tbody = table.appendChild(el('tbody'));
    section.append(h, table);
    return { section, tbody, policy, panic };
  }

  function peerRow(upstream, id) {
    const tr = el('tr', 'peer');
    tr.dataset.upstream = upstream;
    tr.dataset.endpoint = id;
    const cells = {};
    const add = (name, cls) => (cells[name] = tr.appendChild(el('td', 'c-' + name + (cls ? ' ' + cls : ''))));
    const server = add('server');
    server.append(el('strong', 'id', id), el('div', 'small muted address'));
    add('state');
    add('weight', 'num');
    add('active', 'num');
    add('rps', 'num');
    add('latency', 'num');
    add('avg', 'num');
    add('errors', 'num');
    add('health');
    const chart = add('chart');
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('class', 'chart');
    svg.setAttribute('viewBox', '0 0 180 36');
    svg.setAttribute('preserveAspectRatio', 'none');
    const title = document.createElementNS(SVG, 'title');
    const rps = document.createElementNS(SVG, 'polyline');
    rps.setAttribute('class', 'rps');
    const lat = document.createElementNS(SVG, 'polyline');
    lat.setAttribute('class', 'lat');
    svg.append(title, rps, lat);
    chart.appendChild(svg);
    const actions = add('actions');
    const drain = el('button', 'drain', 'Drain');
    drain.type = 'button';
    drain.addEventListener('click', () => patch(upstream, id, { state: 'drain' }));
    const up = el('button', 'up', 'Up');
    up.type = 'button';
    up.addEventListener('click', () => patch(upstream, id, { state: 'up' }));
    const weight = el('input', 'weight');
    weight.type = 'number';
    weight.min = '1';
    weight.step = '1';
    weight.setAttribute('aria-label', 'weight of ' + id);
    const reweight = el('button', 'reweight', 'Set weight');
    reweight.type = 'button';
    reweight.addEventListener('click', () => {
      const w = Number(weight.value);
      if (!Number.isInteger(w) || w < 1) {
        say(id + ': the weight must be a whole number of at least 1', true);
        return;
      }
      patch(upstream, id, { weight: w });
    });
    actions.appendChild(el('div')).append(drain, up, weight, reweight);
    return { tr, cells, history: [], chart: { title, rps, lat }, buttons: { drain, up }, weight };
  }

  function update(row, p) {
    const c = row.cells;
    c.server.querySelector('.address').textContent = p.server + (p.backup ? ' (backup)' : '');
    c.state.replaceChildren(el('span', 'badge ' + p.state, p.state));
    c.weight.textContent = p.weight === p.effective_weight ? String(p.weight) : p.weight + ' (now ' + p.effective_weight + ')';
    c.active.textContent = String(p.active) + (p.max_conns ? ' / ' + p.max_conns : '');
    c.rps.textContent = fmt(p.rps, 1);
    const l = p.latency_ms;
    c.latency.textContent = l ? fmt(l.p50, 1) + ' / ' + fmt(l.p95, 1) + ' / ' + fmt(l.p99, 1) : '–';
    c.avg.textContent = l ? fmt(l.avg, 1) : '–';
    c.errors.textContent = p.fails + ' (' + fmt(p.errors_per_s, 1) + '/s) · 5xx ' + p.responses['5xx'];
    const hc = p.health_checks || {};
    c.health.textContent = p.health + (p.ejected ? ' · ejected' : '')
      + (hc.checked ? ' · check ' + (hc.last_passed ? 'passed' : 'failed') + (hc.last_detail ? ' (' + hc.last_detail + ')' : '') : '');
    row.buttons.drain.disabled = p.state === 'draining';
    row.buttons.up.disabled = p.state !== 'draining' && p.state !== 'down';
    if (document.activeElement !== row.weight && row.weight.value === '') row.weight.placeholder = String(p.weight);
    row.history.push({ rps: p.rps || 0, p95: l ? l.p95 : null });
    if (row.history.length > HISTORY) row.history.shift();
    draw(row);
  }

  function draw(row) {
    const h = row.history;
    const maxRps = Math.max(1, ...h.map((x) => x.rps));
    const maxLat = Math.max(1, ...h.map((x) => x.p95 || 0));
    // the newest point at the right edge; the width spans the history, at least a minute
    const step = 180 / (Math.max(h.length, 60) - 1);
    const x = (i) => (180 - (h.length - 1 - i) * step).toFixed(1);
    const y = (v, max) => (34 - (v / max) * 32).toFixed(1);
    const rps = [];
    const lat = [];
    h.forEach((p, i) => {
      rps.push(x(i) + ',' + y(p.rps, maxRps));
      if (p.p95 !== null) lat.push(x(i) + ',' + y(p.p95, maxLat));
    });
    row.chart.rps.setAttribute('points', rps.join(' '));
    row.chart.lat.setAttribute('points', lat.join(' '));
    row.chart.title.textContent = 'last ' + h.length + ' s: up to ' + maxRps.toFixed(1) + ' req/s, p95 up to '
      + maxLat.toFixed(1) + ' ms';
  }

  async function patch(upstream, id, change) {
    const token = sessionStorage.getItem(KEY);
    if (!token) {
      showLogin();
      return;
    }
    try {
      const r = await fetch('/api/upstreams/' + encodeURIComponent(upstream) + '/servers/' + encodeURIComponent(id), {
        method: 'PATCH',
        headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
        body: JSON.stringify(change), cache: 'no-store',
      });
      if (!r.ok) {
        say(upstream + '/' + id + ': ' + await errorText(r), true);
        if (r.status === 401) {
          sessionStorage.removeItem(KEY);
          showLogin('The token was refused.');
        }
        return;
      }
      const s = await r.json();
      const row = rows.get(upstream + '\n' + id);
      if (change.weight && row) row.weight.value = '';
      say(upstream + '/' + id + ': state ' + s.state + ', weight ' + s.weight);
    } catch (e) {
      say(upstream + '/' + id + ': ' + e.message, true);
    }
  }

  $('login').addEventListener('submit', (e) => {
    e.preventDefault();
    const t = $('token').value.trim();
    if (!t) return;
    sessionStorage.setItem(KEY, t);
    $('token').value = '';
    connect();
  });
  $('forget').addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    showLogin();
  });
  connect();
})();
