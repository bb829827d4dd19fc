"""Real checks of a generated site: every page parsed, every internal reference resolved.

`check_file(file, known_paths)` checks one file on its own (and its references against the paths the
site will have); `check_site(files)` adds what needs the whole site: required files, duplicates, and
the site's total size, checked before anything is parsed. Every file a browser could run script in
(HTML, SVG, XML) goes through an allowlist; a file's type comes from its extension (website/files.py).
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote
from xml.etree import ElementTree

from chalicelib.phases.outputs import ReviewFinding, SiteFile, SiteFiles
from chalicelib.website.allowlist import SVG_ATTRIBUTES, SVG_ELEMENTS, url_kind
from chalicelib.website.files import (
    CONTENT_TYPES,
    MAX_FILE_BYTES,
    MAX_SITE_BYTES,
    content_type_for,
    extension,
    path_problem,
)
from chalicelib.website.html_audit import Reference, audit_page, shown

REQUIRED_FILES = ("index.html", "styles.css", "sitemap.xml", "robots.txt")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
OUTSIDE = "../"  # marker: the reference climbs above the site root
ATTR_WORDS = {"href": "link to", "src": "source", "action": "form action"}
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
SITEMAP_TAGS = {"urlset", "url", "loc", "lastmod", "changefreq", "priority"}
SVG_NS = "{http://www.w3.org/2000/svg}"
XML_NAMESPACES = {
    "{http://www.w3.org/1999/xlink}": "xlink:",
    "{http://www.w3.org/XML/1998/namespace}": "xml:",
}
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
XML_DECLARATIONS = re.compile(r"<!DOCTYPE|<!ENTITY|<\?(?!xml[\s?])", re.IGNORECASE)
MAX_FINDINGS = 100
MESSAGE_LIMIT = 1000  # ReviewFinding.message


def finding(severity: str, file: str, message: str) -> ReviewFinding:
    return ReviewFinding(
        severity=severity,
        file=file[:200],
        message=message if len(message) <= MESSAGE_LIMIT else message[: MESSAGE_LIMIT - 1] + "\u2026",
    )


def capped(findings: list[ReviewFinding]) -> list[ReviewFinding]:
    """At most MAX_FINDINGS, errors first when some must go; the last one says how many were left out."""
    if len(findings) <= MAX_FINDINGS:
        return findings
    kept = sorted(findings, key=lambda f: f.severity != "error")[: MAX_FINDINGS - 1]
    kept.sort(key=findings.index)
    more = len(findings) - len(kept)
    return kept + [
        finding(
            "error" if any(f.severity == "error" for f in findings) else "warning",
            kept[-1].file,
            f"and {more} more finding(s)",
        )
    ]


def internal_target(page: str, reference: str) -> str | None:
    """The site path a relative reference points to; None for external, mailto:, tel:, "#..." and such."""
    reference = reference.strip()
    if not reference or reference.startswith(("#", "//")) or SCHEME.match(reference):
        return None
    path = unquote(reference.split("#", 1)[0].split("?", 1)[0])
    if not path:
        return None
    joined = path.lstrip("/") if path.startswith("/") else posixpath.join(posixpath.dirname(page), path)
    target = posixpath.normpath(joined) if joined else "."
    if target == ".." or target.startswith(OUTSIDE):
        return OUTSIDE
    if target == ".":
        return "index.html"
    return target + "/index.html" if path.endswith("/") else target


def resolves(target: str, paths: set[str]) -> bool:
    return target != OUTSIDE and (target in paths or target + "/index.html" in paths)


def reference_findings(
    page: str, references: list[Reference], ids: set[str], paths: set[str]
) -> list[ReviewFinding]:
    findings = []
    for ref in references:
        if ref.value.startswith("#") and len(ref.value) > 1 and unquote(ref.value[1:]) not in ids:
            findings.append(
                finding("warning", page, f'fragment "{shown(ref.value)}" does not match any id on the page')
            )
            continue
        target = internal_target(page, ref.value)
        if target is not None and not resolves(target, paths):
            findings.append(
                finding("error", page, f'{ATTR_WORDS[ref.attr]} "{shown(ref.value)}" does not resolve')
            )
    return findings


def _xml(file: SiteFile) -> tuple[ElementTree.Element | None, list[ReviewFinding]]:
    """The parsed document, or why not. No DTDs, entities or processing instructions (an
    xml-stylesheet can run script), so nothing here expands or fetches anything."""
    if XML_DECLARATIONS.search(file.body):
        return None, [
            finding("error", file.path, "DOCTYPE, ENTITY and processing instructions are not allowed")
        ]
    try:
        return ElementTree.fromstring(file.body), []
    except ElementTree.ParseError as exc:
        return None, [finding("error", file.path, f"not well-formed XML: {exc}")]


def sitemap_findings(file: SiteFile, paths: set[str]) -> list[ReviewFinding]:
    root, findings = _xml(file)
    if root is None:
        return findings
    locs = [(loc.text or "").strip() for loc in root.iter(f"{SITEMAP_NS}loc")]
    if root.tag != f"{SITEMAP_NS}urlset" or not locs:
        findings.append(finding("error", file.path, "no <urlset> with <url><loc> entries"))
    others = sorted(
        {
            e.tag
            for e in root.iter()
            if not e.tag.startswith(SITEMAP_NS) or e.tag[len(SITEMAP_NS) :] not in SITEMAP_TAGS
        }
    )
    if others:  # an XML file is rendered by browsers: XHTML elements in it would run
        findings.append(
            finding(
                "error", file.path, f"only sitemap elements are allowed, found {shown(', '.join(others))}"
            )
        )
    for loc in locs:
        scheme = SCHEME.match(loc)
        if scheme and scheme.group().lower() not in ("http:", "https:"):
            findings.append(
                finding("error", file.path, f'sitemap entry "{shown(loc)}" is not an http(s) URL')
            )
            continue
        target = internal_target(file.path, loc)
        if target is not None and not resolves(target, paths):
            findings.append(finding("error", file.path, f'sitemap entry "{shown(loc)}" does not resolve'))
    return findings


def svg_findings(file: SiteFile, paths: set[str]) -> list[ReviewFinding]:
    """An SVG opened on its own runs its scripts: the same allowlist as inline SVG."""
    root, findings = _xml(file)
    if root is None:
        return findings
    if root.tag != f"{SVG_NS}svg":
        findings.append(finding("error", file.path, "the root element must be <svg> in the SVG namespace"))
    for element in root.iter():
        tag = element.tag[len(SVG_NS) :] if element.tag.startswith(SVG_NS) else element.tag
        if element.tag != SVG_NS + tag or tag.lower() not in SVG_ELEMENTS:
            findings.append(finding("error", file.path, f"<{shown(tag)}> is not allowed in an SVG"))
        for raw, value in element.attrib.items():
            name = raw
            for namespace, prefix in XML_NAMESPACES.items():
                name = name.replace(namespace, prefix)
            name = name.lower()
            if name.startswith("on"):
                findings.append(
                    finding("error", file.path, f'inline event handler "{shown(name)}" is not allowed')
                )
            elif name not in SVG_ATTRIBUTES and not name.startswith(("aria-", "data-")):
                findings.append(
                    finding("error", file.path, f'attribute "{shown(name)}" on <{shown(tag)}> is not allowed')
                )
            elif name in ("href", "xlink:href"):
                kind, why = url_kind(value)
                if why:
                    findings.append(finding("error", file.path, f'{name} "{shown(value)}": {why}'))
                target = internal_target(file.path, value) if kind == "relative" else None
                if target is not None and not value.startswith("#") and not resolves(target, paths):
                    findings.append(finding("error", file.path, f'link to "{shown(value)}" does not resolve'))
    return findings


def robots_findings(file: SiteFile) -> list[ReviewFinding]:
    lines = [line.strip().lower() for line in file.body.splitlines()]
    if any(line.startswith("sitemap:") and "sitemap.xml" in line for line in lines):
        return []
    return [finding("warning", file.path, "robots.txt does not point to sitemap.xml")]


def check_file(file: SiteFile, known_paths: set[str]) -> list[ReviewFinding]:
    """Every finding about one file; `known_paths` are the site's paths its references may point to.
    Severity "error" means it must not be published. Size, path and type are checked before parsing."""
    problem = path_problem(file.path)
    if problem:
        return [finding("error", file.path, f"unsafe path: {problem}")]
    if content_type_for(file.path) is None:
        allowed = ", ".join(sorted(CONTENT_TYPES))
        return [
            finding(
                "error",
                file.path,
                f'files of type "{shown(extension(file.path))}" are not allowed (allowed: {allowed})',
            )
        ]
    size = len(file.body.encode())
    if size > MAX_FILE_BYTES:
        return [finding("error", file.path, f"file is {size} bytes; the limit is {MAX_FILE_BYTES}")]
    if CONTROL.search(file.body):
        return [finding("error", file.path, "file contains control characters")]
    kind = extension(file.path)
    if kind in (".html", ".htm"):
        audit = audit_page(file.body)
        findings = [finding(s, file.path, m) for s, m in audit.problems]
        findings += reference_findings(file.path, audit.references, audit.ids, known_paths)
    elif kind == ".svg":
        findings = svg_findings(file, known_paths)
    elif kind == ".xml":
        findings = sitemap_findings(file, known_paths)
    elif file.path == "robots.txt":
        findings = robots_findings(file)
    else:
        findings = []
    return capped(findings)


def check_site(files: SiteFiles) -> list[ReviewFinding]:
    """Every finding about the site, in file order; severity "error" means it must not be published."""
    total = sum(len(file.body.encode()) for file in files.files)
    if total > MAX_SITE_BYTES:  # before any parsing: the parser's time grows with what it is given
        return [finding("error", "(site)", f"the site is {total} bytes; the limit is {MAX_SITE_BYTES}")]
    findings: list[ReviewFinding] = []
    paths = {file.path for file in files.files}
    for required in REQUIRED_FILES:
        if required not in paths:
            findings.append(finding("error", required, f'required file "{required}" is missing'))
    seen: set[str] = set()
    for file in files.files:
        if file.path in seen:
            findings.append(finding("error", file.path, "duplicate file path"))
            continue
        seen.add(file.path)
        findings += check_file(file, paths)
    return capped(findings)
