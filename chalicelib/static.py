"""Serve the dashboard's static files (chalicelib/frontend/, so `chalice package` ships them) from the API origin."""

from __future__ import annotations

import re
from pathlib import Path

from chalice import Response

FRONTEND = Path(__file__).resolve().parent / "frontend"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}
SAFE = re.compile(r"^(ui/)?[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
    "Content-Security-Policy": "default-src 'self'; frame-src *; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; connect-src 'self' *",
}


def frontend_file(name: str) -> Response:
    path = FRONTEND / name
    if not SAFE.match(name) or ".." in name or path.suffix not in TYPES or not path.is_file():
        return Response(
            body='{"code": "not_found", "message": "no such file"}',
            status_code=404,
            headers={"Content-Type": "application/json"},
        )
    return Response(
        body=path.read_text(encoding="utf-8"),
        status_code=200,
        headers={**HEADERS, "Content-Type": TYPES[path.suffix]},
    )
