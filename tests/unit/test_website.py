"""The offline template provider: copy, rendering and the site checks."""

from __future__ import annotations

import json
import re

import pytest

from chalicelib.domain.order import Brand, Contact, OrderData
from chalicelib.phases.outputs import Content, PagePlan, SiteFile, SiteFiles, Sitemap
from chalicelib.website import template_provider as tp
from chalicelib.website.checks import internal_target
from chalicelib.website.colors import NEAR_BLACK, WHITE, contrast, ink
from tests.support.sites import PT_ORDER, body, build, findings, mutate

EN_ORDER = OrderData(
    id="ord-en",
    business_name="Bright Plumbing",
    segment="Plumbing",
    description="Family-run plumbers fixing leaks since 1998.",
    services=["Leak repair", "Drain cleaning", "Water heaters", "Bathroom remodels"],
    contact=Contact(
        email="hello@brightplumbing.com", phone="+1 512 555 0100", whatsapp="+1 (512) 555-0199", city="Austin"
    ),
    brand=Brand(primary_color="#0B6E4F", secondary_color="#FFD166"),
    locale="en",
)
HOSTILE = OrderData(
    id="ord-x",
    business_name='<script>alert("x")</script> Tom & Jerry\'s',
    segment="Cafe <b>bold</b>",
    description="Best </script><script>alert(2)</script> coffee <!-- & more",
    services=['<img src=x onerror="alert(1)">', "Tea & cake"],
    contact=Contact(
        email="tom@example.com", phone="<b>123</b>", city="Rio </script>", address='"quoted" <addr>'
    ),
    locale="en",
)
MINIMAL = OrderData(id="ord-min", business_name="Zé", segment="Reformas")


def without(files: SiteFiles, path: str) -> SiteFiles:
    assert any(f.path == path for f in files.files)
    return SiteFiles(files=[f for f in files.files if f.path != path])


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def json_ld(page: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert match
    return json.loads(match.group(1))


@pytest.fixture(scope="module")
def site() -> SiteFiles:
    return build(PT_ORDER)


# --- the generated site ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "order", [PT_ORDER, EN_ORDER, MINIMAL, HOSTILE, PT_ORDER.model_copy(update={"locale": "fr"})]
)
def test_generated_site_has_no_findings_and_review_passes(order: OrderData) -> None:
    files = build(order)
    assert findings(files) == []
    review = tp.make_review_notes(order, files)
    assert review.passed and review.findings == [] and review.checked_files == len(files.files)


def test_output_is_deterministic() -> None:
    assert build(PT_ORDER).model_dump_json() == build(PT_ORDER).model_dump_json()
    assert tp.make_brief(EN_ORDER) == tp.make_brief(EN_ORDER)
    assert (
        build(EN_ORDER, "https://x.test/").model_dump_json()
        == build(EN_ORDER, "https://x.test/").model_dump_json()
    )


@pytest.mark.parametrize(
    ("order", "slugs"),
    [
        (PT_ORDER, ["index", "servicos", "sobre", "contato"]),
        (EN_ORDER, ["index", "services", "about", "contact"]),
        (PT_ORDER.model_copy(update={"locale": "de"}), ["index", "services", "about", "contact"]),
    ],
)
def test_sitemap_and_files(order: OrderData, slugs: list[str]) -> None:
    brief = tp.make_brief(order)
    sitemap = tp.make_sitemap(order, brief)
    assert [page.slug for page in sitemap.pages] == slugs
    content = tp.make_content(order, brief, sitemap)
    assert [page.slug for page in content.pages] == slugs
    files = tp.make_site(order, brief, sitemap, content)
    html_paths = ["index.html"] + [f"{slug}.html" for slug in slugs[1:]]
    assert [f.path for f in files.files] == html_paths + [
        "styles.css",
        "favicon.svg",
        "sitemap.xml",
        "robots.txt",
    ]
    types = {f.path: f.content_type for f in files.files}
    assert (
        types["index.html"] == "text/html; charset=utf-8" and types["styles.css"] == "text/css; charset=utf-8"
    )
    assert types["sitemap.xml"] == "application/xml" and types["favicon.svg"] == "image/svg+xml"
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9._/-]*", path) for path in types)


