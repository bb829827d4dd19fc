// Regenerate one page: its copy and code are written again (optionally with the customer's wishes);
// the other pages are reused; the whole site is reviewed and published as a new generation.

import { h } from './dom.js';
import { t } from './i18n.js';
import { api } from './api.js';
import { upsert } from './order_state.js';

export function pagesOf(gen) {
  const code = gen.phases.find((p) => p.name === 'code');
  return code ? code.parts.map((p) => p.name).filter((name) => name !== 'styles.css') : [];
}

export function regenerateForm(state, view, gen, pages) {
  const wishes = h('textarea', {
    id: 'regen-wishes', maxlength: '500', rows: '2', class: 'input', testid: 'regen-wishes',
    placeholder: t('order.regenWishesHint'),
  });
  const buttons = pages.map((slug) => h('button', {
    type: 'button', class: 'btn', testid: `regen-${slug}`,
    onclick: () => view.act(async () => {
      const body = wishes.value.trim() ? { instructions: wishes.value.trim() } : {};
      const next = await api(`/generations/${encodeURIComponent(gen.id)}/pages/${encodeURIComponent(slug)}/regenerate`,
        { method: 'POST', body });
      upsert(state, next);
      view.select(next.id);
      view.say(t('order.regenQueued', { page: slug }), 'info');
    }),
  }, t('order.regenPage', { page: slug })));
  return h('section', { class: 'regen', testid: 'regen', 'aria-labelledby': 'regen-title' },
    h('h3', { id: 'regen-title', class: 'callout-title' }, t('order.regenTitle')),
    h('label', { for: 'regen-wishes' }, t('order.regenWishes')), wishes,
    h('div', { class: 'regen-pages' }, buttons));
}
