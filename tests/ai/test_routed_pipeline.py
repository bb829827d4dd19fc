"""A whole generation through the real pipeline with `coding` routed to an OpenAI-compatible server
on loopback: the route is honoured, the request has the provider's wire shape, usage is recorded per
phase and totalled on the generation, and the key shows up nowhere it should not."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from tests.ai.conftest import FakeProvider
from tests.support.orders import WORKSHOP_ORDER
from tests.support.routed import CALLS, KEY, USAGE, generate_with_coding_on
from tests.support.stack import TEMPLATE_ID, drain, logs


def test_coding_routed_to_an_openai_compatible_server(
    client: Any, aws: Any, deps: Any, fake: FakeProvider
) -> None:
    config, done = generate_with_coding_on(
        {
            "name": "Local Qwen coder",
            "provider": "openai_compatible",
            "model": "qwen2.5-coder-32b",
            "base_url": fake.url + "/v1",
            "api_key": KEY,
            "params": {"temperature": 0.1, "max_tokens": 16000},
        },
        client,
        aws,
        deps,
        fake,
    )
    gen = done
    assert done["status"] == "succeeded", done
    assert len(fake.requests) == CALLS  # only the coding phase's parts left the template provider
    sent = fake.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.json["model"] == "qwen2.5-coder-32b" and sent.json["max_tokens"] == 16000
    assert sent.json["temperature"] == 0.1
    assert [m["role"] for m in sent.json["messages"]] == ["system", "user"]
    assert sent.json["response_format"]["type"] == "json_schema"
    assert sent.json["response_format"]["json_schema"]["strict"] is True

    by_phase = {p["name"]: p["usage"] for p in done["phases"]}
    assert by_phase["code"]["provider"] == "openai_compatible"
    assert by_phase["code"]["config_id"] == config["id"]
    assert (by_phase["code"]["tokens_in"], by_phase["code"]["tokens_out"]) == (
        CALLS * USAGE[0],
        CALLS * USAGE[1],
    )
    assert all(p["usage"]["tokens_out"] == USAGE[1] for p in done["phases"][3]["parts"])  # the sum adds up
    assert by_phase["code"]["cost_usd"] is None  # a self-hosted model has no list price: unknown, not free
    assert by_phase["brief"]["provider"] == "template" and by_phase["brief"]["config_id"] == TEMPLATE_ID
    assert by_phase["content"]["cost_usd"] == 0.0
    totals = done["usage"]
    assert totals["tokens_in"] == CALLS * USAGE[0] and totals["tokens_out"] == CALLS * USAGE[1]
    assert totals["cost_complete"] is False
    assert totals["phases_counted"] == sum(1 for u in by_phase.values() if u is not None) >= 5
    assert totals["ai_latency_ms"] >= by_phase["code"]["latency_ms"] > 0

    site = (
        aws.s3.get_object(Bucket=aws.resources.bucket, Key=f"sites/{gen['id']}/index.html")["Body"]
        .read()
        .decode()
    )
    assert "Oficina Dois Irmãos" in site
    lines = logs(client, gen["id"])
    everything = json.dumps(
        [done, lines, client.json("GET", "/ai/configs"), client.json("GET", "/ai/doctor")]
    )
    assert KEY not in everything and KEY[-12:] not in everything


def test_usage_totals_count_priced_models(client: Any, aws: Any, deps: Any, fake: FakeProvider) -> None:
    _, done = generate_with_coding_on(
        {
            "name": "OpenAI mini",
            "provider": "openai",
            "model": "gpt-4o-mini",
            "base_url": fake.url,
            "api_key": KEY,
        },
        client,
        aws,
        deps,
        fake,
    )
    assert done["status"] == "succeeded", done
    # gpt-4o-mini: $0.15 in / $0.60 out per 1M tokens
    expected = round(CALLS * (USAGE[0] * 0.15 / 1e6 + USAGE[1] * 0.60 / 1e6), 6)
    assert done["usage"]["cost_usd"] == expected and done["usage"]["cost_complete"] is True


def test_worker_logs_the_doctors_errors_at_start_and_the_typo_fails_the_phase_visibly(
    client: Any, aws: Any, deps: Any, capfd: Any
) -> None:
    with deps.engine.begin() as conn:  # the old system's row, which the API would refuse today
        typo = conn.execute(
            text(
                "INSERT INTO ai_configs (id, name, provider, model, account_id, enabled, params) VALUES (gen_random_uuid(), "
                "'Workers AI', 'cloudflarre', '@cf/meta/llama-3.1-8b-instruct', 'acc', true, '{}') RETURNING id"
            )
        ).scalar()
        conn.execute(text("UPDATE ai_routes SET config_id = :c WHERE task = 'coding'"), {"c": typo})
    order = client.json("POST", "/orders", WORKSHOP_ORDER, expect=201)
    gen = client.json("POST", f"/orders/{order['id']}/generations", expect=202)
    drain(client, aws)

    out = capfd.readouterr().out
    problems = [
        json.loads(line) for line in out.splitlines() if line.startswith("{") and "AI config problem" in line
    ]
    assert [p["code"] for p in problems] == ["unknown_provider"]  # once per container, not per message
    assert problems[0]["level"] == "error" and problems[0]["config_id"] == str(typo)
    assert "Did you mean 'cloudflare'?" in problems[0]["message"]

    failed = client.json("GET", f"/generations/{gen['id']}")
    assert failed["status"] == "failed" and failed["current_phase"] == "code"
    assert "cloudflarre" in failed["error"] and "cloudflare" in failed["error"].replace("cloudflarre", "")
    assert any(
        "cloudflarre" in line["message"] and line["level"] == "error" for line in logs(client, gen["id"])
    )
