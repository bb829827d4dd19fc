"""GET /ai/spend: tokens and cost per AI config over the last days, from recorded usage (real Postgres)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from tests.support.stack import TEMPLATE_ID

GPT, SIM = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"


def usage(config_id: str, tokens_in: int, tokens_out: int, cost: float | None, calls: int = 1) -> str:
    return json.dumps(
        {
            "provider": "openai",
            "model": "m",
            "config_id": config_id,
            "tokens_in": tokens_in,
            "tokens_out": tokens_out,
            "latency_ms": 10.0,
            "cost_usd": cost,
            "calls": calls,
        }
    )


def generation(client: Any) -> str:
    order = client.json("POST", "/orders", {"business_name": "Gasto", "segment": "bakery"}, expect=201)
    return str(client.json("POST", f"/orders/{order['id']}/generations", expect=202)["id"])


def set_phase(deps: Any, gid: str, phase: str, used: str | None, finished: datetime) -> None:
    with deps.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE phase_runs SET status = 'succeeded', finished_at = :f, usage = CAST(:u AS jsonb) "
                "WHERE generation_id = CAST(:g AS uuid) AND phase = :p"
            ),
            {"f": finished, "u": used, "g": gid, "p": phase},
        )


def add_part(
    deps: Any, gid: str, phase: str, part: str, used: str | None, finished: datetime, reused: bool = False
) -> None:
    with deps.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO part_runs (generation_id, phase, part, position, status, attempts, finished_at, "
                "usage, reused) VALUES (CAST(:g AS uuid), :p, :part, 0, 'succeeded', 1, :f, "
                "CAST(:u AS jsonb), :r)"
            ),
            {"g": gid, "p": phase, "part": part, "f": finished, "u": used, "r": reused},
        )


def test_spend_sums_each_configs_runs_of_the_last_seven_days_without_counting_a_phase_and_its_parts_twice(
    client: Any, deps: Any
) -> None:
    now = datetime.now(UTC)
    gid = generation(client)
    set_phase(deps, gid, "brief", usage(GPT, 100, 50, 0.001), now)
    set_phase(deps, gid, "sitemap", usage(GPT, 10, 5, 0.0001, calls=2), now)
    # content: two pages on the simulator; the phase's own usage is their sum and must not count again
    add_part(deps, gid, "content", "index", usage(SIM, 1000, 400, None), now)
    add_part(deps, gid, "content", "sobre", usage(SIM, 500, 200, None), now)
    set_phase(deps, gid, "content", usage(SIM, 1500, 600, None, calls=2), now)
    # code: one page on GPT, one reused from an earlier generation (no usage of its own: nothing to count)
    add_part(deps, gid, "code", "index", usage(GPT, 2000, 1000, 0.002), now)
    add_part(deps, gid, "code", "sobre", None, now, reused=True)
    set_phase(deps, gid, "code", usage(GPT, 2000, 1000, 0.002), now)
    set_phase(deps, gid, "review", usage(TEMPLATE_ID, 0, 0, 0.0), now)

    old = generation(client)  # a generation from eight days ago: outside the window
    set_phase(deps, old, "brief", usage(GPT, 9999, 9999, 1.0), now - timedelta(days=8))
    add_part(deps, old, "content", "index", usage(SIM, 7777, 7777, None), now - timedelta(days=8))

    report = client.json("GET", "/ai/spend")
    assert report["days"] == 7
    by_id = {i["config_id"]: i for i in report["items"]}
    assert set(by_id) == {GPT, SIM, TEMPLATE_ID}
    assert by_id[GPT] == {
        "config_id": GPT,
        "runs": 3,
        "calls": 4,
        "tokens_in": 2110,
        "tokens_out": 1055,
        "cost_usd": 0.0031,
        "cost_complete": True,
    }
    assert by_id[SIM] == {
        "config_id": SIM,
        "runs": 2,
        "calls": 2,
        "tokens_in": 1500,
        "tokens_out": 600,
        "cost_usd": None,
        "cost_complete": False,
    }
    assert by_id[TEMPLATE_ID]["runs"] == 1 and by_id[TEMPLATE_ID]["cost_usd"] == 0.0
    assert [i["config_id"] for i in report["items"]] == [GPT, SIM, TEMPLATE_ID]  # most tokens first

    wider = {i["config_id"]: i for i in client.json("GET", "/ai/spend?days=9")["items"]}
    assert wider[GPT]["tokens_in"] == 2110 + 9999 and wider[SIM]["tokens_in"] == 1500 + 7777
    assert client.json("GET", "/ai/spend?days=0", expect=400)["details"][0]["field"] == "days"


def test_a_per_page_phase_without_parts_counts_its_own_usage(client: Any, deps: Any) -> None:
    gid = generation(client)  # e.g. run before parts existed: the phase holds the only usage
    set_phase(deps, gid, "content", usage(SIM, 300, 100, None), datetime.now(UTC))
    [item] = client.json("GET", "/ai/spend")["items"]
    assert (item["config_id"], item["tokens_in"], item["runs"]) == (SIM, 300, 1)


def test_spend_is_empty_when_nothing_ran(client: Any) -> None:
    assert client.json("GET", "/ai/spend")["items"] == []
