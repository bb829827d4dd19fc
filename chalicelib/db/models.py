"""Postgres tables (SQLAlchemy 2 typed ORM). The schema itself is owned by Alembic migrations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from chalicelib.domain.phases import ACTIVE, GenerationStatus


def status_in(statuses: tuple[str, ...]) -> str:
    """A partial index's predicate over `status`, e.g. "status IN ('queued', 'running')"."""
    return "status IN (" + ", ".join(f"'{status}'" for status in statuses) + ")"


# Migrations 0001 and 0005 spell these out (frozen); tests/unit/test_migration_predicates.py keeps them equal.
ACTIVE_PREDICATE = status_in(ACTIVE)
FAILURE_UNLOGGED_PREDICATE = f"status = '{GenerationStatus.FAILED}' AND failure_logged_at IS NULL"


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSONB, list[str]: JSONB}


def _now_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    seq: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    external_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    business_name: Mapped[str] = mapped_column(String(200))
    segment: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    services: Mapped[list[str]]
    contact: Mapped[dict[str, Any]]
    brand: Mapped[dict[str, Any]]
    locale: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = _now_column()
    # Versions of the site (chalicelib/services/versions.py): a success goes live by itself unless
    # auto_publish is off; the live version here, and what the serving side's pointer was last
    # confirmed to hold (written after commit; the sweeper writes it wherever the two differ).
    auto_publish: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    live_generation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("generations.id", use_alter=True, name="orders_live_generation_id_fkey")
    )
    pointer_generation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class Generation(Base):
    __tablename__ = "generations"
    __table_args__ = (
        # The database, not read-then-write, guarantees one active generation per order.
        Index(
            "uq_generations_one_active_per_order",
            "order_id",
            unique=True,
            postgresql_where=text(ACTIVE_PREDICATE),
        ),
        Index("ix_generations_active", "status", postgresql_where=text(ACTIVE_PREDICATE)),
        Index(
            "ix_generations_failure_unlogged",
            "finished_at",
            postgresql_where=text(FAILURE_UNLOGGED_PREDICATE),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    seq: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    current_phase: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    site_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now_column()
    updated_at: Mapped[datetime] = _now_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    budget_from: Mapped[datetime] = (
        _now_column()
    )  # the total time budget counts from here (a resend resets it)
    failure_logged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # its line is written
    # a page regeneration: the generation whose other pages it reuses, the page, the customer's wishes
    source_generation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    regenerated_page: Mapped[str | None] = mapped_column(String(60))
    instructions: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # last made live
    files_deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # keep-the-last-N
    review_rounds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # pages sent back


class RunState:
    """What a phase run and a part run both carry: status, attempts, times, output, the lease of the
    invocation that holds it, usage, and the last failed attempt (when, and which)."""

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    generation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("generations.id"))
    phase: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    output: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    lease_token: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    usage: Mapped[dict[str, Any] | None]
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_attempt: Mapped[int | None] = mapped_column(Integer)


class PhaseRun(RunState, Base):
    __tablename__ = "phase_runs"
    __table_args__ = (UniqueConstraint("generation_id", "phase"),)


class PartRun(RunState, Base):
    """One part of a phase that runs per page (content, code): its own claim, lease, attempts, output.
    The phase run stays `running` while its parts run, and succeeds with the parts' joined output."""

    __tablename__ = "part_runs"
    __table_args__ = (UniqueConstraint("generation_id", "phase", "part"),)

    part: Mapped[str] = mapped_column(String(60))  # a page's slug, or "styles.css"
    repairs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # review rounds it took
    reused: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )  # copied, not run
    # what the review sent this code part back with: its next run answers these findings
    review_findings: Mapped[list[str] | None] = mapped_column(JSONB)


class OutboxMessage(Base):
    """A phase to enqueue, written in the same transaction as the state change that wants it.

    Deleted by the claim of that phase; the sweeper republishes rows that linger.
    """

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("generation_id", "phase", "part"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    generation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("generations.id"))
    phase: Mapped[str] = mapped_column(String(20))
    part: Mapped[str] = mapped_column(String(60), default="", server_default="")  # "" for the whole phase
    delay_seconds: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = _now_column()
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    republish_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AIConfig(Base):
    __tablename__ = "ai_configs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    provider: Mapped[str] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(200))
    base_url: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[str | None] = mapped_column(String(100))
    secret_ref: Mapped[str | None] = mapped_column(Text)  # Secrets Manager id; never the key
    api_key_last4: Mapped[str | None] = mapped_column(String(4))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    params: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = _now_column()
    updated_at: Mapped[datetime] = _now_column()


class AIRoute(Base):
    __tablename__ = "ai_routes"

    task: Mapped[str] = mapped_column(String(20), primary_key=True)  # a TaskType or "fallback"
    config_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("ai_configs.id"))


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = _now_column()


class DeadLetter(Base):
    """Every message that reached the dead-letter queue, kept (the queue itself is only a buffer)."""

    __tablename__ = "dead_letters"
    __table_args__ = (
        Index("ix_dead_letters_pending", "received_at", postgresql_where=text("redriven_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(100), unique=True)
    body: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    generation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    phase: Mapped[str | None] = mapped_column(String(20))
    received_at: Mapped[datetime] = _now_column()
    redriven_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Webhook(Base):
    """An endpoint of the CRM and the events it wants. The signing secret is in the secret store
    (secret_ref names it); Postgres never holds it."""

    __tablename__ = "webhooks"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]]
    description: Mapped[str | None] = mapped_column(String(200))
    secret_ref: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now_column()
    updated_at: Mapped[datetime] = _now_column()
    secret_rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookEvent(Base):
    """Something that happened, with its one id, written in the transaction that made it happen
    (only while some webhook wants its type). Every delivery of it, retries and redeliveries
    included, sends this id and this payload."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("type", "subject", "occurred_at"),)  # one event per state change

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(100))  # e.g. the generation's id
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = _now_column()


class WebhookDelivery(Base):
    """One event to one webhook: the outbox row of its delivery, and its history (attempts, last answer)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id"),
        Index(
            "ix_webhook_deliveries_open",
            "next_attempt_at",
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
        Index("ix_webhook_deliveries_by_webhook", "webhook_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    webhook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_events.id"))
    status: Mapped[str] = mapped_column(String(20))  # pending, sending, succeeded, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # a message was sent for it
    retry_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # then it is dead-lettered
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
