"""Every provider client against the model simulator (infra/model_sim.py) at test speed: the answers are
the template's, usage is the simulator's estimate, max_tokens cuts, and each fault reaches the client
as the error it should be."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.ai.prompts import Ping, build_messages, ping_messages
from chalicelib.domain.errors import PermanentError, RetryableError
from chalicelib.phases.outputs import PageMarkup, as_model
from chalicelib.website.html_audit import audit_page
from chalicelib.website.render import page_html, page_paths, site_of
from infra.model_sim import Sim, start_sim
from infra.sim_wire import tokens
from tests.ai.helpers import ORDER
from tests.ai.sim_support import PAGE, PROVIDERS, SCHEMAS, B, C, S, client, expected, request

FAST = {"ttft": 0.0, "tps": 50_000.0}


@pytest.fixture(scope="module")
def shared() -> Iterator[Sim]:
    sim = start_sim(**FAST)
    yield sim
    sim.stop()


@pytest.fixture()
def sim(shared: Sim) -> Iterator[Sim]:
    shared.clear_log()
    shared.set_faults(
        seed=0, rate_429=0, rate_500=0, rate_hang=0, rate_bad_json=0, rate_a11y=0, rate_vague_link=0
    )
    shared.set_speed(**FAST)
    yield shared


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_client_gets_the_templates_answer_for_each_schema(sim: Sim, provider: str) -> None:
    api = {"openai_compatible": "openai"}.get(provider, provider)
    for schema in SCHEMAS:
        result = client(provider, sim.url).generate(request(schema))
        want = expected(schema)
        assert result.output == want, schema
        entry = sim.log()[-1]
        assert (entry["api"], entry["schema"], entry["part"], entry["status"]) == (
            api,
            schema,
            SCHEMAS[schema][3],
            200,
        )
        out = tokens(json.dumps(want.model_dump(mode="json"), ensure_ascii=False))
        assert result.usage["tokens_out"] == entry["tokens_out"] == out > 0, schema
        system, user = build_messages(request(schema))
        assert result.usage["tokens_in"] == entry["tokens_in"] == tokens(system + user), schema
        assert result.usage["calls"] == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_ping_without_a_data_block_is_answered_and_anything_else_is_a_400(
    sim: Sim, provider: str, official_host: None
) -> None:
    system, user = ping_messages()
    assert client(provider, sim.url).run(system, user, Ping).output == Ping(ok=True)
    assert sim.log()[-1]["schema"] == "Ping"
    with pytest.raises(PermanentError) as info:
        client(provider, sim.url).run(system, "Write a sitemap.", SCHEMAS["Sitemap"][1])
    assert "HTTP 400" in info.value.reason and "sitegen-data" in info.value.reason


@pytest.mark.parametrize("provider", ["openai", "openai_compatible", "anthropic", "cloudflare"])
def test_max_tokens_cuts_the_answer_and_the_client_says_so(sim: Sim, provider: str) -> None:
    with pytest.raises(PermanentError) as info:
        client(provider, sim.url, max_tokens=100).generate(request("PageMarkup"))
    assert "cut off at max_tokens=100" in info.value.reason
    entry = sim.log()[-1]
    assert entry["cut"] is True and entry["tokens_out"] == 100


@pytest.mark.parametrize("provider", ["openai", "anthropic", "cloudflare"])
def test_429_is_retryable_with_retry_after_and_500_is_retryable(sim: Sim, provider: str) -> None:
    sim.set_faults(rate_429=1.0)
    with pytest.raises(RetryableError) as info:
        client(provider, sim.url).generate(request("Brief"))
    assert "HTTP 429" in info.value.reason and info.value.retry_after == 1
    sim.set_faults(rate_429=0.0, rate_500=1.0)
    with pytest.raises(RetryableError) as info:
        client(provider, sim.url).generate(request("Brief"))
    assert "HTTP 500" in info.value.reason
    assert [(e["status"], e["fault"]) for e in sim.log()] == [(429, "429"), (500, "500")]


def test_a_hang_is_a_read_timeout_and_the_log_sees_the_client_leave(sim: Sim) -> None:
    sim.set_faults(rate_hang=1.0)
    started = time.monotonic()
    with pytest.raises(RetryableError) as info:
        client("openai", sim.url, timeout_s=0.3).generate(request("Brief"))
    assert "read timeout" in info.value.reason and time.monotonic() - started >= 0.3
    deadline = time.monotonic() + 3
    while sim.log()[-1]["finished"] is None and time.monotonic() < deadline:
        time.sleep(0.02)
    entry = sim.log()[-1]
    assert (entry["fault"], entry["status"], entry["outcome"]) == ("hang", None, "client_gone")
    assert entry["finished"] - entry["started"] >= 0.3


@pytest.mark.parametrize("provider", PROVIDERS)
def test_bad_json_only_on_the_first_attempt_so_the_repair_round_fixes_it(sim: Sim, provider: str) -> None:
    sim.set_faults(rate_bad_json=1.0)
    result = client(provider, sim.url).generate(request("Sitemap"))
    assert result.output == expected("Sitemap") and result.usage["calls"] == 2
    first, repair = sim.log()
    assert first["fault"].startswith("bad_json") and not first["repair"]
    assert repair["fault"] is None and repair["repair"] and repair["schema"] == "Sitemap"


def _audit(main_html: str) -> list[str]:
    """The page's problems once sitegen has put its main in the shared shell."""
    site = site_of(ORDER, B, S, C)
    page, path = next((p, path) for p, path in page_paths(C.pages) if p.slug == PAGE)
    return [
        message
        for severity, message in audit_page(page_html(site, page, path, main_html)).problems
        if severity == "error"
    ]


