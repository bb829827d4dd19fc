"""Point a running sitegen at the model simulator, through its HTTP API as a user would: one AI config
(provider openai_compatible, base_url the simulator's) and every task, fallback included, routed to it.
Run again (a new port on each start of the local stack), it updates the same config."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from chalicelib.domain.phases import TaskType

CONFIG_NAME = "Model simulator (local, not a real model)"
Call = Callable[
    [str, str, Any], Any
]  # (method, path, JSON body or None) -> the JSON answer; raises if not 2xx


def sim_config(sim_url: str, tps: float) -> dict[str, Any]:
    return {
        "name": CONFIG_NAME,
        "provider": "openai_compatible",
        "base_url": sim_url.rstrip("/") + "/v1",
        "model": f"sim-{tps:g}tps",
        "enabled": True,
    }


def route_to_sim(call: Call, sim_url: str, tps: float) -> str:
    """Create (or update) the simulator's config and route every task to it. Returns the config's id."""
    wanted = sim_config(sim_url, tps)
    existing = next((c for c in call("GET", "/ai/configs", None)["items"] if c["name"] == CONFIG_NAME), None)
    if existing is None:
        config = call("POST", "/ai/configs", wanted)
    else:
        config = call(
            "PATCH", f"/ai/configs/{existing['id']}", {k: v for k, v in wanted.items() if k != "name"}
        )
    config_id = str(config["id"])
    call(
        "PUT", "/ai/routing", {"routes": {task.value: config_id for task in TaskType}, "fallback": config_id}
    )
    return config_id


def api_caller(api_url: str, token: str, timeout_s: float = 30) -> Call:
    """`Call` over HTTP with the bearer token. An error says the status and the API's answer, never the token."""

    def call(method: str, path: str, body: Any) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            api_url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:500].decode("utf-8", "replace")
            raise RuntimeError(f"{method} {path} answered HTTP {exc.code}: {detail}") from None

    return call
