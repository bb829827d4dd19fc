"""Render the planned and written pages into static files (HTML, CSS, sitemap, robots, favicon)."""

from __future__ import annotations

from urllib.parse import quote

from chalicelib.domain.order import OrderData
from chalicelib.phases.outputs import Brief, Content, PageContent, Section, SiteFile, SiteFiles, Sitemap
from chalicelib.website.colors import on_color
from chalicelib.website.copy import page_kind, strings
from chalicelib.website.layout import Site, channel_html, channels, document, e, whatsapp_href
from chalicelib.website.seo import favicon_svg, json_ld_script, local_business, robots_txt, sitemap_xml
from chalicelib.website.styles import stylesheet
from chalicelib.website.text import clip, initials

HTML = "text/html; charset=utf-8"


def paragraphs(body: str) -> str:
    parts = [" ".join(part.split()) for part in body.split("\n\n")]
    return "\n".join(f"<p>{e(part)}</p>" for part in parts if part)


def section_html(section: Section) -> str:
    items = ""
    if section.items:
        items = (
            '\n<ul class="items">\n' + "\n".join(f"<li>{e(item)}</li>" for item in section.items) + "\n</ul>"
        )
    return (
        f'<section class="section">\n<div class="container">\n<h2>{e(section.heading)}</h2>\n'
        f"{paragraphs(section.body)}{items}\n</div>\n</section>"
    )


def actions(site: Site, primary_href: str | None) -> str:
    buttons = []
    if primary_href:
        buttons.append(f'<a class="button" href="{e(primary_href)}">{e(site.cta)}</a>')
    whatsapp = whatsapp_href(site)
    if whatsapp:
        buttons.append(
            f'<a class="button button-ghost" href="{e(whatsapp)}">{e(site.text("whatsapp_cta"))}</a>'
        )
    return '<div class="actions">\n' + "\n".join(buttons) + "\n</div>" if buttons else ""


def hero_art(site: Site) -> str:
    brand = site.order.brand
    primary, secondary = brand.primary_color.lower(), brand.secondary_color.lower()
    return (
        f'<svg class="hero-art" viewBox="0 0 320 260" role="img" aria-label="{e(site.text("hero_art"))}" '
        'xmlns="http://www.w3.org/2000/svg">\n'
        f'<circle cx="258" cy="58" r="46" fill="{secondary}"/>\n'
        f'<rect x="28" y="44" width="224" height="172" rx="22" fill="{on_color(primary)}" opacity="0.14"/>\n'
        '<rect x="56" y="78" width="228" height="156" rx="22" fill="#ffffff"/>\n'
        f'<rect x="80" y="106" width="66" height="66" rx="16" fill="{secondary}"/>\n'
        f'<text x="113" y="149" text-anchor="middle" font-family="system-ui, Arial, sans-serif" font-size="26" '
        f'font-weight="700" fill="{on_color(secondary)}">{e(initials(site.name))}</text>\n'
        f'<rect x="162" y="110" width="96" height="12" rx="6" fill="{primary}"/>\n'
        '<rect x="162" y="134" width="74" height="10" rx="5" fill="#cbd5e1"/>\n'
        '<rect x="162" y="154" width="86" height="10" rx="5" fill="#cbd5e1"/>\n'
        f'<rect x="80" y="192" width="180" height="14" rx="7" fill="{primary}" opacity="0.3"/>\n'
        "</svg>"
    )


def hero(site: Site, page: PageContent, path: str) -> str:
    cta = actions(site, None if path == site.contact_path else site.contact_path)
    return (
        '<section class="hero">\n<div class="container hero-inner">\n<div>\n'
        f"<h1>{e(page.hero_heading)}</h1>\n{paragraphs(page.hero_text)}\n{cta}\n</div>\n"
        f"{hero_art(site)}\n</div>\n</section>"
    )


def band(site: Site) -> str:
    return (
        '<section class="cta-band">\n<div class="container">\n'
        f"<h2>{e(site.text('band_h'))}</h2>\n<p>{e(site.text('band_b'))}</p>\n"
        f"{actions(site, site.contact_path)}\n</div>\n</section>"
    )


FORM_FIELDS = (  # (id, label key, control)
    (
        "contact-name",
        "form_name",
        '<input id="contact-name" name="name" type="text" autocomplete="name" required>',
    ),
    (
        "contact-email",
        "form_email",
        '<input id="contact-email" name="email" type="email" autocomplete="email" required>',
    ),
    ("contact-phone", "form_phone", '<input id="contact-phone" name="phone" type="tel" autocomplete="tel">'),
    (
        "contact-message",
        "form_message",
        '<textarea id="contact-message" name="message" rows="5" required></textarea>',
    ),
)


def contact_form(site: Site) -> str:
    """A mailto: form when there is an email (opens the visitor's mail app), otherwise a no-op "#" form."""
    email = site.order.contact.email
    action = e("mailto:" + quote(email, safe="@.+-_")) if email else "#"
    fields = [
        f'<div class="field">\n<label for="{ident}">{e(site.text(label))}</label>\n{control}\n</div>'
        for ident, label, control in FORM_FIELDS
    ]
    return "\n".join(
        [
            f'<form class="form" action="{action}" method="post" enctype="text/plain">',
            *fields,
            f'<button class="button" type="submit">{e(site.text("form_submit"))}</button>',
            f'<p class="note">{e(site.text("form_note" if email else "form_note_noemail"))}</p>',
            "</form>",
        ]
    )


