"""The real local stack under worker deaths (--chaos) and a kill -9 of every process in it."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import time

import psutil
from sqlalchemy import create_engine, text

from infra import soak
from infra.write_counter import COUNT_OUTPUT_WRITES
from tests.support.local_stack import LocalStack
from tests.support.orders import ORDER
from tests.support.stack import each_output_once


def test_small_soak_under_chaos_loses_nothing(tmp_path):
    """The README's soak (200 generations, 4 workers, chaos 0.2), small: same code, same checks."""
    result = soak.run(
        argparse.Namespace(
            generations=12,
            workers=2,
            chaos=0.3,
            worker_timeout=3,
            port=0,
            timeout=240,
            state_dir=str(tmp_path / "soak"),
        )
    )
    assert result["worker_deaths"] > 0, result  # the chaos really happened
    assert result["statuses"].get("succeeded", 0) + result["statuses"].get("failed", 0) == 12, result
    assert (result["lost"], result["stuck"], result["duplicated"], result["unexplained_failures"]) == (
        [],
        [],
        [],
        [],
    ), result
    assert result["outbox_left"] == 0 and result["queue_left"] == 0, result
    assert result["ok"] is True


def test_kill_9_of_the_whole_stack_mid_run_then_restart_finishes_everything_once(tmp_path):
    stack = LocalStack(tmp_path / "stack", ["--worker-timeout", "3", "--schedule-interval", "1"]).start()
    try:
        kill_9_then_restart(stack)
    finally:
        stack.stop()  # also when an assertion failed: no process of the restarted stack is left behind
    left = [
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if str(stack.state_dir / "pg") in " ".join(p.info["cmdline"] or [])
    ]
    assert left == [], f"PostgreSQL outlived the stack: {left}"  # the killed supervisor's handle was pruned


def kill_9_then_restart(stack: LocalStack) -> None:
    engine = create_engine(stack.info["database_url"])
    with engine.begin() as conn:
        conn.execute(text(COUNT_OUTPUT_WRITES))
    engine.dispose()
    ids = []
    for n in range(8):
        order = stack.call("POST", "/orders", {**ORDER, "business_name": f"Kill Nine {n}"}, expect=201)
        ids.append(stack.call("POST", f"/orders/{order['id']}/generations", expect=202)["id"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the kill comes while a generation is half way through its parts
        gens = [stack.call("GET", f"/generations/{gid}") for gid in ids]
        statuses = [g["status"] for g in gens]
        in_parts = [
            g
            for g in gens
            if g["status"] == "running"
            and any(p["parts"] and 0 < p["parts_done"] < len(p["parts"]) for p in g["phases"])
        ]
        if in_parts:
            break
        time.sleep(0.05)
    assert in_parts, statuses

    pids = json.loads((stack.state_dir / "pids.json").read_text())
    assert {"supervisor", "api", "moto", "worker-0", "scheduler", "postgres"} <= set(pids)
    for pid in pids.values():  # every process of the stack, no cleanup anywhere
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert stack.proc is not None
    stack.proc.wait(timeout=10)

    stack.start()
    finished = {gid: stack.wait_for(gid, ("succeeded",), timeout_s=120) for gid in ids}
    assert all(g["progress"] == 1.0 for g in finished.values())
    engine = create_engine(stack.info["database_url"])
    with engine.connect() as conn:
        writes = conn.execute(
            text("SELECT generation_id::text, phase, count(*) FROM output_writes GROUP BY 1, 2")
        ).all()
        outbox = conn.execute(text("SELECT count(*) FROM outbox")).scalar()
    engine.dispose()
    assert all(n == 1 for _, _, n in writes), writes  # no phase's or part's output was stored twice
    # The trigger was installed before any generation started: every phase and part of every generation, once.
    assert {(g, p) for g, p, _ in writes} == {(g, p) for g in ids for p in each_output_once()}
    assert outbox == 0
