"""Webhooks: create, list, delete, rotate the secret; a webhook's deliveries; redeliver one.

The signing secret is kept as AI keys are: in the secret store (deps.webhook_secrets, Secrets Manager),
Postgres holding only its ref. It is returned once, by create and by rotate, and never logged. A new
secret goes to a new secret entry, switched to in the same transaction; the old one is forgotten only
after the change committed.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from chalicelib import log as logger
from chalicelib.api_models import (
    WebhookCreate,
    WebhookDeliveryList,
    WebhookDeliveryPublic,
    WebhookList,
    WebhookPublic,
    WebhookWithSecret,
)
from chalicelib.db.models import Webhook, WebhookDelivery, WebhookEvent
from chalicelib.domain.commands import DeliverWebhook
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound
from chalicelib.ports import Deps
from chalicelib.services import events
from chalicelib.services.orders import parse_id
from chalicelib.webhooks.http import UrlRefused, check_url
from chalicelib.webhooks.signing import new_secret


def to_public(row: Webhook) -> WebhookPublic:
    return WebhookPublic(
        id=str(row.id),
        url=row.url,
        events=list(row.events),
        description=row.description,
        created_at=row.created_at,
        updated_at=row.updated_at,
        secret_rotated_at=row.secret_rotated_at,
    )


def delivery_public(row: WebhookDelivery, event_type: str) -> WebhookDeliveryPublic:
    open_ = row.status in ("pending", "sending")
    return WebhookDeliveryPublic(
        id=str(row.id),
        webhook_id=str(row.webhook_id),
        event_id=str(row.event_id),
        event_type=event_type,
        status=row.status,
        attempts=row.attempts,
        last_status_code=row.last_status_code,
        last_attempt_at=row.last_attempt_at,
        last_error=row.last_error,
        next_attempt_at=row.next_attempt_at if open_ else None,
        retry_until=row.retry_until,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )


def _load(session: Session, webhook_id: str, lock: bool = False) -> Webhook:
    row = session.get(Webhook, parse_id(webhook_id, "webhook"), with_for_update=lock)
    if row is None:
        raise NotFound(f"webhook {webhook_id!r} not found")
    return row


def _check(url: str) -> None:
    try:
        check_url(url)
    except UrlRefused as exc:
        raise InvalidInput(str(exc), field="url") from None


def _forget(deps: Deps, ref: str) -> None:
    try:
        deps.webhook_secrets.delete(ref)
    except Exception as exc:  # the change stands; the leftover secret is reported, not fatal
        logger.warning("could not delete a webhook secret", ref=ref, error=type(exc).__name__)


def create_webhook(deps: Deps, command: WebhookCreate) -> WebhookWithSecret:
    _check(command.url)
    webhook_id, secret = uuid.uuid4(), new_secret()
    ref = deps.webhook_secrets.put(str(webhook_id), secret)
    try:
        with deps.uow() as uow:
            now = deps.clock()
            row = Webhook(
                id=webhook_id,
                url=command.url,
                events=list(command.events),
                description=command.description,
                secret_ref=ref,
                created_at=now,
                updated_at=now,
            )
            uow.session.add(row)
            uow.commit()
    except Exception:
        _forget(deps, ref)
        raise
    logger.info("webhook created", webhook_id=str(webhook_id), events=list(command.events))
    return WebhookWithSecret(**to_public(row).model_dump(), secret=secret)


def list_webhooks(deps: Deps) -> WebhookList:
    with deps.uow() as uow:
        rows = uow.session.scalars(select(Webhook).order_by(Webhook.created_at, Webhook.id))
        return WebhookList(items=[to_public(r) for r in rows])


def get_webhook(deps: Deps, webhook_id: str) -> WebhookPublic:
    with deps.uow() as uow:
        return to_public(_load(uow.session, webhook_id))


def delete_webhook(deps: Deps, webhook_id: str) -> None:
    """Its deliveries go with it (a message still on the queue for one finds nothing and is dropped)."""
    with deps.uow() as uow:
        row = _load(uow.session, webhook_id, lock=True)
        ref = row.secret_ref
        uow.session.delete(row)
        uow.commit()
    _forget(deps, ref)
    logger.info("webhook deleted", webhook_id=webhook_id)


def rotate_secret(deps: Deps, webhook_id: str) -> WebhookWithSecret:
    """A new secret, from now on; deliveries sent from now on are signed with it."""
    with deps.uow() as uow:
        wid = _load(uow.session, webhook_id).id
    secret = new_secret()
    new_ref = deps.webhook_secrets.put(f"{wid}-{uuid.uuid4().hex[:12]}", secret)
    try:
        with deps.uow() as uow:
            row = _load(uow.session, webhook_id, lock=True)
            old_ref = row.secret_ref
            now = deps.clock()
            row.secret_ref, row.secret_rotated_at, row.updated_at = new_ref, now, now
            uow.commit()
            public = to_public(row)
    except Exception:
        _forget(deps, new_ref)
        raise
    if old_ref != new_ref:
        _forget(deps, old_ref)
    logger.info("webhook secret rotated", webhook_id=webhook_id)
    return WebhookWithSecret(**public.model_dump(), secret=secret)


# --- deliveries ----------------------------------------------------------------------------------------
def _cursor(raw: str | None) -> tuple[datetime, uuid.UUID] | None:
    if raw is None:
        return None
    try:
        at, _, did = raw.partition("_")
        return datetime.fromisoformat(at), uuid.UUID(did)
    except ValueError:
        raise InvalidInput("cursor is not a valid cursor", field="cursor") from None


def list_deliveries(deps: Deps, webhook_id: str, limit: int, cursor: str | None) -> WebhookDeliveryList:
    """Newest first."""
    after = _cursor(cursor)
    with deps.uow() as uow:
        s = uow.session
        wid = _load(s, webhook_id).id
        query = (
            select(WebhookDelivery, WebhookEvent.type)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.webhook_id == wid)
        )
        if after is not None:
            query = query.where(tuple_(WebhookDelivery.created_at, WebhookDelivery.id) < tuple_(*after))
        rows = s.execute(
            query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(limit + 1)
        ).all()
        items = [delivery_public(d, t) for d, t in rows[:limit]]
        last = rows[limit - 1][0] if len(rows) > limit else None
    return WebhookDeliveryList(
        items=items, next_cursor=f"{last.created_at.isoformat()}_{last.id}" if last else None
    )


def redeliver(deps: Deps, webhook_id: str, delivery_id: str) -> WebhookDeliveryPublic:
    """Send it again, as it was (same event id and payload), with a fresh 24 hours of retries."""
    did = parse_id(delivery_id, "delivery")
    with deps.uow() as uow:
        s = uow.session
        wid = _load(s, webhook_id).id
        row = s.execute(
            select(WebhookDelivery, WebhookEvent.type)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.id == did, WebhookDelivery.webhook_id == wid)
            .with_for_update(of=WebhookDelivery)
        ).first()
        if row is None:
            raise NotFound(f"delivery {delivery_id!r} of webhook {webhook_id!r} not found")
        delivery, event_type = row
        now = deps.clock()
        if delivery.status == "sending" and delivery.lease_expires_at and delivery.lease_expires_at > now:
            raise Conflict("this delivery is being sent right now; look again in a few seconds")
        reset_for_redelivery(delivery, now)
        uow.commit()
        public = delivery_public(delivery, event_type)
    events.send(deps, [DeliverWebhook(webhook_delivery_id=did)])
    logger.info("webhook delivery queued again", webhook_id=webhook_id, delivery_id=delivery_id)
    return public


def reset_for_redelivery(delivery: WebhookDelivery, now: datetime) -> None:
    delivery.status, delivery.next_attempt_at, delivery.queued_at = "pending", now, now
    delivery.retry_until = now + timedelta(seconds=events.RETRY_WINDOW_S)
    delivery.finished_at = delivery.lease_expires_at = None
