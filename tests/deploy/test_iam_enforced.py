"""Each function does its whole job with nothing but its own policy from .chalice/policy-<function>.json.

moto enforces IAM here on every AWS call the app makes: each call is signed with the keys of an IAM
user holding only the policy of the Lambda function that is running (found on the call stack:
the handler in app.py). moto checks the action for every service, and the resource too for SQS and
S3 (for DynamoDB and Secrets Manager it checks actions only, so there the test grants `*`; the
resources are checked statically in test_iam.py). The flow: AI config with a key, a generation with
`coding` on a keyed provider, health, queue stats, logs, key rotation and removal, a dead letter,
redrive, the sweeper republishing, the worker finishing."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import boto3
from moto.core import enable_iam_authentication
from sqlalchemy import text

import app as app_module
from chalicelib import bootstrap
from infra.lambda_events import schedule_event, sqs_event
from infra.queue_feeder import receive
from tests.ai.conftest import FakeProvider, Scripted
from tests.ai.helpers import openai_reply
from tests.support.routed import KEY, generate_with_coding_on
from tests.support.stack import TEMPLATE_ID, AwsStack, FakeClock, TestDeps, drain

CHALICE = Path(__file__).resolve().parents[2] / ".chalice"
FUNCTIONS = ("api_handler", "bearer", "run_phase", "on_dead_letter", "sweep")
HANDLERS = {"bearer", "run_phase", "on_dead_letter", "sweep"}  # any other function of app.py is a route
RESOURCE_CHECKED = {"sqs", "s3"}
# AWS authorizes these calls with the action on the left; moto checks an action of the call's own name:
# HeadBucket is s3:ListBucket; each Put of a TransactWriteItems is dynamodb:PutItem; SendMessageBatch is
# sqs:SendMessage (IAM has no action of its own for either).
MOTO_ALIASES = {
    "s3:ListBucket": ["s3:HeadBucket"],
    "dynamodb:PutItem": ["dynamodb:TransactWriteItems"],
    "sqs:SendMessage": ["sqs:SendMessageBatch"],
}


def running_function() -> str:
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == app_module.__file__:
            return frame.f_code.co_name if frame.f_code.co_name in HANDLERS else "api_handler"
        frame = frame.f_back
    raise AssertionError("an AWS call made outside any Lambda function")


class FunctionClient:
    """A boto3 client per function; each call goes through the running function's."""

    def __init__(self, by_function: dict[str, Any]) -> None:
        self._by_function = by_function

    def __getattr__(self, name: str) -> Any:
        return getattr(self._by_function[running_function()], name)


class FunctionDeps(TestDeps):
    sessions: dict[str, boto3.Session] = {}

    def client(self, service: str) -> Any:
        cache = self.__dict__.setdefault("_clients", {})
        if service not in cache:
            cache[service] = FunctionClient({fn: s.client(service) for fn, s in self.sessions.items()})
        return cache[service]


def resolved(policy: dict[str, Any], arns: dict[str, str]) -> dict[str, Any]:
    def resource(value: Any) -> str:
        if "Fn::GetAtt" in value:
            return arns[".".join(value["Fn::GetAtt"])]
        return re.sub(r"\$\{([^}]+)\}", lambda m: arns[m[1]], value["Fn::Sub"])

    statements = [
        {
            **s,
            "Action": s["Action"] + [alias for a in s["Action"] for alias in MOTO_ALIASES.get(a, [])],
            "Resource": resource(s["Resource"])
            if {a.split(":")[0] for a in s["Action"]} <= RESOURCE_CHECKED
            else "*",
        }
        for s in policy["Statement"]
    ]
    return {**policy, "Statement": statements}


def user_session(iam: Any, name: str, policy: dict[str, Any]) -> boto3.Session:
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=name, PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.Session(
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )


def test_every_function_works_with_only_its_own_policy(client, aws, deps):
    r = aws.resources

    def queue_arn(url: str) -> str:
        return aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    # Lambda itself sends the sweeper's failed ticks there (as the function): no code path here uses it.
    sweep_dlq_url = aws.sqs.get_queue_url(QueueName=r.queue_name.replace("-generation", "-sweep-dlq"))[
        "QueueUrl"
    ]
    arns = {
        "GenerationQueue.Arn": queue_arn(r.queue_url),
        "DeadLetterQueue.Arn": queue_arn(r.dlq_url),
        "SweepDeadLetterQueue.Arn": queue_arn(sweep_dlq_url),
        "SiteBucket.Arn": f"arn:aws:s3:::{r.bucket}",
    }
    iam = boto3.client("iam", region_name="us-east-1")
    admin = user_session(
        iam,
        "harness",
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    )
    sessions = {
        fn: user_session(iam, fn, resolved(json.loads((CHALICE / f"policy-{fn}.json").read_text()), arns))
        for fn in FUNCTIONS
    }
    harness = AwsStack(r, admin.client("sqs"), admin.client("dynamodb"), admin.client("s3"))
    functions = FunctionDeps(deps.settings)
    functions.sessions = sessions
    functions.__dict__["engine"] = deps.engine
    bootstrap.set_deps(functions)
    fake = FakeProvider()
    try:
        with enable_iam_authentication():
            with_policies_only(client, harness, functions, fake)
    finally:
        fake.stop()


