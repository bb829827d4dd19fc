// AI (#/ai): manage provider configs (add, edit, replace the key, test, enable/disable, delete; keys are
// never shown, only api_key_hint), route each task, read the doctor's findings with what to do, and
// see each config's spend over the last 7 days. Deep links: #/ai?config=<id> opens that config's
// form, #/ai?route=<task> focuses that task's route.
// An endpoint this API does not have yet (403/404) shows a muted note instead of an error.

import { h, replace, spinner } from './dom.js';
import { t, fmtNumber, fmtDuration } from './i18n.js';
import { api } from './api.js';
import { errorNotice, mutedNote } from './common.js';
import { confirmDialog } from './dialog.js';
import { configForm, providerLabel, PROVIDERS } from './ai_form.js';

const TASKS = [
  { key: 'planning', phases: ['brief', 'sitemap'] },
  { key: 'copywriting', phases: ['content'] },
  { key: 'coding', phases: ['code'] },
  { key: 'review', phases: ['review'] },
];
const ROUTE_KEYS = [...TASKS.map((x) => x.key), 'fallback'];
const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 };
const SPEND_DAYS = 7;

function section(id, titleKey, testid, tools) {
  const body = h('div', { class: 'section-body', testid: `${testid}-body` }, h('p', { class: 'muted' }, spinner(), ' ', t('common.loading')));
  const el = h('section', { class: 'card', 'aria-labelledby': id, testid },
    h('div', { class: 'card-head' }, h('h2', { id, class: 'card-title' }, t(titleKey)), tools || null), body);
  return { el, body };
}

