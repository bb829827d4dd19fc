// The dashboard shell and hash router: #/signin, #/orders, #/orders/new, #/orders/<id>, #/queue, #/ai, #/webhooks.

import { h, replace } from './dom.js';
import { t, lang, setLang, onLangChange } from './i18n.js';
import { session, onUnauthorized, loadScope } from './api.js';
import * as signin from './signin.js';
import * as orders from './orders.js';
import * as order from './order.js';
import * as queue from './queue.js';
import * as ai from './ai.js';
import * as webhooks from './webhooks.js';

const ROUTES = [
  { re: /^\/signin$/, view: signin.mount, nav: null, public: true },
  { re: /^\/orders\/new$/, view: orders.mountNew, nav: 'orders' },
  { re: /^\/orders\/([^/]+)$/, view: order.mount, nav: 'orders' },
  { re: /^\/orders$/, view: orders.mountList, nav: 'orders' },
  { re: /^\/queue$/, view: queue.mount, nav: 'queue' },
  { re: /^\/ai$/, view: ai.mount, nav: 'ai', scope: 'admin' },
  { re: /^\/webhooks$/, view: webhooks.mount, nav: 'webhooks', scope: 'admin' },
];

const state = { cleanup: null, flash: null, returnTo: null, first: true };
const root = document.getElementById('app');
const announcer = h('div', { class: 'sr-only', 'aria-live': 'polite', role: 'status', testid: 'announcer' });

export function announce(message) {
  announcer.textContent = '';
  window.setTimeout(() => { announcer.textContent = message; }, 30);
}

function currentPath() {
  const raw = decodeURIComponent(window.location.hash.replace(/^#/, '')) || '/orders';
  return raw.split('?')[0].replace(/\/+$/, '') || '/orders';
}

export function navigate(path) {
  if (currentPath() === path) render();
  else window.location.hash = `#${path}`;
}

function header(active, signedIn) {
  const link = (key, path) => h('a', {
    href: `#${path}`, class: ['nav-link', active === key && 'is-active'],
    'aria-current': active === key ? 'page' : null, testid: `nav-${key}`,
  }, t(`nav.${key}`));
  const langButton = h('button', {
    type: 'button', class: 'btn btn-ghost btn-sm', testid: 'lang-toggle',
    'aria-label': t('lang.switch'), title: t('lang.switch'),
    onclick: () => setLang(lang() === 'en' ? 'pt-BR' : 'en'),
  }, h('span', { class: 'lang-long' }, t('lang.other')), h('span', { class: 'lang-short', 'aria-hidden': 'true' }, t('lang.otherShort')));
  const signOut = signedIn && h('button', {
    type: 'button', class: 'btn btn-ghost btn-sm', testid: 'signout',
    onclick: () => {
      session.signOut();
      state.flash = { kind: 'info', text: t('signin.signedOut') };
      navigate('/signin');
    },
  }, t('signout'));
  const skip = h('button', {
    type: 'button', class: 'skip-link',
    onclick: () => { const m = document.getElementById('main'); if (m) m.focus(); },
  }, t('skip'));
  return h('header', { class: 'topbar' },
    skip,
    h('div', { class: 'topbar-inner' },
      h('a', { class: 'brand', href: '#/orders', 'aria-label': `${t('app.name')} — ${t('app.tagline')}` },
        h('img', { src: 'ui/logo.svg', alt: '', width: '28', height: '28' }),
        h('span', { class: 'brand-name' }, t('app.name')),
        h('span', { class: 'brand-tag' }, t('app.tagline'))),
      signedIn && h('nav', { class: 'nav', 'aria-label': t('nav.label') },
        link('orders', '/orders'), link('queue', '/queue'), session.can('admin') && link('ai', '/ai'),
        session.can('admin') && link('webhooks', '/webhooks')),
      h('div', { class: 'topbar-actions' }, langButton, signOut)));
}

function render() {
  if (state.cleanup) {
    try { state.cleanup(); } catch (e) { /* a view's cleanup must not block navigation */ }
    state.cleanup = null;
  }
  const path = currentPath();
  let route = null;
  let params = [];
  for (const r of ROUTES) {
    const m = path.match(r.re);
    if (m) { route = r; params = m.slice(1); break; }
  }
  if (!route) {
    window.location.replace('#/orders');
    return;
  }
  if (!route.public && !session.token) {
    state.returnTo = path;
    window.location.replace('#/signin');
    return;
  }
  if (!route.public && !session.scope) {  // signed in before the dashboard knew scopes: ask once
    loadScope().then((scope) => { session.scope = scope; render(); }).catch(() => { session.scope = 'admin'; render(); });
    return;
  }
  if (route.scope && !session.can(route.scope)) {
    window.location.replace('#/orders');
    return;
  }
  const main = h('main', { id: 'main', tabindex: '-1', class: ['main', route.public && 'main-center'] });
  replace(root, header(route.nav, Boolean(session.token) && !route.public), main, announcer);
  const ctx = {
    navigate,
    announce,
    takeFlash() { const f = state.flash; state.flash = null; return f; },
    flash(kind, text) { state.flash = { kind, text }; },
    takeReturnTo() { const r = state.returnTo; state.returnTo = null; return r; },
  };
  state.cleanup = route.view(main, ctx, params) || null;
  if (!state.first) {
    const heading = main.querySelector('h1');
    if (heading) { heading.setAttribute('tabindex', '-1'); heading.focus({ preventScroll: true }); }
    window.scrollTo(0, 0);
  }
  state.first = false;
}

onUnauthorized(() => {
  if (!session.token) return;
  session.signOut();
  state.flash = { kind: 'error', text: t('signin.expired') };
  const path = currentPath();
  if (path !== '/signin') state.returnTo = path;
  navigate('/signin');
});

onLangChange(() => {
  render();
  const toggle = document.querySelector('[data-testid="lang-toggle"]');
  if (toggle) toggle.focus();
});

window.addEventListener('hashchange', render);
render();
