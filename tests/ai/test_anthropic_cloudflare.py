"""Anthropic Messages and Cloudflare Workers AI against loopback servers speaking their wire formats."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.ai.base import Provider
from chalicelib.ai.chat import ChatProvider
from chalicelib.ai.registry import build_provider
from chalicelib.domain.errors import PermanentError, RetryableError
from chalicelib.phases.outputs import Brief
from tests.ai.conftest import FakeProvider, Scripted
from tests.ai.helpers import (
    ANTHROPIC_KEY,
    CLOUDFLARE_KEY,
    INVALID_BRIEF,
    VALID_BRIEF,
    Store,
    anthropic_reply,
    brief_request,
    cloudflare_reply,
    config,
)

CF_MODEL = "@cf/meta/llama-3.1-8b-instruct"


def anthropic(fake: FakeProvider, **kw: Any) -> Provider:
    cfg = config("anthropic", fake.url, model="claude-3-5-haiku-latest", **kw)
    return build_provider(cfg, lambda: Store(ANTHROPIC_KEY))


def cloudflare(fake: FakeProvider, **kw: Any) -> Provider:
    cfg = config("cloudflare", fake.url, model=CF_MODEL, account_id="acc0123", **kw)
    return build_provider(cfg, lambda: Store(CLOUDFLARE_KEY))


# --- Anthropic -----------------------------------------------------------------------------------
def test_anthropic_request_shape_and_usage(fake: FakeProvider) -> None:
    fake.reply(Scripted(body=anthropic_reply(VALID_BRIEF, usage=(800, 300))))
    result = anthropic(fake, params={"temperature": 1.5, "max_tokens": 3000}).generate(brief_request())

    [request] = fake.requests
    assert request.path == "/v1/messages"
    assert (
        request.headers["x-api-key"] == ANTHROPIC_KEY and request.headers["anthropic-version"] == "2023-06-01"
    )
    assert "authorization" not in request.headers
    body = request.json
    assert body["model"] == "claude-3-5-haiku-latest" and body["max_tokens"] == 3000
    assert body["temperature"] == 1.0  # clamped to Anthropic's 0..1
    assert '"key_messages"' in body["system"] and [m["role"] for m in body["messages"]] == ["user"]
    [tool] = body["tools"]
    assert tool["input_schema"]["type"] == "object" and "key_messages" in tool["input_schema"]["properties"]
    assert body["tool_choice"] == {"type": "tool", "name": tool["name"]}

    assert result.output == Brief(**VALID_BRIEF)
    usage = result.usage
    assert (usage["provider"], usage["tokens_in"], usage["tokens_out"]) == ("anthropic", 800, 300)
    assert usage["cost_usd"] == pytest.approx((800 * 0.80 + 300 * 4.00) / 1e6)


def test_anthropic_repair_answers_the_tool_call_with_an_error(fake: FakeProvider) -> None:
    fake.reply(Scripted(body=anthropic_reply(INVALID_BRIEF)), Scripted(body=anthropic_reply(VALID_BRIEF)))
    result = anthropic(fake).generate(brief_request())
    assert result.output == Brief(**VALID_BRIEF) and result.usage["calls"] == 2
    messages = fake.requests[1].json["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"][0]["type"] == "tool_use"
    [tool_result] = messages[2]["content"]
    assert tool_result["type"] == "tool_result" and tool_result["tool_use_id"] == "toolu_01"
    assert tool_result["is_error"] is True and "audience" in tool_result["content"]


def test_anthropic_text_answer_is_parsed(fake: FakeProvider) -> None:
    fake.reply(Scripted(body=anthropic_reply(text="Here it is: " + json.dumps(VALID_BRIEF), stop="end_turn")))
    assert anthropic(fake).generate(brief_request()).output == Brief(**VALID_BRIEF)


def test_anthropic_overloaded_529_is_retryable(fake: FakeProvider, official_host: None) -> None:
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    fake.reply(Scripted(529, body, {"retry-after": "3"}))
    with pytest.raises(RetryableError) as info:
        anthropic(fake).generate(brief_request())
    assert "overloaded (HTTP 529): Overloaded" in info.value.reason and info.value.retry_after == 3


def test_anthropic_bad_key_is_permanent_and_redacted(fake: FakeProvider) -> None:
    body = {
        "type": "error",
        "error": {"type": "authentication_error", "message": f"invalid x-api-key {ANTHROPIC_KEY}"},
    }
    fake.reply(Scripted(401, body))
    with pytest.raises(PermanentError) as info:
        anthropic(fake).generate(brief_request())
    assert (
        "rejected the credentials (HTTP 401)" in info.value.reason and ANTHROPIC_KEY not in info.value.reason
    )


def test_anthropic_max_tokens_stop_is_permanent(fake: FakeProvider) -> None:
    fake.reply(Scripted(body=anthropic_reply({"business_name": "x"}, stop="max_tokens")))
    with pytest.raises(PermanentError, match=r"cut off at max_tokens=4096 \(stop_reason 'max_tokens'\)"):
        anthropic(fake).generate(brief_request())


def test_anthropic_refusal_is_permanent(fake: FakeProvider) -> None:
    fake.reply(Scripted(body=anthropic_reply(text="I can't", stop="refusal")))
    with pytest.raises(PermanentError, match="refused"):
        anthropic(fake).generate(brief_request())


# --- Cloudflare ----------------------------------------------------------------------------------
def test_cloudflare_request_shape_and_object_response(fake: FakeProvider) -> None:
    fake.reply(Scripted(body=cloudflare_reply(VALID_BRIEF, usage=(600, 200))))
    result = cloudflare(fake, params={"temperature": 0.2}).generate(brief_request())

    [request] = fake.requests
    assert request.path == f"/client/v4/accounts/acc0123/ai/run/{CF_MODEL}"
    assert request.headers["authorization"] == f"Bearer {CLOUDFLARE_KEY}"
    body = request.json
    assert "model" not in body and body["temperature"] == 0.2 and body["max_tokens"] == 4096
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["type"] == "object"
    assert set(fmt["json_schema"]["required"]) == set(Brief.model_fields)

    assert result.output == Brief(**VALID_BRIEF)
    assert (result.usage["provider"], result.usage["tokens_in"], result.usage["tokens_out"]) == (
        "cloudflare",
        600,
        200,
    )
    assert result.usage["cost_usd"] == pytest.approx((600 * 0.28 + 200 * 0.83) / 1e6)


def test_cloudflare_string_response_and_repair(fake: FakeProvider) -> None:
    fake.reply(
        Scripted(body=cloudflare_reply(json.dumps(INVALID_BRIEF))),
        Scripted(body=cloudflare_reply(json.dumps(VALID_BRIEF))),
    )
    assert cloudflare(fake).generate(brief_request()).output == Brief(**VALID_BRIEF)
    repair = fake.requests[1].json["messages"]
    assert (
        repair[2] == {"role": "assistant", "content": json.dumps(INVALID_BRIEF)}
        and "tone" in repair[3]["content"]
    )


def test_cloudflare_default_base_url_is_the_public_api() -> None:
    cfg = config("cloudflare", None, model=CF_MODEL, account_id="abc")
    provider = build_provider(cfg, lambda: Store(CLOUDFLARE_KEY))
    assert isinstance(provider, ChatProvider)
    assert provider.url == f"https://api.cloudflare.com/client/v4/accounts/abc/ai/run/{CF_MODEL}"


def test_cloudflare_errors_list_is_reported(fake: FakeProvider, official_host: None) -> None:
    body = {
        "result": None,
        "success": False,
        "errors": [{"code": 5007, "message": "No such model"}],
        "messages": [],
    }
    fake.reply(Scripted(400, body))
    with pytest.raises(PermanentError, match="HTTP 400.*No such model"):
        cloudflare(fake).generate(brief_request())


def test_cloudflare_success_false_on_200_is_retryable(fake: FakeProvider, official_host: None) -> None:
    body = {
        "result": None,
        "success": False,
        "errors": [{"code": 3040, "message": "Capacity temporarily exceeded"}],
    }
    fake.reply(Scripted(200, body))
    with pytest.raises(RetryableError, match="Capacity temporarily exceeded"):
        cloudflare(fake).generate(brief_request())


def test_cloudflare_rate_limit_is_retryable(fake: FakeProvider) -> None:
    fake.reply(
        Scripted(
            429,
            {"success": False, "errors": [{"code": 3036, "message": "rate limited"}]},
            {"Retry-After": "12"},
        )
    )
    with pytest.raises(RetryableError) as info:
        cloudflare(fake).generate(brief_request())
    assert info.value.retry_after == 12
