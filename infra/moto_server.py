"""moto in server mode (`python -m infra.moto_server -H 127.0.0.1 -p PORT`, same options as
`python -m moto.server`), with one change: a DynamoDB Query on a table's own key reads only what
DynamoDB would read, a range of its partition's sort keys.

moto answers every base-table Query by sorting every item of the table (`Table.all_items`) and
comparing each one with the key condition, so each log poll cost O(all log lines ever written): with
500 generations' lines in the table a poll took ~75 ms of moto's CPU, ten dashboards polling once a
second saturated a core, and the local stack's throughput fell from ~110 to ~30 generations a minute
(docs/benchmarks.md). The log table never shrinks locally either (moto does not expire items by TTL).

Here each queried partition keeps its sort keys in a sorted list (updated on every put and delete),
and a Query hands moto only the items its key condition selects (found by bisection), cut to the
page it can return. moto still applies the condition, ExclusiveStartKey, Limit, the 1 MB page,
filters and projections itself, so the results are moto's own (tests/unit/test_moto_server.py runs
the same queries through both). Scans, index queries and everything else are moto's unchanged.

And TransactWriteItems is atomic, as DynamoDB's is. moto's copies every table the transaction names
(`copy.deepcopy`, O(all items) per call: the log table's writes slowed as it grew) and, when one
condition fails, puts the copies back in place: with the server answering on several threads, that
undid whatever other requests wrote meanwhile, and two transactions could both find a key free. Here
a lock serializes transactions and single writes, every condition is checked before anything is
written, and nothing is copied. The answers are moto's own (the same test runs both).
"""

from __future__ import annotations

import bisect
import inspect
import threading
from dataclasses import dataclass, field
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

_lock = threading.Lock()  # the moto server handles requests on several threads
_write_lock = (
    threading.RLock()
)  # one write (a transaction, a put, a delete) at a time, as DynamoDB's are atomic
_transact_write_items = DynamoDBBackend.transact_write_items
_request = threading.local()
_query = Table.query
_all_items = Table.all_items
_put_item = Table.put_item
_delete_item = Table.delete_item
_QUERY_ARGS = [n for n, p in inspect.signature(_query).parameters.items() if p.kind is not p.VAR_KEYWORD][1:]
_OPERATORS = {"=": "EQ", ">": "GT", ">=": "GE", "<": "LT", "<=": "LE"}  # moto passes either spelling
_QUERY_DEFAULTS: dict[str, Any] = {
    "range_comparison": None,
    "range_objs": [],
    "limit": None,
    "exclusive_start_key": None,
    "scan_index_forward": True,
}


@dataclass
class _SortedKeys:
    """One partition's sort keys, ascending: their values (what moto compares) and moto's keys."""

    values: list[Any] = field(default_factory=list)
    keys: list[Any] = field(default_factory=list)

    def add(self, key: Any) -> None:
        i = bisect.bisect_left(self.values, key.cast_value)
        if i == len(self.values) or self.values[i] != key.cast_value:
            self.values.insert(i, key.cast_value)
            self.keys.insert(i, key)

    def remove(self, key: Any) -> None:
        i = bisect.bisect_left(self.values, key.cast_value)
        if i < len(self.values) and self.values[i] == key.cast_value:
            del self.values[i], self.keys[i]

    def span(self, comparison: str | None, operands: list[Any]) -> tuple[int, int, bool]:
        """Positions [lo, hi) of the keys a key condition can select, and whether that is exactly what
        it selects (begins_with's span is a superset: every key from the prefix on)."""
        v = [o.cast_value for o in operands]
        comparison = _OPERATORS.get(comparison or "", (comparison or "").upper())
        left, right = bisect.bisect_left, bisect.bisect_right
        spans = {
            "EQ": lambda: (left(self.values, v[0]), right(self.values, v[0])),
            "GT": lambda: (right(self.values, v[0]), len(self.values)),
            "GE": lambda: (left(self.values, v[0]), len(self.values)),
            "LT": lambda: (0, left(self.values, v[0])),
            "LE": lambda: (0, right(self.values, v[0])),
            "BETWEEN": lambda: (left(self.values, v[0]), right(self.values, v[1])),
            "BEGINS_WITH": lambda: (left(self.values, v[0]), len(self.values)),
        }
        lo, hi = spans[comparison]() if comparison in spans else (0, len(self.values))
        return lo, hi, comparison != "BEGINS_WITH"


def _sorted_keys(table: Table, hash_key: Any) -> _SortedKeys:
    partitions: dict[Any, _SortedKeys] = table.__dict__.setdefault("_sitegen_sorted_keys", {})
    if hash_key not in partitions:
        found = _SortedKeys()
        for key in sorted(table.items.get(hash_key, {}), key=lambda k: k.cast_value):
            found.values.append(key.cast_value)
            found.keys.append(key)
        partitions[hash_key] = found
    return partitions[hash_key]


