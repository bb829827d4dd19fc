"""Settings read once from the environment. No I/O at import; on a deployed stage `get_settings` reads
the token digests and the database URL from Secrets Manager once (chalicelib/adapters/stage_secrets.py)."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache

from pydantic import BaseModel, Field, field_validator


def _list(name: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, "").split(",") if part.strip()]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Settings(BaseModel):
    database_url: str | None = None
    queue_url: str | None = None
    dlq_url: str | None = None
    logs_table: str = "sitegen-logs"
    site_bucket: str = "sitegen-sites"
    site_base_url: str | None = None  # public base serving <bucket> keys; None -> S3 endpoint URL
    # An order's live address, "{order}" standing for its id: a host per order ("https://{order}.sites.
    # example.com/": the site at the root of its host) or a path ("<base>/o/{order}/", the default).
    live_url_template: str | None = None
    live_kvs_arn: str | None = None  # CloudFront KeyValueStore with order -> live version; None: the bucket
    keep_versions: int = Field(default=10, ge=1)  # versions whose files are kept per order (and the live one)
    region: str = "us-east-1"
    # API tokens are kept only as SHA-256 hashes in memory; several allowed for rotation.
    token_hashes: frozenset[str] = frozenset()
    token_scopes: dict[str, str] = Field(default_factory=dict)  # digest -> "orders"; any other is "admin"
    log_ttl_days: int = Field(default=30, ge=1)
    max_attempts: int = Field(default=3, ge=1)
    retry_base_seconds: int = Field(default=2, ge=0)
    max_body_bytes: int = 64 * 1024
    secrets_prefix: str = "sitegen/ai/"
    webhook_secrets_prefix: str = "sitegen/webhooks/"  # webhook signing secrets, beside the AI keys
    webhook_timeout_s: float = Field(default=10, gt=0, le=30)  # one delivery's POST, answer included
    max_receive_count: int = 5  # the queue's redrive policy (infra/template.yaml MaxReceiveCount)
    function_timeout_s: int = 120  # the queue worker's Lambda timeout
    visibility_timeout_s: int = 720  # the queue's visibility timeout (AWS advises >= 6x the function's)
    provider_timeout_s: int = 60  # default read timeout of an AI call
    generation_budget_s: int = 3600  # the sweeper fails generations older than this
    instance_id: str | None = None  # set by the local stack's supervisor, which checks /health names it

    @field_validator("live_url_template")
    @classmethod
    def _live_url(cls, value: str | None) -> str | None:
        if value is not None and (
            value.count("{order}") != 1
            or not value.startswith(("http://", "https://"))
            or not value.endswith("/")
        ):
            raise ValueError(
                "SITEGEN_LIVE_URL must be an http(s) URL ending in / with {order} once, e.g. "
                "https://{order}.sites.example.com/"
            )
        return value


def read_token_scopes() -> dict[str, str]:
    """digest -> scope of every accepted token, from the environment and the tokens secret (read now)."""
    from chalicelib.adapters import stage_secrets as secret  # reads only when an id is set
    from chalicelib.auth import merge_scopes, split_scope

    plain = [split_scope(t) for t in _list("SITEGEN_API_TOKENS") + _list("SITEGEN_API_TOKEN")]
    digests = [split_scope(h) for h in _list("SITEGEN_API_TOKEN_SHA256")]
    stored = secret.token_scopes(secret.read(os.environ.get("SITEGEN_API_TOKEN_SECRET_ID")))
    return merge_scopes(
        [(hash_token(t), s) for t, s in plain] + [(h.lower(), s) for h, s in digests] + list(stored.items())
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    env = os.environ.get
    scopes = read_token_scopes()
    from chalicelib.adapters import stage_secrets as secret  # reads only when an id is set

    return Settings(
        database_url=env("DATABASE_URL")
        or secret.database_url(secret.read(env("SITEGEN_DATABASE_SECRET_ID")), env("SITEGEN_DATABASE_HOST")),
        queue_url=env("SITEGEN_QUEUE_URL"),
        dlq_url=env("SITEGEN_DLQ_URL"),
        logs_table=env("SITEGEN_LOGS_TABLE", "sitegen-logs"),
        site_bucket=env("SITEGEN_SITE_BUCKET", "sitegen-sites"),
        site_base_url=env("SITEGEN_SITE_BASE_URL") or None,
        live_url_template=env("SITEGEN_LIVE_URL") or None,
        live_kvs_arn=env("SITEGEN_LIVE_KVS_ARN") or None,
        keep_versions=int(env("SITEGEN_KEEP_VERSIONS", "10")),
        region=env("AWS_REGION", env("AWS_DEFAULT_REGION", "us-east-1")),
        token_hashes=frozenset(scopes),
        token_scopes=scopes,
        log_ttl_days=int(env("SITEGEN_LOG_TTL_DAYS", "30")),
        max_attempts=int(env("SITEGEN_MAX_ATTEMPTS", "3")),
        retry_base_seconds=int(env("SITEGEN_RETRY_BASE_SECONDS", "2")),
        secrets_prefix=env("SITEGEN_SECRETS_PREFIX", "sitegen/ai/"),
        webhook_secrets_prefix=env("SITEGEN_WEBHOOK_SECRETS_PREFIX", "sitegen/webhooks/"),
        webhook_timeout_s=float(env("SITEGEN_WEBHOOK_TIMEOUT_S", "10")),
        max_receive_count=int(env("SITEGEN_MAX_RECEIVE_COUNT", "5")),
        function_timeout_s=int(env("SITEGEN_WORKER_TIMEOUT_S", "120")),
        visibility_timeout_s=int(env("SITEGEN_VISIBILITY_TIMEOUT_S", "720")),
        provider_timeout_s=int(env("SITEGEN_PROVIDER_TIMEOUT_S", "60")),
        generation_budget_s=int(env("SITEGEN_GENERATION_BUDGET_S", "3600")),
        instance_id=env("SITEGEN_INSTANCE_ID") or None,
    )


class TimeoutMisconfigured(RuntimeError):
    pass


def check_timeouts(settings: Settings) -> None:
    """provider call < function < visibility timeout, so a slow AI call is cut before the function
    dies, and a message is not redelivered while its first invocation still runs."""
    p, f, v = settings.provider_timeout_s, settings.function_timeout_s, settings.visibility_timeout_s
    problems = []
    if not p < f:
        problems.append(f"provider timeout {p}s must be below the function timeout {f}s")
    if not f < v:
        problems.append(f"function timeout {f}s must be below the queue visibility timeout {v}s")
    elif v < 6 * f:
        problems.append(f"visibility timeout {v}s is under 6x the function timeout {f}s (AWS advice)")
    if problems:
        raise TimeoutMisconfigured("; ".join(problems))
