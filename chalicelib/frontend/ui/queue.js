// The generation queue (#/queue): depth, in flight, delayed, dead letters, oldest age, plus
// /health/dependencies (the deep checks; GET /health is liveness only).
// Refreshes itself every few seconds while the tab is visible.

import { h, replace, spinner } from './dom.js';
import { t, fmtNumber, fmtDuration, fmtTime } from './i18n.js';
import { api } from './api.js';
import { errorNotice } from './common.js';

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

  async function load() {
    if (loading || !alive) return;
    loading = true;
    window.clearTimeout(timer);
    refresh.disabled = true;
    try {
      const [q, hs] = await Promise.all([
        api('/queue'),
        api('/health/dependencies').catch((err) => (err && err.body && err.body.checks ? err.body : null)),
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
