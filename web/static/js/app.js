// The console's shell: login, navigation and the pages, routed in the
// browser under /console/ (the server answers index.html for those paths).
import { post, whenUnauthorized } from './api.js';
import * as login from './pages/login.js';
import * as dashboard from './pages/dashboard.js';
import * as users from './pages/users.js';
import * as registrations from './pages/registrations.js';
import * as calls from './pages/calls.js';
import * as callHistory from './pages/history.js';
import * as ladder from './pages/ladder.js';
import * as config from './pages/config.js';

const BASE = '/console/';
const routes = {
  '': dashboard, users, registrations, calls, history: callHistory, ladder, config,
};

const shell = document.getElementById('shell');
const main = document.getElementById('main');
const loginMain = document.getElementById('login');
let stop = null; // the current page's cleanup (polling)

function pageOf(pathname) {
  const name = pathname.startsWith(BASE) ? pathname.slice(BASE.length).replace(/\/+$/, '') : '';
  return routes[name] ? name : null;
}

function navigate(href, replace = false) {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  render();
}

async function render() {
  if (stop) { stop(); stop = null; }
  const url = new URL(location.href);
  const name = pageOf(url.pathname);
  if (sessionStorage.getItem('parley.admin') === null) return showLogin();
  loginMain.hidden = true;
  loginMain.replaceChildren();
  shell.hidden = false;
  document.getElementById('who').textContent = sessionStorage.getItem('parley.admin') || '';
  for (const a of document.querySelectorAll('.sidebar li a')) {
    const current = pageOf(new URL(a.href).pathname) === name;
    if (current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  main.replaceChildren();
  if (name === null) {
    document.title = 'Not found · Parley';
    main.append(Object.assign(document.createElement('h1'), { textContent: 'No such page' }));
    return;
  }
  const page = routes[name];
  document.title = `${page.title} · Parley`;
  stop = page.render(main, url.searchParams) || null;
}

function showLogin() {
  shell.hidden = true;
  main.replaceChildren();
  loginMain.hidden = false;
  document.title = 'Log in · Parley';
  login.render(loginMain, (admin) => {
    sessionStorage.setItem('parley.admin', admin);
    render();
  });
}

// The session cookie is HttpOnly, so the console learns it has none from a 401.
whenUnauthorized(() => {
  if (sessionStorage.getItem('parley.admin') === null) return;
  sessionStorage.removeItem('parley.admin');
  render();
});

document.getElementById('logout').addEventListener('click', async () => {
  try { await post('/logout'); } catch { /* logged out anyway */ }
  sessionStorage.removeItem('parley.admin');
  render();
});

// In-console links are routed here, without reloading the page.
document.addEventListener('click', (ev) => {
  const a = ev.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download') || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(BASE)) return;
  ev.preventDefault();
  navigate(url.pathname + url.search);
  main.focus();
});
window.addEventListener('popstate', render);
window.addEventListener('parley:navigate', (ev) => navigate(ev.detail));

// A reload keeps the session cookie but not sessionStorage's name in a new
// tab: ask the API whether the cookie is still good.
async function start() {
  if (sessionStorage.getItem('parley.admin') === null) {
    try {
      const res = await fetch('/api/v1/status', { credentials: 'same-origin' });
      if (res.ok) sessionStorage.setItem('parley.admin', '');
    } catch { /* show the login */ }
  }
  render();
}
start();
