"""Read-only views: health of the dependencies (GET /health/dependencies; GET /health is liveness only
and touches nothing), queue depth, a page of logs."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select, text

from chalicelib.api_models import HealthPublic, LogLinePublic, LogPage, QueuePublic
from chalicelib.db.models import Generation, OutboxMessage
from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.phases import ACTIVE
from chalicelib.ports import Deps
from chalicelib.services.orders import parse_id

MAX_LOG_PAGE = 500


HEALTH_CACHE_S = 5.0  # deep checks are repeated at most this often per container, however often asked


def health(deps: Deps) -> HealthPublic:
    """Every dependency probed (Postgres, SQS, DynamoDB, S3), the answer kept for HEALTH_CACHE_S."""
    cached: tuple[float, HealthPublic] | None = deps.__dict__.get("_health")
    if cached is not None and time.monotonic() < cached[0]:
        return cached[1]
    result = _probe(deps)
    deps.__dict__["_health"] = (time.monotonic() + HEALTH_CACHE_S, result)
    return result


def _probe(deps: Deps) -> HealthPublic:
    def database() -> None:
        with deps.uow() as uow:
            uow.session.execute(text("SELECT 1"))

    checks: dict[str, str] = {}
    probes: dict[str, Callable[[], None]] = {
        "database": database,
        "queue": deps.queue.ping,
        "logs": deps.logs.ping,
        "sites": deps.sites.ping,
    }
    for name, probe in probes.items():
        try:
            probe()
            checks[name] = "ok"
        except Exception as exc:  # a probe names the dependency, never its secrets
            checks[name] = f"down: {type(exc).__name__}"
    down = [name for name, state in checks.items() if state != "ok"]
    return HealthPublic(
        status="unavailable" if down else "ok", checks=checks, down=down, instance=deps.settings.instance_id
    )


def queue_stats(deps: Deps) -> QueuePublic:
    """SQS's own counts, plus what only Postgres knows: dead letters kept for redrive, and the age of
    the oldest phase waiting to start (outbox rows are deleted when their phase is claimed)."""
    from chalicelib.services.dead_letters import pending_count

    stats = deps.queue.stats()
    with deps.uow() as uow:
        oldest = uow.session.scalar(
            select(func.min(OutboxMessage.created_at + OutboxMessage.delay_seconds * timedelta(seconds=1)))
            .join(Generation, Generation.id == OutboxMessage.generation_id)
            .where(Generation.status.in_([s.value for s in ACTIVE]))
        )
    age = max(0, int((deps.clock() - oldest).total_seconds())) if oldest else None
    return QueuePublic(
        queue=stats.queue,
        visible=stats.visible,
        in_flight=stats.in_flight,
        delayed=stats.delayed,
        dead_letter=stats.dead_letter + pending_count(deps),
        oldest_age_seconds=age,
    )


def log_page(deps: Deps, generation_id: str, after: str | None, limit: int) -> LogPage:
    gid = parse_id(generation_id, "generation")
    if not 1 <= limit <= MAX_LOG_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_LOG_PAGE}", field="limit")
    if after is not None and (len(after) > 200 or not after.isprintable()):
        raise InvalidInput("after is not a valid cursor", field="after")
    with deps.uow() as uow:
        gen = uow.session.execute(
            select(Generation.status, Generation.updated_at).where(Generation.id == gid)
        ).one_or_none()
    if gen is None:
        raise NotFound(f"generation {generation_id!r} not found")
    lines = deps.logs.page(str(gid), after or None, limit)
    items = [LogLinePublic(**line.public()) for line in lines]
    return LogPage(
        items=items,
        next_cursor=items[-1].cursor if items else (after or "0"),
        generation_status=gen.status,
        generation_updated_at=gen.updated_at,
    )
