"""Live logs on the real local stack (issue 17): 3 generations at once on 4 workers, a watcher per
generation polling `GET /generations/{id}/logs?after=<next_cursor>` every 250 ms, and at the end what
each watcher saw compared with the full log read from the start: missed 0, duplicated 0, same order.

The real per-page parts run on the 4 workers (content: 4 pages, code: 4 pages + styles.css); each
part's lines must be there once. On top, PARTS threads per generation write to the same generation's
log through the real ProgressLog and DynamoLogStore against the stack's moto, as a part does, at random
moments: lines buffered while it works and written in one batch at its end, a lifecycle line of its
own written at once in between (so one part's batch lands after another part's later line), and a
restored line with an old time, written late.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from chalicelib.adapters.dynamo_logs import DynamoLogStore
from chalicelib.services.progress import ProgressLog
from tests.support.local_stack import LocalStack
from tests.support.orders import ORDER
from tests.support.watch import PERFECT, LogWatcher, full_log, verdict

GENERATIONS = 3
PARTS = ("home", "about", "services", "contact")  # simulated writers (the real parts are the pages below)
PAGES = ("index", "servicos", "sobre", "contato")  # the order's pages (pt-BR)
POLL_S = 0.25
FINISHED = ("succeeded", "failed", "cancelled")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    local = LocalStack(
        tmp_path_factory.mktemp("live-logs"), ["--workers", "4", "--schedule-interval", "2"]
    ).start()
    yield local
    local.stop()


def run_part(
    store: DynamoLogStore,
    gid: str,
    slug: str,
    seed: str,
    until: threading.Event,
    written: list[str],
    errors: list[BaseException],
) -> None:
    """Rounds of a part's work until the generation has finished (at least 3): what it wrote goes in
    `written` (the messages: each must be in the log once)."""
    rng = random.Random(seed)
    try:
        rounds = 0
        while rounds < 3 or not until.is_set():
            rounds += 1
            log = ProgressLog(store, gid)
            made = datetime.now(UTC)
            lines = [f"{slug} round {rounds}: step {i}" for i in range(rng.randint(2, 8))]
            for message in lines:
                log.info(message, phase="content", part=slug)
                time.sleep(rng.uniform(0, 0.03))
            started = f"{slug} round {rounds}: started"
            assert (
                log.lifecycle("phase_started", made, started, phase="content", part=slug, key=f"r{rounds}")
                is True
            )
            time.sleep(rng.uniform(0, 0.3))  # the batch waits for the end of the part's work
            log.flush()
            restored = f"{slug} round {rounds}: an earlier attempt failed"
            assert (
                log.lifecycle(
                    "phase_retrying",
                    made - timedelta(seconds=2),
                    restored,
                    phase="content",
                    part=slug,
                    key=f"r{rounds}",
                    level="warning",
                )
                is True
            )
            # a redelivery writes its lifecycle lines again: refused
            assert (
                log.lifecycle("phase_started", made, started, phase="content", part=slug, key=f"r{rounds}")
                is False
            )
            written += [*lines, started, restored]
            time.sleep(rng.uniform(0, 0.2))
    except BaseException as exc:  # noqa: BLE001 (asserted empty by the test)
        errors.append(exc)


def watch(watcher: LogWatcher, done: threading.Event, errors: list[BaseException]) -> None:
    """Poll every 250 ms until the generation finished and its writers are done, then once more."""
    try:
        while not done.is_set():
            watcher.poll()
            time.sleep(POLL_S)
        watcher.poll()
    except BaseException as exc:  # noqa: BLE001
        errors.append(exc)


def test_every_watcher_sees_every_line_once_while_parts_write_at_the_same_time(stack, capsys):
    info = stack.info
    client = boto3.client(
        "dynamodb",
        endpoint_url=info["aws_endpoint_url"],
        region_name=info["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    store = DynamoLogStore(client, info["logs_table"], 1)
    get = lambda path: stack.call("GET", path)  # noqa: E731
    gids = []
    for n in range(GENERATIONS):
        order = stack.call("POST", "/orders", {**ORDER, "business_name": f"Live Logs {n}"}, expect=201)
        gids.append(stack.call("POST", f"/orders/{order['id']}/generations", expect=202)["id"])

    errors: list[BaseException] = []
    finished = {gid: threading.Event() for gid in gids}
    done = {gid: threading.Event() for gid in gids}
    written: dict[str, list[str]] = {gid: [] for gid in gids}
    watchers = {gid: LogWatcher(get, gid, limit=20) for gid in gids}
    parts = {
        gid: [
            threading.Thread(
                target=run_part, args=(store, gid, slug, f"{gid}/{slug}", finished[gid], written[gid], errors)
            )
            for slug in PARTS
        ]
        for gid in gids
    }
    threads = [threading.Thread(target=watch, args=(watchers[gid], done[gid], errors)) for gid in gids]
    threads += [t for gid in gids for t in parts[gid]]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 180
        while not all(e.is_set() for e in finished.values()) and time.monotonic() < deadline:
            for gid in gids:
                if stack.call("GET", f"/generations/{gid}")["status"] in FINISHED:
                    finished[gid].set()
            time.sleep(0.2)
        for gid in gids:
            finished[gid].set()  # (on the deadline too: the checks below say what went wrong)
            for t in parts[gid]:
                t.join(60)
            done[gid].set()
    finally:
        for event in [*finished.values(), *done.values()]:
            event.set()
        for t in threads:
            t.join(60)

    assert errors == []
    assert "log store unavailable" not in capsys.readouterr().out  # no writer gave up on its lines
    for gid in gids:
        assert stack.call("GET", f"/generations/{gid}")["status"] == "succeeded"
        full = full_log(get, gid)
        seen = watchers[gid].seen
        assert verdict(seen, full) == PERFECT, gid
        messages = [line["message"] for line in full]
        assert sorted(m for m in messages if m in set(written[gid])) == sorted(written[gid])  # each once
        real = [(line["phase"], line["part"]) for line in full if line["event"] == "part_succeeded"]
        assert sorted(real) == sorted(
            [("content", p) for p in PAGES] + [("code", p) for p in ("styles.css", *PAGES)]
        )
        events = [line["event"] for line in full if not line["part"]]
        assert events.count("phase_succeeded") == 6 and events[-1] == "generation_succeeded", events
        # the interleaving really happened: lines written after lines made later than them
        assert sum(
            later["ts"] < earlier["ts"] for earlier, later in zip(full, full[1:], strict=False)
        ) >= len(PARTS), gid
        assert watchers[gid].polls >= 8  # it followed the generation while it ran
