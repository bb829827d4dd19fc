"""Bearer tokens: compared as SHA-256 hashes in constant time; several valid at once (rotation)."""
from __future__ import annotations

import hashlib
import hmac


def token_is_valid(authorization: str | None, token_hashes: frozenset[str]) -> bool:
    if not authorization or not token_hashes:
        return False
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    offered = hashlib.sha256(token.strip().encode()).hexdigest()
    # Compare against every hash, without stopping early, so timing says nothing about which.
    matches = [hmac.compare_digest(offered, known) for known in sorted(token_hashes)]
    return any(matches)
