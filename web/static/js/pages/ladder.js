// SIP ladder of one call from /api/v1/capture: the parties (by address) as
// columns, each message an arrow with its first line; a click shows it whole.
import { get, query } from '../api.js';
import { h, alertBox, field, poll, fmtTime } from '../ui.js';
import { go } from '../nav.js';

export const title = 'SIP ladder';

const LEFT = 58, TOP = 62, ROW = 34, MINCOL = 200, CH = 7.2; // CH: width of a character at 12px

const isIn = (m) => /^(in|recv|rx|received|incoming)/i.test(m.dir || '');
const statusOf = (m) => { const x = /^SIP\/2\.0 (\d{3})/.exec(m.first_line || ''); return x ? Number(x[1]) : 0; };

// header returns a header's value from a raw message (long or compact name).
function header(msg, ...names) {
  for (const line of String(msg || '').split(/\r?\n/)) {
    if (line === '') break;
    const i = line.indexOf(':');
    if (i > 0 && names.includes(line.slice(0, i).trim().toLowerCase())) return line.slice(i + 1).trim();
  }
  return '';
}
// userOf is "alice" of "<sip:alice@example.test>;tag=1".
const userOf = (v) => { const x = /sips?:([^@;>\s]+)@/.exec(v || ''); return x ? x[1] : ''; };
// between is "alice → bob" for a captured call (From and To of its first message).
const between = (c) => { const f = userOf(c.from), t = userOf(c.to); return f && t ? (f === t ? f : `${f} → ${t}`) : ''; };

// partiesOf lists the columns: the first peer, Parley (all its local addresses), the other peers as they appear.
function partiesOf(items) {
  const peers = [];
  const locals = [];
  for (const m of items) {
    if (m.local && !locals.includes(m.local)) locals.push(m.local);
    if (m.remote && !peers.some((p) => p.addr === m.remote)) peers.push({ addr: m.remote, name: '' });
  }
  for (const p of peers) {
    // Name a peer after the user it speaks for: From of what it sends, To of what it is sent.
    const req = items.find((m) => m.remote === p.addr && !statusOf(m));
    if (req) p.name = userOf(header(req.message, isIn(req) ? 'from' : 'to', isIn(req) ? 'f' : 't'));
  }
  const parley = { addr: locals.join(', '), name: 'Parley', self: true };
  const cols = peers.length ? [peers[0], parley, ...peers.slice(1)] : [parley];
  return cols;
}

// label is what an arrow says: the method and Request-URI, or the status, and (SDP).
function label(m) {
  const code = statusOf(m);
  const line = code ? m.first_line.replace(/^SIP\/2\.0 /, '') : m.first_line.replace(/ SIP\/2\.0$/, '');
  return /\r?\n\r?\nv=0/.test(m.message || '') ? line + ' (SDP)' : line;
}

function draw(items, onSelect, room) {
  const cols = partiesOf(items);
  const COL = Math.max(MINCOL, Math.floor((room - LEFT - 12) / cols.length));
  const x = (addr, local) => LEFT + COL / 2 + cols.findIndex((c) => (local ? c.self : c.addr === addr)) * COL;
  const width = LEFT + cols.length * COL + 12;
  const height = TOP + items.length * ROW + 16;
  const t0 = Date.parse(items[0]?.time);
  const svg = h('svg:svg', { class: 'ladder', width, height, viewBox: `0 0 ${width} ${height}`, role: 'group', 'aria-label': `SIP ladder: ${items.length} messages` });
  cols.forEach((c, i) => {
    const cx = LEFT + COL / 2 + i * COL;
    const maxAddr = Math.floor(COL / CH) - 1;
    svg.append(
      h('svg:text', { class: 'party', x: cx, y: 20, 'text-anchor': 'middle' }, c.self ? 'Parley' : c.name || 'peer'),
      h('svg:text', { class: 'addr', x: cx, y: 38, 'text-anchor': 'middle' }, h('svg:title', {}, c.addr), c.addr.length > maxAddr ? c.addr.slice(0, maxAddr - 1) + '…' : c.addr),
      h('svg:line', { class: 'life', x1: cx, y1: 48, x2: cx, y2: height - 8 }));
  });
  const groups = items.map((m, i) => {
    const y = TOP + i * ROW + 22;
    let from = x(m.remote, false), to = x(m.local, true);
    if (!isIn(m)) [from, to] = [to, from];
    const code = statusOf(m);
    const dirn = to >= from ? 1 : -1;
    const tip = to === from ? from + 30 : to;
    // The text may run past the arrow's ends (it has a halo over the lifelines), not past the drawing.
    const maxChars = Math.floor((Math.min(Math.abs(tip - from) + COL * 0.7, width - LEFT - 8)) / CH);
    let text = label(m);
    if (text.length > maxChars) text = text.slice(0, maxChars - 1) + '…';
    const half = (text.length * CH) / 2 + 4;
    const cx = Math.min(Math.max((from + tip) / 2, LEFT + half), width - half);
    const secs = isNaN(t0) ? '' : '+' + ((Date.parse(m.time) - t0) / 1000).toFixed(3);
    const who = (addr) => `${cols.find((c) => c.addr === addr)?.name || 'peer'} (${addr})`;
    const aria = `${m.first_line}, ${isIn(m) ? who(m.remote) + ' to Parley' : 'Parley to ' + who(m.remote)}, at ${fmtTime(m.time)}`;
    const g = h('svg:g', { class: 'msg' + (code ? ' resp' : '') + (code >= 400 ? ' err' : ''), tabindex: 0, role: 'button', 'aria-label': aria, dataset: { index: i } },
      h('svg:rect', { class: 'hit', x: 2, y: y - 21, width: width - 4, height: ROW - 2, rx: 4 }),
      h('svg:text', { class: 'time', x: 6, y: y + 4 }, secs),
      h('svg:text', { class: 'label', x: cx, y: y - 6, 'text-anchor': 'middle' }, text),
      h('svg:line', { x1: from, y1: y, x2: tip - dirn * 8, y2: y }),
      h('svg:polygon', { points: `${tip},${y} ${tip - dirn * 9},${y - 5} ${tip - dirn * 9},${y + 5}` }));
    g.addEventListener('click', () => onSelect(i));
    g.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); onSelect(i); }
      if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
        ev.preventDefault();
        const j = Math.min(items.length - 1, Math.max(0, i + (ev.key === 'ArrowDown' ? 1 : -1)));
        groups[j].focus();
        onSelect(j);
      }
    });
    svg.append(g);
    return g;
  });
  return { svg, groups, cols };
}

