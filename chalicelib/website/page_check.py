"""The review's checks for one page, as the code part that wrote it runs them before the site exists."""

from __future__ import annotations

from chalicelib.phases.outputs import ReviewFinding, SiteFile
from chalicelib.website.checks import check_file

SITE_FILES = ("styles.css", "favicon.svg", "sitemap.xml", "robots.txt")  # what sitegen adds to the pages


def page_findings(file: SiteFile, paths: set[str]) -> list[ReviewFinding]:
    """The review gate (allowlist, HTML audit, internal references) on one page, against the site's
    planned paths: the same check the review phase runs on every file."""
    return check_file(file, paths)
