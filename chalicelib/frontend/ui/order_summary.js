// The order page's heading (business name, segment and city) and the order's summary card.

import { h, replace, swatch } from './dom.js';
import { t, fmtDateTime } from './i18n.js';

export function createSummary() {
  const title = h('h1', { testid: 'order-title', class: 'order-title' }, t('common.loading'));
  const subtitle = h('p', { class: 'lead' });
  const body = h('div', { testid: 'order-summary' });
  const element = h('section', { class: 'card', 'aria-labelledby': 'summary-title' },
    h('h2', { id: 'summary-title', class: 'card-title' }, t('order.summary')), body);

  function render(o) {
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
    replace(body, h('dl', { class: 'dl' }, rows));
  }

  return { title, subtitle, element, render };
}