def test_a11y_fault_breaks_a_pages_headings_but_not_a_repair_round(sim: Sim) -> None:
    assert _audit(as_model(PageMarkup, expected("PageMarkup")).main_html) == []
    sim.set_faults(rate_a11y=1.0)
    broken = as_model(PageMarkup, client("openai", sim.url).generate(request("PageMarkup")).output)
    assert any("heading level skipped" in problem for problem in _audit(broken.main_html))
    fixing = request("PageMarkup", findings=("servicos.html: heading level skipped",), previous=broken)
    fixed = as_model(PageMarkup, client("openai", sim.url).generate(fixing).output)
    assert fixed == expected("PageMarkup") and _audit(fixed.main_html) == []
    assert client("openai", sim.url).generate(request("Brief")).output == expected(
        "Brief"
    )  # other schemas: no a11y
    assert [(e["schema"], e["findings"], e["fault"]) for e in sim.log()] == [
        ("PageMarkup", 0, "a11y"),
        ("PageMarkup", 1, None),
        ("Brief", 0, None),
    ]


def test_a_reply_takes_ttft_plus_tokens_over_tps(sim: Sim) -> None:
    sim.set_speed(ttft=0.2, tps=1000)
    started = time.monotonic()
    client("anthropic", sim.url).generate(request("PageMarkup"))
    took = time.monotonic() - started
    entry = sim.log()[-1]
    assert entry["tokens_out"] >= 500 and entry["ttft"] == 0.2
    least = 0.2 + entry["tokens_out"] / 1000
    assert entry["finished"] - entry["started"] >= least and took >= least  # lower bounds only


def _http(sim: Sim, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        sim.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_control_endpoints_set_faults_and_speed_and_read_the_log(sim: Sim) -> None:
    assert _http(sim, "POST", "/_sim/faults", {"rate_500": 1.0})[1]["rate_500"] == 1.0
    with pytest.raises(RetryableError):
        client("openai", sim.url).generate(request("Brief"))
    status, body = _http(sim, "POST", "/_sim/faults", {"rate_teapot": 1.0})
    assert status == 400 and "rate_teapot" in body["error"]
    assert _http(sim, "POST", "/_sim/faults", {"rate_500": 2})[0] == 400
    assert _http(sim, "POST", "/_sim/speed", {"tps": 2000})[1] == {"ttft": 0.0, "tps": 2000.0}
    assert _http(sim, "POST", "/_sim/speed", {"tps": 0})[0] == 400
    status, log = _http(sim, "GET", "/_sim/log")
    assert status == 200 and [(e["schema"], e["status"]) for e in log] == [("Brief", 500)]
    assert _http(sim, "DELETE", "/_sim/log")[0] == 200 and sim.log() == []


def test_a_required_key_is_checked_and_never_logged() -> None:
    key = "sim-secret-key-9f8e7d6c5b4a"
    with start_sim(**FAST, require_key=key) as sim:
        with pytest.raises(PermanentError) as info:
            client("openai", sim.url, key="wrong-key-0123456789").generate(request("Brief"))
        assert "HTTP 401" in info.value.reason
        for provider in ("openai", "anthropic", "cloudflare"):
            assert client(provider, sim.url, key=key).generate(request("Brief")).output == expected("Brief")
        assert key not in json.dumps(sim.log()) and len(sim.log()) == 3
