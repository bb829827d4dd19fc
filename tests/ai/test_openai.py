"""OpenAI and OpenAI-compatible providers against a loopback server speaking Chat Completions."""

from __future__ import annotations

import time
from email.utils import formatdate
from typing import Any

import pytest

from chalicelib.ai.chat import ChatProvider
from chalicelib.ai.prompts import PROMPT_VERSION
from chalicelib.ai.registry import build_provider
from chalicelib.domain.errors import PermanentError, RetryableError
from chalicelib.phases.outputs import Brief, Sitemap
from tests.ai.conftest import FakeProvider, Scripted
from tests.ai.helpers import (
    INVALID_BRIEF,
    OPENAI_KEY,
    VALID_BRIEF,
    Store,
    brief_request,
    config,
    openai_reply,
    sitemap_request,
)


def openai(fake: FakeProvider, **kw: Any) -> ChatProvider:
    provider = build_provider(config("openai", fake.url + "/v1", **kw), lambda: Store(OPENAI_KEY))
    assert isinstance(provider, ChatProvider)
    return provider


def test_request_shape_and_usage(fake: FakeProvider) -> None:
    fake.reply(Scripted(body=openai_reply(VALID_BRIEF, usage=(1000, 500))))
    provider = openai(fake, params={"temperature": 0.3, "max_tokens": 2000, "timeout_s": 5})
    result = provider.generate(brief_request())

    [request] = fake.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    body = request.json
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0.3 and body["max_completion_tokens"] == 2000
    system, user = body["messages"]
    assert system["role"] == "system" and '"key_messages"' in system["content"]
    assert "português do Brasil" in system["content"]
    assert (
        user["role"] == "user"
        and "Padaria Pão Quente" in user["content"]
        and "order-1" not in user["content"]
    )
    fmt = body["response_format"]
    assert (
        fmt["type"] == "json_schema"
        and fmt["json_schema"]["name"] == "Brief"
        and fmt["json_schema"]["strict"] is True
    )
    schema = fmt["json_schema"]["schema"]
    assert schema["additionalProperties"] is False and set(schema["required"]) == set(Brief.model_fields)

    assert result.output == Brief(**VALID_BRIEF)
    usage = result.usage
    assert (usage["provider"], usage["model"], usage["tokens_in"], usage["tokens_out"]) == (
        "openai",
        "gpt-4o-mini",
        1000,
        500,
    )
    assert usage["cost_usd"] == pytest.approx((1000 * 0.15 + 500 * 0.60) / 1e6)
    assert usage["config_id"] and usage["latency_ms"] > 0 and usage["prompt_version"] == PROMPT_VERSION


def test_earlier_outputs_are_sent_as_json(fake: FakeProvider) -> None:
    pages = [{"slug": s, "title": s, "nav_label": s, "purpose": "p"} for s in ("index", "sobre", "contato")]
    fake.reply(Scripted(body=openai_reply({"pages": pages})))
    result = openai(fake).generate(sitemap_request())
    user = fake.requests[0].json["messages"][1]["content"]
    assert '"tagline":"Pão quente toda manhã"' in user
    assert isinstance(result.output, Sitemap) and len(result.output.pages) == 3


def test_no_temperature_unless_configured(fake: FakeProvider) -> None:
    fake.reply(Scripted(body=openai_reply(VALID_BRIEF)))
    openai(fake).generate(brief_request())
    assert "temperature" not in fake.requests[0].json
    assert fake.requests[0].json["max_completion_tokens"] == 4096


def test_429_with_retry_after_seconds(fake: FakeProvider, official_host: None) -> None:
    fake.reply(Scripted(429, {"error": {"message": "Rate limit reached"}}, {"Retry-After": "7"}))
    with pytest.raises(RetryableError) as info:
        openai(fake).generate(brief_request())
    assert (
        info.value.retry_after == 7
        and "429" in info.value.reason
        and "Rate limit reached" in info.value.reason
    )


