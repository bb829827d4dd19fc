"""Run one phase of one generation: claim (tx 1), work (no tx), complete or fail (tx 2), enqueue.

The claim is a lease: in-progress with an expiry derived from the function's remaining time.
A duplicate of a finished phase is a no-op; a duplicate of a running phase whose lease holds is
a no-op; a delivery after the lease expired takes over. Completion is guarded by the lease token.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from chalicelib import log as logger
from chalicelib.ai.base import ResolvedConfig, resolved_from
from chalicelib.db.errors import server_detail
from chalicelib.db.models import AIConfig, AIRoute, Generation, Order, OutboxMessage, PhaseRun
from chalicelib.db.rows import rowcount
from chalicelib.domain import lifecycle
from chalicelib.domain.commands import DeliverWebhook, RunPhase
from chalicelib.domain.errors import PermanentError, PhaseError, RetryableError
from chalicelib.domain.order import OrderData
from chalicelib.domain.phases import PHASES, TASK_OF, GenerationStatus, Phase, PhaseStatus, next_phase
from chalicelib.domain.review import SendBack
from chalicelib.domain.sweep_rules import lease_holds
from chalicelib.faults import fault
from chalicelib.phases.steps import OUTPUT_OF, STEPS, PhaseContext
from chalicelib.ports import Deps
from chalicelib.services import events, outbox
from chalicelib.services.orders import to_data
from chalicelib.services.progress import ProgressLog
from chalicelib.services.versions import after_publish, publish_version


class UnknownGeneration(Exception):
    """The message names a generation that does not exist: poison, goes to the dead-letter queue."""


@dataclass(frozen=True)
class AlreadyDone:
    """The phase succeeded before: a duplicate. Its announcements are repeated idempotently, in case
    the invocation that finished it died between its commit and its log write or send."""

    finished_at: datetime
    generation_status: str
    site_url: str | None
    pending_next: RunPhase | None
    order_id: uuid.UUID | None = None
    live_url: str | None = None  # the generation is the order's live version, at this address
    published_at: datetime | None = None


@dataclass(frozen=True)
class Failure:
    """A phase that failed for good, as stored. A duplicate delivery repeats its lines idempotently,
    in case the invocation that failed it died between its commit and its log write."""

    phase_failed_at: datetime
    reason: str
    generation_failed_at: datetime | None  # set when the generation failed (not when it was cancelled)
    generation_error: str | None


@dataclass(frozen=True)
class Claim:
    run_id: int
    token: uuid.UUID
    attempt: int
    started_at: datetime
    order: OrderData
    outputs: dict[str, BaseModel]
    config: ResolvedConfig | None
    config_error: str | None
    last_failure: tuple[datetime, int, str] | None  # an earlier attempt's failure, whose line may be missing
    instructions: str | None = None  # a regenerated page's part only: the customer's wishes
    review_round: int = 0  # the review only: rounds of pages already sent back to the coding route
    sent_back: SentBack | None = None  # a code part the review sent back: its findings, its last answer
    prior_usage: dict[str, Any] | None = None  # what earlier runs (before a review round) used

    def with_prior(self, usage: dict[str, Any]) -> dict[str, Any]:
        """This run's usage plus the earlier runs': a page written twice costs twice, in the totals."""
        if not self.prior_usage:
            return usage
        from chalicelib.phases.part_steps import add_usage

        return add_usage({k: v for k, v in self.prior_usage.items() if k != "repairs"}, usage)


@dataclass(frozen=True)
class SentBack:
    findings: tuple[str, ...]
    previous: dict[str, Any]


def run_phase(deps: Deps, command: RunPhase, remaining_ms: int) -> str:
    """Returns a short outcome for the worker's own log line."""
    fault("before_claim", command.phase.value)
    claim = _claim(deps, command, remaining_ms)
    if isinstance(claim, str):
        return claim
    if isinstance(claim, AlreadyDone):
        _announce(deps, ProgressLog(deps.logs, str(command.generation_id)), command, claim)
        return "skipped: phase already succeeded (duplicate delivery)"
    if isinstance(claim, Failure):
        _announce_failure(ProgressLog(deps.logs, str(command.generation_id)), command, claim)
        return "skipped: phase already failed (duplicate delivery)"
    fault("after_claim", command.phase.value)
    logger.bind(attempt=claim.attempt)
    gid, phase = str(command.generation_id), command.phase
    log = ProgressLog(deps.logs, gid)
    if claim.last_failure is not None:
        _announce_retry(log, phase, *claim.last_failure)
    log.lifecycle(
        "phase_started",
        claim.started_at,
        f"Phase {phase} started (attempt {claim.attempt})",
        phase=phase.value,
        key=str(claim.attempt),
    )
    try:
        if claim.config_error:
            raise PermanentError(claim.config_error)
        provider = deps.provider(claim.config) if claim.config else None
        ctx = PhaseContext(
            gid, phase, claim.order, claim.outputs, provider, deps.sites, log, claim.review_round
        )
        output, usage = STEPS[phase](ctx)
        output = OUTPUT_OF[phase].model_validate(output.model_dump())
        fault("after_ai_call", command.phase.value)
        usage_metrics(phase, usage)
    except SendBack as back:  # the review's errors, in pages the coding route can write again
        log.flush()
        from chalicelib.services.review_rounds import send_back

        return send_back(deps, command, claim, back, log)
    except Exception as exc:  # every failure leaves a status, a reason and a log line
        log.flush()
        return _fail(deps, command, claim, _classify(exc), log)
    log.flush()
    try:
        return _complete(deps, command, claim, output, claim.with_prior(usage), log)
    except Exception as exc:  # e.g. a database error while storing the result: a fresh transaction records it
        return _fail(deps, command, claim, _classify(exc), log)


