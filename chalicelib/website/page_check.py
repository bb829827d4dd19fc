"""The review's checks for one page, as the code part that wrote it runs them before the site exists."""
from __future__ import annotations

from chalicelib.phases.schemas import ReviewFinding, SiteFile
from chalicelib.website.checks import reference_findings
from chalicelib.website.html_audit import audit_page

SITE_FILES = ("styles.css", "favicon.svg", "sitemap.xml", "robots.txt")  # what sitegen adds to the pages


def page_findings(file: SiteFile, paths: set[str]) -> list[ReviewFinding]:
    """The HTML audit and the internal references of one page, against the site's planned paths."""
    audit = audit_page(file.body)
    findings = [ReviewFinding(severity=s, file=file.path, message=m) for s, m in audit.problems]
    return findings + reference_findings(file.path, audit.references, audit.ids, paths)
