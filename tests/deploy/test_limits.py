"""Limits that protect Postgres: every function that connects has a concurrency cap, the worker's SQS
event source is capped at its reserved concurrency, and the worst case fits the stage's connection
budget (docs/deployment.md: connections = concurrency x connections per container)."""

from __future__ import annotations

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.config import Settings
from tests.support.template import props

DB_FUNCTIONS = ("APIHandler", "RunPhase", "OnDeadLetter", "Sweep")  # the authorizer never connects
# Most connections each stage's database must accept from the functions (docs/deployment.md).
BUDGET = {"dev": 80, "prod": 250}


def connections_per_container(pool_size: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """What the real engine would open at most: pool size + overflow (no connection is made here)."""
    monkeypatch.setenv("SITEGEN_DB_POOL_SIZE", pool_size)
    engine = Deps(Settings(database_url="postgresql+pg8000://u:p@db.invalid/sitegen")).engine
    return int(engine.pool.size() + engine.pool._max_overflow)


def test_worker_event_source_is_capped_at_its_reserved_concurrency(template):
    worker = props(template, "RunPhase")
    [(_, event)] = worker["Events"].items()
    cap = event["Properties"]["ScalingConfig"]["MaximumConcurrency"]
    # Equal: above the reservation, throttled deliveries would count towards the dead-letter limit.
    assert 2 <= cap == worker["ReservedConcurrentExecutions"]
    assert worker["Environment"]["Variables"]["SITEGEN_WORKER_MAX_CONCURRENCY"] == str(cap)


def test_every_function_that_connects_is_capped_and_the_sum_fits_the_budget(template, stage, monkeypatch):
    total = 0
    for logical in DB_FUNCTIONS:
        p = props(template, logical)
        per_container = connections_per_container(
            p["Environment"]["Variables"]["SITEGEN_DB_POOL_SIZE"], monkeypatch
        )
        assert per_container == 3  # pool 1 + overflow 2: a Lambda container serves one request at a time
        total += p["ReservedConcurrentExecutions"] * per_container
    assert props(template, "Sweep")["ReservedConcurrentExecutions"] == 1  # sweeps never overlap
    assert total <= BUDGET[stage], f"{stage}: up to {total} connections, budget {BUDGET[stage]}"
