// Leads table: search, filters, cursor pagination, live polling, CSV export.
import { api, clientsCached, siteLabel } from '../api.js';
import { h, clear, clip, field, select, badge, time, empty, errorBox, loading, tableWrap } from '../dom.js';

const LIMIT = 50;
const POLL_MS = 5000;
export const STATUSES = [['submitted', 'Submitted'], ['partial', 'Partial'], ['chat_inquiry', 'Chat inquiry']];
export const QUALITIES = [['high', 'High'], ['medium', 'Medium'], ['low', 'Low']];
const FILTER_KEYS = ['q', 'clientId', 'status', 'quality', 'from', 'to'];

/** Last leads URL, so the lead page can link back to the same filters. */
export let lastLeadsHash = '#/leads';

// Form names per site, fetched once per site on demand.
const formNames = new Map();
export function formNamesFor(clientId) {
  if (!formNames.has(clientId)) {
    formNames.set(clientId, api.forms(clientId)
      .then((fs) => new Map(fs.map((f) => [f.formId, f.formName || f.formSelector || f.formId])))
      .catch(() => { formNames.delete(clientId); return new Map(); }));
  }
  return formNames.get(clientId);
}

/** yyyy-mm-dd (local day) → RFC 3339 instant at the start (or end) of that day. */
function dayBound(day, end) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day || '')) return undefined;
  const d = new Date(`${day}T00:00:00`);
  if (end) d.setDate(d.getDate() + 1), d.setMilliseconds(-1);
  return d.toISOString();
}

