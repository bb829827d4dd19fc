"""What `python -m infra.local --model-sim` does after the API is up, against the app: the simulator's
config is created through the API and routed for every task, and a whole generation runs on it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.domain.phases import TaskType
from infra.model_sim import Sim, critical_path, start_sim
from infra.sim_setup import CONFIG_NAME, route_to_sim
from tests.support.orders import WORKSHOP_ORDER
from tests.support.stack import drain


@pytest.fixture()
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sim]:
    monkeypatch.setenv("SITEGEN_AI_ALLOW_PRIVATE_NETWORKS", "1")  # what the local stack sets
    with start_sim(ttft=0, tps=50_000) as running:
        yield running


def api_call(client: Any) -> Any:
    def call(method: str, path: str, body: Any) -> Any:
        response = client.request(method, path, body)
        assert 200 <= response.status_code < 300, (method, path, response.status_code, response.body[:500])
        return json.loads(response.body)

    return call


def generate(client: Any, aws: Any, sim: Sim) -> Any:
    """The standard order generated through the API and drained, with a fresh simulator log; succeeded."""
    order = client.json("POST", "/orders", WORKSHOP_ORDER, expect=201)
    gen = client.json("POST", f"/orders/{order['id']}/generations", expect=202)
    sim.clear_log()
    drain(client, aws)
    done = client.json("GET", f"/generations/{gen['id']}")
    assert done["status"] == "succeeded", done.get("error")
    return done


def test_the_simulator_is_routed_for_every_task_once(client: Any, sim: Sim) -> None:
    first = route_to_sim(api_call(client), sim.url, 70)
    again = route_to_sim(api_call(client), "http://127.0.0.1:9", 70)  # a restart: new port, same config
    assert again == first
    configs = [c for c in client.json("GET", "/ai/configs")["items"] if c["name"] == CONFIG_NAME]
    assert [(c["id"], c["provider"], c["base_url"], c["model"]) for c in configs] == [
        (first, "openai_compatible", "http://127.0.0.1:9/v1", "sim-70tps")
    ]
    routing = client.json("GET", "/ai/routing")
    assert routing == {"routes": {t.value: first for t in TaskType}, "fallback": first}


def test_a_generation_runs_on_the_simulator(client: Any, aws: Any, sim: Sim) -> None:
    config_id = route_to_sim(api_call(client), sim.url, 50_000)
    assert (
        client.json("POST", f"/ai/configs/{config_id}/test")["ok"] is True
    )  # the Ping, without a data block
    # The code phase's whole-site answer (one call until it runs per page) is about 9,000 tokens: over the
    # default max_tokens of 8192, which the simulator enforces as a hosted model would.
    client.json("PATCH", f"/ai/configs/{config_id}", {"params": {"max_tokens": 16000}})
    done = generate(client, aws, sim)
    ai_phases = [p for p in done["phases"] if p["name"] != "publish"]
    assert {(p["usage"]["provider"], p["usage"]["config_id"]) for p in ai_phases} == {
        ("openai_compatible", config_id)
    }
    log = sim.log()
    assert {"Brief", "Sitemap", "Review"} <= {e["schema"] for e in log}
    assert all(e["status"] == 200 and e["api"] == "openai" for e in log)
    assert done["usage"]["tokens_out"] == sum(e["tokens_out"] for e in log) > 0
    assert critical_path(log) > 0
    site = (
        aws.s3.get_object(Bucket=aws.resources.bucket, Key=f"sites/{done['id']}/index.html")["Body"]
        .read()
        .decode()
    )
    assert "Oficina Dois Irmãos" in site


def test_pages_the_reviewer_flags_go_back_to_the_model_and_come_back_clean(
    client: Any, aws: Any, sim: Sim
) -> None:
    """The review rounds driven over the wire: every page's first markup has a vague link, which only
    the (simulated) AI reviewer flags; each page is rewritten once with the finding, and the site passes."""
    from infra.sim_faults import VAGUE_LINK, VAGUE_LINK_FINDING

    route_to_sim(api_call(client), sim.url, 50_000)
    sim.set_faults(rate_vague_link=1.0)
    done = generate(client, aws, sim)
    assert done["review_rounds"] == 1
    log = sim.log()
    markup = [(e["part"], e["findings"], e["fault"]) for e in log if e["schema"] == "PageMarkup"]
    pages = sorted({part for part, _, _ in markup})
    assert len(pages) >= 3
    assert sorted(markup) == sorted([(p, 0, "vague_link") for p in pages] + [(p, 1, None) for p in pages])
    assert [e["schema"] for e in log].count("Review") == 2
    lines = [line["message"] for line in client.json("GET", f"/generations/{done['id']}/logs")["items"]]
    assert any("Review round 1 of 2" in m and VAGUE_LINK_FINDING in m for m in lines), lines
    for page in pages:
        key = f"sites/{done['id']}/{'index' if page == 'index' else page}.html"
        body = aws.s3.get_object(Bucket=aws.resources.bucket, Key=key)["Body"].read().decode()
        assert VAGUE_LINK not in body
