"""Count what a unit of work costs: SQL statements and transactions (SQLAlchemy events), server round
trips (pg8000's wire reads), AWS calls by service and operation (botocore `before-call`/`after-call`
hooks), DynamoDB items and request units, S3 puts, CPU time and stdout bytes (CloudWatch Logs).

One `Meter` per process; `meter.window()` is a context manager that returns what happened inside it.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Window:
    """What happened between the start and the end of one window."""

    statements: int = 0
    sql: list[str] = field(default_factory=list)  # statement texts, to find repeats (N+1)
    transactions: int = 0  # BEGINs seen by SQLAlchemy
    commits: int = 0
    rollbacks: int = 0
    checkouts: int = 0  # pool checkouts (each one pings the server: pool_pre_ping)
    round_trips: int = (
        0  # waits for the server's answer on the wire (pg8000), pings and BEGIN/COMMIT included
    )
    aws: Counter = field(default_factory=Counter)  # "service.Operation" -> calls
    ddb_items_written: int = 0
    ddb_wru: int = 0  # write request units (1 per KB of item, rounded up, per item; 2 in a transaction)
    ddb_bytes_written: int = 0
    ddb_items_read: int = 0  # Count of a Query/GetItem answer
    ddb_items_scanned: int = 0  # ScannedCount: what DynamoDB read (and bills) before any filter
    ddb_rru: float = (
        0.0  # read request units: 0.5 per 4 KB read (1 if strongly consistent), rounded up per call
    )
    ddb_batch_lines: int = 0  # items written through BatchWriteItem
    ddb_single_puts: int = 0  # PutItem calls (lifecycle lines: conditional, idempotent)
    ddb_single_puts_free_text: int = 0  # PutItem of a line without an event: should have been batched
    ddb_log_writes: int = (
        0  # TransactWriteItems calls (each writes a batch of lines, or a lifecycle line + guard)
    )
    ddb_free_text_writes: int = 0  # TransactWriteItems carrying free-text lines: one per flush
    s3_puts: int = 0
    s3_bytes: int = 0
    sqs_sends: int = 0
    cpu_s: float = 0.0
    wall_s: float = 0.0
    aws_cpu_s: float = (
        0.0  # inside AWS client calls: botocore, and moto's in-process emulation of the service
    )
    aws_wall_s: float = 0.0
    ai_cpu_s: float = 0.0  # inside the AI provider's generate (the offline template provider)
    ai_wall_s: float = 0.0
    stdout_bytes: int = 0

    @property
    def own_cpu_s(self) -> float:
        """CPU time of sitegen's own code and its libraries: the phase's overhead."""
        return max(0.0, self.cpu_s - self.aws_cpu_s - self.ai_cpu_s)

    def repeated_sql(self) -> dict[str, int]:
        """Statements run more than once in the window: where an N+1 would show."""
        return {sql: n for sql, n in Counter(self.sql).items() if n > 1}

    def as_dict(self) -> dict[str, Any]:
        return {
            "statements": self.statements,
            "transactions": self.transactions,
            "commits": self.commits,
            "rollbacks": self.rollbacks,
            "checkouts": self.checkouts,
            "round_trips": self.round_trips,
            "aws_calls": dict(sorted(self.aws.items())),
            "aws_total": sum(self.aws.values()),
            "sqs_sends": self.sqs_sends,
            "ddb_items_written": self.ddb_items_written,
            "ddb_wru": self.ddb_wru,
            "ddb_bytes_written": self.ddb_bytes_written,
            "ddb_batch_lines": self.ddb_batch_lines,
            "ddb_single_puts": self.ddb_single_puts,
            "ddb_single_puts_free_text": self.ddb_single_puts_free_text,
            "ddb_log_writes": self.ddb_log_writes,
            "ddb_free_text_writes": self.ddb_free_text_writes,
            "ddb_items_read": self.ddb_items_read,
            "ddb_items_scanned": self.ddb_items_scanned,
            "ddb_rru": self.ddb_rru,
            "s3_puts": self.s3_puts,
            "s3_bytes": self.s3_bytes,
            "cpu_ms": round(self.cpu_s * 1000, 2),
            "wall_ms": round(self.wall_s * 1000, 2),
            "cpu_ms_aws_calls": round(self.aws_cpu_s * 1000, 2),
            "cpu_ms_ai": round(self.ai_cpu_s * 1000, 2),
            "cpu_ms_own": round(self.own_cpu_s * 1000, 2),
            "stdout_bytes": self.stdout_bytes,
            "repeated_sql": len(self.repeated_sql()),
        }


def _value_size(value: dict[str, Any]) -> int:
    ((kind, v),) = value.items()
    if kind in ("S", "N", "B"):
        return len(str(v).encode())
    if kind == "BOOL" or kind == "NULL":
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(len(str(x).encode()) for x in v)
    if kind == "L":
        return 3 + sum(1 + _value_size(x) for x in v)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + _value_size(x) for k, x in v.items())
    return len(json.dumps(v))


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (close enough for billing units)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _body_size(body: Any) -> int:
    """botocore has already wrapped a bytes Body in a BytesIO by the time the hook sees it."""
    if isinstance(body, str):
        return len(body.encode())
    if isinstance(body, (bytes, bytearray)):
        return len(body)
    if hasattr(body, "getbuffer"):
        return body.getbuffer().nbytes
    return 0


class Meter:
    def __init__(self) -> None:
        self._windows: list[Window] = []
        self._engines: set[int] = set()
        self._clients: set[int] = set()
        self._pg_patched = False
        self._aws_started: list[tuple[float, float]] = []
        self._consistent: list[bool] = []  # per call in progress: a strongly consistent read

    # --- wiring ----------------------------------------------------------------------------
    def watch_engine(self, engine: Any) -> None:
        from sqlalchemy import event

        if id(engine) in self._engines:
            return
        self._engines.add(id(engine))

        def on_execute(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
            for w in self._windows:
                w.statements += 1
                w.sql.append(statement)

        def bump(name: str) -> Any:
            def handler(*args: Any, **kwargs: Any) -> None:
                for w in self._windows:
                    setattr(w, name, getattr(w, name) + 1)

            return handler

        event.listen(engine, "before_cursor_execute", on_execute)
        event.listen(engine, "begin", bump("transactions"))
        event.listen(engine, "commit", bump("commits"))
        event.listen(engine, "rollback", bump("rollbacks"))
        event.listen(engine.pool, "checkout", bump("checkouts"))
        self._patch_pg8000()

    def _patch_pg8000(self) -> None:
        if self._pg_patched:
            return
        from pg8000.core import CoreConnection

        original = CoreConnection.handle_messages
        meter = self

        def handle_messages(conn: Any, context: Any) -> Any:
            for w in meter._windows:
                w.round_trips += 1
            return original(conn, context)

        CoreConnection.handle_messages = handle_messages
        self._pg_patched = True

    def watch_client(self, client: Any) -> None:
        if id(client) in self._clients:
            return
        self._clients.add(id(client))
        service = client.meta.service_model.service_name
        # before-parameter-build: once per API call, with the parameters as the code passed them
        client.meta.events.register("before-parameter-build", self._before_call(service))
        client.meta.events.register("after-call", self._after_call(service))
        client.meta.events.register("after-call-error", self._after_call_error)

    def watch_deps(self, deps: Any, services: tuple[str, ...] = ("sqs", "dynamodb", "s3")) -> None:
        """Build the clients deps would build lazily, and watch them and the engine."""
        self.watch_engine(deps.engine)
        for service in services:
            self.watch_client(deps.client(service))

    def _before_call(self, service: str) -> Any:
        def handler(model: Any, params: dict[str, Any], **kwargs: Any) -> None:
            op = model.name
            api_params = params if isinstance(params, dict) else {}
            self._aws_started.append((time.process_time(), time.perf_counter()))
            self._consistent.append(bool(api_params.get("ConsistentRead")))
            for w in self._windows:
                w.aws[f"{service}.{op}"] += 1
                if service == "sqs" and op in ("SendMessage", "SendMessageBatch"):
                    w.sqs_sends += 1
                if service == "s3" and op in ("PutObject", "CopyObject", "CreateMultipartUpload"):
                    w.s3_puts += 1
                    w.s3_bytes += _body_size(api_params.get("Body"))
                if service == "dynamodb" and op == "PutItem":
                    size = item_size(api_params.get("Item", {}))
                    w.ddb_bytes_written += size
                    w.ddb_single_puts += 1
                    w.ddb_single_puts_free_text += "event" not in api_params.get("Item", {})
                    w.ddb_items_written += 1
                    w.ddb_wru += max(1, math.ceil(size / 1024))
                if service == "dynamodb" and op == "BatchWriteItem":
                    for requests in api_params.get("RequestItems", {}).values():
                        for r in requests:
                            item = r.get("PutRequest", {}).get("Item", {})
                            w.ddb_bytes_written += item_size(item)
                            w.ddb_items_written += 1
                            w.ddb_batch_lines += 1
                            w.ddb_wru += max(1, math.ceil(item_size(item) / 1024))
                if service == "dynamodb" and op == "TransactWriteItems":
                    w.ddb_log_writes += 1
                    items = [t["Put"]["Item"] for t in api_params.get("TransactItems", []) if "Put" in t]
                    w.ddb_free_text_writes += any("event" not in i and "message" in i for i in items)
                    for item in items:
                        w.ddb_bytes_written += item_size(item)
                        w.ddb_items_written += 1
                        w.ddb_wru += 2 * max(1, math.ceil(item_size(item) / 1024))  # prepare + commit

        return handler

    def _after_call(self, service: str) -> Any:
        def handler(http_response: Any, parsed: dict[str, Any], model: Any, **kwargs: Any) -> None:
            consistent = bool(self._consistent and self._consistent[-1])
            self._aws_done()
            if service != "dynamodb" or model.name not in ("Query", "Scan", "GetItem"):
                return
            items = parsed.get("Items") or ([parsed["Item"]] if parsed.get("Item") else [])
            count = parsed.get("Count", len(items))
            scanned = parsed.get("ScannedCount", count)
            size = sum(item_size(i) for i in items)
            units = (1.0 if consistent else 0.5) * max(1, math.ceil(size / 4096))
            for w in self._windows:
                w.ddb_items_read += count
                w.ddb_items_scanned += scanned
                w.ddb_rru += units

        return handler

    def _after_call_error(self, **kwargs: Any) -> None:
        self._aws_done()

    def _aws_done(self) -> None:
        if not self._aws_started:
            return
        cpu, wall = self._aws_started.pop()
        if self._consistent:
            self._consistent.pop()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        for w in self._windows:
            w.aws_cpu_s += cpu
            w.aws_wall_s += wall

    def watch_provider(self, deps: Any) -> None:
        """Time the AI provider's generate calls (deps must be tests.support.stack.TestDeps)."""
        from chalicelib.bootstrap import Deps

        meter = self

        class Timed:
            def __init__(self, inner: Any) -> None:
                self._inner = inner

            def __getattr__(self, name: str) -> Any:
                return getattr(self._inner, name)

            def generate(self, request: Any) -> Any:
                cpu, wall = time.process_time(), time.perf_counter()
                try:
                    return self._inner.generate(request)
                finally:
                    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                    for w in meter._windows:
                        w.ai_cpu_s += cpu
                        w.ai_wall_s += wall

        deps.provider_override = lambda config: Timed(Deps.provider(deps, config))

    # --- measuring --------------------------------------------------------------------------
    @contextlib.contextmanager
    def window(self, capture_stdout: bool = True) -> Iterator[Window]:
        w = Window()
        self._windows.append(w)
        out = _CountingStream(sys.stdout)
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            if capture_stdout:
                with contextlib.redirect_stdout(out):
                    yield w
            else:
                yield w
        finally:
            w.cpu_s = time.process_time() - cpu
            w.wall_s = time.perf_counter() - wall
            w.stdout_bytes = out.count
            self._windows.remove(w)


class _CountingStream(io.TextIOBase):
    """Swallows stdout (what a Lambda would send to CloudWatch Logs) and counts its bytes."""

    def __init__(self, inner: Any) -> None:
        self.count = 0

    def write(self, s: str) -> int:
        self.count += len(s.encode())
        return len(s)

    def flush(self) -> None:
        pass
