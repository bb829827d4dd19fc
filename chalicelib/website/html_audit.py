"""One HTML page, parsed with the stdlib parser and checked on its own (links are checked in checks.py)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Literal

Severity = Literal["error", "warning"]

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
# Elements whose end tag HTML lets you leave out: never reported as unclosed.
OPTIONAL_END = {"html", "head", "body", "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead",
                "tbody", "tfoot", "colgroup", "caption", "rt", "rp"}
UNLABELLED_INPUTS = {"hidden", "submit", "button", "reset", "image"}
REFERENCE_ATTRS = ("href", "src", "action")
EXTERNAL_PREFIXES = ("http://", "https://", "//")
META_LIMIT = 160


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


def describe(tag: str, attrs: dict[str, str]) -> str:
    for key in ("id", "name", "src", "type"):
        if attrs.get(key):
            return f'<{tag} {key}="{attrs[key]}">'
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

    def report(self, message: str, severity: Severity = "error") -> None:
        self.audit.problems.append((severity, message))

    def handle_decl(self, decl: str) -> None:
        if decl.lower().split() == ["doctype", "html"]:
            self.doctype = True

    def handle_starttag(self, tag: str, attr_list: list[tuple[str, str | None]]) -> None:
        self.start(tag, {k: v or "" for k, v in attr_list}, closed=False)

    def handle_startendtag(self, tag: str, attr_list: list[tuple[str, str | None]]) -> None:
        self.start(tag, {k: v or "" for k, v in attr_list}, closed=True)

    def start(self, tag: str, attrs: dict[str, str], closed: bool) -> None:
        line = self.getpos()[0]
        if tag not in VOID and not closed:
            self.stack.append((tag, line))
        if tag == "svg" and not closed:
            self.svg_depth += 1
        if self.svg_depth:  # foreign content: only its links and scripts matter
            self.inspect_common(tag, attrs, line)
            return
        if tag == "html":
            self.lang = attrs.get("lang", "").strip()
        elif tag == "title":
            self.capture, self.text = "title", ""
        elif tag == "meta":
            key = (attrs.get("name") or attrs.get("property") or "").lower()
            if key and key not in self.meta:
                self.meta[key] = attrs.get("content", "")
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
        self.inspect_common(tag, attrs, line)

    def control(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "input" and attrs.get("type", "text").lower() in UNLABELLED_INPUTS:
            return
        if attrs.get("aria-label", "").strip() or attrs.get("aria-labelledby", "").strip() or self.label_depth:
            return
        self.controls.append((describe(tag, attrs), attrs.get("id", "")))

    def inspect_common(self, tag: str, attrs: dict[str, str], line: int) -> None:
        if attrs.get("id"):
            if attrs["id"] in self.audit.ids:
                self.report(f'duplicate id "{attrs["id"]}"')
            self.audit.ids.add(attrs["id"])
        for name in attrs:
            if name.startswith("on"):
                self.report(f'inline event handler "{name}" on <{tag}> is not allowed')
        for name in REFERENCE_ATTRS:
            value = attrs.get(name, "").strip()
            if name in attrs and tag != "script":
                self.audit.references.append(Reference(name, value, line))
                if value.lower().startswith("javascript:"):
                    self.report(f'javascript: URL in <{tag} {name}> is not allowed')
                elif tag != "a" and name != "action" and value.lower().startswith(EXTERNAL_PREFIXES):
                    self.report(f'external resource "{value}" (the site must be self-contained)', "warning")
        if tag == "script":
            if "src" in attrs:
                self.report(f'script src "{attrs["src"]}" is not allowed (no scripts)')
            elif attrs.get("type", "").strip().lower() != "application/ld+json":
                self.report(f"inline script on line {line} is not allowed (only application/ld+json)")
            else:
                self.capture, self.text = "ld+json", ""

    def handle_data(self, data: str) -> None:
        if self.capture:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        line = self.getpos()[0]
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
        if tag in VOID:
            return
        if all(open_tag != tag for open_tag, _ in self.stack):
            self.report(f"unexpected closing tag </{tag}> on line {line}")
            return
        while self.stack:
            open_tag, opened = self.stack.pop()
            if open_tag == tag:
                break
            if open_tag not in OPTIONAL_END:
                self.report(f"<{open_tag}> opened on line {opened} is not closed before </{tag}> on line {line}")

    def finish(self) -> None:
        self.close()
        for open_tag, opened in self.stack:
            if open_tag not in OPTIONAL_END:
                self.report(f"<{open_tag}> opened on line {opened} is never closed")


def audit_page(body: str) -> Audit:
    """Parse one page and check what can be checked without the rest of the site."""
    parser = PageParser()
    parser.feed(body)
    parser.finish()
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
    for key, label in (("viewport", 'name="viewport"'), ("description", 'name="description"'),
                       ("og:title", 'property="og:title"'), ("og:description", 'property="og:description"')):
        if not meta.get(key, "").strip():
            report(f"missing <meta {label}>")
    if len(meta.get("description", "")) > META_LIMIT:
        report(f"meta description is {len(meta['description'])} characters (keep it under {META_LIMIT})", "warning")
    h1s = parser.headings.count(1)
    if h1s != 1:
        report(f"expected exactly one <h1>, found {h1s}")
    previous = 0
    for level in parser.headings:
        if level > previous + 1:
            after = f"<h{previous}>" if previous else "the start of the page"
            report(f"heading level skipped: <h{level}> after {after}")
        previous = level
    for description, ident in parser.controls:
        if not ident or ident not in parser.label_for:
            report(f"form control {description} has no associated <label>")
    return parser.audit
