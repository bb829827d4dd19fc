"""What the services need from the outside world. Adapters implement these; tests may too."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class LogLine:
    generation_id: str
    cursor: str
    ts: str
    level: str
    phase: str | None
    event: str | None
    message: str

    def public(self) -> dict[str, Any]:
        return {
            "cursor": self.cursor, "ts": self.ts, "level": self.level,
            "phase": self.phase, "event": self.event, "message": self.message,
        }


class LogStore(Protocol):
    def put_once(self, line: LogLine) -> bool:
        """Write a lifecycle line unless one with the same cursor exists. True when written."""

    def put_many(self, lines: list[LogLine]) -> None:
        """Write free-text lines in batches."""

    def page(self, generation_id: str, after: str | None, limit: int) -> list[LogLine]:
        """Lines with cursor > after, oldest first, at most limit."""


@dataclass(frozen=True)
class QueueStats:
    queue: str
    visible: int
    in_flight: int
    delayed: int
    dead_letter: int
    oldest_age_seconds: int | None


class PhaseQueue(Protocol):
    def send(self, body: dict[str, Any], delay_seconds: int = 0) -> None: ...

    def send_many(self, bodies: list[dict[str, Any]]) -> None:
        """Send several messages at once (in batches); raises if any was not sent."""

    def ping(self) -> None: ...

    def send_dead_letter(self, raw_body: str, reason: str, delay_seconds: int = 0) -> None: ...

    def stats(self) -> QueueStats: ...

    def waiting(self) -> int:
        """Messages on the generation queue not delivered yet: visible and delayed (not those in flight,
        whose outbox rows a claim has mostly deleted already)."""


class SiteStore(Protocol):
    def publish(self, prefix: str, files: list[tuple[str, str, bytes]]) -> str:
        """Write (path, content_type, body) files under prefix, never replacing a file that is there;
        return the URL of index.html."""

    def url(self, prefix: str) -> str:
        """The URL of index.html under prefix (a version's preview)."""

    def delete(self, prefix: str, paths: list[str]) -> int:
        """Delete these files under prefix; raises if any could not be deleted."""

    def ping(self) -> None: ...


class LivePointer(Protocol):
    """Which version of an order's site the serving side shows at the order's live address."""

    def put(self, order_id: str, generation_id: str) -> None:
        """Switch the order's live address to this version, atomically."""

    def get(self, order_id: str) -> str | None: ...