def harness_db(deps: Any) -> Any:
    return deps.engine.begin()


def with_policies_only(client: Any, aws: AwsStack, deps: FunctionDeps, fake: FakeProvider) -> None:
    # api_handler creates the config and its secret; run_phase reads the key, writes logs and the site.
    config, done = generate_with_coding_on(
        {
            "name": "keyed coder",
            "provider": "openai_compatible",
            "model": "qwen2.5-coder-32b",
            "base_url": fake.url + "/v1",
            "api_key": KEY,
        },
        client,
        aws,
        deps,
        fake,
    )
    assert done["status"] == "succeeded", done
    assert fake.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert aws.s3.head_object(Bucket=aws.resources.bucket, Key=f"sites/{done['id']}/index.html")
    # run_phase made it live: the pointer (a write it could not make would be left to the sweeper)
    assert client.json("GET", f"/orders/{done['order_id']}/versions")["switch_pending"] is False

    # api_handler: health probes, queue counts, log pages, the key read by /test, rotated and removed.
    health = client.json("GET", "/health/dependencies")
    assert health["status"] == "ok", health
    assert client.json("GET", "/queue")["dead_letter"] == 0
    assert client.json("GET", f"/generations/{done['id']}/logs?limit=5")["items"]
    fake.reply(Scripted(body=openai_reply({"ok": True})))
    assert client.json("POST", f"/ai/configs/{config['id']}/test")["ok"] is True
    client.json("PATCH", f"/ai/configs/{config['id']}", {"api_key": "sk-rotated-000011112222"})
    client.json("PATCH", f"/ai/configs/{config['id']}", {"api_key": None})
    assert client.json("PATCH", f"/ai/configs/{config['id']}", {"api_key": "sk-again-333344445555"})[
        "has_api_key"
    ]

    routing = client.json("GET", "/ai/routing")
    client.json("PUT", "/ai/routing", {**routing, "routes": {**routing["routes"], "coding": TEMPLATE_ID}})

    # on_dead_letter: a message that gave up fails its generation (logs written, message archived).
    order = client.json(
        "POST", "/orders", {"business_name": "Dead Letter Bakery", "segment": "bakery"}, expect=201
    )
    gen = client.json("POST", f"/orders/{order['id']}/generations", expect=202)
    [message] = receive(aws.sqs, aws.resources.queue_url, 0)
    aws.sqs.delete_message(QueueUrl=aws.resources.queue_url, ReceiptHandle=message["ReceiptHandle"])
    aws.sqs.send_message(QueueUrl=aws.resources.dlq_url, MessageBody=message["Body"])
    [dead] = receive(aws.sqs, aws.resources.dlq_url, 0)
    dlq_arn = aws.sqs.get_queue_attributes(QueueUrl=aws.resources.dlq_url, AttributeNames=["QueueArn"])
    client.client.lambda_.invoke("on_dead_letter", sqs_event([dead], dlq_arn["Attributes"]["QueueArn"]))
    assert client.json("GET", f"/generations/{gen['id']}")["status"] == "failed"

    # api_handler redrives; sweep republishes what the worker has not claimed yet; run_phase finishes.
    client.json("POST", "/queue/dead-letter/redrive", expect=200)
    clock = FakeClock()
    clock.advance(120)
    deps.clock = clock
    client.client.lambda_.invoke("sweep", schedule_event())
    assert drain(client, aws) >= 2  # the redriven message and its republished copy (a no-op duplicate)
    assert client.json("GET", f"/generations/{gen['id']}")["status"] == "succeeded"

    # versions: api_handler publishes and rolls back (pointer, then prune with keep_versions=1: it deletes
    # the older version's files); the sweeper writes a pointer whose write failed.
    deps.settings = deps.settings.model_copy(update={"keep_versions": 1})
    client.json("PATCH", f"/orders/{order['id']}", {"auto_publish": False})
    newer = client.json("POST", f"/orders/{order['id']}/generations", expect=202)
    drain(client, aws)
    published = client.json("POST", f"/orders/{order['id']}/versions/{newer['id']}/publish")
    assert published["switch_pending"] is False and published["live_generation_id"] == newer["id"]
    assert [v["files_deleted_at"] is not None for v in published["items"]] == [False, True]
    assert aws.s3.list_objects_v2(Bucket=aws.resources.bucket, Prefix=f"sites/{gen['id']}/")["KeyCount"] == 0
    with harness_db(deps) as conn:
        conn.execute(
            text("UPDATE orders SET pointer_generation_id = NULL WHERE id = CAST(:o AS uuid)"),
            {"o": order["id"]},
        )
    client.client.lambda_.invoke("sweep", schedule_event())
    assert client.json("GET", f"/orders/{order['id']}/versions")["switch_pending"] is False
