"""Per-page phases (content, code): fan-out, one invocation per part, fan-in.

- The phase's own message fans out: one transaction creates the parts' rows and outbox rows, marks
  the phase running, and the parts go to SQS in one SendMessageBatch.
- Each part is claimed like a phase (tx 1: in-progress with a lease), runs its AI call(s) with no
  transaction open, and completes (tx 2) guarded by its lease token.
- Fan-in: completing locks the generation row first, so two last parts finishing at once are
  serialized; the one that finds every part succeeded joins the outputs, completes the phase (only
  from `running`) and adds the next phase's outbox row. Exactly one next phase starts.
A duplicate delivery of a finished part repeats its announcements and sends a pending next phase;
of a failed part, its failure lines. Retries, attempts and backoff are those of phases.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert

from chalicelib import log as logger
from chalicelib.db.models import Generation, Order, OutboxMessage, PartRun, PhaseRun
from chalicelib.db.rows import rowcount
from chalicelib.domain import lifecycle
from chalicelib.domain.commands import DeliverWebhook, RunPhase
from chalicelib.domain.errors import PermanentError, PhaseError
from chalicelib.domain.order import OrderData
from chalicelib.domain.phases import PHASES, GenerationStatus, Phase, PhaseStatus, next_phase
from chalicelib.domain.sweep_rules import lease_holds
from chalicelib.faults import fault
from chalicelib.phases.part_steps import PartContext, add_usage, join_parts, part_schema, parts_of, run_part
from chalicelib.phases.steps import OUTPUT_OF
from chalicelib.ports import Deps
from chalicelib.services import events, outbox
from chalicelib.services.orders import to_data
from chalicelib.services.pipeline import (
    Claim,
    SentBack,
    UnknownGeneration,
    _classify,
    _NoRoute,
    _resolve,
    run_phase,
    usage_metrics,
)
from chalicelib.services.progress import ProgressLog

NOUN = {Phase.CONTENT: "pages", Phase.CODE: "files"}


def dispatch(deps: Deps, command: RunPhase, remaining_ms: int) -> str:
    """The queue handler's one entry: a part, a per-page phase's fan-out, or a whole phase."""
    if command.part is not None:
        return run_one_part(deps, command, remaining_ms)
    if command.phase in (Phase.CONTENT, Phase.CODE):
        return fan_out(deps, command)
    return run_phase(deps, command, remaining_ms)


# --- fan-out ---------------------------------------------------------------------------------------
def fan_out(deps: Deps, command: RunPhase) -> str:
    fault("before_claim", command.phase.value)
    now = deps.clock()
    gid, phase = command.generation_id, command.phase
    with deps.uow() as uow:
        s = uow.session
        row = s.execute(
            select(Generation, Order)
            .join(Order, Order.id == Generation.order_id)
            .where(Generation.id == gid)
            .with_for_update(of=Generation)
        ).first()
        if row is None:
            raise UnknownGeneration(f"generation {gid} does not exist")
        gen, order = row
        runs = {r.phase: r for r in s.scalars(select(PhaseRun).where(PhaseRun.generation_id == gid))}
        run = runs[phase.value]
        if not lifecycle.is_active(gen.status):
            return f"skipped: generation is {gen.status}"
        if run.status in (PhaseStatus.SUCCEEDED, PhaseStatus.FAILED, PhaseStatus.RUNNING):
            # fanned out before, or over: this message is a duplicate. The parts whose rows still wait
            # (the fan-out died before sending them) are sent again; a part already claimed is a no-op.
            waiting = (
                [
                    outbox.row_command(r)
                    for r in s.scalars(
                        select(OutboxMessage).where(
                            OutboxMessage.generation_id == gid,
                            OutboxMessage.phase == phase.value,
                            OutboxMessage.part != "",
                        )
                    )
                ]
                if run.status == PhaseStatus.RUNNING
                else []
            )
            s.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.generation_id == gid,
                    OutboxMessage.phase == phase.value,
                    OutboxMessage.part == "",
                )
            )
            uow.commit()
            outbox.send_many(deps, waiting)
            return f"skipped: phase is {run.status}" + (
                f"; sent {len(waiting)} waiting part(s) again" if waiting else ""
            )
        earlier = PHASES[: PHASES.index(phase)]
        if any(runs[p.value].status != PhaseStatus.SUCCEEDED for p in earlier):
            return "skipped: an earlier phase has not succeeded (stale message)"
        outputs = {p.value: OUTPUT_OF[p].model_validate(runs[p.value].output) for p in earlier}
        names = parts_of(phase, outputs)
        existing = {
            p.part: p
            for p in s.scalars(
                select(PartRun).where(PartRun.generation_id == gid, PartRun.phase == phase.value)
            )
        }
        missing = [
            {
                "generation_id": gid,
                "phase": phase.value,
                "part": name,
                "position": n,
                "status": lifecycle.NEW_RUN,
                "attempts": 0,
            }
            for n, name in enumerate(names)
            if name not in existing
        ]
        if missing:
            s.execute(insert(PartRun).values(missing).on_conflict_do_nothing())
        todo = [n for n in names if n not in existing or existing[n].status != PhaseStatus.SUCCEEDED]
        commands = outbox.add_parts(s, gid, phase, todo)
        s.execute(
            delete(OutboxMessage).where(
                OutboxMessage.generation_id == gid,
                OutboxMessage.phase == phase.value,
                OutboxMessage.part == "",
            )
        )
        lifecycle.fan_out_run(run, now)
        lifecycle.claim_generation(gen, phase.value, now)
        attempt, total, reused = run.attempts, len(names), len(names) - len(todo)
        if not todo:  # every part reused (a regenerated page's other pages): join them at once
            follow_up = _join(
                s, gid, phase, to_data(order), outputs, now, live_url=deps.live_url(str(order.id))
            )
        uow.commit()
    fault("after_commit", phase.value)
    log = ProgressLog(deps.logs, str(gid))
    log.lifecycle(
        "phase_started",
        now,
        f"Phase {phase} started: {total} {NOUN[phase]} in parallel"
        + (f" ({reused} reused)" if reused else ""),
        phase=phase.value,
        key=str(attempt),
    )
    if not todo:
        _announce_joined(deps, log, phase, now, follow_up)
        return "joined: every part was reused"
    outbox.send_many(deps, commands)
    fault("after_send", phase.value)
    return f"fanned out {len(commands)} part(s)"


# --- one part ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PartFailure:
    """A part that failed for good, as stored; `generation` when its failure failed the generation."""

    at: datetime
    reason: str
    generation: tuple[datetime, str] | None


def run_one_part(deps: Deps, command: RunPhase, remaining_ms: int) -> str:
    targets = (command.phase.value, command.label())
    fault("before_claim", *targets)
    claim = _claim(deps, command, remaining_ms)
    if isinstance(claim, str):
        return claim
    if isinstance(claim, PartFailure):
        _announce_failure(ProgressLog(deps.logs, str(command.generation_id)), command, claim)
        return "skipped: part already failed (duplicate delivery)"
    fault("after_claim", *targets)
    logger.bind(attempt=claim.attempt)
    log = ProgressLog(deps.logs, str(command.generation_id))
    phase, label = command.phase, command.label()
    if claim.last_failure is not None:
        _announce_retry(log, command, *claim.last_failure)
    log.lifecycle(
        "part_started",
        claim.started_at,
        f"{label} started (attempt {claim.attempt})",
        phase=phase.value,
        key=str(claim.attempt),
        part=command.part,
    )
    try:
        if claim.config_error:
            raise PermanentError(claim.config_error)
        assert claim.config is not None
        provider = deps.provider(claim.config)
        ctx = PartContext(
            str(command.generation_id),
            phase,
            command.part or "",
            claim.order,
            claim.outputs,
            provider,
            log,
            time.monotonic() + 0.9 * remaining_ms / 1000,
            claim.instructions,
            (claim.sent_back.findings, claim.sent_back.previous) if claim.sent_back else None,
        )
        output, usage = run_part(ctx)
        output = part_schema(phase, ctx.part).model_validate(output.model_dump())
        fault("after_ai_call", *targets)
        usage_metrics(phase, usage)
    except Exception as exc:  # every failure leaves a status, a reason and a log line
        log.flush()
        return _fail(deps, command, claim, _classify(exc), log)
    log.flush()
    try:
        return _complete(deps, command, claim, output, claim.with_prior(usage), log)
    except Exception as exc:
        return _fail(deps, command, claim, _classify(exc), log)


def _claim(deps: Deps, command: RunPhase, remaining_ms: int) -> Claim | PartFailure | str:
    now = deps.clock()
    lease = timedelta(milliseconds=max(5_000, remaining_ms - 1_000))
    gid, phase = command.generation_id, command.phase
    with deps.uow() as uow:
        s = uow.session
        row = s.execute(
            select(PartRun, Generation, Order)
            .join(Generation, Generation.id == PartRun.generation_id)
            .join(Order, Order.id == Generation.order_id)
            .where(PartRun.generation_id == gid, PartRun.phase == phase.value, PartRun.part == command.part)
            .with_for_update(of=PartRun)
        ).first()
        if row is None:
            if s.get(Generation, gid) is None:
                raise UnknownGeneration(f"generation {gid} does not exist")
            return f"skipped: {command.label()} is not a part of this generation (stale message)"
        part, gen, order = row
        if part.status == PhaseStatus.SUCCEEDED:
            return _duplicate_of_success(deps, s, uow, command, gen, part)
        if part.status == PhaseStatus.FAILED and part.finished_at is not None:
            # a duplicate: the invocation that failed it may have died before its lines; repeat them
            failed = gen.status == GenerationStatus.FAILED and gen.finished_at == part.finished_at
            return PartFailure(
                part.finished_at, part.error or "", (part.finished_at, gen.error or "") if failed else None
            )
        if not lifecycle.is_active(gen.status):
            return f"skipped: generation is {gen.status}"
        if part.status == PhaseStatus.RUNNING and lease_holds(until := part.lease_expires_at, now):
            return f"skipped: part is running elsewhere until {until and until.isoformat()}"
        earlier = PHASES[: PHASES.index(phase)]
        runs = {
            r.phase: r
            for r in s.scalars(
                select(PhaseRun).where(
                    PhaseRun.generation_id == gid, PhaseRun.phase.in_([p.value for p in earlier])
                )
            )
        }
        if any(runs[p.value].status != PhaseStatus.SUCCEEDED for p in earlier):
            return "skipped: an earlier phase has not succeeded (stale message)"
        try:
            config, config_error = _resolve(s, phase), None
        except _NoRoute as exc:
            config, config_error = None, exc.reason
        token = lifecycle.claim_run(part, now, lease)
        s.execute(
            delete(OutboxMessage).where(
                OutboxMessage.generation_id == gid,
                OutboxMessage.phase == phase.value,
                OutboxMessage.part == command.part,
            )
        )
        outputs = {p.value: OUTPUT_OF[p].model_validate(runs[p.value].output) for p in earlier}
        last_failure = (
            (part.failed_at, part.failed_attempt, part.error)
            if part.failed_at and part.failed_attempt and part.error
            else None
        )
        wishes = gen.instructions if gen.regenerated_page == command.part else None
        back = (
            SentBack(tuple(part.review_findings), part.output)
            if part.review_findings and part.output
            else None
        )
        claim = Claim(
            part.id,
            token,
            part.attempts,
            now,
            to_data(order),
            outputs,
            config,
            config_error,
            last_failure,
            instructions=wishes,
            sent_back=back,
            prior_usage=part.usage,
        )
        uow.commit()
    return claim


def _duplicate_of_success(
    deps: Deps, s: Any, uow: Any, command: RunPhase, gen: Generation, part: PartRun
) -> str:
    """The part succeeded before; the invocation that finished it may have died after its commit. Its
    lines are written again (keyed by the times stored in Postgres: no doubles); if it was the part that
    joined the phase, the phase's line too, and the next phase's message while its row still waits."""
    nxt = next_phase(command.phase)
    phase_done = s.scalar(
        select(PhaseRun.finished_at).where(
            PhaseRun.generation_id == gen.id,
            PhaseRun.phase == command.phase.value,
            PhaseRun.status == PhaseStatus.SUCCEEDED,
        )
    )
    joined_here = phase_done is not None and phase_done == part.finished_at
    pending = (
        joined_here
        and nxt is not None
        and lifecycle.is_active(gen.status)
        and s.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.generation_id == gen.id,
                OutboxMessage.phase == nxt.value,
                OutboxMessage.part == "",
            )
        )
        is not None
    )
    s.execute(
        delete(OutboxMessage).where(
            OutboxMessage.generation_id == gen.id,
            OutboxMessage.phase == command.phase.value,
            OutboxMessage.part == command.part,
        )
    )
    finished_at = part.finished_at
    uow.commit()
    log = ProgressLog(deps.logs, str(gen.id))
    if finished_at is not None:
        log.lifecycle(
            "part_succeeded",
            finished_at,
            f"{command.label()} succeeded",
            phase=command.phase.value,
            part=command.part,
        )
    if joined_here and phase_done is not None:
        _announce_joined(
            deps,
            log,
            command.phase,
            phase_done,
            RunPhase(generation_id=gen.id, phase=nxt) if pending and nxt else None,
        )
    return "skipped: part already succeeded (duplicate delivery)"


def _complete(
    deps: Deps, command: RunPhase, claim: Claim, output: BaseModel, usage: dict[str, Any], log: ProgressLog
) -> str:
    now = deps.clock()
    gid, phase = command.generation_id, command.phase
    follow_up = None
    with deps.uow() as uow:
        s = uow.session
        # the generation's row lock serializes the parts' completions: one of them sees the last
        status = s.scalar(
            update(Generation).where(Generation.id == gid).values(updated_at=now).returning(Generation.status)
        )
        updated = rowcount(
            s.execute(
                update(PartRun)
                .where(PartRun.id == claim.run_id, PartRun.lease_token == claim.token)
                .values(
                    **lifecycle.succeeded_values(now, output.model_dump(mode="json"), usage),
                    repairs=usage.get("repairs", 0),
                )
            )
        )
        if not updated:
            return "discarded: lease was taken over by another delivery"
        parts = s.execute(
            select(PartRun.part, PartRun.status, PartRun.output, PartRun.usage).where(
                PartRun.generation_id == gid, PartRun.phase == phase.value
            )
        ).all()
        done = sum(1 for p in parts if p.status == PhaseStatus.SUCCEEDED)
        joined = done == len(parts) and status is not None and lifecycle.is_active(status)
        if joined:
            follow_up = _join(
                s,
                gid,
                phase,
                claim.order,
                claim.outputs,
                now,
                {p.part: p.output for p in parts},
                [p.usage for p in parts],
                live_url=deps.live_url(claim.order.id),
            )
            joined = follow_up is not None
        fault("before_commit", phase.value, command.label())
        uow.commit()
    fault("after_commit", phase.value, command.label())
    log.lifecycle(
        "part_succeeded",
        now,
        f"{command.label()} succeeded: {phase}: {done} of {len(parts)} {NOUN[phase]} done",
        phase=phase.value,
        part=command.part,
    )
    if joined:
        _announce_joined(deps, log, phase, now, follow_up)
    fault("after_send", phase.value, command.label())
    return f"succeeded ({done}/{len(parts)})" + (f"; joined, next: {follow_up.phase}" if follow_up else "")


def _join(
    s: Any,
    gid: uuid.UUID,
    phase: Phase,
    order: OrderData,
    outputs: dict[str, BaseModel],
    now: datetime,
    parts: dict[str, Any] | None = None,
    usages: list[Any] | None = None,
    *,
    live_url: str,
) -> RunPhase | None:
    """Complete the phase from its parts (only from `running`: at most once) and add the next phase's row.
    The site is built for the order's live address: every version carries it (absolute sitemap.xml,
    robots.txt, og:url), so a version's files are the same in its preview and when live."""
    if parts is None:
        rows = s.execute(
            select(PartRun.part, PartRun.output, PartRun.usage).where(
                PartRun.generation_id == gid, PartRun.phase == phase.value
            )
        ).all()
        parts, usages = {r.part: r.output for r in rows}, [r.usage for r in rows]
    output = join_parts(phase, order, outputs, parts, base_url=live_url, asset_version=str(gid))
    total: dict[str, Any] = {}
    for usage in usages or []:
        total = add_usage(total, {k: v for k, v in (usage or {}).items() if k != "repairs"})
    if not rowcount(
        s.execute(
            update(PhaseRun)
            .where(
                PhaseRun.generation_id == gid,
                PhaseRun.phase == phase.value,
                PhaseRun.status.in_(lifecycle.sources(lifecycle.RUN_TRANSITIONS, lifecycle.Action.SUCCEED)),
            )
            .values(lifecycle.succeeded_values(now, output.model_dump(mode="json"), total))
        )
    ):
        return None
    nxt = next_phase(phase)
    assert nxt is not None  # content and code are never last
    return outbox.add(s, gid, nxt)


