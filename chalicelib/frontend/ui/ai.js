// AI (#/ai): configurations (keys never shown, only api_key_hint), routing per task, doctor findings.
// Each endpoint may not exist yet on this API: a 403/404 shows a muted note instead of an error.

import { h, replace, spinner } from './dom.js';
import { t } from './i18n.js';
import { api } from './api.js';
import { errorNotice, mutedNote } from './common.js';

const TASKS = [
  { key: 'planning', phases: ['brief', 'sitemap'] },
  { key: 'copywriting', phases: ['content'] },
  { key: 'coding', phases: ['code'] },
  { key: 'review', phases: ['review'] },
];
const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 };

function section(id, titleKey, testid) {
  const body = h('div', { class: 'section-body', testid: `${testid}-body` }, h('p', { class: 'muted' }, spinner(), ' ', t('common.loading')));
  const el = h('section', { class: 'card', 'aria-labelledby': id, testid },
    h('h2', { id, class: 'card-title' }, t(titleKey)), body);
  return { el, body };
}

export function mount(root, ctx) {
  document.title = `${t('ai.title')} · sitegen`;
  let alive = true;
  let configs = null;
  const configs$ = section('ai-configs-title', 'ai.configs', 'ai-configs');
  const routing$ = section('ai-routing-title', 'ai.routing', 'ai-routing');
  const doctor$ = section('ai-doctor-title', 'ai.doctor', 'ai-doctor');

  const failed = (target, err, retry, testid) => {
    if (err.status === 401) return;
    if (err.missingRoute) replace(target.body, mutedNote(t('ai.notYet'), `${testid}-missing`));
    else replace(target.body, errorNotice(err, retry));
  };

  const configName = (id) => {
    if (!id) return null;
    const found = configs && configs.find((c) => c.id === id);
    return found ? found.name : t('ai.unknownConfig', { id: String(id).slice(0, 8) });
  };

  function renderConfigs(items) {
    if (!items.length) { replace(configs$.body, mutedNote(t('ai.empty'), 'ai-configs-empty')); return; }
    replace(configs$.body, h('div', { class: 'table-wrap' }, h('table', { class: 'table table-ai', testid: 'ai-configs-table' },
      h('caption', { class: 'sr-only' }, t('ai.caption.configs')),
      h('thead', null, h('tr', null, ['name', 'provider', 'model', 'endpoint', 'enabled', 'key'].map((k) => h('th', { scope: 'col' }, t(`ai.col.${k}`))))),
      h('tbody', null, items.map((c) => h('tr', { testid: 'ai-config-row', 'data-config-id': c.id },
        h('td', { 'data-label': t('ai.col.name') }, h('strong', null, c.name)),
        h('td', { 'data-label': t('ai.col.provider') }, h('span', { class: 'tag' }, c.provider)),
        h('td', { 'data-label': t('ai.col.model') }, c.model ? h('code', null, c.model) : t('common.none')),
        h('td', { 'data-label': t('ai.col.endpoint'), class: 'wrap-anywhere' }, c.base_url || c.account_id || t('common.none')),
        h('td', { 'data-label': t('ai.col.enabled') },
          h('span', { class: ['badge', c.enabled ? 'badge-succeeded' : 'badge-cancelled'] }, h('span', { class: 'badge-dot', 'aria-hidden': 'true' }), c.enabled ? t('ai.enabled') : t('ai.disabled'))),
        h('td', { 'data-label': t('ai.col.key'), testid: 'ai-key' },
          c.has_api_key ? h('code', { class: 'key-hint' }, `••••${String(c.api_key_hint || '').replace(/^[.…]+/, '')}`) : h('span', { class: 'muted' }, t('ai.noKey')))))))));
  }

  function renderRouting(routing) {
    const routes = routing.routes || {};
    const cell = (id) => (id ? h('span', { class: 'route-target' }, configName(id)) : h('span', { class: 'muted' }, t('ai.unrouted')));
    replace(routing$.body, h('div', { class: 'table-wrap' }, h('table', { class: 'table table-routing', testid: 'ai-routing-table' },
      h('caption', { class: 'sr-only' }, t('ai.caption.routing')),
      h('thead', null, h('tr', null, ['task', 'phases', 'config'].map((k) => h('th', { scope: 'col' }, t(`ai.col.${k}`))))),
      h('tbody', null,
        TASKS.map((task) => h('tr', { testid: `route-${task.key}` },
          h('th', { scope: 'row', 'data-label': t('ai.col.task') }, t(`ai.task.${task.key}`)),
          h('td', { 'data-label': t('ai.col.phases') }, task.phases.map((p) => t(`phase.${p}`)).join(', ')),
          h('td', { 'data-label': t('ai.col.config') }, cell(routes[task.key])))),
        h('tr', { testid: 'route-fallback', class: 'row-fallback' },
          h('th', { scope: 'row', 'data-label': t('ai.col.task') }, t('ai.task.fallback')),
          h('td', { 'data-label': t('ai.col.phases'), class: 'muted' }, t('ai.fallbackHint')),
          h('td', { 'data-label': t('ai.col.config') }, cell(routing.fallback)))))));
  }

  function renderDoctor(report) {
    const findings = [...(report.findings || [])].sort((a, b) => (SEVERITY_ORDER[a.severity] ?? 3) - (SEVERITY_ORDER[b.severity] ?? 3));
    if (!findings.length) {
      replace(doctor$.body, h('p', { class: 'all-good', testid: 'ai-doctor-ok' }, h('span', { class: 'ok-icon', 'aria-hidden': 'true' }, '✓'), t('ai.noFindings')));
      return;
    }
    replace(doctor$.body, h('ul', { class: 'findings', testid: 'ai-findings' }, findings.map((f) => h('li', { class: ['finding', `finding-${f.severity}`], testid: 'ai-finding', 'data-severity': f.severity },
      h('span', { class: ['sev', `sev-${f.severity}`] }, t(`ai.severity.${f.severity}`)),
      h('div', { class: 'finding-body' },
        h('p', { class: 'finding-msg' }, f.message),
        h('p', { class: 'finding-meta' }, [f.code && h('code', null, f.code), f.task && t(`ai.task.${f.task}`), f.config_id && configName(f.config_id)].filter(Boolean).flatMap((x, i) => (i ? [' · ', x] : [x]))))))));
  }

  async function loadConfigs() {
    try {
      const data = await api('/ai/configs');
      if (!alive) return;
      configs = data.items || [];
      renderConfigs(configs);
    } catch (err) { if (alive) failed(configs$, err, loadConfigs, 'ai-configs'); }
  }
  async function loadRouting() {
    try {
      const data = await api('/ai/routing');
      if (alive) renderRouting(data);
    } catch (err) { if (alive) failed(routing$, err, loadRouting, 'ai-routing'); }
  }
  async function loadDoctor() {
    try {
      const data = await api('/ai/doctor');
      if (alive) renderDoctor(data);
    } catch (err) { if (alive) failed(doctor$, err, loadDoctor, 'ai-doctor'); }
  }

  replace(root, h('div', { class: 'container' },
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, t('ai.title')), h('p', { class: 'lead' }, t('ai.lead')))),
    configs$.el,
    h('div', { class: 'two-col' }, routing$.el, doctor$.el)));
  // Configs first: routing and doctor name configs by id.
  loadConfigs().finally(() => { loadRouting(); loadDoctor(); });
  return () => { alive = false; };
}
