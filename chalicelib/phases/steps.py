"""What each phase does, given the order and the earlier phases' validated outputs.

A step returns (output, usage). Steps never touch the database; they may call the AI provider,
write progress lines, and (publish only) write to the site store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from chalicelib.ai.base import AIRequest, Provider
from chalicelib.domain.order import OrderData
from chalicelib.domain.phases import TASK_OF, Phase
from chalicelib.domain.review import Finding, decide
from chalicelib.phases.outputs import (
    STYLES_PART,
    Brief,
    Content,
    Publication,
    Review,
    SiteFiles,
    Sitemap,
    as_model,
)
from chalicelib.ports import SiteStore
from chalicelib.services.progress import ProgressLog

OUTPUT_OF: dict[Phase, type[BaseModel]] = {
    Phase.BRIEF: Brief,
    Phase.SITEMAP: Sitemap,
    Phase.CONTENT: Content,
    Phase.CODE: SiteFiles,
    Phase.REVIEW: Review,
    Phase.PUBLISH: Publication,
}


@dataclass
class PhaseContext:
    generation_id: str
    phase: Phase
    order: OrderData
    outputs: dict[str, BaseModel]
    provider: Provider | None
    sites: SiteStore
    log: ProgressLog
    review_round: int = 0  # review only: rounds of pages already sent back to the coding route

    def say(self, message: str) -> None:
        self.log.info(message, phase=self.phase.value)

    def ask_ai(self) -> tuple[BaseModel, dict[str, Any]]:
        task = TASK_OF[self.phase]
        assert self.provider is not None and task is not None
        result = self.provider.generate(
            AIRequest(
                phase=self.phase,
                task=task,
                order=self.order,
                inputs=self.outputs,
                schema=OUTPUT_OF[self.phase],
            )
        )
        return result.output, result.usage


Step = Callable[[PhaseContext], tuple[BaseModel, dict[str, Any]]]


def brief(ctx: PhaseContext) -> tuple[BaseModel, dict[str, Any]]:
    ctx.say(f"Writing the brief for {ctx.order.business_name} ({ctx.order.segment}, {ctx.order.locale})")
    output, usage = ctx.ask_ai()
    ctx.say(f"Brief ready: \u201c{as_model(Brief, output).tagline}\u201d")
    return output, usage


def sitemap(ctx: PhaseContext) -> tuple[BaseModel, dict[str, Any]]:
    ctx.say("Planning the pages")
    output, usage = ctx.ask_ai()
    planned = as_model(Sitemap, output).pages
    ctx.say(f"Planned {len(planned)} pages: {', '.join(p.slug for p in planned)}")
    return output, usage


def review(ctx: PhaseContext) -> tuple[BaseModel, dict[str, Any]]:
    """The gate's checks and the AI reviewer's notes. Errors in a page or styles.css send those parts
    back to the coding route (chalicelib/domain/review.py); any other error fails the review."""
    from chalicelib.website.checks import check_site

    files = as_model(SiteFiles, ctx.outputs["code"])
    again = f" (after {ctx.review_round} round(s) back at the coding model)" if ctx.review_round else ""
    ctx.say(f"Checking {len(files.files)} files: HTML, links, meta, accessibility, scripts{again}")
    findings = check_site(files)
    notes, usage = ctx.ask_ai()
    findings += [f for f in as_model(Review, notes).findings if f not in findings]
    errors = [f for f in findings if f.severity == "error"]
    for finding in findings:
        ctx.log.info(
            f"{finding.file}: {finding.message}",
            phase=ctx.phase.value,
            level="error" if finding.severity == "error" else "warning",
        )
    if errors:
        back = decide([Finding(f.file, f.message) for f in errors], code_parts_by_file(ctx), ctx.review_round)
        back.usage = usage
        raise back
    ctx.say(f"Review passed: {len(files.files)} files, {len(findings)} warning(s){again}")
    return Review(passed=True, checked_files=len(files.files), findings=findings[:500]), usage


def code_parts_by_file(ctx: PhaseContext) -> dict[str, str]:
    """The files code parts wrote, and the part that wrote each: a page's file, and styles.css."""
    from chalicelib.website.render import page_paths

    content = as_model(Content, ctx.outputs["content"])
    return {path: page.slug for page, path in page_paths(content.pages)} | {STYLES_PART: STYLES_PART}


def publish(ctx: PhaseContext) -> tuple[BaseModel, dict[str, Any]]:
    files = as_model(SiteFiles, ctx.outputs["code"])
    prefix = f"sites/{ctx.generation_id}"
    from chalicelib.website.files import (
        content_type_for,
    )  # the type comes from the extension, never the model

    url = ctx.sites.publish(
        prefix,
        [
            (f.path, content_type_for(f.path) or "application/octet-stream", f.body.encode())
            for f in files.files
        ],
    )
    ctx.say(f"Wrote {len(files.files)} files of this version: {url}")
    pages = [f.path for f in files.files if f.path.endswith(".html")]
    return Publication(site_url=url, prefix=prefix, files=len(files.files), pages=pages), {}


# content and code run one part per page: chalicelib/phases/part_steps.py
STEPS: dict[Phase, Step] = {
    Phase.BRIEF: brief,
    Phase.SITEMAP: sitemap,
    Phase.REVIEW: review,
    Phase.PUBLISH: publish,
}
