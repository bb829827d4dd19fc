"""The shared stylesheet: brand colours as CSS custom properties, mobile-first layout."""

from __future__ import annotations

from chalicelib.domain.order import Brand
from chalicelib.website.colors import WHITE, ink, mix, on_color


def brand_variables(brand: Brand) -> dict[str, str]:
    primary = brand.primary_color.lower()
    secondary = brand.secondary_color.lower()
    tint = mix(primary, WHITE, 0.92)
    return {
        "--primary": primary,
        "--on-primary": on_color(primary),
        "--secondary": secondary,
        "--on-secondary": on_color(secondary),
        "--tint": tint,
        "--link": ink(primary, tint),  # brand hue, darkened until it reads on white and on the tint
    }


BASE_VARIABLES = {
    "--text": "#1f2937",
    "--muted": "#4b5563",
    "--line": "#e5e7eb",
    "--bg": "#ffffff",
    "--radius": "14px",
    "--max": "72rem",
    "--font": 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
}

RULES = """
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
@media (prefers-reduced-motion: no-preference) { html { scroll-behavior: smooth; } }
body { margin: 0; font-family: var(--font); font-size: 1.0625rem; line-height: 1.6; color: var(--text); background: var(--bg); }
img, svg { display: block; max-width: 100%; height: auto; }
a { color: var(--link); text-underline-offset: 0.15em; }
a:hover { text-decoration-thickness: 2px; }
:focus-visible { outline: 3px solid var(--link); outline-offset: 3px; }
.container { width: min(100% - 2rem, var(--max)); margin-inline: auto; }

.skip-link { position: absolute; left: 1rem; top: -5rem; z-index: 10; padding: 0.75rem 1rem; background: var(--primary); color: var(--on-primary); border-radius: 0 0 10px 10px; font-weight: 700; }
.skip-link:focus { top: 0; }

.site-header { background: var(--bg); border-bottom: 1px solid var(--line); }
.header-inner { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 0.5rem 1.5rem; padding-block: 0.75rem; }
.brand { display: inline-flex; align-items: center; gap: 0.6rem; font-weight: 800; font-size: 1.15rem; color: var(--text); text-decoration: none; }
.brand-mark { display: inline-grid; place-items: center; width: 2.5rem; height: 2.5rem; border-radius: 10px; background: var(--primary); color: var(--on-primary); font-size: 0.95rem; }
.site-nav { width: 100%; }
.nav-list { display: flex; flex-wrap: wrap; gap: 0.25rem; margin: 0; padding: 0; list-style: none; }
.nav-list a { display: flex; align-items: center; min-height: 44px; padding: 0.5rem 0.9rem; border-radius: 999px; color: var(--text); font-weight: 600; text-decoration: none; }
.nav-list a:hover { background: var(--tint); }
.nav-list a[aria-current="page"] { background: var(--primary); color: var(--on-primary); }

.hero { background: var(--primary); color: var(--on-primary); padding-block: 3rem; }
.hero :focus-visible { outline-color: var(--on-primary); }
.hero-inner { display: grid; gap: 2rem; align-items: center; }
.hero h1 { font-size: clamp(2rem, 7vw, 3.25rem); line-height: 1.15; margin: 0 0 1rem; overflow-wrap: anywhere; }
.hero p { font-size: 1.15rem; max-width: 40rem; margin: 0 0 1.5rem; }
.hero-art { width: 100%; max-width: 22rem; margin-inline: auto; }
.actions { display: flex; flex-wrap: wrap; gap: 0.75rem; }
.button {
  display: inline-flex; align-items: center; justify-content: center; min-height: 48px; padding: 0.75rem 1.4rem;
  border: 2px solid transparent; border-radius: 999px; background: var(--secondary); color: var(--on-secondary);
  font: inherit; font-weight: 700; text-decoration: none; cursor: pointer;
}
.button:hover { filter: brightness(1.05); }
.button-ghost { background: transparent; color: inherit; border-color: currentColor; }

.section { padding-block: 3rem; }
.section:nth-of-type(even) { background: var(--tint); }
.section h2 { color: var(--link); font-size: clamp(1.5rem, 4.5vw, 2rem); line-height: 1.25; margin: 0 0 0.75rem; }
.section p { max-width: 46rem; }
.items { display: grid; gap: 1rem; margin: 1.5rem 0 0; padding: 0; list-style: none; }
.items li { background: var(--bg); border: 1px solid var(--line); border-left: 4px solid var(--secondary); border-radius: var(--radius); padding: 1rem 1.25rem; font-weight: 600; }
.cta-band { background: var(--secondary); color: var(--on-secondary); padding-block: 3rem; text-align: center; }
.cta-band h2 { margin: 0 0 0.5rem; font-size: clamp(1.5rem, 4.5vw, 2rem); }
.cta-band p { margin: 0 auto 1.5rem; max-width: 40rem; }
.cta-band .actions { justify-content: center; }
.cta-band .button { background: var(--primary); color: var(--on-primary); }

.contact-grid { display: grid; gap: 2rem; }
.card { background: var(--bg); border: 1px solid var(--line); border-radius: var(--radius); padding: 1.5rem; box-shadow: 0 1px 3px rgb(0 0 0 / 0.06); }
.card h2 { color: var(--link); margin: 0 0 1rem; font-size: 1.4rem; }
.contact-list { display: grid; gap: 0.9rem; margin: 0; padding: 0; list-style: none; }
.contact-list strong { display: block; color: var(--muted); font-size: 0.85rem; letter-spacing: 0.04em; text-transform: uppercase; }
.form { display: grid; gap: 1rem; }
.field label { display: block; font-weight: 600; margin-bottom: 0.35rem; }
.field input, .field textarea { width: 100%; padding: 0.75rem 0.9rem; border: 1px solid #6b7280; border-radius: 10px; background: var(--bg); color: var(--text); font: inherit; }
.field textarea { min-height: 9rem; resize: vertical; }
.note { color: var(--muted); font-size: 0.9rem; margin: 0; }

.site-footer { background: #111827; color: #e5e7eb; padding-block: 2.5rem; font-size: 0.95rem; }
.site-footer a { color: #ffffff; }
.footer-grid { display: grid; gap: 1.5rem; }
.footer-name { color: #ffffff; font-size: 1.1rem; font-weight: 800; margin: 0 0 0.5rem; }
.footer-list { display: grid; gap: 0.4rem; margin: 0; padding: 0; list-style: none; }
.footer-bottom { border-top: 1px solid #374151; margin-top: 2rem; padding-top: 1rem; color: #d1d5db; }

@media (min-width: 40rem) {
  .items { grid-template-columns: repeat(2, 1fr); }
}
@media (min-width: 48rem) {
  .site-header { position: sticky; top: 0; z-index: 5; }
  .site-nav { width: auto; }
  .hero { padding-block: 5rem; }
  .hero-inner { grid-template-columns: 1.4fr 1fr; }
  .section { padding-block: 4rem; }
  .contact-grid { grid-template-columns: 1fr 1.3fr; }
  .footer-grid { grid-template-columns: 2fr 1fr 1fr; }
}
@media (min-width: 64rem) {
  .items { grid-template-columns: repeat(3, 1fr); }
}
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after { transition: none !important; animation: none !important; }
}
"""


def stylesheet(brand: Brand) -> str:
    variables = {**brand_variables(brand), **BASE_VARIABLES}
    root = "".join(f"  {name}: {value};\n" for name, value in variables.items())
    return ":root {\n" + root + "}\n" + RULES
