"""Sites built by the offline template provider, and reading and changing their files, for tests."""

from __future__ import annotations

from chalicelib.domain.order import Brand, Contact, OrderData
from chalicelib.phases.outputs import SiteFiles
from chalicelib.website import template_provider as tp
from chalicelib.website.checks import check_site

PT_ORDER = OrderData(
    id="ord-pt",
    business_name="Padaria Pão Quente",
    segment="Padaria artesanal",
    description="Pães de fermentação natural feitos todos os dias. Bolos e cafés especiais.",
    services=["Pães artesanais", "Bolos sob encomenda", "Café da manhã"],
    contact=Contact(
        email="contato@paoquente.com.br",
        phone="(19) 3333-4444",
        whatsapp="+55 19 99999-8888",
        address="Rua das Flores, 123",
        city="Campinas",
    ),
    brand=Brand(primary_color="#7A3E12", secondary_color="#F4C430"),
    locale="pt-BR",
)


# HTML that made the review gate's audit quadratic before issue 12 (`"<a" * 80000` took 13 s, `"<a " *
# 40000` over 4 minutes): each unit, repeated, within the file limit. The unit tests check the findings;
# `make bench` (bench/audit.py) times them.
HOSTILE_HTML = {"<a": 80000, "<a ": 80000, "<!--a>": 26000, "<a b='": 40000, "<a b=c": 40000, "<!--": 60000}


def build(order: OrderData, base_url: str | None = None) -> SiteFiles:
    brief = tp.make_brief(order)
    sitemap = tp.make_sitemap(order, brief)
    return tp.make_site(order, brief, sitemap, tp.make_content(order, brief, sitemap), base_url=base_url)


def body(files: SiteFiles, path: str) -> str:
    return next(file.body for file in files.files if file.path == path)


def findings(files: SiteFiles) -> list[tuple[str, str, str]]:
    return [(f.severity, f.file, f.message) for f in check_site(files)]


def mutate(files: SiteFiles, path: str, old: str, new: str) -> SiteFiles:
    """Replace the first ``old`` in one file (which must contain it)."""
    source = body(files, path)
    assert old in source, f"{old!r} not in {path}"
    changed = source.replace(old, new, 1)
    return SiteFiles(
        files=[f.model_copy(update={"body": changed}) if f.path == path else f for f in files.files]
    )
