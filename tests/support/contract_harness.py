"""Harnesses for tests/contract: each wraps one implementation of a port (a fake from fakes.py, or the
real adapter on in-process moto with resources made for it) and gives tests what they need to see
behind the port."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any, Protocol

from chalicelib.adapters.dynamo_logs import DynamoLogStore
from chalicelib.adapters.s3_sites import S3LivePointer, S3SiteStore
from chalicelib.adapters.secrets import SecretsManagerStore
from chalicelib.adapters.sqs_queue import SqsPhaseQueue
from chalicelib.ports import LivePointer, LogLine, LogStore, PhaseQueue, SecretStore, SiteStore
from tests.support.fakes import (
    FakeLivePointer,
    FakeLogStore,
    FakePhaseQueue,
    FakeSecretStore,
    FakeSiteStore,
    line_key,
)

QUEUE = "contract-generation"
TABLE = "contract-logs"
BUCKET = "contract-sites"
BASE_URL = "https://sites.test/contract"
SECRET_PREFIX = "sitegen/contract/ai/"


# --- logs ------------------------------------------------------------------------------------------
class LogHarness(Protocol):
    store: LogStore

    def other_writer(self) -> LogStore:
        """Another writer of the same log (another container)."""

    def write_at(self, line: LogLine, n: int) -> None:
        """Put line number n as a writer whose transaction a reader sees in part would."""


class FakeLogs:
    def __init__(self) -> None:
        self.store: FakeLogStore = FakeLogStore()

    def other_writer(self) -> LogStore:
        return self.store

    def write_at(self, line: LogLine, n: int) -> None:
        self.store.lines.setdefault(line.generation_id, {})[n] = replace(line, cursor=line_key(n))


class DynamoLogs:
    def __init__(self, session: Any) -> None:
        from infra.resources import load_template

        table = load_template()["Resources"]["LogsTable"]["Properties"]  # the deployed table's keys
        self.client = session.client("dynamodb")
        self.client.create_table(
            TableName=TABLE,
            AttributeDefinitions=table["AttributeDefinitions"],
            KeySchema=table["KeySchema"],
            BillingMode="PAY_PER_REQUEST",
        )
        self.store = DynamoLogStore(self.client, TABLE, ttl_days=30)

    def other_writer(self) -> LogStore:
        return DynamoLogStore(self.client, TABLE, ttl_days=30)

    def write_at(self, line: LogLine, n: int) -> None:
        item = {
            "generation_id": {"S": line.generation_id},
            "cursor": {"S": line_key(n)},
            "ts": {"S": line.ts},
            "level": {"S": line.level},
            "message": {"S": line.message},
            "written_at": {"N": str(int(time.time() * 1000))},
            "expires_at": {"N": str(int(time.time()) + 86400)},
        }
        self.client.put_item(TableName=TABLE, Item=item)


# --- queue -----------------------------------------------------------------------------------------
class QueueHarness(Protocol):
    queue: PhaseQueue

    def without_dead_letter(self) -> PhaseQueue: ...

    def received(self) -> list[Any]:
        """Receive and delete every visible message of the generation queue: their bodies, parsed."""

    def dead(self) -> list[tuple[str, str]]:
        """Every visible dead letter: (raw body, reason)."""


class FakeQueues:
    def __init__(self) -> None:
        self.queue: FakePhaseQueue = FakePhaseQueue(QUEUE)

    def without_dead_letter(self) -> PhaseQueue:
        return FakePhaseQueue(QUEUE, dead_letter=False)

    def received(self) -> list[Any]:
        return self.queue.take()

    def dead(self) -> list[tuple[str, str]]:
        return [(m.body, m.attributes["reason"]) for m in self.queue.dead or [] if not m.delay_seconds]


class SqsQueues:
    def __init__(self, session: Any) -> None:
        self.sqs = session.client("sqs")
        self.dlq_url = self.sqs.create_queue(QueueName=f"{QUEUE}-dlq")["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=self.dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})
        self.url = self.sqs.create_queue(QueueName=QUEUE, Attributes={"RedrivePolicy": redrive})["QueueUrl"]
        self.queue = SqsPhaseQueue(self.sqs, self.url, self.dlq_url)

    def without_dead_letter(self) -> PhaseQueue:
        return SqsPhaseQueue(self.sqs, self.url, None)

    def _receive_all(self, url: str, delete: bool) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=30
            ).get("Messages", [])
            if not batch:
                return found
            found += batch
            for m in batch:
                if delete:
                    self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    def received(self) -> list[Any]:
        return [json.loads(m["Body"]) for m in self._receive_all(self.url, delete=True)]

    def dead(self) -> list[tuple[str, str]]:
        messages = self._receive_all(self.dlq_url, delete=False)
        for m in messages:  # a peek: visible again at once
            self.sqs.change_message_visibility(
                QueueUrl=self.dlq_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
            )
        return [(m["Body"], m["MessageAttributes"]["reason"]["StringValue"]) for m in messages]


# --- sites and the live pointer -------------------------------------------------------------------
class SiteHarness(Protocol):
    store: SiteStore

    def read(self, key: str) -> tuple[str, bytes] | None:
        """(content type, body) of the file at key (`prefix/path`), None if there is none."""


class FakeSites:
    def __init__(self) -> None:
        self.store: FakeSiteStore = FakeSiteStore(BASE_URL)

    def read(self, key: str) -> tuple[str, bytes] | None:
        return self.store.files.get(key)


def _bucket(session: Any) -> Any:
    s3 = session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    return s3


class S3Sites:
    def __init__(self, session: Any) -> None:
        self.s3 = _bucket(session)
        self.store = S3SiteStore(self.s3, BUCKET, BASE_URL)

    def read(self, key: str) -> tuple[str, bytes] | None:
        try:
            obj = self.s3.get_object(Bucket=BUCKET, Key=key)
        except self.s3.exceptions.NoSuchKey:
            return None
        return str(obj["ContentType"]), bytes(obj["Body"].read())


class PointerHarness(Protocol):
    pointer: LivePointer


class FakePointers:
    def __init__(self) -> None:
        self.pointer: LivePointer = FakeLivePointer()


class S3Pointers:
    def __init__(self, session: Any) -> None:
        self.pointer: LivePointer = S3LivePointer(_bucket(session), BUCKET)


# --- secrets ---------------------------------------------------------------------------------------
class SecretHarness(Protocol):
    store: SecretStore


class FakeSecrets:
    def __init__(self) -> None:
        self.store: SecretStore = FakeSecretStore(SECRET_PREFIX)


class ManagerSecrets:
    def __init__(self, session: Any) -> None:
        self.store: SecretStore = SecretsManagerStore(session.client("secretsmanager"), SECRET_PREFIX)