def _announce_joined(
    deps: Deps, log: ProgressLog, phase: Phase, at: datetime, follow_up: RunPhase | None
) -> None:
    log.lifecycle("phase_succeeded", at, f"Phase {phase} succeeded", phase=phase.value)
    if follow_up is not None:
        outbox.send(deps, follow_up)


def _fail(deps: Deps, command: RunPhase, claim: Claim, error: PhaseError, log: ProgressLog) -> str:
    now = deps.clock()
    gid, phase, label = command.generation_id, command.phase, command.label()
    reason, retry_delay, follow_up, gen_failed = error.reason, None, None, None
    deliveries: list[DeliverWebhook] = []
    with deps.uow() as uow:
        s = uow.session
        gen = s.get(Generation, gid, with_for_update=True)
        assert gen is not None
        part = s.get(PartRun, claim.run_id, with_for_update=True)
        if part is None or part.lease_token != claim.token:
            return "discarded: lease was taken over by another delivery"
        if lifecycle.may_retry(error.retryable, part.attempts, deps.settings.max_attempts, gen.status):
            retry_delay = lifecycle.backoff_seconds(
                deps.settings.retry_base_seconds, part.attempts, error.retry_after
            )
            lifecycle.retry_run(part, now, reason)
            follow_up = outbox.add(s, gid, phase, retry_delay, part=command.part)
        else:
            lifecycle.fail_run(part, now, reason)
            fail = lifecycle.Action.FAIL
            s.execute(
                update(PhaseRun)
                .where(
                    PhaseRun.generation_id == gid,
                    PhaseRun.phase == phase.value,
                    PhaseRun.status.in_(lifecycle.sources(lifecycle.RUN_TRANSITIONS, fail)),
                )
                .values(
                    status=lifecycle.target(lifecycle.RUN_TRANSITIONS, fail),
                    finished_at=now,
                    error=f"{label}: {reason}",
                )
            )
            if lifecycle.is_active(gen.status):
                error_text = (
                    f"phase {phase} failed: {label} failed after {part.attempts} attempt(s): {reason}"
                )
                lifecycle.fail_generation(gen, now, error_text)
                gen_failed = (now, error_text)
                deliveries = events.emit_generation_ended(s, gen)
        gen.updated_at = now
        attempts = part.attempts
        uow.commit()
    events.send(deps, deliveries)
    if follow_up is not None and retry_delay is not None:
        _announce_retry(log, command, now, attempts, reason, f"retrying in {retry_delay}s")
        outbox.send(deps, follow_up, delay_seconds=retry_delay)
        return f"retrying in {retry_delay}s: {reason}"
    _announce_failure(log, command, PartFailure(now, reason, gen_failed))
    return f"failed: {reason}"


def _announce_failure(log: ProgressLog, command: RunPhase, failure: PartFailure) -> None:
    """Keyed by the failure's time stored in Postgres: a duplicate delivery rewrites the same lines."""
    phase, label = command.phase, command.label()
    log.lifecycle(
        "part_failed",
        failure.at,
        f"{label} failed: {failure.reason}",
        phase=phase.value,
        level="error",
        part=command.part,
    )
    if failure.generation is not None:
        log.lifecycle(
            "phase_failed",
            failure.at,
            f"Phase {phase} failed: {label}: {failure.reason}",
            phase=phase.value,
            level="error",
        )
        log.generation_failed(*failure.generation)


def _announce_retry(
    log: ProgressLog, command: RunPhase, at: datetime, attempt: int, reason: str, then: str = "retried"
) -> None:
    log.lifecycle(
        "part_retrying",
        at,
        f"{command.label()} attempt {attempt} failed: {reason}; {then}",
        phase=command.phase.value,
        level="warning",
        key=str(attempt),
        part=command.part,
    )