def _claim(deps: Deps, command: RunPhase, remaining_ms: int) -> Claim | AlreadyDone | Failure | str:
    now = deps.clock()
    lease = timedelta(milliseconds=max(5_000, remaining_ms - 1_000))
    with deps.uow() as uow:
        s = uow.session
        row = s.execute(
            select(Generation, Order)
            .join(Order, Order.id == Generation.order_id)
            .where(Generation.id == command.generation_id)
            .with_for_update(of=Generation)
        ).first()
        if row is None:
            raise UnknownGeneration(f"generation {command.generation_id} does not exist")
        gen, order = row
        runs = {r.phase: r for r in s.scalars(select(PhaseRun).where(PhaseRun.generation_id == gen.id))}
        run = runs[command.phase.value]
        if run.status == PhaseStatus.SUCCEEDED and run.finished_at is not None:
            nxt = next_phase(command.phase)
            pending = (
                nxt is not None
                and s.scalar(
                    select(OutboxMessage.id).where(
                        OutboxMessage.generation_id == gen.id, OutboxMessage.phase == nxt.value
                    )
                )
                is not None
            )
            live = order.live_generation_id == gen.id
            done = AlreadyDone(
                run.finished_at,
                gen.status,
                gen.site_url,
                RunPhase(generation_id=gen.id, phase=nxt) if pending and nxt else None,
                order.id,
                deps.live_url(str(order.id)) if live else None,
                gen.published_at,
            )
            # a row for this phase is stale (a sweep that raced the claim): republished, it would only
            # come back here, as long as the generation runs
            s.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.generation_id == gen.id, OutboxMessage.phase == command.phase.value
                )
            )
            uow.commit()
            return done
        failure = _failure(gen, run)
        if failure is not None:
            return failure
        if not lifecycle.is_active(gen.status):
            return f"skipped: generation is {gen.status}"
        if run.status == PhaseStatus.RUNNING and lease_holds(until := run.lease_expires_at, now):
            return f"skipped: phase is running elsewhere until {until and until.isoformat()}"
        earlier = PHASES[: PHASES.index(command.phase)]
        if any(runs[p.value].status != PhaseStatus.SUCCEEDED for p in earlier):
            return "skipped: an earlier phase has not succeeded (stale message)"
        try:
            config, config_error = _resolve(s, command.phase), None
        except _NoRoute as exc:
            config, config_error = None, exc.reason
        token = lifecycle.claim_run(run, now, lease)
        lifecycle.claim_generation(gen, command.phase.value, now)
        s.execute(
            delete(OutboxMessage).where(
                OutboxMessage.generation_id == gen.id, OutboxMessage.phase == command.phase.value
            )
        )
        outputs = {p.value: OUTPUT_OF[p].model_validate(runs[p.value].output) for p in earlier}
        last_failure = (
            (run.failed_at, run.failed_attempt, run.error)
            if run.failed_at and run.failed_attempt and run.error
            else None
        )
        claim = Claim(
            run.id,
            token,
            run.attempts,
            now,
            to_data(order),
            outputs,
            config,
            config_error,
            last_failure,
            review_round=gen.review_rounds,
            prior_usage=run.usage,
        )
        uow.commit()
    return claim


