"""Webhook signatures, as Stripe and GitHub users know them.

Header `Sitegen-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the secret>`.
A receiver recomputes the HMAC over the raw body it got, compares in constant time, and refuses a
timestamp older than a few minutes (a replay). The README has the 10 lines of Python.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

HEADER = "Sitegen-Signature"
SECRET_PREFIX = "whsec_"
TOLERANCE_S = 300


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={signature(secret, t, body)}"


def verify(
    secret: str, body: bytes, value: str, now: float | None = None, tolerance_s: int = TOLERANCE_S
) -> bool:
    """True when `value` (the header) signs `body` with `secret` and is recent."""
    try:
        fields = dict(part.split("=", 1) for part in value.split(","))
        t = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs((time.time() if now is None else now) - t) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, t, body), fields.get("v1", ""))
