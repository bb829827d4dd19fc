"""In-memory stand-ins for the ports (chalicelib/ports.py), for tests that need no AWS.

Each behaves as its real adapter does where a test can see it (tests/contract runs the same cases
against both): the log store numbers lines densely and its page stops at a gap, the queue's delayed
messages are waiting but not visible, a site file is written once, a deleted secret is unreadable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.ports import LogLine, QueueStats
from chalicelib.website.files import typed_files

LINE = "L"  # a numbered line's cursor, as in chalicelib/adapters/dynamo_logs.py: L + 12 digits
START = "0"


def line_key(n: int) -> str:
    return f"{LINE}{n:012d}"


def _number(cursor: str) -> int | None:
    digits = cursor[len(LINE) :]
    return int(digits) if cursor.startswith(LINE) and len(digits) == 12 and digits.isdigit() else None


class FakeLogStore:
    """Lines numbered 1, 2, 3... per generation in the order they are written; put_once writes at most
    one line per once_key. page() returns lines only while their numbers follow on from `after`: it stops
    at a missing number (a write in flight; tests make one by putting a line at a higher number)."""

    def __init__(self) -> None:
        self.lines: dict[str, dict[int, LogLine]] = {}
        self.guards: set[tuple[str, str]] = set()
        self.down: Exception | None = None  # set: every call raises it (the store is down)

    def _check(self) -> None:
        if self.down is not None:
            raise self.down

    def _append(self, generation_id: str, lines: list[LogLine]) -> None:
        numbered = self.lines.setdefault(generation_id, {})
        last = max(numbered, default=0)
        for n, line in enumerate(lines, start=last + 1):
            numbered[n] = replace(line, cursor=line_key(n), once_key="")

    def put_once(self, line: LogLine) -> bool:
        self._check()
        guard = line.once_key or line.cursor
        if not guard:
            raise ValueError("put_once needs the line's once_key")
        if (line.generation_id, guard) in self.guards:
            return False
        self.guards.add((line.generation_id, guard))
        self._append(line.generation_id, [line])
        return True

    def put_many(self, lines: list[LogLine]) -> None:
        self._check()
        for generation_id in dict.fromkeys(line.generation_id for line in lines):
            self._append(generation_id, [x for x in lines if x.generation_id == generation_id])

    def page(self, generation_id: str, after: str | None, limit: int) -> list[LogLine]:
        self._check()
        last = _number(after or START) or 0
        numbered = self.lines.get(generation_id, {})
        found: list[LogLine] = []
        n = last + 1
        while len(found) < limit and n in numbered:
            found.append(numbered[n])
            n += 1
        return found

    def ping(self) -> None:
        self._check()

    def all(self, generation_id: str) -> list[LogLine]:
        """Every line written for the generation, in number order."""
        numbered = self.lines.get(generation_id, {})
        return [numbered[n] for n in sorted(numbered)]


@dataclass
class Message:
    body: str
    delay_seconds: int = 0
    attributes: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


MAX_DELAY = 900  # SQS's DelaySeconds limit


class FakePhaseQueue:
    """The generation queue and its dead-letter queue as lists. A message sent with a delay is waiting
    but not visible until `release_delayed()`; `take()` receives and deletes the visible ones."""

    def __init__(self, name: str = "sitegen-test-generations", dead_letter: bool = True) -> None:
        self.name = name
        self.messages: list[Message] = []
        self.dead: list[Message] | None = [] if dead_letter else None

    def send(self, body: dict[str, Any], delay_seconds: int = 0) -> None:
        delay = max(0, min(MAX_DELAY, int(delay_seconds)))
        self.messages.append(Message(json.dumps(body, separators=(",", ":")), delay))

    def send_many(self, bodies: list[dict[str, Any]]) -> None:
        for body in bodies:
            self.send(body)

    def send_dead_letter(self, raw_body: str, reason: str, delay_seconds: int = 0) -> None:
        if self.dead is None:
            raise RuntimeError("no dead-letter queue configured")
        delay = max(0, min(MAX_DELAY, int(delay_seconds)))
        self.dead.append(Message(raw_body or "<empty>", delay, {"reason": reason[:1000]}))

    def visible(self) -> list[Message]:
        return [m for m in self.messages if not m.delay_seconds]

    def delayed(self) -> list[Message]:
        return [m for m in self.messages if m.delay_seconds]

    def take(self) -> list[Any]:
        """Receive and delete every visible message; their bodies, parsed."""
        taken = self.visible()
        self.messages = self.delayed()
        return [m.json() for m in taken]

    def release_delayed(self) -> None:
        for m in self.messages:
            m.delay_seconds = 0

    def waiting(self) -> int:
        return len(self.messages)

    def stats(self) -> QueueStats:
        return QueueStats(
            queue=self.name,
            visible=len(self.visible()),
            in_flight=0,
            delayed=len(self.delayed()),
            dead_letter=len([m for m in self.dead or [] if not m.delay_seconds]),
            oldest_age_seconds=None,
        )

    def ping(self) -> None:
        return None


class FakeSiteStore:
    """Site files in a dict keyed `prefix/path`: (content type, body). Like S3 with If-None-Match, a
    file already there is never replaced; the type comes from the path's extension."""

    def __init__(self, base_url: str = "https://sites.test/bucket") -> None:
        self.base_url = base_url.rstrip("/")
        self.files: dict[str, tuple[str, bytes]] = {}

    def publish(self, prefix: str, files: list[tuple[str, str, bytes]]) -> str:
        for path, content_type, body in typed_files(files):
            self.files.setdefault(f"{prefix}/{path}", (content_type, body))
        return self.url(prefix)

    def url(self, prefix: str) -> str:
        return f"{self.base_url}/{prefix}/index.html"

    def delete(self, prefix: str, paths: list[str]) -> int:
        for path in paths:
            self.files.pop(f"{prefix}/{path}", None)
        return len(paths)

    def ping(self) -> None:
        return None


