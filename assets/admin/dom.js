// DOM helpers. Every piece of data reaches the page through textContent or a
// checked attribute: no HTML parsing of strings anywhere in the dashboard.

const SAFE_ATTRS = new Set([
  'id', 'class', 'type', 'name', 'for', 'title', 'role', 'tabindex', 'placeholder',
  'autocomplete', 'inputmode', 'min', 'max', 'step', 'rows', 'maxlength', 'required',
  'colspan', 'scope', 'datetime', 'target', 'rel', 'download', 'method', 'novalidate',
  'list', 'lang', 'form', 'spellcheck', 'hidden', 'pattern', 'readonly', 'multiple', 'size',
]);
const PROPS = new Set(['value', 'checked', 'disabled', 'selected']);

/** Only same-origin paths ("/…", "#…") and absolute http(s) URLs are ever put in href. */
export function safeUrl(url) {
  const s = String(url ?? '').trim();
  if (/^#/.test(s) || /^\/(?![/\\])/.test(s)) return s;
  try {
    const u = new URL(s);
    if (u.protocol === 'http:' || u.protocol === 'https:') return u.href;
  } catch { /* not a URL */ }
  return null;
}

// Bidirectional overrides and isolates in visitor text would reorder the dashboard's own
// words around them (a field "invoice\u202Egnp.exe" reads "invoiceexe.png", a confirm
// dialog's sentence comes out backwards): they are never shown, as the CSV export drops them.
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;
const shown = (s) => String(s).replace(BIDI_CONTROLS, '');

function setAttr(el, k, v) {
  if (v === undefined || v === null || v === false) return;
  const key = k.toLowerCase();
  if (key.startsWith('on')) throw new Error(`refused event attribute ${k}`);
  if (key === 'events') {
    for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
  } else if (key === 'href') {
    const u = safeUrl(v);
    if (u) el.setAttribute('href', u);
  } else if (PROPS.has(key)) {
    el[key] = v;
  } else if (SAFE_ATTRS.has(key) || key.startsWith('data-') || key.startsWith('aria-')) {
    el.setAttribute(k, v === true ? '' : shown(v));
  } else {
    throw new Error(`refused attribute ${k}`);
  }
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(shown(c)));
  }
}

/** h('a', {href, class}, 'text', child, [more]) → Element. Strings become text nodes. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) setAttr(el, k, v);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const SVG_ATTRS = /^(class|x|y|x1|x2|y1|y2|width|height|viewBox|role|aria-[a-z]+|text-anchor|focusable|preserveAspectRatio|d|dy|dx|data-[a-z-]+)$/;
/** Same contract as h() for SVG elements (geometry and classes only). */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    if (!SVG_ATTRS.test(k)) throw new Error(`refused svg attribute ${k}`);
    el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** A link for a visitor-supplied URL: http(s) only, otherwise plain text. */
export function extLink(url, text) {
  const s = String(url ?? '');
  if (!s) return h('span', { class: 'muted' }, '—');
  const u = /^https?:/i.test(s.trim()) ? safeUrl(s) : null;
  return u ? h('a', { href: u, target: '_blank', rel: 'noopener noreferrer nofollow' }, text ?? s) : h('span', {}, text ?? s);
}

/** Shortens long text for table cells; the full value stays in the tooltip. */
export function clip(text, max = 60) {
  const s = String(text ?? '');
  return s.length > max ? h('span', { title: s }, `${s.slice(0, max - 1)}…`) : s;
}

export function fmtDate(iso, withTime = true) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return withTime
    ? d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

export function time(iso) {
  return h('time', { datetime: iso || undefined, title: iso || undefined }, fmtDate(iso));
}

export function badge(kind, value) {
  const v = String(value ?? 'unknown');
  const cls = /^[a-z_]+$/.test(v) ? v : 'unknown';
  return h('span', { class: `badge badge-${kind}-${cls}`, 'data-testid': `${kind}-badge` }, v.replace(/_/g, ' '));
}

let uid = 0;
/** Labelled form control. `control` is an element; its id is wired to the label. */
export function field(label, control, hint) {
  const id = control.id || `f${++uid}`;
  control.id = id;
  let hintEl = null;
  if (hint) {
    hintEl = h('p', { class: 'hint', id: `${id}-hint` }, hint);
    control.setAttribute('aria-describedby', hintEl.id);
  }
  const isCheck = control.type === 'checkbox';
  return h('div', { class: isCheck ? 'field check' : 'field' },
    isCheck ? [control, h('label', { for: id }, label)] : [h('label', { for: id }, label), control], hintEl);
}

export function select(attrs, options, current) {
  return h('select', attrs, options.map(([v, label]) =>
    h('option', { value: v, selected: String(v) === String(current ?? '') }, label)));
}

export const loading = (what = 'Loading…') => h('p', { class: 'state loading', role: 'status', 'data-testid': 'loading' }, what);
export const empty = (what) => h('p', { class: 'state empty', 'data-testid': 'empty' }, what);
export const errorBox = (err) => h('div', { class: 'state error', role: 'alert', 'data-testid': 'error' },
  String(err?.message || err || 'Something went wrong'));

/** Horizontal-scroll wrapper for tables (keyboard scrollable). */
export function tableWrap(label, table) {
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': label, tabindex: 0 }, table);
}

/**
 * A table that turns into stacked cards on phones: each cell gets its column
 * header as data-label (shown by CSS). `rows` are <tr> elements.
 */