def test_copy_is_in_the_order_locale() -> None:
    pt, en = build(PT_ORDER), build(EN_ORDER)
    fallback = build(EN_ORDER.model_copy(update={"locale": "es-MX"}))
    assert '<html lang="pt-BR">' in body(pt, "index.html") and 'content="pt_BR"' in body(pt, "index.html")
    assert "Nossos serviços" in body(pt, "servicos.html") and "Pular para o conteúdo" in body(
        pt, "index.html"
    )
    assert "Our services" in body(en, "services.html") and 'content="en_US"' in body(en, "index.html")
    assert "Our services" not in body(pt, "servicos.html")
    assert '<html lang="es-MX">' in body(fallback, "index.html") and 'content="es_MX"' in body(
        fallback, "index.html"
    )
    assert "Our services" in body(fallback, "services.html")
    assert tp.make_brief(PT_ORDER).locale == "pt-BR"


def test_business_facts_appear_where_expected(site: SiteFiles) -> None:
    pages = [f for f in site.files if f.path.endswith(".html")]
    for page in pages:
        assert re.search(r"<title>[^<]*Padaria Pão Quente[^<]*</title>", page.body), page.path
        assert json_ld(page.body)["name"] == "Padaria Pão Quente"
    index, services, contact = (
        body(site, "index.html"),
        body(site, "servicos.html"),
        body(site, "contato.html"),
    )
    assert "<h1>Padaria Pão Quente</h1>" in index
    for service in PT_ORDER.services:
        assert f"<li>{service}</li>" in index and f"<h2>{service}</h2>" in services
    assert "<p>Conte com Padaria Pão Quente para bolos sob encomenda: atendimento próximo" in services
    assert '<a href="tel:1933334444">(19) 3333-4444</a>' in contact
    assert '<a href="mailto:contato@paoquente.com.br">' in contact
    assert 'href="https://wa.me/5519999998888?text=' in contact
    assert "Rua das Flores, 123, Campinas" in contact
    css = body(site, "styles.css")
    assert "--primary: #7a3e12;" in css and "--secondary: #f4c430;" in css
    assert 'fill="#7a3e12"' in body(site, "favicon.svg")


def test_json_ld_local_business(site: SiteFiles) -> None:
    data = json_ld(body(site, "index.html"))
    assert data["@type"] == "LocalBusiness"
    assert data["telephone"] == "(19) 3333-4444" and data["email"] == "contato@paoquente.com.br"
    assert data["address"] == {
        "@type": "PostalAddress",
        "streetAddress": "Rua das Flores, 123",
        "addressLocality": "Campinas",
    }
    assert data["areaServed"] == "Campinas"
    assert [offer["itemOffered"]["name"] for offer in data["makesOffer"]] == PT_ORDER.services
    assert data["description"] == PT_ORDER.description


def test_page_structure_and_navigation(site: SiteFiles) -> None:
    html_paths = [f.path for f in site.files if f.path.endswith(".html")]
    for path in html_paths:
        page = body(site, path)
        assert page.startswith("<!doctype html>\n")
        assert '<a class="skip-link" href="#main">' in page and '<main id="main">' in page
        assert '<nav class="site-nav" aria-label="Navegação principal">' in page
        assert '<link rel="icon" href="favicon.svg" type="image/svg+xml">' in page
        assert '<meta property="og:type" content="website">' in page
        assert all(f'href="{target}"' in page for target in html_paths)
        assert f'<a href="{path}" aria-current="page">' in page
        assert "<svg" in page and 'role="img" aria-label="' in page
        assert 'rel="canonical"' not in page and "og:url" not in page
    contact = body(site, "contato.html")
    assert '<form class="form" action="mailto:contato@paoquente.com.br"' in contact
    for ident in ("contact-name", "contact-email", "contact-phone", "contact-message"):
        assert f'<label for="{ident}">' in contact and f'id="{ident}"' in contact
    assert "<form" not in body(site, "index.html")


def test_relative_by_default_absolute_with_base_url(site: SiteFiles) -> None:
    assert "<loc>contato.html</loc>" in body(site, "sitemap.xml")
    assert "Sitemap: sitemap.xml" in body(site, "robots.txt")
    published = build(PT_ORDER, base_url="https://padaria.example")
    assert "<loc>https://padaria.example/</loc>" in body(published, "sitemap.xml")
    assert "<loc>https://padaria.example/contato.html</loc>" in body(published, "sitemap.xml")
    assert "Sitemap: https://padaria.example/sitemap.xml" in body(published, "robots.txt")
    assert '<meta property="og:url" content="https://padaria.example/sobre.html">' in body(
        published, "sobre.html"
    )
    assert json_ld(body(published, "index.html"))["url"] == "https://padaria.example"
    assert findings(published) == []


