"""Runs every minute: republish outbox rows nobody claimed, re-enqueue phases whose lease expired,
fail generations over their total time budget, drop the outbox rows of generations that ended, write
the failure lines that are missing, switch live addresses whose pointer write failed. Logs what it did."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, tuple_, update

from chalicelib.db.models import Generation, OutboxMessage, PartRun, PhaseRun
from chalicelib.domain.phases import ACTIVE, PHASES, GenerationStatus, Phase, PhaseStatus
from chalicelib.ports import Deps
from chalicelib.services import events, outbox, webhook_delivery
from chalicelib.services.progress import ProgressLog

ACTIVE_NAMES = [s.value for s in ACTIVE]
MAX_DOUBLINGS = 4


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
    now = deps.clock()
    budget_s = budget_s or deps.settings.generation_budget_s
    report = SweepReport()
    queued = _waiting(deps)  # before the transaction: no network wait while rows are locked
    with deps.uow() as uow:
        s = uow.session
        # 1. Phases whose lease expired while the generation is still active: claimable again. SQS brings
        # the dead invocation's message back after the visibility timeout; in case it does not (a local
        # restart), an outbox row is added, republished by the rule below when due. The runs are locked
        # (skipping those a claim holds), so a claim that commits meanwhile takes its run out of the
        # result and one that comes after deletes the row.
        expired = s.execute(
            select(PhaseRun.generation_id, PhaseRun.phase)
            .join(Generation, Generation.id == PhaseRun.generation_id)
            .where(
                PhaseRun.status == PhaseStatus.RUNNING,
                PhaseRun.lease_expires_at < now,
                Generation.status.in_(ACTIVE_NAMES),
            )
            .limit(limit)
            .with_for_update(
                of=[PhaseRun, Generation], skip_locked=True
            )  # a claim locks the generation first
        ).all()
        for gid, phase in expired:
            outbox.add_if_missing(s, gid, Phase(phase))
        expired_parts = s.execute(
            select(PartRun.generation_id, PartRun.phase, PartRun.part)
            .join(Generation, Generation.id == PartRun.generation_id)
            .where(
                PartRun.status == PhaseStatus.RUNNING,
                PartRun.lease_expires_at < now,
                Generation.status.in_(ACTIVE_NAMES),
            )
            .limit(limit)
            .with_for_update(of=[PartRun, Generation], skip_locked=True)
        ).all()
        for gid, phase, part in expired_parts:
            outbox.add_if_missing(s, gid, Phase(phase), part)
        report.expired_leases = len(expired) + len(expired_parts)
        # 2. Generations over the total time budget.
        late = list(
            s.scalars(
                select(Generation)
                .where(
                    Generation.status.in_(ACTIVE_NAMES),
                    Generation.budget_from < now - timedelta(seconds=budget_s),
                )
                .with_for_update(skip_locked=True)
                .limit(limit)
            )
        )
        for gen in late:
            gen.status, gen.finished_at, gen.updated_at = GenerationStatus.FAILED, now, now
            gen.error = f"gave up: not finished within the time budget of {budget_s // 60} min (at phase {gen.current_phase or PHASES[0].value})"
        deliveries = events.emit_many(s, [e for gen in late for e in events.generation_ended(gen)])
        report.timed_out = len(late)
        # 3. Outbox rows not claimed in time (send lost, crash between commit and send, restart). A row
        # also lingers while its message waits in a backlog, so: nothing is republished while the queue
        # holds at least as many messages as there are rows waiting, and each republish doubles the
        # wait before the next one (60 s, 2, 4, 8, then every 16 min).
        backoff = func.power(2, func.least(OutboxMessage.republish_count, MAX_DOUBLINGS))
        due = OutboxMessage.delay_seconds * timedelta(seconds=1) + backoff * timedelta(
            seconds=republish_after_s
        )
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
        if rows:  # webhook deliveries' messages share the queue: they are no backlog of phases
            queued = max(0, queued - webhook_delivery.messages_on_queue(s))
        if rows and queued >= s.scalar(select(func.count()).select_from(active_rows.subquery())):
            report.backlog, rows = queued, []
        commands = [outbox.row_command(r) for r in rows]
        # 4. Rows of generations that ended: no phase of theirs will run again (a claim skips them), so
        # nothing else would ever remove them.
        ended = select(Generation.id).where(Generation.status.not_in(ACTIVE_NAMES))
        report.cleared = (
            s.execute(delete(OutboxMessage).where(OutboxMessage.generation_id.in_(ended))).rowcount or 0
        )
        if rows:
            s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([r.id for r in rows]))
                .values(published_at=now, republish_count=OutboxMessage.republish_count + 1)
            )
        uow.commit()
    report.republished = sum(outbox.send(deps, c) for c in commands)  # first: log lines may be slow
    events.send(deps, deliveries)
    report.failure_lines = _write_missing_failure_lines(deps, limit)  # the budget's failures among them
    for key, value in webhook_delivery.sweep(deps, max(0, 2 * republish_after_s), limit).items():
        setattr(report, key, value)
    report.pointers = _switch_live_pointers(deps, min(limit, 50))
    if any(asdict(report).values()):
        print(
            json.dumps({"level": "info", "message": "sweeper", **asdict(report)}), file=sys.stdout, flush=True
        )
    return report


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
        return (result.rowcount or 0) + (parts.rowcount or 0)


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
        first: dict = {}
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
