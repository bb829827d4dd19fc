"""A log watcher as the dashboard and the CLI are: `GET /generations/{id}/logs?after=<next_cursor>`, page
after page, keeping every line it is given; and the check that it saw the log as a full read does."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LogWatcher:
    get: Callable[[str], Any]  # path -> the JSON answer
    generation_id: str
    limit: int = 50
    cursor: str = ""
    seen: list[dict[str, Any]] = field(default_factory=list)
    polls: int = 0

    def poll(self) -> dict[str, Any]:
        """One poll: pages until one comes back short. Returns the last page."""
        while True:
            after = f"&after={self.cursor}" if self.cursor else ""
            page = self.get(f"/generations/{self.generation_id}/logs?limit={self.limit}{after}")
            self.polls += 1
            self.seen += page["items"]
            self.cursor = page["next_cursor"]
            if len(page["items"]) < self.limit:
                return page


def full_log(get: Callable[[str], Any], generation_id: str) -> list[dict[str, Any]]:
    """The whole log, read from the start by a new watcher."""
    watcher = LogWatcher(get, generation_id, limit=200)
    watcher.poll()
    return watcher.seen


def compare(seen: list[dict[str, Any]], full: list[dict[str, Any]]) -> dict[str, Any]:
    """What a watcher missed and saw twice, and whether it saw the lines in the full read's order."""
    seen_cursors = [line["cursor"] for line in seen]
    full_cursors = [line["cursor"] for line in full]
    counts = Counter(seen_cursors)
    return {
        "lines": len(full_cursors),
        "missed": [line for line in full if line["cursor"] not in counts],
        "duplicated": sorted(c for c, n in counts.items() if n > 1),
        "unknown": sorted(set(seen_cursors) - set(full_cursors)),
        "same_order": list(dict.fromkeys(seen_cursors)) == full_cursors,
        "same_lines": {line["cursor"]: line for line in seen} == {line["cursor"]: line for line in full},
    }


def verdict(seen: list[dict[str, Any]], full: list[dict[str, Any]]) -> dict[str, Any]:
    """compare() reduced to what a test asserts equal to PERFECT."""
    c = compare(seen, full)
    return {
        "missed": len(c["missed"]),
        "duplicated": len(c["duplicated"]),
        "unknown": len(c["unknown"]),
        "same_order": c["same_order"],
        "same_lines": c["same_lines"],
    }


PERFECT = {"missed": 0, "duplicated": 0, "unknown": 0, "same_order": True, "same_lines": True}
