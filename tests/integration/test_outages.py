"""Dependencies going away mid-run: Postgres, S3 and the AI provider. Each either recovers when the
dependency comes back, with every phase's effect applied once, or fails with the reason after the
attempt cap; the user can see which in the generation and its log."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from sqlalchemy import create_engine, make_url, text

from chalicelib.adapters.s3_sites import S3SiteStore
from chalicelib.ai.registry import build_provider
from infra.local import free_port
from tests.ai.conftest import FakeProvider, Scripted
from tests.ai.helpers import openai_reply
from tests.support.orders import create_and_generate
from tests.support.stack import PHASES, drain, each_output_once, logs, run_like_aws


class Postgres:
    """Takes the test database away for real: no new connections, every open one terminated."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        self.name = url.database
        self.admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def down(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false'))
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :d AND pid <> pg_backend_pid()"
                ),
                {"d": self.name},
            )

    def up(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true'))


@pytest.fixture()
def postgres(database_url: str) -> Iterator[Postgres]:
    pg = Postgres(database_url)
    yield pg
    pg.up()
    pg.admin.dispose()


def assert_each_phase_once(client: Any, gid: str, output_writes: Any) -> list[dict[str, Any]]:
    lines = logs(client, gid)
    events = [(line["event"], line["phase"]) for line in lines]
    for p in PHASES:
        assert events.count(("phase_succeeded", p)) == 1, (p, events)
    assert output_writes() == each_output_once()
    return lines


@pytest.mark.parametrize("when", ["before_claim", "during_ai_call"])
def test_postgres_down_then_back_the_generation_finishes(
    client, aws, deps, clock, output_writes, postgres, scripted, when
):
    _, gen = create_and_generate(client)
    if when == "before_claim":
        postgres.down()  # the first phase's delivery finds no database
    else:

        def go_down(request: Any, result: Any) -> Any:
            postgres.down()  # mid-phase: the work is done, storing it fails
            return result

        scripted["code"] = [go_down]
    crashes: list[str] = []

    def back_up(exc: BaseException) -> None:
        crashes.append(type(exc).__name__)
        postgres.up()

    stats = run_like_aws(client, aws, deps, clock, on_crash=back_up)

    assert stats["crashes"] == 1 and crashes, (stats, crashes)
    done = client.json("GET", f"/generations/{gen['id']}")
    assert done["status"] == "succeeded", done
    phase = "brief" if when == "before_claim" else "code"
    attempts = {p["name"]: p["attempts"] for p in done["phases"]}
    attempts.update({f"code/{p['name']}": p["attempts"] for p in done["phases"][3]["parts"]})
    if when == "before_claim":
        assert attempts["brief"] == 1  # a claim that never committed is no attempt
    else:  # the code part whose result could not be stored ran again, alone
        assert sorted(v for k, v in attempts.items() if k.startswith("code/")) == [1, 1, 1, 1, 2]
    lines = assert_each_phase_once(client, gen["id"], output_writes)
    assert any(
        line["phase"] == phase and line["level"] == "error" and "database unavailable" in line["message"]
        for line in lines
    ), lines  # the outage was visible while it lasted


def test_postgres_down_for_good_the_dead_letter_fails_it_with_the_reason(client, aws, deps, postgres):
    """SQS gives up after maxReceiveCount deliveries; while Postgres is down the dead-letter handler
    keeps the message (delayed, no hot loop); once it is back, the generation fails with the reason."""
    from infra.lambda_events import sqs_event
    from infra.queue_feeder import receive

    _, gen = create_and_generate(client)
    postgres.down()
    queue, dlq = aws.resources.queue_url, aws.resources.dlq_url
    for _ in range(5):  # five deliveries whose invocations die (maxReceiveCount in infra/template.yaml)
        [message] = receive(aws.sqs, queue, 0)
        aws.sqs.change_message_visibility(
            QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    assert receive(aws.sqs, queue, 0) == []  # SQS moved it to the dead-letter queue
    [dead] = receive(aws.sqs, dlq, 0)
    arn = aws.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client.client.lambda_.invoke("on_dead_letter", sqs_event([dead], arn))  # never raises
    aws.sqs.delete_message(QueueUrl=dlq, ReceiptHandle=dead["ReceiptHandle"])
    attrs = aws.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessagesDelayed"] == "1"  # kept, delayed: no hot loop while it is down

    postgres.up()
    client.client.lambda_.invoke(
        "on_dead_letter", sqs_event([dead], arn)
    )  # the kept message, after its delay
    failed = client.json("GET", f"/generations/{gen['id']}")
    assert failed["status"] == "failed"
    assert failed["error"] == "gave up after 5 deliveries of phase brief"
    assert logs(client, gen["id"])[-1]["event"] == "generation_failed"


class S3Outage:
    """The site store, with S3 unreachable for the first `failures` publishes: real boto3 calls
    to a port nobody listens on, then the real (moto) bucket."""

    def __init__(self, real: S3SiteStore, bucket: str, failures: int) -> None:
        dead = boto3.client(
            "s3",
            region_name="us-east-1",
            endpoint_url=f"http://127.0.0.1:{free_port()}",
            config=Config(connect_timeout=0.5, retries={"max_attempts": 1}),
        )
        self.down, self.real, self.failures = S3SiteStore(dead, bucket, "http://unused"), real, failures

    def publish(self, prefix: str, files: list[tuple[str, str, bytes]]) -> str:
        if self.failures:
            self.failures -= 1
            return self.down.publish(prefix, files)
        return self.real.publish(prefix, files)


@pytest.mark.parametrize("failures, status", [(1, "succeeded"), (3, "failed")])
def test_s3_down_publish_retries_then_recovers_or_fails_with_the_reason(client, aws, deps, failures, status):
    deps.__dict__["sites"] = S3Outage(deps.sites, aws.resources.bucket, failures)
    _, gen = create_and_generate(client)
    drain(client, aws)  # raises if a delivery crashes: a retryable failure must be handled, not a crash
    done = client.json("GET", f"/generations/{gen['id']}")
    assert done["status"] == status, done
    publish = done["phases"][-1]
    assert publish["attempts"] == min(failures + 1, 3)
    lines = logs(client, gen["id"])
    retrying = [line for line in lines if line["event"] == "phase_retrying" and line["phase"] == "publish"]
    assert (
        len(retrying) == min(failures, 2)
        and "Could not connect to the endpoint URL" in retrying[0]["message"]
    )
    if status == "failed":
        assert done["error"].startswith("phase publish failed after 3 attempt(s): EndpointConnectionError")
        assert lines[-1]["event"] == "generation_failed"
    else:
        key = f"sites/{gen['id']}/index.html"
        assert aws.s3.head_object(Bucket=aws.resources.bucket, Key=key)["ContentLength"] > 0


@pytest.fixture()
def provider_on_loopback(deps: Any) -> Iterator[FakeProvider]:
    """Every AI call goes to an OpenAI-compatible server on loopback (scripted per test)."""
    fake = FakeProvider()

    def build(config: Any) -> Any:
        from chalicelib.ai.base import ResolvedConfig

        loopback = ResolvedConfig(
            config.id,
            "Loopback",
            "openai_compatible",
            "gpt-4o-mini",
            fake.url,
            None,
            None,
            {"timeout_s": 0.5},
        )
        return build_provider(loopback)

    deps.provider_override = build
    yield fake
    deps.provider_override = None
    fake.stop()


def test_ai_provider_429_500_and_timeout_then_recovers(
    client, aws, deps, clock, output_writes, provider_on_loopback
):
    from chalicelib.domain.order import OrderData
    from chalicelib.website import template_provider as tp

    order, gen = create_and_generate(client)
    brief = tp.make_brief(
        OrderData(
            id=order["id"],
            business_name=order["business_name"],
            segment=order["segment"],
            services=order["services"],
            locale=order["locale"],
        )
    )
    provider_on_loopback.reply(
        Scripted(429, {"error": {"message": "rate limited"}}, {"Retry-After": "2"}),
        Scripted(500, {"error": {"message": "upstream broke"}}),
        Scripted(body=openai_reply(brief.model_dump()), delay=2.0),  # read timeout (0.5 s)
    )
    stats = run_like_aws(client, aws, deps, clock)
    assert stats["errors"] == 0, stats
    stuck = client.json("GET", f"/generations/{gen['id']}")
    assert stuck["status"] == "failed" and stuck["phases"][0]["attempts"] == 3
    assert "read timeout" in stuck["error"]
    reasons = [line["message"] for line in logs(client, gen["id"]) if line["event"] == "phase_retrying"]
    assert (
        len(reasons) == 2 and "429" in reasons[0] and "retrying in 2s" in reasons[0]
    )  # Retry-After honoured
    assert "500" in reasons[1]

    # The provider is back: Resend resumes at the failed phase and the generation finishes.
    deps.provider_override = None  # the routed offline provider again
    client.json("POST", f"/generations/{gen['id']}/retry", expect=202)
    run_like_aws(client, aws, deps, clock)
    done = client.json("GET", f"/generations/{gen['id']}")
    assert done["status"] == "succeeded", done
    assert_each_phase_once(client, gen["id"], output_writes)


@contextlib.contextmanager
def orders_insert_raises(deps: Any, statement: str) -> Iterator[None]:
    """Every INSERT into orders fails in Postgres itself (a trigger running `statement`)."""
    with deps.engine.begin() as conn:
        conn.execute(
            text(f"""
            CREATE FUNCTION failing_insert() RETURNS trigger AS $$ BEGIN {statement}; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER failing_insert BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION failing_insert();
        """)
        )
    try:
        yield
    finally:
        with deps.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER failing_insert ON orders; DROP FUNCTION failing_insert();"))


def test_api_answers_503_while_postgres_is_down_and_500_for_a_database_bug(client, deps, postgres):
    postgres.down()
    down = client.request("GET", "/orders")
    assert down.status_code == 503, down.body
    assert json.loads(down.body)["code"] == "dependency_unavailable"  # an outage: the client may retry
    postgres.up()
    assert client.request("GET", "/orders").status_code == 200  # back: the pool reconnects by itself

    with orders_insert_raises(deps, "RAISE EXCEPTION 'column mix-up (injected)'"):  # a bug, not an outage
        bug = client.request("POST", "/orders", {"business_name": "Bug", "segment": "bakery"})
    assert bug.status_code == 500, bug.body
    body = json.loads(bug.body)
    assert body["code"] == "internal_error" and "mix-up" not in body["message"]  # no internals in the answer


def test_a_constraint_a_concurrent_change_broke_is_a_409_not_a_500(client, deps):
    """Races the services do not foresee (e.g. a row deleted between a read and a write) end in a
    constraint violation at commit: the client gets a 409 to retry on, never a 500."""
    with orders_insert_raises(
        deps,
        "RAISE EXCEPTION 'insert violates foreign key (injected)' USING ERRCODE = 'foreign_key_violation'",
    ):
        raced = client.request("POST", "/orders", {"business_name": "Raced", "segment": "bakery"})
    assert raced.status_code == 409, raced.body
    body = json.loads(raced.body)
    assert body["code"] == "conflict" and "foreign key" not in body["message"]
