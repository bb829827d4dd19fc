// The AI config form (add, edit, replace the key), shaped by the provider: account_id only for
// cloudflare, base_url required for openai_compatible and optional for the others, the key as a
// password field that is never filled from the API (it only ever sends a hint). The API's errors are
// shown next to their fields, and focus goes to the first one.

import { h, replace, uid } from './dom.js';
import { t } from './i18n.js';
import { api } from './api.js';

// What each provider needs (chalicelib/ai/registry.py SPECS): key none/optional/required, and the
// settings that must be set.
export const PROVIDERS = {
  openai: { key: 'required', needs: ['model'], baseUrl: 'optional', account: false },
  anthropic: { key: 'required', needs: ['model'], baseUrl: 'optional', account: false },
  cloudflare: { key: 'required', needs: ['model', 'account_id'], baseUrl: 'optional', account: true },
  openai_compatible: { key: 'optional', needs: ['model', 'base_url'], baseUrl: 'required', account: false },
  template: { key: 'none', needs: [], baseUrl: 'none', account: false },
};
// Changing one of these sends the config's requests (and so its key) somewhere else.
const ENDPOINT_FIELDS = ['provider', 'base_url', 'account_id'];
const PARAMS = [
  { name: 'temperature', min: '0', max: '2', step: '0.1' },
  { name: 'max_tokens', min: '1', max: '32000', step: '1' },
  { name: 'timeout_s', min: '1', max: '110', step: '1' },
];

export function providerLabel(name) {
  return PROVIDERS[name] ? t(`ai.provider.${name}`) : name;
}

function fieldFor(path) {
  const p = String(path || '');
  if (p.startsWith('params.')) return p;
  return p.split('.')[0];
}

