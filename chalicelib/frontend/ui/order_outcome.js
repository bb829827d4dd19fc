// How the shown generation ended: why it failed, that it was cancelled, or the published site's
// preview with the form to regenerate one of its pages.

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import { pagesOf, regenerateForm } from './order_regenerate.js';

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

// `slot` goes in the generation card, `previewSlot` below it.
export function createOutcome(state, view) {
  const slot = h('div', { class: 'outcome-slot' });
  const previewSlot = h('div', { class: 'preview-slot' });

  function render(gen) {
    const key = `${gen.id}|${gen.status}|${gen.error || ''}|${gen.site_url || ''}`;
    if (key === state.outcomeKey) return;
    state.outcomeKey = key;
    replace(slot);
    replace(previewSlot);
    if (gen.status === 'failed') {
      const failed = gen.phases.find((p) => p.status === 'failed');
      const reason = gen.error || (failed && failed.error) || t('common.none');
      replace(slot, h('div', { class: 'callout callout-error', role: 'alert', testid: 'gen-error' },
        h('h3', { class: 'callout-title' }, t('order.failedTitle')),
        failed ? h('p', null, t('order.failedAt', { phase: t(`phase.${failed.name}`) })) : null,
        h('p', { class: 'reason', testid: 'gen-error-reason' }, reason),
        h('p', { class: 'callout-hint' }, t('order.failedHint'))));
    } else if (gen.status === 'cancelled') {
      replace(slot, h('div', { class: 'callout callout-neutral', testid: 'gen-cancelled' },
        h('h3', { class: 'callout-title' }, t('order.cancelledTitle')),
        gen.error ? h('p', { class: 'reason' }, gen.error) : null,
        h('p', { class: 'callout-hint' }, t('order.cancelledHint'))));
    } else if (gen.status === 'succeeded' && /^https?:\/\//i.test(gen.site_url || '')) {
      replace(previewSlot, preview(gen.site_url));
      const pages = pagesOf(gen);
      if (pages.length) replace(slot, regenerateForm(state, view, gen, pages));
    }
  }

  return { slot, previewSlot, render };
}
