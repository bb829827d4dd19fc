"""Progress logs in DynamoDB: partition = generation id, sort = cursor. Never inside a DB transaction.

Each generation's lines are numbered 1, 2, 3... in the order they are written (not made): a line's
sort key is `L` + its number, 12 digits, and that is its cursor. A writer reads the highest number
(one Query, newest first, Limit 1; skipped when this store wrote the generation's last line itself)
and writes its lines with the next ones in one TransactWriteItems, each put conditional on the key
being free; when another writer took a number first, the transaction is cancelled and it tries again
with a fresh read. So numbers are dense: a number exists only if every lower one does. A reader
returns lines only while their numbers follow on from `after` without a gap (a gap is a write not
visible yet: a Query is read-committed, it may see part of a transaction), so a watcher that passes
the last cursor it got as `after` sees every line once, in an order that never changes. See
docs/logs.md.

Other keys in a partition: `#` + a lifecycle line's once_key, the guard that makes put_once write at
most one line per key (written in the same transaction as the line); and lines written before the
numbering (cursors of 13 digits + a tag, sorting before `L`), read first. Nothing sorts after `L`.
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.ports import LogLine

LINE = "L"  # a numbered line's sort key: LINE + f"{n:012d}"
GUARD = "#"  # a lifecycle line's guard: GUARD + its once_key (sorts before every line)
START = "0"  # the cursor before every line: sorts after every guard, before every line
TRANSACTION_ITEMS = 100  # TransactWriteItems' limit
TRANSACTION_BYTES = 3_000_000  # under its 4 MB limit, with room for the attributes counted roughly
# A writer tries again for as long as other writers keep taking its numbers (each time one did, the
# log moved on), up to this long; then its lines go to stdout like when the store is down.
WRITE_PATIENCE_S = 10.0
BACKOFF_MAX_S = 0.25
KNOWN_GENERATIONS = 1024  # generations whose last number a store remembers (a guess, checked by the write)
# A gap older than this is not a write in flight (a transaction commits within its call, and the
# client gives up on a call long before): its lines are gone (their TTL expired first). Read past it.
GAP_WAIT_MS = 10 * 60 * 1000


def line_key(n: int) -> str:
    return f"{LINE}{n:012d}"


def number(cursor: str) -> int | None:
    """A numbered line's number, None for any other key or cursor."""
    digits = cursor[len(LINE) :]
    return int(digits) if cursor.startswith(LINE) and len(digits) == 12 and digits.isdigit() else None


class LogWriteConflict(RuntimeError):
    """Other writers took every number this writer tried: it gave up (the caller logs to stdout)."""


