// The order page's actions: Generate, Resend and Cancel, the message that says how an action went,
// and act(), which every action on the page (versions and regenerate too) runs through.

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import { api, newIdempotencyKey } from './api.js';
import { errorText } from './common.js';
import { ACTIVE_STATUSES } from './status.js';
import { orderPath, upsert } from './order_state.js';

export function createActions(state, view) {
  const btnGenerate = h('button', { type: 'button', class: 'btn btn-primary', testid: 'btn-generate', disabled: true }, t('order.generate'));
  const btnResend = h('button', { type: 'button', class: 'btn btn-secondary', testid: 'btn-resend', disabled: true }, t('order.resend'));
  const btnCancel = h('button', { type: 'button', class: 'btn btn-danger-ghost', testid: 'btn-cancel', disabled: true }, t('order.cancel'));
  const group = h('div', { class: 'actions', role: 'group', 'aria-label': t('order.actions') }, btnGenerate, btnResend, btnCancel);
  const message = h('div', { class: 'action-msg', role: 'status', 'aria-live': 'polite', testid: 'action-message' });

  function say(text, kind = 'info') {
    replace(message, text ? h('p', { class: ['notice', `notice-${kind}`] }, text) : null);
  }

  // An informational message is done with once the generation it spoke of has finished.
  function clearInfo() {
    if (message.querySelector('.notice-info')) say(null);
  }

  function render() {
    const { gens, busy, order } = state;
    const latest = gens[0];
    const active = latest && ACTIVE_STATUSES.has(latest.status);
    btnGenerate.disabled = busy || !order || Boolean(active);
    btnResend.disabled = busy || !latest || !(latest.status === 'failed' || latest.status === 'cancelled');
    btnCancel.disabled = busy || !active;
    // The sensible next step gets the primary style: Resend after a failure or cancel, else Generate.
    const resendFirst = !btnResend.disabled;
    btnResend.classList.toggle('btn-primary', resendFirst);
    btnResend.classList.toggle('btn-secondary', !resendFirst);
    btnGenerate.classList.toggle('btn-primary', !resendFirst);
    btnGenerate.classList.toggle('btn-secondary', resendFirst);
  }

  async function act(run) {
    if (state.busy) return;
    state.busy = true;
    render();
    say(null);
    try {
      await run();
    } catch (err) {
      if (err.status === 401 || !state.alive) return;
      if (err.status === 409 && err.body && err.body.active_generation_id) {
        await view.refreshGenerations();
        view.select(err.body.active_generation_id);
        say(t('order.conflict'), 'info');
      } else {
        say(t('order.actionFailed', { message: err.offline ? errorText(err) : err.message }), 'error');
        await view.refreshGenerations();
      }
    } finally {
      state.busy = false;
      if (state.alive) render();
    }
  }

  btnGenerate.addEventListener('click', () => act(async () => {
    const gen = await api(orderPath(state, '/generations'), {
      method: 'POST', headers: { 'Idempotency-Key': newIdempotencyKey() },
    });
    upsert(state, gen);
    view.select(gen.id);
    say(t('order.generated'), 'info');
  }));

  btnResend.addEventListener('click', () => act(async () => {
    const latest = state.gens[0];
    const gen = await api(`/generations/${encodeURIComponent(latest.id)}/retry`, { method: 'POST' });
    upsert(state, gen);
    view.select(gen.id, true);
    say(t('order.resent'), 'info');
  }));

  btnCancel.addEventListener('click', () => act(async () => {
    const latest = state.gens[0];
    const gen = await api(`/generations/${encodeURIComponent(latest.id)}/cancel`, { method: 'POST' });
    upsert(state, gen);
    const { watcher } = state;
    if (state.selectedId !== gen.id || !watcher || watcher.stopped) view.select(gen.id, true);
    else view.setGeneration(gen);
    say(gen.status === 'cancelled' ? t('order.cancelledNow') : t('order.cancelRequested'), 'info');
  }));

  return { group, message, say, clearInfo, act, render };
}
