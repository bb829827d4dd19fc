"""The generation queue on SQS (and its dead-letter queue)."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.ports import QueueStats

_MAX_DELAY = 900  # SQS DelaySeconds limit


class SqsPhaseQueue:
    def __init__(self, client: Any, queue_url: str, dlq_url: str | None) -> None:
        self._client = client
        self._queue_url = queue_url
        self._dlq_url = dlq_url

    def send(self, body: dict[str, Any], delay_seconds: int = 0) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=json.dumps(body, separators=(",", ":")),
            DelaySeconds=max(0, min(_MAX_DELAY, int(delay_seconds))),
        )

    def send_many(self, bodies: list[dict[str, Any]]) -> None:
        """One SendMessageBatch per 10 messages (a fan-out's parts). Raises if any entry failed."""
        for start in range(0, len(bodies), 10):
            entries = [
                {"Id": str(n), "MessageBody": json.dumps(body, separators=(",", ":"))}
                for n, body in enumerate(bodies[start : start + 10])
            ]
            failed = self._client.send_message_batch(QueueUrl=self._queue_url, Entries=entries).get("Failed")
            if failed:
                raise RuntimeError(
                    f"{len(failed)} of {len(entries)} messages were not sent ({failed[0].get('Code')})"
                )

    def send_dead_letter(self, raw_body: str, reason: str, delay_seconds: int = 0) -> None:
        if not self._dlq_url:
            raise RuntimeError("no dead-letter queue configured")
        self._client.send_message(
            QueueUrl=self._dlq_url,
            MessageBody=raw_body or "<empty>",
            MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:1000]}},
            DelaySeconds=max(0, min(_MAX_DELAY, int(delay_seconds))),
        )

    def _counts(self, url: str) -> dict[str, int]:
        attrs = self._client.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return {k: int(v) for k, v in attrs.items()}

    def waiting(self) -> int:
        counts = self._counts(self._queue_url)
        return counts.get("ApproximateNumberOfMessages", 0) + counts.get(
            "ApproximateNumberOfMessagesDelayed", 0
        )

    def stats(self) -> QueueStats:
        main = self._counts(self._queue_url)
        dead = self._counts(self._dlq_url) if self._dlq_url else {}
        return QueueStats(
            queue=self._queue_url.rsplit("/", 1)[-1],
            visible=main.get("ApproximateNumberOfMessages", 0),
            in_flight=main.get("ApproximateNumberOfMessagesNotVisible", 0),
            delayed=main.get("ApproximateNumberOfMessagesDelayed", 0),
            dead_letter=dead.get("ApproximateNumberOfMessages", 0),
            oldest_age_seconds=None,
        )

    def ping(self) -> None:
        self._client.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])
