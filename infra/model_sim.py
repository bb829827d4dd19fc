"""The model simulator: a loopback server that plays a hosted model, realistically and with faults on request.

    python -m infra.model_sim [--port 0] [--ttft 0.6] [--tps 70] [--seed 0] [--log FILE]
                              [--rate-429 R] [--rate-500 R] [--rate-hang R] [--rate-bad-json R] [--rate-a11y R]
                              [--rate-vague-link R]

It speaks OpenAI Chat Completions (POST /v1/chat/completions, /chat/completions), Anthropic Messages
(POST /v1/messages, tool use) and Cloudflare Workers AI (POST /client/v4/accounts/{acct}/ai/run/{model}),
so every sitegen provider client can point at it. The answer is what the offline template writes for
the request: the data block of the latest user turn that has one (chalicelib.ai.prompts.parse_data)
goes to chalicelib.ai.template.answer_data, the only sitegen code it runs (pure: no database, no
services). A JSON-repair turn has no new data block, so it gets the same answer again. A message with
no data block is answered only when its schema is Ping ({"ok": true}); anything else is a 400.

Timing: the reply (headers included) is sent after ttft + output tokens / tps seconds. Tokens are
estimated at 3.5 characters a token and reported in `usage`. `max_tokens` (or `max_completion_tokens`)
is honoured: a longer answer is cut (finish_reason "length", stop_reason "max_tokens", or a truncated
string for Workers AI). Any key is accepted, unless `--require-key` (the key in SITEGEN_SIM_API_KEY).

Faults: see infra/sim_faults.py. Control, all JSON: GET /_sim/health; GET/POST /_sim/faults (rates,
optional "seed"); GET/POST /_sim/speed ({"ttft", "tps"}); GET /_sim/log (every request: id, api,
schema, part, findings, started, finished, ttft, tokens_in, tokens_out, status, fault, ...);
DELETE /_sim/log. `--log FILE` also appends each finished entry to a JSONL file. `critical_path`
turns a log into the time sitegen's chain of dependent model calls takes.

In tests: `sim = start_sim(ttft=0, tps=50_000, rate_429=1.0)`; `sim.url`, `sim.log()`,
`sim.set_faults(...)`, `sim.set_speed(...)`, `sim.clear_log()`, `sim.stop()`.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import itertools
import json
import os
import re
import select
import signal
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from chalicelib.ai.prompts import parse_data
from chalicelib.ai.template import answer_data
from infra import sim_wire as wire
from infra.sim_faults import FAULTS, Faults, break_a11y, break_link_text, break_schema, review_notes

DEFAULT_TTFT, DEFAULT_TPS = 0.6, 70.0
ENV_TTFT, ENV_TPS, ENV_KEY = "SITEGEN_SIM_TTFT", "SITEGEN_SIM_TPS", "SITEGEN_SIM_API_KEY"
POLL_S = 0.05  # how often a waiting request checks whether its client left
CLOUDFLARE_PATH = re.compile(r"^/client/v4/accounts/([^/]+)/ai/run/(.+)$")
API_PATHS = {"/v1/chat/completions": "openai", "/chat/completions": "openai", "/v1/messages": "anthropic"}


@dataclass
class Outcome:
    """What one model request gets: the reply and how long to take, plus what the log records."""

    status: int
    body: dict[str, Any] | None  # None: no reply at all (the hang fault)
    delay: float
    entry: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def _order_key(data: dict[str, Any]) -> str:
    """A short stable id of the order a request is for, so a log can be split per generation."""
    text = json.dumps(data.get("order"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def find_data(call: wire.Call) -> dict[str, Any] | None:
    """The data block of the latest user text that has one."""
    for text in wire.user_texts(call):
        try:
            return parse_data(text)
        except ValueError:
            continue
    return None


class Model:
    """The simulator's state and decisions, without HTTP: speed, faults, the log."""

    def __init__(
        self,
        ttft: float,
        tps: float,
        faults: Faults,
        log_file: str | Path | None = None,
        require_key: str | None = None,
        quiet: bool = True,
    ) -> None:
        self.ttft, self.tps = DEFAULT_TTFT, DEFAULT_TPS
        self.set_speed(ttft, tps)
        self.faults, self.require_key, self.quiet = faults, require_key, quiet
        self.log_file = Path(log_file) if log_file else None
        self.entries: list[dict[str, Any]] = []
        self.stopping = threading.Event()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def set_speed(self, ttft: float | None = None, tps: float | None = None) -> dict[str, float]:
        if ttft is not None and not (isinstance(ttft, (int, float)) and 0 <= ttft <= 600):
            raise ValueError(f"ttft must be 0..600 seconds, not {ttft!r}")
        if tps is not None and not (isinstance(tps, (int, float)) and tps > 0):
            raise ValueError(f"tps must be above 0, not {tps!r}")
        self.ttft = float(ttft) if ttft is not None else self.ttft
        self.tps = float(tps) if tps is not None else self.tps
        return {"ttft": self.ttft, "tps": self.tps}

    def key_ok(self, headers: Any) -> bool:
        if not self.require_key:
            return True
        auth = str(headers.get("Authorization") or "")
        given = auth[7:] if auth.lower().startswith("bearer ") else str(headers.get("x-api-key") or "")
        return hmac.compare_digest(given.encode(), self.require_key.encode())

    # --- one model request -------------------------------------------------------------------
    def respond(self, api: str, body: Any, model: str | None = None) -> Outcome:
        try:
            call = wire.read_call(api, body, model)
        except ValueError as exc:
            return Outcome(400, wire.error(api, 400, str(exc)), 0.0, {"id": self.next_id(), "api": api})
        data = find_data(call)
        entry: dict[str, Any] = {
            "id": self.next_id(),
            "api": api,
            "model": call.model,
            "repair": wire.is_repair(call),
        }
        try:
            if data is None:
                if not wire.is_ping(call):
                    raise ValueError(
                        "no <sitegen-data> block in the user messages, and the answer schema "
                        "is not Ping: the simulator cannot answer this request"
                    )
                answer: dict[str, Any] | str = {"ok": True}
                entry.update(schema="Ping", part=None, findings=0, order=None)
            else:
                answer = answer_data(data)
                if data.get("answer_schema") == "Review":
                    answer = review_notes(answer, (data.get("inputs") or {}).get("code"))
                entry.update(
                    schema=str(data.get("answer_schema")),
                    part=data.get("part"),
                    findings=len(data.get("findings_to_fix") or []),
                    order=_order_key(data),
                )
        except (KeyError, ValueError, TypeError) as exc:
            message = f"cannot answer: {type(exc).__name__}: {exc}"[:500]
            return Outcome(400, wire.error(api, 400, message), 0.0, {**entry, "fault": None})
        fault = self.faults.draw(
            repair=entry["repair"], markup=entry["schema"] == "PageMarkup", fixing=bool(entry["findings"])
        )
        entry["fault"] = fault
        tokens_in = wire.prompt_tokens(call)
        entry.update(tokens_in=tokens_in, tokens_out=0, ttft=0.0)
        if fault in ("429", "500"):
            status = int(fault)
            message = (
                "Rate limit reached (simulated)" if status == 429 else "The server had an error (simulated)"
            )
            headers = {"Retry-After": "1"} if status == 429 else {}
            return Outcome(status, wire.error(api, status, message), 0.0, entry, headers)
        if fault == "hang":
            return Outcome(0, None, float("inf"), entry)
        if fault and fault.startswith("bad_json") and isinstance(answer, dict):
            variant = "missing_field" if api == "anthropic" else fault.split(":")[1]
            answer = break_schema(answer, call.schema, variant)
        elif fault == "a11y" and isinstance(answer, dict):
            answer = break_a11y(answer)
        elif fault == "vague_link" and isinstance(answer, dict):
            answer = break_link_text(answer)
        text = wire.answer_text(answer)
        tokens_out, cut_text = wire.tokens(text), None
        if call.max_tokens is not None and tokens_out > call.max_tokens:
            tokens_out, cut_text = call.max_tokens, text[: int(call.max_tokens * wire.CHARS_PER_TOKEN)]
        ttft, tps = self.ttft, self.tps
        entry.update(tokens_out=tokens_out, ttft=ttft, cut=cut_text is not None)
        return Outcome(
            200,
            wire.reply(call, entry["id"], answer, cut_text, tokens_in, tokens_out),
            ttft + tokens_out / tps,
            entry,
        )

    # --- the log -----------------------------------------------------------------------------
    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def begin(self, entry: dict[str, Any], started: float) -> dict[str, Any]:
        with self._lock:
            entry = {**entry, "started": started, "finished": None, "status": None}
            self.entries.append(entry)
        return entry

    def finish(self, entry: dict[str, Any], status: int | None, outcome: str) -> None:
        with self._lock:
            entry.update(finished=time.time(), status=status, outcome=outcome)
            if self.log_file:
                with self.log_file.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        if not self.quiet:
            print(
                json.dumps(
                    {
                        k: entry.get(k)
                        for k in ("id", "api", "schema", "part", "status", "fault", "tokens_out", "outcome")
                    }
                ),
                flush=True,
            )

    def log(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self.entries]

    def clear_log(self) -> None:
        with self._lock:
            self.entries.clear()


