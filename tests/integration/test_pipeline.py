"""The phase chain under duplicates, failures, retries, cancels and database errors."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select, text

from chalicelib.db.models import PhaseRun
from chalicelib.domain.errors import PermanentError, RetryableError
from chalicelib.phases.outputs import Review, ReviewFinding
from chalicelib.services import generations
from tests.support.orders import ORDER, create_and_generate
from tests.support.stack import dead_letters, drain, logs

PHASES = ["brief", "sitemap", "content", "code", "review", "publish"]


def phase_rows(deps, gid):
    with deps.uow() as uow:
        rows = uow.session.scalars(
            select(PhaseRun).where(PhaseRun.generation_id == uuid.UUID(gid)).order_by(PhaseRun.position)
        ).all()
        return {r.phase: (r.status, r.attempts, json.dumps(r.output, sort_keys=True)) for r in rows}


def send(aws, body):
    aws.sqs.send_message(QueueUrl=aws.resources.queue_url, MessageBody=body)


def test_duplicate_delivery_of_every_phase_is_a_noop(client, aws, deps):
    _, gen = create_and_generate(client)
    drain(client, aws)
    before = phase_rows(deps, gen["id"])
    lines_before = logs(client, gen["id"])
    for phase in PHASES:
        send(aws, json.dumps({"generation_id": gen["id"], "phase": phase}))
    assert drain(client, aws) == 6
    assert phase_rows(deps, gen["id"]) == before
    after = logs(client, gen["id"])
    assert [line["event"] for line in after].count("phase_succeeded") == 6
    assert after == lines_before


def test_redelivered_records_with_distinct_ids_are_noops(client, aws, deps):
    _, gen = create_and_generate(client)
    drain(client, aws)
    before = phase_rows(deps, gen["id"])
    event = client.client.events.generate_sqs_event(
        message_bodies=[json.dumps({"generation_id": gen["id"], "phase": p}) for p in ("brief", "publish")],
        queue_name=aws.resources.queue_name,
    )
    for n, record in enumerate(event["Records"]):
        record["messageId"] = f"redelivery-{n}"
        record["attributes"]["ApproximateReceiveCount"] = "3"
        client.client.lambda_.invoke("run_phase", {"Records": [record]})
    assert phase_rows(deps, gen["id"]) == before


def test_concurrent_duplicate_does_not_run_twice_and_expired_lease_is_taken_over(client, aws, deps):
    _, gen = create_and_generate(client)
    with deps.engine.begin() as conn:  # another invocation holds the claim on brief
        conn.execute(
            text(
                "UPDATE phase_runs SET status='running', attempts=1, lease_token=gen_random_uuid(), "
                "lease_expires_at=now() + interval '5 minutes' WHERE generation_id=:g AND phase='brief'"
            ),
            {"g": gen["id"]},
        )
    drain(client, aws)
    assert phase_rows(deps, gen["id"])["brief"][:2] == ("running", 1)
    with deps.engine.begin() as conn:  # that invocation died: its lease runs out
        conn.execute(
            text(
                "UPDATE phase_runs SET lease_expires_at=now() - interval '1 second' "
                "WHERE generation_id=:g AND phase='brief'"
            ),
            {"g": gen["id"]},
        )
    send(aws, json.dumps({"generation_id": gen["id"], "phase": "brief"}))
    drain(client, aws)
    done = client.json("GET", f"/generations/{gen['id']}")
    assert done["status"] == "succeeded"
    assert done["phases"][0]["attempts"] == 2


def test_retryable_error_backs_off_then_succeeds(client, aws, scripted, capsys):
    scripted["content"] = [RetryableError("provider said 503")]
    _, gen = create_and_generate(client)
    drain(client, aws)
    done = client.json("GET", f"/generations/{gen['id']}")
    assert done["status"] == "succeeded"
    content = done["phases"][2]  # a per-page phase: the part that failed is retried, alone
    assert content["attempts"] == 1 and content["error"] is None
    assert sorted(p["attempts"] for p in content["parts"]) == [1, 1, 1, 2]
    events = [(line["event"], line["phase"]) for line in logs(client, gen["id"])]
    assert ("part_retrying", "content") in events
    # stdout: each message's line carries the run's own attempt; the retry was a new message, received once
    retried = next(p["name"] for p in content["parts"] if p["attempts"] == 2)
    handled = [
        (line["attempt"], line["receive_count"])
        for line in map(json.loads, filter(None, capsys.readouterr().out.splitlines()))
        if line.get("message") == "message handled"
        and (line.get("phase"), line.get("part")) == ("content", retried)
    ]
    assert handled == [(1, 1), (2, 1)]


def test_attempts_are_capped_and_the_reason_is_visible(client, aws, scripted):
    scripted["sitemap"] = [RetryableError("provider timed out")] * 3
    _, gen = create_and_generate(client)
    drain(client, aws)
    done = client.json("GET", f"/generations/{gen['id']}")
    assert done["status"] == "failed"
    assert done["error"] == "phase sitemap failed after 3 attempt(s): provider timed out"
    assert done["phases"][1]["status"] == "failed" and done["phases"][2]["status"] == "pending"
    lines = logs(client, gen["id"])
    assert lines[-1]["event"] == "generation_failed" and "provider timed out" in lines[-1]["message"]


def test_review_fails_with_a_precise_reason(client, aws, scripted):
    def reviewer_finds_an_error(request, result):
        finding = ReviewFinding(
            severity="error", file="index.html", message="the page is in the wrong language"
        )
        return type(result)(
            output=Review(passed=False, checked_files=8, findings=[finding]), usage=result.usage
        )

    scripted["review"] = [
        reviewer_finds_an_error
    ] * 3  # the page goes back to coding twice (test_review_rounds)
    _, gen = create_and_generate(client)
    drain(client, aws)
    done = client.json("GET", f"/generations/{gen['id']}")
    assert done["status"] == "failed"
    assert "review" in done["error"] and "index.html" in done["error"] and "wrong language" in done["error"]
    assert done["phases"][4]["attempts"] == 1  # permanent: no retry


def test_resend_resumes_at_the_failed_phase_keeping_earlier_outputs(client, aws, deps, scripted):
    scripted["code"] = [lambda request, result: result] * 4 + [PermanentError("the coding model refused")]
    _, gen = create_and_generate(client)
    drain(client, aws)
    failed = phase_rows(deps, gen["id"])
    assert client.json("GET", f"/generations/{gen['id']}")["status"] == "failed"
    resent = client.json("POST", f"/generations/{gen['id']}/retry", expect=202)
    assert resent["status"] == "queued" and resent["current_phase"] == "code"
    # code's fan-out, the one part that failed (the 4 that had succeeded are kept), review, publish
    assert drain(client, aws) == 4
    done = phase_rows(deps, gen["id"])
    assert client.json("GET", f"/generations/{gen['id']}")["status"] == "succeeded"
    for phase in ("brief", "sitemap", "content"):
        assert done[phase] == failed[phase]
    events = [line["event"] for line in logs(client, gen["id"])]
    assert "generation_resumed" in events and events[-1] == "generation_succeeded"


def test_cancel_between_phases_stops_the_chain(client, aws):
    _, gen = create_and_generate(client)
    client.json("POST", f"/generations/{gen['id']}/cancel", expect=202)
    drain(client, aws)
    done = client.json("GET", f"/generations/{gen['id']}")
    assert done["status"] == "cancelled"
    assert all(p["status"] == "pending" for p in done["phases"])
    assert logs(client, gen["id"])[-1]["event"] == "generation_cancelled"


def test_cancel_during_a_running_phase_lets_it_finish_but_starts_no_other(client, aws, deps, scripted):
    def cancel_mid_phase(request, result):
        generations.cancel_generation(deps, active["id"])  # the user clicks Cancel while content is running
        return result

    scripted["content"] = [cancel_mid_phase]
    _, active = create_and_generate(client)
    drain(client, aws)
    done = client.json("GET", f"/generations/{active['id']}")
    assert done["status"] == "cancelled"
    # the part that was running finished; no other part or phase started
    assert [p["status"] for p in done["phases"]] == ["succeeded"] * 2 + ["pending"] * 4
    assert sorted(p["status"] for p in done["phases"][2]["parts"]) == ["pending"] * 3 + ["succeeded"]


def test_database_error_inside_a_phase_is_recorded_and_the_next_message_works(client, aws, deps):
    """The old worker's failure: an error aborted the transaction and the log insert died with it."""
    with deps.engine.begin() as conn:
        conn.execute(
            text("""
            CREATE OR REPLACE FUNCTION fail_sitemap() RETURNS trigger AS $$
            BEGIN
              IF NEW.phase = 'sitemap' AND NEW.status = 'succeeded' THEN
                RAISE EXCEPTION 'disk quota exceeded (injected)';
              END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER fail_sitemap BEFORE UPDATE ON phase_runs FOR EACH ROW EXECUTE FUNCTION fail_sitemap();
        """)
        )
    try:
        _, broken = create_and_generate(client)
        drain(client, aws)
    finally:
        with deps.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER fail_sitemap ON phase_runs; DROP FUNCTION fail_sitemap();"))
    failed = client.json("GET", f"/generations/{broken['id']}")
    assert failed["status"] == "failed"
    assert "database error" in failed["error"] and "disk quota exceeded (injected)" in failed["error"]
    lines = logs(client, broken["id"])
    assert any(line["event"] == "phase_retrying" and "disk quota" in line["message"] for line in lines)
    assert lines[-1]["event"] == "generation_failed"

    # Same process, same engine and pool: the next order's messages are processed normally.
    _, healthy = create_and_generate(client, {**ORDER, "business_name": "Next Customer"})
    drain(client, aws)
    assert client.json("GET", f"/generations/{healthy['id']}")["status"] == "succeeded"


