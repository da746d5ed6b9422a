// Registrations: every binding, with force-unregister per user.
import { get, del, seg } from '../api.js';
import { h, alertBox, confirm, poll, table, fmtSpan } from '../ui.js';

export const title = 'Registrations';

export function render(root) {
  const msg = alertBox();
  const count = h('span', { class: 'muted', 'aria-live': 'polite' });
  const list = h('div');
  const refresh = h('button', { type: 'button', class: 'secondary small' }, 'Refresh');
  root.append(h('h1', {}, 'Registrations'), msg,
    h('div', { class: 'toolbar' }, count, refresh), list);
  let bindings = [];
  let shown = null; // the bindings drawn, as JSON
  const expiry = []; // their "expires in" <span>s, in order

  async function load() {
    let regs;
    try { regs = await get('/registrations?limit=1000'); } catch (e) { msg.error(e, 'Could not list the registrations'); return; }
    bindings = regs.items;
    // Redraw only when bindings come or go, so that focus stays put; else update the expiry.
    const key = JSON.stringify(bindings.map((b) => [b.aor, b.contact, b.source, b.transport, b.user_agent, b.q]));
    if (key === shown) {
      bindings.forEach((b, i) => { if (expiry[i]) expiry[i].textContent = fmtSpan(b.expires_in); });
      return;
    }
    shown = key;
    expiry.length = 0;
    const aors = new Set(bindings.map((b) => b.aor));
    count.textContent = `${regs.total} registered device${regs.total === 1 ? '' : 's'} of ${aors.size} user${aors.size === 1 ? '' : 's'}` +
      (regs.total > bindings.length ? ` (first ${bindings.length} shown)` : '');
    list.replaceChildren(table('Registrations', [
      { label: 'User', cell: (b) => h('strong', {}, b.aor) },
      { label: 'Contact', cell: (b) => h('span', { class: 'mono' }, b.contact) },
      { label: 'From', cell: (b) => h('span', { class: 'mono' }, `${b.source} (${b.transport})`) },
      { label: 'Device', cell: (b) => b.user_agent || '' },
      { label: 'q', num: true, cell: (b) => (b.q ? b.q.toFixed(1) : '') },
      { label: 'Expires in', num: true, cell: (b) => { const sp = h('span', {}, fmtSpan(b.expires_in)); expiry.push(sp); return sp; } },
      { label: 'Actions', cell: (b) => h('button', { type: 'button', class: 'danger small', 'aria-label': `Unregister ${b.aor}`, onclick: () => unregister(b.aor) }, 'Unregister') },
    ], bindings, 'No phone is registered.'));
  }

  async function unregister(aor) {
    const n = bindings.filter((b) => b.aor === aor).length;
    if (!await confirm(`Unregister ${aor}?`, `Removes ${n} binding${n === 1 ? '' : 's'} of ${aor}: calls to ${aor} fail until its phone registers again (at its next refresh).`, 'Unregister')) return;
    try {
      const r = await del(`/registrations/${seg(aor)}`);
      msg.show(`Unregistered ${aor} (${r.removed} binding${r.removed === 1 ? '' : 's'} removed).`);
    } catch (e) {
      msg.error(e, `Could not unregister ${aor}`);
    }
    shown = null;
    load();
  }

  refresh.addEventListener('click', () => { shown = null; load(); });
  return poll(load, 5000);
}