def test_hostile_input_is_escaped() -> None:
    files = build(HOSTILE)
    for page in (f for f in files.files if f.path.endswith(".html")):
        assert page.body.count("</script>") == 1  # user text cannot end the JSON-LD block early
        assert "<!--" not in page.body  # would open the script "double escaped" state
        markup = re.sub(r'<script type="application/ld\+json">.*?</script>', "", page.body, flags=re.S)
        assert (
            "<script" not in markup
            and "<img" not in markup
            and "<b>" not in markup
            and "<addr>" not in markup
        )
    index = body(files, "index.html")
    assert "<h1>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Tom &amp; Jerry&#x27;s</h1>" in index
    assert (
        "<li>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</li>" in index
        and "<li>Tea &amp; cake</li>" in index
    )
    assert r"<\/script>" in index
    data = json_ld(index)
    assert data["name"] == HOSTILE.business_name and data["description"] == HOSTILE.description
    assert data["address"]["addressLocality"] == "Rio </script>"
    assert "<script" not in body(files, "favicon.svg")
    assert "&quot;quoted&quot; &lt;addr&gt;, Rio &lt;/script&gt;" in body(files, "contact.html")


def test_text_on_brand_colours_is_readable() -> None:
    light = build(
        PT_ORDER.model_copy(update={"brand": Brand(primary_color="#FFE066", secondary_color="#1A1A2E")})
    )
    css = body(light, "styles.css")
    assert f"--on-primary: {NEAR_BLACK};" in css and f"--on-secondary: {WHITE};" in css
    link = re.findall(r"--link: (#[0-9a-f]{6});", css)[0]
    assert contrast(link, WHITE) >= 4.5
    assert f"--on-primary: {WHITE};" in body(build(PT_ORDER), "styles.css")
    assert ink("#1F4E79") == "#1f4e79" and contrast(ink("#FFFF00"), WHITE) >= 4.5


def test_contact_fallbacks_without_email_or_whatsapp() -> None:
    files = build(MINIMAL)
    contact = body(files, "contato.html")
    assert '<form class="form" action="#"' in contact
    assert "wa.me" not in contact and "mailto:" not in contact and "tel:" not in contact
    assert "Atendimento personalizado" in body(files, "servicos.html")  # default services when none given
    assert "makesOffer" not in json_ld(body(files, "index.html"))


def test_custom_sitemap_page_and_many_services() -> None:
    order = EN_ORDER.model_copy(update={"services": [f"Service {n}" for n in range(25)]})
    brief = tp.make_brief(order)
    plans = tp.make_sitemap(order, brief).pages
    extra = PagePlan(slug="portfolio", title="Our work", nav_label="Work", purpose="Show finished jobs.")
    sitemap = Sitemap(pages=[*plans[:3], extra, plans[3]])
    content = tp.make_content(order, brief, sitemap)
    assert content.pages[3].hero_heading == "Our work" and len(content.pages[1].sections) == 12
    files = tp.make_site(order, brief, sitemap, content)
    assert '<a href="portfolio.html">Work</a>' in body(files, "index.html")
    assert "<li>Service 24</li>" in body(files, "services.html")
    assert findings(files) == []


# --- check_site: one mutation per rule -----------------------------------------------------------------


@pytest.mark.parametrize("required", ["sitemap.xml", "robots.txt"])
def test_missing_required_file(site: SiteFiles, required: str) -> None:
    assert findings(without(site, required)) == [
        ("error", required, f'required file "{required}" is missing')
    ]


@pytest.mark.parametrize("required", ["index.html", "styles.css"])
def test_missing_required_page_or_stylesheet(site: SiteFiles, required: str) -> None:
    found = findings(without(site, required))
    assert found[0] == ("error", required, f'required file "{required}" is missing')
    assert ("error", "sobre.html", f'link to "{required}" does not resolve') in found


def test_image_without_alt(site: SiteFiles) -> None:
    files = mutate(site, "index.html", "<h1>", '<img src="favicon.svg"><h1>')
    assert findings(files) == [("error", "index.html", '<img src="favicon.svg"> has no alt attribute')]
    assert findings(mutate(site, "index.html", "<h1>", '<img src="favicon.svg" alt=""><h1>')) == []


def test_broken_links_and_sources(site: SiteFiles) -> None:
    files = mutate(
        site, "index.html", "<h1>", '<a href="precos.html#x">P</a><img src="logo.png" alt="L"><h1>'
    )
    files = mutate(files, "sobre.html", "<h1>", '<a href="../fora.html">F</a><h1>')
    assert findings(files) == [
        ("error", "index.html", 'link to "precos.html#x" does not resolve'),
        ("error", "index.html", 'source "logo.png" does not resolve'),
        ("error", "sobre.html", 'link to "../fora.html" does not resolve'),
    ]


