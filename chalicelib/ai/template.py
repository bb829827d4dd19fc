"""The offline `template` provider: deterministic, no network, a real site from the order."""
from __future__ import annotations

import time
from typing import Any, cast

from chalicelib.ai.base import AIRequest, AIResult, ResolvedConfig
from chalicelib.domain.errors import PermanentError
from chalicelib.domain.phases import Phase
from chalicelib.phases.schemas import Brief, Content, SiteFiles, Sitemap
from chalicelib.website import template_provider as tp


class TemplateProvider:
    def __init__(self, config: ResolvedConfig) -> None:
        self._config = config

    def generate(self, request: AIRequest) -> AIResult:
        started = time.perf_counter()
        inputs: dict[str, Any] = request.inputs
        order = request.order
        if request.phase is Phase.BRIEF:
            output: Any = tp.make_brief(order)
        elif request.phase is Phase.SITEMAP:
            output = tp.make_sitemap(order, cast(Brief, inputs["brief"]))
        elif request.phase is Phase.CONTENT:
            output = tp.make_content(order, inputs["brief"], cast(Sitemap, inputs["sitemap"]))
        elif request.phase is Phase.CODE:
            output = tp.make_site(order, inputs["brief"], inputs["sitemap"], cast(Content, inputs["content"]))
        elif request.phase is Phase.REVIEW:
            output = tp.make_review_notes(order, cast(SiteFiles, inputs["code"]))
        else:
            raise PermanentError(f"the template provider has no step for phase {request.phase}")
        usage = {
            "provider": "template", "model": self._config.model, "config_id": str(self._config.id),
            "tokens_in": 0, "tokens_out": 0, "cost_usd": 0.0,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        }
        return AIResult(output=request.schema.model_validate(output.model_dump()), usage=usage)
