"""Requests for every answer schema, and provider clients pointed at a model simulator."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from chalicelib.ai import template
from chalicelib.ai.base import AIRequest
from chalicelib.ai.registry import build_provider
from chalicelib.domain.phases import TASK_OF, Phase
from chalicelib.phases.outputs import (
    Brief,
    Content,
    PageCopy,
    PageMarkup,
    Review,
    Sitemap,
    Stylesheet,
    as_model,
)
from tests.ai.helpers import ORDER, Store, config

PROVIDERS = ("openai", "openai_compatible", "anthropic", "cloudflare")
MODELS = {
    "openai": "gpt-4o-mini",
    "openai_compatible": "sim-fast",
    "anthropic": "claude-3-5-haiku-latest",
    "cloudflare": "@cf/meta/llama-3.1-8b-instruct",
}
B = as_model(Brief, template.answer("Brief", ORDER, {}))
S = as_model(Sitemap, template.answer("Sitemap", ORDER, {"brief": B}))
C = as_model(Content, template.answer("Content", ORDER, {"brief": B, "sitemap": S}))
F = template.answer("SiteFiles", ORDER, {"brief": B, "sitemap": S, "content": C})
PAGE = S.pages[1].slug  # not the home page: any page works
SCHEMAS: dict[str, tuple[Phase, type[BaseModel], dict[str, BaseModel], str | None]] = {
    "Brief": (Phase.BRIEF, Brief, {}, None),
    "Sitemap": (Phase.SITEMAP, Sitemap, {"brief": B}, None),
    "PageCopy": (Phase.CONTENT, PageCopy, {"brief": B, "sitemap": S}, PAGE),
    "PageMarkup": (Phase.CODE, PageMarkup, {"brief": B, "sitemap": S, "content": C}, PAGE),
    "Stylesheet": (Phase.CODE, Stylesheet, {"brief": B, "sitemap": S, "content": C}, "styles"),
    "Review": (Phase.REVIEW, Review, {"brief": B, "sitemap": S, "content": C, "code": F}, None),
}


def request(schema: str, **kw: Any) -> AIRequest:
    phase, cls, inputs, part = SCHEMAS[schema]
    task = TASK_OF[phase]
    assert task is not None
    return AIRequest(phase, task, ORDER, inputs, cls, part=part, **kw)


def expected(schema: str) -> BaseModel:
    """What the template itself answers for that request."""
    _, _, inputs, part = SCHEMAS[schema]
    return template.answer(schema, ORDER, inputs, part)


def client(provider: str, sim_url: str, key: str = "sim-key-0123456789", **params: Any) -> Any:
    base = sim_url + "/v1" if provider.startswith("openai") else sim_url
    cfg = config(
        provider,
        base,
        model=MODELS[provider],
        account_id="acc-sim" if provider == "cloudflare" else None,
        params={"timeout_s": 5, **params},
    )
    return build_provider(cfg, lambda: Store(key))
