"""What one part of a per-page phase does: a page's copy, a page's markup (reviewed, repaired up to
MAX_REPAIR_ROUNDS times by the coding route), or the stylesheet; and how the parts join into the
phase's output. Like steps.py: no database; may call the AI provider and write progress lines."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from chalicelib.ai.base import AIRequest, Provider
from chalicelib.domain.errors import PermanentError, RetryableError
from chalicelib.domain.order import OrderData
from chalicelib.domain.phases import TASK_OF, Phase
from chalicelib.phases.outputs import (
    STYLES_PART,
    Brief,
    Content,
    M,
    PageCopy,
    PageMarkup,
    SiteFile,
    SiteFiles,
    Sitemap,
    Stylesheet,
    as_model,
)
from chalicelib.services.progress import ProgressLog
from chalicelib.website.page_check import SITE_FILES, page_findings
from chalicelib.website.render import HTML, assemble_site, page_html, page_paths, site_of

MAX_REPAIR_ROUNDS = 2
PARTED: tuple[Phase, ...] = (Phase.CONTENT, Phase.CODE)
USAGE_SUMS = ("tokens_in", "tokens_out", "latency_ms", "calls")


def slugs_of(sitemap: Sitemap) -> list[str]:
    """The sitemap's pages, once each, in its order."""
    seen: list[str] = []
    for page in sitemap.pages:
        if page.slug not in seen:
            seen.append(page.slug)
    return seen


def parts_of(phase: Phase, outputs: dict[str, BaseModel]) -> list[str]:
    """The parts a phase runs: one per page, and the stylesheet first for code (the longest answer)."""
    slugs = slugs_of(as_model(Sitemap, outputs["sitemap"]))
    return [STYLES_PART, *slugs] if phase is Phase.CODE else slugs