def card(heading: str, inner: str) -> str:
    return f'<div class="card">\n<h2>{e(heading)}</h2>\n{inner}\n</div>'


def contact_block(site: Site) -> str:
    cards = []
    found = channels(site)
    if found:
        items = "\n".join(channel_html(channel) for channel in found)
        cards.append(card(site.text("direct_h"), f'<ul class="contact-list">\n{items}\n</ul>'))
    cards.append(card(site.text("form_h"), contact_form(site)))
    return (
        '<section class="section">\n<div class="container contact-grid">\n'
        + "\n".join(cards)
        + "\n</div>\n</section>"
    )


def page_main(site: Site, page: PageContent, path: str) -> str:
    """What goes inside the page's <main>: the part of a page a model writes (the code phase's part)."""
    parts = [hero(site, page, path)] + [section_html(section) for section in page.sections]
    parts.append(contact_block(site) if path == site.contact_path else band(site))
    return "\n".join(parts)


def page_html(site: Site, page: PageContent, path: str, main: str | None = None) -> str:
    """The whole HTML file: the shared shell (head, header and nav, footer) around the page's main."""
    return document(
        site, path, page.title, page.meta_description, page_main(site, page, path) if main is None else main
    )


def page_paths(pages: list[PageContent]) -> list[tuple[PageContent, str]]:
    """Unique slugs; "index" is index.html (or the first page, when no page is called "index")."""
    unique: list[PageContent] = []
    for page in pages:
        if all(page.slug != seen.slug for seen in unique):
            unique.append(page)
    has_index = any(page.slug == "index" for page in unique)
    return [
        (page, "index.html" if page.slug == "index" or (not has_index and n == 0) else f"{page.slug}.html")
        for n, page in enumerate(unique)
    ]


def site_of(
    order: OrderData,
    brief: Brief,
    sitemap: Sitemap,
    content: Content,
    base_url: str | None = None,
    asset_version: str | None = None,
) -> Site:
    """What every page shares: names, nav (sitemap order), contact page, JSON-LD."""
    pages = page_paths(content.pages)
    labels = {plan.slug: plan.nav_label for plan in sitemap.pages}
    nav = [(path, labels.get(page.slug) or clip(page.title, 40)) for page, path in pages]
    contact_path = next((path for page, path in pages if page_kind(page.slug) == "contact"), "index.html")
    name = brief.business_name
    home = next(page for page, path in pages if path == "index.html")
    description = order.description or home.meta_description
    return Site(
        order=order,
        copy=strings(order.locale),
        name=name,
        tagline=brief.tagline,
        cta=content.call_to_action,
        nav=nav,
        contact_path=contact_path,
        json_ld=json_ld_script(local_business(order, name, " ".join(description.split()), base_url)),
        base_url=base_url,
        asset_version=asset_version,
    )


def path_of(content: Content, slug: str) -> str:
    """The file a page's slug becomes ("index" is index.html)."""
    return next(path for page, path in page_paths(content.pages) if page.slug == slug)


def main_of(order: OrderData, brief: Brief, sitemap: Sitemap, content: Content, slug: str) -> str:
    """The template's <main> for one page (what the offline provider answers for that page's code part)."""
    site = site_of(order, brief, sitemap, content)
    page, path = next((page, path) for page, path in page_paths(content.pages) if page.slug == slug)
    return page_main(site, page, path)


def assemble_site(
    order: OrderData,
    brief: Brief,
    sitemap: Sitemap,
    content: Content,
    mains: dict[str, str],
    css: str,
    *,
    base_url: str | None = None,
    asset_version: str | None = None,
) -> SiteFiles:
    """The code phase's fan-in: each page's main (by slug) in the shared shell, the stylesheet, and the
    files sitegen writes itself (favicon, sitemap.xml, robots.txt). The pipeline passes the order's live
    address as ``base_url`` (absolute sitemap, robots.txt, og:url) and the generation's id as
    ``asset_version`` (see Site.asset_version)."""
    site = site_of(order, brief, sitemap, content, base_url, asset_version)
    pages = page_paths(content.pages)
    files = [
        SiteFile(path=path, content_type=HTML, body=page_html(site, page, path, mains[page.slug]))
        for page, path in pages
    ]
    files += [
        SiteFile(path="styles.css", content_type="text/css; charset=utf-8", body=css),
        SiteFile(
            path="favicon.svg",
            content_type="image/svg+xml",
            body=favicon_svg(order.brand.primary_color, brief.business_name),
        ),
        SiteFile(
            path="sitemap.xml",
            content_type="application/xml",
            body=sitemap_xml([p for _, p in pages], base_url),
        ),
        SiteFile(path="robots.txt", content_type="text/plain; charset=utf-8", body=robots_txt(base_url)),
    ]
    return SiteFiles(files=files)


def render_site(
    order: OrderData, brief: Brief, sitemap: Sitemap, content: Content, *, base_url: str | None = None
) -> SiteFiles:
    """All the files of the static site, as the offline template writes them.

    ``base_url`` (e.g. "https://www.example.com/") makes sitemap.xml, robots.txt, og:url and the JSON-LD
    url absolute. When it is None every reference stays relative: sitemap.xml lists relative paths and
    robots.txt points to "sitemap.xml" -- fine for previews, but pass the public URL when publishing.
    """
    site = site_of(order, brief, sitemap, content, base_url)
    mains = {page.slug: page_main(site, page, path) for page, path in page_paths(content.pages)}
    return assemble_site(order, brief, sitemap, content, mains, stylesheet(order.brand), base_url=base_url)
