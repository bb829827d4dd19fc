"""Real checks of a generated site: every page parsed, every internal reference resolved."""
from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote
from xml.etree import ElementTree

from chalicelib.phases.schemas import ReviewFinding, SiteFile, SiteFiles
from chalicelib.website.html_audit import Reference, audit_page

REQUIRED_FILES = ("index.html", "styles.css", "sitemap.xml", "robots.txt")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
OUTSIDE = "../"  # marker: the reference climbs above the site root
ATTR_WORDS = {"href": "link to", "src": "source", "action": "form action"}
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


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


def reference_findings(page: str, references: list[Reference], ids: set[str], paths: set[str]) -> list[ReviewFinding]:
    findings = []
    for ref in references:
        if ref.value.startswith("#") and len(ref.value) > 1 and unquote(ref.value[1:]) not in ids:
            message = f'fragment "{ref.value}" does not match any id on the page'
            findings.append(ReviewFinding(severity="warning", file=page, message=message))
            continue
        target = internal_target(page, ref.value)
        if target is not None and not resolves(target, paths):
            message = f'{ATTR_WORDS[ref.attr]} "{ref.value}" does not resolve'
            findings.append(ReviewFinding(severity="error", file=page, message=message))
    return findings


def sitemap_findings(file: SiteFile, paths: set[str]) -> list[ReviewFinding]:
    try:
        root = ElementTree.fromstring(file.body)
    except ElementTree.ParseError as exc:
        return [ReviewFinding(severity="error", file=file.path, message=f"not well-formed XML: {exc}")]
    findings = []
    locs = [(loc.text or "").strip() for loc in root.iter(f"{SITEMAP_NS}loc")]
    if root.tag != f"{SITEMAP_NS}urlset" or not locs:
        findings.append(ReviewFinding(severity="error", file=file.path, message="no <urlset> with <url><loc> entries"))
    for loc in locs:
        target = internal_target(file.path, loc)
        if target is not None and not resolves(target, paths):
            findings.append(ReviewFinding(severity="error", file=file.path, message=f'sitemap entry "{loc}" does not resolve'))
    return findings


def robots_findings(file: SiteFile) -> list[ReviewFinding]:
    lines = [line.strip().lower() for line in file.body.splitlines()]
    if any(line.startswith("sitemap:") and "sitemap.xml" in line for line in lines):
        return []
    return [ReviewFinding(severity="warning", file=file.path, message="robots.txt does not point to sitemap.xml")]


def check_site(files: SiteFiles) -> list[ReviewFinding]:
    """Every finding about the site, in file order; severity "error" means it must not be published."""
    findings: list[ReviewFinding] = []
    paths = {file.path for file in files.files}
    for required in REQUIRED_FILES:
        if required not in paths:
            findings.append(ReviewFinding(severity="error", file=required, message=f'required file "{required}" is missing'))
    seen: set[str] = set()
    for file in files.files:
        if file.path in seen:
            findings.append(ReviewFinding(severity="error", file=file.path, message="duplicate file path"))
            continue
        seen.add(file.path)
        if file.path.endswith((".html", ".htm")):
            audit = audit_page(file.body)
            findings += [ReviewFinding(severity=s, file=file.path, message=m) for s, m in audit.problems]
            findings += reference_findings(file.path, audit.references, audit.ids, paths)
        elif file.path == "sitemap.xml":
            findings += sitemap_findings(file, paths)
        elif file.path == "robots.txt":
            findings += robots_findings(file)
    return findings
