"""HTTP schemas: `XCreate` is what the API accepts, `XPublic` what it returns."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from chalicelib.domain.order import LOCALES, Brand, Contact


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    business_name: str = Field(min_length=1, max_length=200)
    segment: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    services: list[str] = Field(default_factory=list, max_length=20)
    contact: Contact = Field(default_factory=Contact)
    brand: Brand = Field(default_factory=Brand)
    locale: str = Field(default="pt-BR", json_schema_extra={"enum": list(LOCALES)})  # checked by _locale
    external_ref: str | None = Field(default=None, min_length=1, max_length=100)
    auto_publish: StrictBool = Field(
        default=True,
        description="a generation that succeeds becomes live; false: it "
        "waits as a preview until POST /orders/{id}/versions/{generation_id}/publish",
    )

    @field_validator("services")
    @classmethod
    def _services(cls, value: list[str]) -> list[str]:
        cleaned = [s.strip() for s in value]
        if any(not s or len(s) > 100 for s in cleaned):
            raise ValueError("each service must be 1 to 100 characters")
        return cleaned

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in LOCALES:
            raise ValueError(f"locale must be one of {', '.join(LOCALES)}")
        return value


class OrderPublic(BaseModel):
    id: str
    business_name: str
    segment: str
    description: str | None
    services: list[str]
    contact: Contact
    brand: Brand
    locale: str
    external_ref: str | None
    created_at: datetime
    auto_publish: bool = True
    live_url: str = Field(description="the order's one public address; it shows the live version")
    live_generation_id: str | None = Field(default=None, description="the live version; null until one is")


class OrderUpdate(BaseModel):
    """PATCH /orders/{id}: the order's settings."""

    model_config = ConfigDict(extra="forbid")

    auto_publish: StrictBool = Field(description="true: a generation that succeeds becomes live")


class OrderList(BaseModel):
    items: list[OrderPublic]
    next_cursor: str | None


GenerationStatusName = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class PhaseUsagePublic(BaseModel):
    """What one phase's AI call cost: who answered, tokens, latency and the estimated price."""

    provider: str | None = None
    model: str | None = None
    config_id: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: float = 0.0
    cost_usd: float | None = Field(default=None, description="null when the model has no known price")
    calls: int | None = Field(default=None, description="model calls, repairs included")


class PartPublic(BaseModel):
    """One part of a per-page phase (content, code): a page's slug, or styles.css."""

    name: str
    status: Literal["pending", "running", "retrying", "succeeded", "failed"]
    attempts: int
    repairs: int = Field(default=0, description="review rounds the page needed before it passed")
    reused: bool = Field(default=False, description="copied from the regenerated generation, not run again")
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    usage: PhaseUsagePublic | None = None


class UsageTotalsPublic(BaseModel):
    """A generation's usage summed over its phases that have run."""

    tokens_in: int = 0
    tokens_out: int = 0
    ai_latency_ms: float = 0.0
    cost_usd: float = 0.0
    cost_complete: bool = Field(default=True, description="false when some phase's model has no known price")
    phases_counted: int = 0


class PhasePublic(BaseModel):
    name: str
    status: Literal["pending", "running", "retrying", "succeeded", "failed"]
    attempts: int
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    usage: PhaseUsagePublic | None = None
    parts: list[PartPublic] = Field(
        default_factory=list, description="content and code: one per page (+ styles.css)"
    )
    parts_done: int = 0


class GenerationPublic(BaseModel):
    id: str
    order_id: str
    status: GenerationStatusName
    current_phase: str | None
    phases: list[PhasePublic]
    progress: float = Field(ge=0, le=1)
    error: str | None
    site_url: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    usage: UsageTotalsPublic = Field(default_factory=UsageTotalsPublic)
    source_generation_id: str | None = Field(
        default=None, description="a page regeneration: the generation it reuses"
    )
    regenerated_page: str | None = None
    review_rounds: int = Field(
        default=0, description="rounds in which the review sent pages back to the coding model (at most 2)"
    )


class VersionPublic(BaseModel):
    """A version of the order's site: a generation that succeeded, its files under its own prefix."""

    generation_id: str
    number: int = Field(description="1 for the order's first version, and so on")
    live: bool
    created_at: datetime
    finished_at: datetime | None = Field(description="when the version was made (its generation succeeded)")
    published_at: datetime | None = Field(description="when it last became live; null if it never was")
    pages: list[str]
    preview_url: str | None = Field(description="the version's own files; null once they were deleted")
    files_deleted_at: datetime | None = Field(description="keep-the-last-N deleted its files then")
    source_generation_id: str | None = None
    regenerated_page: str | None = None