def test_links_that_are_not_checked_or_resolve(site: SiteFiles) -> None:
    ok = (
        '<a href="servicos.html?x=1#top">a</a><a href="/sobre.html">b</a><a href="./">c</a><a href="mailto:a@b.c">d</a>'
        '<a href="tel:+123">e</a><a href="https://example.com/x">f</a><a href="#main">g</a><h1>'
    )
    assert findings(mutate(site, "index.html", "<h1>", ok)) == []


def test_internal_target_resolution() -> None:
    assert internal_target("blog/post.html", "../index.html") == "index.html"
    assert internal_target("blog/post.html", "other.html") == "blog/other.html"
    assert internal_target("blog/post.html", "/contato.html?a=1") == "contato.html"
    assert internal_target("index.html", "blog/") == "blog/index.html"
    assert (
        internal_target("index.html", "HTTPS://x.test") is None
        and internal_target("index.html", "#a") is None
    )


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ('<script src="https://x"></script>', 'script src "https://x" is not allowed (no scripts)'),
        ('<script src="app.js"></script>', 'script src "app.js" is not allowed (no scripts)'),
        (
            '<button type="button" onclick="go()">x</button>',
            'inline event handler "onclick" on <button> is not allowed',
        ),
        ('<a href="javascript:go()">x</a>', "javascript: URL in <a href> is not allowed"),
    ],
)
def test_scripts_are_rejected(site: SiteFiles, snippet: str, message: str) -> None:
    assert findings(mutate(site, "index.html", "<h1>", snippet + "<h1>")) == [
        ("error", "index.html", message)
    ]


def test_inline_script_is_rejected(site: SiteFiles) -> None:
    files = mutate(site, "index.html", "</main>", '<script type="text/javascript">alert(1)</script>\n</main>')
    line = line_of(body(files, "index.html"), '<script type="text/javascript">')
    assert findings(files) == [
        ("error", "index.html", f"inline script on line {line} is not allowed (only application/ld+json)")
    ]


def test_invalid_json_ld(site: SiteFiles) -> None:
    files = mutate(site, "index.html", '"@context"', "'@context'")
    [(severity, file, message)] = findings(files)
    assert (severity, file) == ("error", "index.html") and message.startswith("invalid JSON-LD on line ")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("<title>Padaria Pão Quente | Padaria artesanal em Campinas</title>", "", "missing <title>"),
        (
            "<title>Padaria Pão Quente | Padaria artesanal em Campinas</title>",
            "<title> </title>",
            "<title> is empty",
        ),
        ('<html lang="pt-BR">', "<html>", "<html> has no lang attribute"),
        ("<!doctype html>", "", "missing <!doctype html>"),
        ('<meta name="viewport"', '<meta name="x-viewport"', 'missing <meta name="viewport">'),
        ('<meta name="description"', '<meta name="x-description"', 'missing <meta name="description">'),
        ('<meta property="og:title"', '<meta property="x"', 'missing <meta property="og:title">'),
        ('<meta property="og:description"', '<meta property="x"', 'missing <meta property="og:description">'),
        ("</h1>", "</h1>\n<h1>Outro</h1>", "expected exactly one <h1>, found 2"),
        (
            "<h2>O que fazemos</h2>",
            "<h2>O que fazemos</h2><h4>Detalhe</h4>",
            "heading level skipped: <h4> after <h2>",
        ),
        (
            '<main id="main">',
            '<main id="main"><h2>Antes</h2>',
            "heading level skipped: <h2> after the start of the page",
        ),
        ('<main id="main">', '<main id="main"><p id="main">x</p>', 'duplicate id "main"'),
    ],
)
def test_page_rules(site: SiteFiles, old: str, new: str, message: str) -> None:
    assert findings(mutate(site, "index.html", old, new)) == [("error", "index.html", message)]


def test_first_heading_must_be_h1(site: SiteFiles) -> None:
    files = mutate(site, "index.html", "<h1>Padaria Pão Quente</h1>", "<h2>Padaria Pão Quente</h2>")
    assert findings(files) == [
        ("error", "index.html", "expected exactly one <h1>, found 0"),
        ("error", "index.html", "heading level skipped: <h2> after the start of the page"),
    ]


