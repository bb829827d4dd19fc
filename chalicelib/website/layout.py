"""The page shell shared by every HTML file: head, header with nav, footer."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from chalicelib.domain.order import OrderData
from chalicelib.website.copy import Copy, og_locale
from chalicelib.website.seo import page_url
from chalicelib.website.text import digits, initials, squash, tel_href


def e(text: str) -> str:
    """HTML-escape text for element content and (double-quoted) attribute values."""
    return escape(text, quote=True)


@dataclass(frozen=True)
class Site:
    order: OrderData
    copy: Copy
    name: str
    tagline: str
    cta: str
    nav: list[tuple[str, str]]  # (path, label), in sitemap order
    contact_path: str
    json_ld: str
    base_url: str | None
    # a published version's id: its pages ask for styles.css?v=<id>, which the live address serves from
    # that version whatever is live by then, so a page never gets another version's stylesheet
    asset_version: str | None = None

    def asset(self, path: str) -> str:
        return f"{path}?v={self.asset_version}" if self.asset_version else path

    def text(self, key: str) -> str:
        return str(self.copy[key]).format(name=self.name)


@dataclass(frozen=True)
class Channel:
    label: str
    text: str
    href: str | None  # None: plain text (the address)


def whatsapp_href(site: Site) -> str | None:
    number = digits(site.order.contact.whatsapp)
    if not number:
        return None
    return f"https://wa.me/{number}?text={quote(site.text('whatsapp_text'), safe='')}"


def channels(site: Site) -> list[Channel]:
    contact, copy = site.order.contact, site.copy
    found: list[Channel] = []
    if contact.phone and squash(contact.phone):
        found.append(Channel(copy["phone"], squash(contact.phone), tel_href(contact.phone)))
    if contact.email:
        found.append(Channel(copy["email"], contact.email, "mailto:" + quote(contact.email, safe="@.+-_")))
    whatsapp = whatsapp_href(site)
    if whatsapp and contact.whatsapp:
        found.append(Channel(copy["whatsapp"], squash(contact.whatsapp), whatsapp))
    place = ", ".join(part for part in (squash(contact.address), squash(contact.city)) if part)
    if place:
        found.append(Channel(copy["address"], place, None))
    return found


def channel_html(channel: Channel) -> str:
    value = e(channel.text) if channel.href is None else f'<a href="{e(channel.href)}">{e(channel.text)}</a>'
    return f"<li><strong>{e(channel.label)}</strong> {value}</li>"


def head(site: Site, path: str, title: str, description: str) -> str:
    lines = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        f'<meta name="description" content="{e(description)}">',
        f'<meta name="theme-color" content="{e(site.order.brand.primary_color.lower())}">',
        '<meta property="og:type" content="website">',
        f'<meta property="og:title" content="{e(title)}">',
        f'<meta property="og:description" content="{e(description)}">',
        f'<meta property="og:locale" content="{e(og_locale(site.order.locale))}">',
        f'<meta property="og:site_name" content="{e(site.name)}">',
    ]
    if site.base_url is not None:
        lines.append(f'<meta property="og:url" content="{e(page_url(path, site.base_url))}">')
    lines += [
        f'<link rel="icon" href="{e(site.asset("favicon.svg"))}" type="image/svg+xml">',
        f'<link rel="stylesheet" href="{e(site.asset("styles.css"))}">',
        site.json_ld,
    ]
    return "<head>\n" + "\n".join(lines) + "\n</head>"


def header(site: Site, path: str) -> str:
    links = []
    for target, label in site.nav:
        current = ' aria-current="page"' if target == path else ""
        links.append(f'<li><a href="{e(target)}"{current}>{e(label)}</a></li>')
    return (
        '<header class="site-header">\n<div class="container header-inner">\n'
        f'<a class="brand" href="index.html"><span class="brand-mark" aria-hidden="true">{e(initials(site.name))}</span>'
        f"<span>{e(site.name)}</span></a>\n"
        f'<nav class="site-nav" aria-label="{e(site.text("nav_aria"))}">\n<ul class="nav-list">\n'
        + "\n".join(links)
        + "\n</ul>\n</nav>\n</div>\n</header>"
    )


def footer(site: Site) -> str:
    nav = "\n".join(f'<li><a href="{e(target)}">{e(label)}</a></li>' for target, label in site.nav)
    contact = "\n".join(channel_html(channel) for channel in channels(site))
    contact_list = f'<ul class="footer-list">\n{contact}\n</ul>\n' if contact else "<div></div>\n"
    return (
        '<footer class="site-footer">\n<div class="container">\n<div class="footer-grid">\n'
        f'<div>\n<p class="footer-name">{e(site.name)}</p>\n<p>{e(site.tagline)}</p>\n</div>\n'
        f'<ul class="footer-list">\n{nav}\n</ul>\n'
        f"{contact_list}"
        f'</div>\n<p class="footer-bottom">© {e(site.name)}. {e(site.text("rights"))}</p>\n</div>\n</footer>'
    )


def document(site: Site, path: str, title: str, description: str, main: str) -> str:
    return (
        "<!doctype html>\n"
        f'<html lang="{e(site.order.locale)}">\n'
        f"{head(site, path, title, description)}\n"
        "<body>\n"
        f'<a class="skip-link" href="#main">{e(site.text("skip"))}</a>\n'
        f"{header(site, path)}\n"
        f'<main id="main">\n{main}\n</main>\n'
        f"{footer(site)}\n"
        "</body>\n</html>\n"
    )
