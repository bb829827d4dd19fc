"""The supervisor says "sitegen is up" only when the API on its port is its own (infra/local.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from infra.local import StartError, check_own_api


@pytest.fixture()
def api() -> Iterator[tuple[ThreadingHTTPServer, dict[str, str]]]:
    """A real HTTP server answering /health like the API, with the instance id in `health`."""
    health = {"status": "ok", "instance": "an-old-run"}

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = json.dumps(health).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, health
    server.shutdown()
    server.server_close()


def test_an_api_left_on_the_port_by_another_run_is_not_taken_for_this_one(api):
    server, health = api
    port = server.server_address[1]
    with pytest.raises(
        StartError, match=f"^port {port} is answered by another process, not this run's API by pid"
    ):
        check_own_api(f"http://127.0.0.1:{port}", "this-run")
    health["instance"] = "this-run"
    check_own_api(f"http://127.0.0.1:{port}", "this-run")