class FakeLivePointer:
    def __init__(self) -> None:
        self.live: dict[str, str] = {}

    def put(self, order_id: str, generation_id: str) -> None:
        self.live[order_id] = generation_id

    def get(self, order_id: str) -> str | None:
        return self.live.get(order_id)


class FakeSecretStore:
    """Secrets by ref `{prefix}{name}`; a deleted one is unreadable until put again."""

    def __init__(self, prefix: str = "sitegen/test/ai/") -> None:
        self.prefix = prefix
        self.values: dict[str, str] = {}

    def ref_for(self, config_id: str) -> str:
        return f"{self.prefix}{config_id}"

    def put(self, name: str, api_key: str) -> str:
        ref = self.ref_for(name)
        self.values[ref] = api_key
        return ref

    def get(self, ref: str) -> str:
        if not self.values.get(ref):
            raise KeyError(f"secret {ref!r} not found")
        return self.values[ref]

    def delete(self, ref: str) -> None:
        self.values.pop(ref, None)


class FakeClock:
    """deps.clock for tests that need time to pass (leases, budgets) without sleeping: it stands still
    until moved. `clock()` is now (from the real time when made), an aware UTC datetime."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)
        if self.now.tzinfo is None:
            raise ValueError("the clock's time must be aware")

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


class RealUntilMovedClock(FakeClock):
    """A FakeClock that follows the real time until first moved, then stands still. For tests whose
    rows get their times from the database's now() while the test runs: "61 s later" then means 61 s
    after the rows were written, however slow the machine, not 61 s after the clock was made."""

    def __init__(self) -> None:  # not super()'s: its setting of now would count as a move
        self._now = datetime.now(UTC)
        self._moved = False

    @property
    def now(self) -> datetime:
        return self._now if self._moved else datetime.now(UTC)

    @now.setter
    def now(self, value: datetime) -> None:
        self._now, self._moved = value, True
