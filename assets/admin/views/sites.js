// Sites: list + create (snippet and one-time secret key), settings, deactivate, delete.
import { api, clientsCached, invalidateClients, siteLabel } from '../api.js';
import { h, clear, field, select, copyBox, confirmDialog, toast, time, empty, errorBox, cardTable } from '../dom.js';

export async function sitesView(ctx) {
  const { main } = ctx;
  const listBox = h('div', {});
  const created = h('div', { 'aria-live': 'polite' });

  const domain = h('input', { type: 'text', name: 'domain', required: true, placeholder: 'example.com', autocomplete: 'off', spellcheck: 'false', 'data-testid': 'site-domain' });
  const name = h('input', { type: 'text', name: 'name', placeholder: 'Example Inc.', autocomplete: 'off', 'data-testid': 'site-name' });
  const err = h('div', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'site-create' }, 'Add site');
  const form = h('form', { class: 'inline-form', 'data-testid': 'site-create-form', novalidate: true },
    field('Domain', domain, 'Without https://, e.g. shop.example.com. Subdomains are accepted too.'),
    field('Name (optional)', name), h('div', { class: 'field actions' }, submit), err);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    const d = domain.value.trim().replace(/^https?:\/\//i, '').replace(/\/.*$/, '');
    if (!d) { err.textContent = 'Enter the domain of the site.'; domain.focus(); return; }
    submit.disabled = true;
    try {
      const c = await api.createClient({ domain: d, name: name.value.trim() || undefined });
      invalidateClients();
      form.reset();
      clear(created).append(createdPanel(c));
      created.querySelector('h2').focus();
      await renderList();
    } catch (ex) {
      err.textContent = ex.message;
    } finally {
      submit.disabled = false;
    }
  });

  async function renderList() {
    let clients;
    try {
      clients = await clientsCached();
    } catch (e) {
      clear(listBox).append(errorBox(e));
      return;
    }
    clear(listBox).append(clients.length
      ? cardTable('Sites', ['Site', 'Domain', 'Status', 'Created', ''], clients.map((c) => h('tr', { 'data-testid': 'site-row', 'data-client-id': c.clientId },
          h('td', {}, h('a', { href: `#/sites/${encodeURIComponent(c.clientId)}` }, siteLabel(c))),
          h('td', {}, c.domain || '—'),
          h('td', {}, activeBadge(c.isActive)),
          h('td', {}, time(c.createdAt)),
          h('td', {}, h('div', { class: 'row-actions' },
            h('a', { href: `#/sites/${encodeURIComponent(c.clientId)}`, class: 'btn btn-small' }, 'Settings'),
            h('a', { href: `#/forms/${encodeURIComponent(c.clientId)}`, class: 'btn btn-small' }, 'Forms'),
            h('a', { href: `#/leads?clientId=${encodeURIComponent(c.clientId)}`, class: 'btn btn-small' }, 'Leads'))))), { 'data-testid': 'sites-table' })
      : empty('No sites yet. Add the first one above.'));
  }

  main.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Sites')),
    h('section', { class: 'card', 'aria-labelledby': 'new-site-h' }, h('h2', { id: 'new-site-h' }, 'Add a site'), form),
    created,
    h('section', { class: 'card', 'aria-labelledby': 'sites-h' }, h('h2', { id: 'sites-h' }, 'All sites'), listBox));
  await renderList();
}

export const activeBadge = (on) => h('span', { class: `badge ${on === false ? 'badge-off' : 'badge-on'}` }, on === false ? 'inactive' : 'active');

