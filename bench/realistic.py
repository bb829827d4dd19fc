"""Real-model speed (issue 11): the standard order end to end on the real local stack with the model
simulator at a hosted model's pace (infra/model_sim.py: 0.6 s to the first token, 70 tokens/s) and 4
workers, generations one after another.

Per generation: the time from POST /orders/{id}/generations to the generation's `finished_at`
(succeeded), and the critical path, the longest chain of dependent model calls, from the simulator's
own timing log of that generation (infra.model_sim.critical_path). Budget: time <= 1.3x the critical
path, and <= 60 s. For comparison, what one call per phase would take at the same pace (the old
pipeline: the whole site's copy in one call, the whole site's code in one call), from the sizes of the
template's answers for that order.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.harness import ORDER

BUDGET_RATIO = 1.3
BUDGET_S = 60.0
CHARS_PER_TOKEN = 3.5


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def serial_estimate_s(ttft: float, tps: float) -> float:
    """One call per phase at this pace: the template's whole-phase answers for the order."""
    from chalicelib.ai.template import answer
    from chalicelib.domain.order import OrderData

    order = OrderData.model_validate({"id": "-", **ORDER})
    inputs: dict[str, Any] = {}
    total = 0.0
    for name, schema in (
        ("brief", "Brief"),
        ("sitemap", "Sitemap"),
        ("content", "Content"),
        ("code", "SiteFiles"),
        ("review", "Review"),
    ):
        out = answer(schema, order, inputs)
        inputs[name] = out
        total += ttft + len(out.model_dump_json()) / CHARS_PER_TOKEN / tps
    return round(total, 1)


def _sim_log(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{url}/_sim/log", timeout=10) as response:
        data = json.loads(response.read())
    return data["entries"] if isinstance(data, dict) else data


def _one(stack: Any, timeout_s: float) -> dict[str, Any]:
    from infra.model_sim import critical_path, step_durations

    sim = stack.info["model_sim_url"]
    before = len(_sim_log(sim))
    order = stack.call("POST", "/orders", {**ORDER, "business_name": "Bench Bakery"}, expect=201)
    t0 = time.time()
    gid = stack.call("POST", f"/orders/{order['id']}/generations", expect=202)["id"]
    deadline = t0 + timeout_s
    while True:
        gen = stack.call("GET", f"/generations/{gid}")
        if gen["status"] not in ("queued", "running"):
            break
        if time.time() > deadline:
            raise TimeoutError(f"generation {gid} still {gen['status']} after {timeout_s}s")
        time.sleep(0.25)
    if gen["status"] != "succeeded":
        raise RuntimeError(f"generation {gid} ended {gen['status']}: {gen.get('error')}")
    entries = [e for e in _sim_log(sim)[before:] if e.get("schema") != "Ping"]
    took = _ts(gen["finished_at"]) - t0
    path = critical_path(entries)
    return {
        "id": gid,
        "seconds": round(took, 2),
        "critical_path_s": round(path, 2),
        "ratio": round(took / path, 3) if path else None,
        "steps_s": {k: round(v, 2) for k, v in step_durations(entries).items()},
        "model_calls": len(entries),
        "tokens_out": sum(int(e.get("tokens_out") or 0) for e in entries),
    }


def run(
    generations: int = 3, workers: int = 4, ttft: float = 0.6, tps: float = 70.0, timeout_s: float = 300
) -> dict[str, Any]:
    from tests.support.local_stack import LocalStack

    state = Path(tempfile.mkdtemp(prefix="sitegen-bench-realistic-"))
    stack = LocalStack(
        state,
        [
            "--workers",
            str(workers),
            "--schedule-interval",
            "60",
            "--model-sim",
            "--sim-ttft",
            str(ttft),
            "--sim-tps",
            str(tps),
        ],
    ).start()
    try:
        runs = [_one(stack, timeout_s) for _ in range(generations)]
    finally:
        stack.stop()
        shutil.rmtree(state, ignore_errors=True)
    seconds = [r["seconds"] for r in runs]
    ratios = [r["ratio"] for r in runs if r["ratio"]]
    return {
        "generations": generations,
        "workers": workers,
        "sim_ttft_s": ttft,
        "sim_tokens_per_s": tps,
        "seconds_median": round(statistics.median(seconds), 2),
        "seconds_max": max(seconds),
        "critical_path_median_s": round(statistics.median(r["critical_path_s"] for r in runs), 2),
        "ratio_median": round(statistics.median(ratios), 3) if ratios else None,
        "ratio_max": max(ratios) if ratios else None,
        "one_call_per_phase_estimate_s": serial_estimate_s(ttft, tps),
        "budget": {"ratio": BUDGET_RATIO, "seconds": BUDGET_S},
        "runs": runs,
    }
