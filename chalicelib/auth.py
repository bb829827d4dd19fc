"""Bearer tokens and their scopes: compared as SHA-256 hashes in constant time; several valid at once
(rotation); re-read every TOKEN_TTL_S so a revoked token stops working without a cold start.

An accepted token has a scope: `orders` (the CRM frontend: orders, generations, logs, queue status)
or `admin` (also AI configs, routing, the doctor and redrive). In SITEGEN_API_TOKENS,
SITEGEN_API_TOKEN_SHA256 and the tokens secret an entry may end with `:orders` or `:admin`
(`tokenA,tokenB:orders`); an entry without one is `admin`, as every token was before scopes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping

ORDERS, ADMIN = "orders", "admin"
SCOPES = (ORDERS, ADMIN)  # narrowest first
TOKEN_TTL_S = 60  # the authorizer's result TTL too (app.py): a revoked token works for 2 minutes at most


def split_scope(entry: str) -> tuple[str, str]:
    """`value`, `value:orders` or `value:admin` -> (value, scope)."""
    value, sep, suffix = entry.strip().rpartition(":")
    if sep and suffix.strip().lower() in SCOPES:
        return value.strip(), suffix.strip().lower()
    return entry.strip(), ADMIN


def merge_scopes(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """digest -> scope; a digest listed with two scopes keeps the narrower one."""
    scopes: dict[str, str] = {}
    for digest, scope in pairs:
        known = scopes.get(digest)
        scopes[digest] = scope if known is None else min(known, scope, key=SCOPES.index)
    return scopes


def scope_of(authorization: str | None, token_scopes: Mapping[str, str]) -> str | None:
    """The scope of the bearer token in an Authorization header, or None if it is not accepted."""
    if not authorization or not token_scopes:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    offered = hashlib.sha256(token.strip().encode()).hexdigest()
    # Compare against every hash, without stopping early, so timing says nothing about which.
    found = None
    for known in sorted(token_scopes):
        if hmac.compare_digest(offered, known):
            found = token_scopes[known]
    return found


def allows(granted: str | None, needed: str) -> bool:
    return granted in SCOPES and SCOPES.index(granted) >= SCOPES.index(needed)


class TokenCache:
    """The accepted digests, loaded again once `ttl_s` has passed. A failed reload keeps the last
    ones (and says so), so a Secrets Manager hiccup does not lock every client out."""

    def __init__(
        self,
        load: Callable[[], Mapping[str, str]],
        ttl_s: float = TOKEN_TTL_S,
        initial: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load, self._ttl, self._clock = load, ttl_s, clock
        self._value = dict(initial) if initial is not None else None
        self._expires = clock() + ttl_s if initial is not None else 0.0

    def current(self) -> Mapping[str, str]:
        now = self._clock()
        if self._value is None or now >= self._expires:
            try:
                self._value = dict(self._load())
            except Exception as exc:
                if self._value is None:
                    raise
                print(
                    json.dumps(
                        {
                            "level": "warning",
                            "message": "could not re-read the API tokens; keeping the last ones",
                            "error": type(exc).__name__,
                        }
                    ),
                    file=sys.stdout,
                    flush=True,
                )
            self._expires = now + self._ttl
        return self._value
