"""The offline `template` provider: deterministic, no network, a real site from the order.

`answer` is the template's one entry point: given what a request asks for (its schema's name, the
order, the earlier outputs, the part), the answer. The provider calls it; so does the model simulator
(infra/model_sim.py), from the data block of a prompt, through `answer_data`.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel

from chalicelib.ai.base import AIRequest, AIResult, ResolvedConfig
from chalicelib.domain.errors import PermanentError
from chalicelib.domain.order import OrderData
from chalicelib.phases.outputs import Brief, Content, SiteFiles, Sitemap
from chalicelib.website import template_provider as tp

INPUT_SCHEMAS: dict[str, type[BaseModel]] = {
    "brief": Brief,
    "sitemap": Sitemap,
    "content": Content,
    "code": SiteFiles,
}


def answer(schema: str, order: OrderData, inputs: dict[str, Any], part: str | None = None) -> BaseModel:
    """What the template writes for a request. Raises ValueError for a request it cannot answer."""
    if schema == "Brief":
        return tp.make_brief(order)
    if schema == "Sitemap":
        return tp.make_sitemap(order, inputs["brief"])
    if schema == "Content":
        return tp.make_content(order, inputs["brief"], inputs["sitemap"])
    if schema == "PageCopy":
        return tp.make_page_copy(order, inputs["brief"], inputs["sitemap"], part or "")
    if schema == "PageMarkup":
        return tp.make_page_markup(order, inputs["brief"], inputs["sitemap"], inputs["content"], part or "")
    if schema == "Stylesheet":
        return tp.make_stylesheet(order)
    if schema == "SiteFiles":
        return tp.make_site(order, inputs["brief"], inputs["sitemap"], inputs["content"])
    if schema == "Review":
        return tp.make_review_notes(order, inputs["code"])
    if schema == "Ping":
        from chalicelib.ai.prompts import Ping

        return Ping(ok=True)
    raise ValueError(f"the template has no answer for schema {schema!r}")


def answer_data(data: dict[str, Any]) -> dict[str, Any]:
    """`answer` from a prompt's data block (chalicelib.ai.prompts.request_data), as JSON-ready data."""
    order = OrderData.model_validate({"id": "-", **data["order"]})
    inputs = {
        name: INPUT_SCHEMAS[name].model_validate(value)
        for name, value in (data.get("inputs") or {}).items()
        if name in INPUT_SCHEMAS
    }
    return answer(str(data["answer_schema"]), order, inputs, data.get("part")).model_dump(mode="json")


class TemplateProvider:
    def __init__(self, config: ResolvedConfig) -> None:
        self._config = config

    def generate(self, request: AIRequest) -> AIResult:
        started = time.perf_counter()
        try:
            output = answer(request.schema.__name__, request.order, request.inputs, request.part)
        except (KeyError, ValueError) as exc:
            raise PermanentError(
                f"the template provider cannot answer {request.schema.__name__} "
                f"for phase {request.phase}: {exc}"
            ) from None
        usage = {
            "provider": "template",
            "model": self._config.model,
            "config_id": str(self._config.id),
            "tokens_in": 0,
            "tokens_out": 0,
            "cost_usd": 0.0,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        }
        return AIResult(output=request.schema.model_validate(output.model_dump()), usage=usage)