def test_logs_table_down_the_phase_still_completes_and_lines_go_to_stdout(client, aws, capsys):
    _, gen = create_and_generate(client)
    aws.dynamodb.delete_table(TableName=aws.resources.logs_table)
    drain(client, aws)
    with pytest.raises(aws.dynamodb.exceptions.ResourceNotFoundException):
        aws.dynamodb.describe_table(TableName=aws.resources.logs_table)
    out = capsys.readouterr().out
    assert "log store unavailable; writing to stdout" in out
    assert '"event": "phase_succeeded"' in out
    assert client.json("GET", f"/generations/{gen['id']}")["status"] == "succeeded"


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "{}",
        "[]",
        '{"generation_id": "x", "phase": "brief"}',
        f'{{"generation_id": "{uuid.uuid4()}", "phase": "nope"}}',
        f'{{"generation_id": "{uuid.uuid4()}", "phase": "brief", "extra": 1}}',
        f'{{"generation_id": "{uuid.uuid4()}", "phase": "brief"}}',  # no such generation
    ],
)
def test_malformed_messages_go_to_the_dead_letter_queue(client, aws, capsys, body):
    order, gen = create_and_generate(client)
    drain(client, aws)
    before = client.json("GET", f"/generations/{gen['id']}")
    send(aws, body)
    assert drain(client, aws) == 1
    [dead] = dead_letters(aws)
    assert dead["Body"] == body
    assert dead["MessageAttributes"]["reason"]["StringValue"]
    assert "dead-letter queue" in capsys.readouterr().out
    assert client.json("GET", f"/generations/{gen['id']}") == before  # nothing stored is lost