function createdPanel(c) {
  return h('section', { class: 'card card-accent', 'aria-labelledby': 'created-h', 'data-testid': 'site-created' },
    h('h2', { id: 'created-h', tabindex: -1 }, `Site “${siteLabel(c)}” added`),
    h('h3', {}, 'Install snippet'),
    h('p', { class: 'muted' }, 'Paste this on every page of the site, in the head or just before </body> (it loads without blocking the page).'),
    copyBox(c.snippet || '', 'snippet-box', 'Install snippet'),
    c.secretKey ? [
      h('h3', {}, 'Secret key'),
      h('p', { class: 'warning', role: 'note' },
        h('strong', {}, 'Shown only once. '),
        'Store it now in a password manager. It is only for server-to-server ingest (X-API-Key) and must never be put in a web page. It cannot be displayed again.'),
      copyBox(c.secretKey, 'secret-key-box', 'Secret key'),
    ] : null,
    h('p', {}, h('a', { href: `#/sites/${encodeURIComponent(c.clientId)}` }, 'Open the site settings')));
}

export async function siteView(ctx) {
  const { main, params, signal } = ctx;
  const id = params[0];
  let c = await api.client(id, signal);
  const cfg = () => c.config || {};

  const inputs = {
    name: h('input', { type: 'text', name: 'name', autocomplete: 'off', 'data-testid': 'settings-name' }),
    domain: h('input', { type: 'text', name: 'domain', required: true, spellcheck: 'false', autocomplete: 'off', 'data-testid': 'settings-domain' }),
    origins: h('textarea', { name: 'allowedOrigins', rows: 3, spellcheck: 'false', placeholder: 'https://shop.example.com', 'data-testid': 'settings-origins' }),
    partial: h('input', { type: 'checkbox', name: 'partialCapture', 'data-testid': 'settings-partial' }),
    consent: select({ name: 'consentMode', 'data-testid': 'settings-consent' },
      [['none', 'None: capture right away'], ['required', 'Required: no partial capture until consent']], 'none'),
    retention: h('input', { type: 'number', name: 'retentionDays', min: 1, max: 3650, step: 1, required: true, inputmode: 'numeric', 'data-testid': 'settings-retention' }),
    chat: h('input', { type: 'checkbox', name: 'chatWidget', 'data-testid': 'settings-chat' }),
    honeypot: h('input', { type: 'text', name: 'honeypotField', spellcheck: 'false', autocomplete: 'off', placeholder: 'website', 'data-testid': 'settings-honeypot' }),
    active: h('input', { type: 'checkbox', name: 'isActive', 'data-testid': 'settings-active' }),
  };
  function fill() {
    inputs.name.value = c.name || '';
    inputs.domain.value = c.domain || '';
    inputs.origins.value = (cfg().allowedOrigins || []).join('\n');
    inputs.partial.checked = cfg().partialCapture !== false;
    inputs.consent.value = cfg().consentMode === 'required' ? 'required' : 'none';
    inputs.retention.value = cfg().retentionDays ?? 90;
    inputs.chat.checked = !!cfg().chatWidget;
    inputs.honeypot.value = cfg().honeypotField || '';
    inputs.active.checked = c.isActive !== false;
  }
  fill();

  const body = (over) => ({
    name: inputs.name.value.trim(), // "" resets the name to the domain; null would keep it
    domain: inputs.domain.value.trim(),
    isActive: inputs.active.checked,
    // Only the settings edited here: the config object has more (e.g. `crm`, edited
    // elsewhere) and the API refuses unknown keys and keeps what is left out.
    config: {
      allowedOrigins: inputs.origins.value.split('\n').map((s) => s.trim()).filter(Boolean),
      partialCapture: inputs.partial.checked,
      consentMode: inputs.consent.value,
      retentionDays: Number(inputs.retention.value),
      chatWidget: inputs.chat.checked,
      // "" clears the honeypot; null would mean "leave it as it is".
      honeypotField: inputs.honeypot.value.trim(),
    },
    ...over,
  });

  const err = h('div', { class: 'form-error', role: 'alert', 'data-testid': 'settings-error' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'settings-save' }, 'Save settings');
  const form = h('form', { class: 'stack', 'data-testid': 'settings-form', novalidate: true },
    h('div', { class: 'grid-2' }, field('Name', inputs.name), field('Domain', inputs.domain, 'Subdomains of this domain are allowed automatically.')),
    field('Extra allowed origins', inputs.origins, 'One origin per line, e.g. https://landing.example.org'),
    h('div', { class: 'grid-2' },
      field('Consent mode', inputs.consent),
      field('Keep leads and events for (days)', inputs.retention)),
    field('Honeypot field name', inputs.honeypot, 'Name of a hidden input that humans leave empty. Leave blank to disable.'),
    field('Capture partially filled forms', inputs.partial),
    field('Show the chat widget', inputs.chat),
    field('Site is active (accepts events)', inputs.active),
    err, h('div', {}, save));

  async function saveWith(over, okMsg) {
    const b = body(over);
    if (!b.domain) throw new Error('The domain cannot be empty.');
    if (!Number.isInteger(b.config.retentionDays) || b.config.retentionDays < 1) throw new Error('Retention must be a whole number of days (1 or more).');
    const bad = b.config.allowedOrigins.find((o) => !/^https?:\/\/[^/\s]+$/i.test(o));
    if (bad) throw new Error(`“${bad}” is not an origin. Use the form https://host or https://host:port, without a path.`);
    c = (await api.updateClient(id, b)) || { ...c, ...b };
    invalidateClients();
    fill();
    renderHead();
    toast(okMsg);
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    save.disabled = true;
    try { await saveWith({}, 'Settings saved'); } catch (ex) { err.textContent = ex.message; } finally { save.disabled = false; }
  });

  const head = h('div', { class: 'page-head' });
  const toggleBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'site-deactivate' });
  function renderHead() {
    ctx.setTitle(siteLabel(c));
    clear(head).append(
      h('div', {}, h('p', { class: 'crumbs' }, h('a', { href: '#/sites' }, '← Sites')),
        h('h1', { tabindex: -1 }, siteLabel(c), ' ', activeBadge(c.isActive))),
      h('div', { class: 'head-tools' },
        h('a', { class: 'btn', href: `#/forms/${encodeURIComponent(id)}` }, 'Forms'),
        h('a', { class: 'btn', href: `#/leads?clientId=${encodeURIComponent(id)}` }, 'Leads')));
    toggleBtn.textContent = c.isActive === false ? 'Activate site' : 'Deactivate site';
  }
  renderHead();

  toggleBtn.addEventListener('click', async () => {
    const activate = c.isActive === false;
    if (!activate && !(await confirmDialog('Deactivate this site?',
      `${siteLabel(c)} will stop accepting events until you activate it again. Existing leads are kept.`, 'Deactivate'))) return;
    try { await saveWith({ isActive: activate }, activate ? 'Site activated' : 'Site deactivated'); } catch (ex) { toast(ex.message, 'error'); }
  });

  const delBtn = h('button', {
    type: 'button', class: 'btn btn-danger', 'data-testid': 'site-delete',
    events: {
      click: async () => {
        if (!(await confirmDialog('Delete this site?',
          `This permanently deletes ${siteLabel(c)} (${c.domain}) with its forms and settings. The install snippet stops working. This cannot be undone.`, 'Delete site'))) return;
        try {
          await api.deleteClient(id);
          invalidateClients();
          toast('Site deleted');
          ctx.navigate('#/sites');
        } catch (ex) { toast(ex.message, 'error'); }
      },
    },
  }, 'Delete site');

  main.append(head,
    h('section', { class: 'card', 'aria-labelledby': 'snip-h' },
      h('h2', { id: 'snip-h' }, 'Install snippet'),
      h('p', { class: 'muted' }, 'Paste this on every page of the site, in the head or just before </body> (it loads without blocking the page).'),
      copyBox(c.snippet || '', 'snippet-box', 'Install snippet'),
      h('p', { class: 'muted small' }, 'Client ID: ', h('code', { 'data-testid': 'client-id' }, c.clientId || id))),
    h('section', { class: 'card', 'aria-labelledby': 'settings-h' }, h('h2', { id: 'settings-h' }, 'Settings'), form),
    h('section', { class: 'card danger-zone', 'aria-labelledby': 'danger-h' },
      h('h2', { id: 'danger-h' }, 'Danger zone'),
      h('div', { class: 'row-actions' }, toggleBtn, delBtn)));
}
