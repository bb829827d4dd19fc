// The order page's versions panel: the site's live address, auto-publish, and each version with
// Publish / Roll back.

import { h, replace } from './dom.js';
import { t, fmtDateTime } from './i18n.js';
import { api } from './api.js';
import { orderPath } from './order_state.js';

export function createVersions(state, view) {
  const body = h('div', { testid: 'versions-body' });
  const element = h('section', { class: 'card versions-card', 'aria-labelledby': 'versions-title', testid: 'versions' },
    h('h2', { id: 'versions-title', class: 'card-title' }, t('versions.title')), body);

  async function refresh() {
    try {
      const list = await api(orderPath(state, '/versions'));
      if (!state.alive) return;
      state.versions = list;
      render();
    } catch (err) { /* the list stays as it was */ }
  }

  function render() {
    const v = state.versions;
    if (!v) return;
    const live = v.items.find((item) => item.live);
    const link = h('a', { href: v.live_url, target: '_blank', rel: 'noopener noreferrer', class: 'url', testid: 'live-url' },
      v.live_url, h('span', { 'aria-hidden': 'true' }, ' ↗'));
    const auto = h('input', { type: 'checkbox', id: 'auto-publish', testid: 'auto-publish', checked: v.auto_publish });
    auto.addEventListener('change', () => view.act(async () => {
      const changed = await api(orderPath(state), { method: 'PATCH', body: { auto_publish: auto.checked } });
      state.order = changed;
      view.say(t(changed.auto_publish ? 'versions.autoOn' : 'versions.autoOff'), 'info');
      await refresh();
    }));
    const rows = v.items.map((item) => versionRow(item, live));
    replace(body,
      h('div', { class: 'live-address' },
        h('p', { class: 'live-label' }, t('versions.liveUrl')), h('p', { class: 'live-link' }, link),
        h('p', { class: 'muted small' }, live ? t('versions.liveUrlHint') : t('versions.noLive'))),
      h('p', { class: 'auto-publish' }, auto, ' ', h('label', { for: 'auto-publish' }, t('versions.autoPublish'))),
      v.switch_pending ? h('p', { class: 'notice notice-warning', role: 'status', testid: 'switch-pending' }, t('versions.pending')) : null,
      rows.length ? h('ul', { class: 'versions', testid: 'version-list' }, rows) : h('p', { class: 'muted', testid: 'versions-empty' }, t('versions.empty')),
      rows.length ? h('p', { class: 'muted small' }, t('versions.keep', { n: v.keep_versions })) : null);
  }

  function versionRow(item, live) {
    const deleted = Boolean(item.files_deleted_at);
    const meta = [t('versions.made', { date: fmtDateTime(item.finished_at, true) }), t('versions.pages', { n: item.pages.length }),
      item.regenerated_page ? t('versions.regenOf', { page: item.regenerated_page }) : null,
      deleted ? t('versions.deleted') : null].filter(Boolean).join(' · ');
    let action = null;
    if (!item.live && !deleted) {
      const older = live && item.number < live.number;
      action = h('button', {
        type: 'button', class: ['btn', 'btn-sm', older ? 'btn-secondary' : 'btn-primary'],
        testid: older ? 'version-rollback' : 'version-publish',
        onclick: () => view.act(async () => {
          state.versions = await api(orderPath(state, `/versions/${encodeURIComponent(item.generation_id)}/publish`), { method: 'POST' });
          render();
          view.say(t('versions.published', { n: item.number }), 'info');
        }),
      }, older ? t('versions.rollback') : t('versions.publish'));
    }
    return h('li', { class: ['version', item.live && 'is-live'], testid: 'version', 'data-generation-id': item.generation_id,
      'data-live': String(item.live) },
    h('span', { class: 'version-number' }, t('versions.number', { n: item.number })),
    item.live ? h('span', { class: 'badge badge-succeeded', testid: 'version-live' }, t('versions.live')) : null,
    h('span', { class: 'version-meta' }, meta),
    h('span', { class: 'version-actions' },
      item.preview_url ? h('a', { href: item.preview_url, target: '_blank', rel: 'noopener noreferrer', class: 'btn btn-sm btn-ghost', testid: 'version-preview' },
        t('versions.preview'), h('span', { 'aria-hidden': 'true' }, ' ↗')) : null,
      action));
  }

  return { element, refresh };
}
