// Users and their devices, as on a PBX's extensions page: add, change
// password, delete; each user's registered devices beside it.
import { get, post, put, del, seg, query } from '../api.js';
import { h, alertBox, field, dialog, confirm, poll, fmtTime, link } from '../ui.js';

export const title = 'Users';
const PAGE = 100;

// devicesOf groups bindings by AOR.
async function devicesByAOR() {
  const regs = await get('/registrations?limit=1000');
  const by = new Map();
  for (const b of regs.items) {
    if (!by.has(b.aor)) by.set(b.aor, []);
    by.get(b.aor).push(b);
  }
  return by;
}

function devicesCell(bs) {
  if (!bs || !bs.length) return h('span', { class: 'muted' }, 'not registered');
  return h('ul', { class: 'devices' }, bs.map((b) =>
    h('li', {}, h('strong', {}, b.user_agent || 'unknown device'), ' ',
      h('span', { class: 'mono muted' }, `${b.source} (${b.transport})`))));
}

export function render(root, params) {
  const msg = alertBox();
  let offset = Math.max(0, parseInt(params.get('offset') || '0', 10) || 0);
  const domainSel = field('Domain', { name: 'domain', options: [] });
  const form = h('form', { class: 'row', 'aria-labelledby': 'add-h' },
    field('User name', { name: 'user', required: true, placeholder: 'alice', autocomplete: 'off' }),
    domainSel,
    field('Password', { name: 'password', type: 'password', required: true, autocomplete: 'new-password' }),
    h('button', { type: 'submit' }, 'Add user'));
  const list = h('div');
  const pager = h('div', { class: 'toolbar' });
  root.append(h('h1', {}, 'Users'),
    h('section', { class: 'panel' }, h('h2', { id: 'add-h' }, 'Add a user'), msg, form,
      h('p', { class: 'hint' }, 'The phone registers as this user with this password; only a digest of it (HA1) is stored.')),
    pager, list);

  get('/domains').then((d) => {
    const sel = domainSel.querySelector('select');
    sel.replaceChildren(...d.items.map((x) => h('option', { value: x }, x)));
  }).catch((e) => msg.error(e, 'Could not read the domains'));

  const cells = new Map(); // aor → devices <td>
  let devices = new Map();

  async function load() {
    let us;
    try {
      [us, devices] = await Promise.all([get('/users' + query({ offset, limit: PAGE })), devicesByAOR()]);
    } catch (e) {
      msg.error(e, 'Could not list the users');
      return;
    }
    cells.clear();
    const rows = us.items.map((u) => {
      const td = h('td', {}, devicesCell(devices.get(u.aor)));
      cells.set(u.aor, td);
      return h('tr', { dataset: { aor: u.aor } },
        h('th', { scope: 'row' }, u.aor), td, h('td', {}, fmtTime(u.created_at)),
        h('td', {}, h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'secondary small', 'aria-label': `Change password of ${u.aor}`, onclick: () => changePassword(u.aor) }, 'Change password'),
          h('button', { type: 'button', class: 'danger small', 'aria-label': `Delete ${u.aor}`, onclick: () => remove(u.aor) }, 'Delete'))));
    });
    if (!rows.length) rows.push(h('tr', {}, h('td', { class: 'empty', colspan: 4 }, 'No users yet: add one above.')));
    list.replaceChildren(h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'skip' }, 'Users'),
      h('thead', {}, h('tr', {}, ['User', 'Registered devices', 'Added', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows))));
    const last = Math.min(offset + PAGE, us.total);
    pager.replaceChildren(
      h('span', { class: 'muted' }, us.total ? `Users ${offset + 1}–${last} of ${us.total}` : ''),
      h('div', { class: 'actions' },
        offset > 0 ? link('/console/users' + query({ offset: Math.max(0, offset - PAGE) || '' }), '← Previous', { class: 'button secondary small' }) : null,
        last < us.total ? link('/console/users' + query({ offset: offset + PAGE }), 'Next →', { class: 'button secondary small' }) : null));
  }

  // Devices come and go: refresh them in place without redrawing the rows.
  const refreshDevices = async () => {
    try { devices = await devicesByAOR(); } catch { return; }
    for (const [aor, td] of cells) td.replaceChildren(devicesCell(devices.get(aor)));
  };

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const d = Object.fromEntries(new FormData(form));
    const aor = d.user.includes('@') ? d.user.trim() : `${d.user.trim()}@${d.domain}`;
    try {
      await post('/users', { aor, password: d.password });
    } catch (e) {
      msg.error(e, `Could not add ${aor}`);
      return;
    }
    form.reset();
    msg.show(`Added ${aor}. A phone can register as it now.`);
    load();
  });

  async function changePassword(aor) {
    const done = await dialog({
      title: `Change the password of ${aor}`,
      body: field('New password', { name: 'password', type: 'password', required: true, autocomplete: 'new-password' }),
      ok: 'Change password',
      submit: (d) => put(`/users/${seg(aor)}/password`, { password: d.password }),
    });
    if (done) msg.show(`Changed the password of ${aor}. Its phones must use the new one from their next registration.`);
  }

  async function remove(aor) {
    const n = (devices.get(aor) || []).length;
    const also = n ? ` Its ${n} registered device${n === 1 ? ' is' : 's are'} unregistered too.` : '';
    if (!await confirm(`Delete ${aor}?`, `${aor} will no longer be able to register or call.${also}`, 'Delete')) return;
    try {
      await del(`/users/${seg(aor)}`);
      if (n) await del(`/registrations/${seg(aor)}`).catch((e) => { if (e.status !== 404) throw e; });
      msg.show(`Deleted ${aor}.`);
    } catch (e) {
      msg.error(e, `Could not delete ${aor}`);
    }
    load();
  }

  load();
  let first = true;
  return poll(() => { if (first) { first = false; return; } return refreshDevices(); }, 5000);
}
