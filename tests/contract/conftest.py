"""Each port's implementations, one fixture per port, parametrized: "fake" (tests/support/fakes.py) and
"real" (the AWS adapter on in-process moto, with the resources it needs made for the test). A contract
test takes the fixture and runs once per implementation. A harness also gives what a test needs to see
behind the port (what a queue holds, what a bucket holds) and nothing the port does not promise."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import contract_harness as h

IMPLEMENTATIONS = ["fake", "real"]


class Clients:
    """boto3 clients, each made once per test session (making one costs more than a test's calls)."""

    def __init__(self) -> None:
        import boto3
        import moto  # noqa: F401 (first: a session made before moto is imported bypasses it)

        self._session = boto3.Session(region_name="us-east-1")
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(service)
        return self._clients[service]


@pytest.fixture(scope="session")
def aws_clients() -> Clients:
    return Clients()


@pytest.fixture()
def moto_session(aws_clients: Clients) -> Iterator[Clients]:
    """In-process moto, empty for each test (the clients reach it while it is on)."""
    from moto import mock_aws

    with mock_aws():
        yield aws_clients


def _implementations(fake: Any, real: Any) -> Any:
    """A fixture giving the fake harness, then the real one (on moto)."""

    @pytest.fixture(params=IMPLEMENTATIONS)
    def harness(request: pytest.FixtureRequest) -> Any:
        if request.param == "fake":
            return fake()
        return real(request.getfixturevalue("moto_session"))

    return harness


logs = _implementations(h.FakeLogs, h.DynamoLogs)
queues = _implementations(h.FakeQueues, h.SqsQueues)
sites = _implementations(h.FakeSites, h.S3Sites)
pointers = _implementations(h.FakePointers, h.S3Pointers)
secrets = _implementations(h.FakeSecrets, h.ManagerSecrets)
