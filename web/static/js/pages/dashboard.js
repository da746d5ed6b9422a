// Dashboard: registered devices, active calls, calls per second, errors.
import { get, query } from '../api.js';
import { h, alertBox, poll, table, badge, fmtTime, fmtSpan, fmtDuration, link } from '../ui.js';

export const title = 'Dashboard';

const WINDOW = 60; // seconds over which calls per second is computed

// errorCounters picks the counters that mean something went wrong.
function errorCounters(c) {
  const tx = c.Transactions || {}, tr = c.Transport || {};
  const sum = (k) => Object.values(tr).reduce((n, t) => n + ((t && typeof t === 'object' && t[k]) || 0), 0);
  return [
    ['Malformed messages', tx.Malformed || 0],
    ['Unanswerable messages dropped', tx.Dropped || 0],
    ['Transaction timeouts', tx.Timeouts || 0],
    ['Refused at the transaction limit (503)', tx.Rejected || 0],
    ['Garbage datagrams dropped', sum('DroppedGarbage')],
    ['Oversize messages dropped', sum('DroppedOversize')],
    ['Connections refused', sum('ConnsRefused')],
    ['TLS handshake failures', sum('HandshakeFails')],
    ['Stray responses dropped', c.StrayDropped || 0],
    ['Handler panics', c.Panics || 0],
  ];
}

function messagesIn(c) {
  return Object.values((c && c.Transport) || {}).reduce((n, t) => n + ((t && t.MessagesIn) || 0), 0);
}

function card(label, value, sub, bad) {
  return h('section', { class: 'card', 'aria-label': label },
    h('h2', {}, label), h('div', { class: 'value' + (bad ? ' bad' : ''), dataset: { testid: label } }, value), h('p', {}, sub));
}

export function render(root) {
  const msg = alertBox();
  const cards = h('div', { class: 'cards' });
  const lower = h('div', { class: 'two' });
  root.append(h('h1', {}, 'Dashboard'), msg, cards, lower);
  let prev = null; // {t, in}: for messages per second

  return poll(async () => {
    let status, regs, live, recent, users, latest;
    try {
      [status, regs, live, recent, users, latest] = await Promise.all([
        get('/status'), get('/registrations?limit=1'), get('/calls'),
        get('/cdrs' + query({ since: WINDOW + 's', limit: 10000 })), get('/users?limit=1'), get('/cdrs?limit=6'),
      ]);
      msg.clear();
    } catch (e) {
      msg.error(e, 'Could not read the server status');
      return;
    }
    const now = Date.now();
    // Calls started in the last minute: ended ones are call records, the rest are in progress.
    const started = new Set();
    for (const r of recent.items) if (now - Date.parse(r.invite_at) <= WINDOW * 1000) started.add(r.call_id);
    for (const c of live.items) if (now - Date.parse(c.invite_at) <= WINDOW * 1000) started.add(c.call_id);
    const cps = started.size / WINDOW;
    const inNow = messagesIn(status.counters);
    const mps = prev && now > prev.t ? ((inNow - prev.in) * 1000) / (now - prev.t) : null;
    prev = { t: now, in: inNow };
    const errs = errorCounters(status.counters || {});
    const errTotal = errs.reduce((n, [, v]) => n + v, 0);
    const confirmed = live.items.filter((c) => c.state === 'confirmed').length;

    cards.replaceChildren(
      card('Registered devices', regs.total, `${users.total} user${users.total === 1 ? '' : 's'} in the directory`),
      card('Active calls', status.active_calls ?? live.total,
        `${confirmed} answered, ${live.total - confirmed} ringing or setting up`),
      card('Calls per second', cps.toFixed(2), `${started.size} call${started.size === 1 ? '' : 's'} in the last minute` +
        (mps === null ? '' : ` · ${mps.toFixed(1)} SIP messages/s in`)),
      card('Errors', errTotal, errTotal ? 'since the server started; see below' : 'none since the server started', errTotal > 0),
    );

    const errList = h('dl', { class: 'kv' }, errs.filter(([, v]) => v > 0).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
    const server = h('dl', { class: 'kv' },
      h('dt', {}, 'Version'), h('dd', {}, status.version || ''),
      h('dt', {}, 'Up for'), h('dd', {}, fmtSpan(status.uptime_seconds || 0)),
      h('dt', {}, 'Instance'), h('dd', {}, status.instance || ''),
      h('dt', {}, 'Domains'), h('dd', {}, (status.domains || []).join(', ')),
      h('dt', {}, 'Listeners'), h('dd', {}, (status.listeners || []).join(', ')));
        lower.replaceChildren(
      h('section', { class: 'panel', 'aria-labelledby': 'srv-h' }, h('h2', { id: 'srv-h' }, 'Server'), server,
        h('h2', {}, 'Error counters'), errTotal ? errList : h('p', { class: 'muted' }, 'No errors counted.')),
      h('section', { 'aria-labelledby': 'recent-h' },
        h('div', { class: 'toolbar' }, h('h2', { id: 'recent-h' }, 'Recent calls'), link('/console/history', 'Call history →')),
        table('Recent calls', [
          { label: 'Started', cell: (r) => link('/console/ladder?call_id=' + encodeURIComponent(r.call_id), fmtTime(r.invite_at), { title: 'SIP ladder of this call' }) },
          { label: 'From', cell: (r) => r.caller },
          { label: 'To', cell: (r) => r.callee },
          { label: 'Result', cell: (r) => badge(r.disposition) },
          { label: 'Duration', num: true, cell: (r) => fmtDuration(r.duration) },
        ], latest.items, 'No calls yet.')),
    );
  }, 2000);
}
