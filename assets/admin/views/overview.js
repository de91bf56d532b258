// Overview: leads per day (stacked SVG bars), partial → submitted conversion, top forms, totals.
import { api, clientsCached, siteLabel } from '../api.js';
import { h, svg, clear, select, field, loading, errorBox, empty, tableWrap } from '../dom.js';

const SERIES = [['submitted', 'Submitted'], ['partial', 'Partial'], ['chatInquiry', 'Chat inquiry']];

export async function overviewView(ctx) {
  const { main, query, signal } = ctx;
  const clients = await clientsCached();
  const sel = select({ 'data-testid': 'overview-site' },
    [['', 'All sites'], ...clients.map((c) => [c.clientId, siteLabel(c)])], query.get('clientId'));
  const body = h('div', { class: 'overview', 'aria-live': 'polite', 'aria-busy': 'false' });

  main.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Overview'), h('div', { class: 'head-tools' }, field('Site', sel))),
    body);

  let seq = 0;
  async function load() {
    const mine = ++seq;
    body.setAttribute('aria-busy', 'true');
    clear(body).append(loading('Loading statistics…'));
    try {
      const stats = await api.overview(sel.value || undefined, signal);
      if (mine !== seq) return;
      clear(body).append(...render(stats || {}));
    } catch (e) {
      if (e.name === 'AbortError' || mine !== seq) return;
      clear(body).append(errorBox(e));
    } finally {
      body.setAttribute('aria-busy', 'false');
    }
  }
  sel.addEventListener('change', () => { ctx.replaceQuery({ clientId: sel.value }); load(); });
  await load();
}

function render(stats) {
  const days = [...(stats.days || [])].sort((a, b) => String(a.date).localeCompare(String(b.date)));
  const sum = (k) => days.reduce((n, d) => n + (Number(d[k]) || 0), 0);
  const conv = stats.partialToSubmitted || {};
  const totals = stats.totals || {};
  const rate = typeof conv.rate === 'number' ? conv.rate : (conv.partial ? (conv.upgraded || 0) / conv.partial : 0);

  const stat = (label, value, testid) => h('div', { class: 'stat card', 'data-testid': testid },
    h('div', { class: 'stat-value' }, String(value)), h('div', { class: 'stat-label' }, label));

  const cards = h('div', { class: 'stats' },
    stat('Leads (all time)', fmtN(totals.leads), 'total-leads'),
    stat('Events (all time)', fmtN(totals.events), 'total-events'),
    stat('Submitted, 30 days', fmtN(sum('submitted')), 'sum-submitted'),
    stat('Partial, 30 days', fmtN(sum('partial')), 'sum-partial'),
    stat('Chat inquiries, 30 days', fmtN(sum('chatInquiry')), 'sum-chat'));

  const chartCard = h('section', { class: 'card', 'aria-labelledby': 'chart-h' },
    h('h2', { id: 'chart-h' }, 'Leads per day, last 30 days'),
    days.length && days.some((d) => SERIES.some(([k]) => d[k]))
      ? [chart(days), legend(), dataTable(days)]
      : empty('No leads in the last 30 days.'));

  const convCard = h('section', { class: 'card', 'aria-labelledby': 'conv-h', 'data-testid': 'conversion' },
    h('h2', { id: 'conv-h' }, 'Partial → submitted'),
    h('p', { class: 'big' }, `${(rate * 100).toFixed(rate > 0 && rate < 0.1 ? 1 : 0)} %`),
    h('p', { class: 'muted' }, `${fmtN(conv.upgraded)} of ${fmtN(conv.partial)} partial leads were later submitted.`),
    meter(rate));

  const forms = stats.topForms || [];
  const maxLeads = Math.max(1, ...forms.map((f) => Number(f.leads) || 0));
  const formsCard = h('section', { class: 'card', 'aria-labelledby': 'forms-h', 'data-testid': 'top-forms' },
    h('h2', { id: 'forms-h' }, 'Top forms'),
    forms.length
      ? tableWrap('Top forms', h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Form'), h('th', { scope: 'col', class: 'num' }, 'Leads'))),
        h('tbody', {}, forms.map((f) => h('tr', {},
          h('td', {}, h('div', {}, f.formName || f.formId || '—'), meter((Number(f.leads) || 0) / maxLeads)),
          h('td', { class: 'num' }, fmtN(f.leads)))))))
      : empty('No form has produced a lead yet.'));

  return [cards, chartCard, h('div', { class: 'grid-2' }, convCard, formsCard)];
}

