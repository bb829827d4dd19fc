"""Live logs stay complete when several writers write for one generation (issue 17).

A watcher polls `GET /generations/{id}/logs?after=<next_cursor>` and must get every line once, in an order
that does not change, whatever order the writes land in: a part's buffered lines written after another
part's lifecycle line, a restored line with an old time, a write that is visible in part, writers that
take the same line number. The 3-generation run on the real local stack is tests/e2e/test_live_logs.py.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.adapters import dynamo_logs
from chalicelib.adapters.dynamo_logs import DynamoLogStore, line_key
from chalicelib.ports import LogLine
from chalicelib.services.progress import ProgressLog
from tests.support.orders import ORDER
from tests.support.watch import PERFECT, LogWatcher, full_log, verdict


def start(client: Any) -> str:
    order = client.json("POST", "/orders", ORDER, expect=201)
    return client.json("POST", f"/orders/{order['id']}/generations", expect=202)["id"]


def watcher(client: Any, gid: str) -> LogWatcher:
    return LogWatcher(lambda path: client.json("GET", path), gid, limit=5)


def test_a_batch_written_after_another_parts_lifecycle_line_is_not_skipped(client, deps):
    """Part A makes its lines first and writes them last (its batch is delayed until after part B's
    phase_started); a restored phase_retrying made before both is written after them. A watcher that
    read B's line still gets A's lines and the restored one, each once."""
    gid = start(client)
    early = datetime.now(UTC) - timedelta(seconds=5)  # a failure time stored in Postgres
    part_a = ProgressLog(deps.logs, gid)
    part_a.info("Writing the copy for page home", phase="content")
    part_a.info("Page home: 3 sections", phase="content")
    time.sleep(0.01)
    part_b = ProgressLog(deps.logs, gid)
    assert (
        part_b.lifecycle(
            "phase_started",
            datetime.now(UTC),
            "Phase content started (attempt 1)",
            phase="content",
            key="1",
        )
        is True
    )
    watch = watcher(client, gid)
    watch.poll()
    assert [line["event"] for line in watch.seen] == ["generation_queued", "phase_started"]

    part_a.flush()  # made before B's line, written after it
    restored = ProgressLog(deps.logs, gid)
    assert (
        restored.lifecycle(
            "phase_retrying",
            early,
            "Phase sitemap attempt 1 failed; retrying",
            phase="sitemap",
            key="1",
            level="warning",
        )
        is True
    )
    watch.poll()

    full = full_log(lambda path: client.json("GET", path), gid)
    assert verdict(watch.seen, full) == PERFECT
    assert [line["message"] for line in watch.seen[2:]] == [
        "Writing the copy for page home",
        "Page home: 3 sections",
        "Phase sitemap attempt 1 failed; retrying",
    ]
    # each line keeps the time it was made: the restored one is the oldest, A's are older than B's
    assert watch.seen[-1]["ts"] < watch.seen[2]["ts"] < watch.seen[1]["ts"]


def test_lifecycle_lines_are_written_once_whoever_writes_them(client, deps):
    """put_once's promise, which redeliveries and the sweeper's missing-failure-line rule rely on."""
    gid = start(client)
    at = datetime.now(UTC)
    first, again = ProgressLog(deps.logs, gid), ProgressLog(deps.logs, gid)
    assert first.generation_failed(at, "boom") is True
    assert again.generation_failed(at, "boom") is False
    assert again.generation_failed(at + timedelta(milliseconds=1), "boom") is True  # another failure
    # parts: the same event of two parts are two lines; of one part, one
    assert first.lifecycle("phase_started", at, "part home", phase="content", part="home") is True
    assert first.lifecycle("phase_started", at, "part about", phase="content", part="about") is True
    assert again.lifecycle("phase_started", at, "part home", phase="content", part="home") is False
    assert first.lifecycle("phase_started", at, "whole phase", phase="content") is True
    lines = full_log(lambda path: client.json("GET", path), gid)
    assert [(x["event"], x["part"]) for x in lines] == [
        ("generation_queued", None),
        ("generation_failed", None),
        ("generation_failed", None),
        ("phase_started", "home"),
        ("phase_started", "about"),
        ("phase_started", None),
    ]


def test_free_text_lines_carry_their_part(client, deps):
    gid = start(client)
    log = ProgressLog(deps.logs, gid)
    log.info("Page about: drafting", phase="content", part="about")
    log.info("All pages drafted", phase="content")
    log.flush()
    lines = full_log(lambda path: client.json("GET", path), gid)
    assert [(x["message"], x["part"]) for x in lines[1:]] == [
        ("Page about: drafting", "about"),
        ("All pages drafted", None),
    ]


# --- the store itself ------------------------------------------------------------------------------------
@pytest.fixture()
def store(aws):
    return DynamoLogStore(aws.dynamodb, aws.resources.logs_table, 30)


def line(message: str, gid: str = "g-1", event: str | None = None, **kw: Any) -> LogLine:
    return LogLine(gid, "", "2026-12-01T10:00:00.000Z", "info", "content", event, message, **kw)


def raw_put(aws, cursor: str, message: str, written_ms: float, gid: str = "g-1") -> None:
    """An item as the store writes it, put directly: a write the reader sees before an earlier one."""
    aws.dynamodb.put_item(
        TableName=aws.resources.logs_table,
        Item={
            "generation_id": {"S": gid},
            "cursor": {"S": cursor},
            "ts": {"S": "2026-12-01T10:00:00.000Z"},
            "level": {"S": "info"},
            "message": {"S": message},
            "written_at": {"N": str(int(written_ms))},
        },
    )


def messages(lines: list[LogLine]) -> list[str]:
    return [x.message for x in lines]


def test_a_page_stops_at_a_line_number_not_visible_yet(aws, store):
    """A Query may see part of a transaction, or a later one first: lines are returned only while their
    numbers follow on, so the watcher's cursor never passes a line it has not got."""
    store.put_many([line("one"), line("two")])
    raw_put(aws, line_key(4), "four", time.time() * 1000)  # 3 is being written
    assert messages(store.page("g-1", None, 50)) == ["one", "two"]
    assert store.page("g-1", line_key(2), 50) == []
    raw_put(aws, line_key(3), "three", time.time() * 1000)
    assert messages(store.page("g-1", line_key(2), 50)) == ["three", "four"]
    assert messages(store.page("g-1", line_key(2), 1)) == ["three"]


