"""Test wiring: real Deps pointed at the test database and moto, plus small drivers."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import boto3
from sqlalchemy import text

from chalicelib.bootstrap import Deps
from chalicelib.config import Settings, hash_token
from infra.resources import Resources, deploy
from tests.support.fakes import FakeClock  # noqa: F401 (tests import it from here too)

TABLES = (
    "dead_letters, idempotency_keys, outbox, phase_runs, generations, orders, webhook_deliveries, "
    "webhook_events, webhooks"
)


@dataclass
class AwsStack:
    resources: Resources
    sqs: Any
    dynamodb: Any
    s3: Any


def make_aws() -> AwsStack:
    session = boto3.Session(region_name="us-east-1")
    resources = deploy(session, stage="test")
    return AwsStack(resources, session.client("sqs"), session.client("dynamodb"), session.client("s3"))


class TestDeps(Deps):
    """The production Deps, with settings for tests; `provider_override` swaps the AI edge."""

    __test__ = False
    provider_override: Any = None

    def provider(self, config: Any) -> Any:
        if self.provider_override is not None:
            return self.provider_override(config)
        return super().provider(config)


def make_deps(database_url: str, aws: AwsStack, token: str, **overrides: Any) -> TestDeps:
    r = aws.resources
    settings = Settings(
        database_url=database_url,
        queue_url=r.queue_url,
        dlq_url=r.dlq_url,
        logs_table=r.logs_table,
        site_bucket=r.bucket,
        site_base_url=f"https://sites.test/{r.bucket}",
        token_hashes=frozenset({hash_token(token)}),
        retry_base_seconds=0,
        **overrides,
    )
    return TestDeps(settings)


TEMPLATE_ID = "00000000-0000-4000-8000-000000000001"  # the AI config migration 0001 seeds


def reset_database(deps: Deps) -> None:
    """Empty the work tables and put the AI tables back as the migration seeded them
    (the template config, enabled, routed for every task; no fallback)."""
    with deps.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
        conn.execute(
            text("UPDATE ai_routes SET config_id = CAST(:t AS uuid) WHERE task <> 'fallback'"),
            {"t": TEMPLATE_ID},
        )
        conn.execute(text("UPDATE ai_routes SET config_id = NULL WHERE task = 'fallback'"))
        conn.execute(text("DELETE FROM ai_configs WHERE id <> CAST(:t AS uuid)"), {"t": TEMPLATE_ID})
        conn.execute(
            text("UPDATE ai_configs SET enabled = true WHERE id = CAST(:t AS uuid)"), {"t": TEMPLATE_ID}
        )


@dataclass
class Api:
    """Drives the app through chalice.test.Client with the bearer token."""

    client: Any
    token: str
    calls: list[tuple[str, str, int]] = field(default_factory=list)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = "default",
        headers: dict[str, str] | None = None,
        raw: bytes | str | None = None,
    ) -> Any:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token == "default":
            token = self.token
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = self.client.http.request(method, path, headers=all_headers, body=payload)
        self.calls.append((method, path, response.status_code))
        return response

    def json(self, method: str, path: str, body: Any = None, expect: int = 200, **kw: Any) -> Any:
        response = self.request(method, path, body, **kw)
        assert response.status_code == expect, (response.status_code, response.body[:2000])
        return json.loads(response.body)


def deliver_one(api: Api, aws: AwsStack) -> int:
    """Deliver the next queued message, if any, to the SQS handler through the Chalice test client."""
    from infra.queue_feeder import poll_once

    def handler(event: dict[str, Any], context: Any) -> Any:
        return api.client.lambda_.invoke("run_phase", event)

    return poll_once(aws.sqs, aws.resources.queue_url, handler, "run_phase", 30, wait_s=0)


def drain(api: Api, aws: AwsStack, limit: int = 200) -> int:
    """Deliver queued messages until the queue is empty. Returns how many deliveries were made."""
    deliveries = 0
    while deliveries < limit:
        handled = deliver_one(api, aws)
        if not handled:
            return deliveries
        deliveries += handled
    raise AssertionError(f"queue not drained after {limit} deliveries")


def dead_letters(aws: AwsStack) -> list[dict[str, Any]]:
    """Peek at the dead-letter queue (messages are made visible again at once)."""
    messages = aws.sqs.receive_message(
        QueueUrl=aws.resources.dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", [])
    for m in messages:
        aws.sqs.change_message_visibility(
            QueueUrl=aws.resources.dlq_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
        )
    return messages


def logs(api: Api, generation_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after = ""
    while True:
        page = api.json("GET", f"/generations/{generation_id}/logs?after={after}&limit=50")
        items += page["items"]
        if not page["items"]:
            return items
        after = page["next_cursor"]


def _delayed(aws: AwsStack) -> int:
    attrs = aws.sqs.get_queue_attributes(
        QueueUrl=aws.resources.queue_url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessagesDelayed"])


def run_like_aws(
    api: Api, aws: AwsStack, deps: Any, clock: FakeClock, limit: int = 300, on_crash: Any = None
) -> dict[str, int]:
    """Deliver messages as Lambda's SQS event source would, crashes included: a delivery that dies
    (an injected fault, or any exception out of the handler: a Lambda error) leaves its message on the
    queue; it comes back after the visibility timeout (by then the dead invocation's lease has
    expired). `on_crash(exc)` runs after each, e.g. to bring a dependency back. When the queue is
    empty, run the scheduled sweeper once. `errors` counts crashes that were not injected faults."""
    from chalicelib.faults import InjectedFault
    from chalicelib.services.sweeper import sweep
    from infra.lambda_events import sqs_event
    from infra.queue_feeder import receive

    stats = {"deliveries": 0, "crashes": 0, "errors": 0, "sweeps": 0}
    queue_url = aws.resources.queue_url
    patience = time.monotonic() + 30
    arn = aws.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    while stats["deliveries"] < limit:
        messages = receive(aws.sqs, queue_url, 0)
        if not messages and _delayed(aws) and time.monotonic() < patience:
            time.sleep(0.25)  # a retry delayed by SQS (DelaySeconds is real time in moto): it will come
            continue
        if not messages:
            stats["sweeps"] += 1
            clock.advance(120)  # the schedule runs later; delayed retries become due
            if not sweep(deps).republished:
                return stats
            continue
        stats["deliveries"] += 1
        try:
            api.client.lambda_.invoke("run_phase", sqs_event(messages, arn))
        except (InjectedFault, Exception) as exc:
            stats["crashes"] += 1
            stats["errors"] += not isinstance(exc, InjectedFault)
            if on_crash is not None:
                on_crash(exc)
            clock.advance(721)  # the visibility timeout passes
            aws.sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=messages[0]["ReceiptHandle"], VisibilityTimeout=0
            )
            continue
        aws.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])
    raise AssertionError(f"not quiet after {limit} deliveries: {stats}")


PHASES = ["brief", "sitemap", "content", "code", "review", "publish"]
PARTS = {
    "content": ["index", "servicos", "sobre", "contato"],  # the standard order's pages (pt-BR)
    "code": ["styles.css", "index", "servicos", "sobre", "contato"],
}


def each_output_once() -> dict[str, int]:
    """What the output-write counter (infra/soak.py) shows when every phase and part stored once."""
    return {**{p: 1 for p in PHASES}, **{f"{p}/{part}": 1 for p, names in PARTS.items() for part in names}}
