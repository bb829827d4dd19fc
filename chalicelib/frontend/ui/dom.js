// Tiny DOM helpers. Text always goes in as text (never innerHTML), so API data cannot inject markup.

const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'htmlFor', 'tabIndex']);

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
      else if (key === 'text') el.textContent = String(value);
      else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
      else if (key === 'testid') el.setAttribute('data-testid', value);
      else if (PROPS.has(key)) el[key] = value;
      else el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// A coloured square for a "#RRGGBB" value. CSSOM (not a style attribute), so the CSP allows it.
export function swatch(color, label) {
  const el = h('span', { class: 'swatch', role: 'img', 'aria-label': label || color });
  if (/^#[0-9a-f]{6}$/i.test(color || '')) el.style.backgroundColor = color;
  else el.classList.add('swatch-empty');
  return el;
}

export function spinner() {
  return h('span', { class: 'spinner', 'aria-hidden': 'true' });
}

let idCounter = 0;
export function uid(prefix = 'id') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}
