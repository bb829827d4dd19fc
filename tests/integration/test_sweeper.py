"""The scheduled sweeper: lost sends republished (backing off), expired leases re-enqueued, the
time budget enforced, and what it did logged."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from chalicelib.services.sweeper import sweep
from tests.support.fakes import RealUntilMovedClock
from tests.support.orders import ORDER, create_and_generate
from tests.support.stack import drain, logs


@pytest.fixture()
def clock(deps):
    """Outbox rows and budgets take their times from the database's now() while the test runs, so
    the first move counts from then: a slow machine cannot leave a row "not yet due" after 61 s."""
    deps.clock = RealUntilMovedClock()
    return deps.clock


def purge(aws) -> int:
    """Lose whatever is on the queue (a send that never arrived)."""
    from infra.queue_feeder import receive

    lost = 0
    while messages := receive(aws.sqs, aws.resources.queue_url, 0):
        aws.sqs.delete_message(QueueUrl=aws.resources.queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])
        lost += 1
    return lost


def test_a_lost_send_is_republished_and_republishes_back_off(client, aws, deps, clock, capsys):
    _, gen = create_and_generate(client)
    assert purge(aws) == 1
    assert sweep(deps).republished == 0  # too early: it may still be on its way
    clock.advance(61)
    assert sweep(deps).republished == 1
    assert '"message": "sweeper", "republished": 1' in capsys.readouterr().out
    assert purge(aws) == 1  # lost again
    clock.advance(61)
    assert sweep(deps).republished == 0  # the second republish waits twice as long
    clock.advance(60)
    assert sweep(deps).republished == 1
    assert purge(aws) == 1
    clock.advance(121)
    assert sweep(deps).republished == 0  # then four times
    clock.advance(120)
    assert sweep(deps).republished == 1
    drain(client, aws)
    assert client.json("GET", f"/generations/{gen['id']}")["status"] == "succeeded"
    with deps.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM outbox")).scalar() == 0


def test_rows_waiting_behind_a_backlog_are_not_republished(client, aws, deps, clock, capsys):
    _, first = create_and_generate(client)
    clock.advance(61)
    report = sweep(deps)  # its message is still on the queue: a backlog, nothing lost
    assert report.republished == 0 and report.backlog == 1
    assert '"backlog": 1' in capsys.readouterr().out
    _, second = create_and_generate(client, {**ORDER, "business_name": "Second"})
    purge(aws)  # both messages lost
    clock.advance(61)
    assert sweep(deps).republished == 2
    drain(client, aws)
    assert {client.json("GET", f"/generations/{g['id']}")["status"] for g in (first, second)} == {"succeeded"}


def test_an_expired_lease_is_enqueued_again(client, aws, deps, clock):
    _, gen = create_and_generate(client)
    purge(aws)
    with deps.engine.begin() as conn:  # the invocation that claimed brief died with it
        conn.execute(text("DELETE FROM outbox"))
        conn.execute(
            text(
                "UPDATE phase_runs SET status='running', attempts=1, lease_token=gen_random_uuid(), "
                "lease_expires_at=:t WHERE generation_id=:g AND phase='brief'"
            ),
            {"g": gen["id"], "t": clock.now},
        )
    clock.advance(1)
    report = sweep(deps)
    assert report.expired_leases == 1 and report.republished == 0  # SQS may still bring its message back
    clock.advance(61)
    assert sweep(deps).republished == 1  # it did not: the outbox row is due
    drain(client, aws)
    done = client.json("GET", f"/generations/{gen['id']}")
    assert done["status"] == "succeeded" and done["phases"][0]["attempts"] == 2


def test_a_generation_over_its_time_budget_fails_with_the_reason(client, aws, deps, clock):
    _, gen = create_and_generate(client)
    purge(aws)
    clock.advance(deps.settings.generation_budget_s + 1)
    assert sweep(deps).timed_out == 1
    failed = client.json("GET", f"/generations/{gen['id']}")
    assert failed["status"] == "failed"
    assert failed["error"] == "gave up: not finished within the time budget of 60 min (at phase brief)"
    assert logs(client, gen["id"])[-1]["event"] == "generation_failed"


def outbox_rows(deps) -> list[tuple[str, str]]:
    with deps.engine.connect() as conn:
        return [(str(g), p) for g, p in conn.execute(text("SELECT generation_id, phase FROM outbox"))]


def test_the_outbox_rows_of_a_generation_that_ended_are_cleared(client, aws, deps, capsys):
    from chalicelib.domain.phases import Phase
    from chalicelib.services import outbox

    _, gen = create_and_generate(client)
    drain(client, aws)
    with deps.uow() as uow:  # a sweep that raced review's claim left a row; then the generation ended
        outbox.add_if_missing(uow.session, uuid.UUID(gen["id"]), Phase.REVIEW)
        uow.commit()
    assert sweep(deps).cleared == 1  # no claim takes a row of an ended generation: nothing else would
    assert '"cleared": 1' in capsys.readouterr().out
    assert outbox_rows(deps) == []
    assert client.json("GET", f"/generations/{gen['id']}")["status"] == "succeeded"


def test_a_stale_row_for_a_finished_phase_goes_with_its_duplicate_delivery(client, aws, deps):
    import json

    from chalicelib.domain.commands import RunPhase
    from chalicelib.domain.phases import Phase
    from chalicelib.services import outbox
    from tests.support.stack import deliver_one

    _, gen = create_and_generate(client)
    assert deliver_one(client, aws) == 1  # brief succeeded; sitemap's row and message wait
    with deps.uow() as uow:  # a sweep that raced brief's claim left a row for brief
        outbox.add_if_missing(uow.session, uuid.UUID(gen["id"]), Phase.BRIEF)
        uow.commit()
    body = RunPhase(generation_id=uuid.UUID(gen["id"]), phase=Phase.BRIEF).body()
    aws.sqs.send_message(QueueUrl=aws.resources.queue_url, MessageBody=json.dumps(body))  # its republish
    drain(client, aws)
    done = client.json("GET", f"/generations/{gen['id']}")
    assert done["status"] == "succeeded" and done["phases"][0]["attempts"] == 1
    assert outbox_rows(deps) == []


def test_a_failure_line_lost_with_its_writer_is_written_again_once(
    client, aws, deps, clock, monkeypatch, capsys
):
    """The sweep that failed a generation dies before its log line: the next sweep writes it, once
    (a conditional put keyed by the failure's time in Postgres)."""

    from chalicelib import faults
    from chalicelib.faults import InjectedFault

    _, gen = create_and_generate(client)
    purge(aws)
    clock.advance(deps.settings.generation_budget_s + 1)
    monkeypatch.setenv("SITEGEN_FAULTS", "once:during_log_write@generation_failed")
    faults._fired.clear()
    with pytest.raises(InjectedFault):
        sweep(deps)
    failed = client.json("GET", f"/generations/{gen['id']}")
    assert failed["status"] == "failed"
    assert [line["event"] for line in logs(client, gen["id"])].count("generation_failed") == 0
    assert sweep(deps).failure_lines == 1
    assert '"failure_lines": 1' in capsys.readouterr().out
    assert sweep(deps).failure_lines == 0
    with deps.engine.connect() as conn:  # seen in the store: later sweeps do not look at it again
        assert (
            conn.execute(
                text("SELECT failure_logged_at IS NOT NULL FROM generations WHERE id = :g"), {"g": gen["id"]}
            ).scalar()
            is True
        )
    lines = logs(client, gen["id"])
    assert [line["event"] for line in lines].count("generation_failed") == 1
    assert lines[-1]["message"] == failed["error"]


def test_failure_lines_lost_in_a_long_log_store_outage_are_written_when_it_is_back(
    client, aws, deps, clock, scripted, monkeypatch
):
    """DynamoDB is down for an hour while a generation fails: its lines go to stdout, and the first sweep
    after the store is back writes the generation_failed line, whatever its age."""
    from chalicelib.adapters.dynamo_logs import DynamoLogStore
    from chalicelib.domain.errors import PermanentError

    scripted["brief"] = [PermanentError("the provider refused the schema")]
    _, gen = create_and_generate(client)
    with monkeypatch.context() as outage:  # the real adapter, its table unreachable
        outage.setitem(deps.__dict__, "logs", DynamoLogStore(deps.client("dynamodb"), "no-such-table", 1))
        drain(client, aws)
        assert sweep(deps).failure_lines == 0  # still down: nothing marked as written
    failed = client.json("GET", f"/generations/{gen['id']}")
    assert failed["status"] == "failed"
    assert "generation_failed" not in [line["event"] for line in logs(client, gen["id"])]
    clock.advance(3600)
    assert sweep(deps).failure_lines == 1
    [line] = [x for x in logs(client, gen["id"]) if x["event"] == "generation_failed"]
    assert line["message"] == failed["error"]


def test_a_resent_generation_gets_a_fresh_time_budget(client, aws, deps, clock, scripted):
    from chalicelib.domain.errors import PermanentError

    scripted["content"] = [PermanentError("the provider refused the schema")]
    _, gen = create_and_generate(client)
    drain(client, aws)
    assert client.json("GET", f"/generations/{gen['id']}")["status"] == "failed"
    clock.advance(deps.settings.generation_budget_s + 600)  # the user resends it the next day
    client.json("POST", f"/generations/{gen['id']}/retry", expect=202)
    assert sweep(deps).timed_out == 0
    drain(client, aws)
    assert client.json("GET", f"/generations/{gen['id']}")["status"] == "succeeded"


def test_a_phase_that_finishes_after_its_generation_failed_does_not_revive_it(
    client, aws, deps, clock, monkeypatch
):
    """The budget fails a generation while its publish uploads: the upload's result is kept, and the
    generation stays failed (it used to turn succeeded, with the budget's error still set)."""
    real = deps.sites

    class SweptDuringUpload:  # the real (moto) bucket; the scheduled sweep runs while the upload does
        def publish(self, prefix, files):
            clock.advance(deps.settings.generation_budget_s + 1)
            assert sweep(deps).timed_out == 1
            return real.publish(prefix, files)

    monkeypatch.setitem(deps.__dict__, "sites", SweptDuringUpload())
    _, gen = create_and_generate(client)
    drain(client, aws)
    done = client.json("GET", f"/generations/{gen['id']}")
    assert done["status"] == "failed" and done["error"].startswith(
        "gave up: not finished within the time budget"
    )
    assert done["phases"][5]["status"] == "succeeded" and done["site_url"] is None
    events = [line["event"] for line in logs(client, gen["id"])]
    assert events.count("generation_failed") == 1 and "generation_succeeded" not in events


def test_a_lost_send_is_republished_while_other_phases_are_in_flight(client, aws, deps, clock):
    """A message in flight belongs to a phase whose row a claim deletes: it is not a backlog."""
    from infra.queue_feeder import receive

    _, lost = create_and_generate(client)
    assert purge(aws) == 1
    _, busy = create_and_generate(client, {**ORDER, "business_name": "Busy Customer"})
    assert len(receive(aws.sqs, aws.resources.queue_url, 0)) == 1  # a worker has it (in flight)
    with deps.engine.begin() as conn:  # and claimed it
        conn.execute(text("DELETE FROM outbox WHERE generation_id = :g"), {"g": busy["id"]})
    clock.advance(61)
    report = sweep(deps)
    assert report.republished == 1 and report.backlog == 0, report


def test_the_sweeper_skips_an_expired_lease_whose_generation_a_claim_holds(client, aws, deps, clock):
    """A takeover claim locks the generation, then its run; the sweeper must not lock the run and then
    wait for the generation (a deadlock Postgres would break by killing one side)."""
    import threading

    _, gen = create_and_generate(client)
    with deps.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE phase_runs SET status='running', attempts=1, lease_token=gen_random_uuid(), "
                "lease_expires_at=:t WHERE generation_id=:g AND phase='brief'"
            ),
            {"g": gen["id"], "t": clock.now},
        )
        conn.execute(text("DELETE FROM outbox"))
    clock.advance(1)
    claim = deps.engine.connect()
    claim.begin()
    claim.execute(text("SELECT 1 FROM generations WHERE id = :g FOR UPDATE"), {"g": gen["id"]})
    reports = []
    sweeper = threading.Thread(target=lambda: reports.append(sweep(deps)), daemon=True)
    sweeper.start()
    sweeper.join(timeout=30)
    blocked = sweeper.is_alive()
    claim.rollback()  # lets a blocked sweeper go on, so the test ends either way
    claim.close()
    sweeper.join(timeout=30)
    assert not blocked, "the sweeper waited for the claim's generation lock"
    assert reports[0].expired_leases == 0  # skipped: the claim will take it over itself
    assert sweep(deps).expired_leases == 1  # once the claim is gone, the next sweep does


def test_the_sweeper_republishes_before_it_writes_log_lines(client, aws, deps, clock, monkeypatch):
    """Log lines may be slow (a log store timing out); a lost send must not wait behind them."""

    from chalicelib import faults
    from chalicelib.faults import InjectedFault
    from infra.queue_feeder import receive

    _, late = create_and_generate(client)
    _, lost = create_and_generate(client, {**ORDER, "business_name": "Lost Send"})
    assert purge(aws) == 2
    with deps.engine.begin() as conn:  # the first started long ago
        conn.execute(
            text("UPDATE generations SET budget_from = budget_from - interval '2 hours' WHERE id = :g"),
            {"g": late["id"]},
        )
    clock.advance(61)  # the second's row is due
    monkeypatch.setenv("SITEGEN_FAULTS", "once:during_log_write@generation_failed")
    faults._fired.clear()
    with pytest.raises(InjectedFault):
        sweep(deps)  # dies writing the budget's line
    [message] = receive(aws.sqs, aws.resources.queue_url, 0)
    assert lost["id"] in message["Body"]  # the republish happened before
