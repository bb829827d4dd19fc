"""The state machine (chalicelib/domain/lifecycle.py), walked: every transition in its tables works,
every (status, action) pair not in them raises IllegalTransition. No database, no moto."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain import lifecycle
from chalicelib.domain.errors import IllegalTransition
from chalicelib.domain.lifecycle import GENERATION_TRANSITIONS, RUN_TRANSITIONS, Action
from chalicelib.domain.phases import ACTIVE, GenerationStatus, PhaseStatus

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(minutes=5)


@dataclass
class FakeRun:
    status: str
    attempts: int = 2
    started_at: datetime | None = EARLIER
    finished_at: datetime | None = None
    error: str | None = "earlier error"
    lease_token: uuid.UUID | None = None
    lease_expires_at: datetime | None = None
    failed_at: datetime | None = None
    failed_attempt: int | None = None


@dataclass
class FakeGeneration:
    status: str
    current_phase: str | None = "content"
    error: str | None = None
    site_url: str | None = None
    updated_at: datetime = EARLIER
    finished_at: datetime | None = None
    budget_from: datetime = EARLIER
    failure_logged_at: datetime | None = None


# succeed and cancel of runs are set-based updates (sources/target, succeeded_values: tested below)
RUN_APPLY: dict[Action, Any] = {
    Action.CLAIM: lambda run: lifecycle.claim_run(run, NOW, timedelta(seconds=30)),
    Action.FAIL: lambda run: lifecycle.fail_run(run, NOW, "boom"),
    Action.RETRY: lambda run: lifecycle.retry_run(run, NOW, "flaky"),
    Action.RESUME: lifecycle.resume_run,
    Action.SEND_BACK: lifecycle.send_back_run,
}

GENERATION_APPLY: dict[Action, Any] = {
    Action.CLAIM: lambda gen: lifecycle.claim_generation(gen, "code", NOW),
    Action.SUCCEED: lambda gen: lifecycle.succeed_generation(gen, NOW, "http://site/"),
    Action.FAIL: lambda gen: lifecycle.fail_generation(gen, NOW, "phase code failed"),
    Action.CANCEL: lambda gen: lifecycle.cancel_generation(gen, NOW),
    Action.RESUME: lambda gen: lifecycle.resume_generation(gen, "code", NOW),
    Action.TIME_OUT: lambda gen: lifecycle.time_out_generation(gen, NOW, 1800, "brief"),
}


MACHINES: dict[str, tuple[Any, Any, Any, dict[Action, Any]]] = {
    "run": (FakeRun, PhaseStatus, RUN_TRANSITIONS, RUN_APPLY),
    "generation": (FakeGeneration, GenerationStatus, GENERATION_TRANSITIONS, GENERATION_APPLY),
}


def _every_pair(with_function: bool) -> list[Any]:
    """(machine, status, action) for every status and every action (with a function, if asked)."""
    return [
        pytest.param(name, status, action, id=f"{name}-{status}-{action}")
        for name, (_, statuses, _, apply) in MACHINES.items()
        for status in statuses
        for action in (apply if with_function else Action)
    ]


# --- the tables ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("machine, status, action", _every_pair(with_function=False))
def test_next_status_is_the_table_or_illegal(machine, status, action):
    table = MACHINES[machine][2]
    if (status, action) in table:
        assert lifecycle.next_status(table, status, action) == table[status, action]
    else:
        with pytest.raises(IllegalTransition) as raised:
            lifecycle.next_status(table, status, action)
        assert (raised.value.status, raised.value.action) == (status, action)


def test_a_status_read_from_the_database_is_a_plain_string_and_works_the_same():
    assert lifecycle.next_status(RUN_TRANSITIONS, "retrying", Action.CLAIM) == PhaseStatus.RUNNING
    with pytest.raises(IllegalTransition):
        lifecycle.next_status(GENERATION_TRANSITIONS, "succeeded", Action.CANCEL)


def test_finished_generations_change_only_by_a_resend():
    for status in (GenerationStatus.SUCCEEDED, GenerationStatus.FAILED, GenerationStatus.CANCELLED):
        actions = {a for (s, a) in GENERATION_TRANSITIONS if s == status}
        assert actions == (set() if status == GenerationStatus.SUCCEEDED else {Action.RESUME})


def test_every_action_of_a_table_has_a_function_or_a_set_based_update():
    assert {a for (_, a) in RUN_TRANSITIONS} == set(RUN_APPLY) | {
        Action.SUCCEED,
        Action.CANCEL,
        Action.REOPEN,  # set-based: the code phase, when the review sends pages back
    }
    assert {a for (_, a) in GENERATION_TRANSITIONS} == set(GENERATION_APPLY)


def test_sources_and_target_are_read_from_the_table():
    assert lifecycle.sources(RUN_TRANSITIONS, Action.RESUME) == ["pending", "running", "retrying", "failed"]
    assert lifecycle.sources(RUN_TRANSITIONS, Action.SUCCEED) == ["running"]
    assert lifecycle.target(RUN_TRANSITIONS, Action.CANCEL) == PhaseStatus.PENDING
    assert lifecycle.sources(GENERATION_TRANSITIONS, Action.CANCEL) == [s.value for s in ACTIVE]
    for table in (RUN_TRANSITIONS, GENERATION_TRANSITIONS):
        for action in {a for (_, a) in table}:  # each action leads to one status, whatever the source
            assert len({to for (_, a), to in table.items() if a == action}) == 1


def test_only_active_generations_may_be_claimed_cancelled_or_timed_out():
    for action in (Action.CLAIM, Action.CANCEL, Action.TIME_OUT, Action.FAIL):
        assert set(lifecycle.sources(GENERATION_TRANSITIONS, action)) <= {s.value for s in ACTIVE}
    assert [s for s in GenerationStatus if lifecycle.is_active(s)] == list(ACTIVE)


# --- the functions apply the table ------------------------------------------------------------------------
@pytest.mark.parametrize("machine, status, action", _every_pair(with_function=True))
def test_every_function_follows_the_table(machine, status, action):
    fake, _, table, apply = MACHINES[machine]
    thing = fake(status=status)
    if (status, action) in table:
        apply[action](thing)
        assert thing.status == table[status, action]
    else:
        before = fake(**vars(thing))
        with pytest.raises(IllegalTransition):
            apply[action](thing)
        assert thing == before  # nothing changed


def test_every_change_of_a_generation_moves_its_updated_at():  # what a log watcher polls
    for (status, action), _ in GENERATION_TRANSITIONS.items():
        gen = FakeGeneration(status=status)
        GENERATION_APPLY[action](gen)
        assert gen.updated_at == NOW, (status, action)


def test_claim_takes_a_new_lease_and_counts_the_attempt():
    run = FakeRun(status=PhaseStatus.RETRYING, failed_at=EARLIER, failed_attempt=2)
    token = lifecycle.claim_run(run, NOW, timedelta(seconds=30))
    assert (run.status, run.attempts, run.started_at) == ("running", 3, NOW)
    assert run.lease_token == token and run.lease_expires_at == NOW + timedelta(seconds=30)
    assert (run.error, run.failed_at, run.failed_attempt) == (
        "earlier error",
        EARLIER,
        2,
    )  # its line may be due
    assert lifecycle.claim_run(FakeRun(status="running"), NOW, timedelta(seconds=1)) != token


def test_a_fan_out_claims_without_a_lease_and_forgets_the_error():
    run = FakeRun(status=PhaseStatus.PENDING, lease_token=uuid.uuid4(), lease_expires_at=EARLIER)
    lifecycle.fan_out_run(run, NOW)
    assert (run.status, run.attempts, run.started_at) == ("running", 3, NOW)
    assert run.error is None and run.lease_token is None and run.lease_expires_at is None


def test_retry_and_fail_keep_the_failed_attempt_and_release_the_lease():
    retried = FakeRun(status="running", attempts=1, lease_token=uuid.uuid4(), lease_expires_at=NOW)
    lifecycle.retry_run(retried, NOW, "429")
    assert (retried.status, retried.error, retried.failed_at, retried.failed_attempt) == (
        "retrying",
        "429",
        NOW,
        1,
    )
    assert retried.finished_at is None and retried.lease_token is None and retried.lease_expires_at is None
    failed = FakeRun(status="running", attempts=3, lease_token=uuid.uuid4())
    lifecycle.fail_run(failed, NOW, "no route")
    assert (failed.status, failed.finished_at, failed.failed_attempt, failed.lease_token) == (
        "failed",
        NOW,
        3,
        None,
    )


def test_resume_forgets_everything_of_the_run_but_what_it_is():
    run = FakeRun(status="failed", attempts=3, finished_at=NOW, failed_at=NOW, failed_attempt=3)
    lifecycle.resume_run(run)
    assert run == FakeRun(status="pending", attempts=0, started_at=EARLIER, error=None)


def test_succeeded_values_clear_the_lease_and_the_error():
    values = lifecycle.succeeded_values(NOW, {"x": 1}, {})
    assert values == {
        "status": "succeeded",
        "output": {"x": 1},
        "finished_at": NOW,
        "error": None,
        "lease_token": None,
        "lease_expires_at": None,
        "usage": None,  # no usage is stored as none
    }


def test_generation_transitions_set_what_they_mean():
    gen = FakeGeneration(status="queued", current_phase=None)
    lifecycle.claim_generation(gen, "brief", NOW)
    assert (gen.status, gen.current_phase, gen.finished_at) == ("running", "brief", None)
    lifecycle.succeed_generation(gen, NOW, "http://x/sites/1/")
    assert (gen.status, gen.finished_at, gen.site_url) == ("succeeded", NOW, "http://x/sites/1/")

    cancelled = FakeGeneration(status="running")
    lifecycle.cancel_generation(cancelled, NOW)
    assert (cancelled.status, cancelled.finished_at, cancelled.error) == (
        "cancelled",
        NOW,
        "cancelled by user",
    )

    late = FakeGeneration(status="queued", current_phase=None)
    lifecycle.time_out_generation(late, NOW, 1800, "brief")
    assert (late.status, late.finished_at) == ("failed", NOW)
    assert late.error == "gave up: not finished within the time budget of 30 min (at phase brief)"

    resumed = FakeGeneration(
        status="failed", error="boom", finished_at=EARLIER, failure_logged_at=EARLIER, budget_from=EARLIER
    )
    lifecycle.resume_generation(resumed, "code", NOW)
    assert resumed == FakeGeneration(status="queued", current_phase="code", updated_at=NOW, budget_from=NOW)


# --- retry and backoff decisions -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "retryable, attempts, status, expected",
    [
        (True, 1, "running", True),
        (True, 2, "queued", True),
        (True, 3, "running", False),  # attempts used up (max 3)
        (False, 1, "running", False),  # a permanent error fails at once
        (True, 1, "cancelled", False),  # nothing new starts for an ended generation
        (True, 1, "failed", False),
    ],
)
def test_may_retry(retryable, attempts, status, expected):
    assert lifecycle.may_retry(retryable, attempts, 3, status) is expected


def test_backoff_doubles_with_each_attempt_within_its_jitter():
    middle = lambda low, high: (low + high) / 2  # noqa: E731 - no jitter
    assert [lifecycle.backoff_seconds(5, n, None, middle) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert lifecycle.backoff_seconds(10, 1, None, lambda low, high: low) == 5
    assert lifecycle.backoff_seconds(10, 1, None, lambda low, high: high) == 15


def test_backoff_waits_at_least_what_the_provider_asked_and_at_most_sqs_15_minutes():
    middle = lambda low, high: (low + high) / 2  # noqa: E731
    assert lifecycle.backoff_seconds(5, 1, 42.0, middle) == 42
    assert lifecycle.backoff_seconds(5, 1, 2.0, middle) == 5  # the longer of the two
    assert lifecycle.backoff_seconds(5, 20, None, middle) == 900
    assert lifecycle.backoff_seconds(5, 1, 5000.0, middle) == 900


def test_backoff_jitter_is_drawn_between_half_and_one_and_a_half():
    drawn: list[tuple[float, float]] = []

    def jitter(low: float, high: float) -> float:
        drawn.append((low, high))
        return 1.0

    assert lifecycle.backoff_seconds(4, 2, None, jitter) == 8
    assert drawn == [(0.5, 1.5)]
