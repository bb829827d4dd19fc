// The generation queue (#/queue): depth, in flight, delayed, dead letters, oldest age, plus /health;
// the dead letters themselves (generation, order, phase and part, reason, age) and a Redrive button.
// /health/dependencies is the deep check (GET /health is liveness only).
// Refreshes itself every few seconds while the tab is visible.

import { h, replace, spinner } from './dom.js';
import { t, tn, fmtNumber, fmtDuration, fmtTime } from './i18n.js';
import { api, session } from './api.js';
import { errorNotice, mutedNote, statusBadge } from './common.js';
import { confirmDialog } from './dialog.js';

const REFRESH_S = 5;
const STATS = [
  { key: 'visible', hint: 'queue.visibleHint' },
  { key: 'in_flight', hint: 'queue.in_flightHint' },
  { key: 'delayed', hint: 'queue.delayedHint' },
  { key: 'dead_letter', hint: 'queue.dead_letterHint', alarm: true },
];

export function mount(root, ctx) {
  document.title = `${t('queue.title')} · sitegen`;
  let alive = true;
  let timer = null;
  let loading = false;

  const values = {};
  const cards = {};
  const stat = (key, hint, alarm) => {
    values[key] = h('p', { class: 'stat-value', testid: `queue-${key}` }, '–');
    cards[key] = h('div', { class: ['stat', alarm && 'stat-alarm'], testid: `stat-${key}` },
      h('p', { class: 'stat-label' }, t(`queue.${key}`)),
      values[key],
      h('p', { class: 'stat-hint' }, t(hint)));
    return cards[key];
  };
  const grid = h('div', { class: 'stats', testid: 'queue-stats' },
    STATS.map((s) => stat(s.key, s.hint, s.alarm)),
    stat('oldest', 'queue.oldestHint'));
  const queueName = h('p', { class: 'muted small', testid: 'queue-name' });
  const updated = h('span', { class: 'muted small', testid: 'queue-updated' });
  const refresh = h('button', { type: 'button', class: 'btn btn-secondary btn-sm', testid: 'queue-refresh' }, t('queue.refresh'));
  const problems = h('div');
  const health = h('div', { class: 'health', testid: 'health' });
  // dead letters and the redrive are an operator's (admin) tools: an `orders` token does not see them
  const letters = session.can('admin') ? deadLetters(ctx, () => load()) : { el: null, load: async () => null };

  async function load() {
    if (loading || !alive) return;
    loading = true;
    window.clearTimeout(timer);
    refresh.disabled = true;
    try {
      const [q, hs] = await Promise.all([
        api('/queue'),
        api('/health/dependencies').catch((err) => (err && err.body && err.body.checks ? err.body : null)),
        letters.load(),
      ]);
      if (!alive) return;
      replace(problems);
      for (const s of STATS) {
        values[s.key].textContent = fmtNumber(q[s.key] ?? 0);
        if (s.alarm) cards[s.key].classList.toggle('is-alarm', (q[s.key] || 0) > 0);
      }
      const age = q.oldest_age_seconds;
      values.oldest.textContent = age === null || age === undefined ? t('common.none') : fmtDuration(age * 1000);
      cards.oldest.querySelector('.stat-hint').textContent = age === null || age === undefined ? t('queue.oldestNone') : t('queue.oldestHint');
      queueName.textContent = q.queue ? t('queue.name', { name: q.queue }) : '';
      updated.textContent = t('queue.updated', { time: fmtTime(new Date()) });
      renderHealth(hs);
    } catch (err) {
      if (!alive || err.status === 401) return;
      replace(problems, errorNotice(err, load));
    } finally {
      loading = false;
      refresh.disabled = false;
      schedule();
    }
  }

  function renderHealth(hs) {
    if (!hs || !hs.checks) { replace(health); return; }
    const down = Object.entries(hs.checks).filter(([, v]) => v !== 'ok').map(([k]) => t(`queue.check.${k}`));
    replace(health,
      h('p', { class: ['health-summary', down.length ? 'is-down' : 'is-ok'] },
        h('span', { class: 'badge-dot', 'aria-hidden': 'true' }),
        down.length ? t('queue.healthDown', { names: down.join(', ') }) : t('queue.healthOk')),
      h('ul', { class: 'checks' }, Object.entries(hs.checks).map(([k, v]) => h('li', { class: ['check', v === 'ok' ? 'is-ok' : 'is-down'], testid: `check-${k}` },
        h('span', { class: 'badge-dot', 'aria-hidden': 'true' }),
        h('span', null, t(`queue.check.${k}`)),
        h('span', { class: 'check-value' }, v)))));
  }

  function schedule() {
    window.clearTimeout(timer);
    if (alive && !document.hidden) timer = window.setTimeout(load, REFRESH_S * 1000);
  }
  const onVisibility = () => { if (!document.hidden) load(); else window.clearTimeout(timer); };
  document.addEventListener('visibilitychange', onVisibility);
  refresh.addEventListener('click', load);

  replace(root, h('div', { class: 'container' },
    h('div', { class: 'page-head' },
      h('div', null, h('h1', null, t('queue.title')), h('p', { class: 'lead' }, t('queue.lead', { s: REFRESH_S }))),
      h('div', { class: 'page-tools' }, updated, refresh)),
    problems,
    grid,
    queueName,
    letters.el,
    h('section', { class: 'card', 'aria-labelledby': 'health-title' },
      h('h2', { id: 'health-title', class: 'card-title' }, t('queue.health')),
      health)));
  replace(updated, spinner(), ' ', t('common.loading'));
  load();
  return () => {
    alive = false;
    window.clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisibility);
  };
}

