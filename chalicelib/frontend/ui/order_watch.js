// The order page's polling. While the selected generation is queued or running: its log lines about
// once a second (and the generation when their page says it changed), then one last poll after it
// finished. While idle: every 10 s, a look for a generation started elsewhere (the CRM, another tab).

import { h } from './dom.js';
import { t } from './i18n.js';
import { api } from './api.js';
import { errorText } from './common.js';
import { ACTIVE_STATUSES } from './status.js';
import { orderPath, upsert } from './order_state.js';

const POLL_MS = 1000;
const LOG_PAGE = 200;
const IDLE_REFRESH_MS = 10_000;
// A poll asks for the log lines only; their page carries the generation's version (updated_at), and the
// generation itself is fetched when that moved, or after this many polls at most (a safety net).
const GENERATION_EVERY = 30;

export function createWatch(state, view, ctx) {
  const offline = h('p', { class: 'notice notice-warning', hidden: true, role: 'status', testid: 'offline' }, t('order.offline'));
  let idleTimer = null;

  function setGeneration(gen) {
    upsert(state, gen);
    if (state.watcher && state.watcher.id === gen.id) state.watcher.gen = gen;
    if (gen.id === state.selectedId) view.renderGeneration(gen);
    view.renderHistory();
    view.renderActions();
  }

  function watch(genId, keepLogs) {
    const previous = state.watcher;
    if (previous) previous.stop();
    const w = {
      id: genId, cursor: keepLogs && previous && previous.id === genId ? previous.cursor : null, timer: null, stopped: false, failures: 0, polls: 0,
      gen: state.gens.find((g) => g.id === genId) || null, // what we know of it; fetched again when its version moves
      stop() { this.stopped = true; window.clearTimeout(this.timer); },
    };
    if (!w.cursor) view.logs.reset();
    state.watcher = w;

    // Returns the last page read (null once stopped): it says the generation's status and version.
    async function pullLogs() {
      let pageOfLogs = null;
      for (let i = 0; i < 25; i += 1) {
        const q = new URLSearchParams({ limit: String(LOG_PAGE) });
        if (w.cursor) q.set('after', w.cursor);
        pageOfLogs = await api(`/generations/${encodeURIComponent(genId)}/logs?${q}`);
        if (w.stopped) return null;
        if (pageOfLogs.next_cursor) w.cursor = pageOfLogs.next_cursor;
        view.logs.add(pageOfLogs.items || []);
        if ((pageOfLogs.items || []).length < LOG_PAGE) break;
      }
      return pageOfLogs;
    }

    async function tick() {
      if (w.stopped || !state.alive) return;
      try {
        const page = await pullLogs();
        if (w.stopped) return;
        w.polls += 1;
        if (!w.gen || page.generation_updated_at !== w.gen.updated_at || w.polls >= GENERATION_EVERY) {
          w.gen = await api(`/generations/${encodeURIComponent(genId)}`);
          w.polls = 0;
          if (w.stopped) return;
        }
        const gen = w.gen;
        setGeneration(gen); // also when unchanged: a running phase's duration goes on
        w.failures = 0;
        offline.hidden = true;
        if (ACTIVE_STATUSES.has(gen.status)) {
          w.timer = window.setTimeout(tick, POLL_MS);
          return;
        }
        // Finished: one final poll a moment later for the closing lines, then stop.
        w.timer = window.setTimeout(async () => {
          try { await pullLogs(); } catch (e) { /* the next visit reloads the log */ }
          if (w.stopped) return;
          w.stopped = true;
          finished(gen);
        }, 500);
      } catch (err) {
        if (w.stopped || !state.alive || err.status === 401) return;
        if (err.status === 404) { w.stop(); view.say(errorText(err), 'error'); return; }
        w.failures += 1;
        offline.hidden = false;
        w.timer = window.setTimeout(tick, Math.min(10_000, POLL_MS * 2 ** Math.min(w.failures, 4)));
      }
    }
    tick();
  }

  async function finished(gen) {
    view.clearInfo();
    if (state.lastAnnounced !== `${gen.id}|${gen.status}`) {
      state.lastAnnounced = `${gen.id}|${gen.status}`;
      ctx.announce(`${t('order.generation')}: ${t(`status.${gen.status}`)}`);
    }
    await refreshGenerations();
    await view.refreshVersions();
  }

  async function refreshGenerations() {
    try {
      const list = await api(orderPath(state, '/generations'));
      if (!state.alive) return;
      state.gens = list.items || [];
      view.renderHistory();
      view.renderActions();
    } catch (err) { /* the history stays as it was; actions still reflect what we know */ }
  }

  function select(genId, keepLogs = false) {
    state.selectedId = genId;
    state.outcomeKey = null;
    const known = state.gens.find((g) => g.id === genId);
    if (known) view.renderGeneration(known);
    view.renderHistory();
    watch(genId, keepLogs);
  }

  // While nothing is being watched, look for generations started elsewhere (the CRM, another tab).
  function startIdle() {
    idleTimer = window.setInterval(async () => {
      const { watcher } = state;
      if (!state.alive || state.busy || !state.order || document.hidden || (watcher && !watcher.stopped)) return;
      const before = state.gens[0];
      await refreshGenerations();
      const latest = state.gens[0];
      if (!state.alive || !latest) return;
      const isNew = !before || before.id !== latest.id;
      const resumed = before && before.id === latest.id && ACTIVE_STATUSES.has(latest.status) && !ACTIVE_STATUSES.has(before.status);
      if (isNew) select(latest.id);
      else if (resumed) select(latest.id, latest.id === state.selectedId);
    }, IDLE_REFRESH_MS);
  }

  function stop() {
    window.clearInterval(idleTimer);
    if (state.watcher) state.watcher.stop();
  }

  return { offline, setGeneration, refreshGenerations, select, startIdle, stop };
}