def usage_metrics(phase: Phase, usage: dict[str, Any]) -> None:
    """EMF: the model tokens of one phase's (or part's) calls, by phase and direction."""
    for direction in ("in", "out"):
        if tokens := usage.get(f"tokens_{direction}"):
            logger.metric("model_tokens", tokens, "Count", phase=phase.value, direction=direction)


def _resolve(s: Any, phase: Phase) -> ResolvedConfig | None:
    task = TASK_OF[phase]
    if task is None:
        return None
    rows = {
        r.task: r
        for r in s.execute(
            select(AIRoute.task, AIConfig)
            .outerjoin(AIConfig, AIConfig.id == AIRoute.config_id)
            .where(AIRoute.task.in_([task.value, "fallback"]))
        )
    }
    for key in (task.value, "fallback"):
        config = rows[key][1] if key in rows else None
        if config is not None and config.enabled:
            return resolved_from(config)
    raise _NoRoute(f"no enabled AI config is routed for task {task.value!r} (nor a fallback)")


class _NoRoute(PermanentError):
    pass


def _classify(exc: Exception) -> PhaseError:
    if isinstance(exc, PhaseError):
        return exc
    if isinstance(exc, DBAPIError):
        return RetryableError(f"database error ({type(exc.orig).__name__}): {_db_message(exc)}")
    if isinstance(exc, ValidationError):
        return RetryableError(
            f"output failed validation: {exc.error_count()} error(s), first: "
            f"{exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}"
        )
    from chalicelib.ai.http import redact  # only on this path: keeps urllib3 out of the import

    return RetryableError(redact(f"{type(exc).__name__}: {str(exc)[:300]}"))


def _db_message(exc: DBAPIError) -> str:
    detail = server_detail(exc)
    return str(detail.get("M", "") if isinstance(detail, dict) else detail)[:300]


def _complete(
    deps: Deps, command: RunPhase, claim: Claim, output: BaseModel, usage: dict[str, Any], log: ProgressLog
) -> str:
    now = deps.clock()
    follow_up, live_url = None, None
    deliveries: list[DeliverWebhook] = []
    with deps.uow() as uow:
        s = uow.session
        gen = s.get(Generation, command.generation_id, with_for_update=True)
        assert gen is not None
        updated = rowcount(
            s.execute(
                update(PhaseRun)
                .where(PhaseRun.id == claim.run_id, PhaseRun.lease_token == claim.token)
                .values(lifecycle.succeeded_values(now, output.model_dump(mode="json"), usage))
            )
        )
        if not updated:
            return "discarded: lease was taken over by another delivery"
        nxt = next_phase(command.phase)
        if not lifecycle.is_active(gen.status):
            pass  # cancelled, or failed meanwhile (time budget, dead letter): the output is kept, nothing else
        elif nxt is not None:
            follow_up = outbox.add(s, gen.id, nxt)
        else:
            lifecycle.succeed_generation(gen, now, getattr(output, "site_url", None))
            happened = events.generation_ended(gen)
            order = s.get(
                Order, gen.order_id, with_for_update={"key_share": True}
            )  # after the generation's lock
            assert order is not None
            if order.auto_publish:  # the new version goes live (else it waits as a preview)
                published = publish_version(s, order, gen, now)
                live_url = deps.live_url(str(order.id))
                if published.changed:
                    happened.append(events.version_published(order.id, gen.id, now, {"live_url": live_url}))
            deliveries = events.emit_many(s, happened)  # webhooks: in this transaction, one statement
        gen.updated_at = now
        fault("before_commit", command.phase.value)
        uow.commit()
        done = AlreadyDone(now, gen.status, gen.site_url, follow_up, gen.order_id, live_url, gen.published_at)
    fault("after_commit", command.phase.value)
    events.send(deps, deliveries)
    _announce(deps, log, command, done)
    return f"succeeded; next: {follow_up.phase if follow_up else 'none'}"