def test_a_gap_long_past_is_read_through(aws, store):
    """Lines can expire (TTL) before later ones of the same generation: a gap older than any write can
    stay in flight does not stop the watcher for good."""
    old = time.time() * 1000 - dynamo_logs.GAP_WAIT_MS - 60_000
    for n in (2, 3):
        raw_put(aws, line_key(n), f"line {n}", old)  # line 1 expired
    assert messages(store.page("g-1", None, 50)) == ["line 2", "line 3"]
    store.put_many([line("four")])
    assert [x.cursor for x in store.page("g-1", line_key(3), 50)] == [line_key(4)]


def test_lines_are_numbered_in_write_order_and_big_batches_are_split(aws, store, monkeypatch):
    calls: list[int] = []
    transact = aws.dynamodb.transact_write_items

    def counting(**kwargs: Any) -> Any:
        calls.append(len(kwargs["TransactItems"]))
        return transact(**kwargs)

    monkeypatch.setattr(aws.dynamodb, "transact_write_items", counting)
    assert store.put_once(line("started", event="phase_started", once_key="k1")) is True
    store.put_many([line(f"progress {i}") for i in range(250)])
    assert calls == [2, 100, 100, 50]  # the lifecycle line with its guard; then 100 lines a transaction
    lines = store.page("g-1", None, 500)
    assert messages(lines) == ["started"] + [f"progress {i}" for i in range(250)]
    assert [x.cursor for x in lines] == [line_key(n) for n in range(1, 252)]


