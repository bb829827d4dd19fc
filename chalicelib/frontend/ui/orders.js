// Orders: the paged list (#/orders) and the create form (#/orders/new).

import { h, replace, swatch, spinner } from './dom.js';
import { t, tn, lang, fmtDateTime } from './i18n.js';
import { api } from './api.js';
import { errorNotice } from './common.js';

const PAGE = 20;

export function mountList(root, ctx) {
  document.title = `${t('orders.title')} · sitegen`;
  let alive = true;
  let cursor = null;
  let count = 0;

  const tbody = h('tbody', { testid: 'orders-rows' });
  const table = h('table', { class: 'table table-orders', testid: 'orders-table' },
    h('caption', { class: 'sr-only' }, t('orders.caption')),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, t('orders.col.business')),
      h('th', { scope: 'col' }, t('orders.col.segment')),
      h('th', { scope: 'col' }, t('orders.col.city')),
      h('th', { scope: 'col' }, t('orders.col.locale')),
      h('th', { scope: 'col', class: 'col-date' }, t('orders.col.created')))),
    tbody);
  const status = h('p', { class: 'list-status muted', role: 'status', testid: 'orders-status' });
  const more = h('button', { type: 'button', class: 'btn btn-secondary', testid: 'orders-more', hidden: true }, t('orders.more'));
  const body = h('div', { class: 'card card-flush' }, h('div', { class: 'table-wrap' }, table));
  const problems = h('div');

  const row = (o) => h('tr', { testid: 'order-row', 'data-order-id': o.id },
    h('td', { 'data-label': t('orders.col.business') },
      h('div', { class: 'order-name' },
        swatch(o.brand && o.brand.primary_color, o.brand && o.brand.primary_color),
        h('a', { href: `#/orders/${encodeURIComponent(o.id)}`, class: 'row-link', testid: 'order-link' }, o.business_name))),
    h('td', { 'data-label': t('orders.col.segment') }, o.segment),
    h('td', { 'data-label': t('orders.col.city') }, (o.contact && o.contact.city) || t('common.none')),
    h('td', { 'data-label': t('orders.col.locale') }, h('span', { class: 'tag' }, o.locale)),
    h('td', { 'data-label': t('orders.col.created'), class: 'col-date' }, fmtDateTime(o.created_at)));

  async function load() {
    more.disabled = true;
    replace(status, spinner(), ' ', t('common.loading'));
    replace(problems);
    try {
      const q = new URLSearchParams({ limit: String(PAGE) });
      if (cursor) q.set('cursor', cursor);
      const page = await api(`/orders?${q}`);
      if (!alive) return;
      const firstNew = tbody.children.length;
      page.items.forEach((o) => tbody.append(row(o)));
      count += page.items.length;
      cursor = page.next_cursor || null;
      more.hidden = !cursor;
      more.disabled = false;
      if (count === 0) {
        replace(body, h('div', { class: 'empty', testid: 'orders-empty' },
          h('p', null, t('orders.empty')),
          h('a', { href: '#/orders/new', class: 'btn btn-primary' }, t('orders.new'))));
        replace(status);
      } else {
        replace(status, cursor ? tn('orders.shown', count) : `${tn('orders.shown', count)} · ${t('orders.end')}`);
      }
      if (firstNew > 0 && tbody.children[firstNew]) {
        const link = tbody.children[firstNew].querySelector('a');
        if (link) link.focus();
      }
    } catch (err) {
      if (!alive || err.status === 401) return;
      replace(status);
      more.disabled = false;
      replace(problems, errorNotice(err, load));
    }
  }
  more.addEventListener('click', load);

  replace(root, h('div', { class: 'container' },
    h('div', { class: 'page-head' },
      h('div', null, h('h1', null, t('orders.title')), h('p', { class: 'lead' }, t('orders.lead'))),
      h('a', { href: '#/orders/new', class: 'btn btn-primary', testid: 'orders-new' }, h('span', { 'aria-hidden': 'true', class: 'btn-icon' }, '+'), t('orders.new'))),
    problems,
    body,
    h('div', { class: 'list-foot' }, status, more)));
  load();
  return () => { alive = false; };
}

// ---- create form ----

