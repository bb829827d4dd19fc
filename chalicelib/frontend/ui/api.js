// The sitegen API client. The token and an optional API URL live in sessionStorage (this tab only).
// The API URL defaults to the folder this page was served from, which is the API's own root when
// the API serves the dashboard (GET /), stage prefix included.

const TOKEN_KEY = 'sitegen.token';
const BASE_KEY = 'sitegen.api';
const SCOPE_KEY = 'sitegen.scope';

export function defaultBase() {
  try {
    const here = new URL('.', window.location.href);
    if (here.protocol === 'http:' || here.protocol === 'https:') return here.href.replace(/\/+$/, '');
  } catch (e) { /* fall through */ }
  return '';
}

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
  get customBase() {
    return sessionStorage.getItem(BASE_KEY) || '';
  },
  set customBase(value) {
    if (value) sessionStorage.setItem(BASE_KEY, value.replace(/\/+$/, ''));
    else sessionStorage.removeItem(BASE_KEY);
  },
  get base() {
    return this.customBase || defaultBase();
  },
  // What the token may do (GET /me): 'orders' or 'admin'; '' until known. The API enforces it; the
  // dashboard only hides what the token cannot do.
  get scope() {
    return sessionStorage.getItem(SCOPE_KEY) || '';
  },
  set scope(value) {
    if (value) sessionStorage.setItem(SCOPE_KEY, value);
    else sessionStorage.removeItem(SCOPE_KEY);
  },
  can(scope) {
    return scope !== 'admin' || this.scope !== 'orders';
  },
  signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(SCOPE_KEY);
  },
};

// The token's scope from GET /me; an API without that route predates scopes: every token is admin.
export async function loadScope(options = {}) {
  try {
    const me = await api('/me', { quiet401: true, ...options });
    return me && me.scope === 'orders' ? 'orders' : 'admin';
  } catch (err) {
    if (err && err.missingRoute) return 'admin';
    throw err;
  }
}

export class ApiError extends Error {
  constructor(status, body, message) {
    super(message || (body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.code = this.body.code || null;
    this.details = Array.isArray(this.body.details) ? this.body.details : [];
  }

  // A route the API does not have yet: chalice answers 403 for unknown paths, API Gateway too; 404 otherwise.
  get missingRoute() {
    return this.status === 404 || this.status === 403;
  }

  get offline() {
    return this.status === 0;
  }
}

const unauthorizedListeners = new Set();
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

export async function api(path, options = {}) {
  const { method = 'GET', body, headers = {}, signal, token = session.token, base = session.base, quiet401 = false } = options;
  const init = { method, headers: { Accept: 'application/json', ...headers }, signal, cache: 'no-store' };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(base + path, init);
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, null, 'network error');
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      data = { message: text.slice(0, 300) };
    }
  }
  if (!response.ok) {
    const err = new ApiError(response.status, data);
    if (response.status === 401 && !quiet401) unauthorizedListeners.forEach((fn) => fn(err));
    throw err;
  }
  return data;
}

export function newIdempotencyKey() {
  if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
  return `k-${Date.now()}-${Math.random().toString(16).slice(2)}`;
}
