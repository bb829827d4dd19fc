"""Start, resend (retry), cancel and read generations."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chalicelib.api_models import (
    GenerationList,
    GenerationPublic,
    PartPublic,
    PhasePublic,
    PhaseUsagePublic,
    UsageTotalsPublic,
)
from chalicelib.db.models import Generation, IdempotencyRecord, Order, OutboxMessage, PartRun, PhaseRun
from chalicelib.domain import lifecycle
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound
from chalicelib.domain.phases import ACTIVE, PHASES, GenerationStatus, Phase, PhaseStatus
from chalicelib.ports import Deps
from chalicelib.services import events, outbox
from chalicelib.services.orders import parse_id
from chalicelib.services.progress import ProgressLog


def _usage(run: PhaseRun | PartRun) -> PhaseUsagePublic | None:
    return PhaseUsagePublic.model_validate(run.usage) if run.usage else None


def _phase(run: PhaseRun, parts: list[PartRun]) -> PhasePublic:
    shown = [
        PartPublic(
            name=p.part,
            status=p.status,
            attempts=p.attempts,
            repairs=p.repairs,
            reused=p.reused,
            started_at=p.started_at,
            finished_at=p.finished_at,
            error=p.error,
            usage=_usage(p),
        )
        for p in sorted(parts, key=lambda p: p.position)
    ]
    usage = _usage(run)
    if usage is None and any(p.usage for p in shown):  # a running per-page phase: what its parts cost so far
        from chalicelib.phases.part_steps import add_usage

        total: dict[str, Any] = {}
        for p in parts:
            total = add_usage(total, {k: v for k, v in (p.usage or {}).items() if k != "repairs"})
        usage = PhaseUsagePublic.model_validate(total)
    return PhasePublic(
        name=run.phase,
        status=run.status,
        attempts=run.attempts,
        started_at=run.started_at,
        finished_at=run.finished_at,
        error=run.error,
        usage=usage,
        parts=shown,
        parts_done=sum(1 for p in parts if p.status == PhaseStatus.SUCCEEDED),
    )


def _totals(usages: list[PhaseUsagePublic]) -> UsageTotalsPublic:
    known = [u.cost_usd for u in usages if u.cost_usd is not None]
    return UsageTotalsPublic(
        tokens_in=sum(u.tokens_in for u in usages),
        tokens_out=sum(u.tokens_out for u in usages),
        ai_latency_ms=round(sum(u.latency_ms for u in usages), 2),
        cost_usd=round(sum(known), 6),
        cost_complete=len(known) == len(usages),
        phases_counted=len(usages),
    )


def to_public(gen: Generation, runs: list[PhaseRun], parts: list[PartRun] | None = None) -> GenerationPublic:
    runs = sorted(runs, key=lambda r: r.position)
    phases = [_phase(r, [p for p in parts or [] if p.phase == r.phase]) for r in runs]
    done = sum(
        1.0 if p.status == PhaseStatus.SUCCEEDED.value else p.parts_done / len(p.parts) if p.parts else 0.0
        for p in phases
    )  # a running per-page phase counts its finished parts
    return GenerationPublic(
        id=str(gen.id),
        order_id=str(gen.order_id),
        status=gen.status,
        current_phase=gen.current_phase,
        phases=phases,
        progress=round(done / len(runs), 4) if runs else 0.0,
        error=gen.error,
        site_url=gen.site_url,
        created_at=gen.created_at,
        updated_at=gen.updated_at,
        finished_at=gen.finished_at,
        usage=_totals([p.usage for p in phases if p.usage is not None]),
        source_generation_id=str(gen.source_generation_id) if gen.source_generation_id else None,
        regenerated_page=gen.regenerated_page,
        review_rounds=gen.review_rounds,
    )


R = TypeVar("R", PhaseRun, PartRun)


def _by_generation(
    session: Session, model: type[R], generation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[R]]:
    result: dict[uuid.UUID, list[R]] = {gid: [] for gid in generation_ids}
    if generation_ids:
        for row in session.scalars(select(model).where(model.generation_id.in_(generation_ids))):
            result[row.generation_id].append(row)
    return result


def _runs(session: Session, generation_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[PhaseRun]]:
    return _by_generation(session, PhaseRun, generation_ids)


def _parts(session: Session, generation_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[PartRun]]:
    return _by_generation(session, PartRun, generation_ids)


def _active_id(deps: Deps, order_id: uuid.UUID) -> str | None:
    with deps.uow() as uow:
        found = uow.session.scalar(
            select(Generation.id).where(
                Generation.order_id == order_id, Generation.status.in_([s.value for s in ACTIVE])
            )
        )
        return str(found) if found else None


def start_generation(deps: Deps, order_id: str, idempotency_key: str | None) -> GenerationPublic:
    oid = parse_id(order_id, "order")
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
        raise InvalidInput("Idempotency-Key must be 1 to 200 characters", field="Idempotency-Key")
    record_key = f"generate:{oid}:{idempotency_key}" if idempotency_key else None
    with deps.uow() as uow:
        s = uow.session
        if record_key and (record := s.get(IdempotencyRecord, record_key)):
            return GenerationPublic.model_validate(record.body)
        if s.get(Order, oid) is None:
            raise NotFound(f"order {order_id!r} not found")
        gen = Generation(id=uuid.uuid4(), order_id=oid, status=lifecycle.NEW_GENERATION)
        s.add(gen)
        runs = [
            PhaseRun(generation_id=gen.id, phase=p.value, position=i, status=lifecycle.NEW_RUN, attempts=0)
            for i, p in enumerate(PHASES)
        ]
        try:
            s.flush()
            s.add_all(runs)
            command = outbox.add(s, gen.id, PHASES[0])
            s.flush()
            s.refresh(gen)
            public = to_public(gen, runs)
            if record_key:
                s.add(IdempotencyRecord(key=record_key, status_code=202, body=public.model_dump(mode="json")))
                s.flush()
            uow.commit()
        except IntegrityError:
            uow.session.rollback()
            if record_key:
                with deps.uow() as again:
                    if record := again.session.get(IdempotencyRecord, record_key):
                        return GenerationPublic.model_validate(record.body)
            active = _active_id(deps, oid)
            raise Conflict(
                "this order already has an active generation", active_generation_id=active
            ) from None
    ProgressLog(deps.logs, str(gen.id)).lifecycle(
        "generation_queued", gen.created_at, "Generation queued", key=""
    )
    outbox.send(deps, command)
    return public


def _locked(session: Session, gid: uuid.UUID) -> Generation:
    gen = session.get(Generation, gid, with_for_update=True)
    if gen is None:
        raise NotFound(f"generation {str(gid)!r} not found")
    return gen


def retry_generation(deps: Deps, generation_id: str) -> GenerationPublic:
    gid = parse_id(generation_id, "generation")
    with deps.uow() as uow:
        s = uow.session
        gen = _locked(s, gid)
        if gen.status not in (GenerationStatus.FAILED, GenerationStatus.CANCELLED):
            raise Conflict(f"only a failed or cancelled generation can be resent (this one is {gen.status})")
        runs = sorted(_runs(s, [gid])[gid], key=lambda r: r.position)
        first = next((r for r in runs if r.status != PhaseStatus.SUCCEEDED), None)
        if first is None:
            raise Conflict("every phase already succeeded; start a new generation instead")
        for run in runs[first.position :]:
            lifecycle.resume_run(run)
        # a per-page phase's pages that succeeded are kept: only the others run again
        resume = lifecycle.Action.RESUME
        s.execute(
            update(PartRun)
            .where(
                PartRun.generation_id == gid,
                PartRun.phase.in_([r.phase for r in runs[first.position :]]),
                PartRun.status.in_(lifecycle.sources(lifecycle.RUN_TRANSITIONS, resume)),
            )
            .values(status=lifecycle.target(lifecycle.RUN_TRANSITIONS, resume), **lifecycle.RUN_RESET)
        )
        now = deps.clock()
        lifecycle.resume_generation(gen, first.phase, now)
        order_id = gen.order_id
        try:
            s.flush()  # the one-active-generation-per-order index speaks here
        except IntegrityError:
            s.rollback()
            raise Conflict(
                "this order already has an active generation", active_generation_id=_active_id(deps, order_id)
            ) from None
        command = outbox.add(s, gid, Phase(first.phase))
        public = to_public(gen, runs)
        uow.commit()
    ProgressLog(deps.logs, str(gid)).lifecycle(
        "generation_resumed", now, f"Resent: resuming at phase {first.phase}", phase=first.phase
    )
    outbox.send(deps, command)
    return public


def cancel_generation(deps: Deps, generation_id: str) -> GenerationPublic:
    gid = parse_id(generation_id, "generation")
    with deps.uow() as uow:
        s = uow.session
        gen = _locked(s, gid)
        if not lifecycle.is_active(gen.status):
            raise Conflict(f"generation already finished ({gen.status})")
        now = deps.clock()
        lifecycle.cancel_generation(gen, now)
        s.execute(delete(OutboxMessage).where(OutboxMessage.generation_id == gid))
        # a per-page phase that fanned out stops where it is: a part already running finishes, no other
        # starts, and the phase shows pending again (a Resend fans out what is left)
        cancel = lifecycle.Action.CANCEL
        s.execute(
            update(PhaseRun)
            .where(
                PhaseRun.generation_id == gid,
                PhaseRun.status.in_(lifecycle.sources(lifecycle.RUN_TRANSITIONS, cancel)),
                PhaseRun.lease_expires_at.is_(None),
            )
            .values(status=lifecycle.target(lifecycle.RUN_TRANSITIONS, cancel))
        )
        public = to_public(gen, _runs(s, [gid])[gid], _parts(s, [gid])[gid])
        deliveries = events.emit_generation_ended(s, gen)
        uow.commit()
    ProgressLog(deps.logs, str(gid)).lifecycle(
        "generation_cancelled", now, "Cancelled: no further phase will start", level="warning"
    )
    events.send(deps, deliveries)
    return public


def get_generation(deps: Deps, generation_id: str) -> GenerationPublic:
    gid = parse_id(generation_id, "generation")
    with deps.uow() as uow:
        gen = uow.session.get(Generation, gid)
        if gen is None:
            raise NotFound(f"generation {generation_id!r} not found")
        return to_public(gen, _runs(uow.session, [gid])[gid], _parts(uow.session, [gid])[gid])


def list_generations(deps: Deps, order_id: str) -> GenerationList:
    oid = parse_id(order_id, "order")
    with deps.uow() as uow:
        s = uow.session
        if s.get(Order, oid) is None:
            raise NotFound(f"order {order_id!r} not found")
        gens = list(
            s.scalars(select(Generation).where(Generation.order_id == oid).order_by(Generation.seq.desc()))
        )
        ids = [g.id for g in gens]
        runs, parts = _runs(s, ids), _parts(s, ids)
        return GenerationList(items=[to_public(g, runs[g.id], parts[g.id]) for g in gens])