// ---- dead letters ----

const LETTERS_SHOWN = 100;

function deadLetters(ctx, reloadQueue) {
  let items = [];
  let total = 0;
  let shownIds = '';
  let busy = false;
  const body = h('div', { testid: 'dead-letters-body' }, h('p', { class: 'muted' }, spinner(), ' ', t('common.loading')));
  const result = h('div', { class: 'action-msg', testid: 'redrive-result', tabindex: '-1' });
  const redrive = h('button', { type: 'button', class: 'btn btn-primary btn-sm', testid: 'redrive', disabled: true }, t('queue.redrive'));
  const el = h('section', { class: 'card', 'aria-labelledby': 'dead-letters-title', testid: 'dead-letters' },
    h('div', { class: 'card-head' },
      h('div', null, h('h2', { id: 'dead-letters-title', class: 'card-title' }, t('queue.letters')),
        h('p', { class: 'card-sub' }, t('queue.lettersLead'))),
      redrive),
    result, body);
  const generationLink = (gid, orderId) => (orderId
    ? h('a', { href: `#/orders/${encodeURIComponent(orderId)}`, testid: 'letter-generation', 'data-generation-id': gid }, h('code', null, gid.slice(0, 8)))
    : h('code', null, gid ? gid.slice(0, 8) : t('common.none')));

  function render() {
    const ids = items.map((l) => l.id).join(',');
    if (ids === shownIds && items.length) {
      // same letters: only their ages moved; the table (and any focus in it) stays
      items.forEach((l) => {
        const cell = body.querySelector(`[data-letter-id="${l.id}"] [data-testid=letter-age]`);
        if (cell) cell.textContent = fmtDuration(l.age_seconds * 1000);
      });
      return;
    }
    shownIds = ids;
    redrive.disabled = busy || !items.length;
    if (!items.length) { replace(body, mutedNote(t('queue.lettersNone'), 'dead-letters-empty')); return; }
    replace(body,
      total > items.length ? h('p', { class: 'muted small' }, t('queue.lettersMore', { shown: fmtNumber(items.length), total: fmtNumber(total) })) : null,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table table-letters', testid: 'dead-letters-table' },
        h('caption', { class: 'sr-only' }, t('queue.letters')),
        h('thead', null, h('tr', null, ['generation', 'order', 'phase', 'reason', 'age'].map((k) => h('th', { scope: 'col' }, t(`queue.col.${k}`))))),
        h('tbody', null, items.map((l) => h('tr', { testid: 'dead-letter', 'data-letter-id': String(l.id), 'data-generation-id': l.generation_id || '' },
          h('td', { 'data-label': t('queue.col.generation') }, generationLink(l.generation_id, l.order_id),
            l.generation_status ? [' ', statusBadge(l.generation_status)] : null),
          h('td', { 'data-label': t('queue.col.order'), class: 'wrap-anywhere' }, l.business_name || (l.order_id ? l.order_id.slice(0, 8) : t('common.none'))),
          h('td', { 'data-label': t('queue.col.phase'), testid: 'letter-phase' },
            l.phase ? t(`phase.${l.phase}`) : t('common.none'),
            l.part ? h('span', { class: 'letter-part' }, ` · ${t('queue.part', { part: l.part })}`) : null),
          h('td', { 'data-label': t('queue.col.reason'), class: 'letter-reason', testid: 'letter-reason' }, l.reason),
          h('td', { 'data-label': t('queue.col.age'), class: 'col-date', testid: 'letter-age' }, fmtDuration(l.age_seconds * 1000))))))));
  }

  async function load() {
    try {
      const data = await api(`/queue/dead-letters?limit=${LETTERS_SHOWN}`);
      items = data.items || [];
      total = data.total ?? items.length;
    } catch (err) {
      if (err.status === 401) return;
      shownIds = '';
      if (err.missingRoute) replace(body, mutedNote(t('ai.notYet'), 'dead-letters-missing'));
      else replace(body, errorNotice(err, load));
      return;
    }
    render();
  }

  redrive.addEventListener('click', async () => {
    const count = total || items.length;
    const ok = await confirmDialog({
      title: t('queue.redriveTitle', { n: fmtNumber(count) }),
      body: t('queue.redriveBody'),
      confirm: t('queue.redrive'), testid: 'redrive-dialog',
    });
    if (!ok) return;
    const orders = Object.fromEntries(items.filter((l) => l.generation_id).map((l) => [l.generation_id, l.order_id]));
    busy = true;
    redrive.disabled = true;
    replace(result, h('p', { class: 'muted' }, spinner(), ' ', t('queue.redriving')));
    try {
      const r = await api('/queue/dead-letter/redrive', { method: 'POST' });
      const parts = [tn('queue.result.redriven', r.redriven), tn('queue.result.resumed', r.resumed_generations.length),
        tn('queue.result.sent', r.sent), tn('queue.result.skipped', r.skipped), tn('queue.result.kept', r.kept)];
      replace(result, h('div', { class: ['notice', r.kept ? 'notice-warning' : 'notice-info'], role: 'status', testid: 'redrive-notice' },
        h('div', null,
          h('p', { class: 'notice-title' }, t('queue.redriveDone')),
          h('p', { testid: 'redrive-counts' }, parts.join(' · ')),
          r.kept ? h('p', null, t('queue.keptHint')) : null,
          r.resumed_generations.length ? h('p', null, t('queue.resumedList'), ' ',
            r.resumed_generations.map((gid, i) => [i ? ', ' : '', orders[gid]
              ? h('a', { href: `#/orders/${encodeURIComponent(orders[gid])}`, testid: 'resumed-generation', 'data-generation-id': gid }, h('code', null, gid.slice(0, 8)))
              : h('code', { testid: 'resumed-generation', 'data-generation-id': gid }, gid.slice(0, 8))])) : null)));
      ctx.announce(`${t('queue.redriveDone')} ${parts.join(', ')}`);
    } catch (err) {
      if (err.status === 401) return;
      replace(result, errorNotice(err));
    } finally {
      busy = false;
      shownIds = '';
      await reloadQueue();
      result.focus();
    }
  });

  return { el, load };
}
