// Small DOM helpers shared by the pages.

// h builds an element: h('a', {href: '/x', class: 'y', onclick: fn}, 'text', child).
export function h(tag, attrs, ...children) {
  const svg = tag.startsWith('svg:');
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

// alertBox is a live region for a page's messages; show(msg) and error(e).
export function alertBox() {
  const el = h('div', { class: 'alert', role: 'alert', 'aria-live': 'assertive' });
  el.show = (msg, kind = 'ok') => { el.className = 'alert ' + kind; el.textContent = msg; };
  el.error = (e, what) => el.show((what ? what + ': ' : '') + (e && e.message ? e.message : String(e)), 'error');
  el.clear = () => { el.className = 'alert'; el.textContent = ''; };
  return el;
}

// table renders rows with columns [{label, cell(row) → node|string, num}].
export function table(caption, columns, rows, empty) {
  const head = h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)));
  const body = rows.length
    ? rows.map((r) => h('tr', {}, columns.map((c) => h('td', { class: c.num ? 'num' : null }, c.cell(r)))))
    : [h('tr', {}, h('td', { class: 'empty', colspan: columns.length }, empty || 'Nothing yet.'))];
  return h('div', { class: 'table-wrap' },
    h('table', {}, h('caption', { class: 'skip' }, caption), h('thead', {}, head), h('tbody', {}, body)));
}

// dialog opens a modal <dialog> with a form; resolves with the form's data,
// or null when cancelled. submit(data) may throw to keep it open with the error shown.
export function dialog({ title, body, ok = 'OK', danger = false, submit }) {
  return new Promise((resolve) => {
    const msg = alertBox();
    const form = h('form', { method: 'dialog' },
      h('h2', { id: `dlg-${++seq}` }, title), msg, body,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', value: 'cancel', onclick: () => close(null) }, 'Cancel'),
        h('button', { type: 'submit', class: danger ? 'danger solid' : null }, ok)));
    const dlg = h('dialog', { 'aria-labelledby': `dlg-${seq}` }, form);
    let done = false;
    const close = (v) => { if (!done) { done = true; dlg.close(); dlg.remove(); resolve(v); } };
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const data = Object.fromEntries(new FormData(form));
      if (submit) {
        try { await submit(data); } catch (e) { msg.error(e); return; }
      }
      close(data);
    });
    dlg.addEventListener('cancel', (ev) => { ev.preventDefault(); close(null); });
    document.body.append(dlg);
    dlg.showModal();
    const first = dlg.querySelector('input, select');
    (first || dlg.querySelector('button[type=submit]')).focus();
  });
}

export const confirm = (title, text, ok) =>
  dialog({ title, body: h('p', {}, text), ok, danger: true }).then((v) => v !== null);

// field is a labelled input (or a select, given options: [[value, text]]).
let seq = 0;
export function field(label, attrs) {
  const id = attrs.id || `f-${(attrs.name || label).replace(/\W+/g, '-').toLowerCase()}-${++seq}`;
  const input = attrs.options
    ? h('select', { ...attrs, id, options: null }, attrs.options.map(([v, t]) => h('option', { value: v, selected: v === attrs.value }, t)))
    : h('input', { type: 'text', ...attrs, id });
  return h('div', { class: 'field' }, h('label', { for: id }, label), input);
}

// poll calls fn now and every ms while the page is shown; returns stop().
export function poll(fn, ms) {
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try { await fn(); } finally { busy = false; }
  };
  tick();
  const id = setInterval(tick, ms);
  return () => clearInterval(id);
}

// link is an in-console link (the router handles the click).
export const link = (href, text, attrs) => h('a', { href, ...attrs }, text);

export const badge = (text, kind) => h('span', { class: 'badge ' + (kind || text) }, String(text).replace(/_/g, ' '));

const pad = (n) => String(n).padStart(2, '0');
export function fmtTime(t) {
  if (!t) return '';
  const d = new Date(t);
  if (isNaN(d)) return String(t);
  const today = new Date().toDateString() === d.toDateString();
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return today ? time : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

export function fmtDuration(sec) {
  if (sec === undefined || sec === null || isNaN(sec)) return '';
  sec = Math.max(0, Math.round(sec));
  const hh = Math.floor(sec / 3600), mm = Math.floor(sec / 60) % 60, ss = sec % 60;
  return hh ? `${hh}:${pad(mm)}:${pad(ss)}` : `${mm}:${pad(ss)}`;
}

// fmtSpan is a human duration: "3 d 4 h", "5 min", "42 s".
export function fmtSpan(sec) {
  sec = Math.max(0, Math.round(sec));
  if (sec < 60) return `${sec} s`;
  if (sec < 3600) return `${Math.floor(sec / 60)} min ${sec % 60} s`;
  if (sec < 86400) return `${Math.floor(sec / 3600)} h ${Math.floor(sec / 60) % 60} min`;
  return `${Math.floor(sec / 86400)} d ${Math.floor(sec / 3600) % 24} h`;
}

// userPart is "alice" of "sip:alice@example.test".
export const userPart = (aor) => String(aor || '').replace(/^sips?:/, '').split('@')[0];
