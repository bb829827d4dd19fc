"""Deliver one webhook (the queue worker's DeliverWebhook), and the sweeper's rules for deliveries.

One invocation: claim (one statement: `pending` and due, or `sending` whose lease expired → `sending`
with a lease), read the signing secret, sign and POST with no transaction open, record the answer
(one statement, guarded by the claim). A 2xx succeeds. Anything else is retried with exponential
backoff and jitter (30 s, 1, 2, 4 min ... at most 4 h apart) until 24 hours after the event, then the
delivery fails and becomes a dead letter (archived in `dead_letters`, counted by GET /queue, sent
again by the redrive) with a log line. A backoff SQS can delay (up to 900 s) goes out as a delayed
message at once; a longer one is left to the sweeper, which sends it when it is due within 900 s.
The body, and so the event id, is the same for every attempt; only the signature's timestamp moves.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from chalicelib import log as logger
from chalicelib.ai.egress import host_label
from chalicelib.db.models import DeadLetter, Webhook, WebhookDelivery, WebhookEvent
from chalicelib.db.rows import rowcount
from chalicelib.domain.commands import DeliverWebhook
from chalicelib.ports import Deps
from chalicelib.webhooks import http, signing

MAX_DELAY_S = 900  # SQS DelaySeconds
BASE_DELAY_S = 30
MAX_BACKOFF_S = 4 * 3600
DUE_SLACK = timedelta(seconds=5)  # SQS may hand a delayed message over a little early
_secret_cache: dict[str, str] = {}  # ref -> secret; a rotation makes a new ref


def backoff(attempts: int) -> int:
    delay: float = min(MAX_BACKOFF_S, BASE_DELAY_S * 2 ** (attempts - 1)) * random.uniform(0.8, 1.2)
    return max(1, round(delay))


def envelope(event_id: uuid.UUID, event_type: str, occurred_at: datetime, payload: dict[str, Any]) -> bytes:
    """The body every attempt sends, byte for byte."""
    return json.dumps(
        {"id": str(event_id), "type": event_type, "created_at": occurred_at.isoformat(), "data": payload},
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def deliver(deps: Deps, command: DeliverWebhook, remaining_ms: int) -> str:
    now = deps.clock()
    did = command.webhook_delivery_id
    lease = timedelta(seconds=max(5.0, min(remaining_ms / 1000 - 1, deps.settings.webhook_timeout_s + 30)))
    with deps.uow() as uow:
        claimed = uow.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == did,
                Webhook.id == WebhookDelivery.webhook_id,
                WebhookEvent.id == WebhookDelivery.event_id,
                or_(
                    and_(
                        WebhookDelivery.status == "pending",
                        WebhookDelivery.next_attempt_at <= now + DUE_SLACK,
                    ),
                    and_(WebhookDelivery.status == "sending", WebhookDelivery.lease_expires_at < now),
                ),
            )
            .values(
                status="sending",
                attempts=WebhookDelivery.attempts + 1,
                lease_expires_at=now + lease,
                last_attempt_at=now,
                queued_at=None,
            )
            .returning(
                WebhookDelivery.attempts,
                WebhookDelivery.retry_until,
                WebhookDelivery.webhook_id,
                Webhook.url,
                Webhook.secret_ref,
                WebhookEvent.id,
                WebhookEvent.type,
                WebhookEvent.occurred_at,
                WebhookEvent.payload,
            )
        ).first()
        if claimed is None:
            state = uow.session.scalar(select(WebhookDelivery.status).where(WebhookDelivery.id == did))
        uow.commit()
    if claimed is None:  # a duplicate, early or stale message: nothing to do
        return (
            f"skipped: delivery is {state}"
            if state
            else "skipped: no such delivery (its webhook was deleted)"
        )
    attempt, retry_until, webhook_id, url, secret_ref, event_id, event_type, occurred_at, payload = claimed
    facts = {
        "delivery_id": str(did),
        "webhook_id": str(webhook_id),
        "event_id": str(event_id),
        "event_type": event_type,
        "host": host_label(url),
        "attempt": attempt,
    }
    body = envelope(event_id, event_type, occurred_at, payload)
    status: int | None = None
    retryable = True
    try:
        secret = _secret(deps, secret_ref)
        signed = signing.header(secret, body, int(deps.clock().timestamp()))  # the time of this attempt
        headers = {
            signing.HEADER: signed,
            "Sitegen-Event-Id": str(event_id),
            "Sitegen-Event-Type": event_type,
            "Sitegen-Delivery-Id": str(did),
            "Sitegen-Delivery-Attempt": str(attempt),
        }
        answer = http.post(url, body, headers, deps.settings.webhook_timeout_s)
        status, error = answer.status, None
    except http.UrlRefused as exc:  # the address is not allowed (any more): retrying will not help
        error, retryable = str(exc), False
    except http.DeliveryFailed as exc:
        status, error = exc.status, exc.reason
    except KeyError:
        error = "the webhook's signing secret could not be read"
    except Exception as exc:  # noqa: BLE001 - e.g. the secret store unreachable: retried like a failed POST
        error = f"{type(exc).__name__} before the request was sent"
    return _record(deps, command, attempt, retry_until, status, error, retryable, facts)


def _secret(deps: Deps, ref: str) -> str:
    if ref not in _secret_cache:
        if len(_secret_cache) > 100:
            _secret_cache.clear()
        _secret_cache[ref] = deps.webhook_secrets.get(ref)
    return _secret_cache[ref]


def _record(
    deps: Deps,
    command: DeliverWebhook,
    attempt: int,
    retry_until: datetime,
    status: int | None,
    error: str | None,
    retryable: bool,
    facts: dict[str, Any],
) -> str:
    now = deps.clock()
    did = command.webhook_delivery_id
    delay = backoff(attempt) if error else 0
    gives_up = error is not None and (not retryable or now + timedelta(seconds=delay) > retry_until)
    values: dict[str, Any] = {"last_status_code": status, "last_error": error, "lease_expires_at": None}
    if error is None:
        values.update(status="succeeded", finished_at=now)
    elif gives_up:
        values.update(status="failed", finished_at=now)
    else:
        values.update(
            status="pending",
            next_attempt_at=now + timedelta(seconds=delay),
            queued_at=now if delay <= MAX_DELAY_S else None,
        )
    reason = _dead_reason(facts, attempt, error) if gives_up else None
    with deps.uow() as uow:
        s = uow.session
        recorded = rowcount(
            s.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == did,
                    WebhookDelivery.status == "sending",
                    WebhookDelivery.attempts == attempt,
                )
                .values(**values)
            )
        )
        if not recorded:
            return "discarded: the delivery was taken over (its lease expired)"
        if reason:
            _dead_letter(s, did, attempt, reason)
        uow.commit()
    if error is None:
        logger.info("webhook delivered", status=status, **facts)
        return f"delivered (HTTP {status})"
    if gives_up:
        logger.error("webhook delivery failed for good; dead-lettered", reason=reason, **facts)
        return f"dead-lettered: {error}"
    if delay <= MAX_DELAY_S:
        from chalicelib.services.events import send

        send(deps, [command], delay_seconds=delay)
    logger.warning(f"webhook delivery failed; retrying in {delay}s", error=error, status=status, **facts)
    return f"retrying in {delay}s: {error}"


def _dead_reason(facts: dict[str, Any], attempts: int, error: str | None) -> str:
    return (
        f"webhook delivery {facts['delivery_id']} ({facts['event_type']} to {facts['host']}) gave up after "
        f"{attempts} attempt(s): {error}"
    )[:2000]


def _dead_letter(session: Any, delivery_id: uuid.UUID, attempts: int, reason: str) -> None:
    session.execute(
        insert(DeadLetter)
        .values(
            message_id=f"webhook-delivery:{delivery_id}:{attempts}",
            body=json.dumps(DeliverWebhook(webhook_delivery_id=delivery_id).body()),
            reason=reason,
            generation_id=None,
            phase=None,
        )
        .on_conflict_do_nothing()
    )


# --- the sweeper's rules --------------------------------------------------------------------------------
def sweep(deps: Deps, lost_after_s: int = 120, limit: int = 500) -> dict[str, int]:
    """Send what is due within SQS's delay (backoffs over 15 min, and deliveries whose message was
    lost or whose sender died), and dead-letter what is past its 24 hours. Returns counts."""
    now = deps.clock()
    lost = now - timedelta(seconds=lost_after_s)
    d = WebhookDelivery
    sends: list[tuple[uuid.UUID, int]] = []
    dead: list[tuple[uuid.UUID, str]] = []
    with deps.uow() as uow:
        s = uow.session
        rows = s.execute(
            select(d, Webhook.url, WebhookEvent.type)
            .join(Webhook, Webhook.id == d.webhook_id)
            .join(WebhookEvent, WebhookEvent.id == d.event_id)
            .where(
                or_(
                    and_(d.status == "pending", d.retry_until < now),
                    and_(
                        d.status == "pending",
                        d.queued_at.is_(None),
                        d.next_attempt_at <= now + timedelta(seconds=MAX_DELAY_S),
                    ),
                    and_(
                        d.status == "pending",
                        d.queued_at.is_not(None),
                        d.next_attempt_at <= lost,
                        d.queued_at <= lost,
                    ),
                    and_(d.status == "sending", d.lease_expires_at < lost),
                )
            )
            .order_by(d.next_attempt_at)
            .limit(limit)
            .with_for_update(of=d, skip_locked=True)
        ).all()
        for row, url, event_type in rows:
            if row.retry_until < now:
                facts = {"delivery_id": str(row.id), "event_type": event_type, "host": host_label(url)}
                reason = _dead_reason(
                    facts,
                    row.attempts,
                    f"not delivered within 24 hours; last error: "
                    f"{row.last_error or 'none (never attempted)'}",
                )
                row.status, row.finished_at, row.lease_expires_at = "failed", now, None
                _dead_letter(s, row.id, row.attempts, reason)
                dead.append((row.id, reason))
                continue
            if row.status == "sending":  # its sender died: the attempt counted, the next one is due now
                row.status, row.next_attempt_at, row.lease_expires_at = "pending", now, None
            row.queued_at = now
            sends.append((row.id, max(0, math.ceil((row.next_attempt_at - now).total_seconds()))))
        uow.commit()
    sent = 0
    for did, delay in sends:  # after commit; a failed send leaves queued_at set: the lost-message rule
        try:
            deps.queue.send(DeliverWebhook(webhook_delivery_id=did).body(), delay_seconds=delay)
            sent += 1
        except Exception as exc:
            logger.warning(
                "webhook delivery not enqueued; the next sweep sends it",
                delivery_id=str(did),
                error=type(exc).__name__,
            )
    for did, reason in dead:
        logger.error("webhook delivery failed for good; dead-lettered", delivery_id=str(did), reason=reason)
    return {"webhooks_sent": sent, "webhooks_dead_lettered": len(dead)}


def messages_on_queue(session: Any) -> int:
    """Deliveries that have a message waiting on the generation queue (for the sweeper's backlog count)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.queued_at.is_not(None))
        )
        or 0
    )


def redrive(deps: Deps, command: DeliverWebhook) -> bool:
    """A dead letter of a delivery, sent back: a failed delivery gets a fresh 24 hours; True if sent."""
    from chalicelib.services.webhooks import reset_for_redelivery

    with deps.uow() as uow:
        row = uow.session.get(WebhookDelivery, command.webhook_delivery_id, with_for_update=True)
        if row is None or row.status == "succeeded":
            return False
        if row.status == "failed":
            reset_for_redelivery(row, deps.clock())
        uow.commit()
    deps.queue.send(command.body())
    return True
