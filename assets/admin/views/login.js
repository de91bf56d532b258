// Sign-in form. 401 → wrong credentials, 429 → too many attempts (with the wait, when known).
import { api } from '../api.js';
import { h, field } from '../dom.js';

export function loginView({ message, onLogin }) {
  const username = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true, 'data-testid': 'login-username', spellcheck: 'false' });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'login-password' });
  const error = h('div', { class: 'form-error', role: 'alert', 'data-testid': 'login-error' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', 'data-testid': 'login-submit' }, 'Sign in');
  const info = message ? h('p', { class: 'notice', role: 'status', 'data-testid': 'login-message' }, message) : null;

  const form = h('form', { class: 'stack', 'data-testid': 'login-form', novalidate: true },
    field('Username', username), field('Password', password), error, submit);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    error.classList.remove('shown');
    if (!username.value.trim() || !password.value) {
      show('Enter your username and password.');
      (username.value.trim() ? password : username).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      const me = await api.login(username.value.trim(), password.value);
      onLogin(me);
    } catch (ex) {
      if (ex.status === 401) show('Wrong username or password.');
      else if (ex.status === 429) {
        show(`Too many sign-in attempts. ${ex.retryAfter ? `Try again in ${waitText(ex.retryAfter)}.` : 'Wait a few minutes and try again.'}`, 'rate-limited');
      } else show(ex.message);
      password.value = '';
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });

  function show(msg, kind) {
    error.textContent = msg;
    error.classList.add('shown');
    error.dataset.kind = kind || 'error';
  }

  queueMicrotask(() => username.focus());
  return h('div', { class: 'login' },
    h('div', { class: 'card login-card' },
      h('h1', { tabindex: -1 }, 'Sign in'),
      h('p', { class: 'muted' }, 'CRM Web Tracker dashboard'),
      info, form));
}

function waitText(s) {
  if (s < 90) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.ceil(s / 60);
  return `${m} minute${m === 1 ? '' : 's'}`;
}
