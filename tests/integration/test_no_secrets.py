"""No secret in any response, log or stored error, after a realistic session on the real local stack.

The session (real HTTP to chalice local, a real worker, moto, Postgres): orders, a generation that
succeeds, an AI config whose provider (a loopback fake) echoes the API key back in its errors, the
config's test call, a generation routed to it that fails and is retried, a key rotation, the doctor,
wrong tokens (some containing the real one), bodies with the key that are refused. Then every
response (status, headers, body), every log line of the generations (through the API, and the whole
DynamoDB logs table), the stack's process logs (supervisor, chalice local, worker, scheduler, moto,
Postgres) and every row of every table are searched for: the API token, the AI keys, the AWS secret,
and any 12-character piece of them. A hit fails the test, naming where it was found.

One thing is deliberately outside the search: the fake provider, which must receive the key to do
its job. (The supervisor says where the token is kept, never the token.)

Unknown routes are a separate test: chalice local (like API Gateway's default
MISSING_AUTHENTICATION_TOKEN response) echoes the Authorization header of a request for a path
no route matches; infra/chalice_local.py serves a fixed 404 instead.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.ai.conftest import FakeProvider, Scripted
from tests.support.local_stack import LocalStack
from tests.support.orders import ORDER

AI_KEY = "sk-test-SECRET-abcdef123456"
ROTATED_KEY = "sk-test-ROTATED-fedcba654321"
PIECE = 12  # any run of this many characters of a secret counts as a leak
ENV_DUMP = re.compile(r"AWS_SECRET_ACCESS_KEY['\"]?\s*[:=]")


@dataclass
class Session:
    """Talks to the stack over HTTP and keeps everything that came back."""

    stack: LocalStack
    evidence: list[tuple[str, str]] = field(default_factory=list)

    @property
    def token(self) -> str:
        return str(self.stack.info["token"])

    def http(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = "default",
        authorization: str | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if authorization is not None:
            headers["Authorization"] = authorization
        elif token is not None:
            headers["Authorization"] = f"Bearer {self.token if token == 'default' else token}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(
            self.stack.info["api_url"] + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, response_headers, payload = response.status, response.headers, response.read()
        except urllib.error.HTTPError as err:
            status, response_headers, payload = err.code, err.headers, err.read()
        text = payload.decode("utf-8", "replace")
        self.evidence.append(
            (f"response to {method} {path} ({status})", f"{status}\n{response_headers}\n{text}")
        )
        try:
            return status, json.loads(payload) if payload else None
        except ValueError:
            return status, text

    def expect(self, status: int, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        got, payload = self.http(method, path, body, **kw)
        assert got == status, (method, path, got, payload)
        return payload

    def wait_for(
        self, generation_id: str, statuses: tuple[str, ...], timeout_s: float = 90
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            gen = self.expect(200, "GET", f"/generations/{generation_id}")
            if gen["status"] in statuses:
                return gen
            time.sleep(0.3)
        raise AssertionError(f"generation {generation_id} not in {statuses} after {timeout_s}s: {gen}")

    def all_logs(self, generation_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        after = ""
        while True:
            page = self.expect(200, "GET", f"/generations/{generation_id}/logs?after={after}&limit=50")
            items += page["items"]
            if not page["items"]:
                return items
            after = page["next_cursor"]


def pieces(secret: str) -> set[str]:
    return {secret[i : i + PIECE] for i in range(len(secret) - PIECE + 1)} | {secret}


def leaks(evidence: list[tuple[str, str]], secrets: dict[str, str]) -> list[str]:
    """'<which secret> in <where>: <context>' for every hit; the secret itself is masked."""
    found = []
    for name, secret in secrets.items():
        needles = pieces(secret)
        for where, text in evidence:
            for needle in needles:
                at = text.find(needle)
                if at >= 0:
                    context = text[max(0, at - 80) : at + len(needle) + 80].replace(needle, f"<{name}>")
                    found.append(f"{name} in {where}: ...{context}...")
                    break
    for where, text in evidence:
        if ENV_DUMP.search(text):
            found.append(f"an environment dump (AWS_SECRET_ACCESS_KEY=...) in {where}")
    return found


def process_logs(state_dir: Path) -> list[tuple[str, str]]:
    """supervisor.log, logs/*.log (chalice local, worker, scheduler, moto, sites...), Postgres' log."""
    found = []
    for path in sorted(state_dir.rglob("*")):
        if path.is_file() and (path.suffix == ".log" or path.name == "log"):
            found.append((str(path.relative_to(state_dir)), path.read_text("utf-8", "replace")))
    assert {"supervisor.log", "logs/api.log", "logs/worker-0.log"} <= {where for where, _ in found}
    return found


def database_rows(database_url: str) -> list[tuple[str, str]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            tables = (
                conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
                .scalars()
                .all()
            )
            return [
                (
                    f"table {table}",
                    "\n".join(conn.execute(text(f'SELECT t::text FROM "{table}" t')).scalars()),
                )
                for table in tables
            ]
    finally:
        engine.dispose()


def dynamodb_log_items(info: dict[str, Any]) -> list[tuple[str, str]]:
    import boto3

    client = boto3.client(
        "dynamodb",
        endpoint_url=info["aws_endpoint_url"],
        region_name=info["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    items = [
        item
        for page in client.get_paginator("scan").paginate(TableName=info["logs_table"])
        for item in page["Items"]
    ]
    return [(f"DynamoDB table {info['logs_table']}", json.dumps(items))]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProvider]:
    server = FakeProvider()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    local = LocalStack(tmp_path_factory.mktemp("no-secrets-stack"), ["--schedule-interval", "2"]).start()
    yield local
    local.stop()


def echoing(key: str) -> list[Scripted]:
    """A provider that repeats the key in every kind of error."""
    return [
        Scripted(401, {"error": {"message": f"Incorrect API key provided: {key}"}}),
        Scripted(
            500, f"upstream failed; request had Authorization: Bearer {key}", {"Content-Type": "text/plain"}
        ),
        Scripted(400, {"error": {"message": f"bad request from key {key}", "type": "invalid_request_error"}}),
    ]


def test_no_secret_in_responses_logs_or_stored_errors(stack: LocalStack, fake: FakeProvider) -> None:
    s = Session(stack)
    token = s.token
    assert s.expect(200, "GET", "/health", token=None)["status"] == "ok"
    s.expect(200, "GET", "/openapi.json", token=None)

    # orders and a generation that succeeds, with its logs
    order = s.expect(201, "POST", "/orders", {**ORDER, "external_ref": "crm-secret-test"})
    s.expect(409, "POST", "/orders", {**ORDER, "external_ref": "crm-secret-test"})
    s.expect(422, "POST", "/orders", {"segment": 12})
    s.expect(400, "POST", "/orders", raw=b'{"business_name": "x", ')
    good = s.expect(202, "POST", f"/orders/{order['id']}/generations")
    s.wait_for(good["id"], ("succeeded",))

    # an AI config whose provider echoes the key in its errors; the key is refused where it must be
    leaky = s.expect(
        201,
        "POST",
        "/ai/configs",
        {
            "name": "Leaky",
            "provider": "openai",
            "model": "gpt-4o-mini",
            "base_url": fake.url,
            "api_key": AI_KEY,
            "params": {"timeout_s": 5},
        },
    )
    assert leaky["has_api_key"] is True
    s.expect(
        409, "POST", "/ai/configs", {"name": "Leaky", "provider": "openai", "model": "m", "api_key": AI_KEY}
    )
    s.expect(
        422, "POST", "/ai/configs", {"name": "", "provider": "opnai", "api_key": AI_KEY, "extra": AI_KEY}
    )
    s.expect(
        422,
        "POST",
        "/ai/configs",
        {"name": "x", "provider": "openai", "model": "m", "api_key": AI_KEY + "\u0000"},
    )
    s.expect(400, "POST", "/ai/configs", raw=f'{{"name": "x", "api_key": "{AI_KEY}"'.encode())
    s.expect(400, "POST", "/ai/configs", raw=f'{{"name": "x", "api_key": "{AI_KEY}\xff"}}'.encode("latin-1"))
    s.expect(422, "PATCH", f"/ai/configs/{leaky['id']}", {"api_key": AI_KEY, "base_url": "ftp://x"})

    for scripted in echoing(AI_KEY):  # the test call through every failure shape
        fake.reply(scripted)
        result = s.expect(200, "POST", f"/ai/configs/{leaky['id']}/test")
        assert result["ok"] is False and result["error"]

    # a generation routed to it fails (permanent 401), and its retry fails the same way
    routing = s.expect(200, "GET", "/ai/routing")
    s.expect(
        200,
        "PUT",
        "/ai/routing",
        {"routes": {**routing["routes"], "planning": leaky["id"]}, "fallback": None},
    )
    fake.script.clear()  # whatever the test calls left (a retried 500 takes more than one reply)
    fake.reply(*[Scripted(401, {"error": {"message": f"Incorrect API key provided: {AI_KEY}"}})] * 8)
    bad = s.expect(202, "POST", f"/orders/{order['id']}/generations")
    failed = s.wait_for(bad["id"], ("failed",))
    assert failed["error"]
    s.expect(202, "POST", f"/generations/{bad['id']}/retry")
    s.wait_for(bad["id"], ("failed",))
    s.all_logs(good["id"])
    s.all_logs(bad["id"])
    s.expect(200, "GET", f"/orders/{order['id']}/generations")

    # rotation, reads, the doctor, then put things back
    rotated = s.expect(200, "PATCH", f"/ai/configs/{leaky['id']}", {"api_key": ROTATED_KEY})
    assert rotated["api_key_hint"] == "\u2026" + ROTATED_KEY[-4:]
    for scripted in echoing(ROTATED_KEY)[:1]:
        fake.reply(scripted)
        s.expect(200, "POST", f"/ai/configs/{leaky['id']}/test")
    s.expect(200, "GET", "/ai/configs")
    s.expect(200, "GET", f"/ai/configs/{leaky['id']}")
    s.expect(200, "GET", "/ai/doctor")
    s.expect(200, "GET", "/ai/spend")
    s.expect(200, "GET", "/queue/dead-letters")
    s.expect(409, "DELETE", f"/ai/configs/{leaky['id']}")
    s.expect(200, "PUT", "/ai/routing", routing)
    s.expect(200, "GET", "/queue")
    s.expect(405, "DELETE", "/orders")  # a known path, a method it lacks

    # wrong tokens, some of them holding the real one or the AI key
    for authorization in [
        f"Bearer {token}x",
        f"Bearer x{token}",
        token,
        f"Token {token}",
        "Basic " + base64.b64encode(f"crm:{token}".encode()).decode(),
        f"Bearer {AI_KEY}",
        "Bearer",
    ]:
        assert s.expect(401, "GET", "/orders", authorization=authorization) == {"message": "Unauthorized"}
    s.expect(401, "GET", f"/orders/{order['id']}", token=None)
    s.expect(401, "POST", f"/ai/configs/{leaky['id']}/test", authorization=f"Bearer {AI_KEY}")
    s.expect(204, "DELETE", f"/ai/configs/{leaky['id']}")
    s.expect(404, "GET", f"/ai/configs/{leaky['id']}")

    sent = [r.headers.get("authorization", "") for r in fake.requests]
    assert any(AI_KEY in h for h in sent) and any(ROTATED_KEY in h for h in sent)  # the keys were in play

    time.sleep(1)  # let the worker and chalice local flush their last lines
    evidence = (
        s.evidence
        + process_logs(stack.state_dir)
        + database_rows(stack.info["database_url"])
        + dynamodb_log_items(stack.info)
    )
    secrets = {"the API token": token, "the AI key": AI_KEY, "the rotated AI key": ROTATED_KEY}
    aws_secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
    if len(aws_secret) >= PIECE:  # the stack's own is "local" (infra/local.py); a real one from the env
        secrets["the AWS secret key"] = aws_secret
    assert len(s.evidence) > 50 and sum(len(text) for _, text in evidence) > 10_000
    assert leaks([("canary", f"x{AI_KEY[3 : 3 + PIECE]}y")], secrets)  # the search does find a piece
    assert leaks(evidence, secrets) == []


UNKNOWN_ROUTES = [
    ("GET", "/nope"),
    ("GET", "/orders/x/y/z"),
    ("POST", "/orders/x/generations/y"),
    ("GET", "/ORDERS"),
    ("DELETE", "/generations"),
    ("PUT", "/ai/configs/x/test/y"),
    ("GET", "/openapi.json/x"),
]


def test_unknown_routes_do_not_echo_the_authorization_header(stack: LocalStack) -> None:
    s = Session(stack)
    for method, path in UNKNOWN_ROUTES:
        for authorization in [f"Bearer {s.token}", f"Bearer {AI_KEY}", s.token]:
            status, body = s.http(method, path, authorization=authorization)
            assert status == 404 and body["code"] == "not_found" and body["message"], (
                method,
                path,
                status,
                body,
            )
    secrets = {"the API token": s.token, "the AI key": AI_KEY}
    assert leaks(s.evidence + process_logs(stack.state_dir), secrets) == []