function fullTime(t) {
  const d = new Date(t);
  return isNaN(d) ? String(t || '') : d.toISOString().replace('T', ' ').replace('Z', ' UTC');
}

export function render(root, params) {
  const msg = alertBox();
  const callID = params.get('call_id') || '';
  const recent = h('ul', { class: 'captured', 'aria-label': 'Recently captured calls' });
  const form = h('form', { class: 'row', role: 'search', 'aria-label': 'Show the ladder of a call' },
    field('Call-ID', { name: 'call_id', value: callID, placeholder: 'from the history or live calls', autocomplete: 'off' }),
    h('button', { type: 'submit' }, 'Show ladder'));
  const summary = h('p', { class: 'muted summary', 'aria-live': 'polite' });
  const wrap = h('div', { class: 'ladder-wrap', hidden: true });
  const detail = h('section', { class: 'panel detail', 'aria-labelledby': 'msg-h', hidden: true });
  const view = h('div', { class: 'ladder-view' }, summary, wrap, detail);
  root.append(h('div', { class: 'toolbar heading' }, h('h1', {}, 'SIP ladder'), form), msg,
    h('div', { class: 'ladder-layout' },
      h('aside', { class: 'panel', 'aria-labelledby': 'rec-h' },
        h('div', { class: 'toolbar' }, h('h2', { id: 'rec-h' }, 'Recent calls'),
          h('button', { type: 'button', class: 'secondary small', onclick: () => loadRecent() }, 'Refresh')),
        recent),
      view));

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    go('/console/ladder' + query({ call_id: new FormData(form).get('call_id').trim() }));
  });

  async function loadRecent() {
    let cs;
    try { cs = await get('/capture/calls'); } catch (e) {
      recent.replaceChildren(h('li', { class: 'muted' }, e.status === 404 ? 'This server does not capture SIP messages.' : e.message));
      return;
    }
    const items = [...(cs.items || [])].sort((a, b) => Date.parse(b.last) - Date.parse(a.last)).slice(0, 60);
    recent.replaceChildren(...(items.length ? items.map((c) => h('li', {},
      h('a', { href: '/console/ladder' + query({ call_id: c.call_id }), 'aria-current': c.call_id === callID ? 'true' : null },
        h('strong', {}, c.method || '?'), ' ', between(c),
        h('div', {}, `${c.count} message${c.count === 1 ? '' : 's'} · ${fmtTime(c.first)}`),
        h('div', { class: 'cid' }, c.call_id)))) : [h('li', { class: 'muted' }, 'No call captured yet.')]));
  }

  let shown = -1; // messages drawn
  let selected = -1;
  let current = null;
  function select(items, i) {
    selected = i;
    current.groups.forEach((g, j) => g.classList.toggle('selected', j === i));
    const m = items[i];
    detail.hidden = false;
    detail.replaceChildren(
      h('h2', { id: 'msg-h' }, m.first_line),
      h('p', { class: 'msg-meta' }, `${isIn(m) ? 'Received from' : 'Sent to'} ${m.remote} ${isIn(m) ? 'on' : 'from'} ${m.local} over ${(m.transport || '').toUpperCase()} at ${fullTime(m.time)}`),
      h('pre', { class: 'sipmsg', tabindex: 0, 'aria-label': 'The whole message' }, String(m.message || '').replace(/\r\n/g, '\n')));
  }

  async function loadCall() {
    if (!callID) {
      summary.textContent = 'Choose a call on the left, or from the call history or live calls.';
      return;
    }
    let cap;
    try { cap = await get('/capture' + query({ call_id: callID })); msg.clear(); } catch (e) {
      msg.error(e, e.status === 404 ? 'No capture' : 'Could not read the capture');
      return;
    }
    const items = [...(cap.items || [])].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
    if (items.length === shown) return;
    shown = items.length;
    if (!items.length) {
      summary.textContent = `No message of call ${callID} is in the capture (it keeps recent calls only).`;
      wrap.hidden = true;
      return;
    }
    const secs = (Date.parse(items[items.length - 1].time) - Date.parse(items[0].time)) / 1000;
    summary.textContent = `${items.length} messages of call ${callID} over ${secs.toFixed(1)} s, from ${fmtTime(items[0].time)}. Click an arrow to see its message.`;
    wrap.hidden = false;
    current = draw(items, (i) => select(items, i), view.clientWidth - 2);
    wrap.replaceChildren(current.svg);
    if (selected >= 0 && selected < items.length) select(items, selected);
  }

  loadRecent();
  return poll(loadCall, 3000);
}
