// One order (#/orders/<id>): summary, Generate / Resend / Cancel, the phase stepper, the live log,
// the failure reason or the published site's preview, the site's versions (live address, Publish,
// Roll back, auto-publish) and the generation history.

import { h, replace, swatch, spinner } from './dom.js';
import { t, tn, fmtDateTime, fmtTime, fmtDuration } from './i18n.js';
import { api, newIdempotencyKey } from './api.js';
import { errorText, statusBadge } from './common.js';
import { ACTIVE_STATUSES } from './status.js';

const POLL_MS = 1000;
const LOG_PAGE = 200;
const MAX_LOG_LINES = 3000;
const IDLE_REFRESH_MS = 10_000;
// A poll asks for the log lines only; their page carries the generation's version (updated_at), and the
// generation itself is fetched when that moved, or after this many polls at most (a safety net).
const GENERATION_EVERY = 30;

const ms = (iso) => (iso ? Date.parse(iso) : NaN);

function phaseDuration(phase, now) {
  const start = ms(phase.started_at);
  if (Number.isNaN(start)) return null;
  const end = phase.finished_at ? ms(phase.finished_at) : (phase.status === 'running' || phase.status === 'retrying') ? now : NaN;
  return Number.isNaN(end) ? null : Math.max(0, end - start);
}

function genDuration(gen) {
  const start = ms(gen.created_at);
  const end = gen.finished_at ? ms(gen.finished_at) : NaN;
  return Number.isNaN(start) || Number.isNaN(end) ? null : end - start;
}

// ---- the live log panel ----

function createLogPanel() {
  const list = h('ol', { class: 'log-list', testid: 'log-lines' });
  const empty = h('p', { class: 'log-empty', testid: 'log-empty' }, t('order.logsEmpty'));
  const body = h('div', {
    class: 'log-body', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': t('order.logs'),
    tabindex: '0', testid: 'log-panel',
  }, empty, list);
  const jump = h('button', { type: 'button', class: 'log-jump', hidden: true, testid: 'log-jump' },
    h('span', { 'aria-hidden': 'true' }, '↓ '), t('order.jump'));
  let stick = true;
  const seen = new Set();

  body.addEventListener('scroll', () => {
    stick = body.scrollHeight - body.scrollTop - body.clientHeight < 24;
    if (stick) jump.hidden = true;
  });
  jump.addEventListener('click', () => {
    body.scrollTop = body.scrollHeight;
    stick = true;
    jump.hidden = true;
    body.focus();
  });

  function line(item) {
    const level = ['info', 'warning', 'error'].includes(item.level) ? item.level : 'info';
    const good = item.event === 'phase_succeeded' || item.event === 'generation_succeeded';
    return h('li', {
      class: ['log-line', `level-${level}`, item.event && 'is-event', good && 'is-good'],
      testid: 'log-line', 'data-level': level, 'data-event': item.event || null, 'data-phase': item.phase || null,
    },
    h('time', { class: 'log-time', datetime: item.ts }, fmtTime(item.ts, true)),
    h('span', { class: 'log-level' }, t(`level.${level}`)),
    h('span', { class: 'log-phase' }, item.phase ? t(`phase.${item.phase}`) : '·'),
    h('span', { class: 'log-msg' }, item.message));
  }

  return {
    element: h('div', { class: 'log-wrap' }, body, jump),
    add(items) {
      let added = 0;
      for (const item of items) {
        if (seen.has(item.cursor)) continue;
        seen.add(item.cursor);
        list.append(line(item));
        added += 1;
      }
      if (!added) return;
      empty.hidden = true;
      while (list.children.length > MAX_LOG_LINES) list.firstElementChild.remove();
      if (stick) body.scrollTop = body.scrollHeight;
      else jump.hidden = false;
    },
    reset() {
      seen.clear();
      list.replaceChildren();
      empty.hidden = false;
      stick = true;
      jump.hidden = true;
    },
  };
}

// ---- the phase stepper ----

