"""Settings a deployed stage keeps in Secrets Manager, read at cold start (never at
import, never when the id is unset: locally and in tests nothing here runs).

- SITEGEN_API_TOKEN_SECRET_ID: SHA-256 hex digests of the accepted API tokens, comma-separated, each
  optionally ending with `:orders` or `:admin` (chalicelib/auth.py). Read again every few minutes.
- SITEGEN_DATABASE_SECRET_ID: a database URL, or RDS-style JSON `{username, password, host, port,
  dbname}` (what RDS and RDS Proxy keep); SITEGEN_DATABASE_HOST replaces its host (an RDS Proxy
  endpoint, or localhost through a tunnel).
A secret still holding the template's placeholder (`unset`) counts as empty.
"""

from __future__ import annotations

import json
import re
from typing import Any

PLACEHOLDER = "unset"
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def read(secret_id: str | None, client: Any = None) -> str | None:
    if not secret_id:
        return None
    if client is None:
        import boto3

        client = boto3.client("secretsmanager")
    value = str(client.get_secret_value(SecretId=secret_id).get("SecretString") or "").strip()
    return None if value in ("", PLACEHOLDER) else value


def token_scopes(value: str | None) -> dict[str, str]:
    """digest -> scope of the entries in the secret (`<digest>`, `<digest>:orders`, `<digest>:admin`);
    anything that is not a SHA-256 hex digest is ignored (fails closed)."""
    from chalicelib.auth import merge_scopes, split_scope

    pairs = (split_scope(part) for part in (value or "").split(","))
    return merge_scopes((digest.lower(), scope) for digest, scope in pairs if _DIGEST.match(digest.lower()))


def token_digests(value: str | None) -> set[str]:
    return set(token_scopes(value))


def database_url(value: str | None, host: str | None = None) -> str | None:
    if not value:
        return None
    from sqlalchemy.engine import URL, make_url

    if value.startswith("postgresql"):
        url = make_url(value)
    else:
        try:
            fields = json.loads(value)
            url = URL.create(
                "postgresql+pg8000",
                username=fields["username"],
                password=fields["password"],
                host=fields["host"],
                port=int(fields.get("port") or 5432),
                database=fields.get("dbname") or "postgres",
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise RuntimeError(
                "the database secret holds neither a postgresql URL nor RDS-style JSON"
            ) from exc
    if host:
        url = url.set(host=host)
    return url.render_as_string(hide_password=False)
