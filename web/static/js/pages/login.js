// Login: an administrator (parley admin add NAME --password PW).
import { post } from '../api.js';
import { h, alertBox, field } from '../ui.js';

export function render(root, done) {
  const msg = alertBox();
  const name = field('Administrator', { name: 'name', autocomplete: 'username', required: true, autofocus: true });
  const pw = field('Password', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const button = h('button', { type: 'submit' }, 'Log in');
  const form = h('form', { 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, h('img', { src: '/console/favicon.svg', alt: '', width: 30, height: 30 }), 'Parley console'),
    h('p', { class: 'muted' }, 'Log in as an administrator of this server.'),
    msg, name, pw, button);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    button.disabled = true;
    try {
      await post('/login', { name: data.name, password: data.password });
      done(data.name);
    } catch (e) {
      msg.error(e, 'Could not log in');
      form.querySelector('input[name=password]').select();
    } finally {
      button.disabled = false;
    }
  });
  root.replaceChildren(form);
  form.querySelector('input').focus();
}
