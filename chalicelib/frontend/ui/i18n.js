// Labels in pt-BR and en. The language follows navigator.language until the user picks one
// with the toggle; the pick is kept in sessionStorage. Each language's labels are in its own file.

import pt from './i18n_pt-BR.js';
import en from './i18n_en.js';

const KEY = 'sitegen.lang';
export const LANGS = ['pt-BR', 'en'];

const DICTS = { 'pt-BR': pt, en };
const listeners = new Set();

function detect() {
  const stored = sessionStorage.getItem(KEY);
  if (LANGS.includes(stored)) return stored;
  const nav = (navigator.languages && navigator.languages[0]) || navigator.language || 'pt-BR';
  return nav.toLowerCase().startsWith('pt') ? 'pt-BR' : 'en';
}

let current = detect();

export function lang() {
  return current;
}

export function setLang(value) {
  if (!LANGS.includes(value) || value === current) return;
  current = value;
  sessionStorage.setItem(KEY, value);
  document.documentElement.lang = value;
  listeners.forEach((fn) => fn(value));
}

export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function tn(key, n, vars) {
  const form = new Intl.PluralRules(current).select(n) === 'one' ? 'one' : 'other';
  return t(`${key}.${form}`, { n: fmtNumber(n), ...vars });
}

export function t(key, vars) {
  let text = DICTS[current][key] ?? DICTS.en[key] ?? key;
  if (vars) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
  return text;
}

// ---- formatting ----

export function fmtDateTime(iso, short = false) {
  if (!iso) return t('common.none');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(current, { dateStyle: short ? 'short' : 'medium', timeStyle: short ? 'medium' : 'short' }).format(d);
}

export function fmtTime(iso, withMs = false) {
  const d = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const base = new Intl.DateTimeFormat(current, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(d);
  return withMs ? `${base}.${String(d.getMilliseconds()).padStart(3, '0')}` : base;
}

export function fmtDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return t('common.none');
  const num = (n, digits) => new Intl.NumberFormat(current, { maximumFractionDigits: digits }).format(n);
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${num(ms / 1000, 1)} s`;
  const totalS = Math.round(ms / 1000);
  if (totalS < 3600) return `${Math.floor(totalS / 60)} min ${totalS % 60} s`;
  return `${Math.floor(totalS / 3600)} h ${Math.floor((totalS % 3600) / 60)} min`;
}

export function fmtNumber(n) {
  return new Intl.NumberFormat(current).format(n);
}

document.documentElement.lang = current;
