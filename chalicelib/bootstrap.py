"""The one place that builds real things: engine, sessions, AWS clients, adapters.

Everything is created lazily, once per container (Lambda) or process, and tests swap it with
`set_deps`. Importing this module does no I/O.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.config import Settings, check_timeouts, get_settings
from chalicelib.db.uow import UnitOfWork
from chalicelib.ports import LivePointer, LogStore, PhaseQueue, SecretStore, SiteStore

if TYPE_CHECKING:
    from chalicelib import ports


def utcnow() -> datetime:
    return datetime.now(UTC)


class Deps:
    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
        token_loader: Callable[[], dict[str, str]] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.token_loader = token_loader  # None: the settings' tokens, fixed (tests)

    # --- API tokens -----------------------------------------------------------------------
    @cached_property
    def tokens(self) -> Any:
        from chalicelib.auth import ADMIN, TokenCache

        given = {
            digest: self.settings.token_scopes.get(digest, ADMIN) for digest in self.settings.token_hashes
        }
        given.update(self.settings.token_scopes)
        return TokenCache(self.token_loader or (lambda: given), initial=given)

    def token_scope(self, authorization: str | None) -> str | None:
        """The scope of the request's bearer token ("orders" or "admin"), None if it is not accepted."""
        from chalicelib.auth import scope_of

        return scope_of(authorization, self.tokens.current())

    # --- Postgres -------------------------------------------------------------------------
    @cached_property
    def engine(self) -> Any:
        from sqlalchemy import create_engine

        if not self.settings.database_url:
            raise RuntimeError("DATABASE_URL is not set")
        return create_engine(
            self.settings.database_url,
            pool_pre_ping=True,  # a connection killed while the container slept is replaced
            pool_size=int(os.environ.get("SITEGEN_DB_POOL_SIZE", "2")),
            max_overflow=2,
            pool_recycle=300,
            connect_args={"timeout": 10},
        )

    @cached_property
    def session_factory(self) -> Any:
        from sqlalchemy.orm import sessionmaker

        return sessionmaker(self.engine, expire_on_commit=False)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)

    # --- AWS ------------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        cache = self.__dict__.setdefault("_clients", {})
        if service not in cache:
            import boto3
            from botocore.config import Config

            config = Config(
                connect_timeout=3, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"}
            )
            cache[service] = boto3.client(service, region_name=self.settings.region, config=config)
        return cache[service]

    @cached_property
    def logs(self) -> LogStore:
        from chalicelib.adapters.dynamo_logs import DynamoLogStore

        return DynamoLogStore(self.client("dynamodb"), self.settings.logs_table, self.settings.log_ttl_days)

    @cached_property
    def queue(self) -> PhaseQueue:
        from chalicelib.adapters.sqs_queue import SqsPhaseQueue

        if not self.settings.queue_url:
            raise RuntimeError("SITEGEN_QUEUE_URL is not set")
        return SqsPhaseQueue(self.client("sqs"), self.settings.queue_url, self.settings.dlq_url)

    @cached_property
    def sites(self) -> SiteStore:
        from chalicelib.adapters.s3_sites import S3SiteStore

        return S3SiteStore(self.client("s3"), self.settings.site_bucket, self.site_base_url)

    @cached_property
    def site_base_url(self) -> str:
        if self.settings.site_base_url:
            return self.settings.site_base_url.rstrip("/")
        return f"{self.client('s3').meta.endpoint_url}/{self.settings.site_bucket}"

    def live_url(self, order_id: str) -> str:
        """The order's one public address (SITEGEN_LIVE_URL, "{order}" standing for its id)."""
        template = self.settings.live_url_template or f"{self.site_base_url}/o/{{order}}/"
        return template.replace("{order}", order_id)

    @cached_property
    def live_pointer(self) -> LivePointer:
        from chalicelib.adapters.s3_sites import KvsLivePointer, S3LivePointer

        if self.settings.live_kvs_arn:
            return KvsLivePointer(self.client("cloudfront-keyvaluestore"), self.settings.live_kvs_arn)
        return S3LivePointer(self.client("s3"), self.settings.site_bucket)

    @cached_property
    def secrets(self) -> SecretStore:
        from chalicelib.adapters.secrets import SecretsManagerStore

        return SecretsManagerStore(self.client("secretsmanager"), prefix=self.settings.secrets_prefix)

    @cached_property
    def webhook_secrets(self) -> SecretStore:
        from chalicelib.adapters.secrets import SecretsManagerStore

        return SecretsManagerStore(
            self.client("secretsmanager"),
            prefix=self.settings.webhook_secrets_prefix,
            description="sitegen webhook signing secret (managed by sitegen)",
        )

    # --- AI -------------------------------------------------------------------------------
    def provider(self, config: Any) -> Any:
        from chalicelib.ai.registry import build_provider

        # the key store is built only if needed; no call may outlast the stage's provider timeout
        return build_provider(config, lambda: self.secrets, max_timeout_s=self.settings.provider_timeout_s)


if TYPE_CHECKING:  # mypy checks that these Deps are what the services take (ports.Deps)

    def _satisfies_the_port(settings: Settings) -> ports.Deps:
        return Deps(settings)


_deps: Deps | None = None


def get_deps() -> Deps:
    global _deps
    if _deps is None:
        settings = get_settings()
        check_timeouts(settings)  # at start-up: a misconfigured stage fails loudly, not mid-phase
        from chalicelib.config import read_token_scopes

        _deps = Deps(settings, token_loader=read_token_scopes)
    return _deps


def set_deps(deps: Deps | None) -> None:
    global _deps
    _deps = deps
