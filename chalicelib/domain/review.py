"""What the review does with errors in model-written files: send those pages back to the coding route.

A review that finds errors only in files a code part wrote (a page, styles.css) sends those parts back,
each with its own findings, for at most MAX_REVIEW_ROUNDS rounds a generation. Errors anywhere else
(sitemap.xml, robots.txt: sitegen's own files), or still there after the last round, fail the review
for good, naming the files and their findings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import PermanentError

MAX_REVIEW_ROUNDS = 2
SHOWN = 5  # findings quoted in a reason
FINDINGS_PER_PART = 20  # findings sent back with one part


@dataclass(frozen=True)
class Finding:
    file: str
    message: str


class SendBack(Exception):
    """The review's answer when pages go back to the coding route: `pages` maps a code part (a page's
    slug, or styles.css) to its findings; `round` is the round this starts (1 or 2)."""

    def __init__(self, round_no: int, pages: dict[str, tuple[str, ...]], files: dict[str, str]) -> None:
        self.round = round_no
        self.pages = pages
        self.files = files  # part -> the file it wrote, for the lines
        self.usage: dict[str, Any] = {}  # what the review's own call used
        super().__init__(f"review round {round_no}: sending {', '.join(files.values())} back")


def summary(errors: Sequence[Finding]) -> str:
    shown = "; ".join(f"{f.file}: {f.message}" for f in errors[:SHOWN])
    return shown + (f" (and {len(errors) - SHOWN} more)" if len(errors) > SHOWN else "")


def decide(errors: Sequence[Finding], part_of_file: Mapping[str, str], rounds_done: int) -> SendBack:
    """Turn a review's errors into pages sent back, or raise PermanentError when that cannot help."""
    if not errors:
        raise ValueError("nothing to decide: the review found no error")
    foreign = [f for f in errors if f.file not in part_of_file]
    if foreign:
        raise PermanentError(f"review found {len(errors)} error(s): {summary(errors)}")
    if rounds_done >= MAX_REVIEW_ROUNDS:
        named = sorted({f.file for f in errors})
        raise PermanentError(
            f"review: {', '.join(named)} still had {len(errors)} error(s) after {rounds_done} "
            f"round(s) back at the coding model: {summary(errors)}"
        )
    pages: dict[str, list[str]] = {}
    files: dict[str, str] = {}
    for f in errors:
        part = part_of_file[f.file]
        pages.setdefault(part, [])
        files[part] = f.file
        if f.message not in pages[part] and len(pages[part]) < FINDINGS_PER_PART:
            pages[part].append(f.message)
    return SendBack(rounds_done + 1, {p: tuple(m) for p, m in pages.items()}, files)
