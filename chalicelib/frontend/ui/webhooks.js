// Webhooks (#/webhooks): the CRM's endpoints, the events each wants, their deliveries; add one (its
// signing secret is shown once, here), rotate the secret, delete, redeliver. The secret is never kept:
// it is in the page only until the user leaves it or dismisses the notice.

import { h, replace, spinner, uid } from './dom.js';
import { t, fmtDateTime } from './i18n.js';
import { api } from './api.js';
import { errorNotice, mutedNote } from './common.js';

const EVENTS = ['generation.succeeded', 'generation.failed', 'generation.cancelled', 'page.regenerated', 'version.published'];
const DELIVERY_BADGE = { pending: 'queued', sending: 'running', succeeded: 'succeeded', failed: 'failed' };

function when(value) {
  return value ? fmtDateTime(value, true) : t('common.none');
}

// This view's few styles live beside it (styles.css stays shared); a stylesheet link is allowed by the CSP.
function ensureStyles() {
  if (document.querySelector('link[data-view="webhooks"]')) return;
  document.head.append(h('link', { rel: 'stylesheet', href: 'ui/webhooks.css', 'data-view': 'webhooks' }));
}

export function mount(root, ctx) {
  document.title = `${t('webhooks.title')} · sitegen`;
  ensureStyles();
  let alive = true;
  const listBody = h('div', { class: 'section-body', testid: 'webhooks-body' }, h('p', { class: 'muted' }, spinner(), ' ', t('common.loading')));
  const secretSlot = h('div', { testid: 'webhook-secret-slot' });
  const open = new Set(); // webhooks whose deliveries are shown

  function showSecret(hook, key) {
    const value = h('code', { class: 'secret-value wrap-anywhere', testid: 'webhook-secret' }, hook.secret);
    replace(secretSlot, h('div', { class: 'notice notice-warning', role: 'alert', testid: 'webhook-secret-notice' },
      h('div', null,
        h('p', null, h('strong', null, t(key)), ' ', t('webhooks.secretOnce')),
        h('p', null, value)),
      h('button', { type: 'button', class: 'btn btn-secondary btn-sm', testid: 'webhook-secret-dismiss',
        onclick: () => replace(secretSlot) }, t('webhooks.secretDone'))));
    secretSlot.scrollIntoView({ block: 'nearest' });
  }

  // ----- the add form -----
  const urlId = uid('wh-url');
  const urlInput = h('input', { id: urlId, class: 'input', type: 'url', required: true, placeholder: 'https://crm.example.com/hooks/sitegen', testid: 'webhook-url', autocomplete: 'off' });
  const urlError = h('p', { class: 'field-error', hidden: true, testid: 'webhook-url-error', 'aria-live': 'polite' });
  const boxes = EVENTS.map((name) => {
    const id = uid('wh-ev');
    const box = h('input', { id, type: 'checkbox', value: name, checked: name.startsWith('generation.'), testid: `webhook-event-${name}` });
    return { name, box, wrap: h('label', { class: 'check-option', htmlFor: id }, box, ' ', h('code', null, name), h('span', { class: 'muted small' }, ` — ${t(`webhooks.event.${name}`)}`)) };
  });
  const eventsError = h('p', { class: 'field-error', hidden: true, testid: 'webhook-events-error' });
  const add = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'webhook-add' }, t('webhooks.add'));
  const formError = h('div');
  const form = h('form', { class: 'card form', novalidate: true, testid: 'webhook-form', 'aria-labelledby': 'wh-form-title' },
    h('fieldset', { class: 'form-section' },
      h('legend', { id: 'wh-form-title' }, t('webhooks.new')),
      h('div', { class: 'form-grid' },
        h('div', { class: 'field field-wide' },
          h('label', { htmlFor: urlId }, t('webhooks.url')),
          urlInput,
          h('p', { class: 'muted small' }, t('webhooks.urlHint')),
          urlError),
        h('div', { class: 'field field-wide', role: 'group', 'aria-label': t('webhooks.events') },
          h('p', { class: 'field-label' }, t('webhooks.events')),
          boxes.map((b) => b.wrap),
          eventsError),
        h('div', { class: 'field-wide' }, formError))),
    h('div', { class: 'form-actions' }, add));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    urlError.hidden = true; eventsError.hidden = true; replace(formError);
    urlInput.removeAttribute('aria-invalid');
    const events = boxes.filter((b) => b.box.checked).map((b) => b.name);
    if (!urlInput.value.trim()) { urlError.textContent = t('webhooks.urlRequired'); urlError.hidden = false; urlInput.setAttribute('aria-invalid', 'true'); urlInput.focus(); return; }
    if (!events.length) { eventsError.textContent = t('webhooks.eventsRequired'); eventsError.hidden = false; return; }
    add.disabled = true;
    try {
      const created = await api('/webhooks', { method: 'POST', body: { url: urlInput.value.trim(), events } });
      if (!alive) return;
      urlInput.value = '';
      showSecret(created, 'webhooks.created');
      ctx.announce(t('webhooks.created'));
      load();
    } catch (err) {
      if (!alive || err.status === 401) return;
      const onUrl = err.details.find((d) => d.field === 'url');
      if (onUrl) {
        urlError.textContent = onUrl.message; urlError.hidden = false;
        urlInput.setAttribute('aria-invalid', 'true'); urlInput.focus();
      } else replace(formError, errorNotice(err));
    } finally {
      add.disabled = false;
    }
  });

  // ----- the list -----
  async function remove(hook) {
    if (!window.confirm(t('webhooks.confirmDelete', { url: hook.url }))) return;
    try {
      await api(`/webhooks/${encodeURIComponent(hook.id)}`, { method: 'DELETE' });
      if (alive) { ctx.announce(t('webhooks.deleted')); load(); }
    } catch (err) { if (alive && err.status !== 401) replace(listBody, errorNotice(err, load)); }
  }

  async function rotate(hook) {
    if (!window.confirm(t('webhooks.confirmRotate'))) return;
    try {
      const rotated = await api(`/webhooks/${encodeURIComponent(hook.id)}/rotate-secret`, { method: 'POST' });
      if (alive) { showSecret(rotated, 'webhooks.rotated'); load(); }
    } catch (err) { if (alive && err.status !== 401) replace(listBody, errorNotice(err, load)); }
  }

  function deliveriesTable(hook, items, slot) {
    if (!items.length) return mutedNote(t('webhooks.noDeliveries'), 'webhook-no-deliveries');
    return h('div', { class: 'table-wrap' }, h('table', { class: 'table table-deliveries', testid: 'webhook-deliveries' },
      h('caption', { class: 'sr-only' }, t('webhooks.deliveries')),
      h('thead', null, h('tr', null, ['event', 'status', 'attempts', 'code', 'last', 'next', ''].map((k) => h('th', { scope: 'col' }, k ? t(`webhooks.col.${k}`) : h('span', { class: 'sr-only' }, t('webhooks.col.actions')))))),
      h('tbody', null, items.map((d) => h('tr', { testid: 'webhook-delivery-row', 'data-status': d.status },
        h('td', { 'data-label': t('webhooks.col.event') }, h('code', null, d.event_type), h('br'), h('span', { class: 'muted small', title: t('webhooks.eventId') }, d.event_id.slice(0, 8))),
        h('td', { 'data-label': t('webhooks.col.status') },
          h('span', { class: ['badge', `badge-${DELIVERY_BADGE[d.status] || 'queued'}`], testid: 'webhook-delivery-status' },
            h('span', { class: 'badge-dot', 'aria-hidden': 'true' }), t(`webhooks.status.${d.status}`)),
          d.last_error ? h('p', { class: 'muted small wrap-anywhere' }, d.last_error) : null),
        h('td', { 'data-label': t('webhooks.col.attempts') }, String(d.attempts)),
        h('td', { 'data-label': t('webhooks.col.code') }, d.last_status_code ? String(d.last_status_code) : t('common.none')),
        h('td', { 'data-label': t('webhooks.col.last') }, when(d.last_attempt_at)),
        h('td', { 'data-label': t('webhooks.col.next') }, when(d.next_attempt_at)),
        h('td', null, h('button', {
          type: 'button', class: 'btn btn-secondary btn-sm', testid: 'webhook-redeliver', disabled: d.status === 'sending',
          onclick: async (e) => {
            e.target.disabled = true;
            try {
              await api(`/webhooks/${encodeURIComponent(hook.id)}/deliveries/${encodeURIComponent(d.id)}/redeliver`, { method: 'POST' });
              if (alive) { ctx.announce(t('webhooks.redelivered')); loadDeliveries(hook, slot); }
            } catch (err) { if (alive && err.status !== 401) replace(slot, errorNotice(err, () => loadDeliveries(hook, slot))); }
          },
        }, t('webhooks.redeliver'))))))));
  }

  async function loadDeliveries(hook, slot) {
    replace(slot, h('p', { class: 'muted' }, spinner(), ' ', t('common.loading')));
    try {
      const page = await api(`/webhooks/${encodeURIComponent(hook.id)}/deliveries?limit=20`);
      if (alive) replace(slot, deliveriesTable(hook, page.items || [], slot));
    } catch (err) { if (alive && err.status !== 401) replace(slot, errorNotice(err, () => loadDeliveries(hook, slot))); }
  }

  function card(hook) {
    const slot = h('div', { class: 'webhook-deliveries' });
    const toggle = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', testid: 'webhook-toggle', 'aria-expanded': 'false' }, t('webhooks.showDeliveries'));
    const show = () => {
      open.add(hook.id);
      toggle.setAttribute('aria-expanded', 'true');
      toggle.textContent = t('webhooks.refreshDeliveries');
      loadDeliveries(hook, slot);
    };
    toggle.addEventListener('click', show);
    const el = h('section', { class: 'card webhook', testid: 'webhook-row', 'data-webhook-id': hook.id },
      h('div', { class: 'webhook-head' },
        h('div', null,
          h('p', { class: 'webhook-url wrap-anywhere' }, h('code', null, hook.url)),
          h('p', { class: 'webhook-events' }, hook.events.map((e) => h('span', { class: 'tag' }, e))),
          h('p', { class: 'muted small' }, t('webhooks.createdAt', { time: when(hook.created_at) }),
            hook.secret_rotated_at ? ` · ${t('webhooks.rotatedAt', { time: when(hook.secret_rotated_at) })}` : '')),
        h('div', { class: 'page-tools' },
          toggle,
          h('button', { type: 'button', class: 'btn btn-secondary btn-sm', testid: 'webhook-rotate', onclick: () => rotate(hook) }, t('webhooks.rotate')),
          h('button', { type: 'button', class: 'btn btn-danger-ghost btn-sm', testid: 'webhook-delete', onclick: () => remove(hook) }, t('webhooks.delete')))),
      slot);
    if (open.has(hook.id)) show();
    return el;
  }

  async function load() {
    try {
      const data = await api('/webhooks');
      if (!alive) return;
      const items = data.items || [];
      replace(listBody, items.length ? items.map(card) : mutedNote(t('webhooks.empty'), 'webhooks-empty'));
    } catch (err) {
      if (!alive || err.status === 401) return;
      replace(listBody, err.missingRoute ? mutedNote(t('ai.notYet'), 'webhooks-missing') : errorNotice(err, load));
    }
  }

  replace(root, h('div', { class: 'container' },
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, t('webhooks.title')), h('p', { class: 'lead' }, t('webhooks.lead')))),
    secretSlot,
    form,
    h('h2', { class: 'section-title' }, t('webhooks.list')),
    listBody));
  load();
  return () => { alive = false; };
}
