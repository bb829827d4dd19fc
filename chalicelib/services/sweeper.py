"""Runs every minute: republish outbox rows nobody claimed, re-enqueue phases whose lease expired,
fail generations over their total time budget, drop the outbox rows of generations that ended, write
the failure lines that are missing, switch live addresses whose pointer write failed. Logs what it did."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.orm import Session

from chalicelib import log as logger
from chalicelib.db.models import Generation, OutboxMessage, PartRun, PhaseRun
from chalicelib.db.rows import rowcount
from chalicelib.domain import lifecycle
from chalicelib.domain.commands import RunPhase
from chalicelib.domain.phases import ACTIVE, PHASES, GenerationStatus, Phase, PhaseStatus
from chalicelib.domain.sweep_rules import backlog_holds_rows, budget_cutoff
from chalicelib.ports import Deps
from chalicelib.services import events, outbox, webhook_delivery
from chalicelib.services.progress import ProgressLog

ACTIVE_NAMES = [s.value for s in ACTIVE]
MAX_DOUBLINGS = 4  # an unclaimed outbox row waits 1, 2, 4, 8, then every 16 times republish_after_s


@dataclass
class SweepReport:
    republished: int = 0
    expired_leases: int = 0
    timed_out: int = 0
    backlog: int = 0  # messages on the queue when due rows were left alone (they are likely among them)
    cleared: int = 0  # outbox rows left behind by generations that had ended
    failure_lines: int = 0  # generation_failed lines this sweep wrote: its own, and those that went missing
    webhooks_sent: int = 0  # webhook deliveries sent: long backoffs now due, lost messages, dead senders
    webhooks_dead_lettered: int = 0  # webhook deliveries past their 24 hours
    pointers: int = 0  # live addresses switched to the version Postgres says is live (a write that failed)


def sweep(
    deps: Deps, republish_after_s: int = 60, budget_s: int | None = None, limit: int = 500
) -> SweepReport:
    """The rules, in order. Rules 1 to 4 share one transaction; what they send goes after its commit."""
    now = deps.clock()
    budget_s = budget_s or deps.settings.generation_budget_s
    report = SweepReport()
    queued = _waiting(deps)  # before the transaction: no network wait while rows are locked
    with deps.uow() as uow:
        s = uow.session
        report.expired_leases = _requeue_expired_leases(s, now, limit)
        late = _time_out_late_generations(s, now, budget_s, limit)
        deliveries = events.emit_many(s, [e for gen in late for e in events.generation_ended(gen)])
        report.timed_out = len(late)
        commands, report.backlog = _republish_unclaimed_rows(s, now, queued, republish_after_s, limit)
        report.cleared = _clear_rows_of_ended_generations(s)
        uow.commit()
    report.republished = sum(outbox.send(deps, c) for c in commands)  # first: log lines may be slow
    events.send(deps, deliveries)
    report.failure_lines = _write_missing_failure_lines(deps, limit)  # the budget's failures among them
    for key, value in webhook_delivery.sweep(deps, max(0, 2 * republish_after_s), limit).items():
        setattr(report, key, value)
    report.pointers = _switch_live_pointers(deps, min(limit, 50))
    if any(asdict(report).values()):
        logger.info("sweeper", **asdict(report))
    return report


def _requeue_expired_leases(s: Session, now: datetime, limit: int) -> int:
    """1. Runs (phases and parts) whose lease expired while the generation is still active are claimable
    again. SQS brings the dead invocation's message back after the visibility timeout; in case it does
    not (a local restart), an outbox row is added, republished by rule 3 when due. The runs are locked
    (skipping those a claim holds), so a claim that commits meanwhile takes its run out of the result
    and one that comes after deletes the row. Returns how many runs it found."""
    found = 0
    for model in (PhaseRun, PartRun):
        part = [PartRun.part] if model is PartRun else []  # a phase run has none: its outbox row's is ""
        expired = s.execute(
            select(model.generation_id, model.phase, *part)
            .join(Generation, Generation.id == model.generation_id)
            .where(
                model.status == PhaseStatus.RUNNING,
                model.lease_expires_at < now,
                Generation.status.in_(ACTIVE_NAMES),
            )
            .limit(limit)
            .with_for_update(of=[model, Generation], skip_locked=True)  # a claim locks the generation first
        ).all()
        for gid, phase, *named in expired:
            outbox.add_if_missing(s, gid, Phase(phase), *named)
        found += len(expired)
    return found


def _time_out_late_generations(s: Session, now: datetime, budget_s: int, limit: int) -> list[Generation]:
    """2. Generations over their total time budget (counted from their start or last Resend) fail.
    Returns them (their webhook events are emitted by the caller)."""
    late = list(
        s.scalars(
            select(Generation)
            .where(
                Generation.status.in_(ACTIVE_NAMES),
                Generation.budget_from < budget_cutoff(now, budget_s),
            )
            .with_for_update(skip_locked=True)
            .limit(limit)
        )
    )
    for gen in late:
        lifecycle.time_out_generation(gen, now, budget_s, PHASES[0].value)
    return late


def _republish_unclaimed_rows(
    s: Session, now: datetime, queued: int, republish_after_s: int, limit: int
) -> tuple[list[RunPhase], int]:
    """3. Outbox rows not claimed in time (send lost, crash between commit and send, restart) are
    republished. A row also lingers while its message waits in a backlog, so: nothing is republished
    while the queue holds at least as many messages as there are rows waiting, and each republish
    doubles the wait before the next one (60 s, 2, 4, 8, then every 16 min). Returns the commands to
    send after commit, and the backlog seen when it left due rows alone (else 0)."""
    backoff = func.power(2, func.least(OutboxMessage.republish_count, MAX_DOUBLINGS))
    due = OutboxMessage.delay_seconds * timedelta(seconds=1) + backoff * timedelta(seconds=republish_after_s)
    active_rows = (
        select(OutboxMessage)
        .join(Generation, Generation.id == OutboxMessage.generation_id)
        .where(Generation.status.in_(ACTIVE_NAMES))
    )
    rows = list(
        s.scalars(
            active_rows.where(
                func.coalesce(OutboxMessage.published_at, OutboxMessage.created_at) + due <= now
            )
            .with_for_update(of=OutboxMessage, skip_locked=True)
            .limit(limit)
        )
    )
    if not rows:
        return [], 0
    webhook_messages = webhook_delivery.messages_on_queue(s)  # they share the queue: no backlog of phases
    waiting = s.scalar(select(func.count()).select_from(active_rows.subquery())) or 0
    if backlog_holds_rows(queued, webhook_messages, waiting):
        return [], max(0, queued - webhook_messages)
    s.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_([r.id for r in rows]))
        .values(published_at=now, republish_count=OutboxMessage.republish_count + 1)
    )
    return [outbox.row_command(r) for r in rows], 0


def _clear_rows_of_ended_generations(s: Session) -> int:
    """4. Outbox rows of generations that ended are deleted: no phase of theirs will run again (a claim
    skips them), so nothing else would ever remove them. Returns how many."""
    ended = select(Generation.id).where(Generation.status.not_in(ACTIVE_NAMES))
    return rowcount(s.execute(delete(OutboxMessage).where(OutboxMessage.generation_id.in_(ended))))


def _write_missing_failure_lines(deps: Deps, limit: int) -> int:
    """5. A failed generation's line is written by whoever failed it (this sweep, for the budget), after
    its commit; a crash or a log store outage there loses it. Until a sweep has seen the line in the
    store, it writes it (a conditional put keyed by the failure's time: an existing line refuses it).
    Returns how many it wrote."""
    with deps.uow() as uow:
        failed = uow.session.execute(
            select(Generation.id, Generation.finished_at, Generation.error)
            .where(
                Generation.status == GenerationStatus.FAILED,
                Generation.failure_logged_at.is_(None),
                Generation.finished_at.is_not(None),
            )
            .order_by(Generation.finished_at)
            .limit(limit)
        ).all()
    written, seen = 0, []
    for gid, at, error in failed:
        assert at is not None  # selected so
        result = ProgressLog(deps.logs, str(gid)).generation_failed(at, error or "")
        if result is None:
            break  # the store is down: one timeout per sweep, not one per generation
        written += result
        seen.append(gid)
    if seen:
        with deps.uow() as uow:
            uow.session.execute(
                update(Generation).where(Generation.id.in_(seen)).values(failure_logged_at=deps.clock())
            )
            uow.commit()
    return written


def _switch_live_pointers(deps: Deps, limit: int) -> int:
    """6. A live pointer is written after the commit that changed the live version; if that write failed
    (or the invocation died), the order's pointer is behind: write it now, then prune. Stops at the
    first failure (the pointer store is likely down: one timeout per sweep)."""
    from chalicelib.services.versions import after_publish, pointers_behind

    switched = 0
    for oid in pointers_behind(deps, limit):
        if not after_publish(deps, oid):
            break
        switched += 1
    return switched


def _waiting(deps: Deps) -> int:
    try:
        return deps.queue.waiting()
    except Exception:  # SQS unreachable: assume nothing is queued (the republish will say if it fails)
        return 0


def expire_all_leases(deps: Deps) -> int:
    """After a whole local stack restart no worker survives: every lease is void."""
    now = deps.clock()
    with deps.uow() as uow:
        result = uow.session.execute(
            update(PhaseRun)
            .where(PhaseRun.status == PhaseStatus.RUNNING, PhaseRun.lease_expires_at.is_not(None))
            .values(lease_expires_at=now)
        )
        parts = uow.session.execute(
            update(PartRun).where(PartRun.status == PhaseStatus.RUNNING).values(lease_expires_at=now)
        )
        uow.commit()
        return rowcount(result) + rowcount(parts)


def resume_in_flight(deps: Deps) -> SweepReport:
    """Enqueue every active generation's next phase again (Postgres is the source of truth)."""
    expire_all_leases(deps)
    with deps.uow() as uow:
        s = uow.session
        gens = list(s.scalars(select(Generation).where(Generation.status.in_(ACTIVE_NAMES))))
        runs = (
            s.scalars(
                select(PhaseRun)
                .where(PhaseRun.generation_id.in_([g.id for g in gens]))
                .order_by(PhaseRun.position)
            ).all()
            if gens
            else []
        )
        first: dict[uuid.UUID, PhaseRun] = {}
        for run in runs:
            if run.status != PhaseStatus.SUCCEEDED:
                first.setdefault(run.generation_id, run)
        fanned_out = [
            (gid, run.phase)
            for gid, run in first.items()
            if run.status == PhaseStatus.RUNNING and run.lease_expires_at is None
        ]  # a per-page phase: its unfinished parts go again
        parts = (
            s.execute(
                select(PartRun.generation_id, PartRun.phase, PartRun.part).where(
                    tuple_(PartRun.generation_id, PartRun.phase).in_(fanned_out),
                    PartRun.status != PhaseStatus.SUCCEEDED,
                )
            ).all()
            if fanned_out
            else []
        )
        for gid, phase, part in parts:
            outbox.add(s, gid, Phase(phase), part=part)
        for gid, run in first.items():
            if (gid, run.phase) not in fanned_out:
                outbox.add(s, gid, Phase(run.phase))
        uow.commit()
    return sweep(deps, republish_after_s=-(10**6))
