"""What the services need from the outside world. Adapters implement these; tests may too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from chalicelib.config import Settings


@dataclass(frozen=True)
class LogLine:
    """One log line. `cursor` is given by the store when it writes the line (its place in the
    generation's log: empty on a line not written yet); `ts` is when the line was made. `part` names the
    part of a phase that wrote it (a page's slug), if any. `once_key` says what makes a lifecycle line
    unique: put_once writes at most one line per key."""

    generation_id: str
    cursor: str
    ts: str
    level: str
    phase: str | None
    event: str | None
    message: str
    part: str | None = None
    once_key: str = ""

    def public(self) -> dict[str, Any]:
        return {
            "cursor": self.cursor,
            "ts": self.ts,
            "level": self.level,
            "phase": self.phase,
            "event": self.event,
            "message": self.message,
            "part": self.part,
        }


class LogStore(Protocol):
    def put_once(self, line: LogLine) -> bool:
        """Append a lifecycle line unless one with the same once_key was written. True when written."""

    def put_many(self, lines: list[LogLine]) -> None:
        """Append free-text lines, in their order, in as few writes as the store allows."""

    def page(self, generation_id: str, after: str | None, limit: int) -> list[LogLine]:
        """Lines after the cursor `after` (None: from the start), oldest first, at most limit. Every line
        is in exactly one page of a watcher that passes the last cursor it got as `after`, whatever
        order concurrent writes land in."""

    def ping(self) -> None: ...


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


class SecretStore(Protocol):
    """Secrets kept outside Postgres (AI provider keys, webhook signing secrets): Postgres keeps the ref."""

    def ref_for(self, config_id: str) -> str:
        """The ref `put(config_id, ...)` returns."""

    def put(self, name: str, api_key: str) -> str:
        """Create or overwrite the secret for name (restoring a deleted one); return its ref."""

    def get(self, ref: str) -> str:
        """The secret's value; KeyError if there is none (never created, or deleted)."""

    def delete(self, ref: str) -> None:
        """Delete the secret (unreadable from now on); a ref with no secret is not an error."""


class Clock(Protocol):
    """Now, as an aware UTC datetime. Services read time only from this, so tests can set it."""

    def __call__(self) -> datetime: ...


class UnitOfWork(Protocol):
    """One short transaction, rolled back unless committed, closed at exit (chalicelib/db/uow.py).
    Never hold one open across a network wait."""

    session: Session

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...


class Deps(Protocol):
    """What the services use of chalicelib.bootstrap.Deps (which satisfies this structurally)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    def uow(self) -> UnitOfWork: ...

    @property
    def logs(self) -> LogStore: ...

    @property
    def queue(self) -> PhaseQueue: ...

    @property
    def sites(self) -> SiteStore: ...

    @property
    def live_pointer(self) -> LivePointer: ...

    def live_url(self, order_id: str) -> str:
        """The order's one public address."""

    @property
    def secrets(self) -> SecretStore:
        """AI provider API keys."""

    @property
    def webhook_secrets(self) -> SecretStore:
        """Webhook signing secrets."""

    def provider(self, config: Any) -> Any:
        """The AI provider for a routed config (chalicelib.ai.base.Provider)."""
