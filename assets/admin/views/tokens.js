// API tokens: create (shown once), list, revoke.
import { api } from '../api.js';
import { h, clear, field, copyBox, confirmDialog, toast, time, empty, errorBox, cardTable } from '../dom.js';

export async function tokensView(ctx) {
  const { main, signal } = ctx;
  const listBox = h('div', {});
  const created = h('div', { 'aria-live': 'polite' });
  const name = h('input', { type: 'text', name: 'name', required: true, autocomplete: 'off', placeholder: 'e.g. zapier-sync', 'data-testid': 'token-name' });
  const err = h('div', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'token-create' }, 'Create token');
  const form = h('form', { class: 'inline-form', 'data-testid': 'token-create-form', novalidate: true },
    field('Token name', name, 'Say what uses it, so you know what breaks when you revoke it.'), h('div', { class: 'field actions' }, submit), err);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    if (!name.value.trim()) { err.textContent = 'Give the token a name.'; name.focus(); return; }
    submit.disabled = true;
    try {
      const t = await api.createToken(name.value.trim());
      form.reset();
      clear(created).append(h('section', { class: 'card card-accent', 'aria-labelledby': 'tok-new-h', 'data-testid': 'token-created' },
        h('h2', { id: 'tok-new-h', tabindex: -1 }, `Token “${t.name || ''}” created`),
        h('p', { class: 'warning', role: 'note' }, h('strong', {}, 'Shown only once. '),
          'Copy it now and keep it secret: it gives full access to the admin API. Use it as “Authorization: Bearer <token>”.'),
        copyBox(t.token || '', 'token-box', 'New API token')));
      created.querySelector('h2').focus();
      await load();
    } catch (ex) {
      err.textContent = ex.message;
    } finally {
      submit.disabled = false;
    }
  });

  async function load() {
    let tokens;
    try { tokens = await api.tokens(signal); } catch (e) { if (e.name !== 'AbortError') clear(listBox).append(errorBox(e)); return; }
    clear(listBox).append(tokens.length
      ? cardTable('API tokens', ['Name', 'Created', 'Status', ''], tokens.map((t) => h('tr', { 'data-testid': 'token-row', 'data-token-id': t.tokenId, class: t.revokedAt ? 'revoked' : undefined },
          h('td', {}, t.name || '—'),
          h('td', {}, time(t.createdAt)),
          h('td', { 'data-testid': 'token-status' }, t.revokedAt
            ? [h('span', { class: 'badge badge-off' }, 'revoked'), ' ', h('span', { class: 'muted small' }, time(t.revokedAt))]
            : h('span', { class: 'badge badge-on' }, 'active')),
          h('td', {}, t.revokedAt ? null : h('button', {
            type: 'button', class: 'btn btn-small btn-danger', 'data-testid': 'token-revoke', 'aria-label': `Revoke ${t.name || 'token'}`,
            events: {
              click: async () => {
                if (!(await confirmDialog('Revoke this token?', `“${t.name}” stops working immediately. Anything using it will get 401 errors.`, 'Revoke token'))) return;
                try { await api.revokeToken(t.tokenId); toast('Token revoked'); await load(); (listBox.querySelector('button') || name).focus(); } catch (ex) { toast(ex.message, 'error'); }
              },
            },
          }, 'Revoke')))), { 'data-testid': 'tokens-table' })
      : empty('No API tokens. Create one to use the admin API from scripts.'));
  }

  main.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'API tokens')),
    h('section', { class: 'card', 'aria-labelledby': 'tok-h' }, h('h2', { id: 'tok-h' }, 'Create a token'), form),
    created,
    h('section', { class: 'card', 'aria-labelledby': 'toks-h' }, h('h2', { id: 'toks-h' }, 'Tokens'), listBox));
  await load();
}
