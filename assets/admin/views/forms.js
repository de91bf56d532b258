// Forms of one site: configured forms, their fields and CRM mappings; discovered forms to promote.
import { api, clientsCached, siteLabel } from '../api.js';
import { h, clear, field, select, time, empty, errorBox, loading, cardTable, formDialog, confirmDialog, toast, extLink } from '../dom.js';
import { activeBadge } from './sites.js';

const FIELD_TYPES = ['text', 'email', 'tel', 'textarea', 'select', 'checkbox', 'radio', 'number', 'date', 'url', 'hidden'];
const TRANSFORMS = [['none', 'None'], ['lowercase', 'Lowercase'], ['uppercase', 'Uppercase'], ['trim', 'Trim spaces'],
  ['splitName', 'Split full name'], ['default', 'Default value…'], ['truncate', 'Truncate to n characters…']];
const ENTITIES = ['contact', 'lead', 'company', 'deal'];
const lines = (s) => s.split('\n').map((x) => x.trim()).filter(Boolean);

export async function formsView(ctx) {
  const { main, params } = ctx;
  const clients = await clientsCached();
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Forms')));
  if (!clients.length) {
    main.append(empty('Add a site first.'), h('p', {}, h('a', { href: '#/sites', class: 'btn' }, 'Go to sites')));
    return;
  }
  let clientId = params[0] && clients.some((c) => c.clientId === params[0]) ? params[0] : clients[0].clientId;
  const sel = select({ 'data-testid': 'forms-site' }, clients.map((c) => [c.clientId, siteLabel(c)]), clientId);
  main.querySelector('.page-head').append(h('div', { class: 'head-tools' }, field('Site', sel)));

  const configured = h('div', {});
  const discovered = h('div', {});
  const newBtn = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'form-new', events: { click: () => editForm(null) } }, 'New form');
  main.append(
    h('section', { class: 'section', 'aria-labelledby': 'cf-h' },
      h('div', { class: 'section-head' }, h('h2', { id: 'cf-h' }, 'Configured forms'), newBtn), configured),
    h('section', { class: 'section', 'aria-labelledby': 'df-h' },
      h('div', { class: 'section-head' }, h('h2', { id: 'df-h' }, 'Discovered forms')),
      h('p', { class: 'muted' }, 'Forms the tracker has seen on the site that are not configured yet. Promote one to configure it with its fields.'),
      discovered));

  sel.addEventListener('change', () => {
    clientId = sel.value;
    history.replaceState(null, '', `#/forms/${encodeURIComponent(clientId)}`);
    reload();
  });

  let seq = 0;
  async function reload() {
    const mine = ++seq;
    clear(configured).append(loading('Loading forms…'));
    clear(discovered).append(loading('Loading discovered forms…'));
    await Promise.all([loadConfigured(mine), loadDiscovered(mine)]);
  }

  async function loadConfigured(mine) {
    try {
      const forms = await api.forms(clientId, ctx.signal);
      const cards = await Promise.all(forms.map(formCard));
      if (mine !== seq) return;
      clear(configured).append(...(cards.length ? cards : [empty('No configured forms. Create one, or promote a discovered form below.')]));
    } catch (e) {
      if (e.name !== 'AbortError' && mine === seq) clear(configured).append(errorBox(e));
    }
  }

  async function loadDiscovered(mine) {
    try {
      const list = await api.discovered(clientId, ctx.signal);
      if (mine !== seq) return;
      clear(discovered).append(list.length
        ? cardTable('Discovered forms', ['Selector', 'Page', 'Fields', 'Seen', 'Last seen', ''], list.map((d) => h('tr', { 'data-testid': 'discovered-row' },
            h('td', {}, h('code', {}, d.selector || '—'), d.formRef ? h('div', { class: 'muted small' }, d.formRef) : null),
            h('td', { class: 'url-cell' }, extLink(d.pageUrl)),
            h('td', {}, (d.fieldNames || []).length ? h('ul', { class: 'chips' }, d.fieldNames.map((n) => h('li', {}, String(n)))) : '—'),
            h('td', { class: 'num' }, String(d.seenCount ?? '—')),
            h('td', { class: 'nowrap' }, time(d.lastSeenAt)),
            h('td', {}, h('button', {
              type: 'button', class: 'btn btn-small', 'data-testid': 'promote-button',
              'aria-label': `Promote ${d.selector || 'form'}`, events: { click: (e) => promote(d, e.currentTarget) },
            }, 'Promote')))), { 'data-testid': 'discovered-table' })
        : empty('Nothing discovered yet. Forms appear here once the tracker has seen visitors use them.'));
    } catch (e) {
      if (e.name !== 'AbortError' && mine === seq) clear(discovered).append(errorBox(e));
    }
  }

  async function promote(d, btn) {
    btn.disabled = true;
    try {
      const f = await api.promote(clientId, { selector: d.selector, formName: d.formRef || undefined });
      toast(`Promoted ${f && f.formName ? f.formName : d.selector}`);
      await reload();
      configured.querySelector('h3')?.focus();
    } catch (e) {
      toast(e.message, 'error');
      btn.disabled = false;
    }
  }

  async function formCard(f) {
    let fields = [];
    let fieldsErr = null;
    try { fields = await api.fields(f.formId, ctx.signal); } catch (e) { if (e.name === 'AbortError') throw e; fieldsErr = e; }
    fields.sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
    const maps = await Promise.all(fields.map((x) => api.mapping(x.fieldId, ctx.signal).catch((e) => { if (e.name === 'AbortError') throw e; return null; })));
    const alt = f.alternativeSelectors || [];
    return h('article', { class: 'card form-card', 'data-testid': 'form-card', 'data-form-id': f.formId },
      h('div', { class: 'section-head' },
        h('h3', { tabindex: -1 }, f.formName || f.formSelector || 'Untitled form', ' ', activeBadge(f.isActive)),
        h('div', { class: 'row-actions' },
          h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'form-edit', events: { click: () => editForm(f) } }, 'Edit form'),
          h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'field-new', events: { click: () => editField(f, null, fields.length) } }, 'Add field'),
          h('button', { type: 'button', class: 'btn btn-small btn-danger', 'data-testid': 'form-delete', events: { click: () => deleteForm(f) } }, 'Delete'))),
      h('p', { class: 'small' }, 'Selector ', h('code', {}, f.formSelector || '—'),
        alt.length ? [' · also ', alt.map((s, i) => [i ? ', ' : '', h('code', {}, String(s))])] : null,
        f.pageUrl ? [' · page ', extLink(f.pageUrl)] : null),
      fieldsErr ? errorBox(fieldsErr) : fields.length
        ? cardTable(`Fields of ${f.formName || 'form'}`, ['Field', 'Selector', 'Type', 'Required', 'CRM mapping', ''], fields.map((x, i) => h('tr', { 'data-testid': 'field-row' },
            h('td', {}, h('strong', {}, x.fieldName || '—'), x.label ? h('div', { class: 'muted small' }, x.label) : null),
            h('td', {}, h('code', {}, x.fieldSelector || '—')),
            h('td', {}, x.fieldType || '—'),
            h('td', {}, x.isRequired ? 'yes' : 'no'),
            h('td', { 'data-testid': 'mapping-cell' }, maps[i]
              ? [h('code', {}, `${maps[i].targetEntity || '?'}.${maps[i].targetField || '?'}`),
                maps[i].transform && maps[i].transform !== 'none' ? h('span', { class: 'muted small' }, ` · ${maps[i].transform}`) : null]
              : h('span', { class: 'muted' }, 'not mapped')),
            h('td', {}, h('div', { class: 'row-actions' },
              h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Edit field ${x.fieldName}`, events: { click: () => editField(f, x) } }, 'Edit'),
              h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'mapping-edit', 'aria-label': `CRM mapping of ${x.fieldName}`, events: { click: () => editMapping(x, maps[i]) } }, maps[i] ? 'Mapping' : 'Map'),
              h('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `Delete field ${x.fieldName}`, events: { click: () => deleteField(x) } }, 'Delete'))))), { class: 'compact', 'data-testid': 'fields-table' })
        : empty('No fields yet.'));
  }

  async function editForm(f) {
    const i = {
      name: h('input', { type: 'text', required: true, 'data-testid': 'form-name' }),
      selector: h('input', { type: 'text', required: true, spellcheck: 'false', placeholder: '#contact', 'data-testid': 'form-selector' }),
      alt: h('textarea', { rows: 2, spellcheck: 'false', placeholder: 'form.contact-alt' }),
      page: h('input', { type: 'url', placeholder: 'https://example.com/contact' }),
      active: h('input', { type: 'checkbox' }),
    };
    i.name.value = f?.formName || '';
    i.selector.value = f?.formSelector || '';
    i.alt.value = (f?.alternativeSelectors || []).join('\n');
    i.page.value = f?.pageUrl || '';
    i.active.checked = f ? f.isActive !== false : true;
    const ok = await formDialog({
      title: f ? 'Edit form' : 'New form',
      fields: [field('Name', i.name), field('CSS selector', i.selector, 'How the tracker finds the form on the page.'),
        field('Alternative selectors', i.alt, 'One per line (optional).'), field('Page URL (optional)', i.page), field('Active', i.active)],
      onSubmit: () => {
        const body = { formName: i.name.value.trim(), formSelector: i.selector.value.trim(), alternativeSelectors: lines(i.alt.value),
          pageUrl: i.page.value.trim() || null, isActive: i.active.checked };
        return f ? api.updateForm(f.formId, body) : api.createForm(clientId, body);
      },
    });
    if (ok) { toast(f ? 'Form saved' : 'Form created'); reload(); }
  }

  async function deleteForm(f) {
    if (!(await confirmDialog('Delete this form?', `“${f.formName || f.formSelector}” and its fields and CRM mappings are deleted. Leads already captured are kept.`, 'Delete form'))) return;
    try { await api.deleteForm(f.formId); toast('Form deleted'); reload(); } catch (e) { toast(e.message, 'error'); }
  }

  async function editField(form, x, count) {
    const i = {
      name: h('input', { type: 'text', required: true, spellcheck: 'false', placeholder: 'email', 'data-testid': 'field-name' }),
      selector: h('input', { type: 'text', required: true, spellcheck: 'false', placeholder: '#email', 'data-testid': 'field-selector' }),
      type: select({ 'data-testid': 'field-type' }, FIELD_TYPES.map((t) => [t, t]), x?.fieldType || 'text'),
      label: h('input', { type: 'text' }),
      order: h('input', { type: 'number', step: 1, min: 0, inputmode: 'numeric' }),
      required: h('input', { type: 'checkbox' }),
    };
    i.name.value = x?.fieldName || '';
    i.selector.value = x?.fieldSelector || '';
    i.label.value = x?.label || '';
    i.order.value = x ? (x.order ?? 0) : (count || 0);
    i.required.checked = !!x?.isRequired;
    const ok = await formDialog({
      title: x ? `Edit field ${x.fieldName || ''}` : `Add a field to ${form.formName || 'form'}`,
      fields: [h('div', { class: 'grid-2' }, field('Field name', i.name), field('CSS selector', i.selector)),
        h('div', { class: 'grid-2' }, field('Type', i.type), field('Order', i.order)),
        field('Label (optional)', i.label), field('Required', i.required)],
      onSubmit: () => {
        const body = { fieldName: i.name.value.trim(), fieldSelector: i.selector.value.trim(), fieldType: i.type.value,
          label: i.label.value.trim() || null, order: Number(i.order.value) || 0, isRequired: i.required.checked };
        return x ? api.updateField(x.fieldId, body) : api.createField(form.formId, body);
      },
    });
    if (ok) { toast(x ? 'Field saved' : 'Field added'); reload(); }
  }

  async function deleteField(x) {
    if (!(await confirmDialog('Delete this field?', `The field “${x.fieldName}” and its CRM mapping are deleted.`, 'Delete field'))) return;
    try { await api.deleteField(x.fieldId); toast('Field deleted'); reload(); } catch (e) { toast(e.message, 'error'); }
  }

  async function editMapping(x, m) {
    const [kind, ...rest] = String(m?.transform || 'none').split(':');
    const entity = h('input', { type: 'text', required: true, list: 'crm-entities', spellcheck: 'false', 'data-testid': 'mapping-entity' });
    const target = h('input', { type: 'text', required: true, spellcheck: 'false', placeholder: 'email', 'data-testid': 'mapping-field' });
    const transform = select({ 'data-testid': 'mapping-transform' }, TRANSFORMS, TRANSFORMS.some(([v]) => v === kind) ? kind : 'none');
    const arg = h('input', { type: 'text', 'data-testid': 'mapping-arg' });
    const argField = field('Value', arg);
    const required = h('input', { type: 'checkbox' });
    entity.value = m?.targetEntity || 'contact';
    target.value = m?.targetField || x.fieldName || '';
    arg.value = rest.join(':');
    required.checked = !!m?.isRequired;
    const syncArg = () => {
      const t = transform.value;
      argField.hidden = t !== 'default' && t !== 'truncate';
      argField.querySelector('label').textContent = t === 'truncate' ? 'Maximum length' : 'Default value';
      arg.type = t === 'truncate' ? 'number' : 'text';
      arg.required = !argField.hidden;
      if (t === 'truncate') arg.min = 1; else arg.removeAttribute('min');
    };
    transform.addEventListener('change', syncArg);
    syncArg();
    const removeBtn = m ? h('button', {
      type: 'button', class: 'btn btn-danger btn-small', 'data-testid': 'mapping-delete',
      events: {
        click: async (e) => {
          const dlg = e.currentTarget.closest('dialog');
          if (!(await confirmDialog('Remove this mapping?', `“${x.fieldName}” will no longer be sent to the CRM.`, 'Remove'))) return;
          try { await api.deleteMapping(m.mappingId); dlg.close(); toast('Mapping removed'); reload(); } catch (ex) { toast(ex.message, 'error'); }
        },
      },
    }, 'Remove mapping') : null;
    const ok = await formDialog({
      title: `CRM mapping of ${x.fieldName || 'field'}`,
      testid: 'mapping-dialog',
      fields: [
        h('datalist', { id: 'crm-entities' }, ENTITIES.map((e) => h('option', { value: e }))),
        h('div', { class: 'grid-2' }, field('CRM object', entity), field('CRM field', target)),
        field('Transform', transform), argField, field('Required in the CRM', required), removeBtn],
      onSubmit: () => {
        const t = transform.value;
        if (t === 'truncate' && !(Number(arg.value) >= 1)) throw new Error('Enter the maximum length (a number of 1 or more).');
        const body = { targetEntity: entity.value.trim(), targetField: target.value.trim(),
          transform: t === 'default' || t === 'truncate' ? `${t}:${arg.value.trim()}` : t, isRequired: required.checked };
        return m ? api.updateMapping(m.mappingId, body) : api.createMapping(x.fieldId, body);
      },
    });
    if (ok) { toast('Mapping saved'); reload(); }
  }

  history.replaceState(null, '', `#/forms/${encodeURIComponent(clientId)}`);
  await reload();
}