def _selected_items(table: Table, q: dict[str, Any]) -> list[Any]:
    """The items of q's partition that q's key condition selects, ascending, cut to one page, with
    the next item on each side: moto checks its page limits on every item it walks, matching or
    not, so the neighbours keep its LastEvaluatedKey exactly as it would be."""
    partition = table.items.get(q["hash_key"], {})
    with _lock:
        keys = _sorted_keys(table, q["hash_key"])
        lo, hi, exact = keys.span(q["range_comparison"], q["range_objs"] or [])
        start, stop = max(lo - 1, 0), min(hi + 1, len(keys.keys))
        if q["exclusive_start_key"] is None and q["limit"] and exact:
            if q["scan_index_forward"] is False:
                start = max(start, hi - q["limit"] - 1)
            else:
                stop = min(stop, lo + q["limit"] + 1)
        selected = keys.keys[start:stop]
    return [partition[k] for k in selected if k in partition]


def _partition_items(self: Table) -> list[Any]:
    q = getattr(_request, "query", None)
    if q is not None and q["table"] is self:
        return _selected_items(self, q)
    return _all_items(self)


def _partition_query(self: Table, *args: Any, **kwargs: Any) -> Any:
    q = {**_QUERY_DEFAULTS, **dict(zip(_QUERY_ARGS, args, strict=False)), **kwargs}
    query_filter = set(kwargs) - set(_QUERY_ARGS)  # QueryFilter conditions arrive as keyword arguments
    one_sort_key = len(q.get("range_key_conditions") or []) <= 1
    simple = not q.get("index_name") and not query_filter and one_sort_key
    if not simple or q.get("hash_key") is None or not self.range_key_attr:
        return _query(self, *args, **kwargs)
    _request.query = dict(q, table=self)
    try:
        return _query(self, *args, **kwargs)
    finally:
        _request.query = None


def _put_item_keeping_order(self: Table, *args: Any, **kwargs: Any) -> Any:
    with _write_lock:  # its condition and its write, with nothing in between
        item = _put_item(self, *args, **kwargs)
        partitions = self.__dict__.get("_sitegen_sorted_keys")
        if partitions and item.range_key is not None and item.hash_key in partitions:
            with _lock:
                partitions[item.hash_key].add(item.range_key)
        return item


def _delete_item_keeping_order(self: Table, hash_key: Any, range_key: Any = None) -> Any:
    with _write_lock:
        item = _delete_item(self, hash_key, range_key)
        partitions = self.__dict__.get("_sitegen_sorted_keys")
        if partitions and item is not None and range_key is not None and hash_key in partitions:
            with _lock:
                partitions[hash_key].remove(range_key)
        return item


def _transact_write_items_atomically(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto's TransactWriteItems (same checks, same errors, in the same order), made atomic: every
    condition is checked, then everything is written, under the write lock. A transaction with an
    Update (which can fail while it is applied) is left to moto's own code, under the lock too."""
    with _write_lock:
        if len(transact_items) > 100 or any("Update" in item for item in transact_items):
            return _transact_write_items(self, transact_items)
        targets: set[tuple[str, str]] = set()
        errors: list[tuple[Any, Any, Any]] = []
        writes: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        for item in transact_items:
            if len(item) > 1:
                raise TransactWriteSingleOpException
            original: dict[str, Any] | None = None
            try:
                op_type, op = next(iter(item.items()))
                if op_type not in {"ConditionCheck", "Put", "Delete"}:
                    raise ValueError("Unsupported transaction operation")
                table_name = op["TableName"]
                key = _op_key(self, op_type, op)
                target = (str(table_name), str(dict(sorted(key.items()))))
                if target in targets:
                    raise MultipleTransactionsException()
                targets.add(target)
                failed, original = _condition_failed(self, op, key)
                if failed:
                    raise ConditionalCheckFailed(item=original)
                writes.append((op_type, op, key))
                errors.append((None, None, None))
            except (MultipleTransactionsException, MockValidationException):
                raise
            except ConditionalCheckFailed as e:
                errors.append(("ConditionalCheckFailed", str(e.message), original))
            except Exception as e:  # noqa: BLE001 (as moto: the error becomes the item's cancellation reason)
                errors.append((type(e).__name__, str(e), original))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)
        _apply(self, writes)


def _op_key(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    """The primary key an operation targets: a Put's from its item, the others' as given."""
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def _condition_failed(
    backend: DynamoDBBackend, op: dict[str, Any], key: dict[str, Any]
) -> tuple[bool, dict[str, Any] | None]:
    """Whether the operation's condition fails on the current item, and that item when it asks for it."""
    current = backend.get_item(op["TableName"], key)
    condition = op.get("ConditionExpression")
    if condition is None or get_filter_expression(
        condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    ).expr(current):
        return False, None
    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
        return True, current.to_json()["Attributes"]
    return True, None


def _apply(backend: DynamoDBBackend, writes: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> None:
    for op_type, op, key in writes:
        if op_type == "Put":
            backend.put_item(op["TableName"], op["Item"])
        elif op_type == "Delete":
            backend.delete_item(op["TableName"], key)


def patch() -> None:
    """Replace moto's methods with the ones above (mypy refuses assigning to a method: hence the ignores)."""
    Table.query = _partition_query  # type: ignore[method-assign]
    Table.all_items = _partition_items  # type: ignore[method-assign]
    Table.put_item = _put_item_keeping_order  # type: ignore[method-assign]
    Table.delete_item = _delete_item_keeping_order  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = _transact_write_items_atomically  # type: ignore[method-assign]


if __name__ == "__main__":
    patch()
    from moto.server import main

    main()