def _announce(deps: Deps, log: ProgressLog, command: RunPhase, done: AlreadyDone) -> None:
    log.lifecycle(
        "phase_succeeded", done.finished_at, f"Phase {command.phase} succeeded", phase=command.phase.value
    )
    if done.generation_status == GenerationStatus.SUCCEEDED and next_phase(command.phase) is None:
        if done.live_url is not None:
            if done.published_at is not None:  # first: generation_succeeded is the generation's last line
                log.lifecycle(
                    "version_published",
                    done.published_at,
                    f"Published: {done.live_url} now shows this version",
                )
            log.lifecycle(
                "generation_succeeded",
                done.finished_at,
                f"Site live at {done.live_url} (this version: {done.site_url})",
            )
            assert done.order_id is not None
            after_publish(deps, done.order_id, log)  # a duplicate delivery does it again: idempotent
        else:
            log.lifecycle(
                "generation_succeeded",
                done.finished_at,
                f"Version ready for review: {done.site_url} "
                "(auto_publish is off: publish it to make it live)",
            )
    if done.pending_next is not None:
        outbox.send(deps, done.pending_next)
    fault("after_send", command.phase.value)


def _fail(deps: Deps, command: RunPhase, claim: Claim, error: PhaseError, log: ProgressLog) -> str:
    now = deps.clock()
    reason = error.reason
    retry_delay = None
    deliveries: list[DeliverWebhook] = []
    with deps.uow() as uow:
        s = uow.session
        gen = s.get(Generation, command.generation_id, with_for_update=True)
        assert gen is not None
        run = s.get(PhaseRun, claim.run_id, with_for_update=True)
        if run is None or run.lease_token != claim.token:
            return "discarded: lease was taken over by another delivery"
        max_attempts = deps.settings.max_attempts
        if lifecycle.may_retry(error.retryable, run.attempts, max_attempts, gen.status):
            retry_delay = lifecycle.backoff_seconds(
                deps.settings.retry_base_seconds, run.attempts, error.retry_after
            )
            lifecycle.retry_run(run, now, reason)
            follow_up = outbox.add(s, gen.id, command.phase, retry_delay)
        else:
            lifecycle.fail_run(run, now, reason)
            if lifecycle.is_active(gen.status):
                error_text = f"phase {command.phase} failed after {run.attempts} attempt(s): {reason}"
                lifecycle.fail_generation(gen, now, error_text)
                deliveries = events.emit_generation_ended(s, gen)
        gen.updated_at = now
        attempts = run.attempts
        uow.commit()
        failure = _failure(gen, run)
    events.send(deps, deliveries)
    if retry_delay is not None:
        _announce_retry(log, command.phase, now, attempts, reason, f"retrying in {retry_delay}s")
        outbox.send(deps, follow_up, delay_seconds=retry_delay)
        return f"retrying in {retry_delay}s: {reason}"
    assert failure is not None
    _announce_failure(log, command, failure)
    return f"failed: {reason}"


def _announce_retry(
    log: ProgressLog, phase: Phase, at: datetime, attempt: int, reason: str, then: str = "retried"
) -> None:
    """Keyed by the failure's time and attempt stored in Postgres (phase_runs.failed_at, failed_attempt):
    the next claim writes it again, in case the invocation that failed died before writing it."""
    log.lifecycle(
        "phase_retrying",
        at,
        f"Phase {phase} attempt {attempt} failed: {reason}; {then}",
        phase=phase.value,
        level="warning",
        key=str(attempt),
    )


def _failure(gen: Generation, run: PhaseRun) -> Failure | None:
    if run.status != PhaseStatus.FAILED or run.finished_at is None:
        return None
    failed = gen.status == GenerationStatus.FAILED and gen.finished_at is not None
    return Failure(run.finished_at, run.error or "", gen.finished_at if failed else None, gen.error)


def _announce_failure(log: ProgressLog, command: RunPhase, failure: Failure) -> None:
    log.lifecycle(
        "phase_failed",
        failure.phase_failed_at,
        f"Phase {command.phase} failed: {failure.reason}",
        phase=command.phase.value,
        level="error",
    )
    if failure.generation_failed_at is not None:
        log.generation_failed(failure.generation_failed_at, failure.generation_error or failure.reason)


def report(outcome: str, command: RunPhase) -> None:
    logger.info(
        "message handled",
        generation_id=str(command.generation_id),
        phase=command.phase.value,
        part=command.part,
        outcome=outcome,
    )
