// Live calls, polled every 2 s, with an end-call button for answered ones.
import { get, del, seg } from '../api.js';
import { h, alertBox, confirm, poll, table, badge, fmtTime, fmtDuration, link } from '../ui.js';

export const title = 'Live calls';

// flow shows an end of a call, "UDP~127.0.0.1~5062~0", as "127.0.0.1:5062 (UDP)".
function flow(f) {
  const [proto, host, port] = String(f).split('~');
  if (!port) return String(f);
  return `${host.includes(':') ? `[${host}]` : host}:${port} (${proto})`;
}

export function render(root) {
  const msg = alertBox();
  const count = h('span', { class: 'muted', 'aria-live': 'polite' });
  const list = h('div');
  root.append(h('h1', {}, 'Live calls'), msg,
    h('div', { class: 'toolbar' }, count, h('span', { class: 'muted' }, 'Updated every 2 seconds')), list);

  let shown = null; // the calls drawn, as JSON
  const timers = new Map(); // call id → its duration <span>

  async function load() {
    let calls;
    try { calls = await get('/calls'); } catch (e) { msg.error(e, 'Could not list the calls'); return; }
    const now = Date.now();
    const talking = (c) => (c.answer_at ? fmtDuration((now - Date.parse(c.answer_at)) / 1000) : '');
    count.textContent = `${calls.total} call${calls.total === 1 ? '' : 's'} in progress`;
    // Redraw only when the calls change, so that focus stays on a button; else tick the durations.
    const key = JSON.stringify(calls.items);
    if (key === shown) {
      for (const [id, td] of timers) td.textContent = talking(calls.items.find((c) => c.id === id));
      return;
    }
    shown = key;
    timers.clear();
    list.replaceChildren(table('Live calls', [
      { label: 'State', cell: (c) => badge(c.state === 'confirmed' ? 'answered' : c.state === 'early' ? 'ringing' : c.state, c.state) },
      { label: 'From', cell: (c) => h('strong', {}, c.caller) },
      { label: 'To', cell: (c) => h('strong', {}, c.callee) },
      { label: 'Started', cell: (c) => fmtTime(c.invite_at) },
      { label: 'Talking for', num: true, cell: (c) => { const sp = h('span', {}, talking(c)); timers.set(c.id, sp); return sp; } },
      { label: 'Phones at', cell: (c) => h('ul', { class: 'devices mono' }, (c.ends || []).map((e) => h('li', {}, flow(e)))) },
      {
        label: 'Actions', cell: (c) => h('div', { class: 'actions' },
          h('button', {
            type: 'button', class: 'danger small', 'aria-label': `End call from ${c.caller} to ${c.callee}`,
            disabled: c.state !== 'confirmed', title: c.state !== 'confirmed' ? 'Only an answered call can be ended here' : null,
            onclick: () => end(c),
          }, 'End call'),
          link('/console/ladder?call_id=' + encodeURIComponent(c.call_id), 'Ladder', { class: 'button secondary small', 'aria-label': `SIP ladder of the call from ${c.caller} to ${c.callee}` })),
      },
    ], calls.items, 'No call in progress.'));
  }

  async function end(c) {
    if (!await confirm('End this call?', `Parley sends BYE to both ${c.caller} and ${c.callee}.`, 'End call')) return;
    try {
      await del(`/calls/${seg(c.id)}`);
      msg.show(`Ended the call from ${c.caller} to ${c.callee}.`);
    } catch (e) {
      msg.error(e, 'Could not end the call');
    }
    shown = null;
    load();
  }

  return poll(load, 2000);
}
