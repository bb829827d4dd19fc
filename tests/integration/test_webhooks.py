"""Webhooks to the CRM, for real: Postgres, moto (SQS, Secrets Manager), the SQS handler through the
Chalice test client, and a loopback HTTP receiver. The receivers are on 127.0.0.1, so these tests set
SITEGEN_AI_ALLOW_PRIVATE_NETWORKS=1 (as the local stack does); one checks that without it a loopback
URL is a 400."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text

from chalicelib.db.models import DeadLetter, WebhookDelivery, WebhookEvent
from chalicelib.domain.errors import PermanentError
from chalicelib.services import events
from chalicelib.services.sweeper import sweep
from infra.lambda_events import sqs_event
from infra.queue_feeder import receive
from tests.support.fakes import RealUntilMovedClock
from tests.support.orders import ORDER, create_and_generate
from tests.support.readme import readme_verify
from tests.support.stack import FakeClock, dead_letters, drain
from tests.support.webhook_receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]
ALL = ["generation.succeeded", "generation.failed", "generation.cancelled", "page.regenerated"]


@pytest.fixture()
def private_ok(monkeypatch):
    monkeypatch.setenv("SITEGEN_AI_ALLOW_PRIVATE_NETWORKS", "1")


@pytest.fixture()
def receiver():
    r = Receiver()
    yield r
    r.close()


def hook(client, receiver, events_=ALL, **extra):
    return client.json("POST", "/webhooks", {"url": receiver.url, "events": events_, **extra}, expect=201)


def deliveries(client, webhook):
    return client.json("GET", f"/webhooks/{webhook['id']}/deliveries")["items"]


def secret_value(aws, ref_prefix):
    import boto3

    sm = boto3.client("secretsmanager", region_name="us-east-1")
    names = [
        s["Name"]
        for s in sm.list_secrets(IncludePlannedDeletion=True)["SecretList"]
        if s["Name"].startswith(ref_prefix)
    ]
    return sm, names


# --- the API ---------------------------------------------------------------------------------------------
def test_the_secret_is_shown_once_kept_in_secrets_manager_and_rotated(
    client, aws, deps, private_ok, receiver, capsys
):
    created = hook(client, receiver, ["generation.succeeded"], description="CRM production")
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert created["events"] == ["generation.succeeded"] and created["url"] == receiver.url
    for path in ("/webhooks", f"/webhooks/{created['id']}"):
        body = client.request("GET", path).body.decode()
        assert secret not in body and '"secret"' not in body
    sm, names = secret_value(aws, f"sitegen/webhooks/{created['id']}")
    assert sm.get_secret_value(SecretId=names[0])["SecretString"] == secret  # in the store, not in Postgres
    with deps.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM webhooks")).all()
    assert rows and secret not in repr(rows)

    rotated = client.json("POST", f"/webhooks/{created['id']}/rotate-secret", expect=200)
    assert (
        rotated["secret"].startswith("whsec_")
        and rotated["secret"] != secret
        and rotated["secret_rotated_at"]
    )
    _, names = secret_value(aws, f"sitegen/webhooks/{created['id']}")
    live = [n for n in names if "DeletedDate" not in sm.describe_secret(SecretId=n)]
    assert [sm.get_secret_value(SecretId=n)["SecretString"] for n in live] == [
        rotated["secret"]
    ]  # old one forgotten

    assert client.request("DELETE", f"/webhooks/{created['id']}").status_code == 204
    assert client.json("GET", f"/webhooks/{created['id']}", expect=404)["code"] == "not_found"
    assert all("DeletedDate" in sm.describe_secret(SecretId=n) for n in names)
    out = capsys.readouterr().out
    assert secret not in out and rotated["secret"] not in out


@pytest.mark.parametrize(
    "url, says",
    [
        ("ftp://example.com/hook", "http(s)"),
        ("https://user:pw@example.com/hook", "user name or password"),
        ("https://example.com/hook#frag", "fragment"),
        ("https://exa mple.com/hook", "plain ASCII"),
        ("https://169.254.169.254/latest/meta-data", "metadata"),
        ("https://[::ffff:169.254.169.254]/", "metadata"),
        ("http://0.0.0.0:8080/", "unspecified"),
    ],
)
def test_refused_urls_are_400_naming_the_field(client, private_ok, url, says):
    error = client.json("POST", "/webhooks", {"url": url, "events": ["generation.failed"]}, expect=400)
    assert error["code"] == "validation_error" and error["details"][0]["field"] == "url"
    assert says in error["message"] and "pw" not in error["message"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "https://127.0.0.1/hook",
        "https://2130706433/",
        "https://0x7f000001/",
        "https://127.1/",
        "https://[::1]/",
        "https://10.0.0.8/",
        "https://[::ffff:192.168.1.1]/",
        "http://example.com/hook",
    ],
)
def test_without_the_private_network_setting_loopback_private_and_http_are_400(client, monkeypatch, url):
    monkeypatch.delenv("SITEGEN_AI_ALLOW_PRIVATE_NETWORKS", raising=False)
    error = client.json("POST", "/webhooks", {"url": url, "events": ["generation.failed"]}, expect=400)
    assert error["details"][0]["field"] == "url"
    assert "SITEGEN_AI_ALLOW_PRIVATE_NETWORKS=1" in error["message"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": "https://example.com/h", "events": []}, "events"),
        ({"url": "https://example.com/h", "events": ["generation.exploded"]}, "events.0"),
        ({"url": "https://example.com/h"}, "events"),
        ({"events": ["generation.failed"]}, "url"),
        ({"url": "https://example.com/h", "events": ["generation.failed"], "secret": "mine"}, "secret"),
    ],
)
def test_bad_bodies_are_422_naming_the_field(client, body, field):
    error = client.json("POST", "/webhooks", body, expect=422)
    assert field in [d["field"] for d in error["details"]]


def test_unknown_and_malformed_ids(client, private_ok, receiver):
    created = hook(client, receiver)
    assert client.json("GET", "/webhooks/nope", expect=404)["code"] == "not_found"  # as every malformed id
    assert client.json("GET", f"/webhooks/{uuid.uuid4()}", expect=404)["code"] == "not_found"
    assert client.request("DELETE", f"/webhooks/{uuid.uuid4()}").status_code == 404
    assert client.json("POST", f"/webhooks/{uuid.uuid4()}/rotate-secret", expect=404)["code"] == "not_found"
    assert client.json("POST", f"/webhooks/{created['id']}/deliveries/{uuid.uuid4()}/redeliver", expect=404)
    assert (
        client.json("GET", f"/webhooks/{created['id']}/deliveries?cursor=zzz", expect=400)["details"][0][
            "field"
        ]
        == "cursor"
    )
    assert client.json("GET", f"/webhooks/{created['id']}/deliveries?limit=0", expect=400)


# --- delivery --------------------------------------------------------------------------------------------
def test_a_succeeded_generation_reaches_the_crm_signed_once_with_its_event_id(
    client, aws, private_ok, receiver
):
    created = hook(client, receiver, ["generation.succeeded", "generation.failed"])
    order, gen = create_and_generate(client, {**ORDER, "external_ref": "crm-4711"})
    drain(client, aws)
    done = client.json("GET", f"/generations/{gen['id']}")
    assert done["status"] == "succeeded"
    [request] = receiver.wait_for(1)
    verify = readme_verify()
    assert verify(created["secret"], request.body, request.headers["sitegen-signature"])
    assert not verify(created["secret"], request.body + b" ", request.headers["sitegen-signature"])
    assert not verify("whsec_wrong", request.body, request.headers["sitegen-signature"])
    body = request.json()
    assert body["type"] == "generation.succeeded" and request.headers["sitegen-event-id"] == body["id"]
    data = body["data"]
    assert data["generation"]["id"] == gen["id"] and data["generation"]["site_url"] == done["site_url"]
    assert data["order"] == {"id": order["id"], "external_ref": "crm-4711"}
    assert request.path == "/hooks/sitegen?source=test"  # the query is kept
    [delivery] = deliveries(client, created)
    assert (
        delivery["status"] == "succeeded"
        and delivery["attempts"] == 1
        and delivery["last_status_code"] == 200
    )
    assert (
        delivery["event_id"] == body["id"]
        and delivery["last_attempt_at"]
        and delivery["next_attempt_at"] is None
    )

    # the same message again (SQS delivers at least once): no second request
    client.client.lambda_.invoke(
        "run_phase",
        sqs_event(
            [
                {
                    "MessageId": "m",
                    "ReceiptHandle": "r",
                    "Body": json.dumps({"webhook_delivery_id": delivery["id"]}),
                    "Attributes": {"ApproximateReceiveCount": "2"},
                }
            ],
            "arn:q",
        ),
    )
    assert len(receiver.requests) == 1


def test_each_event_goes_only_where_it_is_wanted(client, aws, deps, private_ok, scripted):
    wants_failures, wants_all = Receiver(), Receiver()
    try:
        hook(client, wants_failures, ["generation.failed", "generation.cancelled"])
        hook(client, wants_all, ALL)
        _, cancelled = create_and_generate(client)
        client.json("POST", f"/generations/{cancelled['id']}/cancel", expect=202)
        scripted["brief"] = [PermanentError("the model refused")]
        _, failed = create_and_generate(client)
        drain(client, aws)
        _, ok = create_and_generate(client)
        drain(client, aws)
        wants_failures.wait_for(2)
        wants_all.wait_for(3)
        by_type = {r.json()["type"]: r.json() for r in wants_all.requests}
        assert sorted(t for t, _ in wants_failures.events()) == ["generation.cancelled", "generation.failed"]
        assert sorted(by_type) == ["generation.cancelled", "generation.failed", "generation.succeeded"]
        assert by_type["generation.failed"]["data"]["generation"]["id"] == failed["id"]
        assert "the model refused" in by_type["generation.failed"]["data"]["generation"]["error"]
        assert by_type["generation.cancelled"]["data"]["generation"]["status"] == "cancelled"
        assert by_type["generation.succeeded"]["data"]["generation"]["id"] == ok["id"]
        # one event, one id, for every webhook that wants it
        assert {i for t, i in wants_failures.events()} <= {i for t, i in wants_all.events()}
    finally:
        wants_failures.close()
        wants_all.close()


def test_a_regenerated_page_sends_page_regenerated_and_generation_succeeded(
    client, aws, private_ok, receiver
):
    _, gen = create_and_generate(client)
    drain(client, aws)
    hook(client, receiver, ["page.regenerated", "generation.succeeded"])
    again = client.json("POST", f"/generations/{gen['id']}/pages/sobre/regenerate", expect=202)
    drain(client, aws)
    receiver.wait_for(2)
    by_type = {r.json()["type"]: r.json() for r in receiver.requests}
    assert sorted(by_type) == ["generation.succeeded", "page.regenerated"]
    assert by_type["page.regenerated"]["data"]["page"] == "sobre"
    assert by_type["page.regenerated"]["data"]["generation"]["id"] == again["id"]
    assert by_type["page.regenerated"]["id"] != by_type["generation.succeeded"]["id"]


def test_failures_back_off_for_24_hours_then_dead_letter_and_a_redelivery_keeps_the_event_id(
    client, aws, deps, private_ok, receiver, capsys
):
    deps.clock = clock = FakeClock()
    created = hook(client, receiver, ["generation.cancelled"])
    receiver.default = 503
    _, gen = create_and_generate(client)
    client.json("POST", f"/generations/{gen['id']}/cancel", expect=202)
    drain(client, aws)
    [first] = deliveries(client, created)
    assert first["status"] == "pending" and first["attempts"] == 1 and first["last_status_code"] == 503
    assert "HTTP 503" in first["last_error"]
    gaps = []
    for _ in range(40):
        [d] = deliveries(client, created)
        if d["status"] == "failed":
            break
        due = d["next_attempt_at"]
        wait = (datetime.fromisoformat(due) - clock.now).total_seconds()
        gaps.append(wait)
        clock.advance(wait + 121)  # SQS's delayed message is real time in moto: the sweeper sends it again
        sweep(deps)
        drain(client, aws)
    [dead] = deliveries(client, created)
    assert dead["status"] == "failed" and dead["attempts"] == len(receiver.requests) >= 10
    assert 24 <= gaps[0] <= 36 and max(gaps) <= 4 * 3600 * 1.2 and gaps[3] > gaps[1]  # exponential, capped
    # it gives up when the next try would land past 24 h: at least 24 h minus one (capped, jittered) gap
    assert (
        timedelta(hours=24 - 4 * 1.5)
        < clock.now - datetime.fromisoformat(first["created_at"])
        < timedelta(hours=30)
    )
    with deps.uow() as uow:
        [(generation_id, reason)] = uow.session.execute(
            select(DeadLetter.generation_id, DeadLetter.reason)
        ).all()
    assert generation_id is None and "gave up after" in reason and "HTTP 503" in reason
    assert "webhook delivery failed for good; dead-lettered" in capsys.readouterr().out
    assert client.json("GET", "/queue")["dead_letter"] == 1

    receiver.default = 200
    again = client.json("POST", f"/webhooks/{created['id']}/deliveries/{dead['id']}/redeliver", expect=202)
    assert again["status"] == "pending"
    drain(client, aws)
    [done] = deliveries(client, created)
    assert done["status"] == "succeeded" and done["last_status_code"] == 200
    bodies = {r.body for r in receiver.requests}
    assert len(bodies) == 1 and {r.headers["sitegen-event-id"] for r in receiver.requests} == {
        dead["event_id"]
    }
    assert len({r.headers["sitegen-signature"] for r in receiver.requests}) > 1  # each attempt signs anew


def test_generations_failed_by_the_dead_letter_handler_or_the_time_budget_are_announced(
    client, aws, deps, private_ok, receiver
):
    from tests.support.orders import handle_dead_letters, poisoned

    deps.clock = clock = RealUntilMovedClock()  # the budget counts from the database's now()
    hook(client, receiver, ["generation.failed"])
    dead = poisoned(client, aws)  # five deliveries died: the dead-letter handler fails the generation
    assert handle_dead_letters(client, aws) == 1
    with (
        deps.uow() as uow
    ):  # that function may not send to the generation queue: the row waits for the sweeper
        assert uow.session.scalar(select(WebhookDelivery.queued_at)) is None
    assert sweep(deps).webhooks_sent == 1
    drain(client, aws)
    [first] = receiver.wait_for(1)
    assert first.json()["data"]["generation"]["id"] == dead["id"]
    assert "gave up after 5 deliveries" in first.json()["data"]["generation"]["error"]

    _, late = create_and_generate(client)  # nobody runs it; an hour and a bit later the sweeper gives up
    clock.advance(3601)
    report = sweep(deps)
    assert report.timed_out == 1
    drain(client, aws)
    late_event = receiver.wait_for(2)[1].json()
    assert late_event["type"] == "generation.failed" and late_event["data"]["generation"]["id"] == late["id"]
    assert "time budget" in late_event["data"]["generation"]["error"]


def test_a_lost_send_is_sent_by_the_sweeper(client, aws, deps, private_ok, receiver):
    deps.clock = clock = FakeClock()
    created = hook(client, receiver, ["generation.cancelled"])
    _, gen = create_and_generate(client)
    client.json("POST", f"/generations/{gen['id']}/cancel", expect=202)
    for message in receive(aws.sqs, aws.resources.queue_url, 0) + receive(
        aws.sqs, aws.resources.queue_url, 0
    ):
        aws.sqs.delete_message(
            QueueUrl=aws.resources.queue_url, ReceiptHandle=message["ReceiptHandle"]
        )  # lost
    assert sweep(deps).webhooks_sent == 0  # not yet: its message may still be on its way
    clock.advance(180)
    assert sweep(deps).webhooks_sent == 1
    drain(client, aws)
    assert len(receiver.wait_for(1)) == 1 and deliveries(client, created)[0]["status"] == "succeeded"


def test_a_url_that_now_resolves_to_a_refused_address_fails_at_once(client, aws, monkeypatch, receiver):
    monkeypatch.setenv("SITEGEN_AI_ALLOW_PRIVATE_NETWORKS", "1")
    created = hook(client, receiver, ["generation.cancelled"])
    monkeypatch.delenv("SITEGEN_AI_ALLOW_PRIVATE_NETWORKS")
    _, gen = create_and_generate(client)
    client.json("POST", f"/generations/{gen['id']}/cancel", expect=202)
    drain(client, aws)
    [d] = deliveries(client, created)
    assert d["status"] == "failed" and d["last_status_code"] is None and "plain http" in d["last_error"]
    assert receiver.requests == []


def test_emit_is_part_of_its_transaction_and_one_change_is_one_event(deps, private_ok, receiver, client):
    hook(client, receiver, ["generation.failed"])
    at = deps.clock()
    with deps.uow() as uow:  # rolled back: nothing stays
        assert len(events.emit(uow.session, "generation.failed", {"x": 1}, subject="g1", at=at)) == 1
    with deps.uow() as uow:
        first = events.emit(uow.session, "generation.failed", {"x": 1}, subject="g1", at=at)
        again = events.emit(uow.session, "generation.failed", {"x": 2}, subject="g1", at=at)
        nobody = events.emit(uow.session, "generation.succeeded", {"x": 3}, subject="g1", at=at)
        uow.commit()
    assert len(first) == 1 and again == [] and nobody == []
    with deps.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(WebhookEvent)) == 1
        assert uow.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1


# --- the queue machinery ---------------------------------------------------------------------------------
def test_malformed_webhook_messages_are_dead_lettered_and_a_dead_delivery_is_redriven(
    client, aws, deps, private_ok, receiver
):
    from tests.support.orders import handle_dead_letters

    for body in ('{"webhook_delivery_id": "nope"}', f'{{"webhook_delivery_id": "{uuid.uuid4()}", "x": 1}}'):
        aws.sqs.send_message(QueueUrl=aws.resources.queue_url, MessageBody=body)
        assert drain(client, aws) == 1
    assert len(dead_letters(aws)) == 2
    assert handle_dead_letters(client, aws) == 2  # archived; no generation to fail

    # a delivery whose message died five times: archived, then the redrive sends it
    created = hook(client, receiver, ["generation.cancelled"])
    _, gen = create_and_generate(client)
    client.json("POST", f"/generations/{gen['id']}/cancel", expect=202)
    url = aws.resources.queue_url
    for _ in range(20):  # the brief's message and the delivery's, five receives each, then SQS moves them
        for message in receive(aws.sqs, url, 0):
            aws.sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
    assert receive(aws.sqs, url, 0) == []
    assert handle_dead_letters(client, aws) == 2
    assert client.json("GET", "/queue")["dead_letter"] >= 3
    redrive = client.json("POST", "/queue/dead-letter/redrive")
    assert redrive["sent"] == 1 and redrive["skipped"] == 3  # the two malformed ones, the cancelled brief
    drain(client, aws)
    assert [t for t, _ in receiver.events()] == ["generation.cancelled"]
    assert deliveries(client, created)[0]["status"] == "succeeded"


def _counting(deps):
    """Count SQL statements, transactions and SQS sends until the returned `undo` is called."""
    counts = {"statements": 0, "transactions": 0, "sends": 0}

    def statement(*args):
        counts["statements"] += 1

    def begin(*args):
        counts["transactions"] += 1

    event.listen(deps.engine, "before_cursor_execute", statement)
    event.listen(deps.engine, "begin", begin)
    queue = deps.queue
    real = {name: getattr(queue, name) for name in ("send", "send_many")}
    for name, fn in real.items():

        def counted(*a, _fn=fn, **kw):
            counts["sends"] += 1
            return _fn(*a, **kw)

        setattr(queue, name, counted)

    def undo():
        event.remove(deps.engine, "before_cursor_execute", statement)
        event.remove(deps.engine, "begin", begin)
        for name in real:
            delattr(queue, name)

    return counts, undo


def test_publish_and_a_delivery_stay_within_the_per_invocation_budget(client, aws, deps, private_ok):
    """Issue 7's budget per phase or part invocation: at most 2 transactions, 10 statements, 1 SQS send.
    The publish phase emits generation.succeeded (one INSERT) and sends both webhooks' deliveries in
    one SendMessageBatch; a delivery claims (1 statement) and records (1)."""
    receivers = [Receiver(), Receiver()]
    try:
        for r in receivers:
            hook(client, r, ["generation.succeeded"])
        create_and_generate(client)
        from chalicelib.services.worker import check_ai_configs_once

        check_ai_configs_once(
            deps
        )  # what a container's first message does once (the bench leaves it out too)
        arn = aws.sqs.get_queue_attributes(QueueUrl=aws.resources.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        seen: dict[str, list] = {}
        while messages := receive(aws.sqs, aws.resources.queue_url, 0):
            body = json.loads(messages[0]["Body"])
            kind = body.get("phase") or "webhook"
            counts, undo = _counting(deps)
            try:
                client.client.lambda_.invoke("run_phase", sqs_event(messages, arn))
            finally:
                undo()
            aws.sqs.delete_message(
                QueueUrl=aws.resources.queue_url, ReceiptHandle=messages[0]["ReceiptHandle"]
            )
            seen.setdefault(kind, []).append(counts)
        assert [len(r.wait_for(1)) for r in receivers] == [1, 1]
        from bench.phases import MAX_STATEMENTS, MAX_TRANSACTIONS, PHASE_LIMITS

        for kind, runs in seen.items():
            transactions, statements = PHASE_LIMITS.get(kind, (MAX_TRANSACTIONS, MAX_STATEMENTS))
            for counts in runs:  # publish also makes its version live (the pointer: one more transaction)
                assert counts["transactions"] <= transactions and counts["statements"] <= statements, (
                    kind,
                    counts,
                )
                assert counts["sends"] <= 1, (kind, counts)
        assert seen["publish"][0]["sends"] == 1 and len(seen["webhook"]) == 2
        assert all(c["sends"] == 0 and c["statements"] == 2 for c in seen["webhook"])
    finally:
        for r in receivers:
            r.close()
