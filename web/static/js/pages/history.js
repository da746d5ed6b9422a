// Call history (call records) with filters and a CSV export.
import { get, query } from '../api.js';
import { h, alertBox, field, table, badge, fmtTime, fmtDuration, link } from '../ui.js';

export const title = 'Call history';

const SINCE = [['1h', 'Last hour'], ['24h', 'Last 24 hours'], ['168h', 'Last 7 days'], ['720h', 'Last 30 days'], ['', 'All time']];
const LIMITS = [['100', '100'], ['500', '500'], ['1000', '1000']];

export function render(root, params) {
  const msg = alertBox();
  const f = { user: params.get('user') || '', since: params.get('since') ?? '24h', limit: params.get('limit') || '100' };
  const form = h('form', { class: 'row', role: 'search', 'aria-label': 'Filter the call history' },
    field('User', { name: 'user', value: f.user, placeholder: 'alice@example.test', list: 'aor-list', autocomplete: 'off' }),
    h('datalist', { id: 'aor-list' }),
    field('Since', { name: 'since', value: f.since, options: SINCE }),
    field('At most', { name: 'limit', value: f.limit, options: LIMITS }),
    h('button', { type: 'submit' }, 'Show calls'));
  const csv = h('a', { class: 'button secondary', download: 'cdrs.csv' }, 'Export CSV');
  const count = h('span', { class: 'muted', 'aria-live': 'polite' });
  const list = h('div');
  root.append(h('h1', {}, 'Call history'), msg,
    h('section', { class: 'panel' }, form),
    h('div', { class: 'toolbar' }, count, csv), list);

  get('/users?limit=1000').then((u) => {
    form.querySelector('#aor-list').replaceChildren(...u.items.map((x) => h('option', { value: x.aor })));
  }).catch(() => {});

  async function load() {
    const q = query({ user: f.user.trim(), since: f.since, limit: f.limit });
    csv.href = '/api/v1/cdrs' + query({ user: f.user.trim(), since: f.since, limit: f.limit, format: 'csv' });
    let rs;
    try { rs = await get('/cdrs' + q); msg.clear(); } catch (e) { msg.error(e, 'Could not read the call history'); return; }
    count.textContent = `${rs.total} call${rs.total === 1 ? '' : 's'}` + (rs.total >= Number(f.limit) ? ` (the latest ${f.limit})` : '');
    list.replaceChildren(table('Call history', [
      { label: 'Started', cell: (r) => fmtTime(r.invite_at) },
      { label: 'From', cell: (r) => h('strong', {}, r.caller) },
      { label: 'To', cell: (r) => h('strong', {}, r.callee) },
      { label: 'Result', cell: (r) => [badge(r.disposition), r.missed ? [' ', badge('missed', 'warn')] : null] },
      { label: 'Code', cell: (r) => (r.code ? `${r.code} ${r.reason || ''}` : '') },
      { label: 'Duration', num: true, cell: (r) => (r.answer_at ? fmtDuration(r.duration) : '') },
      { label: 'Hung up by', cell: (r) => r.hangup_by || '' },
      { label: 'SIP', cell: (r) => link('/console/ladder?call_id=' + encodeURIComponent(r.call_id), 'Ladder', { class: 'button secondary small', 'aria-label': `SIP ladder of the call from ${r.caller} to ${r.callee} at ${fmtTime(r.invite_at)}` }) },
    ], rs.items, 'No call matches.'));
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    Object.assign(f, Object.fromEntries(new FormData(form)));
    history.replaceState(null, '', '/console/history' + query({ user: f.user.trim(), since: f.since || 'all', limit: f.limit === '100' ? '' : f.limit }));
    load();
  });
  if (f.since === 'all') f.since = '';
  form.querySelector('select[name=since]').value = f.since;
  load();
}
