"""The LogStore contract (docs/logs.md), for the fake and for DynamoDB: put_once writes once per key,
cursors are dense numbers in write order, a page stops at a gap, and a watcher passing the last cursor
it got gets every line exactly once."""

from __future__ import annotations

from chalicelib.ports import LogLine
from tests.support.contract_harness import LogHarness

GEN = "3f1c9a52-8d0e-4b7a-9a41-0c2b8e5d7f10"


def line(message: str, once_key: str = "", generation_id: str = GEN, part: str | None = None) -> LogLine:
    return LogLine(
        generation_id, "", "2026-01-01T12:00:00.000Z", "info", "brief", None, message, part, once_key
    )


def messages(lines: list[LogLine]) -> list[str]:
    return [x.message for x in lines]


def test_put_once_writes_a_key_once(logs: LogHarness) -> None:
    logs.store.ping()  # the store is up
    assert logs.store.put_once(line("started", once_key="k1")) is True
    assert logs.store.put_once(line("started again", once_key="k1")) is False
    assert logs.other_writer().put_once(line("from another container", once_key="k1")) is False
    assert logs.store.put_once(line("another key", once_key="k2")) is True
    assert messages(logs.store.page(GEN, None, 10)) == ["started", "another key"]


def test_the_same_key_in_another_generation_is_another_line(logs: LogHarness) -> None:
    other = "9b2e4d61-7a3f-4c88-b1d5-2e6f0a9c3b47"
    assert logs.store.put_once(line("a", once_key="k"))
    assert logs.store.put_once(line("b", once_key="k", generation_id=other))
    assert messages(logs.store.page(other, None, 10)) == ["b"]


def test_put_once_needs_a_key(logs: LogHarness) -> None:
    import pytest

    with pytest.raises(ValueError):
        logs.store.put_once(line("no key"))


def test_cursors_are_dense_numbers_in_write_order(logs: LogHarness) -> None:
    logs.store.put_many([line("one"), line("two", part="home")])
    logs.other_writer().put_once(line("three", once_key="k"))
    logs.store.put_many([line("four")])
    page = logs.store.page(GEN, None, 10)
    assert [x.cursor for x in page] == ["L000000000001", "L000000000002", "L000000000003", "L000000000004"]
    assert messages(page) == ["one", "two", "three", "four"]
    assert page[1].part == "home" and page[1].public()["part"] == "home"
    assert all(x.once_key == "" and x.generation_id == GEN for x in page)


def test_a_page_is_at_most_limit_and_starts_after_the_cursor(logs: LogHarness) -> None:
    logs.store.put_many([line(str(n)) for n in range(7)])
    first = logs.store.page(GEN, None, 3)
    assert messages(first) == ["0", "1", "2"]
    assert messages(logs.store.page(GEN, first[-1].cursor, 3)) == ["3", "4", "5"]
    assert messages(logs.store.page(GEN, "L000000000006", 3)) == ["6"]
    assert logs.store.page(GEN, "L000000000007", 3) == []
    assert logs.store.page("0d4f7b2a-1111-4c3e-9d2a-5b6c7d8e9f00", None, 3) == []


def test_a_batch_larger_than_one_transaction_keeps_its_order(logs: LogHarness) -> None:
    logs.store.put_many([line(f"m{n}") for n in range(101)])
    seen: list[str] = []
    after = None
    while page := logs.store.page(GEN, after, 50):
        seen += messages(page)
        after = page[-1].cursor
    assert seen == [f"m{n}" for n in range(101)]


def test_a_page_stops_at_a_gap_until_it_is_filled(logs: LogHarness) -> None:
    logs.store.put_many([line("one"), line("two")])
    logs.write_at(line("four"), 4)  # line 3 is a write in flight
    assert messages(logs.store.page(GEN, None, 10)) == ["one", "two"]
    assert logs.store.page(GEN, "L000000000002", 10) == []
    logs.write_at(line("three"), 3)
    assert messages(logs.store.page(GEN, "L000000000002", 10)) == ["three", "four"]


def test_a_writer_after_a_gap_takes_the_next_number(logs: LogHarness) -> None:
    logs.store.put_many([line("one")])
    logs.write_at(line("three"), 3)
    logs.other_writer().put_many([line("four")])
    logs.write_at(line("two"), 2)
    assert messages(logs.store.page(GEN, None, 10)) == ["one", "two", "three", "four"]


def test_a_watcher_gets_every_line_once_whatever_the_writers_do(logs: LogHarness) -> None:
    a, b = logs.store, logs.other_writer()
    writes = [
        lambda: a.put_many([line("a1"), line("a2")]),
        lambda: b.put_once(line("b-started", once_key="b")),
        lambda: b.put_many([line("b1")]),
        lambda: a.put_once(line("a-started", once_key="a")),
        lambda: a.put_once(line("a-started", once_key="a")),  # a redelivery: nothing new
        lambda: b.put_many([line(f"b{n}") for n in range(2, 6)]),
        lambda: a.put_many([line("a3")]),
    ]
    seen: list[str] = []
    after = None
    for write in writes:
        write()
        while page := logs.store.page(GEN, after, 2):
            seen += messages(page)
            after = page[-1].cursor
    expected = ["a1", "a2", "b-started", "b1", "a-started", "b2", "b3", "b4", "b5", "a3"]
    assert seen == expected
    assert messages(logs.store.page(GEN, None, 100)) == expected  # the order seen never changes
