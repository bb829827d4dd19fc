// One order (#/orders/<id>): summary, Generate / Resend / Cancel, the phase stepper, the live log,
// the failure reason or the published site's preview, the site's versions (live address, Publish,
// Roll back, auto-publish) and the generation history.
//
// mount() composes the page's parts (order_*.js). They share ONE state object (order_state.js) and
// reach each other through `view`, which is filled in here before anything runs.

import { h, replace, spinner } from './dom.js';
import { t } from './i18n.js';
import { api } from './api.js';
import { errorText } from './common.js';
import { ACTIVE_STATUSES } from './status.js';
import { createState, orderPath } from './order_state.js';
import { createSummary } from './order_summary.js';
import { createActions } from './order_actions.js';
import { createGenerationCard } from './order_progress.js';
import { createOutcome } from './order_outcome.js';
import { createLogCard } from './order_logs.js';
import { createVersions } from './order_versions.js';
import { createHistory } from './order_history.js';
import { createWatch } from './order_watch.js';

export function mount(root, ctx, [rawId]) {
  const state = createState(decodeURIComponent(rawId));
  const view = {};
  const summary = createSummary();
  const actions = createActions(state, view);
  const outcome = createOutcome(state, view);
  const card = createGenerationCard(state, outcome.slot);
  const logs = createLogCard();
  const versions = createVersions(state, view);
  const history = createHistory(state, view);
  const watch = createWatch(state, view, ctx);
  Object.assign(view, {
    say: actions.say,
    clearInfo: actions.clearInfo,
    act: actions.act,
    renderActions: actions.render,
    renderHistory: history.render,
    refreshVersions: versions.refresh,
    refreshGenerations: watch.refreshGenerations,
    select: watch.select,
    setGeneration: watch.setGeneration,
    logs,
    renderGeneration(gen) {
      card.render(gen);
      logs.show(ACTIVE_STATUSES.has(gen.status));
      outcome.render(gen);
    },
  });

  const page = h('div', { class: 'container' },
    h('nav', { class: 'crumbs', 'aria-label': 'breadcrumb' }, h('a', { href: '#/orders' }, `← ${t('order.back')}`)),
    h('div', { class: 'page-head page-head-order' },
      h('div', { class: 'page-head-text' }, summary.title, summary.subtitle),
      actions.group),
    actions.message, watch.offline,
    h('div', { class: 'order-grid' },
      h('div', { class: 'order-main' }, card.element, outcome.previewSlot, logs.element),
      h('aside', { class: 'order-aside' }, versions.element, summary.element, history.element)));
  replace(root, page);

  async function load() {
    try {
      const [o, list] = await Promise.all([api(orderPath(state)), api(orderPath(state, '/generations'))]);
      if (!state.alive) return;
      state.order = o;
      state.gens = list.items || [];
      summary.render(o);
      history.render();
      actions.render();
      versions.refresh();
      if (state.gens.length) watch.select(state.gens[0].id);
      else card.empty();
    } catch (err) {
      if (!state.alive || err.status === 401) return;
      if (err.status === 404) {
        summary.title.textContent = t('order.notFound');
        replace(page.querySelector('.order-grid'));
        actions.group.hidden = true;
        return;
      }
      summary.title.textContent = t('order.generation');
      actions.say(errorText(err), 'error');
    }
  }

  watch.startIdle();
  card.empty(spinner(), ' ', t('common.loading'));
  load().then(() => { if (!state.gens.length) card.empty(t('order.noGeneration')); });

  return () => {
    state.alive = false;
    watch.stop();
  };
}
