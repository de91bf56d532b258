// One lead: all captured data, quality, CRM sync, event timeline, status edit, GDPR delete.
import { api, clientsCached, siteLabel } from '../api.js';
import { h, clear, field, select, badge, time, kvList, renderValue, extLink, confirmDialog, toast, empty, errorBox, loading } from '../dom.js';
import { STATUSES, QUALITIES, lastLeadsHash, formNamesFor } from './leads.js';

const REASONS = {
  honeypot_filled: 'The hidden honeypot field was filled in (typical of bots).',
  too_fast: 'The form was filled in faster than a person could.',
  submitted_too_fast: 'The form was filled in faster than a person could.',
  disposable_email: 'The email address belongs to a disposable-mail provider.',
  no_contact_data: 'Neither an email address nor a phone number was given.',
};

const EVENT_LABELS = {
  form_submission: 'Form submitted',
  form_interaction: 'Form interaction',
  chat_message_sent: 'Chat message',
  tracker_initialized: 'Tracker loaded',
};

export async function leadView(ctx) {
  const { main, params, signal } = ctx;
  const id = params[0];
  const [lead, clients] = await Promise.all([api.lead(id, signal), clientsCached().catch(() => [])]);
  let l = lead;
  const formNames = l.clientId && l.formId ? await formNamesFor(l.clientId) : new Map();
  const site = clients.find((c) => c.clientId === l.clientId);
  const title = l.email || l.name || 'Lead';
  ctx.setTitle(title);

  const badges = h('p', { class: 'badges' });
  const renderBadges = () => clear(badges).append(badge('status', l.status), ' ', badge('quality', l.quality));
  renderBadges();

  // ----- status / quality edit -----
  const statusSel = select({ name: 'status', 'data-testid': 'lead-status-select' }, STATUSES, l.status);
  const qualitySel = select({ name: 'quality', 'data-testid': 'lead-quality-select' }, QUALITIES, l.quality);
  const editErr = h('div', { class: 'form-error', role: 'alert' });
  const saveBtn = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'lead-save' }, 'Save');
  const editForm = h('form', { class: 'inline-form', 'data-testid': 'lead-edit-form' },
    field('Status', statusSel), field('Quality', qualitySel), h('div', { class: 'field actions' }, saveBtn), editErr);
  editForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    editErr.textContent = '';
    saveBtn.disabled = true;
    try {
      const body = { status: statusSel.value, quality: qualitySel.value };
      l = (await api.updateLead(id, body)) || { ...l, ...body };
      renderBadges();
      toast('Lead updated');
    } catch (ex) {
      editErr.textContent = ex.message;
    } finally {
      saveBtn.disabled = false;
    }
  });

  // ----- GDPR delete -----
  const gdprBtn = h('button', {
    type: 'button', class: 'btn btn-danger', 'data-testid': 'lead-gdpr-delete',
    events: {
      click: async () => {
        if (!(await confirmDialog('Erase this lead (GDPR)?',
          `All data of ${l.email || 'this lead'} and its events are permanently erased here, and the deletion is passed on to the CRM. This cannot be undone.`, 'Erase lead'))) return;
        try {
          await api.gdprDelete(id);
          toast('Lead erased');
          ctx.navigate(lastLeadsHash);
        } catch (ex) { toast(ex.message, 'error'); }
      },
    },
  }, 'Erase lead (GDPR)');

  const md = l.metadata && typeof l.metadata === 'object' ? l.metadata : {};
  const { page, attribution, formProgress, ...otherMeta } = md;
  const reasons = Array.isArray(l.qualityReasons) ? l.qualityReasons : [];
  const fields = l.fields && typeof l.fields === 'object' ? Object.entries(l.fields) : [];

  const card = (titleText, testid, ...content) => h('section', { class: 'card', 'data-testid': testid },
    h('h2', {}, titleText), ...content);

  const timeline = h('div', { 'data-testid': 'lead-timeline' }, loading('Loading events…'));

  main.append(
    h('div', { class: 'page-head' },
      h('div', {},
        h('p', { class: 'crumbs' }, h('a', { href: lastLeadsHash, 'data-testid': 'back-to-leads' }, '← Leads')),
        h('h1', { class: 'break', 'data-testid': 'lead-title' }, title),
        badges,
        h('p', { class: 'muted small' }, 'Created ', time(l.createdAt), ' · ', site ? h('a', { href: `#/sites/${encodeURIComponent(site.clientId)}` }, siteLabel(site)) : (l.clientId || '')))),
    h('div', { class: 'grid-2' },
      card('Contact', 'lead-contact', kvList([
        ['Email', l.email], ['Name', l.name], ['First name', l.firstName], ['Last name', l.lastName],
        ['Phone', l.phone], ['Company', l.company],
        ['Message', l.message ? h('span', { class: 'pre' }, String(l.message)) : null],
      ])),
      card('Status and quality', 'lead-quality', editForm,
        h('h3', {}, 'Quality reasons'),
        reasons.length
          ? h('ul', { class: 'reasons', 'data-testid': 'quality-reasons' }, reasons.map((r) => h('li', {}, h('code', {}, String(r)), ' ', REASONS[r] || '')))
          : h('p', { class: 'muted' }, 'No spam signals.'))),
    card('All captured fields', 'lead-fields', fields.length
      ? kvList(fields.map(([k, v]) => [k, v]))
      : empty('No fields were captured.')),
    h('div', { class: 'grid-2' },
      card('Attribution', 'lead-attribution', attribution && Object.keys(attribution).length ? kvList(Object.entries(attribution)) : empty('No attribution data.')),
      card('Page and form', 'lead-page', kvList([
        ['Page URL', page && page.url ? extLink(page.url) : null],
        ['Path', page && page.path], ['Title', page && page.title],
        ['Referrer', page && page.referrer ? extLink(page.referrer) : null],
        ['Form', formNames.get(l.formId) || l.formId || l.formRef], ['Form progress', formProgress],
        ['Source', l.source], ['Session', l.sessionId], ['Visitor', l.visitorId],
        ['Submitted', l.submittedAt ? time(l.submittedAt) : null],
        ['Last interaction', l.lastInteractionAt ? time(l.lastInteractionAt) : null],
      ]))),
    h('div', { class: 'grid-2' },
      card('CRM sync', 'lead-crm', kvList([
        ['Sync status', l.syncStatus ? h('span', { class: 'badge badge-sync' }, String(l.syncStatus).replace(/_/g, ' ')) : 'not synced'],
        ['CRM id', l.crmId], ['Synced at', l.crmSyncedAt ? time(l.crmSyncedAt) : null],
      ])),
      card('Other metadata', 'lead-metadata', Object.keys(otherMeta).length ? renderValue(otherMeta) : empty('None.'))),
    card('Timeline', 'lead-timeline-card', timeline),
    h('section', { class: 'card danger-zone' }, h('h2', {}, 'Danger zone'),
      h('p', { class: 'muted' }, 'Use this to answer a data-erasure request.'), gdprBtn));

  loadEvents(timeline, id, signal);
}