export async function leadsView(ctx) {
  const { main, query, signal } = ctx;
  const clients = await clientsCached();
  const byId = new Map(clients.map((c) => [c.clientId, c]));

  const f = {
    q: h('input', { type: 'search', name: 'q', placeholder: 'Email or name', autocomplete: 'off', spellcheck: 'false', 'data-testid': 'leads-search' }),
    clientId: select({ name: 'clientId', 'data-testid': 'filter-site' }, [['', 'All sites'], ...clients.map((c) => [c.clientId, siteLabel(c)])]),
    status: select({ name: 'status', 'data-testid': 'filter-status' }, [['', 'Any status'], ...STATUSES]),
    quality: select({ name: 'quality', 'data-testid': 'filter-quality' }, [['', 'Any quality'], ...QUALITIES]),
    from: h('input', { type: 'date', name: 'from', 'data-testid': 'filter-from' }),
    to: h('input', { type: 'date', name: 'to', 'data-testid': 'filter-to' }),
  };
  for (const k of FILTER_KEYS) f[k].value = query.get(k) || '';

  const filters = () => Object.fromEntries(FILTER_KEYS.map((k) => [k, f[k].value.trim()]));
  const apiQuery = (cursor) => {
    const v = filters();
    return { clientId: v.clientId, status: v.status, quality: v.quality, q: v.q, from: dayBound(v.from), to: dayBound(v.to, true), cursor, limit: LIMIT };
  };

  const exportLink = h('a', { class: 'btn', 'data-testid': 'export-csv', download: 'leads.csv', href: api.exportUrl({}) }, 'Export CSV');
  const liveStatus = h('p', { class: 'live-status muted', role: 'status', 'data-testid': 'leads-live' });
  const tableBox = h('div', { 'aria-busy': 'false' });
  const prevBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'leads-prev' }, '← Previous');
  const nextBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'leads-next' }, 'Next →');
  const pageInfo = h('span', { class: 'muted', 'data-testid': 'leads-page' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pagination' }, prevBtn, pageInfo, nextBtn);

  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter leads', 'data-testid': 'leads-filters' },
    field('Search', f.q), field('Site', f.clientId), field('Status', f.status), field('Quality', f.quality),
    field('From', f.from), field('To', f.to),
    h('div', { class: 'field actions' },
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'filters-apply' }, 'Search'),
      h('button', { type: 'button', class: 'btn', 'data-testid': 'filters-reset', events: { click: () => { form.reset(); apply(); } } }, 'Clear')));

  // Pagination: `cursors[i]` is the cursor that loads page i (null for the first page).
  let cursors = [null];
  let nextCursor = null;
  let seen = new Set();
  let tbody = null;
  let seq = 0;
  let pollTimer = null;

  function apply() {
    const v = filters();
    ctx.replaceQuery(v);
    lastLeadsHash = location.hash;
    cursors = [null];
    load();
  }
  form.addEventListener('submit', (e) => { e.preventDefault(); apply(); });
  for (const k of ['clientId', 'status', 'quality', 'from', 'to']) f[k].addEventListener('change', apply);
  let debounce;
  f.q.addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(apply, 400); });

  prevBtn.addEventListener('click', () => { if (cursors.length > 1) { cursors.pop(); load(prevBtn); } });
  nextBtn.addEventListener('click', () => { if (nextCursor) { cursors.push(nextCursor); load(nextBtn); } });

  function row(l, fresh) {
    const c = byId.get(l.clientId);
    // formId names a configured form; formRef is how the tracker named an unconfigured one.
    const formLabel = l.formId || l.formRef;
    const formCell = h('td', { class: 'c-form' }, formLabel ? h('span', { class: 'ellipsis', title: formLabel }, formLabel) : '—');
    if (l.formId && l.clientId) {
      formNamesFor(l.clientId).then((m) => { if (m.has(l.formId)) formCell.firstChild.textContent = m.get(l.formId); });
    }
    const name = l.name || [l.firstName, l.lastName].filter(Boolean).join(' ');
    const href = `#/leads/${encodeURIComponent(l.leadId)}`;
    return h('tr', { 'data-testid': 'lead-row', 'data-lead-id': l.leadId, class: fresh ? 'row-new' : undefined },
      h('td', { class: 'c-created nowrap' }, time(l.createdAt)),
      h('td', { class: 'c-email' }, h('a', { href, 'data-testid': 'lead-link' }, clip(l.email || name || '(no email)'))),
      h('td', { class: 'c-name' }, name ? clip(name, 40) : '—'),
      h('td', { class: 'c-site' }, clip(c ? siteLabel(c) : (l.clientId || '—'), 30)),
      h('td', { class: 'c-status' }, badge('status', l.status)),
      h('td', { class: 'c-quality' }, badge('quality', l.quality)),
      formCell);
  }

  async function load(focusAfter) {
    const mine = ++seq;
    stopPoll();
    liveStatus.textContent = '';
    exportLink.setAttribute('href', api.exportUrl({ ...apiQuery(), limit: undefined, cursor: undefined }));
    tableBox.setAttribute('aria-busy', 'true');
    if (!tbody) clear(tableBox).append(loading('Loading leads…'));
    try {
      const data = await api.leads(apiQuery(cursors[cursors.length - 1] || undefined), signal);
      if (mine !== seq) return;
      const list = (data && data.items) || [];
      nextCursor = (data && data.nextCursor) || null;
      seen = new Set(list.map((l) => l.leadId));
      tbody = h('tbody', {}, list.map((l) => row(l)));
      const anyFilter = Object.values(filters()).some(Boolean);
      clear(tableBox).append(list.length
        ? tableWrap('Leads', h('table', { class: 'table leads-table', 'data-testid': 'leads-table' },
          h('thead', {}, h('tr', {}, ['Created', 'Email', 'Name', 'Site', 'Status', 'Quality', 'Form'].map((t) => h('th', { scope: 'col' }, t)))),
          tbody))
        : empty(cursors.length > 1 ? 'No more leads.' : anyFilter ? 'No leads match these filters.' : 'No leads yet. They appear here as soon as a visitor fills in a form on a tracked site.'));
      if (!list.length) tbody = null;
      prevBtn.disabled = cursors.length <= 1;
      nextBtn.disabled = !nextCursor;
      pageInfo.textContent = `Page ${cursors.length}`;
      pager.hidden = cursors.length <= 1 && !nextCursor;
      if (cursors.length === 1) startPoll();
      if (focusAfter && focusAfter.disabled) tableBox.querySelector('a, [tabindex]')?.focus();
    } catch (e) {
      if (e.name === 'AbortError' || mine !== seq) return;
      tbody = null;
      clear(tableBox).append(errorBox(e));
    } finally {
      if (mine === seq) tableBox.setAttribute('aria-busy', 'false');
    }
  }

  // Live updates: only on the first page, only while the tab is visible.
  function startPoll() {
    stopPoll();
    pollTimer = setTimeout(poll, POLL_MS);
  }
  function stopPoll() { clearTimeout(pollTimer); pollTimer = null; }
  async function poll() {
    const mine = seq;
    if (document.hidden || cursors.length !== 1) { startPoll(); return; }
    try {
      const data = await api.leads(apiQuery(), signal);
      if (mine !== seq || signal.aborted) return;
      const fresh = ((data && data.items) || []).filter((l) => !seen.has(l.leadId));
      if (fresh.length) {
        fresh.forEach((l) => seen.add(l.leadId));
        const news = `${fresh.length} new lead${fresh.length === 1 ? '' : 's'} at ${new Date().toLocaleTimeString()}`;
        if (!tbody) {
          // The first leads replace the empty state; still announce them.
          await load();
          if (tbody && !signal.aborted) liveStatus.textContent = news;
          return;
        }
        tbody.prepend(...fresh.map((l) => row(l, true)));
        liveStatus.textContent = news;
      }
    } catch (e) {
      if (e.name === 'AbortError' || signal.aborted) return;
      // A failed poll is retried silently on the next tick.
    }
    if (mine === seq) startPoll();
  }

  lastLeadsHash = location.hash || '#/leads';
  main.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Leads'), h('div', { class: 'head-tools' }, exportLink)),
    h('section', { class: 'card' }, form),
    h('section', { class: 'card flush' }, liveStatus, tableBox, pager));
  await load();
  return () => { stopPoll(); clearTimeout(debounce); };
}