# --- the critical path -----------------------------------------------------------------------------
CHAIN: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("brief", ("Brief",)),
    ("sitemap", ("Sitemap",)),
    ("content", ("PageCopy", "Content")),
    ("code", ("PageMarkup", "Stylesheet", "SiteFiles")),
    ("review", ("Review",)),
)
STEP_OF = {schema: step for step, schemas in CHAIN for schema in schemas}


def step_durations(entries: Iterable[dict[str, Any]]) -> dict[str, float]:
    """Seconds each step of sitegen's chain takes in a log of ONE generation (filter by `order`).

    The chain is brief -> sitemap -> content parts (PageCopy) -> code parts (PageMarkup, Stylesheet)
    -> review: a step starts when the one before it is complete, its parts run side by side. A part's
    time is the sum of its calls (finished - started): its retries (429, 500, timeouts) and repairs
    (JSON repair, findings to fix) add up. A step's time is its longest part's. Calls still running,
    and calls of other schemas (Ping), do not count; neither does waiting between retries.
    """
    parts: dict[tuple[str, Any], float] = {}
    for entry in entries:
        step = STEP_OF.get(str(entry.get("schema")))
        if step is None or entry.get("finished") is None or entry.get("started") is None:
            continue
        key = (step, entry.get("part"))
        parts[key] = parts.get(key, 0.0) + max(0.0, float(entry["finished"]) - float(entry["started"]))
    return {
        step: max((s for (name, _), s in parts.items() if name == step), default=0.0) for step, _ in CHAIN
    }