def failure_events(client, gid):
    return [
        (line["event"], line["phase"])
        for line in logs(client, gid)
        if line["event"] in ("phase_failed", "generation_failed")
    ]


def generate_dying_once_writing(line_event, client, aws, deps, clock, monkeypatch):
    """Run a generation as Lambda would, the process dying once as it writes that log line."""
    from chalicelib import faults
    from tests.support.stack import run_like_aws

    monkeypatch.setenv("SITEGEN_FAULTS", f"once:during_log_write@{line_event}")
    faults._fired.clear()
    _, gen = create_and_generate(client)
    stats = run_like_aws(client, aws, deps, clock)
    assert stats["crashes"] == 1 and stats["errors"] == 0, stats  # it died there, and nothing else failed
    return client.json("GET", f"/generations/{gen['id']}")


def test_a_worker_that_dies_after_recording_a_failure_leaves_its_lines_to_the_redelivery(
    client, aws, deps, clock, scripted, monkeypatch
):
    """Postgres says failed, the invocation dies before the log line: its message comes back and the
    duplicate writes the missing lines, once (the soak caught a failed generation without its line)."""
    scripted["sitemap"] = [PermanentError("the provider refused the schema")]
    failed = generate_dying_once_writing("generation_failed", client, aws, deps, clock, monkeypatch)
    assert failed["status"] == "failed" and "the provider refused the schema" in failed["error"]
    assert failure_events(client, failed["id"]) == [("phase_failed", "sitemap"), ("generation_failed", None)]
    [line] = [x for x in logs(client, failed["id"]) if x["event"] == "generation_failed"]
    assert line["message"] == failed["error"] and line["level"] == "error"
    assert phase_rows(deps, failed["id"])["sitemap"][:2] == ("failed", 1)  # the duplicate ran nothing


def test_a_worker_that_dies_before_its_retry_line_leaves_it_to_the_next_attempt(
    client, aws, deps, clock, scripted, monkeypatch
):
    scripted["sitemap"] = [RetryableError("provider said 503")]
    done = generate_dying_once_writing("phase_retrying", client, aws, deps, clock, monkeypatch)
    assert done["status"] == "succeeded" and done["phases"][1]["attempts"] == 2
    sitemap = [
        (line["event"], line["message"])
        for line in logs(client, done["id"])
        if line["phase"] == "sitemap" and line["event"]
    ]
    assert [event for event, _ in sitemap] == [
        "phase_started",
        "phase_retrying",
        "phase_started",
        "phase_succeeded",
    ]
    assert "provider said 503" in sitemap[1][1] and sitemap[1][1].endswith("retried")  # written by attempt 2


def test_a_part_that_dies_before_its_retry_line_leaves_it_to_the_next_attempt(
    client, aws, deps, clock, scripted, monkeypatch
):
    scripted["content"] = [RetryableError("provider said 503")]
    done = generate_dying_once_writing("part_retrying", client, aws, deps, clock, monkeypatch)
    assert done["status"] == "succeeded"
    retried = [p for p in done["phases"][2]["parts"] if p["attempts"] == 2]
    assert len(retried) == 1
    lines = [
        (line["event"], line["message"])
        for line in logs(client, done["id"])
        if line["event"]
        and line["event"].startswith("part_")
        and f"content/{retried[0]['name']} " in line["message"]
    ]
    assert [event for event, _ in lines] == [
        "part_started",
        "part_retrying",
        "part_started",
        "part_succeeded",
    ]
    assert "provider said 503" in lines[1][1] and lines[1][1].endswith("retried")  # written by attempt 2
