"""Copy for each kind of page (home, services, about, contact, or a custom page from the sitemap)."""

from __future__ import annotations

from chalicelib.phases.outputs import Brief, PageContent, PagePlan, Section
from chalicelib.website.copy import page_kind
from chalicelib.website.facts import Facts
from chalicelib.website.text import clip, first_sentence, inline

META_LIMIT = 155  # search engines cut descriptions at ~160 characters
MAX_SERVICE_SECTIONS = 10


def section(heading: str, body: str, items: list[str] | None = None) -> Section:
    return Section(
        heading=clip(heading, 160), body=clip(body, 4000), items=[clip(i, 200) for i in (items or [])][:20]
    )


def intro(f: Facts) -> str:
    return f.description or f.sentence("intro")


def home(f: Facts, brief: Brief) -> tuple[str, str, str, list[Section]]:
    meta = f"{brief.tagline}. {first_sentence(intro(f))}"
    sections = [
        section(f.fmt("home_services_h"), f.fmt("home_services_b"), f.offer),
        section(f.fmt("home_why_h"), f.fmt("home_why_b"), f.copy["home_why_items"]),
    ]
    return f.name, intro(f), meta, sections


def services(f: Facts, brief: Brief) -> tuple[str, str, str, list[Section]]:
    hero_text = f.sentence("services_hero_t")
    bodies = f.copy["service_b"]
    sections = [
        section(s, bodies[n % len(bodies)].format(name=f.name, service=inline(s)))
        for n, s in enumerate(f.offer[:MAX_SERVICE_SECTIONS])
    ]
    if len(f.offer) > MAX_SERVICE_SECTIONS:
        sections.append(
            section(f.fmt("services_more_h"), f.fmt("services_more_b"), f.offer[MAX_SERVICE_SECTIONS:])
        )
    sections.append(section(f.fmt("how_h"), f.fmt("how_b"), f.copy["how_items"]))
    meta = f"{hero_text} {f.fmt('msg_services', services=', '.join(f.offer))}"
    return f.fmt("services_hero"), hero_text, meta, sections


def about(f: Facts, brief: Brief) -> tuple[str, str, str, list[Section]]:
    area = f.fmt("about_area_b") if f.city else f.fmt("about_area_b_nocity")
    sections = [
        section(f.fmt("about_story_h"), intro(f)),
        section(f.fmt("about_values_h"), f.fmt("about_values_b"), f.copy["about_values_items"]),
        section(f.fmt("about_area_h"), area),
    ]
    return f.fmt("about_hero"), brief.tagline, f"{f.fmt('about_hero')}. {first_sentence(intro(f))}", sections


def contact(f: Facts, brief: Brief) -> tuple[str, str, str, list[Section]]:
    hero_text = f.fmt("contact_hero_t")
    sections = [section(f.fmt("contact_channels_h"), f.fmt("contact_channels_b"))]
    return f.fmt("contact_hero"), hero_text, f"{f.fmt('contact_hero')}. {hero_text}", sections


BUILDERS = {"home": home, "services": services, "about": about, "contact": contact}


def page_content(f: Facts, brief: Brief, plan: PagePlan) -> PageContent:
    kind = "home" if plan.slug == "index" else page_kind(plan.slug)
    builder = BUILDERS.get(kind or "")
    if builder is None:  # a custom page planned by someone else: build it from the plan itself
        hero, hero_text, meta = plan.title, plan.purpose, f"{plan.title}. {plan.purpose}"
        sections = [section(plan.nav_label, f"{plan.purpose} {intro(f)}")]
    else:
        hero, hero_text, meta, sections = builder(f, brief)
    return PageContent(
        slug=plan.slug,
        title=plan.title,
        meta_description=clip(meta, META_LIMIT),
        hero_heading=clip(hero, 160),
        hero_text=clip(hero_text, 600),
        sections=sections[:12],
    )
