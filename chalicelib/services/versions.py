"""Versions of an order's site: list, publish (and so roll back), switch the live address, prune.

A version is a generation that succeeded. Its files stay under `sites/<generation id>/`, written once
and never replaced (the preview). The order's live address shows one version: Postgres says which
(`orders.live_generation_id`, changed in a transaction), and the serving side follows a pointer per
order (CloudFront KeyValueStore on AWS, `live/<order id>.json` in the bucket locally), switched with
one write after that transaction commits. `orders.pointer_generation_id` is what the pointer was last
confirmed to hold; where the two differ the sweeper writes the pointer again.

Locks: a generation's row before its order's (as the worker completing a generation does); orders are
locked FOR NO KEY UPDATE, which does not block inserting a generation of the order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from chalicelib import log as logger
from chalicelib.db.models import Generation, Order, PhaseRun
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.phases import GenerationStatus
from chalicelib.ports import Deps
from chalicelib.services import events
from chalicelib.services.orders import parse_id
from chalicelib.services.progress import ProgressLog

if TYPE_CHECKING:  # the worker uses this module too, and never loads the HTTP schemas
    from chalicelib.api_models import VersionList, VersionPublic


@dataclass(frozen=True)
class Published:
    """What publish_version changed (for the caller's own records, e.g. a webhook's outbox row)."""

    order_id: uuid.UUID
    generation_id: uuid.UUID
    previous_generation_id: uuid.UUID | None
    published_at: datetime
    changed: bool  # False: the version was live already, nothing changed


def publish_version(session: Session, order: Order, generation: Generation, now: datetime) -> Published:
    """Make `generation` the live version of `order`, inside the caller's transaction; the caller has
    locked both rows (generation first) and commits, then calls `switch_live` to move the pointer.
    Raises Conflict for a generation that is not a version (not succeeded) or whose files are gone."""
    if generation.order_id != order.id:
        raise NotFound(f"order {str(order.id)!r} has no version {str(generation.id)!r}")
    if generation.status != GenerationStatus.SUCCEEDED:
        raise Conflict(f"only a generation that succeeded is a version (this one is {generation.status})")
    if generation.files_deleted_at is not None:
        raise Conflict(
            "this version's files were deleted (keep-the-last-N): it can no longer be published; "
            "regenerate the site instead"
        )
    previous = order.live_generation_id
    if previous == generation.id:
        return Published(order.id, generation.id, previous, generation.published_at or now, changed=False)
    order.live_generation_id = generation.id
    generation.published_at = now
    generation.updated_at = now
    return Published(order.id, generation.id, previous, now, changed=True)


def _lock_order(s: Session, oid: uuid.UUID) -> Order | None:
    return s.get(Order, oid, with_for_update={"key_share": True})


def publish(deps: Deps, order_id: str, generation_id: str) -> VersionList:
    """POST /orders/{id}/versions/{generation_id}/publish: publish a preview, or roll back to an older
    version. Idempotent: publishing the live version changes nothing."""
    oid, gid = parse_id(order_id, "order"), parse_id(generation_id, "version")
    now = deps.clock()
    with deps.uow() as uow:
        s = uow.session
        gen = s.get(Generation, gid, with_for_update=True)
        order = _lock_order(s, oid)
        if order is None:
            raise NotFound(f"order {order_id!r} not found")
        if gen is None:
            raise NotFound(f"order {order_id!r} has no version {generation_id!r}")
        result = publish_version(s, order, gen, now)
        deliveries = (
            events.emit_version_published(
                s, order_id=oid, version_id=gid, at=now, payload={"live_url": deps.live_url(str(oid))}
            )
            if result.changed
            else []
        )
        uow.commit()
    events.send(deps, deliveries)
    if result.changed:
        ProgressLog(deps.logs, str(gid)).lifecycle(
            "version_published", now, f"Published: {deps.live_url(str(oid))} now shows this version"
        )
    after_publish(deps, oid)
    return list_versions(deps, order_id)


def after_publish(deps: Deps, oid: uuid.UUID, log: ProgressLog | None = None) -> bool:
    """After a commit that changed the live version: switch the pointer, then delete the files of versions
    beyond the last N. Never raises: a pointer that could not be written is written by the sweeper (and
    the version list shows the switch as pending). True when the pointer is in step."""
    try:
        victims = switch_live(deps, oid)
    except Exception as exc:
        _report("live pointer not switched; the sweeper retries it every minute", oid, exc)
        if log is not None:
            log.info(
                f"The live address still shows the previous version: {type(exc).__name__}; "
                "it is switched again every minute",
                phase="publish",
                level="warning",
            )
            log.flush()
        return False
    try:
        for gid, paths in victims.items():
            deps.sites.delete(f"sites/{gid}", paths)
    except Exception as exc:  # marked deleted already: the files stay in the bucket (storage only)
        _report("old versions' files not deleted", oid, exc)
    if victims:
        logger.info(
            "old versions pruned",
            order_id=str(oid),
            generations=[str(g) for g in victims],
            keep_versions=deps.settings.keep_versions,
        )
    return True


def switch_live(deps: Deps, oid: uuid.UUID) -> dict[uuid.UUID, list[str]]:
    """One transaction under the order's row lock: write the pointer if it is behind Postgres (one small
    PutKey/PutObject; the lock keeps two switches of one order from landing out of order), record it,
    and mark the versions beyond the newest `keep_versions` whose files go: never the live one, and only
    once the pointer is in step (the serving side may show the version Postgres no longer calls live
    until then). Marked in the lock, a version cannot be published meanwhile. Returns the marked
    versions' files, for the caller to delete after the commit."""
    keep = deps.settings.keep_versions
    with deps.uow() as uow:
        s = uow.session
        row = s.execute(
            select(Order.live_generation_id, Order.pointer_generation_id)
            .where(Order.id == oid)
            .with_for_update(key_share=True)
        ).first()  # only the two ids: no need for the whole order
        if row is None or row.live_generation_id is None:
            return {}
        live = row.live_generation_id
        if live != row.pointer_generation_id:
            deps.live_pointer.put(str(oid), str(live))
            s.execute(update(Order).where(Order.id == oid).values(pointer_generation_id=live))
        kept = list(
            s.scalars(
                select(Generation.id)
                .where(
                    Generation.order_id == oid,
                    Generation.status == GenerationStatus.SUCCEEDED,
                    Generation.files_deleted_at.is_(None),
                )
                .order_by(Generation.seq.desc())
            )
        )
        victims = [gid for gid in kept[keep:] if gid != live]
        files: dict[uuid.UUID, list[str]] = {}
        if victims:
            s.execute(
                update(Generation).where(Generation.id.in_(victims)).values(files_deleted_at=deps.clock())
            )
            outputs: dict[uuid.UUID, dict[str, Any] | None] = dict(
                s.execute(
                    select(PhaseRun.generation_id, PhaseRun.output).where(
                        PhaseRun.generation_id.in_(victims), PhaseRun.phase == "code"
                    )
                ).all()
            )
            files = {gid: [f["path"] for f in (outputs.get(gid) or {}).get("files", [])] for gid in victims}
        uow.commit()
        return files


