"""Events for webhooks: `emit` writes them in the transaction that causes them (a transactional outbox).

One statement per call, whatever the number of events and webhooks: it stores each event once, with
its id, only while some webhook wants its type, and one delivery row per webhook that wants it
(status `pending`, due now, retried for 24 hours). A rolled-back transaction leaves neither. The
state changes that emit are guarded (a generation ends once, under its row lock), and the unique
(type, subject, occurred_at) makes a second emit of the same change a no-op: an event never gets two
ids. After commit the caller sends the returned commands (`send`): one SQS message per delivery on
the generation queue, in one SendMessageBatch; a lost send is republished by the sweeper.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from chalicelib import log as logger
from chalicelib.db.models import Generation
from chalicelib.domain.commands import DeliverWebhook
from chalicelib.domain.events import EventType
from chalicelib.ports import Deps

RETRY_WINDOW_S = 24 * 3600  # a delivery is retried this long, then dead-lettered

_EMIT = """
WITH new_events (id, type, subject, occurred_at, payload, order_id) AS (VALUES {values}),
ev AS (
  INSERT INTO webhook_events (id, type, subject, occurred_at, payload)
  SELECT n.id, n.type, n.subject, n.occurred_at,
         n.payload || COALESCE((SELECT jsonb_build_object('order', jsonb_build_object(
                                  'id', CAST(o.id AS text), 'external_ref', o.external_ref))
                                FROM orders o WHERE o.id = n.order_id), CAST('{{}}' AS jsonb))
  FROM new_events n
  WHERE EXISTS (SELECT 1 FROM webhooks w WHERE w.events @> jsonb_build_array(n.type))
  ON CONFLICT (type, subject, occurred_at) DO NOTHING
  RETURNING id, type, occurred_at
)
INSERT INTO webhook_deliveries (id, webhook_id, event_id, status, attempts, next_attempt_at, queued_at,
                                retry_until, created_at)
SELECT gen_random_uuid(), w.id, ev.id, 'pending', 0, ev.occurred_at,
       CASE WHEN CAST(:queued AS boolean) THEN ev.occurred_at END,
       ev.occurred_at + make_interval(secs => CAST(:window AS integer)), ev.occurred_at
FROM ev JOIN webhooks w ON w.events @> jsonb_build_array(ev.type)
RETURNING id
"""
_ROW = (
    "(CAST(:id{n} AS uuid), CAST(:type{n} AS varchar), CAST(:subject{n} AS varchar), "
    "CAST(:at{n} AS timestamptz), CAST(:payload{n} AS jsonb), CAST(:order{n} AS uuid))"
)


def emit(
    session: Session,
    event_type: EventType | str,
    payload: dict[str, Any],
    *,
    subject: str | None = None,
    at: datetime | None = None,
    order_id: uuid.UUID | str | None = None,
    queued: bool = True,
) -> list[DeliverWebhook]:
    """Add one event to the transaction of `session`. `subject` and `at` identify the state change (a
    second emit of the same one adds nothing); `order_id` adds the order's id and external_ref to the
    payload. `queued=False` when the caller cannot send (the dead-letter handler): the sweeper sends
    those. Returns the deliveries to send after commit."""
    return emit_many(session, [(event_type, payload, subject, at, order_id)], queued=queued)


def emit_many(
    session: Session,
    events: Iterable[tuple[Any, dict[str, Any], str | None, datetime | None, Any]],
    queued: bool = True,
) -> list[DeliverWebhook]:
    """Several events (type, payload, subject, at, order_id) in the same single statement."""
    params: dict[str, Any] = {"queued": queued, "window": RETRY_WINDOW_S}
    rows = []
    for n, (event_type, payload, subject, at, order_id) in enumerate(events):
        when = at or datetime.now(UTC)
        params.update(
            {
                f"id{n}": str(uuid.uuid4()),
                f"type{n}": EventType(event_type).value,
                f"subject{n}": (subject or str(uuid.uuid4()))[:100],
                f"at{n}": when,
                f"payload{n}": json.dumps(payload, default=str),
                f"order{n}": str(order_id) if order_id else None,
            }
        )
        rows.append(_ROW.format(n=n))
    if not rows:
        return []
    ids = session.execute(text(_EMIT.format(values=", ".join(rows))), params).scalars().all()
    return [DeliverWebhook(webhook_delivery_id=i) for i in ids]


def send(deps: Deps, commands: list[DeliverWebhook], delay_seconds: int = 0) -> bool:
    """After commit: the deliveries' messages (one SendMessageBatch). False, and a warning, when SQS
    refused; the rows stay `pending` and the sweeper sends them again."""
    if not commands:
        return True
    try:
        if len(commands) == 1:
            deps.queue.send(commands[0].body(), delay_seconds=delay_seconds)
        else:
            deps.queue.send_many([c.body() for c in commands])
        return True
    except Exception as exc:
        logger.warning(
            "webhook delivery not enqueued; the sweeper will send it",
            deliveries=[str(c.webhook_delivery_id) for c in commands],
            error=type(exc).__name__,
        )
        return False


# --- the events of a generation ---------------------------------------------------------------------------
def generation_payload(gen: Generation) -> dict[str, Any]:
    return {
        "generation": {
            "id": str(gen.id),
            "order_id": str(gen.order_id),
            "status": gen.status,
            "error": gen.error,
            "site_url": gen.site_url,
            "created_at": _iso(gen.created_at),
            "finished_at": _iso(gen.finished_at),
            "source_generation_id": str(gen.source_generation_id) if gen.source_generation_id else None,
            "regenerated_page": gen.regenerated_page,
        }
    }


def generation_ended(gen: Generation) -> list[tuple[Any, dict[str, Any], str, datetime | None, Any]]:
    """The events of a generation that just ended (as `emit_many` takes them): generation.<status>, and
    page.regenerated when a page regeneration succeeded."""
    payload = generation_payload(gen)
    events: list[tuple[Any, dict[str, Any], str, datetime | None, Any]] = [
        (f"generation.{gen.status}", payload, str(gen.id), gen.finished_at, gen.order_id)
    ]
    if gen.status == "succeeded" and gen.regenerated_page:
        events.append(
            (
                EventType.PAGE_REGENERATED,
                {**payload, "page": gen.regenerated_page},
                str(gen.id),
                gen.finished_at,
                gen.order_id,
            )
        )
    return events


def emit_generation_ended(session: Session, gen: Generation, queued: bool = True) -> list[DeliverWebhook]:
    return emit_many(session, generation_ended(gen), queued=queued)


# --- the hook for order versions (issue 14, section 1) ------------------------------------------------------
def version_published(
    order_id: uuid.UUID | str,
    version_id: uuid.UUID | str,
    at: datetime,
    payload: dict[str, Any] | None = None,
) -> tuple[Any, dict[str, Any], str, datetime | None, Any]:
    """The event of a version made live (as `emit_many` takes it); `payload` is the version as shown."""
    data = {"version": {"id": str(version_id), "order_id": str(order_id), **(payload or {})}}
    return EventType.VERSION_PUBLISHED, data, f"{version_id}", at, order_id


def emit_version_published(
    session: Session,
    *,
    order_id: uuid.UUID | str,
    version_id: uuid.UUID | str,
    at: datetime,
    payload: dict[str, Any] | None = None,
) -> list[DeliverWebhook]:
    """Inside the transaction that publishes (or rolls back to) a version (versions.publish); `send(deps,
    result)` after its commit. The pipeline emits it with the generation's own events, in one statement."""
    return emit_many(session, [version_published(order_id, version_id, at, payload)])


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