def test_429_with_retry_after_http_date(fake: FakeProvider) -> None:
    fake.reply(
        Scripted(
            429,
            {"error": {"message": "slow down"}},
            {"Retry-After": formatdate(time.time() + 30, usegmt=True)},
        )
    )
    with pytest.raises(RetryableError) as info:
        openai(fake).generate(brief_request())
    assert info.value.retry_after is not None and 25 <= info.value.retry_after <= 31


@pytest.mark.parametrize("status", [500, 502, 503, 529])
def test_server_errors_are_retryable(fake: FakeProvider, status: int) -> None:
    fake.reply(Scripted(status, {"error": {"message": "upstream trouble"}}))
    with pytest.raises(RetryableError) as info:
        openai(fake).generate(brief_request())
    assert f"HTTP {status}" in info.value.reason and len(fake.requests) == 1  # no hidden retry loop


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_permanent_and_redacted(
    fake: FakeProvider, status: int, official_host: None
) -> None:
    echo = f"Incorrect API key provided: {OPENAI_KEY}. Header was Bearer {OPENAI_KEY}"
    fake.reply(Scripted(status, {"error": {"message": echo}}))
    with pytest.raises(PermanentError) as info:
        openai(fake).generate(brief_request())
    assert f"HTTP {status}" in info.value.reason
    assert OPENAI_KEY not in info.value.reason and OPENAI_KEY[-12:] not in str(info.value)
    assert "Incorrect API key provided" in info.value.reason


def test_read_timeout_is_retryable_and_quick(fake: FakeProvider) -> None:
    fake.reply(Scripted(body=openai_reply(VALID_BRIEF), delay=2.0))
    started = time.monotonic()
    with pytest.raises(RetryableError) as info:
        openai(fake, params={"timeout_s": 0.2}).generate(brief_request())
    assert "read timeout" in info.value.reason and time.monotonic() - started < 1.5


def test_config_timeout_is_clamped_to_the_stage_provider_timeout(fake: FakeProvider) -> None:
    fake.reply(Scripted(body=openai_reply(VALID_BRIEF), delay=3.0))
    provider = build_provider(
        config("openai", fake.url, params={"timeout_s": 90}), lambda: Store(OPENAI_KEY), max_timeout_s=0.3
    )
    assert isinstance(provider, ChatProvider) and provider.timeout_s == 0.3
    with pytest.raises(RetryableError, match="read timeout"):
        provider.generate(brief_request())
    unclamped = build_provider(
        config("openai", fake.url, params={"timeout_s": 20}), lambda: Store(OPENAI_KEY), max_timeout_s=60
    )
    assert isinstance(unclamped, ChatProvider) and unclamped.timeout_s == 20


def test_connection_refused_is_retryable() -> None:
    server = FakeProvider()
    url = server.url
    server.stop()  # nothing listens there any more
    provider = build_provider(config("openai", url), lambda: Store(OPENAI_KEY))
    with pytest.raises(RetryableError, match="could not connect to 127.0.0.1:[0-9]+ \\(connection failed\\)"):
        provider.generate(brief_request())


def test_body_that_is_not_json_is_retryable(fake: FakeProvider) -> None:
    fake.reply(Scripted(200, "<html>gateway hiccup</html>", {"Content-Type": "text/html"}))
    with pytest.raises(RetryableError, match="not JSON"):
        openai(fake).generate(brief_request())


