"""Small helpers on SQLAlchemy results."""

from __future__ import annotations

from typing import Any


def rowcount(result: Any) -> int:
    """Rows an UPDATE or DELETE matched (a CursorResult's; typed loosely by Session.execute)."""
    return int(result.rowcount or 0)
