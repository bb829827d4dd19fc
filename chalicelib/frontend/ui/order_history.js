// The order page's generation history: one button a generation, newest first; it selects it.

import { h, replace } from './dom.js';
import { t, fmtDateTime, fmtDuration } from './i18n.js';
import { statusBadge } from './common.js';
import { genDuration } from './order_progress.js';

export function createHistory(state, view) {
  const list = h('ul', { class: 'history', testid: 'history' });
  const element = h('section', { class: 'card', 'aria-labelledby': 'history-title' },
    h('h2', { id: 'history-title', class: 'card-title' }, t('order.history')), list);

  function render() {
    const { gens, selectedId } = state;
    if (!gens.length) {
      replace(list, h('li', { class: 'muted' }, t('order.historyEmpty')));
      return;
    }
    replace(list, gens.map((g, i) => {
      const duration = genDuration(g);
      return h('li', null, h('button', {
        type: 'button', class: ['history-item', g.id === selectedId && 'is-selected'], testid: 'history-item',
        'data-generation-id': g.id, 'aria-current': g.id === selectedId ? 'true' : null,
        onclick: () => view.select(g.id),
      },
      h('span', { class: 'history-when' }, fmtDateTime(g.created_at, true)),
      statusBadge(g.status),
      h('span', { class: 'history-meta' }, [i === 0 ? t('order.latest') : null,
        g.regenerated_page ? t('order.regenOf', { page: g.regenerated_page }) : null,
        duration !== null ? fmtDuration(duration) : null].filter(Boolean).join(' · ') || '\u00a0')));
    }));
  }

  return { element, render };
}
