"""moto in server mode (`python -m infra.moto_server -H 127.0.0.1 -p PORT`, same options as
`python -m moto.server`), with one change: a DynamoDB Query on a table's own key reads only that
partition, as DynamoDB does.

moto answers every base-table Query by sorting every item of the table (`Table.all_items`), so each
log poll costs O(all log lines ever written): with 500 generations' lines in the table a poll took
~75 ms of moto's CPU, ten dashboards polling once a second saturated a core, and the local stack's
throughput fell from ~110 to ~30 generations a minute (docs/benchmarks.md). The log table never
shrinks locally either (moto does not expire items by TTL). With this patch a poll costs what the
generation's own lines cost, whatever else the table holds. Scans, index queries and everything else
are moto's own.
"""
from __future__ import annotations

import inspect
import threading
from typing import Any

from moto.dynamodb.models.table import Table

_partition = threading.local()  # the moto server handles requests on several threads
_query = Table.query
_all_items = Table.all_items
_index_name = list(inspect.signature(_query).parameters).index("index_name")


def _partition_items(self: Table) -> list[Any]:
    table, items = getattr(_partition, "value", (None, None))
    if table is self:
        return sorted(items.values(), key=lambda item: item.range_key)
    return _all_items(self)


def _partition_query(self: Table, *args: Any, **kwargs: Any) -> Any:
    index_name = kwargs.get("index_name", args[_index_name - 1] if len(args) >= _index_name else None)
    hash_key = kwargs.get("hash_key", args[0] if args else None)
    if index_name or hash_key is None or not self.range_key_attr:
        return _query(self, *args, **kwargs)
    _partition.value = (self, self.items.get(hash_key, {}))
    try:
        return _query(self, *args, **kwargs)
    finally:
        _partition.value = (None, None)


def patch() -> None:
    Table.query = _partition_query  # type: ignore[method-assign]
    Table.all_items = _partition_items  # type: ignore[method-assign]


if __name__ == "__main__":
    patch()
    from moto.server import main

    main()
