"""What the PostgreSQL server said about a failed statement, read from a SQLAlchemy DBAPIError."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import DBAPIError


def server_detail(exc: BaseException) -> Any:
    """pg8000 reports the server's fields as a dict (C: SQLSTATE, M: message); other errors carry
    whatever the driver raised. None for an exception that is not a database error."""
    if not isinstance(exc, DBAPIError) or exc.orig is None:
        return None
    return exc.orig.args[0] if exc.orig.args else exc.orig


def sqlstate(exc: BaseException) -> str:
    """The server's SQLSTATE, or "" when there is none (not a database error, or no server reply)."""
    detail = server_detail(exc)
    return str(detail.get("C", "")) if isinstance(detail, dict) else ""