def add_usage(total: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    """Two calls' (or parts') usage as one: counts add up; cost stays unknown if either's is."""
    if not total:
        return dict(more)
    if not more:
        return total
    out = {**total, **{k: v for k, v in more.items() if k not in USAGE_SUMS and k != "cost_usd"}}
    for key in USAGE_SUMS:
        if key in total or key in more:
            out[key] = round((total.get(key) or 0) + (more.get(key) or 0), 2)
    costs = [total.get("cost_usd"), more.get("cost_usd")]
    out["cost_usd"] = None if None in costs else round(sum(c for c in costs if c is not None), 6)
    return out


@dataclass
class PartContext:
    generation_id: str
    phase: Phase
    part: str
    order: OrderData
    outputs: dict[str, BaseModel]
    provider: Provider
    log: ProgressLog
    deadline: float  # time.monotonic() by which the invocation must be done with the AI
    instructions: str | None = None  # the customer's wishes, for a regenerated page only
    # a code part the review sent back: the review's findings and the part's last answer
    sent_back: tuple[tuple[str, ...], dict[str, Any]] | None = None

    def first_answer(self, schema: type[M]) -> tuple[M, dict[str, Any]]:
        """The part's first call: a fresh answer, or (sent back by the review) the last answer fixed."""
        if self.sent_back is None:
            return self.ask(schema)
        findings, previous = self.sent_back
        self.say(f"Rewriting {self.part} with the review's {len(findings)} finding(s)")
        return self.ask(schema, findings=findings, previous=schema.model_validate(previous))

    def say(self, message: str, level: str = "info") -> None:
        self.log.info(message, phase=self.phase.value, level=level, part=self.part)

    def ask(
        self, schema: type[M], findings: tuple[str, ...] = (), previous: BaseModel | None = None
    ) -> tuple[M, dict[str, Any]]:
        task = TASK_OF[self.phase]
        assert task is not None
        result = self.provider.generate(
            AIRequest(
                phase=self.phase,
                task=task,
                order=self.order,
                inputs=self.outputs,
                schema=schema,
                part=self.part,
                findings=findings,
                previous=previous,
                instructions=self.instructions,
            )
        )
        return as_model(schema, result.output), result.usage


def page_copy(ctx: PartContext) -> tuple[BaseModel, dict[str, Any]]:
    ctx.say(f"Writing the copy of page {ctx.part}")
    copy, usage = ctx.ask(PageCopy)
    copy = copy.model_copy(update={"page": copy.page.model_copy(update={"slug": ctx.part})})  # safe: ours
    ctx.say(f"Wrote page {ctx.part}: \u201c{copy.page.title}\u201d, {len(copy.page.sections)} sections")
    return copy, usage


def stylesheet(ctx: PartContext) -> tuple[BaseModel, dict[str, Any]]:
    ctx.say("Writing styles.css")
    css, usage = ctx.first_answer(Stylesheet)
    ctx.say(f"Wrote styles.css ({len(css.css.encode()) / 1024:.1f} KiB)")
    return css, usage


def page_markup(ctx: PartContext) -> tuple[BaseModel, dict[str, Any]]:
    """The page's <main>, wrapped in the shared shell and checked like the review checks it. Errors go
    back to the model with the findings, at most MAX_REPAIR_ROUNDS times; then the part fails for good,
    naming the page and what is still wrong."""
    brief = as_model(Brief, ctx.outputs["brief"])
    sitemap = as_model(Sitemap, ctx.outputs["sitemap"])
    content = as_model(Content, ctx.outputs["content"])
    site = site_of(ctx.order, brief, sitemap, content)
    page, path = next((p, path) for p, path in page_paths(content.pages) if p.slug == ctx.part)
    paths = {p for _, p in page_paths(content.pages)} | set(SITE_FILES)
    ctx.say(f"Building page {path}")
    started = time.monotonic()
    output, usage = ctx.first_answer(PageMarkup)
    for round_no in range(MAX_REPAIR_ROUNDS + 1):
        markup = output.model_copy(update={"slug": ctx.part})
        body = page_html(site, page, path, markup.main_html)
        errors = [
            f.message
            for f in page_findings(SiteFile(path=path, content_type=HTML, body=body), paths)
            if f.severity == "error"
        ]
        if not errors:
            done = f" after {round_no} review round(s)" if round_no else ""
            ctx.say(f"Built page {path} ({len(body.encode()) / 1024:.1f} KiB){done}")
            return markup, {**usage, "repairs": round_no}
        shown = "; ".join(errors[:5]) + (f" (and {len(errors) - 5} more)" if len(errors) > 5 else "")
        if round_no == MAX_REPAIR_ROUNDS:
            raise PermanentError(
                f"page {path} still has {len(errors)} review error(s) after "
                f"{MAX_REPAIR_ROUNDS} repair rounds: {shown}"
            )
        ctx.say(
            f"Review of page {path}, round {round_no + 1} of {MAX_REPAIR_ROUNDS}: {len(errors)} error(s): "
            f"{shown}; sending the page back to the coding model",
            level="warning",
        )
        last_call = time.monotonic() - started
        if time.monotonic() + 1.5 * last_call > ctx.deadline:
            raise RetryableError(
                f"no time left in this invocation for repair round {round_no + 1} of page {path}"
            )
        started = time.monotonic()
        output, more = ctx.ask(PageMarkup, findings=tuple(errors[:20]), previous=markup)
        usage = add_usage(usage, more)
    raise AssertionError("unreachable")


def run_part(ctx: PartContext) -> tuple[BaseModel, dict[str, Any]]:
    if ctx.phase is Phase.CONTENT:
        return page_copy(ctx)
    return stylesheet(ctx) if ctx.part == STYLES_PART else page_markup(ctx)


PART_SCHEMA: dict[Phase, type[BaseModel]] = {Phase.CONTENT: PageCopy, Phase.CODE: PageMarkup}


def part_schema(phase: Phase, part: str) -> type[BaseModel]:
    return Stylesheet if phase is Phase.CODE and part == STYLES_PART else PART_SCHEMA[phase]


def join_parts(
    phase: Phase,
    order: OrderData,
    outputs: dict[str, BaseModel],
    parts: dict[str, dict[str, Any]],
    *,
    base_url: str | None = None,
    asset_version: str | None = None,
) -> BaseModel:
    """The phase's output from its parts' (stored as JSON): Content, or the whole site's files, made for
    the order's live address ``base_url`` (sitemap.xml, robots.txt and og:url absolute)."""
    slugs = slugs_of(as_model(Sitemap, outputs["sitemap"]))
    if phase is Phase.CONTENT:
        copies = [PageCopy.model_validate(parts[slug]) for slug in slugs]
        return Content(pages=[c.page for c in copies], call_to_action=copies[0].call_to_action)
    mains = {slug: PageMarkup.model_validate(parts[slug]).main_html for slug in slugs}
    css = Stylesheet.model_validate(parts[STYLES_PART]).css
    return assemble_site(
        order,
        as_model(Brief, outputs["brief"]),
        as_model(Sitemap, outputs["sitemap"]),
        as_model(Content, outputs["content"]),
        mains,
        css,
        base_url=base_url,
        asset_version=asset_version,
    )


__all__ = [
    "PARTED",
    "PartContext",
    "add_usage",
    "join_parts",
    "part_schema",
    "parts_of",
    "run_part",
    "SiteFiles",
]
