"""The PhaseQueue contract, for the fake and for SQS."""

from __future__ import annotations

import pytest

from tests.support.contract_harness import QUEUE, QueueHarness

BODY = {"generation_id": "3f1c9a52-8d0e-4b7a-9a41-0c2b8e5d7f10", "phase": "brief"}


def test_a_sent_message_is_waiting_then_received_once(queues: QueueHarness) -> None:
    queues.queue.ping()  # the queue is there
    queues.queue.send(BODY)
    assert queues.queue.waiting() == 1
    assert queues.queue.stats().visible == 1
    assert queues.received() == [BODY]
    assert queues.received() == []
    assert queues.queue.waiting() == 0


def test_a_delayed_message_is_waiting_but_not_visible(queues: QueueHarness) -> None:
    queues.queue.send(BODY, delay_seconds=60)
    stats = queues.queue.stats()
    assert (stats.visible, stats.delayed, stats.queue) == (0, 1, QUEUE)
    assert queues.queue.waiting() == 1
    assert queues.received() == []


def test_a_delay_beyond_the_limit_is_cut_not_refused(queues: QueueHarness) -> None:
    queues.queue.send(BODY, delay_seconds=5000)
    queues.queue.send(BODY, delay_seconds=-3)
    assert queues.queue.stats().delayed == 1
    assert queues.received() == [BODY]


def test_send_many_sends_every_message_in_batches(queues: QueueHarness) -> None:
    bodies = [{**BODY, "part": f"page-{n:02d}"} for n in range(23)]
    queues.queue.send_many(bodies)
    assert queues.queue.waiting() == 23
    got = queues.received()
    assert sorted(got, key=lambda b: b["part"]) == bodies
    queues.queue.send_many([])
    assert queues.queue.waiting() == 0


def test_a_dead_letter_keeps_its_body_and_reason(queues: QueueHarness) -> None:
    queues.queue.send_dead_letter('{"broken": ', "gave up: " + "x" * 2000)
    queues.queue.send_dead_letter("", "empty body")
    assert queues.queue.stats().dead_letter == 2
    dead = sorted(queues.dead())
    assert dead[0] == ("<empty>", "empty body")
    assert dead[1][0] == '{"broken": ' and dead[1][1] == ("gave up: " + "x" * 2000)[:1000]
    assert queues.queue.waiting() == 0


def test_without_a_dead_letter_queue_a_dead_letter_is_refused(queues: QueueHarness) -> None:
    with pytest.raises(RuntimeError, match="no dead-letter queue"):
        queues.without_dead_letter().send_dead_letter("{}", "reason")
    assert queues.without_dead_letter().stats().dead_letter == 0