function hashQuery() {
  const raw = decodeURIComponent(window.location.hash.replace(/^#/, ''));
  const q = raw.includes('?') ? raw.slice(raw.indexOf('?') + 1) : '';
  return new URLSearchParams(q);
}

function money(usd) {
  return `US$ ${usd.toFixed(usd >= 1 ? 2 : 4)}`;
}

// The test's answer in plain words, then the API's own text.
function testWords(result) {
  if (result.ok) return t('ai.test.ok');
  const error = String(result.error || '');
  const status = result.status ?? Number((error.match(/\bHTTP (\d{3})\b/) || [])[1] || NaN);
  if (status === 401 || status === 403 || /key|unauthori[sz]ed|forbidden/i.test(error)) return t('ai.test.auth');
  if (status === 404) return t('ai.test.notFound');
  if (status === 429) return t('ai.test.rate');
  if (status >= 500) return t('ai.test.server');
  if (/timed? ?out|timeout/i.test(error)) return t('ai.test.timeout');
  if (/refus|not allowed|private|loopback|egress/i.test(error)) return t('ai.test.refused');
  if (/connect|unreachable|resolve|dns|no usable answer/i.test(error)) return t('ai.test.unreachable');
  return t('ai.test.failed');
}

export function mount(root, ctx) {
  document.title = `${t('ai.title')} · sitegen`;
  let alive = true;
  let configs = null;
  let routing = null;
  let spend = {};
  let openForm = null; // { id: config id or 'new', returnTo }
  const addBtn = h('button', { type: 'button', class: 'btn btn-primary btn-sm', testid: 'ai-add' }, h('span', { class: 'btn-icon', 'aria-hidden': 'true' }, '+'), t('ai.add'));
  const configs$ = section('ai-configs-title', 'ai.configs', 'ai-configs', addBtn);
  const routing$ = section('ai-routing-title', 'ai.routing', 'ai-routing');
  const doctor$ = section('ai-doctor-title', 'ai.doctor', 'ai-doctor');
  const formSlot = h('div', { class: 'form-slot', testid: 'ai-form-slot' });
  const configNotice = h('div', { class: 'action-msg', testid: 'ai-config-notice', tabindex: '-1' });
  const configTable = h('div');
  const testResults = {}; // config id -> last test result (kept across re-renders)

  const failed = (target, err, retry, testid) => {
    if (err.status === 401) return;
    if (err.missingRoute) replace(target.body, mutedNote(t('ai.notYet'), `${testid}-missing`));
    else replace(target.body, errorNotice(err, retry));
  };

  const byId = (id) => (configs || []).find((c) => c.id === id) || null;
  const configName = (id) => {
    if (!id) return null;
    const found = byId(id);
    return found ? found.name : t('ai.unknownConfig', { id: String(id).slice(0, 8) });
  };
  const routedTasks = (id) => (routing ? ROUTE_KEYS.filter((k) => (k === 'fallback' ? routing.fallback : routing.routes[k]) === id) : []);
  const taskNames = (tasks) => tasks.map((k) => t(`ai.task.${k}`)).join(', ');

  // ---- configurations ----

  function spendCell(c) {
    const s = spend[c.id];
    if (!s) return h('span', { class: 'muted' }, t('ai.spend.none'));
    const tokens = s.tokens_in + s.tokens_out;
    let cost;
    if (s.cost_usd === null || s.cost_usd === undefined) cost = t('ai.spend.costUnknown');
    else cost = s.cost_complete ? money(s.cost_usd) : t('ai.spend.costPartial', { cost: money(s.cost_usd) });
    return h('span', { class: 'spend', testid: 'ai-spend' },
      h('span', { class: 'spend-tokens' }, t('ai.spend.tokens', { n: fmtNumber(tokens) })),
      h('span', { class: 'spend-detail' }, `${t('ai.spend.calls', { n: fmtNumber(s.calls) })} · ${cost}`));
  }

  function testLine(c) {
    const r = testResults[c.id];
    const el = h('p', { class: 'test-result', testid: 'ai-test-result', 'aria-live': 'polite' });
    if (!r) return el;
    if (r.running) { replace(el, spinner(), ' ', t('ai.test.running')); return el; }
    el.dataset.ok = String(Boolean(r.ok));
    el.classList.add(r.ok ? 'is-ok' : 'is-bad');
    const latency = r.latency_ms !== null && r.latency_ms !== undefined ? fmtDuration(r.latency_ms) : null;
    replace(el,
      h('span', { class: 'test-verdict' }, r.ok ? '✓ ' : '✗ ', testWords(r)),
      latency ? h('span', { class: 'test-latency' }, ` · ${t('ai.test.latency', { time: latency })}`) : null,
      !r.ok && r.error ? h('span', { class: 'test-error' }, r.error) : null);
    return el;
  }

  function renderConfigs() {
    if (!configs.length) { replace(configTable, mutedNote(t('ai.empty'), 'ai-configs-empty')); return; }
    const rows = configs.map((c) => {
      const known = Boolean(PROVIDERS[c.provider]);
      const act = (key, label, onclick, extra = {}) => h('button', {
        type: 'button', class: ['btn', 'btn-sm', key === 'delete' ? 'btn-danger-ghost' : 'btn-secondary'], testid: `ai-${key}`,
        'aria-label': `${label}: ${c.name}`, onclick, ...extra,
      }, label);
      return h('tr', { testid: 'ai-config-row', 'data-config-id': c.id, 'data-name': c.name, class: !c.enabled && 'is-off' },
        h('td', { 'data-label': t('ai.col.name') }, h('strong', { class: 'config-name', tabindex: '-1', id: `cfg-${c.id}` }, c.name)),
        h('td', { 'data-label': t('ai.col.provider') }, known ? h('span', { class: 'tag' }, providerLabel(c.provider))
          : h('span', { class: 'tag tag-bad', testid: 'ai-provider-unknown' }, t('ai.providerUnknown', { name: c.provider }))),
        h('td', { 'data-label': t('ai.col.model') }, c.model ? h('code', null, c.model) : t('common.none')),
        h('td', { 'data-label': t('ai.col.endpoint'), class: 'wrap-anywhere' }, c.base_url || c.account_id || (known && c.provider !== 'template' ? h('span', { class: 'muted' }, t('ai.officialEndpoint')) : t('common.none'))),
        h('td', { 'data-label': t('ai.col.enabled') },
          h('span', { class: ['badge', c.enabled ? 'badge-succeeded' : 'badge-cancelled'], testid: 'ai-status' }, h('span', { class: 'badge-dot', 'aria-hidden': 'true' }), c.enabled ? t('ai.enabled') : t('ai.disabled'))),
        h('td', { 'data-label': t('ai.col.key'), testid: 'ai-key' },
          c.has_api_key ? h('code', { class: 'key-hint' }, `••••${String(c.api_key_hint || '').replace(/^[.…]+/, '')}`)
            : h('span', { class: 'muted' }, PROVIDERS[c.provider] && PROVIDERS[c.provider].key === 'none' ? t('ai.keyNotUsed') : t('ai.noKey'))),
        h('td', { 'data-label': t('ai.col.spend') }, spendCell(c)),
        h('td', { 'data-label': t('ai.col.actions'), class: 'cell-actions' },
          h('div', { class: 'row-actions' },
            act('test', t('ai.action.test'), (e) => testConfig(c, e.currentTarget), { disabled: Boolean(testResults[c.id] && testResults[c.id].running) }),
            act('edit', t('ai.action.edit'), (e) => showForm('edit', c, e.currentTarget)),
            c.has_api_key || (PROVIDERS[c.provider] && PROVIDERS[c.provider].key !== 'none') ? act('replace', t('ai.action.key'), (e) => showForm('key', c, e.currentTarget)) : null,
            act('toggle', c.enabled ? t('ai.action.disable') : t('ai.action.enable'), (e) => toggle(c, e.currentTarget)),
            act('delete', t('ai.action.delete'), (e) => remove(c, e.currentTarget))),
          testLine(c)));
    });
    replace(configTable, h('div', { class: 'table-wrap' }, h('table', { class: 'table table-ai', testid: 'ai-configs-table' },
      h('caption', { class: 'sr-only' }, t('ai.caption.configs')),
      h('thead', null, h('tr', null, ['name', 'provider', 'model', 'endpoint', 'enabled', 'key', 'spend', 'actions'].map((k) => h('th', { scope: 'col' }, t(`ai.col.${k}`))))),
      h('tbody', null, rows))));
  }

  function focusRowButton(id, testid) {
    const row = configTable.querySelector(`[data-config-id="${CSS.escape(id)}"]`);
    const target = row && (row.querySelector(`[data-testid="${testid}"]`) || row.querySelector('.config-name'));
    if (target) target.focus();
  }

  function showForm(mode, config, returnTo, suggestion = null) {
    const form = configForm({
      mode, config, suggestion,
      onSaved: async (saved, how) => {
        closeForm(false);
        const message = how === 'create' ? t('ai.saved.created', { name: saved.name }) : how === 'key' ? t('ai.saved.key', { name: saved.name }) : t('ai.saved.edited', { name: saved.name });
        notice('ok', message);
        ctx.announce(message);
        await reloadAll();
        focusRowButton(saved.id, mode === 'create' ? 'ai-test' : mode === 'key' ? 'ai-replace' : 'ai-edit');
      },
      onCancel: () => closeForm(true),
    });
    openForm = { id: config ? config.id : 'new', returnTo };
    replace(formSlot, h('div', { class: 'form-panel' }, form.el));
    form.focus();
    formSlot.scrollIntoView({ block: 'nearest' });
  }
  function closeForm(restoreFocus) {
    const returnTo = openForm && openForm.returnTo;
    openForm = null;
    replace(formSlot);
    if (restoreFocus && returnTo && returnTo.isConnected) returnTo.focus();
    else if (restoreFocus) addBtn.focus();
  }
  addBtn.addEventListener('click', (e) => showForm('create', null, e.currentTarget));

  function notice(kind, ...content) {
    replace(configNotice, h('div', { class: ['notice', `notice-${kind === 'ok' ? 'info' : kind}`], role: kind === 'error' ? 'alert' : 'status' }, h('div', null, content)));
  }

  async function testConfig(c, button) {
    testResults[c.id] = { running: true };
    renderConfigs();
    let result;
    try {
      result = await api(`/ai/configs/${encodeURIComponent(c.id)}/test`, { method: 'POST' });
    } catch (err) {
      if (err.status === 401) return;
      result = { ok: false, latency_ms: null, error: err.message };
    }
    if (!alive) return;
    testResults[c.id] = result;
    renderConfigs();
    focusRowButton(c.id, 'ai-test');
    ctx.announce(`${c.name}: ${testWords(result)}`);
    return button;
  }

  async function toggle(c) {
    const tasks = routedTasks(c.id);
    if (c.enabled && tasks.length) {
      const ok = await confirmDialog({
        title: t('ai.disable.title', { name: c.name }),
        body: t('ai.disable.body', { tasks: taskNames(tasks) }),
        confirm: t('ai.action.disable'), testid: 'ai-disable-dialog',
      });
      if (!ok) return;
    }
    try {
      await api(`/ai/configs/${encodeURIComponent(c.id)}`, { method: 'PATCH', body: { enabled: !c.enabled } });
      notice('ok', t(c.enabled ? 'ai.saved.disabled' : 'ai.saved.enabled', { name: c.name }));
      await reloadAll();
      focusRowButton(c.id, 'ai-toggle');
    } catch (err) {
      if (err.status !== 401) notice('error', t('ai.actionFailed', { message: err.message }));
    }
  }

  async function remove(c) {
    const ok = await confirmDialog({
      title: t('ai.delete.title', { name: c.name }),
      body: c.has_api_key ? t('ai.delete.bodyKey') : t('ai.delete.body'),
      confirm: t('ai.action.delete'), danger: true, testid: 'ai-delete-dialog',
    });
    if (!ok) return;
    try {
      await api(`/ai/configs/${encodeURIComponent(c.id)}`, { method: 'DELETE' });
      delete testResults[c.id];
      notice('ok', t('ai.saved.deleted', { name: c.name }));
      ctx.announce(t('ai.saved.deleted', { name: c.name }));
      await reloadAll();
      addBtn.focus();
    } catch (err) {
      if (err.status === 401) return;
      const order = (k) => (ROUTE_KEYS.includes(k) ? ROUTE_KEYS.indexOf(k) : ROUTE_KEYS.length);
      const tasks = (Array.isArray(err.body.tasks) ? [...err.body.tasks] : []).sort((a, b) => order(a) - order(b));
      if (err.status === 409 && tasks.length) {
        notice('error',
          h('p', { class: 'notice-title', testid: 'ai-delete-refused' }, t('ai.delete.refused', { name: c.name, tasks: taskNames(tasks) })),
          h('p', null, t('ai.delete.refusedHow'), ' ',
            tasks.map((k, i) => [i ? ', ' : '', routeLink(k)])));
      } else {
        notice('error', t('ai.actionFailed', { message: err.message }));
      }
      configNotice.focus();
    }
  }

  // ---- routing ----

  const routeSelects = {};
  function routeLink(task) {
    return h('a', { href: `#/ai?route=${task}`, class: 'route-link', testid: `link-route-${task}`, onclick: (e) => { e.preventDefault(); focusRoute(task); } }, t(`ai.task.${task}`));
  }
  function focusRoute(task) {
    const sel = routeSelects[task];
    if (sel) { sel.scrollIntoView({ block: 'center' }); sel.focus(); }
  }

  function renderRouting() {
    const routes = routing.routes || {};
    const current = (k) => (k === 'fallback' ? routing.fallback : routes[k]) || '';
    const status = h('p', { class: 'routing-status', role: 'status', testid: 'routing-status' });
    const summary = h('div', { class: 'form-summary form-summary-inline', testid: 'routing-errors', tabindex: '-1', hidden: true });
    const errs = {};
    const row = (key, phases) => {
      const id = `route-select-${key}`;
      const options = [h('option', { value: '' }, t('ai.unrouted'))].concat((configs || []).map((c) => {
        const usable = c.enabled && PROVIDERS[c.provider];
        const suffix = !c.enabled ? ` (${t('ai.disabled').toLowerCase()})` : !PROVIDERS[c.provider] ? ` (${t('ai.providerUnknown', { name: c.provider })})` : '';
        return h('option', { value: c.id, disabled: !usable && c.id !== current(key) }, `${c.name}${suffix}`);
      }));
      const cur = current(key);
      if (cur && !byId(cur)) options.push(h('option', { value: cur }, t('ai.unknownConfig', { id: cur.slice(0, 8) })));
      const sel = h('select', { id, class: 'input select', testid: `route-select-${key}`, 'aria-describedby': `${id}-error` }, options);
      sel.value = cur;
      routeSelects[key] = sel;
      errs[key] = h('p', { id: `${id}-error`, class: 'field-error', testid: `route-error-${key}`, hidden: true });
      return h('tr', { testid: `route-${key}`, class: key === 'fallback' ? 'row-fallback' : null },
        h('th', { scope: 'row', 'data-label': t('ai.col.task') }, h('label', { for: id }, t(`ai.task.${key}`))),
        h('td', { 'data-label': t('ai.col.phases'), class: key === 'fallback' ? 'muted' : null, testid: `route-phases-${key}` }, phases),
        h('td', { 'data-label': t('ai.col.config') }, sel, errs[key]));
    };
    const save = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'routing-save' }, t('ai.routingSave'));
    const form = h('form', { class: 'routing-form', testid: 'routing-form', novalidate: true, 'aria-labelledby': 'ai-routing-title' },
      summary,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table table-routing', testid: 'ai-routing-table' },
        h('caption', { class: 'sr-only' }, t('ai.caption.routing')),
        h('thead', null, h('tr', null, ['task', 'phases', 'config'].map((k) => h('th', { scope: 'col' }, t(`ai.col.${k}`))))),
        h('tbody', null,
          TASKS.map((task) => row(task.key, task.phases.map((p) => t(`phase.${p}`)).join(', '))),
          row('fallback', t('ai.fallbackHint'))))),
      h('div', { class: 'form-actions form-actions-inline' }, status, save));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      Object.values(errs).forEach((e) => { e.hidden = true; replace(e); });
      Object.values(routeSelects).forEach((s) => s.removeAttribute('aria-invalid'));
      summary.hidden = true;
      const value = (k) => routeSelects[k].value || null;
      const bodyOut = { routes: Object.fromEntries(TASKS.map((x) => [x.key, value(x.key)])), fallback: value('fallback') };
      save.disabled = true;
      try {
        routing = await api('/ai/routing', { method: 'PUT', body: bodyOut });
        ctx.announce(t('ai.routingSaved'));
        loadDoctor();
        renderRouting();
        routing$.body.querySelector('[data-testid=routing-status]').textContent = t('ai.routingSaved');
        routing$.body.querySelector('[data-testid=routing-save]').focus();
      } catch (err) {
        save.disabled = false;
        if (err.status === 401) return;
        loadDoctor(); // what made the save fail (e.g. a config disabled meanwhile) may be a finding now
        let first = null;
        const general = [];
        for (const d of err.details) {
          const key = String(d.field || '').replace(/^routes\./, '');
          if (errs[key]) {
            errs[key].append(h('span', { class: 'err-line' }, d.message));
            errs[key].hidden = false;
            routeSelects[key].setAttribute('aria-invalid', 'true');
            if (!first) first = routeSelects[key];
          } else general.push(d.message);
        }
        if (!err.details.length) general.push(err.message);
        replace(summary, h('p', { class: 'form-summary-title' }, t('ai.routingFailed')), general.length ? h('ul', null, general.map((m) => h('li', null, m))) : null);
        summary.hidden = false;
        summary.setAttribute('role', 'alert');
        (first || summary).focus();
      }
    });
    replace(routing$.body, form);
  }

  // ---- doctor ----

  const FIX_BY_CODE = {
    unknown_provider: 'ai.fix.unknown_provider', name_provider_mismatch: 'ai.fix.name_provider_mismatch',
    missing_model: 'ai.fix.missing_setting', missing_base_url: 'ai.fix.missing_setting', missing_account_id: 'ai.fix.missing_setting',
    missing_api_key: 'ai.fix.missing_api_key', invalid_base_url: 'ai.fix.invalid_base_url',
    route_to_missing_config: 'ai.fix.route_elsewhere', route_to_disabled_config: 'ai.fix.route_disabled',
    uses_fallback: 'ai.fix.uses_fallback', no_route: 'ai.fix.no_route', unused_config: 'ai.fix.unused_config',
  };

  function openConfig(id, suggestion) {
    const c = byId(id);
    if (!c) return;
    const row = configTable.querySelector(`[data-config-id="${CSS.escape(id)}"]`);
    showForm('edit', c, row ? row.querySelector('[data-testid=ai-edit]') : null, suggestion);
  }

  function renderDoctor(report) {
    const findings = [...(report.findings || [])].sort((a, b) => (SEVERITY_ORDER[a.severity] ?? 3) - (SEVERITY_ORDER[b.severity] ?? 3));
    if (!findings.length) {
      replace(doctor$.body, h('p', { class: 'all-good', testid: 'ai-doctor-ok' }, h('span', { class: 'ok-icon', 'aria-hidden': 'true' }, '✓'), t('ai.noFindings')));
      return;
    }
    replace(doctor$.body, h('ul', { class: 'findings', testid: 'ai-findings' }, findings.map((f) => {
      const config = f.config_id ? byId(f.config_id) : null;
      const field = (f.code || '').replace(/^missing_/, '');
      const fix = FIX_BY_CODE[f.code] ? t(FIX_BY_CODE[f.code], {
        field: t(`ai.field.${field}`),
        suggestion: f.suggestion ? t('ai.fix.unknown_provider.suggest', { suggestion: providerLabel(f.suggestion) }) : '',
      }) : t('ai.fix.generic');
      const links = [];
      if (config) {
        links.push(h('a', {
          href: `#/ai?config=${encodeURIComponent(config.id)}`, class: 'finding-link', testid: 'finding-config-link',
          onclick: (e) => { e.preventDefault(); openConfig(config.id, f.code === 'unknown_provider' ? f.suggestion : null); },
        }, t('ai.finding.openConfig', { name: config.name })));
      }
      if (f.task && ROUTE_KEYS.includes(f.task)) {
        links.push(h('a', {
          href: `#/ai?route=${f.task}`, class: 'finding-link', testid: 'finding-route-link',
          onclick: (e) => { e.preventDefault(); focusRoute(f.task); },
        }, t('ai.finding.openRoute', { task: t(`ai.task.${f.task}`) })));
      }
      return h('li', { class: ['finding', `finding-${f.severity}`], testid: 'ai-finding', 'data-severity': f.severity, 'data-code': f.code || '' },
        h('span', { class: ['sev', `sev-${f.severity}`] }, t(`ai.severity.${f.severity}`)),
        h('div', { class: 'finding-body' },
          h('p', { class: 'finding-msg' }, f.message),
          h('p', { class: 'finding-fix', testid: 'finding-fix' }, h('strong', null, t('ai.finding.todo')), ' ', fix),
          links.length ? h('p', { class: 'finding-links' }, links.flatMap((l, i) => (i ? [' · ', l] : [l]))) : null,
          h('p', { class: 'finding-meta' }, [f.code && h('code', null, f.code), f.task && t(`ai.task.${f.task}`), f.config_id && configName(f.config_id)].filter(Boolean).flatMap((x, i) => (i ? [' · ', x] : [x])))));
    })));
  }

  // ---- loading ----

  async function loadConfigs() {
    try {
      const data = await api('/ai/configs');
      if (!alive) return false;
      configs = data.items || [];
      if (!configTable.isConnected) replace(configs$.body, configNotice, formSlot, configTable);
      renderConfigs();
      return true;
    } catch (err) {
      if (alive) failed(configs$, err, () => loadConfigs().then(afterConfigs), 'ai-configs');
      return false;
    }
  }
  async function loadSpend() {
    try {
      const data = await api(`/ai/spend?days=${SPEND_DAYS}`);
      if (!alive) return;
      spend = Object.fromEntries((data.items || []).map((s) => [s.config_id, s]));
    } catch (err) {
      spend = {};
    }
    if (configs) renderConfigs();
  }
  async function loadRouting() {
    try {
      routing = await api('/ai/routing');
      if (alive) renderRouting();
    } catch (err) { if (alive) failed(routing$, err, loadRouting, 'ai-routing'); }
  }
  async function loadDoctor() {
    try {
      const data = await api('/ai/doctor');
      if (alive) renderDoctor(data);
    } catch (err) { if (alive) failed(doctor$, err, loadDoctor, 'ai-doctor'); }
  }
  async function reloadAll() {
    if (await loadConfigs()) await Promise.all([loadRouting(), loadDoctor(), loadSpend()]);
  }
  function afterConfigs(ok) {
    if (!ok) return Promise.resolve();
    return Promise.all([loadRouting(), loadDoctor(), loadSpend()]).then(() => {
      const q = hashQuery();
      if (q.get('config')) openConfig(q.get('config'));
      else if (q.get('route')) focusRoute(q.get('route'));
    });
  }

  replace(root, h('div', { class: 'container' },
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, t('ai.title')), h('p', { class: 'lead' }, t('ai.lead')))),
    configs$.el,
    h('div', { class: 'two-col' }, routing$.el, doctor$.el)));
  // Configs first: routing and doctor name configs by id.
  loadConfigs().then(afterConfigs);
  return () => { alive = false; };
}
