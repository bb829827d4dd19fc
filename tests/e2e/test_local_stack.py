"""The real local stack over real sockets: supervisor, moto server, chalice local, worker, sites."""
from __future__ import annotations

import urllib.request

import pytest

from tests.integration.test_generation_flow import ORDER
from tests.support.local_stack import LocalStack


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    local = LocalStack(tmp_path_factory.mktemp("stack"), ["--schedule-interval", "2"]).start()
    yield local
    local.stop()


def test_curl_flow_create_generate_follow_logs_open_site(stack):
    health = stack.call("GET", "/health", token=None)
    assert health["status"] == "ok" and health["instance"] == stack.info["instance"]  # this run's own API
    assert stack.call("GET", "/orders", token="nope", expect=401) == {"message": "Unauthorized"}
    order = stack.call("POST", "/orders", {**ORDER, "locale": "en", "business_name": "Austin Pipes & Co"},
                       expect=201)
    gen = stack.call("POST", f"/orders/{order['id']}/generations", expect=202)

    seen, cursor = [], ""
    for _ in range(300):
        page = stack.call("GET", f"/generations/{gen['id']}/logs?after={cursor}&limit=5")
        seen += page["items"]
        cursor = page["next_cursor"]
        if seen and seen[-1]["event"] in ("generation_succeeded", "generation_failed"):
            break
    assert seen[0]["event"] == "generation_queued"
    assert seen[-1]["event"] == "generation_succeeded"
    assert len({line["cursor"] for line in seen}) == len(seen)  # paging never repeats a line

    done = stack.wait_for(gen["id"], ("succeeded",))
    assert done["site_url"].startswith(stack.info["sites_url"])
    with urllib.request.urlopen(done["site_url"], timeout=10) as response:
        html = response.read().decode()
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Austin Pipes &amp; Co" in html and '<html lang="en">' in html
    queue = stack.call("GET", "/queue")
    assert queue["visible"] == 0 and queue["dead_letter"] == 0


def test_restart_on_the_same_state_dir_keeps_orders_and_resumes_in_flight(stack):
    stack.stop()
    stack.extra_args = ["--schedule-interval", "2", "--workers", "0"]  # nobody consumes the queue
    stack.start()
    order = stack.call("POST", "/orders", {**ORDER, "business_name": "Survives Restarts"}, expect=201)
    gen = stack.call("POST", f"/orders/{order['id']}/generations", expect=202)
    assert stack.call("GET", f"/generations/{gen['id']}")["status"] == "queued"
    stack.stop()  # the queue (moto, in memory) is gone with it; Postgres keeps the generation

    stack.extra_args = ["--schedule-interval", "2"]
    stack.start()
    assert stack.call("GET", f"/orders/{order['id']}")["business_name"] == "Survives Restarts"
    assert stack.wait_for(gen["id"], ("succeeded",))["progress"] == 1.0