def test_schema_invalid_output_is_repaired_once(fake: FakeProvider) -> None:
    fake.reply(
        Scripted(body=openai_reply(INVALID_BRIEF, usage=(1000, 50))),
        Scripted(body=openai_reply(VALID_BRIEF, usage=(1200, 300))),
    )
    result = openai(fake).generate(brief_request())
    assert result.output == Brief(**VALID_BRIEF)
    assert len(fake.requests) == 2
    messages = fake.requests[1].json["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert '"tagline": "x"' in messages[2]["content"]
    repair = messages[3]["content"]
    assert "4 schema error(s)" in repair and "key_messages" in repair and "Field required" in repair
    assert (result.usage["tokens_in"], result.usage["tokens_out"], result.usage["calls"]) == (2200, 350, 2)


def test_malformed_json_output_is_repaired(fake: FakeProvider) -> None:
    fake.reply(
        Scripted(body=openai_reply('{"business_name": "Padaria",')), Scripted(body=openai_reply(VALID_BRIEF))
    )
    result = openai(fake).generate(brief_request())
    assert result.output == Brief(**VALID_BRIEF)
    assert "not valid JSON" in fake.requests[1].json["messages"][3]["content"]


def test_fenced_json_is_accepted_without_repair(fake: FakeProvider) -> None:
    import json

    fake.reply(Scripted(body=openai_reply("```json\n" + json.dumps(VALID_BRIEF) + "\n```")))
    assert openai(fake).generate(brief_request()).output == Brief(**VALID_BRIEF)
    assert len(fake.requests) == 1


def test_output_still_invalid_after_one_repair(fake: FakeProvider) -> None:
    fake.reply(
        Scripted(body=openai_reply(INVALID_BRIEF)),
        Scripted(body=openai_reply("not json at all")),
        Scripted(body=openai_reply(VALID_BRIEF)),
    )
    with pytest.raises(RetryableError) as info:
        openai(fake).generate(brief_request())
    assert info.value.reason.startswith("output stayed invalid after a repair: the answer is not valid JSON")
    assert len(fake.requests) == 2


def test_refusal_is_a_clear_permanent_error(fake: FakeProvider, official_host: None) -> None:
    fake.reply(Scripted(body=openai_reply(None, refusal="I can't help with that.")))
    with pytest.raises(PermanentError, match="refused to answer: I can't help with that"):
        openai(fake).generate(brief_request())
    assert len(fake.requests) == 1


def test_finish_reason_length_is_a_clear_permanent_error(fake: FakeProvider) -> None:
    fake.reply(Scripted(body=openai_reply('{"business_name": "Pad', finish="length")))
    with pytest.raises(PermanentError) as info:
        openai(fake, params={"max_tokens": 64}).generate(brief_request())
    assert "cut off at max_tokens=64" in info.value.reason and "finish_reason 'length'" in info.value.reason
    assert len(fake.requests) == 1


def test_openai_compatible_without_key_sends_no_auth(fake: FakeProvider) -> None:
    fake.reply(Scripted(body=openai_reply(VALID_BRIEF)))
    store = Store("never-read")
    cfg = config("openai_compatible", fake.url + "/v1/", model="llama3.1:8b", secret_ref=None)
    result = build_provider(cfg, lambda: store).generate(brief_request())
    request = fake.requests[0]
    assert request.path == "/v1/chat/completions" and "authorization" not in request.headers
    assert request.json["model"] == "llama3.1:8b" and request.json["max_tokens"] == 4096
    assert (
        "max_completion_tokens" not in request.json
        and request.json["response_format"]["type"] == "json_schema"
    )
    assert (
        store.reads == 0
        and result.usage["provider"] == "openai_compatible"
        and result.usage["cost_usd"] is None
    )


def test_openai_compatible_with_key_sends_bearer(fake: FakeProvider) -> None:
    fake.reply(Scripted(body=openai_reply(VALID_BRIEF)))
    cfg = config("openai_compatible", fake.url, model="mixtral")
    build_provider(cfg, lambda: Store("local-key-123456")).generate(brief_request())
    assert fake.requests[0].headers["authorization"] == "Bearer local-key-123456"


def test_an_unreadable_answer_is_retryable(fake: FakeProvider) -> None:
    reply = openai_reply(VALID_BRIEF)
    reply["usage"] = {"prompt_tokens": "lots", "completion_tokens": 1}
    fake.reply(Scripted(body=reply))
    with pytest.raises(
        RetryableError, match=r"openai returned an answer sitegen could not read \(ValueError"
    ):
        openai(fake).generate(brief_request())


def test_a_response_without_choices_is_retryable(fake: FakeProvider) -> None:
    fake.reply(Scripted(body={"id": "x", "choices": []}))
    with pytest.raises(RetryableError, match="without choices"):
        openai(fake).generate(brief_request())