class VersionList(BaseModel):
    order_id: str
    live_url: str
    auto_publish: bool
    keep_versions: int = Field(
        description="versions whose files are kept (SITEGEN_KEEP_VERSIONS), and the live one"
    )
    live_generation_id: str | None
    serving_generation_id: str | None = Field(description="what the live address was last confirmed to show")
    switch_pending: bool = Field(
        description="the live address has not been switched to live_generation_id yet (retried every minute)"
    )
    items: list[VersionPublic] = Field(description="newest first")


class GenerationList(BaseModel):
    items: list[GenerationPublic]


class LogLinePublic(BaseModel):
    cursor: str  # opaque: pass the last one seen as `after`
    ts: str  # when the line was made (lines are in the order they were written)
    level: str
    phase: str | None
    event: str | None
    message: str
    part: str | None = None  # the part of the phase that wrote it (a page's slug), if any


class LogPage(BaseModel):
    items: list[LogLinePublic]
    next_cursor: str
    # The generation's status and version (its updated_at, which every change of it or of its phases
    # moves), read by the same lookup that checks it exists: a watcher polls the logs alone and fetches
    # the generation only when this differs from the one it has.
    generation_status: GenerationStatusName
    generation_updated_at: datetime


class QueuePublic(BaseModel):
    queue: str
    visible: int
    in_flight: int
    delayed: int
    dead_letter: int
    oldest_age_seconds: int | None


class DeadLetterPublic(BaseModel):
    """A message that ran out of deliveries, kept in Postgres until a redrive handles it."""

    id: int
    generation_id: str | None = Field(description="null when the body could not be read")
    order_id: str | None
    business_name: str | None
    generation_status: GenerationStatusName | None
    phase: str | None
    part: str | None = Field(
        default=None, description="content and code: the page (or styles.css) it was for"
    )
    reason: str
    received_at: datetime
    age_seconds: int


class DeadLetterList(BaseModel):
    items: list[DeadLetterPublic] = Field(description="oldest first")
    total: int = Field(description="dead letters waiting for a redrive (may be more than the items)")


class ErrorPublic(BaseModel):
    code: str
    message: str
    details: list[dict[str, object]] | None = None


class LivenessPublic(BaseModel):
    status: Literal["ok"]
    instance: str | None = Field(default=None, description="the local stack's run id; null when deployed")


class ScopePublic(BaseModel):
    scope: Literal["orders", "admin"]  # orders: orders, generations, logs, queue; admin: also AI and redrive


class HealthPublic(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str]
    down: list[str] = Field(default_factory=list)
    instance: str | None = None  # the local stack's run serving this API (infra/local.py); null when deployed


class RedrivePublic(BaseModel):
    redriven: int
    resumed_generations: list[str]
    sent: int
    skipped: int
    kept: int  # could not be handled now (database or SQS failing): left for the next redrive


class PageRegenerate(BaseModel):
    """POST /generations/{id}/pages/{slug}/regenerate: optional wishes for the new version of the page."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    instructions: str | None = Field(
        default=None,
        max_length=500,
        description="free text for the model, passed as data (it cannot override the rules)",
    )


# --- webhooks --------------------------------------------------------------------------------------------
WebhookEventName = Literal[
    "generation.succeeded",
    "generation.failed",
    "generation.cancelled",
    "version.published",
    "page.regenerated",
]


class WebhookCreate(BaseModel):
    """POST /webhooks: where to send, and which events."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: str = Field(
        min_length=1,
        max_length=2000,
        description="https (http only where private networks are "
        "allowed); no user name, password or fragment",
    )
    events: list[WebhookEventName] = Field(min_length=1, max_length=5)
    description: str | None = Field(default=None, max_length=200)

    @field_validator("events")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class WebhookPublic(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str | None
    created_at: datetime
    updated_at: datetime
    secret_rotated_at: datetime | None


class WebhookWithSecret(WebhookPublic):
    """Only the answers to POST /webhooks and POST /webhooks/{id}/rotate-secret carry the secret."""

    secret: str = Field(description="the signing secret: shown this once, never again")


class WebhookList(BaseModel):
    items: list[WebhookPublic]


class WebhookDeliveryPublic(BaseModel):
    id: str
    webhook_id: str
    event_id: str = Field(description="the same for every attempt and redelivery of the event")
    event_type: str
    status: Literal["pending", "sending", "succeeded", "failed"]
    attempts: int
    last_status_code: int | None
    last_attempt_at: datetime | None
    last_error: str | None
    next_attempt_at: datetime | None = Field(description="null once the delivery succeeded or failed")
    retry_until: datetime
    created_at: datetime
    finished_at: datetime | None


class WebhookDeliveryList(BaseModel):
    items: list[WebhookDeliveryPublic]
    next_cursor: str | None
