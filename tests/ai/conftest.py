"""Loopback HTTP servers that play an AI provider: scripted replies, every request recorded."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support.stack import reset_database


@dataclass
class Scripted:
    status: int = 200
    body: Any = None  # dict/list -> JSON; str/bytes -> sent as is; a callable gets the Recorded request
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    stream: Callable[[], Iterator[bytes]] | None = None  # chunks sent without Content-Length, until closed


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]  # lower-cased names
    json: Any


class FakeProvider:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.script: list[Scripted] = []
        self.requests: list[Recorded] = []
        self.streamed = 0  # bytes of streamed bodies the client took
        self.stopping = threading.Event()

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that timed out and left is expected here

        self.server = Server(("127.0.0.1", 0), _handler(self))
        self.port = self.server.server_address[1]
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def reply(self, *replies: Scripted) -> FakeProvider:
        self.script.extend(replies)
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


def _handler(fake: FakeProvider) -> type[BaseHTTPRequestHandler]:
    """The request handler that answers with `fake`'s script and records each request."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            recorded = Recorded(
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                json.loads(raw) if raw else None,
            )
            fake.requests.append(recorded)
            reply = fake.script.pop(0) if fake.script else Scripted(500, {"error": "no scripted reply"})
            if reply.delay and fake.stopping.wait(reply.delay):
                return
            if reply.stream is not None:
                return self.stream(reply, reply.stream)
            data = _encoded(reply.body(recorded) if callable(reply.body) else reply.body)
            self.head(reply, {"Content-Length": str(len(data))})
            self.wfile.write(data)

        def head(self, reply: Scripted, extra: dict[str, str]) -> None:
            self.send_response(reply.status)
            for name, value in {"Content-Type": "application/json", **reply.headers, **extra}.items():
                self.send_header(name, value)
            self.end_headers()

        def stream(self, reply: Scripted, chunks: Callable[[], Iterator[bytes]]) -> None:
            self.head(reply, {})
            try:
                for chunk in chunks():
                    if fake.stopping.is_set():
                        return
                    self.wfile.write(chunk)
                    fake.streamed += len(chunk)
            except OSError:  # the client stopped reading and closed the connection
                pass

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def _encoded(body: Any) -> bytes:
    """A scripted body as sent: bytes as they are, a str encoded, anything else as JSON."""
    if isinstance(body, bytes):
        return body
    return body.encode() if isinstance(body, str) else json.dumps(body).encode()


@pytest.fixture()
def fake() -> Iterator[FakeProvider]:
    server = FakeProvider()
    yield server
    server.stop()


@pytest.fixture()
def official_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loopback server stands in for a provider's official host, whose own error text sitegen quotes
    (any other host's answer is reduced to its status: chalicelib/ai/http.py)."""
    from chalicelib.ai import egress

    monkeypatch.setattr(egress, "is_official", lambda url: True)


@pytest.fixture()
def ai(deps: Any) -> Iterator[Any]:
    yield deps  # `deps` starts from the migration's AI seed
    reset_database(deps)  # the database outlives the test: leave the seed as it was
