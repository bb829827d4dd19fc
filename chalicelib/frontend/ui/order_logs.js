// The order page's live log: the lines of the selected generation, following new ones unless the user
// scrolled up ("Jump to new lines" appears then).

import { h } from './dom.js';
import { t, fmtTime } from './i18n.js';

const MAX_LOG_LINES = 3000;

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

// The log's card: hidden until a generation is shown; "live" while that generation is going.
export function createLogCard() {
  const panel = createLogPanel();
  const liveDot = h('span', { class: 'live-dot', hidden: true, testid: 'log-live' }, t('order.logsLive'));
  const element = h('section', { class: 'card log-card', 'aria-labelledby': 'log-title', hidden: true },
    h('div', { class: 'card-head' }, h('h2', { id: 'log-title', class: 'card-title' }, t('order.logs')), liveDot),
    panel.element);
  return {
    element,
    add: panel.add,
    reset: panel.reset,
    show(live) {
      element.hidden = false;
      liveDot.hidden = !live;
    },
  };
}
