// The configuration in effect (secrets removed by the server).
import { get } from '../api.js';
import { h, alertBox } from '../ui.js';

export const title = 'Configuration';

// Durations arrive as nanoseconds; these names are durations.
const DURATION = /(^t\d$|timer|timeout|ttl|duration|interval|^idle)/i;

function fmtNs(ns) {
  const units = [[3600e9, 'h'], [60e9, 'min'], [1e9, 's'], [1e6, 'ms']];
  for (const [n, u] of units) if (ns >= n && ns % n === 0) return `${ns / n} ${u}`;
  return ns >= 1e9 ? `${(ns / 1e9).toFixed(3)} s` : `${ns / 1e6} ms`;
}

// words turns "MaxContacts" or "max_contacts" into "max contacts".
const words = (k) => String(k).replace(/_/g, ' ').replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2');

function value(k, v) {
  if (v === null || v === undefined || v === '') return h('span', { class: 'muted' }, 'not set');
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number' && DURATION.test(k) && v >= 1e6) return fmtNs(v);
  if (Array.isArray(v)) {
    if (!v.length) return h('span', { class: 'muted' }, 'none');
    if (v.every((x) => typeof x !== 'object' || x === null)) return h('span', { class: 'mono' }, v.join(', '));
    return h('pre', { class: 'mono' }, JSON.stringify(v, null, 2));
  }
  if (typeof v === 'object') return h('pre', { class: 'mono' }, JSON.stringify(v, null, 2));
  return h('span', { class: 'mono' }, String(v));
}

function section(name, obj) {
  const rows = Object.entries(obj).map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, words(k)), h('td', {}, value(k, v))));
  return h('section', { class: 'panel', 'aria-label': name },
    h('h2', {}, name),
    h('table', {}, h('tbody', {}, rows)));
}

export function render(root) {
  const msg = alertBox();
  const body = h('div', { class: 'two' });
  root.append(h('h1', {}, 'Configuration'),
    h('p', { class: 'muted' }, 'The configuration in effect, with secrets left out. Change it in the configuration file and reload Parley (SIGHUP).'),
    msg, body);
  get('/config').then((cfg) => {
    const general = {}, sections = [];
    for (const [k, v] of Object.entries(cfg || {})) {
      if (v && typeof v === 'object' && !Array.isArray(v)) sections.push([words(k), v]);
      else general[k] = v;
    }
    body.replaceChildren(section('General', general), ...sections.map(([n, v]) => section(n, v)));
    root.append(h('details', {}, h('summary', {}, 'As JSON'), h('pre', { class: 'sipmsg' }, JSON.stringify(cfg, null, 2))));
  }).catch((e) => msg.error(e, 'Could not read the configuration'));
}
