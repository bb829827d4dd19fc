"""The in-process stack the benchmarks drive: a real PostgreSQL (embedded unless BENCH_DATABASE_URL or
TEST_DATABASE_URL), moto for AWS, the production Deps, the Chalice app's real handlers."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.counting import Meter
from tests.support.orders import ORDER  # noqa: F401  (the order every test generates)

TOKEN = "bench-token-0123456789"


def aws_env() -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.pop("AWS_ENDPOINT_URL", None)


@contextlib.contextmanager
def database() -> Iterator[str]:
    """A migrated database of its own; the server is embedded unless one is given."""
    from chalicelib.db.migrate import upgrade
    from infra.postgres import create_database

    admin = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    server, data_dir = None, None
    if not admin:
        from infra.postgres import embedded

        data_dir = Path(tempfile.mkdtemp(prefix="sitegen-bench-pg-"))
        admin, server = embedded(data_dir)
    url = create_database(admin, f"sitegen_bench_{os.getpid()}")
    upgrade(url)
    try:
        yield url
    finally:
        if server is not None:
            server.cleanup()  # stops the server
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)


@dataclass
class Stack:
    deps: Any
    aws: Any
    meter: Meter
    app: Any
    queue_arn: str

    def post(self, path: str, body: Any = None) -> dict[str, Any]:
        return self.http("POST", path, body)

    def http(self, method: str, path: str, body: Any = None, expect: int | None = None) -> Any:
        """One API request through the route's handler, the way API Gateway + Lambda run it."""
        from chalice.test import Client

        client = self.__dict__.get("_client")
        if client is None:
            client = self.__dict__["_client"] = Client(self.app, stage_name="local")
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
        response = client.http.request(
            method, path, headers=headers, body=json.dumps(body).encode() if body is not None else b""
        )
        if expect is not None and response.status_code != expect:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.body[:500]!r}")
        return json.loads(response.body) if response.body else None

    def generate(self) -> str:
        order = self.http("POST", "/orders", ORDER, expect=201)
        return str(self.http("POST", f"/orders/{order['id']}/generations", expect=202)["id"])

    def receive(self) -> dict[str, Any] | None:
        from infra.queue_feeder import receive

        messages = receive(self.aws.sqs, self.aws.resources.queue_url, 0)
        return messages[0] if messages else None

    def invoke(self, message: dict[str, Any]) -> None:
        """Invoke run_phase with the Lambda-shaped event, as Lambda's SQS event source does."""
        from infra.lambda_events import LambdaContext, sqs_event

        self.app.handler_map["run_phase"](
            sqs_event([message], self.queue_arn), LambdaContext("run_phase", 120)
        )

    def ack(self, message: dict[str, Any]) -> None:
        """The event source deletes the message after the invocation succeeded."""
        self.aws.sqs.delete_message(
            QueueUrl=self.aws.resources.queue_url, ReceiptHandle=message["ReceiptHandle"]
        )

    def deliver(self, message: dict[str, Any]) -> None:
        self.invoke(message)
        self.ack(message)

    def run_all(self, limit: int = 10_000) -> int:
        n = 0
        while (message := self.receive()) is not None:
            self.deliver(message)
            n += 1
            if n >= limit:
                raise RuntimeError(f"queue not drained after {limit} deliveries")
        return n


@contextlib.contextmanager
def in_process_stack(database_url: str) -> Iterator[Stack]:
    """moto + the production Deps on `database_url`, set as the app's deps; clients and engine watched."""
    aws_env()
    from moto import mock_aws

    from chalicelib import bootstrap
    from infra.moto_server import patch
    from tests.support.stack import make_aws, make_deps, reset_database

    patch()  # the local stack's moto: a DynamoDB Query reads only its partition (infra/moto_server.py)
    with mock_aws():
        aws = make_aws()
        deps = make_deps(database_url, aws, TOKEN)
        reset_database(deps)
        bootstrap.set_deps(deps)
        meter = Meter()
        meter.watch_deps(deps)
        meter.watch_provider(deps)
        from app import app

        arn = aws.sqs.get_queue_attributes(QueueUrl=aws.resources.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        try:
            yield Stack(deps, aws, meter, app, arn)
        finally:
            bootstrap.set_deps(None)
            deps.engine.dispose()
