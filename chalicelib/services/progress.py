"""Progress and lifecycle log lines for one generation.

Lifecycle lines (event set) are written at once and idempotently: their key comes from a timestamp
stored in Postgres (and the event, phase, part), so a redelivered message writes nothing twice.
Free-text lines are buffered and written together by flush(), once per phase (or part). Every line
keeps as `ts` the time it was made; its place in the log (its cursor) is taken when it is written, so
a watcher never misses a line written late (chalicelib/adapters/dynamo_logs.py). If the log store
fails, the line goes to stdout with a warning and the phase carries on.
"""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib import log as logger
from chalicelib.faults import fault
from chalicelib.ports import LogLine, LogStore

# A lifecycle line's key: its time, then this rank and its tag. (The rank once ordered lines made in the
# same millisecond, when keys were cursors; it stays so that keys written before stay the same.)
_RANK = {
    "generation_queued": "0",
    "generation_resumed": "0",
    "phase_started": "1",
    "part_started": "1",
    "phase_succeeded": "3",
    "phase_failed": "3",
    "phase_retrying": "3",
    "part_succeeded": "3",
    "part_failed": "3",
    "part_retrying": "3",
    "version_published": "3",
}


def once_key_for(ts: datetime, tag: str) -> str:
    millis = int(ts.timestamp() * 1000)
    return f"{millis:013d}-{tag}"


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ProgressLog:
    def __init__(self, store: LogStore, generation_id: str) -> None:
        self._store = store
        self._generation_id = generation_id
        self._buffer: list[LogLine] = []

    def lifecycle(
        self,
        event: str,
        at: datetime,
        message: str,
        *,
        phase: str | None = None,
        level: str = "info",
        key: str = "",
        part: str | None = None,
    ) -> bool | None:
        """Write the line unless it is there already: True when this call wrote it, False when it was
        there, None when the store failed (the line went to stdout). The line is the same one when
        event, at, phase, part and key are."""
        tag = _RANK.get(event, "4") + ".".join(x for x in (event, phase, part and f"@{part}", key) if x)
        line = self._line(at, level, phase, event, message, part, once_key=once_key_for(at, tag))
        fault("during_log_write", phase, event, f"{phase}/{part}" if part else None)
        try:
            return self._store.put_once(line)
        except Exception as exc:  # the log store must never take a phase down
            _fallback([line], exc)
            return None

    def generation_failed(self, at: datetime, reason: str) -> bool | None:
        """The one line that says a generation failed, whoever failed it. Its key comes from the
        failure's time stored in Postgres only, so anyone can write it again if it went missing."""
        return self.lifecycle("generation_failed", at, reason, level="error")

    def info(
        self, message: str, *, phase: str | None = None, level: str = "info", part: str | None = None
    ) -> None:
        self._buffer.append(self._line(datetime.now(UTC), level, phase, None, message, part))

    def flush(self) -> None:
        lines, self._buffer = self._buffer, []
        if not lines:
            return
        try:
            self._store.put_many(lines)
        except Exception as exc:
            _fallback(lines, exc)

    def _line(
        self,
        at: datetime,
        level: str,
        phase: str | None,
        event: str | None,
        message: str,
        part: str | None,
        once_key: str = "",
    ) -> LogLine:
        return LogLine(
            self._generation_id,
            "",
            iso(at),
            level,
            phase,
            event,
            message[:2000],
            part=part,
            once_key=once_key,
        )


def _fallback(lines: list[LogLine], exc: Exception) -> None:
    logger.warning("log store unavailable; writing to stdout", error=type(exc).__name__)
    for line in lines:
        public = line.public()
        logger.write(public.pop("level"), public.pop("message"), generation_id=line.generation_id, **public)
