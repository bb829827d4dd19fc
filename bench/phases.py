"""Per-phase overhead, the AI call excluded (offline template provider): each phase delivered to the
real SQS handler in-process, on a real PostgreSQL and moto, and counted (bench/counting.py).

The first generation runs on a cold process (the container's first message checks the AI configs,
SQLAlchemy configures its mappers, caches fill): it is reported apart and left out of the per-phase
figures, which are the mean and the maximum over the next `generations`.

Also here, since they are counted the same way: what the API requests of one generation cost (create,
generate, one status poll, one log poll), and whether list routes run a statement per row (N+1).
"""

from __future__ import annotations

import contextlib
import io
import json
import statistics
from collections import Counter, defaultdict
from typing import Any

from bench.counting import Window
from bench.harness import ORDER, Stack

# the budget (issue 7): per phase
MAX_STATEMENTS = 10
MAX_TRANSACTIONS = 2
MAX_SQS_SENDS = 1
# publish also makes its version live (issue 14): the order's row in its completing transaction, then one
# more transaction that writes the live pointer under the order's lock and picks the versions to prune; and
# its webhook events (generation.succeeded, version.published) in one INSERT
PHASE_LIMITS = {"publish": (MAX_TRANSACTIONS + 1, MAX_STATEMENTS + 5)}


def limits(phase: str) -> tuple[int, int]:
    """(transactions, statements) a phase may use."""
    return PHASE_LIMITS.get(phase, (MAX_TRANSACTIONS, MAX_STATEMENTS))


METRICS = (
    "statements",
    "transactions",
    "round_trips",
    "checkouts",
    "aws_total",
    "sqs_sends",
    "ddb_single_puts",
    "ddb_single_puts_free_text",
    "ddb_batch_lines",
    "ddb_log_writes",
    "ddb_free_text_writes",
    "ddb_items_written",
    "ddb_wru",
    "ddb_bytes_written",
    "ddb_items_read",
    "ddb_rru",
    "s3_puts",
    "s3_bytes",
    "cpu_ms",
    "cpu_ms_own",
    "cpu_ms_aws_calls",
    "cpu_ms_ai",
    "wall_ms",
    "stdout_bytes",
    "repeated_sql",
)


def _run_generation(stack: Stack) -> tuple[str, dict[str, list[Window]], dict[str, Window]]:
    """Per phase (a per-page phase's fan-out under its name), and per part kind ("content part"):
    every invocation's window."""
    api: dict[str, Window] = {}
    with stack.meter.window() as w:
        order = stack.http("POST", "/orders", ORDER, expect=201)
    api["POST /orders"] = w
    with stack.meter.window() as w:
        gid = stack.http("POST", f"/orders/{order['id']}/generations", expect=202)["id"]
    api["POST /orders/{id}/generations"] = w
    phases: dict[str, list[Window]] = defaultdict(list)
    while (message := stack.receive()) is not None:
        body = json.loads(message["Body"])
        phase = body["phase"] + (" part" if body.get("part") else "")
        with stack.meter.window() as w:
            stack.invoke(message)
        stack.ack(message)
        if phase in phases and not body.get("part"):
            raise RuntimeError(
                f"phase {phase} ran twice in one generation (a retry): {stack.http('GET', f'/generations/{gid}')}"
            )
        phases[phase].append(w)
    with stack.meter.window() as w:
        status = stack.http("GET", f"/generations/{gid}", expect=200)
    api["GET /generations/{id}"] = w
    if status["status"] != "succeeded":
        raise RuntimeError(f"generation did not succeed: {status}")
    with stack.meter.window() as w:
        stack.http("GET", f"/generations/{gid}/logs?limit=200", expect=200)
    api["GET /generations/{id}/logs"] = w
    return gid, phases, api


def _summary(windows: list[Window]) -> dict[str, Any]:
    rows = [w.as_dict() for w in windows]
    out: dict[str, Any] = {}
    for m in METRICS:
        values = [r[m] for r in rows]
        out[m] = {"mean": round(statistics.fmean(values), 2), "max": max(values)}
    calls: Counter = Counter()
    for w in windows:
        calls.update(w.aws)
    out["aws_calls"] = {k: round(v / len(windows), 2) for k, v in sorted(calls.items())}
    out["sql"] = windows[-1].sql
    return out


