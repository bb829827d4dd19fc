"""Events the CRM can subscribe to with a webhook (chalicelib/services/events.py emits them)."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    GENERATION_SUCCEEDED = "generation.succeeded"
    GENERATION_FAILED = "generation.failed"
    GENERATION_CANCELLED = "generation.cancelled"
    VERSION_PUBLISHED = "version.published"
    PAGE_REGENERATED = "page.regenerated"


EVENT_TYPES: tuple[str, ...] = tuple(e.value for e in EventType)
