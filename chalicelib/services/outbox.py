"""Transactional outbox: a phase to enqueue is written with the state change that wants it,
then sent after commit. A send that fails leaves the row for the sweeper to republish."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from chalicelib import log as logger
from chalicelib.db.models import OutboxMessage
from chalicelib.domain.commands import RunPhase
from chalicelib.domain.phases import Phase
from chalicelib.ports import Deps


def add(
    session: Session, generation_id: uuid.UUID, phase: Phase, delay_seconds: int = 0, part: str | None = None
) -> RunPhase:
    statement = insert(OutboxMessage).values(
        generation_id=generation_id,
        phase=phase.value,
        part=part or "",
        delay_seconds=delay_seconds,
        published_at=None,
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["generation_id", "phase", "part"],
            set_={
                "delay_seconds": delay_seconds,
                "created_at": statement.excluded.created_at,
                "published_at": None,
                "republish_count": 0,
            },
        )
    )
    return RunPhase(generation_id=generation_id, phase=phase, part=part)


def add_parts(session: Session, generation_id: uuid.UUID, phase: Phase, parts: list[str]) -> list[RunPhase]:
    """One row per part, in one statement (a fan-out)."""
    if parts:
        session.execute(
            insert(OutboxMessage)
            .values(
                [
                    {
                        "generation_id": generation_id,
                        "phase": phase.value,
                        "part": part,
                        "delay_seconds": 0,
                        "published_at": None,
                    }
                    for part in parts
                ]
            )
            .on_conflict_do_nothing(index_elements=["generation_id", "phase", "part"])
        )
    return [RunPhase(generation_id=generation_id, phase=phase, part=part) for part in parts]


def add_if_missing(session: Session, generation_id: uuid.UUID, phase: Phase, part: str | None = None) -> None:
    """A row for the sweeper's rule to republish when due; an existing row keeps its schedule."""
    session.execute(
        insert(OutboxMessage)
        .values(
            generation_id=generation_id,
            phase=phase.value,
            part=part or "",
            delay_seconds=0,
            published_at=None,
        )
        .on_conflict_do_nothing(index_elements=["generation_id", "phase", "part"])
    )


def send_many(deps: Deps, commands: list[RunPhase]) -> bool:
    """A fan-out's messages in SendMessageBatch calls; on failure the rows stay for the sweeper."""
    if len(commands) <= 1:
        return all(send(deps, c) for c in commands)
    try:
        deps.queue.send_many([c.body() for c in commands])
        return True
    except Exception as exc:
        _warn(commands[0], exc)
        return False


def row_command(row: OutboxMessage) -> RunPhase:
    return RunPhase(generation_id=row.generation_id, phase=Phase(row.phase), part=row.part or None)


def send(deps: Deps, command: RunPhase, delay_seconds: int = 0) -> bool:
    """Send after commit. False (and a warning) when SQS refused; the sweeper will retry."""
    try:
        deps.queue.send(command.body(), delay_seconds=delay_seconds)
        return True
    except Exception as exc:
        _warn(command, exc)
        return False


def _warn(command: RunPhase, exc: Exception) -> None:
    logger.warning(
        "enqueue failed; the sweeper will republish",
        generation_id=str(command.generation_id),
        phase=command.label(),
        error=type(exc).__name__,
    )
