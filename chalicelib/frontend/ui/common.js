// Small pieces shared by the views.

import { h } from './dom.js';
import { t } from './i18n.js';
import { session } from './api.js';

export function errorText(err) {
  if (err && err.offline) return t('common.unreachable', { url: session.base });
  return t('common.error', { message: (err && err.message) || String(err) });
}

export function errorNotice(err, retry) {
  return h('div', { class: 'notice notice-error', role: 'alert', testid: 'error-notice' },
    h('span', null, errorText(err)),
    retry && h('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: retry }, t('common.retry')));
}

export function statusBadge(status, testid) {
  return h('span', { class: ['badge', `badge-${status}`], testid, 'data-status': status },
    h('span', { class: 'badge-dot', 'aria-hidden': 'true' }),
    t(`status.${status}`));
}

export function mutedNote(text, testid) {
  return h('p', { class: 'note-muted', testid }, text);
}