def pointers_behind(deps: Deps, limit: int) -> list[uuid.UUID]:
    with deps.uow() as uow:
        return list(
            uow.session.scalars(
                select(Order.id)
                .where(Order.live_generation_id.is_distinct_from(Order.pointer_generation_id))
                .order_by(Order.seq)
                .limit(limit)
            )
        )


def list_versions(deps: Deps, order_id: str) -> VersionList:
    from chalicelib.api_models import VersionList

    oid = parse_id(order_id, "order")
    with deps.uow() as uow:
        s = uow.session
        order = s.get(Order, oid)
        if order is None:
            raise NotFound(f"order {order_id!r} not found")
        gens = list(
            s.scalars(
                select(Generation)
                .where(Generation.order_id == oid, Generation.status == GenerationStatus.SUCCEEDED)
                .order_by(Generation.seq)
            )
        )
        ids = [g.id for g in gens]
        published: dict[uuid.UUID, dict[str, Any] | None] = (
            dict(
                s.execute(
                    select(PhaseRun.generation_id, PhaseRun.output).where(
                        PhaseRun.generation_id.in_(ids), PhaseRun.phase == "publish"
                    )
                ).all()
            )
            if ids
            else {}
        )
        pages = {gid: list(out["pages"]) for gid, out in published.items() if out and "pages" in out}
        older = [
            gid for gid in ids if gid not in pages
        ]  # published before versions existed: from the code output
        if older:
            for gid, out in s.execute(
                select(PhaseRun.generation_id, PhaseRun.output).where(
                    PhaseRun.generation_id.in_(older), PhaseRun.phase == "code"
                )
            ).all():
                pages[gid] = html_pages(out)
        items = [_version(deps, g, n, order, pages.get(g.id, [])) for n, g in enumerate(gens, start=1)]
        return VersionList(
            order_id=str(oid),
            live_url=deps.live_url(str(oid)),
            auto_publish=order.auto_publish,
            keep_versions=deps.settings.keep_versions,
            live_generation_id=str(order.live_generation_id) if order.live_generation_id else None,
            serving_generation_id=str(order.pointer_generation_id) if order.pointer_generation_id else None,
            switch_pending=order.live_generation_id != order.pointer_generation_id,
            items=list(reversed(items)),
        )


def html_pages(code_output: dict[str, Any] | None) -> list[str]:
    return [f["path"] for f in (code_output or {}).get("files", []) if f["path"].endswith(".html")]


def _version(deps: Deps, gen: Generation, number: int, order: Order, pages: list[str]) -> VersionPublic:
    from chalicelib.api_models import VersionPublic

    deleted = gen.files_deleted_at is not None
    return VersionPublic(
        generation_id=str(gen.id),
        number=number,
        live=gen.id == order.live_generation_id,
        created_at=gen.created_at,
        finished_at=gen.finished_at,
        published_at=gen.published_at,
        pages=pages,
        preview_url=None if deleted else (gen.site_url or deps.sites.url(f"sites/{gen.id}")),
        files_deleted_at=gen.files_deleted_at,
        source_generation_id=str(gen.source_generation_id) if gen.source_generation_id else None,
        regenerated_page=gen.regenerated_page,
    )


def _report(message: str, oid: uuid.UUID, exc: Exception) -> None:
    logger.error(message, order_id=str(oid), **logger.failure(exc))