def test_a_writer_whose_number_was_taken_takes_the_next(aws, store, monkeypatch):
    """Two writers read the same last number; the second one's transaction is cancelled, nothing of it
    is written, and it writes again after the first's lines. A lifecycle line found written meanwhile
    is not written again."""
    store.put_many([line("one")])
    first, second = (DynamoLogStore(aws.dynamodb, aws.resources.logs_table, 30) for _ in range(2))
    stale = iter([1, 1])  # what both read before either wrote
    for writer in (first, second):
        real = writer._last_number
        monkeypatch.setattr(writer, "_last_number", lambda gid, real=real: next(stale, None) or real(gid))
    first.put_many([line("first writer")])  # takes 2
    second.put_many([line("second writer a"), line("second writer b")])  # 2 is taken: cancelled, then 3 and 4
    assert [(x.cursor, x.message) for x in store.page("g-1", None, 50)] == [
        (line_key(1), "one"),
        (line_key(2), "first writer"),
        (line_key(3), "second writer a"),
        (line_key(4), "second writer b"),
    ]
    stale = iter([2])  # a stale read: number 3 is taken, then the line is written after 4
    assert first.put_once(line("failed", event="generation_failed", once_key="f1")) is True
    stale = iter([2])  # the same, but the line's guard is there: it exists, nothing is written
    assert second.put_once(line("failed", event="generation_failed", once_key="f1")) is False
    assert messages(store.page("g-1", line_key(4), 50)) == ["failed"]


def test_a_writer_guesses_the_next_number_and_reads_only_when_it_was_taken(aws, store, monkeypatch):
    """A store remembers the last number it wrote: its next write tries the one after without a Query.
    When another writer (another container) wrote meanwhile, the guess is a taken number: cancelled,
    then read."""
    other = DynamoLogStore(aws.dynamodb, aws.resources.logs_table, 30)
    reads: list[str] = []
    real = store._last_number

    def counted(gid: str) -> Any:
        reads.append(gid)
        return real(gid)

    monkeypatch.setattr(store, "_last_number", counted)
    store.put_many([line("one")])
    assert store.put_once(line("started", event="phase_started", once_key="k1")) is True
    store.put_many([line("two")])
    assert reads == ["g-1"]  # the first write only
    other.put_many([line("from another container")])
    store.put_many([line("three")])  # guessed 4: taken, cancelled, read, written as 5
    assert reads == ["g-1", "g-1"]
    assert [(x.cursor, x.message) for x in store.page("g-1", None, 50)] == [
        (line_key(1), "one"),
        (line_key(2), "started"),
        (line_key(3), "two"),
        (line_key(4), "from another container"),
        (line_key(5), "three"),
    ]


def test_a_writer_that_never_gets_a_number_gives_up_and_the_line_goes_to_stdout(
    aws, store, monkeypatch, capsys
):
    store.put_many([line("one")])
    stuck = DynamoLogStore(aws.dynamodb, aws.resources.logs_table, 30)
    monkeypatch.setattr(stuck, "_last_number", lambda gid: 0)  # always taken
    monkeypatch.setattr(dynamo_logs, "WRITE_PATIENCE_S", 0.3)
    with pytest.raises(dynamo_logs.LogWriteConflict):
        stuck.put_many([line("never")])
    assert (
        ProgressLog(stuck, "g-1").lifecycle("phase_started", datetime.now(UTC), "lost", phase="content")
        is None
    )
    assert '"message": "lost"' in capsys.readouterr().out
    assert messages(store.page("g-1", None, 50)) == ["one"]


def test_lines_from_before_the_numbering_are_read_first(aws, store):
    """Lines written before this change keep their keys (13-digit time + tag): read from the start and
    after their cursors, before the numbered lines; a client's old cursor keeps working."""
    raw_put(aws, "0001764583200000-0generation_queued", "old queued", time.time() * 1000)
    raw_put(aws, "0001764583201000-2p000001", "old progress", time.time() * 1000)
    store.put_many([line("new")])
    assert (
        store.put_once(line("started", event="phase_started", once_key="0001764583202000-1phase_started"))
        is True
    )
    everything = ["old queued", "old progress", "new", "started"]
    assert messages(store.page("g-1", None, 50)) == messages(store.page("g-1", "0", 50)) == everything
    assert messages(store.page("g-1", "0001764583200000-0generation_queued", 50)) == everything[1:]
    assert messages(store.page("g-1", "#anything", 50)) == everything  # guards are never lines