export function cardTable(label, headers, rows, attrs = {}) {
  for (const tr of rows) {
    [...tr.children].forEach((td, i) => { if (headers[i]) td.dataset.label = headers[i]; });
  }
  return tableWrap(label, h('table', { ...attrs, class: `table cards ${attrs.class || ''}`.trim() },
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows)));
}

// ---------- toasts ----------
export function toast(msg, kind = 'ok') {
  const box = document.getElementById('toasts');
  const t = h('div', { class: `toast toast-${kind}`, 'data-testid': 'toast' }, msg);
  box.appendChild(t);
  while (box.children.length > 3) box.firstChild.remove();
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4500);
}

// ---------- dialogs ----------
/**
 * Modal <dialog>. showModal() makes the rest of the page inert (focus stays
 * inside); focus returns to the opener when it closes. Resolves with the
 * value passed to close(), or null when cancelled.
 */
export function openDialog({ title, body, actions, initialFocus, testid = 'dialog' }) {
  const opener = document.activeElement;
  const titleId = `dlg${++uid}`;
  const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': titleId, 'data-testid': testid });
  return new Promise((resolve) => {
    let result = null;
    const close = (v) => { result = v; dlg.close(); };
    append(dlg, [h('h2', { id: titleId }, title), body, h('div', { class: 'dialog-actions' }, actions(close))]);
    dlg.addEventListener('close', () => {
      dlg.remove();
      if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
      else document.querySelector('main h1')?.focus();
      resolve(result);
    });
    document.body.appendChild(dlg);
    dlg.showModal();
    const f = typeof initialFocus === 'function' ? initialFocus(dlg) : null;
    (f || dlg.querySelector('input,select,textarea,button'))?.focus();
  });
}

/** Confirmation with a real Cancel button (focused first) and a labelled confirm button. */
export function confirmDialog(title, message, confirmLabel = 'Confirm', danger = true) {
  let cancelBtn;
  return openDialog({
    title,
    testid: 'confirm-dialog',
    body: h('p', {}, message),
    actions: (close) => [
      cancelBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'confirm-cancel', events: { click: () => close(false) } }, 'Cancel'),
      h('button', { type: 'button', class: danger ? 'btn btn-danger' : 'btn btn-primary', 'data-testid': 'confirm-ok', events: { click: () => close(true) } }, confirmLabel),
    ],
    initialFocus: () => cancelBtn,
  }).then(Boolean);
}

/**
 * Form in a dialog. build(values) returns the form fields; onSubmit(form)
 * resolves when saved or throws (the error is shown inside the dialog).
 */
export function formDialog({ title, fields, submitLabel = 'Save', onSubmit, testid = 'form-dialog' }) {
  const err = h('div', { class: 'dialog-error', role: 'alert' });
  const form = h('form', { class: 'stack', novalidate: true, id: `form${++uid}` }, fields, err);
  let closeFn;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    const btn = form.parentElement.querySelector('.dialog-actions button[type=submit]');
    btn.disabled = true;
    clear(err);
    try {
      closeFn(await onSubmit(form) ?? true);
    } catch (ex) {
      err.textContent = ex.message;
      btn.disabled = false;
    }
  });
  return openDialog({
    title, testid, body: form,
    actions: (close) => {
      closeFn = close;
      return [
        h('button', { type: 'button', class: 'btn', events: { click: () => close(null) } }, 'Cancel'),
        h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'dialog-submit', form: form.id }, submitLabel),
      ];
    },
  });
}

// ---------- copy ----------
/** A read-only box with a Copy button; falls back to selecting the text. */
export function copyBox(value, testid, label) {
  const box = h('textarea', { class: 'copy-text', readonly: true, rows: Math.min(4, Math.ceil(String(value).length / 70) || 1), 'data-testid': testid, spellcheck: 'false', 'aria-label': label });
  box.value = value;
  const status = h('span', { class: 'copy-status', role: 'status' });
  const btn = h('button', {
    type: 'button', class: 'btn', 'data-testid': `${testid}-copy`,
    events: {
      click: async () => {
        try {
          await navigator.clipboard.writeText(value);
          status.textContent = 'Copied';
        } catch {
          box.focus();
          box.select();
          status.textContent = 'Press Ctrl+C (⌘C) to copy';
        }
        setTimeout(() => { status.textContent = ''; }, 3000);
      },
    },
  }, 'Copy');
  return h('div', { class: 'copy-box' }, box, h('div', { class: 'copy-actions' }, btn, status));
}

/** Generic read-only rendering of a JSON value (objects as nested <dl>). */
export function renderValue(v, depth = 0) {
  if (v === null || v === undefined || v === '') return h('span', { class: 'muted' }, '—');
  if (Array.isArray(v)) {
    if (!v.length) return h('span', { class: 'muted' }, '—');
    if (v.every((x) => typeof x !== 'object' || x === null)) return h('span', {}, v.map(String).join(', '));
    return h('ol', { class: 'plain' }, v.map((x) => h('li', {}, renderValue(x, depth + 1))));
  }
  if (typeof v === 'object') {
    if (depth > 4) return h('code', {}, JSON.stringify(v));
    return kvList(Object.entries(v).map(([k, x]) => [k, renderValue(x, depth + 1)]));
  }
  const s = String(v);
  if (/^https?:\/\//i.test(s)) return extLink(s);
  return h('span', { class: 'value' }, s);
}

export function kvList(pairs, testid) {
  return h('dl', { class: 'kv', 'data-testid': testid }, pairs.map(([k, v]) => [
    h('dt', {}, k), h('dd', {}, v instanceof Node ? v : renderValue(v)),
  ]));
}
