"""`python -m bench [--full | --smoke] [--json PATH]` (`make bench`, `make bench FULL=1`).

Runs every benchmark, prints a table with the budget (issue 7) next to each figure, and writes the
results as JSON (bench/results/latest.json; full.json with --full). Exit status 0 whether or not a
figure meets its budget: the table says which; the test suite asserts only counts (tests/bench/).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report

ROOT = Path(__file__).resolve().parents[1]

MODES: dict[str, dict[str, Any]] = {
    # the test suite's run: every section, tiny
    "smoke": {
        "phase_generations": 1,
        "log_sizes": (100, 2000),
        "poll_repeats": 3,
        "e2e": {"n": 2, "workers": 1, "concurrency": 2},
        "cold_runs": 1,
        "realistic": {"generations": 1, "workers": 4, "ttft": 0.01, "tps": 20_000},
        "audit_repeats": 1,
    },  # fast: checks it runs
    "quick": {
        "phase_generations": 10,
        "log_sizes": (1000, 20000),
        "poll_repeats": 50,
        "e2e": {"n": 50, "workers": 2, "concurrency": 10},
        "cold_runs": 5,
        "realistic": {"generations": 3, "workers": 4, "ttft": 0.6, "tps": 70.0},
        "audit_repeats": 5,
    },
    "full": {
        "phase_generations": 50,
        "log_sizes": (1000, 20000),
        "poll_repeats": 200,
        "e2e": {"n": 500, "workers": 2, "concurrency": 10},
        "cold_runs": 15,
        "realistic": {"generations": 5, "workers": 4, "ttft": 0.6, "tps": 70.0},
        "audit_repeats": 10,
    },
}


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        commit = ""
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit,
        "load_average_at_start": os.getloadavg(),
    }


def _in_process(skip: list[str], cfg: dict[str, Any], timed: Any, results: dict[str, Any]) -> None:
    """Sections 1 and 4, on one in-process stack (a database, moto, the app's handlers)."""
    if "phases" in skip and "logpoll" in skip:
        return
    from bench import logpoll, phases
    from bench.harness import database, in_process_stack

    with database() as url, in_process_stack(url) as stack:
        if "phases" not in skip:
            results["phases"] = timed("phases", lambda: phases.run(stack, cfg["phase_generations"]))
        if "logpoll" not in skip:
            results["logpoll"] = timed(
                "logpoll", lambda: logpoll.run(stack, cfg["log_sizes"], cfg["poll_repeats"])
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="500 generations end to end, more repeats")
    size.add_argument("--smoke", action="store_true", help="a tiny run of everything (the test suite's)")
    parser.add_argument(
        "--json", type=Path, help="where to write the results (default bench/results/<mode>.json)"
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["phases", "logpoll", "e2e", "coldstart", "realistic", "audit"],
        help="leave a section out (repeatable)",
    )
    parser.add_argument("--workers", type=int, help="queue workers of the local stack (default: the mode's)")
    parser.add_argument("--generations", type=int, help="generations end to end (default: the mode's)")
    args = parser.parse_args(argv)
    mode = "full" if args.full else "smoke" if args.smoke else "quick"
    cfg = {**MODES[mode], "e2e": dict(MODES[mode]["e2e"])}
    if args.workers is not None:
        cfg["e2e"]["workers"] = args.workers
    if args.generations is not None:
        cfg["e2e"]["n"] = args.generations
    out = args.json or ROOT / "bench" / "results" / ("latest.json" if mode == "quick" else f"{mode}.json")

    from bench import audit, coldstart, cost, e2e, realistic

    started = time.perf_counter()
    results: dict[str, Any] = {
        "mode": mode,
        "command": "make bench" + (" FULL=1" if mode == "full" else "")
        if mode != "smoke"
        else "python -m bench --smoke",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "timings_s": {},
    }

    def timed(name: str, fn: Any) -> Any:
        t = time.perf_counter()
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        value = fn()
        results["timings_s"][name] = round(time.perf_counter() - t, 1)
        return value

    _in_process(args.skip, cfg, timed, results)

    def cold_against(stack: Any) -> None:
        info = stack.info
        env = {
            "DATABASE_URL": info["database_url"],
            "AWS_ENDPOINT_URL": info["aws_endpoint_url"],
            "SITEGEN_QUEUE_URL": info["queue_url"],
            "SITEGEN_DLQ_URL": info["dlq_url"],
            "SITEGEN_LOGS_TABLE": info["logs_table"],
            "SITEGEN_SITE_BUCKET": info["bucket"],
            "SITEGEN_SITE_BASE_URL": info["sites_url"],
            "SITEGEN_API_TOKEN": info["token"],
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            **{k: str(v) for k, v in info.items() if k.startswith("SITEGEN_")},
        }
        results["coldstart"] = timed("coldstart", lambda: coldstart.run(cfg["cold_runs"], env))

    if "e2e" not in args.skip:
        keep = cold_against if "coldstart" not in args.skip else None
        results["e2e"] = timed("e2e", lambda: e2e.run(keep_stack=keep, **cfg["e2e"]))
    elif "coldstart" not in args.skip:
        results["coldstart"] = timed("coldstart", lambda: coldstart.run(cfg["cold_runs"]))

    if "realistic" not in args.skip:
        results["realistic"] = timed("realistic", lambda: realistic.run(**cfg["realistic"]))

    if "audit" not in args.skip:
        results["audit"] = timed("audit", lambda: audit.run(cfg["audit_repeats"]))

    if "phases" in results:
        results["cost"] = cost.run(results["phases"], results.get("e2e"))
    results["budget"] = report.budget(results)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    results["elapsed_s"] = round(time.perf_counter() - started, 1)

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(report.render(results))
    print(
        f"\nresults: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}  ({results['elapsed_s']} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
