"""Transactional outbox: a phase to enqueue is written with the state change that wants it,
then sent after commit. A send that fails leaves the row for the sweeper to republish."""
from __future__ import annotations

import json
import sys
import uuid

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from chalicelib.bootstrap import Deps
from chalicelib.db.models import OutboxMessage
from chalicelib.domain.commands import RunPhase
from chalicelib.domain.phases import Phase


def add(session: Session, generation_id: uuid.UUID, phase: Phase, delay_seconds: int = 0) -> RunPhase:
    statement = insert(OutboxMessage).values(
        generation_id=generation_id, phase=phase.value, delay_seconds=delay_seconds, published_at=None,
    )
    session.execute(statement.on_conflict_do_update(
        index_elements=["generation_id", "phase"],
        set_={"delay_seconds": delay_seconds, "created_at": statement.excluded.created_at, "published_at": None,
              "republish_count": 0},
    ))
    return RunPhase(generation_id=generation_id, phase=phase)


def add_if_missing(session: Session, generation_id: uuid.UUID, phase: Phase) -> None:
    """A row for the sweeper's rule to republish when due; an existing row keeps its schedule."""
    session.execute(insert(OutboxMessage).values(
        generation_id=generation_id, phase=phase.value, delay_seconds=0, published_at=None,
    ).on_conflict_do_nothing(index_elements=["generation_id", "phase"]))


def send(deps: Deps, command: RunPhase, delay_seconds: int = 0) -> bool:
    """Send after commit. False (and a warning) when SQS refused; the sweeper will retry."""
    try:
        deps.queue.send(command.body(), delay_seconds=delay_seconds)
        return True
    except Exception as exc:
        print(json.dumps({
            "level": "warning", "message": "enqueue failed; the sweeper will republish",
            "generation_id": str(command.generation_id), "phase": command.phase.value,
            "error": type(exc).__name__,
        }), file=sys.stdout)
        return False
