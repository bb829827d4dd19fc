"""Poison and malformed messages: dead-letter queue, a visible failed status, redrive."""

from __future__ import annotations

import json

from infra.lambda_events import sqs_event
from infra.queue_feeder import receive
from tests.support.orders import create_and_generate, handle_dead_letters, poisoned
from tests.support.stack import dead_letters, drain, logs


def test_malformed_message_for_a_known_generation_fails_it_visibly(client, aws):
    _, gen = create_and_generate(client)
    receive(aws.sqs, aws.resources.queue_url, 0)  # the real message is in flight; a bad one arrives
    aws.sqs.send_message(
        QueueUrl=aws.resources.queue_url,
        MessageBody=json.dumps({"generation_id": gen["id"], "phase": "bogus"}),
    )
    assert drain(client, aws) == 1
    assert len(dead_letters(aws)) == 1
    assert client.json("GET", "/queue")["dead_letter"] >= 1
    assert handle_dead_letters(client, aws) == 1
    failed = client.json("GET", f"/generations/{gen['id']}")
    assert failed["status"] == "failed"
    assert "malformed message" in failed["error"] and "phase" in failed["error"]
    assert logs(client, gen["id"])[-1]["event"] == "generation_failed"
    queue = client.json("GET", "/queue")
    assert queue["dead_letter"] == 1  # kept in Postgres for redrive, even though the DLQ is empty


def test_poison_message_reaches_the_dlq_by_redrive_policy_and_redrive_resumes(client, aws):
    _, gen = create_and_generate(client)
    url = aws.resources.queue_url
    for _ in range(5):  # maxReceiveCount in infra/template.yaml: five deliveries that all die
        [message] = receive(aws.sqs, url, 0)
        aws.sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    assert receive(aws.sqs, url, 0) == []  # SQS moved it to the dead-letter queue
    assert handle_dead_letters(client, aws) == 1
    failed = client.json("GET", f"/generations/{gen['id']}")
    assert failed["status"] == "failed"
    assert failed["error"] == "gave up after 5 deliveries of phase brief"

    result = client.json("POST", "/queue/dead-letter/redrive")
    assert result["resumed_generations"] == [gen["id"]] and result["redriven"] == 1
    drain(client, aws)
    assert client.json("GET", f"/generations/{gen['id']}")["status"] == "succeeded"
    assert client.json("GET", "/queue")["dead_letter"] == 0
    assert client.json("POST", "/queue/dead-letter/redrive")["redriven"] == 0


def test_oldest_waiting_phase_age_is_reported(client, aws, deps):
    from tests.support.fakes import RealUntilMovedClock

    clock = RealUntilMovedClock()  # 90 s after the row's database time, however long creating took
    deps.clock = clock
    create_and_generate(client)
    clock.advance(90)
    queue = client.json("GET", "/queue")
    assert 85 <= queue["oldest_age_seconds"] <= 95
    drain(client, aws)
    assert client.json("GET", "/queue")["oldest_age_seconds"] is None


def test_a_dead_letter_handler_that_dies_before_its_line_writes_it_when_the_letter_comes_back(
    client, aws, monkeypatch
):
    from chalicelib import faults
    from chalicelib.faults import InjectedFault

    gen = poisoned(client, aws)
    monkeypatch.setenv("SITEGEN_FAULTS", "once:during_log_write@generation_failed")
    faults._fired.clear()
    dlq = aws.resources.dlq_url
    arn = aws.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    [letter] = receive(aws.sqs, dlq, 0)
    try:
        client.client.lambda_.invoke("on_dead_letter", sqs_event([letter], arn))
    except InjectedFault:
        pass  # the invocation died after its commit: the letter stays on the dead-letter queue
    else:
        raise AssertionError("the fault did not fire")
    assert client.json("GET", f"/generations/{gen['id']}")["status"] == "failed"
    assert [line["event"] for line in logs(client, gen["id"])].count("generation_failed") == 0
    aws.sqs.change_message_visibility(
        QueueUrl=dlq, ReceiptHandle=letter["ReceiptHandle"], VisibilityTimeout=0
    )
    assert handle_dead_letters(client, aws) == 1  # it comes back
    assert handle_dead_letters(client, aws) == 0
    lines = logs(client, gen["id"])
    assert [line["event"] for line in lines].count("generation_failed") == 1
    assert lines[-1]["message"] == "gave up after 5 deliveries of phase brief"
    assert client.json("GET", "/queue")["dead_letter"] == 1  # archived once


