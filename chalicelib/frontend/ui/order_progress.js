// The order page's generation card: status, progress bar, the phase stepper (with each per-page
// phase's parts), timing and AI usage. The outcome (failure, preview, regenerate) goes in its slot.

import { h, replace, spinner } from './dom.js';
import { t, tn, fmtDateTime, fmtDuration } from './i18n.js';
import { statusBadge } from './common.js';
import { ACTIVE_STATUSES } from './status.js';
import { ms } from './order_state.js';

function phaseDuration(phase, now) {
  const start = ms(phase.started_at);
  if (Number.isNaN(start)) return null;
  const end = phase.finished_at ? ms(phase.finished_at) : (phase.status === 'running' || phase.status === 'retrying') ? now : NaN;
  return Number.isNaN(end) ? null : Math.max(0, end - start);
}

export function genDuration(gen) {
  const start = ms(gen.created_at);
  const end = gen.finished_at ? ms(gen.finished_at) : NaN;
  return Number.isNaN(start) || Number.isNaN(end) ? null : end - start;
}

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

export function createGenerationCard(state, outcomeSlot) {
  const genTitle = h('h2', { id: 'gen-title', class: 'card-title' }, t('order.generation'));
  const genMeta = h('p', { class: 'card-sub', testid: 'gen-meta' });
  const genStatus = h('div', { class: 'gen-status', role: 'status', 'aria-live': 'polite', testid: 'gen-status-region' });
  const progressBar = h('div', { class: 'progress-bar' });
  const progressLabel = h('span', { class: 'progress-label', testid: 'gen-progress' });
  const progress = h('div', { class: 'progress-row' },
    h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-labelledby': 'gen-title' }, progressBar),
    progressLabel);
  const stepperSlot = h('div', { class: 'stepper-slot' });
  const genBody = h('div', { class: 'gen-body' }, progress, stepperSlot, outcomeSlot);
  const genEmpty = h('p', { class: 'empty-inline', testid: 'gen-empty', hidden: true }, t('order.noGeneration'));
  const element = h('section', { class: 'card gen-card', 'aria-labelledby': 'gen-title', testid: 'generation' },
    h('div', { class: 'card-head' }, h('div', null, genTitle, genMeta), genStatus),
    genEmpty, genBody);

  return {
    element,
    // No generation to show (yet): the note, with `content` in it when given.
    empty(...content) {
      genEmpty.hidden = false;
      genBody.hidden = true;
      genMeta.textContent = '';
      if (content.length) replace(genEmpty, ...content);
    },
    render(gen) {
      genEmpty.hidden = true;
      genBody.hidden = false;
      const latest = state.gens[0];
      genTitle.textContent = latest && latest.id === gen.id ? t('order.generation') : t('order.generationOf', { date: fmtDateTime(gen.created_at) });
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
    },
  };
}
