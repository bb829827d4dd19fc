"""End to end on the real local stack (python -m infra.local, via tests/support/local_stack.py): N
generations with W workers, driven over HTTP by C concurrent watchers that behave like the dashboard
(frontend/ui/order_watch.js): right after "generate" they poll GET /generations/{id} then
GET /generations/{id}/logs?after=<cursor>&limit=200, and again `poll_s` (1 s, the frontend's POLL_MS)
after each round ends, until the generation has finished.

Per generation, from the moment the client sends POST /orders/{id}/generations:
- first line visible: when the first poll that returned a log line had its answer (what a user sees);
- first line written: that line's own timestamp (the server's clock, the same machine's);
- first worker line: the same for `phase_started` of brief (the queue worker has picked it up);
- succeeded visible: when a status poll first answered `succeeded`; succeeded at: its `finished_at`.
Throughput: generations finished per minute over the whole run (the first W generations warm the
workers up and are not counted). Memory: each worker's peak RSS (VmHWM) after the run, i.e. through
many whole generations, and its RSS when idle before the first one.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.cost import GENERATION_EVERY  # frontend/ui/order_watch.js GENERATION_EVERY
from bench.harness import ORDER

FRONTEND_POLL_S = 1.0  # frontend/ui/order_watch.js POLL_MS
LOG_PAGE = 200  # frontend/ui/order_watch.js LOG_PAGE


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _watch(stack: Any, poll_s: float, timeout_s: float) -> dict[str, Any]:
    order = stack.call("POST", "/orders", {**ORDER, "business_name": "Bench Bakery"}, expect=201)
    t0 = time.time()
    gen = stack.call("POST", f"/orders/{order['id']}/generations", expect=202)
    gid = gen["id"]
    cursor, lines, seen = "", [], {}
    polls = {"status": 0, "logs": 0}
    deadline = t0 + timeout_s
    status, since_status = None, 0
    while True:
        for _ in range(25):  # the dashboard's pullLogs
            query = f"limit={LOG_PAGE}" + (f"&after={cursor}" if cursor else "")
            page = stack.call("GET", f"/generations/{gid}/logs?{query}")
            polls["logs"] += 1
            cursor = page["next_cursor"] or cursor
            lines += page["items"]
            if len(page["items"]) < LOG_PAGE:
                break
        now = time.time()
        since_status += 1
        # the dashboard fetches the generation only when the log page says its version moved
        if (
            status is None
            or page["generation_updated_at"] != status["updated_at"]
            or since_status >= GENERATION_EVERY
        ):
            status, since_status = stack.call("GET", f"/generations/{gid}"), 0
            polls["status"] += 1
            now = time.time()
        if lines and "first_line" not in seen:
            seen["first_line"] = now
        if "first_worker_line" not in seen and any(x["event"] == "phase_started" for x in lines):
            seen["first_worker_line"] = now
        if status["status"] not in ("queued", "running"):
            seen["finished"] = now
            break
        if now > deadline:
            raise TimeoutError(f"generation {gid} still {status['status']} after {timeout_s}s")
        time.sleep(poll_s)
    if status["status"] != "succeeded":
        raise RuntimeError(f"generation {gid} ended {status['status']}: {status.get('error')}")
    first_worker = next(x for x in lines if x["event"] == "phase_started")
    return {
        "id": gid,
        "t0": t0,
        "end": seen["finished"],
        "polls": polls,
        "first_line_visible_s": seen["first_line"] - t0,
        "first_line_written_s": _ts(lines[0]["ts"]) - t0,
        "first_worker_line_visible_s": seen["first_worker_line"] - t0,
        "first_worker_line_written_s": _ts(first_worker["ts"]) - t0,
        "succeeded_visible_s": seen["finished"] - t0,
        "succeeded_at_s": _ts(status["finished_at"]) - t0 if status.get("finished_at") else None,
        "lines": len(lines),
    }


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _rss_mb(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return fields


def _worker_pids(stack: Any) -> dict[str, int]:
    pids = json.loads((stack.state_dir / "pids.json").read_text())
    return {name: pid for name, pid in pids.items() if name.startswith("worker-") or name == "api"}


def run(
    n: int = 50,
    workers: int = 2,
    concurrency: int = 10,
    poll_s: float = FRONTEND_POLL_S,
    timeout_s: float = 300,
    keep_stack: Any = None,
) -> dict[str, Any]:
    """keep_stack(stack) is called with the stack still up after the run (e.g. to measure cold starts
    against it)."""
    from tests.support.local_stack import LocalStack

    state = Path(tempfile.mkdtemp(prefix="sitegen-bench-stack-"))
    started = time.perf_counter()
    stack = LocalStack(state, ["--workers", str(workers), "--schedule-interval", "60"]).start()
    startup_s = time.perf_counter() - started
    try:
        idle = {name: _rss_mb(pid) for name, pid in _worker_pids(stack).items()}
        with ThreadPoolExecutor(workers) as pool:  # warm-up: each worker's first messages
            list(pool.map(lambda _: _watch(stack, 0.2, timeout_s), range(workers)))
        remaining = [n]
        lock = threading.Lock()
        results: list[dict[str, Any]] = []

        def watcher() -> None:
            while True:
                with lock:
                    if remaining[0] == 0:
                        return
                    remaining[0] -= 1
                result = _watch(stack, poll_s, timeout_s)
                with lock:
                    results.append(result)

        t_start = time.time()
        with ThreadPoolExecutor(concurrency) as pool:
            for f in [pool.submit(watcher) for _ in range(min(concurrency, n))]:
                f.result()
        t_end = max(r["end"] for r in results)
        peak = {name: _rss_mb(pid) for name, pid in _worker_pids(stack).items()}
        if keep_stack is not None:
            keep_stack(stack)
    finally:
        stack.stop()
        shutil.rmtree(state, ignore_errors=True)  # the embedded PostgreSQL's data (~40 MB) and the logs

    def stats(key: str) -> dict[str, float]:
        values = [r[key] for r in results if r[key] is not None]
        return {
            "p50_s": round(_pct(values, 0.5), 3),
            "p95_s": round(_pct(values, 0.95), 3),
            "max_s": round(max(values), 3),
        }

    polls = [r["polls"]["status"] + r["polls"]["logs"] for r in results]
    return {
        "generations": n,
        "workers": workers,
        "watchers": concurrency,
        "poll_interval_s": poll_s,
        "stack_startup_s": round(startup_s, 1),
        "elapsed_s": round(t_end - t_start, 1),
        "generations_per_minute": round(n / (t_end - t_start) * 60, 1),
        "first_line_visible": stats("first_line_visible_s"),
        "first_line_written": stats("first_line_written_s"),
        "first_worker_line_visible": stats("first_worker_line_visible_s"),
        "first_worker_line_written": stats("first_worker_line_written_s"),
        "succeeded_visible": stats("succeeded_visible_s"),
        "succeeded_at": stats("succeeded_at_s"),
        "api_requests_per_generation_watching": round(statistics.fmean(polls), 1),
        "status_polls_per_generation_watching": round(
            statistics.fmean(r["polls"]["status"] for r in results), 2
        ),
        "log_polls_per_generation_watching": round(statistics.fmean(r["polls"]["logs"] for r in results), 2),
        "log_lines_per_generation": round(statistics.fmean(r["lines"] for r in results), 1),
        "rss_mb": {
            name: {"idle": idle.get(name, {}).get("VmRSS"), "peak": v.get("VmHWM")}
            for name, v in peak.items()
        },
    }
