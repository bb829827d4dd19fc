// Sign-in: the token is checked against the API before it is kept (sessionStorage, this tab only).

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import { api, session, defaultBase, loadScope } from './api.js';

export function mount(root, ctx) {
  document.title = `${t('signin.title')} · sitegen`;
  const flash = ctx.takeFlash();
  const returnTo = ctx.takeReturnTo();

  const message = h('div', { class: 'signin-message', testid: 'signin-message', 'aria-live': 'assertive' });
  const showMessage = (kind, text) => {
    replace(message, text ? h('p', {
      class: ['notice', `notice-${kind}`], role: kind === 'error' ? 'alert' : 'status',
      testid: kind === 'error' ? 'signin-error' : 'signin-info',
    }, text) : null);
  };
  if (flash) showMessage(flash.kind, flash.text);

  const token = h('input', {
    id: 'signin-token', name: 'token', type: 'password', class: 'input', autocomplete: 'off',
    spellcheck: 'false', autocapitalize: 'off', required: true, testid: 'signin-token',
    'aria-describedby': 'signin-token-hint',
  });
  const fallback = defaultBase() || 'http://127.0.0.1:8000';
  const base = h('input', {
    id: 'signin-api', name: 'api', type: 'url', class: 'input', inputmode: 'url', autocomplete: 'url',
    placeholder: fallback, value: session.customBase, testid: 'signin-api', 'aria-describedby': 'signin-api-hint',
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'signin-submit' }, t('signin.submit'));

  const advanced = h('details', { class: 'advanced', open: session.customBase ? true : null },
    h('summary', null, t('signin.advanced')),
    h('div', { class: 'field' },
      h('label', { for: 'signin-api', class: 'label' }, t('signin.api')),
      base,
      h('p', { id: 'signin-api-hint', class: 'hint' }, t('signin.apiHint', { url: fallback }))));

  const form = h('form', { class: 'signin-form', testid: 'signin-form', novalidate: true },
    h('div', { class: 'field' },
      h('label', { for: 'signin-token', class: 'label' }, t('signin.token')),
      token,
      h('p', { id: 'signin-token-hint', class: 'hint' }, t('signin.tokenHint'))),
    advanced,
    submit);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = token.value.trim();
    const customBase = base.value.trim().replace(/\/+$/, '');
    if (!value) {
      showMessage('error', t('signin.required'));
      token.setAttribute('aria-invalid', 'true');
      token.focus();
      return;
    }
    if (customBase && !/^https?:\/\/[^\s]+$/i.test(customBase)) {
      showMessage('error', t('signin.badUrl'));
      advanced.open = true;
      base.focus();
      return;
    }
    const target = customBase || defaultBase();
    submit.disabled = true;
    submit.textContent = t('signin.checking');
    showMessage(null, null);
    try {
      await api('/orders?limit=1', { token: value, base: target, quiet401: true });
      const scope = await loadScope({ token: value, base: target });
      session.customBase = customBase && customBase !== defaultBase() ? customBase : '';
      session.token = value;
      session.scope = scope;
      ctx.navigate(returnTo && returnTo !== '/signin' ? returnTo : '/orders');
    } catch (err) {
      submit.disabled = false;
      submit.textContent = t('signin.submit');
      if (err.status === 401 || err.status === 403) {
        showMessage('error', t('signin.invalid'));
        token.setAttribute('aria-invalid', 'true');
        token.focus();
        token.select();
      } else if (err.offline) {
        showMessage('error', t('common.unreachable', { url: target }));
      } else {
        showMessage('error', t('common.error', { message: err.message }));
      }
    }
  });

  replace(root,
    h('section', { class: 'signin card', 'aria-labelledby': 'signin-title' },
      h('div', { class: 'signin-head' },
        h('img', { src: 'ui/logo.svg', alt: '', width: '40', height: '40', class: 'signin-logo' }),
        h('h1', { id: 'signin-title' }, t('signin.title')),
        h('p', { class: 'lead' }, t('signin.lead'))),
      message,
      form));
  window.setTimeout(() => token.focus(), 0);
  return null;
}
