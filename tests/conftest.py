"""Shared fixtures: a real PostgreSQL (embedded unless TEST_DATABASE_URL), moto for AWS, the app."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.pop("AWS_ENDPOINT_URL", None)
# The AI tests' provider servers (and the local stack's) listen on loopback, which sitegen refuses unless
# this is set (chalicelib/ai/egress.py). Tests of that refusal unset it (tests/ai/test_egress.py).
os.environ.setdefault("SITEGEN_AI_ALLOW_PRIVATE_NETWORKS", "1")

TOKEN = "test-token-0123456789"

from tests.support import stack as support  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: needs PostgreSQL (the embedded server); set by fixture")
    config.addinivalue_line("markers", "slow: takes long (servers, sweeps); `make test-fast` skips it")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses the database is marked `postgres`, so `make test-fast` can leave it out."""
    for item in items:
        if "database_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    admin = os.environ.get("TEST_DATABASE_URL")
    server = None
    if not admin:
        from infra.postgres import embedded

        data_dir = Path(tempfile.mkdtemp(prefix="sitegen-pg-"))
        admin, server = embedded(data_dir)
    from chalicelib.db.migrate import upgrade
    from infra.postgres import create_database

    url = create_database(admin, f"sitegen_test_{os.getpid()}")
    upgrade(url)
    yield url
    if server is not None:
        server.cleanup()


@pytest.fixture()
def aws() -> Iterator[support.AwsStack]:
    from moto import mock_aws

    with mock_aws():
        yield support.make_aws()


@pytest.fixture()
def deps(database_url: str, aws: support.AwsStack) -> Iterator[support.TestDeps]:
    deps = support.make_deps(database_url, aws, TOKEN)
    support.reset_database(deps)
    from chalicelib import bootstrap

    bootstrap.set_deps(deps)
    yield deps
    bootstrap.set_deps(None)
    deps.engine.dispose()


@pytest.fixture()
def client(deps: support.TestDeps) -> Iterator[support.Api]:
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="local") as chalice_client:
        yield support.Api(chalice_client, TOKEN)
