// Admin API client: same-origin session cookie + X-CSRF-Token on writes.

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

let csrfToken = null;
let onUnauthorized = () => {};

export const setCsrf = (t) => { csrfToken = t || null; };
export const setUnauthorizedHandler = (fn) => { onUnauthorized = fn; };

/** Builds "path?k=v" skipping empty values. */
export function withQuery(path, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/**
 * request('GET', '/v1/leads', {query, body, signal, auth:false})
 * auth:false → a 401 is returned as an error instead of sending the user to the login form.
 */
export async function request(method, path, { query, body, signal, auth = true } = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') {
    if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
  }
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(withQuery(path, query), {
      method, headers, signal, credentials: 'same-origin',
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'Cannot reach the server. Check your connection and try again.');
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const e = data && data.error;
    const retry = Number(res.headers.get('Retry-After')) || null;
    let msg = (e && e.message) || `${res.status} ${res.statusText || 'error'}`.trim();
    if (res.status === 429 && !(e && e.message)) msg = 'Too many requests. Please wait and try again.';
    const err = new ApiError(res.status, (e && e.code) || String(res.status), msg, retry);
    if (res.status === 401 && auth) onUnauthorized(err);
    throw err;
  }
  return data;
}

export const get = (path, opts) => request('GET', path, opts);
export const post = (path, body, opts) => request('POST', path, { ...opts, body: body ?? {} });
export const put = (path, body, opts) => request('PUT', path, { ...opts, body });
export const del = (path, opts) => request('DELETE', path, opts);

/** Lists come as {items,nextCursor}; tolerate a bare array too. */
export const items = (data) => (Array.isArray(data) ? data : (data && data.items) || []);

const enc = encodeURIComponent;
export const api = {
  me: (signal) => get('/v1/auth/me', { signal, auth: false }),
  login: (username, password) => post('/v1/auth/login', { username, password }, { auth: false }),
  logout: () => post('/v1/auth/logout', {}, { auth: false }),

  clients: (signal) => get('/v1/clients', { signal }).then(items),
  client: (id, signal) => get(`/v1/clients/${enc(id)}`, { signal }),
  createClient: (body) => post('/v1/clients', body),
  updateClient: (id, body) => put(`/v1/clients/${enc(id)}`, body),
  deleteClient: (id) => del(`/v1/clients/${enc(id)}`),

  forms: (clientId, signal) => get(`/v1/clients/${enc(clientId)}/forms`, { signal }).then(items),
  createForm: (clientId, body) => post(`/v1/clients/${enc(clientId)}/forms`, body),
  updateForm: (id, body) => put(`/v1/forms/${enc(id)}`, body),
  deleteForm: (id) => del(`/v1/forms/${enc(id)}`),
  fields: (formId, signal) => get(`/v1/forms/${enc(formId)}/fields`, { signal }).then(items),
  createField: (formId, body) => post(`/v1/forms/${enc(formId)}/fields`, body),
  updateField: (id, body) => put(`/v1/fields/${enc(id)}`, body),
  deleteField: (id) => del(`/v1/fields/${enc(id)}`),
  /** GET …/mapping may answer with a mapping, {items:[…]}, null, or 404 (none). */
  mapping: (fieldId, signal) => get(`/v1/fields/${enc(fieldId)}/mapping`, { signal })
    .then((d) => (d && d.mappingId ? d : items(d)[0] || null))
    .catch((e) => { if (e.status === 404) return null; throw e; }),
  createMapping: (fieldId, body) => post(`/v1/fields/${enc(fieldId)}/mapping`, body),
  updateMapping: (id, body) => put(`/v1/mappings/${enc(id)}`, body),
  deleteMapping: (id) => del(`/v1/mappings/${enc(id)}`),
  discovered: (clientId, signal) => get(`/v1/clients/${enc(clientId)}/discovered-forms`, { signal }).then(items),
  promote: (clientId, body) => post(`/v1/clients/${enc(clientId)}/discovered-forms/promote`, body),

  leads: (query, signal) => get('/v1/leads', { query, signal }),
  lead: (id, signal) => get(`/v1/leads/${enc(id)}`, { signal }),
  updateLead: (id, body) => put(`/v1/leads/${enc(id)}`, body),
  gdprDelete: (id) => del(`/v1/leads/${enc(id)}/gdpr-delete`),
  exportUrl: (query) => withQuery('/v1/leads/export.csv', query),
  events: (query, signal) => get('/v1/events', { query, signal }),

  overview: (clientId, signal) => get('/v1/stats/overview', { query: { clientId, days: 30 }, signal }),

  tokens: (signal) => get('/v1/tokens', { signal }).then(items),
  createToken: (name) => post('/v1/tokens', { name }),
  revokeToken: (id) => del(`/v1/tokens/${enc(id)}`),
};

// Sites change rarely and many views need their names: cache the list.
let clientsCache = null;
export function clientsCached() {
  if (!clientsCache) clientsCache = api.clients().catch((e) => { clientsCache = null; throw e; });
  return clientsCache;
}
export const invalidateClients = () => { clientsCache = null; };
export const siteLabel = (c) => (c ? c.name || c.domain || c.clientId : '');