const fmtN = (n) => (Number(n) || 0).toLocaleString();

function parseDay(s) {
  const [y, m, d] = String(s).split('-').map(Number);
  return new Date(y, (m || 1) - 1, d || 1);
}
const shortDay = (s) => parseDay(s).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });

/** Integer tick step giving at most ~4 intervals, and the axis maximum. */
function scale(v) {
  const raw = Math.max(1, v) / 4;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw));
  return { step, max: Math.max(step, Math.ceil(v / step) * step) };
}

function chart(days) {
  // A narrower drawing on phones keeps the labels readable once scaled down.
  const small = window.matchMedia('(max-width: 600px)').matches;
  const W = small ? 340 : 720, H = small ? 220 : 260, L = 32, R = 8, T = 12, B = 30;
  const totals = days.map((d) => SERIES.reduce((n, [k]) => n + (Number(d[k]) || 0), 0));
  const { step, max } = scale(Math.max(...totals));
  const plotH = H - T - B;
  const slot = (W - L - R) / days.length;
  const bw = Math.max(2, slot * 0.7);
  const y = (v) => T + plotH - (v / max) * plotH;

  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: small ? 'chart chart-sm' : 'chart', role: 'img', 'aria-labelledby': 'chart-h', 'data-testid': 'leads-chart', preserveAspectRatio: 'xMidYMid meet' });
  for (let v = 0; v <= max; v += step) {
    root.append(
      svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: v ? 'grid' : 'axis' }),
      svg('text', { x: L - 6, y: y(v), dy: '0.32em', 'text-anchor': 'end', class: 'tick' }, String(v)));
  }
  const every = days.length > 14 ? 7 : days.length > 7 ? 2 : 1;
  days.forEach((d, i) => {
    const x = L + i * slot + (slot - bw) / 2;
    const g = svg('g', { class: 'bar', 'data-date': d.date });
    g.append(svg('title', {}, `${shortDay(d.date)}: ${SERIES.map(([k, label]) => `${Number(d[k]) || 0} ${label.toLowerCase()}`).join(', ')}`));
    let acc = 0;
    for (const [k] of SERIES) {
      const v = Number(d[k]) || 0;
      if (!v) continue;
      g.append(svg('rect', { x, width: bw, y: y(acc + v), height: Math.max(0, y(acc) - y(acc + v)), class: `seg seg-${k}` }));
      acc += v;
    }
    // Transparent full-height hit area so the tooltip works on empty days too.
    g.append(svg('rect', { x: L + i * slot, width: slot, y: T, height: plotH, class: 'hit' }));
    root.append(g);
    if ((days.length - 1 - i) % every === 0) {
      const last = i === days.length - 1;
      root.append(svg('text', { x: last ? x + bw : x + bw / 2, y: H - 10, 'text-anchor': last ? 'end' : 'middle', class: 'tick' }, shortDay(d.date)));
    }
  });
  return h('div', { class: 'chart-wrap' }, root);
}

function legend() {
  return h('ul', { class: 'legend' }, SERIES.map(([k, label]) =>
    h('li', {}, h('span', { class: `swatch seg-${k}`, 'aria-hidden': 'true' }), label)));
}

function dataTable(days) {
  return h('details', { class: 'data-details' },
    h('summary', {}, 'Show the numbers'),
    tableWrap('Leads per day', h('table', { class: 'table compact' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Day'), SERIES.map(([, l]) => h('th', { scope: 'col', class: 'num' }, l)))),
      h('tbody', {}, [...days].reverse().map((d) => h('tr', {},
        h('th', { scope: 'row' }, shortDay(d.date)),
        SERIES.map(([k]) => h('td', { class: 'num' }, String(Number(d[k]) || 0)))))))));
}

/** A small horizontal bar (SVG, so no inline style is needed for its width). */
function meter(fraction) {
  const f = Math.max(0, Math.min(1, Number(fraction) || 0));
  return svg('svg', { viewBox: '0 0 100 6', class: 'meter', preserveAspectRatio: 'none', 'aria-hidden': 'true' },
    svg('rect', { x: 0, y: 0, width: 100, height: 6, class: 'meter-bg' }),
    svg('rect', { x: 0, y: 0, width: f * 100, height: 6, class: 'meter-fg' }));
}
