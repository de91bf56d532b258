// Entry: auth gate, hash router, layout chrome.
import { api, setCsrf, setUnauthorizedHandler, invalidateClients } from './api.js';
import { h, clear, errorBox, loading } from './dom.js';
import { loginView } from './views/login.js';
import { overviewView } from './views/overview.js';
import { leadsView } from './views/leads.js';
import { leadView } from './views/lead.js';
import { sitesView, siteView } from './views/sites.js';
import { formsView } from './views/forms.js';
import { tokensView } from './views/tokens.js';

const main = document.getElementById('main');
const topbar = document.getElementById('topbar');
const nav = document.getElementById('nav');
const menuBtn = document.getElementById('menu-btn');

const ROUTES = [
  [/^overview$/, overviewView, 'overview'],
  [/^leads$/, leadsView, 'leads'],
  [/^leads\/([^/]+)$/, leadView, 'leads'],
  [/^sites$/, sitesView, 'sites'],
  [/^sites\/([^/]+)$/, siteView, 'sites'],
  [/^forms(?:\/([^/]+))?$/, formsView, 'forms'],
  [/^tokens$/, tokensView, 'tokens'],
];

let user = null;
let current = { abort: null, cleanup: null };

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs = ''] = raw.split('?');
  return { path: path.replace(/\/+$/, ''), query: new URLSearchParams(qs) };
}

/** Rewrites the query part of the current route without re-rendering (filters, site pickers). */
function replaceQuery(path, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) q.set(k, v);
  const s = q.toString();
  history.replaceState(null, '', `#/${path}${s ? `?${s}` : ''}`);
}

function decodeParam(p) {
  if (p === undefined) return p;
  try { return decodeURIComponent(p); } catch { return p; }
}

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function teardown() {
  current.abort?.abort();
  try { current.cleanup?.(); } catch { /* ignore */ }
  current = { abort: null, cleanup: null };
}

async function route() {
  if (!user) return;
  const { path, query } = parseHash();
  if (path === 'main') return; // skip link target, not a route
  if (!path) { history.replaceState(null, '', '#/overview'); return route(); }
  teardown();
  nav.classList.remove('open');
  menuBtn.setAttribute('aria-expanded', 'false');
  const match = ROUTES.map(([re, view, section]) => [re.exec(path), view, section]).find(([m]) => m);
  for (const a of nav.querySelectorAll('a[data-route]')) {
    if (match && a.dataset.route === match[2]) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  clear(main).append(loading());
  if (!match) {
    clear(main).append(h('h1', { tabindex: -1 }, 'Page not found'),
      h('p', {}, h('a', { href: '#/overview' }, 'Go to the overview')));
    main.querySelector('h1').focus();
    return;
  }
  const [m, view] = match;
  let titled = false;
  const abort = new AbortController();
  current.abort = abort;
  const ctx = {
    main: h('div', { class: 'view' }),
    params: m.slice(1).map(decodeParam),
    query,
    signal: abort.signal,
    navigate,
    replaceQuery: (q) => replaceQuery(path, q),
    setTitle: (t) => { titled = true; document.title = `${t} · CRM Web Tracker`; },
  };
  try {
    const cleanup = await view(ctx);
    if (abort.signal.aborted) { cleanup?.(); return; }
    current.cleanup = cleanup || null;
  } catch (e) {
    if (e.name === 'AbortError' || abort.signal.aborted) return;
    if (e.status === 401) return; // handled by the unauthorized handler
    clear(ctx.main).append(h('h1', { tabindex: -1 }, e.status === 404 ? 'Not found' : 'Something went wrong'), errorBox(e),
      h('button', { type: 'button', class: 'btn', events: { click: route } }, 'Try again'));
  }
  clear(main).append(ctx.main);
  const h1 = main.querySelector('h1');
  if (h1) {
    h1.setAttribute('tabindex', '-1');
    if (!titled) document.title = `${h1.textContent} · CRM Web Tracker`;
    if (!initialLoad) h1.focus({ preventScroll: false });
  }
  initialLoad = false;
}
let initialLoad = true;

function showLogin(message) {
  user = null;
  setCsrf(null);
  invalidateClients();
  teardown();
  topbar.hidden = true;
  document.title = 'Sign in · CRM Web Tracker';
  for (const d of document.querySelectorAll('dialog')) d.close();
  clear(document.getElementById('toasts'));
  clear(main).append(loginView({
    message,
    onLogin: (me) => signedIn(me, true),
  }));
}

function signedIn(me, focus) {
  user = me;
  setCsrf(me.csrfToken);
  topbar.hidden = false;
  document.getElementById('user-name').textContent = me.username || '';
  initialLoad = !focus;
  route();
}

async function boot() {
  clear(main).append(loading());
  try {
    signedIn(await api.me());
  } catch (e) {
    if (e.status === 401) showLogin();
    else {
      clear(main).append(h('h1', {}, 'Cannot load the dashboard'), errorBox(e),
        h('button', { type: 'button', class: 'btn', events: { click: boot } }, 'Retry'));
    }
  }
}

setUnauthorizedHandler(() => {
  if (user) showLogin('Your session has ended. Please sign in again.');
});

window.addEventListener('hashchange', route);

menuBtn.addEventListener('click', () => {
  const open = nav.classList.toggle('open');
  menuBtn.setAttribute('aria-expanded', String(open));
});

document.getElementById('logout').addEventListener('click', async () => {
  try { await api.logout(); } catch { /* the session is dropped locally anyway */ }
  showLogin('You have been signed out.');
});

// The skip link must not change the hash (that is the router's).
document.getElementById('skip-link').addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});

document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && nav.classList.contains('open')) {
    nav.classList.remove('open');
    menuBtn.setAttribute('aria-expanded', 'false');
    menuBtn.focus();
  }
});

boot();
