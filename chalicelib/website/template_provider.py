"""The deterministic, offline "template" AI provider.

Pure functions from the order (and earlier phase outputs) to each phase's validated output:
no network, no clock, no randomness -- the same input always gives byte-identical output.
"""

from __future__ import annotations

import html

from chalicelib.domain.order import OrderData
from chalicelib.phases.outputs import (
    Brief,
    Content,
    PageCopy,
    PageMarkup,
    PagePlan,
    Review,
    ReviewFinding,
    SiteFiles,
    Sitemap,
    Stylesheet,
)
from chalicelib.website.checks import check_site
from chalicelib.website.content_pages import page_content
from chalicelib.website.copy import PAGE_KINDS
from chalicelib.website.facts import facts_of
from chalicelib.website.render import main_of, render_site
from chalicelib.website.styles import stylesheet
from chalicelib.website.text import clip, first_sentence, squash

__all__ = [
    "make_brief",
    "make_sitemap",
    "make_content",
    "make_site",
    "make_review_notes",
    "make_page_copy",
    "make_page_markup",
    "make_stylesheet",
]


def make_brief(order: OrderData) -> Brief:
    f = facts_of(order)
    tagline = clip(f.sentence("tagline"), 200)
    messages = [tagline]
    if f.description:
        messages.append(clip(first_sentence(f.description), 300))
    if f.services:
        messages.append(clip(f.fmt("msg_services", services=", ".join(f.services)), 300))
    if f.city:
        messages.append(f.fmt("msg_local"))
    messages.append(f.fmt("msg_contact"))
    return Brief(
        business_name=f.name,
        tagline=tagline,
        audience=clip(f.fmt("audience"), 500),
        tone=str(f.copy["tone"]),
        key_messages=messages[:8],
        locale=order.locale,
    )


def make_sitemap(order: OrderData, brief: Brief) -> Sitemap:
    """Home ("index") first, then services, about and contact, with slugs in the order's locale."""
    f = facts_of(order, name=brief.business_name)
    pages = []
    for kind in PAGE_KINDS:
        label = str(f.copy["nav"][kind])
        title = f.fmt("title_home", segment=f.segment) if kind == "home" else f.fmt("title_page", label=label)
        pages.append(
            PagePlan(
                slug=f.copy["slugs"][kind],
                title=clip(title, 120),
                nav_label=clip(label, 40),
                purpose=clip(str(f.copy["purpose"][kind]).format(name=f.name), 300),
            )
        )
    return Sitemap(pages=pages)


def make_content(order: OrderData, brief: Brief, sitemap: Sitemap) -> Content:
    """One PageContent per sitemap page, in the order's locale (English text for unknown locales)."""
    f = facts_of(order, name=brief.business_name)
    pages = [page_content(f, brief, plan) for plan in sitemap.pages]
    return Content(pages=pages, call_to_action=clip(str(f.copy["cta"]), 120))


def make_page_copy(order: OrderData, brief: Brief, sitemap: Sitemap, slug: str) -> PageCopy:
    """One content part: the copy of the sitemap's page `slug`."""
    f = facts_of(order, name=brief.business_name)
    plan = next((p for p in sitemap.pages if p.slug == slug), None)
    if plan is None:
        raise ValueError(f"the sitemap has no page {slug!r}")
    return PageCopy(page=page_content(f, brief, plan), call_to_action=clip(str(f.copy["cta"]), 120))


def make_page_markup(
    order: OrderData, brief: Brief, sitemap: Sitemap, content: Content, slug: str
) -> PageMarkup:
    """One code part: what goes inside the page's <main>."""
    if all(p.slug != slug for p in content.pages):
        raise ValueError(f"the content has no page {slug!r}")
    return PageMarkup(slug=slug, main_html=main_of(order, brief, sitemap, content, slug))


def make_stylesheet(order: OrderData) -> Stylesheet:
    """The code phase's styles part."""
    return Stylesheet(css=stylesheet(order.brand))


def make_site(
    order: OrderData, brief: Brief, sitemap: Sitemap, content: Content, *, base_url: str | None = None
) -> SiteFiles:
    """Render the static site. See ``render.render_site`` for what ``base_url`` changes."""
    return render_site(order, brief, sitemap, content, base_url=base_url)


def make_review_notes(order: OrderData, files: SiteFiles) -> Review:
    """Run the real checks; passed means no error-level finding."""
    findings = check_site(files)
    index = next((file for file in files.files if file.path == "index.html"), None)
    if index is not None and html.escape(squash(order.business_name)[:60]) not in index.body:
        findings.append(
            ReviewFinding(
                severity="warning", file="index.html", message="the business name does not appear on the page"
            )
        )
    return Review(
        passed=not any(finding.severity == "error" for finding in findings),
        checked_files=len(files.files),
        findings=findings,
    )
