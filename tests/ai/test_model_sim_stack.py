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
from tests.support.stack import drain

ORDER = {
    "business_name": "Oficina Dois Irmãos",
    "segment": "auto repair",
    "locale": "pt-BR",
    "services": ["Troca de óleo", "Freios"],
    "contact": {"email": "oi@doisirmaos.com.br", "city": "Campinas"},
}


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
    order = client.json("POST", "/orders", ORDER, expect=201)
    gen = client.json("POST", f"/orders/{order['id']}/generations", expect=202)
    sim.clear_log()
    drain(client, aws)

    done = client.json("GET", f"/generations/{gen['id']}")
    assert done["status"] == "succeeded", done.get("error")
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
        aws.s3.get_object(Bucket=aws.resources.bucket, Key=f"sites/{gen['id']}/index.html")["Body"]
        .read()
        .decode()
    )
    assert "Oficina Dois Irmãos" in site