const FIELDS = [
  { section: 'business', name: 'business_name', required: true, maxlength: 200, autocomplete: 'organization' },
  { section: 'business', name: 'segment', required: true, maxlength: 100, hint: 'form.segment.hint' },
  { section: 'business', name: 'description', kind: 'textarea', maxlength: 2000, hint: 'form.description.hint', wide: true },
  { section: 'business', name: 'services', kind: 'textarea', hint: 'form.services.hint', wide: true, rows: 4 },
  { section: 'contact', name: 'contact.email', type: 'email', autocomplete: 'email', maxlength: 254 },
  { section: 'contact', name: 'contact.phone', type: 'tel', autocomplete: 'tel', maxlength: 40 },
  { section: 'contact', name: 'contact.whatsapp', type: 'tel', maxlength: 40 },
  { section: 'contact', name: 'contact.city', autocomplete: 'address-level2', maxlength: 120 },
  { section: 'contact', name: 'contact.address', autocomplete: 'street-address', maxlength: 300, wide: true },
  { section: 'brand', name: 'brand.primary_color', kind: 'color', value: '#1F4E79' },
  { section: 'brand', name: 'brand.secondary_color', kind: 'color', value: '#F2A900' },
  { section: 'brand', name: 'locale', kind: 'select', options: ['pt-BR', 'en'] },
  { section: 'brand', name: 'external_ref', maxlength: 100, hint: 'form.external_ref.hint' },
];

const fieldId = (name) => `f-${name.replace(/\./g, '-')}`;