def _n_plus_one(stack: Stack) -> dict[str, Any]:
    """Statements of list routes with few and with many rows: equal when there is no N+1."""

    def statements(path: str) -> int:
        with stack.meter.window() as w:
            stack.http("GET", path, expect=200)
        return w.statements

    one = stack.http("POST", "/orders", ORDER, expect=201)["id"]
    stack.http("POST", f"/orders/{one}/generations", expect=202)
    many = stack.http("POST", "/orders", ORDER, expect=201)["id"]
    for _ in range(4):
        gid = stack.http("POST", f"/orders/{many}/generations", expect=202)["id"]
        stack.http("POST", f"/generations/{gid}/cancel", expect=202)
    with contextlib.redirect_stdout(io.StringIO()):  # the worker's own log lines
        stack.run_all()  # the queued first phases find their generations cancelled
    before = {
        "GET /orders?limit=": statements("/orders?limit=1"),
        "GET /orders/{id}/generations": statements(f"/orders/{one}/generations"),
        "GET /ai/configs": statements("/ai/configs"),
        "GET /ai/doctor": statements("/ai/doctor"),
    }
    for i in range(4):
        stack.http("POST", "/ai/configs", {"name": f"bench {i}", "provider": "template"}, expect=201)
    checks = {
        "GET /orders?limit=": (before["GET /orders?limit="], statements("/orders?limit=20")),
        "GET /orders/{id}/generations": (
            before["GET /orders/{id}/generations"],
            statements(f"/orders/{many}/generations"),
        ),
        "GET /ai/configs": (before["GET /ai/configs"], statements("/ai/configs")),
        "GET /ai/doctor": (before["GET /ai/doctor"], statements("/ai/doctor")),
    }
    return {
        route: {"few": few, "many": many_, "no_n_plus_one": few == many_}
        for route, (few, many_) in checks.items()
    }


def run(stack: Stack, generations: int = 10) -> dict[str, Any]:
    _, cold_phases, cold_api = _run_generation(stack)
    per_phase: dict[str, list[Window]] = defaultdict(list)
    per_route: dict[str, list[Window]] = defaultdict(list)
    for _ in range(generations):
        _, phases, api = _run_generation(stack)
        for name, ws in phases.items():
            per_phase[name].extend(ws)
        for name, w in api.items():
            per_route[name].append(w)
    phases_summary = {name: _summary(ws) for name, ws in per_phase.items()}
    generation_total = {
        m: round(sum(w.as_dict()[m] for ws in per_phase.values() for w in ws) / generations, 2)
        for m in METRICS
    }  # parts included: a generation's whole cost
    aws_per_generation: Counter = Counter()
    for s in phases_summary.values():
        aws_per_generation.update(s["aws_calls"])
    budget = {
        name: {
            "statements": s["statements"]["max"] <= limits(name)[1],
            "transactions": s["transactions"]["max"] <= limits(name)[0],
            "sqs_sends": s["sqs_sends"]["max"] <= MAX_SQS_SENDS,
            "free_text_lines_batched": s["ddb_single_puts_free_text"]["max"] == 0
            and s["ddb_free_text_writes"]["max"] <= 1,
            "no_repeated_statement": s["repeated_sql"]["max"] == 0,
        }
        for name, s in phases_summary.items()
    }
    return {
        "generations": generations,
        "phases": phases_summary,
        "generation_total": generation_total,
        "aws_calls_per_generation": {k: round(v, 2) for k, v in sorted(aws_per_generation.items())},
        "api": {name: _summary(ws) for name, ws in per_route.items()},
        "cold_first_generation": {
            **{name: ws[0].as_dict() for name, ws in cold_phases.items()},
            **{name: w.as_dict() for name, w in cold_api.items()},
        },
        "n_plus_one": _n_plus_one(stack),
        "budget": budget,
        "budget_met": all(all(v.values()) for v in budget.values()),
    }