def test_unclosed_and_stray_tags(site: SiteFiles) -> None:
    files = mutate(site, "index.html", "<h2>O que fazemos</h2>", "<article>\n<h2>O que fazemos</h2>")
    page = body(files, "index.html")
    opened = line_of(page, "<article>")
    closed = opened + line_of(page[page.index("<article>") :], "</div>") - 1
    assert findings(files) == [
        (
            "error",
            "index.html",
            f"<article> opened on line {opened} is not closed before </div> on line {closed}",
        )
    ]
    stray = mutate(site, "index.html", "</main>", "</span>\n</main>")
    line = line_of(body(stray, "index.html"), "</span>\n</main>")
    assert findings(stray) == [("error", "index.html", f"unexpected closing tag </span> on line {line}")]
    unclosed = mutate(site, "index.html", "</html>\n", "</html>\n<article>\n")
    line = line_of(body(unclosed, "index.html"), "<article>")
    assert findings(unclosed) == [("error", "index.html", f"<article> opened on line {line} is never closed")]
    optional = mutate(site, "index.html", "<h1>", "<ul><li>a<li>b</ul><p>one<p>two<h1>")
    assert findings(optional) == []


def test_form_controls_need_labels(site: SiteFiles) -> None:
    files = mutate(site, "contato.html", '<label for="contact-email">E-mail</label>', "")
    expected = ("error", "contato.html", 'form control <input id="contact-email"> has no associated <label>')
    assert findings(files) == [expected]
    textarea = mutate(site, "contato.html", '<label for="contact-message">', '<label for="other">')
    assert findings(textarea) == [
        ("error", "contato.html", 'form control <textarea id="contact-message"> has no associated <label>')
    ]
    fine = (
        '<input type="hidden" name="t"><input aria-label="Busca" name="q"><label>Cidade <select name="c">'
        '<option>a</option></select></label><input type="submit" value="ok"></form>'
    )
    assert findings(mutate(site, "contato.html", "</form>", fine)) == []


def test_soft_rules_are_warnings_and_do_not_fail_review(site: SiteFiles) -> None:
    description = re.findall(r'<meta name="description" content="([^"]*)"', body(site, "index.html"))[0]
    files = mutate(site, "index.html", description, "x" * 170)
    files = mutate(files, "index.html", 'href="#main"', 'href="#conteudo"')
    files = mutate(files, "index.html", "<h1>", '<img src="https://cdn.example/a.png" alt="a"><h1>')
    files = mutate(files, "robots.txt", "Sitemap: sitemap.xml", "")
    assert findings(files) == [
        (
            "warning",
            "index.html",
            'external resource "https://cdn.example/a.png" (the site must be self-contained)',
        ),
        ("warning", "index.html", "meta description is 170 characters (keep it under 160)"),
        ("warning", "index.html", 'fragment "#conteudo" does not match any id on the page'),
        ("warning", "robots.txt", "robots.txt does not point to sitemap.xml"),
    ]
    review = tp.make_review_notes(PT_ORDER, files)
    assert review.passed and len(review.findings) == 4


def test_review_fails_on_errors(site: SiteFiles) -> None:
    review = tp.make_review_notes(PT_ORDER, without(site, "sitemap.xml"))
    assert not review.passed and review.checked_files == len(site.files) - 1
    other = tp.make_review_notes(EN_ORDER, site)
    assert other.passed and other.findings[0].message == "the business name does not appear on the page"


def test_sitemap_and_duplicate_files(site: SiteFiles) -> None:
    broken = mutate(site, "sitemap.xml", "<loc>sobre.html</loc>", "<loc>quem-somos.html</loc>")
    assert findings(broken) == [("error", "sitemap.xml", 'sitemap entry "quem-somos.html" does not resolve')]
    malformed = mutate(site, "sitemap.xml", "</urlset>", "")
    [(severity, file, message)] = findings(malformed)
    assert (severity, file) == ("error", "sitemap.xml") and message.startswith("not well-formed XML: ")
    duplicated = SiteFiles(
        files=[*site.files, SiteFile(path="robots.txt", content_type="text/plain", body="")]
    )
    assert findings(duplicated) == [("error", "robots.txt", "duplicate file path")]


def test_content_schema_limits_hold_for_long_input() -> None:
    order = EN_ORDER.model_copy(
        update={"business_name": "N" * 400, "description": "word " * 2000, "segment": "S" * 300}
    )
    brief = tp.make_brief(order)
    sitemap = tp.make_sitemap(order, brief)
    content = tp.make_content(order, brief, sitemap)
    assert Content.model_validate(content.model_dump()) == content
    assert all(len(page.meta_description) <= 160 for page in content.pages)
    assert findings(tp.make_site(order, brief, sitemap, content)) == []