def test_a_dead_letter_delivered_again_after_a_resend_leaves_the_generation_alone(client, aws):
    gen = poisoned(client, aws)
    dlq = aws.resources.dlq_url
    arn = aws.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    [letter] = receive(aws.sqs, dlq, 0)
    client.client.lambda_.invoke("on_dead_letter", sqs_event([letter], arn))  # its delete is lost
    assert client.json("GET", f"/generations/{gen['id']}")["status"] == "failed"
    client.json("POST", f"/generations/{gen['id']}/retry", expect=202)  # the user resends it
    client.client.lambda_.invoke("on_dead_letter", sqs_event([letter], arn))  # the same letter again
    assert client.json("GET", f"/generations/{gen['id']}")["status"] == "queued"
    drain(client, aws)
    assert client.json("GET", f"/generations/{gen['id']}")["status"] == "succeeded"


def test_redrive_goes_on_past_a_letter_it_cannot_resend_and_keeps_those_it_cannot_send(
    client, aws, deps, monkeypatch
):
    import boto3
    from botocore.config import Config

    from chalicelib.adapters.sqs_queue import SqsPhaseQueue
    from infra.local import free_port
    from tests.support.orders import ORDER

    moved_on = poisoned(client, aws)
    other = poisoned(client, aws, {**ORDER, "business_name": "Second Customer"})
    resent = poisoned(client, aws, {**ORDER, "business_name": "Third Customer"})
    assert handle_dead_letters(client, aws) == 3
    client.json("POST", f"/orders/{moved_on['order_id']}/generations", expect=202)  # a newer generation runs
    client.json("POST", f"/generations/{resent['id']}/retry", expect=202)  # active again: its letter is sent

    dead = boto3.client(
        "sqs",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        config=Config(connect_timeout=0.5, retries={"max_attempts": 1}),
    )
    with monkeypatch.context() as outage:  # SQS unreachable during the redrive
        outage.setitem(
            deps.__dict__, "queue", SqsPhaseQueue(dead, aws.resources.queue_url, aws.resources.dlq_url)
        )
        result = client.json("POST", "/queue/dead-letter/redrive")
    assert result["resumed_generations"] == [other["id"]]  # resumed; its send waits in the outbox
    assert (result["skipped"], result["kept"], result["sent"], result["redriven"]) == (1, 1, 0, 1), result
    assert client.json("GET", "/queue")["dead_letter"] == 1  # the kept one is still pending

    again = client.json("POST", "/queue/dead-letter/redrive")
    assert (again["sent"], again["kept"], again["redriven"]) == (1, 0, 1), again
    assert client.json("GET", "/queue")["dead_letter"] == 0


def test_dead_letters_are_listed_with_generation_order_phase_part_reason_and_age(client, aws, clock):
    order = {"business_name": "Padaria Letra Morta", "segment": "bakery"}
    gen = poisoned(client, aws, order)
    assert handle_dead_letters(client, aws) == 1
    # A per-page part that ran out of deliveries: its body names the page.
    aws.sqs.send_message(
        QueueUrl=aws.resources.dlq_url,
        MessageBody=json.dumps({"generation_id": gen["id"], "phase": "code", "part": "sobre"}),
    )
    clock.advance(30)
    assert handle_dead_letters(client, aws) == 1
    clock.advance(90)

    listed = client.json("GET", "/queue/dead-letters")
    assert listed["total"] == 2 == client.json("GET", "/queue")["dead_letter"]
    first, second = listed["items"]  # oldest first
    assert first["generation_id"] == second["generation_id"] == gen["id"]
    assert first["order_id"] == gen["order_id"] and first["business_name"] == "Padaria Letra Morta"
    assert (first["phase"], first["part"], second["phase"], second["part"]) == (
        "brief",
        None,
        "code",
        "sobre",
    )
    assert first["reason"] == "gave up after 5 deliveries of phase brief"
    assert second["reason"] == "gave up after 5 deliveries of phase code (part sobre)"
    assert first["generation_status"] == "failed"
    assert 119 <= first["age_seconds"] <= 121 and 89 <= second["age_seconds"] <= 91
    assert [i["id"] for i in client.json("GET", "/queue/dead-letters?limit=1")["items"]] == [first["id"]]
    assert client.json("GET", "/queue/dead-letters?limit=1")["total"] == 2
    assert client.json("GET", "/queue/dead-letters?limit=0", expect=400)["details"][0]["field"] == "limit"

    client.json("POST", "/queue/dead-letter/redrive")
    assert client.json("GET", "/queue/dead-letters") == {
        "items": [],
        "total": 0,
    }  # handled letters leave the list


def test_a_dead_letter_with_an_unreadable_body_is_listed_without_a_generation(client, aws):
    aws.sqs.send_message(QueueUrl=aws.resources.dlq_url, MessageBody="not json at all")
    assert handle_dead_letters(client, aws) == 1
    [letter] = client.json("GET", "/queue/dead-letters")["items"]
    assert letter["generation_id"] is None and letter["order_id"] is None and letter["phase"] is None
    assert letter["reason"].startswith("gave up after")
