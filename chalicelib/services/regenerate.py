"""Regenerate one page of a finished generation: a new generation of the same order that reuses every
output but that page's. Brief and sitemap are copied as succeeded; content and code copy the other
pages' parts (marked reused) and run the page's own parts; review and publish run on the whole site.
History shows it as a generation with `source_generation_id` and `regenerated_page`."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from chalicelib.api_models import GenerationPublic
from chalicelib.db.models import Generation, PartRun, PhaseRun
from chalicelib.domain import lifecycle
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.phases import PHASES, GenerationStatus, Phase, PhaseStatus
from chalicelib.phases.outputs import Sitemap
from chalicelib.phases.part_steps import slugs_of
from chalicelib.ports import Deps
from chalicelib.services import outbox
from chalicelib.services.generations import _active_id, to_public
from chalicelib.services.orders import parse_id
from chalicelib.services.progress import ProgressLog

REUSED_PHASES = (Phase.BRIEF, Phase.SITEMAP)
FIRST = Phase.CONTENT


def regenerate_page(deps: Deps, generation_id: str, slug: str, instructions: str | None) -> GenerationPublic:
    source_id = parse_id(generation_id, "generation")
    with deps.uow() as uow:
        s = uow.session
        source = s.get(Generation, source_id)
        if source is None:
            raise NotFound(f"generation {generation_id!r} not found")
        if source.status != GenerationStatus.SUCCEEDED:
            raise Conflict(
                f"only a succeeded generation's page can be regenerated (this one is {source.status})"
            )
        runs = {r.phase: r for r in s.scalars(select(PhaseRun).where(PhaseRun.generation_id == source_id))}
        if slug not in slugs_of(Sitemap.model_validate(runs[Phase.SITEMAP.value].output)):
            raise NotFound(f"generation {generation_id!r} has no page {slug!r}")
        parts = s.scalars(
            select(PartRun).where(
                PartRun.generation_id == source_id,
                PartRun.status == PhaseStatus.SUCCEEDED,
                PartRun.part != slug,
            )
        )
        now = deps.clock()
        gen = Generation(
            id=uuid.uuid4(),
            order_id=source.order_id,
            status=lifecycle.NEW_GENERATION,
            source_generation_id=source_id,
            regenerated_page=slug,
            instructions=instructions or None,
        )
        s.add(gen)
        try:
            s.flush()  # the one-active-generation-per-order index speaks here
        except IntegrityError:
            s.rollback()
            raise Conflict(
                "this order already has an active generation",
                active_generation_id=_active_id(deps, source.order_id),
            ) from None
        new_runs = [_copy_run(gen.id, p, i, runs[p.value]) for i, p in enumerate(PHASES)]
        s.add_all(new_runs)
        s.add_all(
            PartRun(
                generation_id=gen.id,
                phase=p.phase,
                part=p.part,
                position=p.position,
                status=lifecycle.REUSED_RUN,
                attempts=0,
                started_at=p.started_at,
                finished_at=p.finished_at,
                output=p.output,
                reused=True,
            )
            for p in parts
        )
        command = outbox.add(s, gen.id, FIRST)
        s.flush()
        s.refresh(gen)
        public = to_public(gen, new_runs)
        uow.commit()
    wishes = " with the customer's wishes" if instructions else ""
    ProgressLog(deps.logs, str(gen.id)).lifecycle(
        "generation_queued",
        now,
        f"Regenerating page {slug}{wishes}; the other pages are reused from generation {source_id}",
        key="",
    )
    outbox.send(deps, command)
    return public


def _copy_run(gid: uuid.UUID, phase: Phase, position: int, source: PhaseRun) -> PhaseRun:
    if phase in REUSED_PHASES:
        return PhaseRun(
            generation_id=gid,
            phase=phase.value,
            position=position,
            status=lifecycle.REUSED_RUN,
            attempts=0,
            started_at=source.started_at,
            finished_at=source.finished_at,
            output=source.output,
        )
    return PhaseRun(
        generation_id=gid, phase=phase.value, position=position, status=lifecycle.NEW_RUN, attempts=0
    )
