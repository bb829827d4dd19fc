"""Log polling: what `GET /generations/{id}/logs?after=` costs when the poll returns the last 10 lines of
a generation with 1,000 and with 20,000 lines (and the empty poll a watcher makes while nothing new has
come). Lines are written through the real adapter (TransactWriteItems, 100 a call) into moto's table;
each poll goes through the API route."""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench.harness import Stack

FRONTEND_PAGE = 200  # frontend/ui/order_watch.js LOG_PAGE: the limit the dashboard polls with


def _fill(stack: Stack, generation_id: str, lines: int) -> list[str]:
    """Write the lines; return the cursors of the last 11 (a line's cursor is given when it is written)."""
    from chalicelib.services.progress import ProgressLog

    log = ProgressLog(stack.deps.logs, generation_id)
    for i in range(lines):
        log.info(f"progress line {i}: writing the copy for page {i % 7}", phase="content")
    log.flush()
    last = stack.deps.client("dynamodb").query(
        TableName=stack.deps.settings.logs_table,
        KeyConditionExpression="generation_id = :g AND #c > :lines",
        ExpressionAttributeNames={"#c": "cursor"},
        ExpressionAttributeValues={":g": {"S": generation_id}, ":lines": {"S": "L"}},
        ScanIndexForward=False,
        Limit=11,
    )["Items"]
    return sorted(item["cursor"]["S"] for item in last)


def _poll_once(stack: Stack, path: str) -> tuple[float, Any, int]:
    with stack.meter.window() as w:
        t = time.perf_counter()
        page = stack.http("GET", path, expect=200)
        elapsed = time.perf_counter() - t
    return elapsed, w, len(page["items"])


def _summary(polls: list[tuple[float, Any, int]]) -> dict[str, Any]:
    times = [t for t, _, _ in polls]
    windows = [w for _, w, _ in polls]
    w, returned = windows[-1], polls[-1][2]
    return {
        "returned": returned,
        "ddb_calls": sum(n for k, n in w.aws.items() if k.startswith("dynamodb.")),
        "ddb_calls_by_operation": {k: n for k, n in w.aws.items() if k.startswith("dynamodb.")},
        "items_read": w.ddb_items_read,
        "items_scanned": w.ddb_items_scanned,
        "rru": w.ddb_rru,
        "statements": w.statements,
        "median_ms": round(statistics.median(times) * 1000, 2),
        "min_ms": round(min(times) * 1000, 2),
        # what the poll costs outside the DynamoDB call: the route, Postgres, serialisation (moto's
        # in-process emulation of the Query is inside the AWS call, so it is left out here)
        "median_ms_outside_aws": round(statistics.median(x.wall_s - x.aws_wall_s for x in windows) * 1000, 2),
        "min_ms_outside_aws": round(min(x.wall_s - x.aws_wall_s for x in windows) * 1000, 2),
        "median_ms_in_aws_call": round(statistics.median(x.aws_wall_s for x in windows) * 1000, 2),
        "min_ms_in_aws_call": round(min(x.aws_wall_s for x in windows) * 1000, 2),
    }


def _poll_all(stack: Stack, paths: dict[tuple[str, str], str], repeats: int) -> dict[tuple[str, str], Any]:
    """Every poll `repeats` times, interleaved (one of each in turn), so that all of them see the same
    machine: on a shared machine the load drifts within seconds, and polls made one size after the
    other measured that drift (ratios from 0.7 to 1.8 between runs) more than the polls."""
    for path in paths.values():
        stack.http("GET", path, expect=200)  # warm: the route's first call builds what it caches
    polls: dict[tuple[str, str], list[Any]] = {key: [] for key in paths}
    for _ in range(repeats):
        for key, path in paths.items():
            polls[key].append(_poll_once(stack, path))
    return {key: _summary(found) for key, found in polls.items()}


def run(stack: Stack, sizes: tuple[int, ...] = (1000, 20000), repeats: int = 20) -> dict[str, Any]:
    results: dict[str, Any] = {"sizes": {}, "page_limit": FRONTEND_PAGE, "repeats": repeats}
    paths: dict[tuple[str, str], str] = {}
    for size in sizes:
        generation_id = stack.generate()
        t = time.perf_counter()
        cursors = _fill(stack, generation_id, size)
        results["sizes"][str(size)] = {"lines": size, "fill_s": round(time.perf_counter() - t, 2)}
        for kind, after in (("last_10", cursors[-11]), ("nothing_new", cursors[-1])):
            paths[(str(size), kind)] = (
                f"/generations/{generation_id}/logs?after={after}&limit={FRONTEND_PAGE}"
            )
    for (size_key, kind), summary in _poll_all(stack, paths, repeats).items():
        results["sizes"][size_key][kind] = summary
    small, large = (results["sizes"][str(s)] for s in (min(sizes), max(sizes)))
    # the median of the interleaved repeats (the fastest of each is in the JSON too)
    results["time_ratio_large_vs_small"] = round(
        large["last_10"]["median_ms"] / small["last_10"]["median_ms"], 3
    )
    results["time_ratio_outside_aws"] = round(
        large["last_10"]["median_ms_outside_aws"] / small["last_10"]["median_ms_outside_aws"], 3
    )
    same = all(
        large[k][m] == small[k][m]
        for k in ("last_10", "nothing_new")
        for m in ("ddb_calls", "items_read", "items_scanned", "rru", "statements")
    )
    results["same_cost_for_any_size"] = same
    return results
