"""Shared data for the AI tests: configs, requests, wire-format replies."""

from __future__ import annotations

import json
import uuid
from typing import Any

from chalicelib.ai.base import AIRequest, ResolvedConfig
from chalicelib.domain.order import OrderData
from chalicelib.domain.phases import Phase, TaskType
from chalicelib.phases.outputs import Brief, Sitemap

OPENAI_KEY = "sk-test-OPENAI-0123456789abcdefWXYZ"
ANTHROPIC_KEY = "sk-ant-test-ANTHROPIC-9876543210qrst"
CLOUDFLARE_KEY = "cf-test-TOKEN-abcdefghijklmnop4321"
ORDER = OrderData(
    id="order-1",
    business_name="Padaria Pão Quente",
    segment="padaria",
    description="Pães artesanais no centro",
    services=["pães", "bolos"],
    locale="pt-BR",
)
VALID_BRIEF = {
    "business_name": "Padaria Pão Quente",
    "tagline": "Pão quente toda manhã",
    "audience": "Moradores do centro",
    "tone": "acolhedor",
    "key_messages": ["artesanal"],
    "locale": "pt-BR",
}
INVALID_BRIEF = {"business_name": "Padaria Pão Quente", "tagline": "x"}  # missing 4 required fields


class Store:
    """The secret store as build_provider sees it; counts reads."""

    def __init__(self, key: str) -> None:
        self.key, self.reads = key, 0

    def get(self, ref: str) -> str:
        self.reads += 1
        return self.key


def config(provider: str, base_url: str | None, model: str = "gpt-4o-mini", **kw: Any) -> ResolvedConfig:
    params = kw.pop("params", {"timeout_s": 5})
    return ResolvedConfig(
        uuid.uuid4(),
        kw.pop("name", f"Test {provider}"),
        provider,
        model,
        base_url,
        kw.pop("account_id", None),
        kw.pop("secret_ref", "sitegen/ai/test"),
        params,
    )


def brief_request(order: OrderData = ORDER) -> AIRequest:
    return AIRequest(Phase.BRIEF, TaskType.PLANNING, order, {}, Brief)


def sitemap_request() -> AIRequest:
    return AIRequest(Phase.SITEMAP, TaskType.PLANNING, ORDER, {"brief": Brief(**VALID_BRIEF)}, Sitemap)


def openai_reply(
    content: Any, finish: str = "stop", refusal: str | None = None, usage: tuple[int, int] = (1000, 500)
) -> dict[str, Any]:
    text = content if isinstance(content, str) or content is None else json.dumps(content)
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "finish_reason": finish,
                "message": {"role": "assistant", "content": text, "refusal": refusal},
            }
        ],
        "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)},
    }


def anthropic_reply(
    tool_input: Any = None,
    text: str | None = None,
    stop: str = "tool_use",
    usage: tuple[int, int] = (800, 300),
) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if text is not None:
        content.append({"type": "text", "text": text})
    if tool_input is not None:
        content.append({"type": "tool_use", "id": "toolu_01", "name": "submit_answer", "input": tool_input})
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-3-5-haiku-latest",
        "content": content,
        "stop_reason": stop,
        "usage": {"input_tokens": usage[0], "output_tokens": usage[1]},
    }


def cloudflare_reply(response: Any, usage: tuple[int, int] = (600, 200)) -> dict[str, Any]:
    return {
        "result": {
            "response": response,
            "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)},
        },
        "success": True,
        "errors": [],
        "messages": [],
    }
