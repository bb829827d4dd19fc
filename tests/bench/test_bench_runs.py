"""The benchmark runs (a tiny `python -m bench --smoke`), prints its table and writes sane JSON.

No timed assertion here: times depend on the machine. What the budget (issue 7) counts is asserted,
since counts do not: statements, transactions and SQS sends per phase, batched log lines, no N+1,
one Query per log poll reading only what it returns whatever the generation's size, no I/O and no
heavy module at `import app`, the worker's peak memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# a per-page phase's fan-out runs under its name, each of its parts as "<phase> part"
PHASES = ["brief", "sitemap", "content", "content part", "code", "code part", "review", "publish"]


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    out = tmp_path_factory.mktemp("bench") / "smoke.json"
    env = {**os.environ}
    env.pop("AWS_ENDPOINT_URL", None)
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(out.read_text()), run.stdout


def test_prints_a_table_of_every_section(bench):
    _, table = bench
    for heading in (
        "1. Per phase",
        "2. Cold start",
        "3. End to end",
        "4. Log polling",
        "5. Cost per 1,000 sites",
        "7. Review gate on hostile HTML",
        "Budget",
    ):
        assert heading in table
    for phase in PHASES:
        assert f"\n{phase} " in table


def test_results_are_complete_and_sane(bench):
    r, _ = bench
    assert list(r["phases"]["phases"]) == PHASES
    for name, p in r["phases"]["phases"].items():
        assert p["statements"]["max"] > 0 and p["cpu_ms"]["mean"] > 0 and p["wall_ms"]["mean"] > 0, name
        assert p["aws_calls"], name
    c = r["coldstart"]
    assert c["import_app_ms"] > 0 and c["import_deps_ms"] > 0 and c["ratio"] > 0
    assert c["first_invocation"]["status"] == 200  # GET /health/dependencies against the local stack
    e = r["e2e"]
    assert e["generations_per_minute"] > 0
    for key in ("first_line_visible", "succeeded_visible", "succeeded_at"):
        assert 0 < e[key]["p50_s"] <= e[key]["p95_s"] <= e[key]["max_s"], key
    assert set(r["logpoll"]["sizes"]) == {"100", "2000"}
    co = r["cost"]
    assert co["total_per_1000_sites_usd"] > 0 and co["prices_date"]
    assert co["orchestration_per_1000_sites_usd"]
    assert {b["what"] for b in r["budget"]} and all(b["met"] in (True, False) for b in r["budget"])


def test_phase_budget_counts(bench):
    r, _ = bench
    for name, p in r["phases"]["phases"].items():
        # publish also makes the version live: one more transaction (the live pointer), a few statements
        transactions, statements = (3, 15) if name == "publish" else (2, 10)
        assert p["transactions"]["max"] <= transactions, name
        assert p["statements"]["max"] <= statements, (name, p["sql"])
        assert p["sqs_sends"]["max"] <= 1, name
        assert p["ddb_single_puts_free_text"]["max"] == 0, name  # free-text lines go in one transaction
        assert p["ddb_free_text_writes"]["max"] <= 1, name
        assert p["aws_calls"].get("dynamodb.BatchWriteItem", 0) == 0, name
        # each log write: one TransactWriteItems, after at most one Query for the last line number
        assert p["aws_calls"].get("dynamodb.Query", 0) <= p["aws_calls"]["dynamodb.TransactWriteItems"], name
        assert p["repeated_sql"]["max"] == 0, (name, p["sql"])  # no statement run once per row
    assert r["phases"]["phases"]["publish"]["sqs_sends"]["max"] == 0  # the last phase enqueues nothing
    for route, check in r["phases"]["n_plus_one"].items():
        assert check["no_n_plus_one"], (route, check)


def test_log_poll_costs_the_same_for_any_generation_size(bench):
    r, _ = bench
    sizes = r["logpoll"]["sizes"]
    for kind, returned in (("last_10", 10), ("nothing_new", 0)):
        costs = [
            (
                s[kind]["ddb_calls_by_operation"],
                s[kind]["items_read"],
                s[kind]["items_scanned"],
                s[kind]["rru"],
            )
            for s in sizes.values()
        ]
        assert costs[0] == costs[1], (kind, costs)
        assert costs[0][0] == {"dynamodb.Query": 1} and costs[0][1] == returned, (kind, costs)
    assert all(s["last_10"]["returned"] == 10 for s in sizes.values())


def test_import_does_no_io_and_the_worker_fits_its_memory(bench):
    r, _ = bench
    c = r["coldstart"]
    assert c["io_at_import"] == [] and c["deps_built_at_import"] is False
    assert c["should_be_lazy_but_imported"] == []
    peak = max(v["peak"] for k, v in r["e2e"]["rss_mb"].items() if k.startswith("worker-"))
    assert peak < 200  # MB: the budget, so that the worker function runs at 256 MB
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for stage in config.get(
        "stages", {}
    ).values():  # each stage's run_phase keeps a quarter of its memory free
        fn = stage.get("lambda_functions", {}).get("run_phase", {})
        memory = fn.get(
            "lambda_memory_size", stage.get("lambda_memory_size", config.get("lambda_memory_size", 128))
        )
        assert peak < 0.75 * memory, (memory, peak)


def test_the_review_gate_section_audits_every_hostile_input_within_the_file_limit(bench):
    from chalicelib.website.files import MAX_FILE_BYTES
    from tests.support.sites import HOSTILE_HTML

    r, _ = bench
    hostile = r["audit"]["hostile"]
    assert [name.split(" x ")[0] for name in hostile] == [repr(unit) for unit in HOSTILE_HTML]
    assert all(0 < x["bytes"] <= MAX_FILE_BYTES for x in hostile.values())
    rows = {b["what"] for b in r["budget"]}
    assert {
        "review gate on hostile HTML (s, worst page)",
        "review gate on a site over the size limit (ms)",
    } <= rows
