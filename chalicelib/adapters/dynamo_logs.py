"""Progress logs in DynamoDB: partition = generation id, sort = cursor. Never inside a DB transaction."""
from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.ports import LogLine

_BATCH = 25  # BatchWriteItem's limit


class DynamoLogStore:
    def __init__(self, client: Any, table: str, ttl_days: int) -> None:
        self._client = client
        self._table = table
        self._ttl_seconds = ttl_days * 86400

    def _item(self, line: LogLine) -> dict[str, Any]:
        item: dict[str, Any] = {
            "generation_id": {"S": line.generation_id},
            "cursor": {"S": line.cursor},
            "ts": {"S": line.ts},
            "level": {"S": line.level},
            "message": {"S": line.message},
            "expires_at": {"N": str(int(time.time()) + self._ttl_seconds)},
        }
        if line.phase:
            item["phase"] = {"S": line.phase}
        if line.event:
            item["event"] = {"S": line.event}
        return item

    def put_once(self, line: LogLine) -> bool:
        try:
            self._client.put_item(
                TableName=self._table, Item=self._item(line),
                ConditionExpression="attribute_not_exists(#c)",
                ExpressionAttributeNames={"#c": "cursor"},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def put_many(self, lines: list[LogLine]) -> None:
        for start in range(0, len(lines), _BATCH):
            requests = [{"PutRequest": {"Item": self._item(x)}} for x in lines[start:start + _BATCH]]
            pending: dict[str, Any] = {self._table: requests}
            for _ in range(5):
                result = self._client.batch_write_item(RequestItems=pending)
                pending = result.get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(0.05)
            if pending:
                raise RuntimeError(f"{len(pending[self._table])} log lines left unprocessed")

    def page(self, generation_id: str, after: str | None, limit: int) -> list[LogLine]:
        names = {"#g": "generation_id"}
        values: dict[str, Any] = {":g": {"S": generation_id}}
        condition = "#g = :g"
        if after:
            condition += " AND #c > :after"
            names["#c"] = "cursor"
            values[":after"] = {"S": after}
        result = self._client.query(
            TableName=self._table, KeyConditionExpression=condition,
            ExpressionAttributeNames=names, ExpressionAttributeValues=values,
            ScanIndexForward=True, Limit=limit,
        )
        return [_line(item) for item in result.get("Items", [])]

    def ping(self) -> None:
        self._client.describe_table(TableName=self._table)


def _line(item: dict[str, Any]) -> LogLine:
    def s(name: str) -> str | None:
        return item[name]["S"] if name in item else None

    return LogLine(
        generation_id=item["generation_id"]["S"], cursor=item["cursor"]["S"], ts=item["ts"]["S"],
        level=item["level"]["S"], phase=s("phase"), event=s("event"), message=item["message"]["S"],
    )