function buildField(spec) {
  const id = fieldId(spec.name);
  const label = t(`form.${spec.name}`);
  const hintId = `${id}-hint`;
  const errId = `${id}-error`;
  const described = [spec.hint || spec.kind === 'color' ? hintId : null, errId].filter(Boolean).join(' ');
  const common = {
    id, name: spec.name, class: 'input', testid: `field-${spec.name}`, 'aria-describedby': described,
    'aria-required': spec.required ? 'true' : null, maxlength: spec.maxlength,
  };
  let control;
  let extra = null;
  if (spec.kind === 'textarea') {
    control = h('textarea', { ...common, rows: spec.rows || 3 });
  } else if (spec.kind === 'select') {
    control = h('select', { ...common, class: 'input select' },
      spec.options.map((o) => h('option', { value: o, selected: o === (lang() === 'en' ? 'en' : 'pt-BR') }, o === 'pt-BR' ? 'Português (pt-BR)' : 'English (en)')));
  } else if (spec.kind === 'color') {
    control = h('input', { ...common, type: 'text', value: spec.value, spellcheck: 'false', autocomplete: 'off', class: 'input input-color' });
    const picker = h('input', { type: 'color', class: 'color-picker', value: spec.value.toLowerCase(), 'aria-label': t('form.color.pick', { label }) });
    picker.addEventListener('input', () => { control.value = picker.value.toUpperCase(); });
    control.addEventListener('input', () => {
      if (/^#[0-9a-f]{6}$/i.test(control.value.trim())) picker.value = control.value.trim().toLowerCase();
    });
    extra = picker;
  } else {
    control = h('input', { ...common, type: spec.type || 'text', autocomplete: spec.autocomplete || 'off' });
  }
  const hintText = spec.kind === 'color' ? t('form.color.hint') : spec.hint ? t(spec.hint) : null;
  const wrap = h('div', { class: ['field', spec.wide && 'field-wide'], 'data-field': spec.name },
    h('label', { for: id, class: 'label' }, label,
      spec.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : h('span', { class: 'opt' }, ` (${t('common.optional')})`)),
    extra ? h('div', { class: 'color-row' }, extra, control) : control,
    hintText && h('p', { id: hintId, class: 'hint' }, hintText),
    h('p', { id: errId, class: 'field-error', testid: `error-${spec.name}`, hidden: true }));
  return { spec, wrap, control };
}

function payloadOf(fields) {
  const value = (name) => fields[name].control.value.trim();
  const body = { business_name: value('business_name'), segment: value('segment'), locale: value('locale') };
  if (value('description')) body.description = value('description');
  const services = fields.services.control.value.split('\n').map((s) => s.trim()).filter(Boolean);
  if (services.length) body.services = services;
  const contact = {};
  for (const key of ['email', 'phone', 'whatsapp', 'address', 'city']) if (value(`contact.${key}`)) contact[key] = value(`contact.${key}`);
  if (Object.keys(contact).length) body.contact = contact;
  const brand = {};
  for (const key of ['primary_color', 'secondary_color']) if (value(`brand.${key}`)) brand[key] = value(`brand.${key}`);
  if (Object.keys(brand).length) body.brand = brand;
  if (value('external_ref')) body.external_ref = value('external_ref');
  return body;
}

// The form field an API error detail belongs to: "contact.email" exactly, "services.3" -> "services".
function fieldFor(path, fields) {
  if (!path) return null;
  const parts = String(path).split('.');
  for (let n = parts.length; n > 0; n -= 1) {
    const candidate = parts.slice(0, n).join('.');
    if (fields[candidate]) return candidate;
  }
  return null;
}

// A plain-language version of the API's message for the usual cases; the API's own text is shown too.
function friendly(name, detail) {
  const msg = String(detail.message || '');
  if (detail.conflict) return t('invalid.taken');
  if (/at least 1 (character|item)|field required|missing/i.test(msg)) return t('invalid.required');
  const long = msg.match(/at most (\d+) character/i);
  if (long) return t('invalid.tooLong', { n: long[1] });
  if (name === 'contact.email' && /pattern|email/i.test(msg)) return t('invalid.email');
  if (name.startsWith('brand.') && /pattern|colou?r/i.test(msg)) return t('invalid.color');
  return null;
}

export function mountNew(root, ctx) {
  document.title = `${t('form.title')} · sitegen`;
  let alive = true;
  const fields = {};
  FIELDS.forEach((spec) => { fields[spec.name] = buildField(spec); });
  const section = (key) => h('fieldset', { class: 'form-section' },
    h('legend', null, t(`form.section.${key}`)),
    h('div', { class: 'form-grid' }, FIELDS.filter((f) => f.section === key).map((f) => fields[f.name].wrap)));

  const summary = h('div', { class: 'form-summary', testid: 'form-errors', tabindex: '-1', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'order-submit' }, t('form.submit'));
  const form = h('form', { class: 'card form', novalidate: true, testid: 'order-form', 'aria-labelledby': 'form-title' },
    summary,
    section('business'), section('contact'), section('brand'),
    h('div', { class: 'form-actions' },
      h('a', { href: '#/orders', class: 'btn btn-ghost' }, t('form.cancel')),
      submit));

  function clearErrors() {
    summary.hidden = true;
    replace(summary);
    Object.values(fields).forEach(({ wrap, control }) => {
      wrap.classList.remove('has-error');
      control.removeAttribute('aria-invalid');
      const err = wrap.querySelector('.field-error');
      err.hidden = true;
      err.textContent = '';
    });
  }

  function showErrors(details, general) {
    const items = [];
    let firstControl = null;
    const perField = {};
    for (const d of details) {
      const name = fieldFor(d.field, fields);
      if (name) (perField[name] = perField[name] || []).push(d);
      else items.push(h('li', null, d.field ? `${d.field}: ${d.message}` : d.message));
    }
    for (const spec of FIELDS) {
      const messages = perField[spec.name];
      if (!messages) continue;
      const { wrap, control } = fields[spec.name];
      wrap.classList.add('has-error');
      control.setAttribute('aria-invalid', 'true');
      const err = wrap.querySelector('.field-error');
      const lines = messages.map((d) => {
        const plain = friendly(spec.name, d);
        return plain ? [plain, ' ', h('span', { class: 'api-msg' }, t('form.apiSays', { message: d.message }))] : d.message;
      });
      replace(err, lines.map((l, i) => h('span', { class: 'err-line', 'data-api-message': messages[i].message }, l)));
      err.hidden = false;
      if (!firstControl) firstControl = control;
      const label = t(`form.${spec.name}`);
      items.push(h('li', null, h('a', {
        href: `#${fieldId(spec.name)}`,
        onclick: (e) => { e.preventDefault(); control.focus(); },
      }, label), `: ${messages.map((d) => friendly(spec.name, d) || d.message).join(' ')}`));
    }
    replace(summary,
      h('p', { class: 'form-summary-title' }, general || t('form.errors')),
      items.length ? h('ul', null, items) : null);
    summary.hidden = false;
    summary.setAttribute('role', 'alert');
    (firstControl || summary).focus();
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors();
    submit.disabled = true;
    submit.textContent = t('form.submitting');
    try {
      const created = await api('/orders', { method: 'POST', body: payloadOf(fields) });
      if (!alive) return;
      ctx.announce(t('form.created'));
      ctx.navigate(`/orders/${encodeURIComponent(created.id)}`);
    } catch (err) {
      if (!alive || err.status === 401) return;
      submit.disabled = false;
      submit.textContent = t('form.submit');
      if (err.code === 'conflict' && !err.details.length) {
        showErrors([{ field: 'external_ref', message: err.message, conflict: true }], err.message);
      } else if (err.details.length) {
        showErrors(err.details, err.code === 'validation_error' ? null : err.message);
      } else if (err.offline) {
        showErrors([], t('common.unreachable', { url: '' }).replace(' ()', ''));
      } else {
        showErrors([], t('common.error', { message: err.message }));
      }
    }
  });

  replace(root, h('div', { class: 'container container-narrow' },
    h('nav', { class: 'crumbs', 'aria-label': 'breadcrumb' }, h('a', { href: '#/orders' }, `← ${t('form.back')}`)),
    h('div', { class: 'page-head' },
      h('div', null, h('h1', { id: 'form-title' }, t('form.title')), h('p', { class: 'lead' }, t('form.lead')))),
    form));
  window.setTimeout(() => { if (alive && !document.activeElement?.closest('form')) fields.business_name.control.focus(); }, 0);
  return () => { alive = false; };
}