function stepper(gen) {
  const now = Date.now();
  return h('ol', { class: 'stepper', testid: 'stepper', 'aria-label': t('order.generation') }, gen.phases.map((p, i) => {
    const duration = phaseDuration(p, now);
    const meta = [];
    if (p.attempts > 0) meta.push(tn('order.attempts', p.attempts));
    if (duration !== null) meta.push(fmtDuration(duration));
    const tokens = p.usage ? p.usage.tokens_in + p.usage.tokens_out : 0;
    if (tokens > 0) meta.push(t('order.tokens', { n: tokens.toLocaleString() }));
    const parts = p.parts || [];
    if (parts.length) meta.unshift(t('order.partsDone', { done: p.parts_done, total: parts.length }));
    let icon;
    if (p.status === 'succeeded') icon = '✓';
    else if (p.status === 'failed') icon = '!';
    else if (p.status === 'retrying') icon = '↻';
    else if (p.status === 'running') icon = spinner();
    else icon = String(i + 1);
    return h('li', {
      class: ['step', `step-${p.status}`], testid: `step-${p.name}`, 'data-status': p.status,
      'aria-current': p.status === 'running' || p.status === 'retrying' ? 'step' : null,
    },
    h('span', { class: 'step-icon', 'aria-hidden': 'true' }, icon),
    h('span', { class: 'step-text' },
      h('span', { class: 'step-name' }, t(`phase.${p.name}`)),
      h('span', { class: 'step-status', testid: 'step-status' }, t(`phaseStatus.${p.status}`)),
      h('span', { class: 'step-meta' }, meta.join(' · ') || '\u00a0'),
      p.error && p.status === 'retrying' ? h('span', { class: 'step-error' }, p.error) : null,
      parts.length && p.status !== 'succeeded' && p.status !== 'pending' ? partList(parts) : null));
  }));
}

// The parts of a per-page phase (content, code) while it runs or after it failed: one line a page.
function partList(parts) {
  const icons = { succeeded: '✓', failed: '!', retrying: '↻', running: '…', pending: '·' };
  return h('ul', { class: 'step-parts', testid: 'step-parts' }, parts.map((part) => {
    const meta = [t(`phaseStatus.${part.status}`)];
    if (part.attempts > 1) meta.push(tn('order.attempts', part.attempts));
    if (part.repairs > 0) meta.push(t('order.repairs', { n: part.repairs }));
    if (part.reused) meta.push(t('order.reused'));
    return h('li', { class: ['step-part', `step-${part.status}`], testid: `part-${part.name}`, 'data-status': part.status },
      h('span', { 'aria-hidden': 'true' }, icons[part.status] || '·'), ' ',
      h('span', { class: 'part-name' }, part.name), ' ',
      h('span', { class: 'step-meta' }, meta.join(' · ')),
      part.error && part.status !== 'succeeded' ? h('span', { class: 'step-error' }, part.error) : null);
  }));
}

// AI usage totals: tokens and estimated cost, only when a real model was involved.
function usageText(usage) {
  const tokens = usage ? usage.tokens_in + usage.tokens_out : 0;
  if (!tokens) return [];
  const cost = usage.cost_complete ? t('order.cost', { cost: `US$ ${usage.cost_usd.toFixed(4)}` }) : t('order.costUnknown');
  return [t('order.tokens', { n: tokens.toLocaleString() }), cost];
}

// ---- the view ----

