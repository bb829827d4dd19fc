"""The state machine of a generation and of its runs (phase runs and part runs), in one place.

Every status change goes through a transition of these tables: (status now, action) -> status next.
A pair not in a table is an `IllegalTransition`. The functions below apply a transition to an object
that has `.status` and the fields the transition sets (an ORM row, or any plain object in tests);
the statuses a set-based SQL update may start from come from the same tables (`sources`, `target`).

Pure Python: no SQLAlchemy, no boto3, no chalice.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from chalicelib.domain.errors import IllegalTransition
from chalicelib.domain.phases import ACTIVE, GenerationStatus, PhaseStatus

G, P = GenerationStatus, PhaseStatus


class Action(StrEnum):
    CLAIM = "claim"  # an invocation takes the work (a phase of a generation, or a run)
    SUCCEED = "succeed"
    FAIL = "fail"  # for good
    RETRY = "retry"  # a run's attempt failed; it waits for the next one
    CANCEL = "cancel"
    RESUME = "resume"  # Resend: run again from the first phase that did not succeed
    TIME_OUT = "time_out"  # a generation over its total time budget
    SEND_BACK = "send_back"  # the review sends pages back: their code parts, and the review, wait again
    REOPEN = "reopen"  # the code phase runs again for the pages the review sent back


GENERATION_TRANSITIONS: Mapping[tuple[GenerationStatus, Action], GenerationStatus] = {
    (G.QUEUED, Action.CLAIM): G.RUNNING,
    (G.RUNNING, Action.CLAIM): G.RUNNING,  # each phase's claim
    (G.RUNNING, Action.SUCCEED): G.SUCCEEDED,
    (G.QUEUED, Action.FAIL): G.FAILED,  # a dead letter of its first message
    (G.RUNNING, Action.FAIL): G.FAILED,
    (G.QUEUED, Action.TIME_OUT): G.FAILED,
    (G.RUNNING, Action.TIME_OUT): G.FAILED,
    (G.QUEUED, Action.CANCEL): G.CANCELLED,
    (G.RUNNING, Action.CANCEL): G.CANCELLED,
    (G.FAILED, Action.RESUME): G.QUEUED,
    (G.CANCELLED, Action.RESUME): G.QUEUED,
}

RUN_TRANSITIONS: Mapping[tuple[PhaseStatus, Action], PhaseStatus] = {
    (P.PENDING, Action.CLAIM): P.RUNNING,
    (P.RETRYING, Action.CLAIM): P.RUNNING,
    (P.RUNNING, Action.CLAIM): P.RUNNING,  # a delivery after the lease expired takes over
    (P.RUNNING, Action.SUCCEED): P.SUCCEEDED,
    (P.RUNNING, Action.FAIL): P.FAILED,
    (P.RUNNING, Action.RETRY): P.RETRYING,
    (P.RUNNING, Action.CANCEL): P.PENDING,  # a fanned-out phase stops; a Resend fans out what is left
    (P.PENDING, Action.RESUME): P.PENDING,
    (P.RUNNING, Action.RESUME): P.PENDING,
    (P.RETRYING, Action.RESUME): P.PENDING,
    (P.FAILED, Action.RESUME): P.PENDING,
    (P.SUCCEEDED, Action.SEND_BACK): P.PENDING,  # a code part the review sent back
    (P.RUNNING, Action.SEND_BACK): P.PENDING,  # the review itself: it runs again once they are done
    (P.SUCCEEDED, Action.REOPEN): P.RUNNING,  # the code phase, while the parts sent back run
}

NEW_GENERATION = G.QUEUED  # a generation starts queued (a new one, or a page's regeneration)
NEW_RUN = P.PENDING  # a phase run or part run starts pending
REUSED_RUN = P.SUCCEEDED  # a regeneration's copy of a run it reuses as it was

S = TypeVar("S", GenerationStatus, PhaseStatus)


def next_status(table: Mapping[tuple[S, Action], S], status: str, action: Action) -> S:
    """The status `action` leads to from `status`, or IllegalTransition."""
    for (source, act), target in table.items():
        if source == status and act == action:
            return target
    raise IllegalTransition(status, action.value)


def sources(table: Mapping[tuple[S, Action], S], action: Action) -> list[str]:
    """The statuses `action` may start from: the WHERE of a set-based update."""
    return [source.value for source, act in table if act == action]


def target(table: Mapping[tuple[S, Action], S], action: Action) -> S:
    """The one status `action` leads to (each action of these tables has one)."""
    (found,) = {to for (_, act), to in table.items() if act == action}
    return found


def is_active(status: str) -> bool:
    """Queued or running: the generation may still change (and holds its order's one active slot)."""
    return status in ACTIVE


# --- runs (phase runs and part runs) -------------------------------------------------------------------
class Run(Protocol):
    status: str
    attempts: int
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    lease_token: uuid.UUID | None
    lease_expires_at: datetime | None
    failed_at: datetime | None
    failed_attempt: int | None


def claim_run(run: Run, now: datetime, lease: timedelta) -> uuid.UUID:
    """An invocation takes the run: one more attempt, started now, held by a new lease token until
    `now + lease`. Returns the token that guards its completion."""
    run.status = next_status(RUN_TRANSITIONS, run.status, Action.CLAIM)
    run.attempts, run.started_at = run.attempts + 1, now
    token = uuid.uuid4()
    run.lease_token, run.lease_expires_at = token, now + lease
    return token


def fan_out_run(run: Run, now: datetime) -> None:
    """A per-page phase is claimed by its fan-out: running while its parts run, with no lease of its
    own (its parts hold theirs) and no error of an earlier attempt."""
    run.status = next_status(RUN_TRANSITIONS, run.status, Action.CLAIM)
    run.attempts, run.started_at = run.attempts + 1, now
    run.error = run.lease_token = run.lease_expires_at = None


def _failed_attempt(run: Run, now: datetime, reason: str) -> None:
    run.error, run.failed_at, run.failed_attempt = reason, now, run.attempts
    run.lease_token, run.lease_expires_at = None, None


def retry_run(run: Run, now: datetime, reason: str) -> None:
    """The attempt failed with a retryable error: the run waits (retrying) for its next attempt; the
    failure's time and attempt are kept so that the next claim can repeat its log line."""
    run.status = next_status(RUN_TRANSITIONS, run.status, Action.RETRY)
    _failed_attempt(run, now, reason)


def fail_run(run: Run, now: datetime, reason: str) -> None:
    """The run failed for good (permanent error, attempts used up, or its generation ended)."""
    run.status = next_status(RUN_TRANSITIONS, run.status, Action.FAIL)
    _failed_attempt(run, now, reason)
    run.finished_at = now


RUN_RESET: dict[str, Any] = {
    "attempts": 0,
    "error": None,
    "lease_token": None,
    "lease_expires_at": None,
    "finished_at": None,
    "failed_at": None,
    "failed_attempt": None,
}  # what a resumed run forgets: a set-based update's values (with `status`)


def resume_run(run: Run) -> None:
    """Resend: the run starts over (pending, no attempts, no error, no lease)."""
    run.status = next_status(RUN_TRANSITIONS, run.status, Action.RESUME)
    for field, value in RUN_RESET.items():
        setattr(run, field, value)


def send_back_run(run: Run) -> None:
    """The review found errors in pages it sends back: it starts over (pending) once they are rewritten."""
    run.status = next_status(RUN_TRANSITIONS, run.status, Action.SEND_BACK)
    for field, value in RUN_RESET.items():
        setattr(run, field, value)
    run.started_at = None


def succeeded_values(now: datetime, output: dict[str, Any], usage: dict[str, Any] | None) -> dict[str, Any]:
    """A run that succeeds: the values of its update (guarded by its lease token, or by `running`)."""
    return {
        "status": target(RUN_TRANSITIONS, Action.SUCCEED),
        "output": output,
        "finished_at": now,
        "error": None,
        "lease_token": None,
        "lease_expires_at": None,
        "usage": usage or None,
    }


# --- generations -----------------------------------------------------------------------------------------
class Generation(Protocol):
    status: str
    current_phase: str | None
    error: str | None
    site_url: str | None
    updated_at: datetime
    finished_at: datetime | None
    budget_from: datetime
    failure_logged_at: datetime | None


def claim_generation(gen: Generation, phase: str, now: datetime) -> None:
    """A phase of the generation was claimed: the generation runs, at that phase."""
    gen.status = next_status(GENERATION_TRANSITIONS, gen.status, Action.CLAIM)
    gen.current_phase, gen.updated_at = phase, now


def succeed_generation(gen: Generation, now: datetime, site_url: str | None) -> None:
    """The last phase succeeded: the generation is a version, previewed at `site_url`."""
    gen.status = next_status(GENERATION_TRANSITIONS, gen.status, Action.SUCCEED)
    gen.finished_at, gen.updated_at, gen.site_url = now, now, site_url


def _end(gen: Generation, action: Action, now: datetime, error: str) -> None:
    gen.status = next_status(GENERATION_TRANSITIONS, gen.status, action)
    gen.finished_at, gen.updated_at, gen.error = now, now, error


def fail_generation(gen: Generation, now: datetime, error: str) -> None:
    """A phase or part failed for good, or its message went to the dead-letter queue."""
    _end(gen, Action.FAIL, now, error)


def time_out_generation(gen: Generation, now: datetime, budget_s: int, first_phase: str) -> None:
    """The generation did not finish within its total time budget: it fails, saying where it was."""
    at = gen.current_phase or first_phase
    error = f"gave up: not finished within the time budget of {budget_s // 60} min (at phase {at})"
    _end(gen, Action.TIME_OUT, now, error)


CANCELLED_REASON = "cancelled by user"


def cancel_generation(gen: Generation, now: datetime) -> None:
    """The user cancelled: no later phase starts (a running one may finish; its output is kept)."""
    _end(gen, Action.CANCEL, now, CANCELLED_REASON)


def resume_generation(gen: Generation, phase: str, now: datetime) -> None:
    """Resend: queued again at `phase`, with a fresh time budget and no error."""
    gen.status = next_status(GENERATION_TRANSITIONS, gen.status, Action.RESUME)
    gen.error, gen.finished_at, gen.failure_logged_at = None, None, None
    gen.current_phase, gen.updated_at, gen.budget_from = phase, now, now


# --- retries -----------------------------------------------------------------------------------------------
def may_retry(retryable: bool, attempts: int, max_attempts: int, generation_status: str) -> bool:
    """A failed attempt is retried when its error is retryable, attempts are left, and the generation
    is still active (a cancelled or failed generation starts nothing new)."""
    return retryable and attempts < max_attempts and is_active(generation_status)


MAX_BACKOFF_S = 900  # SQS's longest message delay


def backoff_seconds(
    base: int,
    attempts: int,
    retry_after: float | None,
    jitter: Callable[[float, float], float] = random.uniform,
) -> int:
    """The delay before the next attempt: exponential in the attempts made, with jitter (x0.5 to x1.5),
    at least what the provider asked for (`retry_after`), at most SQS's 15 minutes."""
    delay = base * 2 ** (attempts - 1) * jitter(0.5, 1.5)
    if retry_after:
        delay = max(delay, retry_after)
    return int(min(MAX_BACKOFF_S, round(delay)))