// mode: 'create' | 'edit' | 'key'. config: the API's AIConfigPublic (edit, key). suggestion: a provider to
// preselect instead of an unknown stored one (the doctor's).
export function configForm({ mode, config = null, suggestion = null, onSaved, onCancel }) {
  const editing = mode !== 'create';
  const prefix = uid('aicfg');
  const controls = {};
  const wraps = {};
  const original = editing ? config : null;
  let replacingKey = mode === 'key';

  function field(name, control, { hint = null, required = false, label = t(`ai.field.${name}`) } = {}) {
    const id = `${prefix}-${name.replace(/\./g, '-')}`;
    control.id = id;
    control.setAttribute('data-testid', `ai-field-${name}`);
    const hintEl = h('p', { id: `${id}-hint`, class: 'hint' });
    const errEl = h('p', { id: `${id}-error`, class: 'field-error', testid: `ai-error-${name}`, hidden: true });
    control.setAttribute('aria-describedby', `${id}-hint ${id}-error`);
    const req = h('span', { class: 'req-mark' });
    const wrap = h('div', { class: 'field', 'data-field': name },
      h('label', { for: id, class: 'label' }, label, req), control, hintEl, errEl);
    wraps[name] = { wrap, hintEl, errEl, req, control };
    controls[name] = control;
    setHint(name, hint);
    setRequired(name, required);
    return wrap;
  }
  function setHint(name, text) {
    const w = wraps[name];
    w.hintEl.textContent = text || '';
    w.hintEl.hidden = !text;
  }
  function setRequired(name, required) {
    const w = wraps[name];
    if (w.control.type === 'checkbox') return;
    replace(w.req, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : h('span', { class: 'opt' }, ` (${t('common.optional')})`));
    if (required) w.control.setAttribute('aria-required', 'true');
    else w.control.removeAttribute('aria-required');
  }
  const input = (type, props = {}) => h('input', { type, class: 'input', autocomplete: 'off', spellcheck: 'false', ...props });

  // ---- the controls ----
  const providerSelect = h('select', { class: 'input select' },
    Object.keys(PROVIDERS).map((p) => h('option', { value: p }, providerLabel(p))));
  const storedUnknown = editing && !PROVIDERS[config.provider];
  if (storedUnknown) {
    providerSelect.prepend(h('option', { value: config.provider, disabled: true }, t('ai.form.unknownProvider', { name: config.provider })));
  }
  const startProvider = storedUnknown ? (suggestion && PROVIDERS[suggestion] ? suggestion : '') : (editing ? config.provider : 'openai_compatible');
  providerSelect.value = startProvider || config.provider;

  const nameInput = input('text', { maxlength: '100', value: editing ? config.name : '' });
  const modelInput = input('text', { maxlength: '200', value: editing ? config.model || '' : '' });
  const baseUrlInput = input('url', { maxlength: '500', inputmode: 'url', placeholder: 'https://…', value: editing ? config.base_url || '' : '' });
  const accountInput = input('text', { maxlength: '100', value: editing ? config.account_id || '' : '' });
  const keyInput = input('password', { maxlength: '4096', autocomplete: 'new-password', value: '' });
  const enabledInput = h('input', { type: 'checkbox', class: 'checkbox', checked: editing ? config.enabled : true });
  const removeKeyInput = h('input', { type: 'checkbox', class: 'checkbox' });
  const paramInputs = PARAMS.map((p) => input('number', { min: p.min, max: p.max, step: p.step, inputmode: 'decimal',
    value: editing && config.params && config.params[p.name] !== undefined ? String(config.params[p.name]) : '' }));

  const replaceKeyBtn = h('button', { type: 'button', class: 'btn btn-secondary btn-sm', testid: 'ai-replace-key' }, t('ai.form.replaceKey'));
  const storedKey = h('p', { class: 'stored-key', testid: 'ai-stored-key' });
  const providerNote = h('p', { class: 'notice notice-warning', testid: 'ai-provider-note', hidden: true });

  const keyField = field('api_key', keyInput);
  const removeKeyField = h('div', { class: 'field field-check', hidden: true },
    h('label', { class: 'check-label' }, removeKeyInput, ' ', t('ai.form.removeKey')));
  const keyArea = h('div', { class: 'field-wide key-area' },
    editing && config.has_api_key ? h('div', { class: 'key-row' }, storedKey, replaceKeyBtn) : null,
    keyField, removeKeyField);

  const summary = h('div', { class: 'form-summary form-summary-inline', testid: 'ai-form-errors', tabindex: '-1', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'ai-form-save' }, editing ? t('ai.form.save') : t('ai.form.create'));
  const cancel = h('button', { type: 'button', class: 'btn btn-ghost', testid: 'ai-form-cancel', onclick: () => onCancel && onCancel() }, t('form.cancel'));
  const titleId = uid('ai-form-title');
  const titleText = mode === 'create' ? t('ai.form.addTitle') : mode === 'key' ? t('ai.form.keyTitle', { name: config.name }) : t('ai.form.editTitle', { name: config.name });

  const form = h('form', { class: 'ai-form', novalidate: true, testid: 'ai-config-form', 'aria-labelledby': titleId, 'data-mode': mode },
    h('h3', { id: titleId, class: 'ai-form-title', tabindex: '-1' }, titleText),
    summary,
    providerNote,
    h('div', { class: 'form-grid' },
      field('name', nameInput, { required: true, hint: t('ai.hint.name') }),
      field('provider', providerSelect, { required: true }),
      field('model', modelInput),
      field('account_id', accountInput, { hint: t('ai.hint.account_id') }),
      field('base_url', baseUrlInput),
      keyArea,
      h('div', { class: 'field field-check field-wide' },
        h('label', { class: 'check-label', for: `${prefix}-enabled` }, enabledInput, ' ', t('ai.field.enabled'))),
      h('details', { class: 'advanced field-wide' },
        h('summary', null, t('ai.form.advanced')),
        h('div', { class: 'form-grid' }, PARAMS.map((p, i) => field(`params.${p.name}`, paramInputs[i], { hint: t(`ai.hint.${p.name}`), label: t(`ai.field.${p.name}`) }))))),
    h('div', { class: 'form-actions' }, cancel, submit));
  enabledInput.id = `${prefix}-enabled`;
  enabledInput.setAttribute('data-testid', 'ai-field-enabled');
  removeKeyInput.setAttribute('data-testid', 'ai-field-remove-key');

  const endpointMoved = () => editing && ENDPOINT_FIELDS.some((f) => value(f) !== (original[f] || ''));
  function value(name) {
    if (name === 'provider') return providerSelect.value;
    const c = controls[name];
    return c && !wraps[name].wrap.hidden ? c.value.trim() : '';
  }

  // Show the fields this provider uses, mark what it needs, say what the key will be.
  function shape() {
    const provider = providerSelect.value;
    const spec = PROVIDERS[provider] || PROVIDERS.openai_compatible;
    wraps.account_id.wrap.hidden = !spec.account;
    wraps.base_url.wrap.hidden = spec.baseUrl === 'none';
    setRequired('model', spec.needs.includes('model'));
    setRequired('account_id', true);
    setRequired('base_url', spec.baseUrl === 'required');
    setHint('model', t(`ai.hint.model.${provider}`));
    setHint('base_url', spec.baseUrl === 'required' ? t('ai.hint.base_url.required') : t('ai.hint.base_url.optional'));
    const hasKey = editing && config.has_api_key;
    const moved = endpointMoved();
    keyArea.hidden = spec.key === 'none';
    const showKeyInput = !editing || replacingKey || moved || (editing && !hasKey && spec.key !== 'none');
    wraps.api_key.wrap.hidden = !showKeyInput || removeKeyInput.checked;
    replaceKeyBtn.hidden = replacingKey || moved;
    removeKeyField.hidden = !(hasKey && spec.key === 'optional');
    const keyRequired = (!editing && spec.key === 'required') || (moved && hasKey && !removeKeyInput.checked)
      || (editing && !hasKey && spec.key === 'required');
    setRequired('api_key', keyRequired);
    let hint = spec.key === 'optional' ? t('ai.hint.api_key.optional') : t('ai.hint.api_key.required');
    if (moved && hasKey) hint = t('ai.hint.api_key.moved');
    else if (replacingKey) hint = t('ai.hint.api_key.replace');
    setHint('api_key', `${hint} ${t('ai.hint.api_key.never')}`);
    if (hasKey) storedKey.textContent = t('ai.form.storedKey', { hint: String(config.api_key_hint || '').replace(/^[.…]+/, '') });
  }
  providerSelect.addEventListener('change', shape);
  [baseUrlInput, accountInput].forEach((c) => c.addEventListener('input', shape));
  removeKeyInput.addEventListener('change', shape);
  replaceKeyBtn.addEventListener('click', () => { replacingKey = true; shape(); keyInput.focus(); });
  if (storedUnknown) {
    providerNote.hidden = false;
    providerNote.textContent = suggestion && PROVIDERS[suggestion]
      ? t('ai.form.suggested', { name: config.provider, suggestion: providerLabel(suggestion) })
      : t('ai.form.pickProvider', { name: config.provider });
  }
  shape();

  // ---- errors ----
  function clearErrors() {
    summary.hidden = true;
    replace(summary);
    Object.values(wraps).forEach((w) => { w.errEl.hidden = true; replace(w.errEl); w.control.removeAttribute('aria-invalid'); });
  }
  function showErrors(details, general) {
    clearErrors();
    const items = [];
    let first = null;
    for (const d of details) {
      const name = fieldFor(d.field);
      const w = wraps[name];
      if (w && !w.wrap.hidden && !(w.wrap.closest('[hidden]'))) {
        w.errEl.append(h('span', { class: 'err-line' }, plain(name, d.message)), h('span', { class: 'api-msg' }, t('form.apiSays', { message: d.message })));
        w.errEl.hidden = false;
        w.control.setAttribute('aria-invalid', 'true');
        const details$ = w.wrap.closest('details');
        if (details$) details$.open = true;
        if (!first) first = w.control;
        const label = w.wrap.querySelector('label').firstChild.textContent;
        items.push(h('li', null, h('a', { href: `#${w.control.id}`, onclick: (e) => { e.preventDefault(); w.control.focus(); } }, label), `: ${plain(name, d.message)}`));
      } else {
        items.push(h('li', null, d.field ? `${d.field}: ${d.message}` : d.message));
      }
    }
    replace(summary, h('p', { class: 'form-summary-title' }, general || t('form.errors')), items.length ? h('ul', null, items) : null);
    summary.hidden = false;
    summary.setAttribute('role', 'alert');
    (first || summary).focus();
  }
  function plain(name, message) {
    const msg = String(message || '');
    if (/at least 1 character|field required|needs (a|an|base_url|model|account_id)|missing|cannot be null/i.test(msg)) {
      return name === 'api_key' ? t('ai.invalid.key') : t('invalid.required');
    }
    if (/already exists/i.test(msg)) return t('ai.invalid.nameTaken');
    if (/did you mean/i.test(msg)) return t('ai.invalid.providerTypo', { message: msg });
    if (name === 'base_url' && /pattern|url/i.test(msg)) return t('ai.invalid.url');
    if (name === 'account_id' && /pattern/i.test(msg)) return t('ai.invalid.account');
    if (name === 'api_key' && /(send|enter) api_key again|somewhere else/i.test(msg)) return t('ai.invalid.keyAgain');
    if (name === 'api_key' && /printable|spaces|line break/i.test(msg)) return t('ai.invalid.keyChars');
    const range = msg.match(/(greater|less) than or equal to ([\d.]+)/i);
    if (range) return t(range[1].toLowerCase() === 'greater' ? 'ai.invalid.min' : 'ai.invalid.max', { n: range[2] });
    return msg;
  }

  // ---- the request ----
  function body() {
    const out = {};
    const put = (name, v) => { out[name] = v; };
    const params = {};
    PARAMS.forEach((p, i) => {
      const raw = paramInputs[i].value.trim();
      const before = editing && config.params ? config.params[p.name] : undefined;
      const now = raw === '' ? null : Number(raw);
      if (!editing) { if (now !== null) params[p.name] = Number.isNaN(now) ? raw : now; return; }
      if ((before === undefined ? null : before) !== now) params[p.name] = now !== null && Number.isNaN(now) ? raw : now;
    });
    const key = keyInput.value.trim();
    if (!editing) {
      ['name', 'provider', 'model', 'base_url', 'account_id'].forEach((f) => { if (value(f)) put(f, value(f)); });
      put('enabled', enabledInput.checked);
      if (key && !wraps.api_key.wrap.hidden) put('api_key', key);
      if (Object.keys(params).length) put('params', params);
      return out;
    }
    ['name', 'provider', 'model', 'base_url', 'account_id'].forEach((f) => {
      const v = value(f);
      if (v !== (original[f] || '')) put(f, v === '' && f !== 'name' ? null : v);
    });
    if (enabledInput.checked !== original.enabled) put('enabled', enabledInput.checked);
    if (removeKeyInput.checked && !removeKeyField.hidden) put('api_key', null);
    else if (key && !wraps.api_key.wrap.hidden) put('api_key', key);
    if (Object.keys(params).length) put('params', params);
    return out;
  }
  function localErrors() {
    // The one rule the dashboard keeps itself: a stored key never follows a moved endpoint, and a key
    // that is being replaced must be given.
    const hasKey = editing && config.has_api_key;
    if (!editing || wraps.api_key.wrap.hidden || keyInput.value.trim()) return [];
    if (endpointMoved() && hasKey && !removeKeyInput.checked) return [{ field: 'api_key', message: t('ai.invalid.keyAgain'), local: true }];
    if (replacingKey) return [{ field: 'api_key', message: t('ai.invalid.key'), local: true }];
    return [];
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const local = localErrors();
    if (local.length) { showLocal(local); return; }
    const payload = body();
    if (editing && !Object.keys(payload).length) { onCancel && onCancel(); return; }
    clearErrors();
    submit.disabled = true;
    try {
      const saved = editing
        ? await api(`/ai/configs/${encodeURIComponent(config.id)}`, { method: 'PATCH', body: payload })
        : await api('/ai/configs', { method: 'POST', body: payload });
      keyInput.value = '';
      onSaved && onSaved(saved, mode);
    } catch (err) {
      submit.disabled = false;
      if (err.status === 401) return;
      if (err.details.length) showErrors(err.details, err.code === 'validation_error' ? null : err.message);
      else if (err.code === 'conflict' && /named/.test(err.message)) showErrors([{ field: 'name', message: err.message }], err.message);
      else showErrors([], err.offline ? t('common.unreachable', { url: '' }).replace(' ()', '') : t('common.error', { message: err.message }));
    } finally {
      submit.disabled = false;
    }
  });
  function showLocal(list) {
    clearErrors();
    const w = wraps.api_key;
    w.errEl.append(h('span', { class: 'err-line' }, list[0].message));
    w.errEl.hidden = false;
    w.control.setAttribute('aria-invalid', 'true');
    replace(summary, h('p', { class: 'form-summary-title' }, t('form.errors')),
      h('ul', null, h('li', null, h('a', { href: `#${w.control.id}`, onclick: (e) => { e.preventDefault(); w.control.focus(); } }, t('ai.field.api_key')), `: ${list[0].message}`)));
    summary.hidden = false;
    summary.setAttribute('role', 'alert');
    w.control.focus();
  }

  return {
    el: form,
    focus() {
      if (mode === 'key') keyInput.focus();
      else if (storedUnknown) providerSelect.focus();
      else nameInput.focus();
    },
  };
}
