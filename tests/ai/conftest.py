"""Loopback HTTP servers that play an AI provider: scripted replies, every request recorded."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest


@dataclass
class Scripted:
    status: int = 200
    body: Any = None  # dict/list -> JSON; str/bytes -> sent as is; a callable gets the Recorded request
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]  # lower-cased names
    json: Any


class FakeProvider:
    def __init__(self) -> None:
        self.script: list[Scripted] = []
        self.requests: list[Recorded] = []
        self.stopping = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorded = Recorded(self.path, {k.lower(): v for k, v in self.headers.items()},
                                    json.loads(raw) if raw else None)
                fake.requests.append(recorded)
                reply = fake.script.pop(0) if fake.script else Scripted(500, {"error": "no scripted reply"})
                if reply.delay and fake.stopping.wait(reply.delay):
                    return
                body = reply.body(recorded) if callable(reply.body) else reply.body
                data = body if isinstance(body, bytes) else (
                    body.encode() if isinstance(body, str) else json.dumps(body).encode())
                self.send_response(reply.status)
                for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that timed out and left is expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def reply(self, *replies: Scripted) -> FakeProvider:
        self.script.extend(replies)
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def fake() -> Iterator[FakeProvider]:
    server = FakeProvider()
    yield server
    server.stop()
