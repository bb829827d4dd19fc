"""One HTML page, parsed with the stdlib parser and checked on its own (links are checked in checks.py).

The checks are an allowlist (chalicelib/website/allowlist.py): an element, attribute or URL scheme
that is not listed is an error. Where Python's parser and a browser's would read the same bytes
differently (comments ended by `--!>`, CDATA in HTML, markup inside <title> or <textarea>, a start tag
Python gives up on, `</script x>` ending a script for a browser only), the page is refused, so what was
checked is what a browser runs. The parser is fed once and never asked to recover from markup left
unfinished at the end: its recovery is quadratic ("<a" * 80000 took 13 s); an unfinished tail is an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Literal

from chalicelib.website.allowlist import (
    HTML_ELEMENTS,
    LINK_RELS,
    META_HTTP_EQUIV,
    SVG_ELEMENTS,
    TEXT_ONLY,
    URL_ATTRIBUTES,
    attribute_allowed,
    srcset_urls,
    url_kind,
)

Severity = Literal["error", "warning"]

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "param",
    "source",
    "track",
    "wbr",
}
# Elements whose end tag HTML lets you leave out: never reported as unclosed.
OPTIONAL_END = {
    "html",
    "head",
    "body",
    "p",
    "li",
    "dt",
    "dd",
    "option",
    "optgroup",
    "tr",
    "td",
    "th",
    "thead",
    "tbody",
    "tfoot",
    "colgroup",
    "caption",
    "rt",
    "rp",
}
UNLABELLED_INPUTS = {"hidden", "submit", "button", "reset", "image"}
REFERENCE_ATTRS = ("href", "src", "action")  # checked against the site's files (checks.py)
FETCHED = {"img", "source", "link", "use", "image"}  # elements whose URL the browser loads with the page
META_LIMIT = 160
SHOWN = 80  # characters of a value quoted in a finding


@dataclass
class Reference:
    attr: str  # href, src or action
    value: str
    line: int


@dataclass
class Audit:
    problems: list[tuple[Severity, str]] = field(default_factory=list)  # (severity, message)
    references: list[Reference] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)


def shown(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= SHOWN else value[: SHOWN - 1] + "\u2026"


def describe(tag: str, attrs: dict[str, str]) -> str:
    for key in ("id", "name", "src", "type"):
        if attrs.get(key):
            return f'<{tag} {key}="{shown(attrs[key])}">'
    return f"<{tag}>"


class PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.audit = Audit()
        self.stack: list[tuple[str, int]] = []
        self.doctype = False
        self.lang: str | None = None
        self.titles: list[str] = []
        self.meta: dict[str, str] = {}
        self.headings: list[int] = []
        self.label_for: set[str] = set()
        self.controls: list[tuple[str, str]] = []  # (description, id) of controls not labelled in place
        self.label_depth = 0
        self.svg_depth = 0
        self.capture: str | None = None  # "title" or "ld+json" while inside one
        self.text = ""
        self.text_only: str | None = None  # inside <title> or <textarea>: anything but text is refused
        self.in_starttag = False
        self.inline_styles = 0

    def report(self, message: str, severity: Severity = "error") -> None:
        self.audit.problems.append((severity, message))

    # --- what browsers and Python's parser could read differently --------------------------------
    def parse_starttag(self, i: int) -> int:
        self.in_starttag = True  # handle_data is called from here only for a tag Python gave up on
        try:
            return super().parse_starttag(i)
        finally:
            self.in_starttag = False

    def handle_comment(self, data: str) -> None:
        if data.startswith((">", "->")) or "--!>" in data or "<!--" in data or data.endswith("<!-"):
            self.report(
                f"a comment on line {self.getpos()[0]} ends earlier in a browser than here "
                "(<!-->, <!--->, --!> or a nested <!--): not allowed"
            )
        self.markup_in_text("a comment")

    def unknown_decl(self, data: str) -> None:
        self.report(f"<![{shown(data)}]]> on line {self.getpos()[0]} is not allowed in HTML")

    def handle_pi(self, data: str) -> None:
        self.report(f"<?{shown(data)}> on line {self.getpos()[0]} is not allowed in HTML")

    def handle_decl(self, decl: str) -> None:
        if decl.lower().split() == ["doctype", "html"]:
            self.doctype = True
        else:
            self.report(f"<!{shown(decl)}> is not allowed (only <!doctype html>)")

    def markup_in_text(self, what: str) -> None:
        if self.text_only:
            self.report(
                f"{what} inside <{self.text_only}> on line {self.getpos()[0]} is not allowed "
                "(browsers read it as text)"
            )

    # --- elements ------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attr_list: list[tuple[str, str | None]]) -> None:
        self.start(tag, attr_list, closed=False)

    def handle_startendtag(self, tag: str, attr_list: list[tuple[str, str | None]]) -> None:
        self.start(tag, attr_list, closed=True)
        if tag in TEXT_ONLY or tag == "script":  # browsers ignore the "/": all that follows is inside it
            self.report(f"<{tag} .../> on line {self.getpos()[0]} is not allowed: browsers do not close it")

    def start(self, tag: str, attr_list: list[tuple[str, str | None]], closed: bool) -> None:
        line = self.getpos()[0]
        self.markup_in_text(f"<{tag}>")
        attrs = {k: v or "" for k, v in attr_list}
        if tag not in VOID and not closed:
            self.stack.append((tag, line))
        svg = bool(self.svg_depth) or tag == "svg"
        self.allowed(tag, attr_list, attrs, svg, line)
        if tag == "svg" and not closed:
            self.svg_depth += 1
        if svg:  # foreign content: only its links and ids matter beyond the allowlist
            self.inspect_common(tag, attrs, line)
            return
        if tag in TEXT_ONLY and not closed:
            self.text_only = tag
        self.html_element(tag, attrs, closed)
        self.inspect_common(tag, attrs, line)

    def html_element(self, tag: str, attrs: dict[str, str], closed: bool) -> None:
        """What an HTML (not SVG) element adds to the page's checks: its head, headings, labels."""
        if tag == "html":
            self.lang = attrs.get("lang", "").strip()
        elif tag == "title":
            self.capture, self.text = "title", ""
        elif tag == "meta":
            self.meta_tag(attrs)
        elif len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self.headings.append(int(tag[1]))
        elif tag == "img" and "alt" not in attrs:
            self.report(f"{describe(tag, attrs)} has no alt attribute")
        elif tag == "label":
            self.label_depth += 0 if closed else 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        elif tag in ("input", "select", "textarea"):
            self.control(tag, attrs)
        elif tag == "link":
            refused = sorted(set(attrs.get("rel", "").lower().split()) - LINK_RELS)
            if refused or not attrs.get("rel", "").strip():
                self.report(
                    f'<link rel="{shown(attrs.get("rel", ""))}"> is not allowed (stylesheet, icon, '
                    "canonical, alternate and such only)"
                )

    def allowed(
        self, tag: str, attr_list: list[tuple[str, str | None]], attrs: dict[str, str], svg: bool, line: int
    ) -> None:
        """The allowlist: the element, each attribute once, and every URL."""
        if tag not in (SVG_ELEMENTS if svg else HTML_ELEMENTS):
            where = " inside <svg>" if svg and tag != "svg" else ""
            self.report(f"<{tag}>{where} on line {line} is not allowed")
        seen: set[str] = set()
        for name, value in attr_list:
            if name in seen:  # a browser keeps the first, a dict the last: refuse either way
                self.report(f'attribute "{name}" appears twice on <{tag}> on line {line}')
            seen.add(name)
            if name.startswith("on"):
                self.report(f'inline event handler "{name}" on <{tag}> is not allowed')
            elif not attribute_allowed(tag, name, svg) and (tag, name) != ("script", "src"):  # said below
                self.report(f'attribute "{shown(name)}" on <{tag}> is not allowed')
            elif name == "style":
                self.inline_styles += 1
            if name in URL_ATTRIBUTES or name == "srcset":
                for url in srcset_urls(value or "") if name == "srcset" else [value or ""]:
                    self.check_url(tag, name, url)

    def check_url(self, tag: str, name: str, value: str) -> None:
        kind, why = url_kind(value)
        if kind == "refused" and value.strip().lower().startswith("javascript:"):
            self.report(f"javascript: URL in <{tag} {name}> is not allowed")
        elif kind == "refused":
            self.report(f'{name} "{shown(value)}" on <{tag}>: {why}')
        elif tag == "form" and kind not in ("relative", "mailto"):
            self.report(
                f'form action "{shown(value)}" sends the form to another site (relative or mailto: only)'
            )
        elif kind == "https" and tag in FETCHED:
            self.report(f'external resource "{shown(value)}" (the site must be self-contained)', "warning")

    def meta_tag(self, attrs: dict[str, str]) -> None:
        key = (attrs.get("name") or attrs.get("property") or "").lower()
        if key and key not in self.meta:
            self.meta[key] = attrs.get("content", "")
        equiv = attrs.get("http-equiv", "").strip().lower()
        if "http-equiv" in attrs and equiv not in META_HTTP_EQUIV:
            self.report(f'<meta http-equiv="{shown(equiv)}"> is not allowed (no refresh, redirect or policy)')
        if "charset" in attrs and attrs["charset"].strip().lower() != "utf-8":
            self.report(f'<meta charset="{shown(attrs["charset"])}">: sites are served as utf-8')

    def control(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "input" and attrs.get("type", "text").lower() in UNLABELLED_INPUTS:
            return
        if (
            attrs.get("aria-label", "").strip()
            or attrs.get("aria-labelledby", "").strip()
            or self.label_depth
        ):
            return
        self.controls.append((describe(tag, attrs), attrs.get("id", "")))

    def inspect_common(self, tag: str, attrs: dict[str, str], line: int) -> None:
        if attrs.get("id"):
            if attrs["id"] in self.audit.ids:
                self.report(f'duplicate id "{shown(attrs["id"])}"')
            self.audit.ids.add(attrs["id"])
        for name in REFERENCE_ATTRS + ("xlink:href",):
            if name in attrs and tag != "script":
                self.audit.references.append(
                    Reference(name.removeprefix("xlink:"), attrs[name].strip(), line)
                )
        for url in srcset_urls(attrs.get("srcset", "")):
            self.audit.references.append(Reference("src", url, line))
        if tag == "script":
            if "src" in attrs:
                self.report(f'script src "{shown(attrs["src"])}" is not allowed (no scripts)')
            elif attrs.get("type", "").strip().lower() != "application/ld+json":
                self.report(f"inline script on line {line} is not allowed (only application/ld+json)")
            else:
                self.capture, self.text = "ld+json", ""

    def handle_data(self, data: str) -> None:
        if self.in_starttag:
            self.report(
                f"the tag on line {self.getpos()[0]} could not be parsed (a browser may read it "
                f'differently): "{shown(data)}"'
            )
        cdata_elem = getattr(self, "cdata_elem", None)  # HTMLParser's, not in its type stubs
        if cdata_elem and ("</" in data or "<!--" in data):
            self.report(
                f'<{cdata_elem}> on line {self.getpos()[0]} contains "</" or "<!--" (write <\\/); '
                "browsers may end it there"
            )
        if self.capture:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        line = self.getpos()[0]
        if self.text_only and tag != self.text_only:
            self.markup_in_text(f"</{tag}>")
        elif self.text_only:
            self.text_only = None
        if tag == "svg" and self.svg_depth:
            self.svg_depth -= 1
        if tag == "label" and self.label_depth:
            self.label_depth -= 1
        if self.capture == "title" and tag == "title":
            self.titles.append(" ".join(self.text.split()))
            self.capture = None
        elif self.capture == "ld+json" and tag == "script":
            self.capture = None
            try:
                json.loads(self.text)
            except ValueError as exc:
                self.report(f"invalid JSON-LD on line {line}: {exc}")
        if tag not in VOID:
            self.close_element(tag, line)

    def close_element(self, tag: str, line: int) -> None:
        """Pop the open elements up to `tag`; those that may not end implicitly are findings."""
        if all(open_tag != tag for open_tag, _ in self.stack):
            self.report(f"unexpected closing tag </{shown(tag)}> on line {line}")
            return
        while self.stack:
            open_tag, opened = self.stack.pop()
            if open_tag == tag:
                break
            if open_tag not in OPTIONAL_END:
                self.report(
                    f"<{open_tag}> opened on line {opened} is not closed before </{tag}> on line {line}"
                )

    def finish(self) -> None:
        rest = self.rawdata
        if "<" in rest:  # something unfinished: recovering from it is what is quadratic
            line = self.getpos()[0]
            self.report(f"a tag, comment or script starting on line {line} is never finished")
            self.rawdata = ""
        else:
            self.close()
        for open_tag, opened in self.stack:
            if open_tag not in OPTIONAL_END:
                self.report(f"<{open_tag}> opened on line {opened} is never closed")
        if self.inline_styles:
            self.report(
                f"{self.inline_styles} inline style attribute(s): the site's Content-Security-Policy "
                "(style-src 'self') blocks them; put the CSS in styles.css",
                "warning",
            )


def audit_page(body: str) -> Audit:
    """Parse one page and check what can be checked without the rest of the site."""
    parser = PageParser()
    parser.feed(body)
    parser.finish()
    _check_head(parser)
    _check_headings(parser)
    for description, ident in parser.controls:
        if not ident or ident not in parser.label_for:
            parser.report(f"form control {description} has no associated <label>")
    return parser.audit


def _check_head(parser: PageParser) -> None:
    """The doctype, lang, one non-empty <title> and the meta tags every page needs."""
    report, meta = parser.report, parser.meta
    if not parser.doctype:
        report("missing <!doctype html>")
    if not parser.lang:
        report("<html> has no lang attribute")
    if not parser.titles:
        report("missing <title>")
    elif not parser.titles[0]:
        report("<title> is empty")
    elif len(parser.titles) > 1:
        report(f"expected one <title>, found {len(parser.titles)}")
    for key, label in (
        ("viewport", 'name="viewport"'),
        ("description", 'name="description"'),
        ("og:title", 'property="og:title"'),
        ("og:description", 'property="og:description"'),
    ):
        if not meta.get(key, "").strip():
            report(f"missing <meta {label}>")
    if len(meta.get("description", "")) > META_LIMIT:
        report(
            f"meta description is {len(meta['description'])} characters (keep it under {META_LIMIT})",
            "warning",
        )


def _check_headings(parser: PageParser) -> None:
    """One <h1>, and no level skipped on the way down."""
    report = parser.report
    h1s = parser.headings.count(1)
    if h1s != 1:
        report(f"expected exactly one <h1>, found {h1s}")
    previous = 0
    for level in parser.headings:
        if level > previous + 1:
            after = f"<h{previous}>" if previous else "the start of the page"
            report(f"heading level skipped: <h{level}> after {after}")
        previous = level