export function mount(root, ctx, [rawId]) {
  const orderId = decodeURIComponent(rawId);
  let alive = true;
  let order = null;
  let gens = [];
  let selectedId = null;
  let watcher = null;
  let busy = false;
  let outcomeKey = null;

  const title = h('h1', { testid: 'order-title', class: 'order-title' }, t('common.loading'));
  const subtitle = h('p', { class: 'lead' });
  const btnGenerate = h('button', { type: 'button', class: 'btn btn-primary', testid: 'btn-generate', disabled: true }, t('order.generate'));
  const btnResend = h('button', { type: 'button', class: 'btn btn-secondary', testid: 'btn-resend', disabled: true }, t('order.resend'));
  const btnCancel = h('button', { type: 'button', class: 'btn btn-danger-ghost', testid: 'btn-cancel', disabled: true }, t('order.cancel'));
  const actionMsg = h('div', { class: 'action-msg', role: 'status', 'aria-live': 'polite', testid: 'action-message' });
  const offline = h('p', { class: 'notice notice-warning', hidden: true, role: 'status', testid: 'offline' }, t('order.offline'));

  const genTitle = h('h2', { id: 'gen-title', class: 'card-title' }, t('order.generation'));
  const genMeta = h('p', { class: 'card-sub', testid: 'gen-meta' });
  const genStatus = h('div', { class: 'gen-status', role: 'status', 'aria-live': 'polite', testid: 'gen-status-region' });
  const progressBar = h('div', { class: 'progress-bar' });
  const progressLabel = h('span', { class: 'progress-label', testid: 'gen-progress' });
  const progress = h('div', { class: 'progress-row' },
    h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-labelledby': 'gen-title' }, progressBar),
    progressLabel);
  const stepperSlot = h('div', { class: 'stepper-slot' });
  const outcomeSlot = h('div', { class: 'outcome-slot' });
  const genBody = h('div', { class: 'gen-body' }, progress, stepperSlot, outcomeSlot);
  const genEmpty = h('p', { class: 'empty-inline', testid: 'gen-empty', hidden: true }, t('order.noGeneration'));
  const genCard = h('section', { class: 'card gen-card', 'aria-labelledby': 'gen-title', testid: 'generation' },
    h('div', { class: 'card-head' }, h('div', null, genTitle, genMeta), genStatus),
    genEmpty, genBody);

  const previewSlot = h('div', { class: 'preview-slot' });
  const logs = createLogPanel();
  const liveDot = h('span', { class: 'live-dot', hidden: true, testid: 'log-live' }, t('order.logsLive'));
  const logCard = h('section', { class: 'card log-card', 'aria-labelledby': 'log-title', hidden: true },
    h('div', { class: 'card-head' }, h('h2', { id: 'log-title', class: 'card-title' }, t('order.logs')), liveDot),
    logs.element);

  const summaryBody = h('div', { testid: 'order-summary' });
  const summaryCard = h('section', { class: 'card', 'aria-labelledby': 'summary-title' },
    h('h2', { id: 'summary-title', class: 'card-title' }, t('order.summary')), summaryBody);
  const versionsBody = h('div', { testid: 'versions-body' });
  const versionsCard = h('section', { class: 'card versions-card', 'aria-labelledby': 'versions-title', testid: 'versions' },
    h('h2', { id: 'versions-title', class: 'card-title' }, t('versions.title')), versionsBody);
  const historyList = h('ul', { class: 'history', testid: 'history' });
  const historyCard = h('section', { class: 'card', 'aria-labelledby': 'history-title' },
    h('h2', { id: 'history-title', class: 'card-title' }, t('order.history')), historyList);

  const page = h('div', { class: 'container' },
    h('nav', { class: 'crumbs', 'aria-label': 'breadcrumb' }, h('a', { href: '#/orders' }, `← ${t('order.back')}`)),
    h('div', { class: 'page-head page-head-order' },
      h('div', { class: 'page-head-text' }, title, subtitle),
      h('div', { class: 'actions', role: 'group', 'aria-label': t('order.actions') }, btnGenerate, btnResend, btnCancel)),
    actionMsg, offline,
    h('div', { class: 'order-grid' },
      h('div', { class: 'order-main' }, genCard, previewSlot, logCard),
      h('aside', { class: 'order-aside' }, versionsCard, summaryCard, historyCard)));
  replace(root, page);

  // ---- rendering ----

  function say(text, kind = 'info') {
    replace(actionMsg, text ? h('p', { class: ['notice', `notice-${kind}`] }, text) : null);
  }

  function renderSummary() {
    const o = order;
    document.title = `${o.business_name} · sitegen`;
    title.textContent = o.business_name;
    subtitle.textContent = [o.segment, o.contact && o.contact.city].filter(Boolean).join(' · ');
    const rows = [];
    const row = (label, value) => {
      if (value === null || value === undefined || value === '' || (Array.isArray(value) && !value.length)) return;
      rows.push(h('div', { class: 'dl-row' }, h('dt', null, label), h('dd', null, value)));
    };
    row(t('order.segment'), o.segment);
    row(t('order.description'), o.description);
    if (o.services && o.services.length) row(t('order.services'), h('ul', { class: 'chips' }, o.services.map((s) => h('li', { class: 'chip' }, s))));
    const c = o.contact || {};
    const contact = [
      c.email && h('a', { href: `mailto:${c.email}` }, c.email),
      c.phone && h('a', { href: `tel:${c.phone.replace(/[^\d+]/g, '')}` }, c.phone),
      c.whatsapp && h('span', null, `WhatsApp ${c.whatsapp}`),
      c.address && h('span', null, c.address),
      c.city && h('span', null, c.city),
    ].filter(Boolean);
    if (contact.length) row(t('order.contact'), h('div', { class: 'stack' }, contact));
    const b = o.brand || {};
    row(t('order.brand'), h('div', { class: 'colors' },
      [b.primary_color, b.secondary_color].filter(Boolean).map((col) => h('span', { class: 'color' }, swatch(col, col), h('code', null, col)))));
    row(t('order.locale'), o.locale);
    row(t('order.external_ref'), o.external_ref && h('code', null, o.external_ref));
    row(t('order.created'), fmtDateTime(o.created_at));
    row(t('order.id'), h('code', { class: 'id' }, o.id));
    replace(summaryBody, h('dl', { class: 'dl' }, rows));
  }

  // ---- versions: the live address, auto-publish, Publish / Roll back ----

  let versions = null;

  async function refreshVersions() {
    try {
      const list = await api(`/orders/${encodeURIComponent(orderId)}/versions`);
      if (!alive) return;
      versions = list;
      renderVersions();
    } catch (err) { /* the list stays as it was */ }
  }

  function renderVersions() {
    const v = versions;
    if (!v) return;
    const live = v.items.find((item) => item.live);
    const link = h('a', { href: v.live_url, target: '_blank', rel: 'noopener noreferrer', class: 'url', testid: 'live-url' },
      v.live_url, h('span', { 'aria-hidden': 'true' }, ' ↗'));
    const auto = h('input', { type: 'checkbox', id: 'auto-publish', testid: 'auto-publish', checked: v.auto_publish });
    auto.addEventListener('change', () => act(async () => {
      const changed = await api(`/orders/${encodeURIComponent(orderId)}`, { method: 'PATCH', body: { auto_publish: auto.checked } });
      order = changed;
      say(t(changed.auto_publish ? 'versions.autoOn' : 'versions.autoOff'), 'info');
      await refreshVersions();
    }));
    const rows = v.items.map((item) => versionRow(item, live));
    replace(versionsBody,
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
        onclick: () => act(async () => {
          versions = await api(`/orders/${encodeURIComponent(orderId)}/versions/${encodeURIComponent(item.generation_id)}/publish`, { method: 'POST' });
          renderVersions();
          say(t('versions.published', { n: item.number }), 'info');
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

  function renderActions() {
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

  function renderHistory() {
    if (!gens.length) {
      replace(historyList, h('li', { class: 'muted' }, t('order.historyEmpty')));
      return;
    }
    replace(historyList, gens.map((g, i) => {
      const duration = genDuration(g);
      return h('li', null, h('button', {
        type: 'button', class: ['history-item', g.id === selectedId && 'is-selected'], testid: 'history-item',
        'data-generation-id': g.id, 'aria-current': g.id === selectedId ? 'true' : null,
        onclick: () => select(g.id),
      },
      h('span', { class: 'history-when' }, fmtDateTime(g.created_at, true)),
      statusBadge(g.status),
      h('span', { class: 'history-meta' }, [i === 0 ? t('order.latest') : null,
        g.regenerated_page ? t('order.regenOf', { page: g.regenerated_page }) : null,
        duration !== null ? fmtDuration(duration) : null].filter(Boolean).join(' · ') || '\u00a0')));
    }));
  }

  function renderGeneration(gen) {
    genEmpty.hidden = true;
    genBody.hidden = false;
    logCard.hidden = false;
    genTitle.textContent = gens[0] && gens[0].id === gen.id ? t('order.generation') : t('order.generationOf', { date: fmtDateTime(gen.created_at) });
    const duration = genDuration(gen);
    genMeta.textContent = [t('order.started', { date: fmtDateTime(gen.created_at) }), duration !== null ? t('order.took', { duration: fmtDuration(duration) }) : null,
      ...usageText(gen.usage)].filter(Boolean).join(' · ');
    if (genStatus.dataset.status !== gen.status) {
      genStatus.dataset.status = gen.status;
      replace(genStatus, h('span', { class: 'sr-only' }, t('order.statusLabel', { status: '' })), statusBadge(gen.status, 'gen-status'));
    }
    const pct = Math.round((gen.progress || 0) * 100);
    progressBar.style.width = `${pct}%`;
    progressBar.parentElement.setAttribute('aria-valuenow', String(pct));
    progressBar.parentElement.classList.toggle('is-active', ACTIVE_STATUSES.has(gen.status));
    progressBar.parentElement.dataset.status = gen.status;
    progressLabel.textContent = t('order.progress', { pct });
    replace(stepperSlot, stepper(gen));
    liveDot.hidden = !ACTIVE_STATUSES.has(gen.status);
    renderOutcome(gen);
  }

  function renderOutcome(gen) {
    const key = `${gen.id}|${gen.status}|${gen.error || ''}|${gen.site_url || ''}`;
    if (key === outcomeKey) return;
    outcomeKey = key;
    replace(outcomeSlot);
    replace(previewSlot);
    if (gen.status === 'failed') {
      const failed = gen.phases.find((p) => p.status === 'failed');
      const reason = gen.error || (failed && failed.error) || t('common.none');
      replace(outcomeSlot, h('div', { class: 'callout callout-error', role: 'alert', testid: 'gen-error' },
        h('h3', { class: 'callout-title' }, t('order.failedTitle')),
        failed ? h('p', null, t('order.failedAt', { phase: t(`phase.${failed.name}`) })) : null,
        h('p', { class: 'reason', testid: 'gen-error-reason' }, reason),
        h('p', { class: 'callout-hint' }, t('order.failedHint'))));
    } else if (gen.status === 'cancelled') {
      replace(outcomeSlot, h('div', { class: 'callout callout-neutral', testid: 'gen-cancelled' },
        h('h3', { class: 'callout-title' }, t('order.cancelledTitle')),
        gen.error ? h('p', { class: 'reason' }, gen.error) : null,
        h('p', { class: 'callout-hint' }, t('order.cancelledHint'))));
    } else if (gen.status === 'succeeded' && /^https?:\/\//i.test(gen.site_url || '')) {
      replace(previewSlot, preview(gen.site_url));
      const pages = pagesOf(gen);
      if (pages.length) replace(outcomeSlot, regenerateForm(gen, pages));
    }
  }

  // Regenerate one page: its copy and code are written again (optionally with the customer's wishes);
  // the other pages are reused; the whole site is reviewed and published as a new generation.
  function pagesOf(gen) {
    const code = gen.phases.find((p) => p.name === 'code');
    return code ? code.parts.map((p) => p.name).filter((name) => name !== 'styles.css') : [];
  }

  function regenerateForm(gen, pages) {
    const wishes = h('textarea', {
      id: 'regen-wishes', maxlength: '500', rows: '2', class: 'input', testid: 'regen-wishes',
      placeholder: t('order.regenWishesHint'),
    });
    const buttons = pages.map((slug) => h('button', {
      type: 'button', class: 'btn', testid: `regen-${slug}`,
      onclick: () => act(async () => {
        const body = wishes.value.trim() ? { instructions: wishes.value.trim() } : {};
        const next = await api(`/generations/${encodeURIComponent(gen.id)}/pages/${encodeURIComponent(slug)}/regenerate`,
          { method: 'POST', body });
        upsert(next);
        select(next.id);
        say(t('order.regenQueued', { page: slug }), 'info');
      }),
    }, t('order.regenPage', { page: slug })));
    return h('section', { class: 'regen', testid: 'regen', 'aria-labelledby': 'regen-title' },
      h('h3', { id: 'regen-title', class: 'callout-title' }, t('order.regenTitle')),
      h('label', { for: 'regen-wishes' }, t('order.regenWishes')), wishes,
      h('div', { class: 'regen-pages' }, buttons));
  }

  function preview(url) {
    const frame = h('iframe', {
      src: url, sandbox: '', title: t('order.previewFrame'), referrerpolicy: 'no-referrer',
      class: 'preview-frame', testid: 'preview-frame',
    });
    const viewport = h('div', { class: 'preview-viewport' }, frame);
    const sizeButton = (key, cls) => h('button', {
      type: 'button', class: 'seg-btn', 'aria-pressed': cls === 'desktop' ? 'true' : 'false', testid: `preview-${cls}`,
      onclick: (e) => {
        viewport.classList.toggle('is-phone', cls === 'phone');
        e.currentTarget.parentElement.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b === e.currentTarget)));
      },
    }, t(key));
    return h('section', { class: 'card preview-card', 'aria-labelledby': 'preview-title', testid: 'preview' },
      h('div', { class: 'card-head' },
        h('div', null,
          h('h2', { id: 'preview-title', class: 'card-title card-title-success' }, h('span', { class: 'ok-icon', 'aria-hidden': 'true' }, '✓'), t('order.successTitle')),
          h('p', { class: 'card-sub url' }, url)),
        h('div', { class: 'preview-tools' },
          h('div', { class: 'seg', role: 'group', 'aria-label': t('order.previewSize') },
            sizeButton('order.previewDesktop', 'desktop'), sizeButton('order.previewPhone', 'phone')),
          h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', class: 'btn btn-secondary btn-sm', testid: 'preview-open' },
            t('order.open'), h('span', { 'aria-hidden': 'true' }, ' ↗')))),
      h('div', { class: 'preview-stage' }, viewport));
  }

  function upsert(gen) {
    const i = gens.findIndex((g) => g.id === gen.id);
    if (i >= 0) gens[i] = gen;
    else gens = [gen, ...gens].sort((a, b) => ms(b.created_at) - ms(a.created_at));
  }

  function setGeneration(gen) {
    upsert(gen);
    if (watcher && watcher.id === gen.id) watcher.gen = gen;
    if (gen.id === selectedId) renderGeneration(gen);
    renderHistory();
    renderActions();
  }

  // ---- polling ----

  function watch(genId, keepLogs) {
    const previous = watcher;
    if (previous) previous.stop();
    const w = {
      id: genId, cursor: keepLogs && previous && previous.id === genId ? previous.cursor : null, timer: null, stopped: false, failures: 0, polls: 0,
      gen: gens.find((g) => g.id === genId) || null, // what we know of it; fetched again when its version moves
      stop() { this.stopped = true; window.clearTimeout(this.timer); },
    };
    if (!w.cursor) logs.reset();
    watcher = w;

    // Returns the last page read (null once stopped): it says the generation's status and version.
    async function pullLogs() {
      let pageOfLogs = null;
      for (let i = 0; i < 25; i += 1) {
        const q = new URLSearchParams({ limit: String(LOG_PAGE) });
        if (w.cursor) q.set('after', w.cursor);
        pageOfLogs = await api(`/generations/${encodeURIComponent(genId)}/logs?${q}`);
        if (w.stopped) return null;
        if (pageOfLogs.next_cursor) w.cursor = pageOfLogs.next_cursor;
        logs.add(pageOfLogs.items || []);
        if ((pageOfLogs.items || []).length < LOG_PAGE) break;
      }
      return pageOfLogs;
    }

    async function tick() {
      if (w.stopped || !alive) return;
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
        if (w.stopped || !alive || err.status === 401) return;
        if (err.status === 404) { w.stop(); say(errorText(err), 'error'); return; }
        w.failures += 1;
        offline.hidden = false;
        w.timer = window.setTimeout(tick, Math.min(10_000, POLL_MS * 2 ** Math.min(w.failures, 4)));
      }
    }
    tick();
  }

  let lastAnnounced = null;
  async function finished(gen) {
    if (actionMsg.querySelector('.notice-info')) say(null);
    if (lastAnnounced !== `${gen.id}|${gen.status}`) {
      lastAnnounced = `${gen.id}|${gen.status}`;
      ctx.announce(`${t('order.generation')}: ${t(`status.${gen.status}`)}`);
    }
    await refreshGenerations();
    await refreshVersions();
  }

  async function refreshGenerations() {
    try {
      const list = await api(`/orders/${encodeURIComponent(orderId)}/generations`);
      if (!alive) return;
      gens = list.items || [];
      renderHistory();
      renderActions();
    } catch (err) { /* the history stays as it was; actions still reflect what we know */ }
  }

  function select(genId, keepLogs = false) {
    selectedId = genId;
    outcomeKey = null;
    const known = gens.find((g) => g.id === genId);
    if (known) renderGeneration(known);
    renderHistory();
    watch(genId, keepLogs);
  }

  // ---- actions ----

  async function act(run) {
    if (busy) return;
    busy = true;
    renderActions();
    say(null);
    try {
      await run();
    } catch (err) {
      if (err.status === 401 || !alive) return;
      if (err.status === 409 && err.body && err.body.active_generation_id) {
        await refreshGenerations();
        select(err.body.active_generation_id);
        say(t('order.conflict'), 'info');
      } else {
        say(t('order.actionFailed', { message: err.offline ? errorText(err) : err.message }), 'error');
        await refreshGenerations();
      }
    } finally {
      busy = false;
      if (alive) renderActions();
    }
  }

  btnGenerate.addEventListener('click', () => act(async () => {
    const gen = await api(`/orders/${encodeURIComponent(orderId)}/generations`, {
      method: 'POST', headers: { 'Idempotency-Key': newIdempotencyKey() },
    });
    upsert(gen);
    select(gen.id);
    say(t('order.generated'), 'info');
  }));

  btnResend.addEventListener('click', () => act(async () => {
    const latest = gens[0];
    const gen = await api(`/generations/${encodeURIComponent(latest.id)}/retry`, { method: 'POST' });
    upsert(gen);
    select(gen.id, true);
    say(t('order.resent'), 'info');
  }));

  btnCancel.addEventListener('click', () => act(async () => {
    const latest = gens[0];
    const gen = await api(`/generations/${encodeURIComponent(latest.id)}/cancel`, { method: 'POST' });
    upsert(gen);
    if (selectedId !== gen.id || !watcher || watcher.stopped) select(gen.id, true);
    else setGeneration(gen);
    say(gen.status === 'cancelled' ? t('order.cancelledNow') : t('order.cancelRequested'), 'info');
  }));

  // ---- load ----

  async function load() {
    try {
      const [o, list] = await Promise.all([
        api(`/orders/${encodeURIComponent(orderId)}`),
        api(`/orders/${encodeURIComponent(orderId)}/generations`),
      ]);
      if (!alive) return;
      order = o;
      gens = list.items || [];
      renderSummary();
      renderHistory();
      renderActions();
      refreshVersions();
      if (gens.length) select(gens[0].id);
      else {
        genEmpty.hidden = false;
        genBody.hidden = true;
        genMeta.textContent = '';
      }
    } catch (err) {
      if (!alive || err.status === 401) return;
      if (err.status === 404) {
        title.textContent = t('order.notFound');
        replace(page.querySelector('.order-grid'));
        page.querySelector('.actions').hidden = true;
        return;
      }
      title.textContent = t('order.generation');
      say(errorText(err), 'error');
    }
  }

  // While nothing is being watched, look for generations started elsewhere (the CRM, another tab).
  const idleTimer = window.setInterval(async () => {
    if (!alive || busy || !order || document.hidden || (watcher && !watcher.stopped)) return;
    const before = gens[0];
    await refreshGenerations();
    const latest = gens[0];
    if (!alive || !latest) return;
    const isNew = !before || before.id !== latest.id;
    const resumed = before && before.id === latest.id && ACTIVE_STATUSES.has(latest.status) && !ACTIVE_STATUSES.has(before.status);
    if (isNew) select(latest.id);
    else if (resumed) select(latest.id, latest.id === selectedId);
  }, IDLE_REFRESH_MS);

  genEmpty.hidden = false;
  genBody.hidden = true;
  replace(genEmpty, spinner(), ' ', t('common.loading'));
  load().then(() => { if (!gens.length) replace(genEmpty, t('order.noGeneration')); });

  return () => {
    alive = false;
    window.clearInterval(idleTimer);
    if (watcher) watcher.stop();
  };
}