def critical_path(entries: Iterable[dict[str, Any]]) -> float:
    """Seconds of the longest chain of dependent model calls in a log of one generation: the sum of
    `step_durations` (the least time the generation's model calls can take, whatever the parallelism)."""
    return sum(step_durations(entries).values())


# --- HTTP ------------------------------------------------------------------------------------------
def _api_of(path: str) -> tuple[str | None, str | None]:
    if path in API_PATHS:
        return API_PATHS[path], None
    match = CLOUDFLARE_PATH.match(path)
    return ("cloudflare", unquote(match.group(2))) if match else (None, None)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sitegen-model-sim"
    server: Server

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        model, path = self.server.model, urlsplit(self.path).path
        views = {
            "/_sim/health": lambda: {"ok": True, **self.server.settings()},
            "/_sim/log": model.log,
            "/_sim/faults": lambda: dict(model.faults.rates),
            "/_sim/speed": lambda: {"ttft": model.ttft, "tps": model.tps},
            "/v1/models": lambda: {"object": "list", "data": [{"id": "sim", "object": "model"}]},
        }
        view = views.get(path)
        self._json(200, view()) if view else self._json(404, {"error": f"no such path {path}"})

    def do_DELETE(self) -> None:  # noqa: N802
        if urlsplit(self.path).path != "/_sim/log":
            return self._json(404, {"error": "no such path"})
        self.server.model.clear_log()
        self._json(200, {"ok": True})

    def do_POST(self) -> None:  # noqa: N802
        started = time.time()
        path = urlsplit(self.path).path
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        if path in ("/_sim/faults", "/_sim/speed"):
            return self._control(path, body)
        api, model_name = _api_of(path)
        if api is None:
            return self._json(404, {"error": {"message": f"no such path {path}", "type": "not_found_error"}})
        model = self.server.model
        if not model.key_ok(self.headers):
            return self._json(401, wire.error(api, 401, "invalid API key (simulated)"))
        outcome = model.respond(api, body, model_name)
        entry = model.begin(outcome.entry, started)
        ended = self._wait(outcome.delay)
        if ended != "done":
            self.close_connection = True
            return model.finish(entry, None, ended)
        # logged before the reply is written: a client that has its answer finds the call in the log
        model.finish(entry, outcome.status, "answered")
        try:
            self._json(outcome.status, outcome.body, outcome.headers)
        except OSError:
            model.finish(entry, None, "client_gone")

    def _control(self, path: str, body: Any) -> None:
        model = self.server.model
        try:
            if not isinstance(body, dict):
                raise ValueError("send a JSON object")
            result = model.faults.set(**body) if path == "/_sim/faults" else model.set_speed(**body)
        except (TypeError, ValueError) as exc:
            return self._json(400, {"error": str(exc)})
        self._json(200, result)

    def _wait(self, seconds: float) -> str:
        """Sleep for the reply's time: "done", or "client_gone" / "stopped" if that came first."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.server.model.stopping.wait(min(left, POLL_S)):
                return "stopped"
            if self._client_gone():
                return "client_gone"
        return "done"

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one JSON line per model request instead (and never a header)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, model: Model) -> None:
        self.model = model
        super().__init__(("127.0.0.1", port), Handler)

    def settings(self) -> dict[str, Any]:
        return {"ttft": self.model.ttft, "tps": self.model.tps, "faults": dict(self.model.faults.rates)}

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and left is expected here


class Sim:
    """A running simulator (a server thread in this process)."""

    def __init__(
        self,
        port: int = 0,
        ttft: float | None = None,
        tps: float | None = None,
        seed: int = 0,
        log_file: str | Path | None = None,
        require_key: str | None = None,
        quiet: bool = True,
        **faults: float,
    ) -> None:
        ttft = ttft if ttft is not None else float(os.environ.get(ENV_TTFT) or DEFAULT_TTFT)
        tps = tps if tps is not None else float(os.environ.get(ENV_TPS) or DEFAULT_TPS)
        self.model = Model(ttft, tps, Faults(seed, **faults), log_file, require_key, quiet)
        self.server = Server(port, self.model)
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="model-sim", daemon=True
        )

    def start(self) -> Sim:
        self.thread.start()
        return self

    def log(self) -> list[dict[str, Any]]:
        return self.model.log()

    def clear_log(self) -> None:
        self.model.clear_log()

    def set_faults(self, seed: int | None = None, **rates: float) -> dict[str, float]:
        return self.model.faults.set(seed, **rates)

    def set_speed(self, ttft: float | None = None, tps: float | None = None) -> dict[str, float]:
        return self.model.set_speed(ttft, tps)

    def stop(self) -> None:
        self.model.stopping.set()  # releases hanging requests
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> Sim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_sim(ttft: float | None = None, tps: float | None = None, **kw: Any) -> Sim:
    """A simulator serving on a free loopback port. Keywords: port, seed, log_file, require_key, quiet
    and the fault rates (rate_429, rate_500, rate_hang, rate_bad_json, rate_a11y, rate_vague_link)."""
    return Sim(ttft=ttft, tps=tps, **kw).start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument(
        "--ttft",
        type=float,
        default=None,
        help=f"time to first token, s (default {DEFAULT_TTFT}, or {ENV_TTFT})",
    )
    parser.add_argument(
        "--tps",
        type=float,
        default=None,
        help=f"output tokens a second (default {DEFAULT_TPS:g}, or {ENV_TPS})",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault draws (a run can be replayed)")
    parser.add_argument(
        "--log", default=None, metavar="FILE", help="append every request's timing to this JSONL file"
    )
    parser.add_argument("--require-key", action="store_true", help=f"accept only the key in {ENV_KEY}")
    parser.add_argument("--quiet", action="store_true", help="no line per request on stdout")
    for name in FAULTS:
        parser.add_argument(
            "--" + name.replace("_", "-"),
            type=float,
            default=0.0,
            metavar="R",
            help=f"fault rate 0..1 ({name.removeprefix('rate_').replace('_', ' ')})",
        )
    args = parser.parse_args(argv)
    key = os.environ.get(ENV_KEY) if args.require_key else None
    if args.require_key and not key:
        parser.error(f"--require-key needs the key in {ENV_KEY}")
    try:
        sim = Sim(
            args.port,
            args.ttft,
            args.tps,
            args.seed,
            args.log,
            key,
            args.quiet,
            **{name: getattr(args, name) for name in FAULTS},
        ).start()
    except ValueError as exc:
        parser.error(str(exc))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"model simulator: {sim.url} (ttft {sim.model.ttft:g} s, {sim.model.tps:g} tokens/s)", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    sim.stop()


if __name__ == "__main__":
    main()