class DynamoLogStore:
    def __init__(self, client: Any, table: str, ttl_days: int) -> None:
        self._client = client
        self._table = table
        self._ttl_seconds = ttl_days * 86400
        # the last number this store wrote, per generation: its next write tries the one after without a
        # Query (a wrong guess is a taken number: cancelled, then read; never too high, as lines are not
        # deleted under a running container: they expire after 30 days)
        self._known: OrderedDict[str, int] = OrderedDict()
        self._known_lock = threading.Lock()

    # --- writing -------------------------------------------------------------------------------
    def put_once(self, line: LogLine) -> bool:
        guard = line.once_key or line.cursor
        if not guard:
            raise ValueError("put_once needs the line's once_key")
        return self._append(line.generation_id, [line], guard=guard)

    def put_many(self, lines: list[LogLine]) -> None:
        for generation_id in dict.fromkeys(line.generation_id for line in lines):
            chunk: list[LogLine] = []
            size = 0
            for line in (x for x in lines if x.generation_id == generation_id):
                line_size = (
                    512 + 4 * len(line.message) + len(line.part or "")
                )  # UTF-8: at most 4 bytes a char
                if chunk and (len(chunk) == TRANSACTION_ITEMS or size + line_size > TRANSACTION_BYTES):
                    self._append(generation_id, chunk)
                    chunk, size = [], 0
                chunk.append(line)
                size += line_size
            if chunk:
                self._append(generation_id, chunk)

    def _append(self, generation_id: str, lines: list[LogLine], guard: str | None = None) -> bool:
        """Write lines with the next numbers, all or none; with a guard, only if the guard is not there.
        True when written, False when the guard was there."""
        expires_at = str(int(time.time()) + self._ttl_seconds)
        with self._known_lock:
            last: int | None = self._known.get(generation_id)
        deadline = time.monotonic() + WRITE_PATIENCE_S
        attempt = 0
        while True:
            guessed = last is not None
            if last is None:
                last = self._last_number(generation_id)
            written_at = str(int(time.time() * 1000))
            puts = [
                self._item(line, line_key(last + 1 + i), written_at, expires_at)
                for i, line in enumerate(lines)
            ]
            if guard is not None:
                puts.insert(
                    0,
                    {
                        "generation_id": {"S": generation_id},
                        "cursor": {"S": GUARD + guard},
                        "line": {"S": line_key(last + 1)},
                        "expires_at": {"N": expires_at},
                    },
                )
            try:
                self._client.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": self._table,
                                "Item": item,
                                "ConditionExpression": "attribute_not_exists(#c)",
                                "ExpressionAttributeNames": {"#c": "cursor"},
                            }
                        }
                        for item in puts
                    ]
                )
                self._remember(generation_id, last + len(lines))
                return True
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons") or []]
                if guard is not None and reasons[:1] == ["ConditionalCheckFailed"]:
                    return False  # the line was written before (by this writer or another)
                # a number was taken (by another writer, since the read or the guess), or a concurrent
                # transaction held one of the keys: read again, after a pause if it was a fresh read
                last = None
                if time.monotonic() > deadline:
                    raise LogWriteConflict(
                        f"no free line number for generation {generation_id} in {WRITE_PATIENCE_S} s"
                    ) from exc
                if not guessed:
                    time.sleep(random.uniform(0, min(BACKOFF_MAX_S, 0.005 * 2 ** min(attempt, 8))))
                    attempt += 1

    def _remember(self, generation_id: str, last: int) -> None:
        with self._known_lock:
            self._known[generation_id] = last
            self._known.move_to_end(generation_id)
            if len(self._known) > KNOWN_GENERATIONS:
                self._known.popitem(last=False)

    def _last_number(self, generation_id: str) -> int:
        result = self._client.query(
            TableName=self._table,
            KeyConditionExpression="#g = :g AND #c > :lines",
            ExpressionAttributeNames={"#g": "generation_id", "#c": "cursor"},
            ExpressionAttributeValues={":g": {"S": generation_id}, ":lines": {"S": LINE}},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
            ProjectionExpression="#c",
        )
        items = result.get("Items", [])
        return (number(items[0]["cursor"]["S"]) or 0) if items else 0

    def _item(self, line: LogLine, cursor: str, written_at: str, expires_at: str) -> dict[str, Any]:
        item: dict[str, Any] = {
            "generation_id": {"S": line.generation_id},
            "cursor": {"S": cursor},
            "ts": {"S": line.ts},
            "level": {"S": line.level},
            "message": {"S": line.message},
            "written_at": {"N": written_at},
            "expires_at": {"N": expires_at},
        }
        for name in ("phase", "event", "part"):
            value = getattr(line, name)
            if value:
                item[name] = {"S": value}
        return item

    # --- reading -------------------------------------------------------------------------------
    def page(self, generation_id: str, after: str | None, limit: int) -> list[LogLine]:
        start = after if after and after > START else START  # nothing before START is a line
        last = number(start) or 0  # a cursor from before the numbering: no numbered line seen yet
        result = self._client.query(
            TableName=self._table,
            KeyConditionExpression="#g = :g AND #c > :after",
            ExpressionAttributeNames={"#g": "generation_id", "#c": "cursor"},
            ExpressionAttributeValues={":g": {"S": generation_id}, ":after": {"S": start}},
            ScanIndexForward=True,
            Limit=limit,
        )
        lines: list[LogLine] = []
        now_ms = time.time() * 1000
        for item in result.get("Items", []):
            n = number(item["cursor"]["S"])
            if n is not None:
                if n != last + 1 and float(item.get("written_at", {}).get("N", 0)) > now_ms - GAP_WAIT_MS:
                    break  # line last + 1 is being written: it and what follows come in a later poll
                last = n
            lines.append(_line(item))
        return lines

    def ping(self) -> None:
        self._client.describe_table(TableName=self._table)


def _line(item: dict[str, Any]) -> LogLine:
    def s(name: str) -> str | None:
        return item[name]["S"] if name in item else None

    return LogLine(
        generation_id=item["generation_id"]["S"],
        cursor=item["cursor"]["S"],
        ts=item["ts"]["S"],
        level=item["level"]["S"],
        phase=s("phase"),
        event=s("event"),
        message=item["message"]["S"],
        part=s("part"),
    )