async function loadEvents(box, leadId, signal, cursor, list) {
  try {
    const data = await api.events({ leadId, cursor, limit: 100 }, signal);
    const evs = (data && data.items) || [];
    if (!list) {
      list = h('ol', { class: 'timeline' });
      clear(box).append(evs.length ? list : empty('No events recorded for this lead.'));
    }
    list.append(...evs.map(eventItem));
    box.querySelector('.more')?.remove();
    if (data && data.nextCursor) {
      box.append(h('button', {
        type: 'button', class: 'btn more', 'data-testid': 'timeline-more',
        events: { click: (e) => { e.target.disabled = true; loadEvents(box, leadId, signal, data.nextCursor, list); } },
      }, 'Load more events'));
    }
  } catch (e) {
    if (e.name === 'AbortError') return;
    clear(box).append(errorBox(e));
  }
}

function eventItem(ev) {
  const p = ev.payload && typeof ev.payload === 'object' ? ev.payload : {};
  const bits = [];
  if (p.trigger) bits.push(`on ${p.trigger}`);
  if (p.fieldName) bits.push(`field ${p.fieldName}`);
  if (p.formProgress && p.formProgress.percentComplete != null) bits.push(`${p.formProgress.percentComplete}% complete`);
  if (p.page && p.page.path) bits.push(String(p.page.path));
  return h('li', { class: `tl-item tl-${/^[a-z_]+$/.test(ev.eventType || '') ? ev.eventType : 'other'}`, 'data-testid': 'timeline-event' },
    h('div', { class: 'tl-head' },
      h('strong', {}, EVENT_LABELS[ev.eventType] || String(ev.eventType || 'event')), ' ',
      h('span', { class: 'muted' }, time(ev.timestamp || ev.createdAt))),
    bits.length ? h('div', { class: 'tl-sub' }, bits.join(' · ')) : null,
    h('details', {}, h('summary', {}, 'Payload'), h('pre', { class: 'json' }, JSON.stringify(p, null, 2))));
}
