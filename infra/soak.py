"""Soak the real local stack under chaos and check that nothing is lost, stuck or done twice.

  python -m infra.soak [--generations 200] [--workers 4] [--chaos 0.2] [--state-dir .sitegen-soak]
                       [--worker-timeout S]

Starts `python -m infra.local` on a fresh state dir (embedded PostgreSQL unless DATABASE_URL is
set), counts in Postgres every time a phase's output is stored (a trigger), creates the orders and
generations through the HTTP API, waits until every generation has ended, then checks through the
API and the database:
  lost        a generation the API cannot show, or without a terminal status at the deadline
  stuck       a generation still queued/running at the deadline
  duplicated  a phase whose output was stored more than once, or a phase_succeeded log line twice
  unexplained a failed generation without a reason, or without exactly one generation_failed line
and that the outbox and the queue are empty. Prints a table, writes `<state-dir>/soak.json`, and
exits 1 when any check fails.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from infra.write_counter import COUNT_OUTPUT_WRITES

TERMINAL = {"succeeded", "failed", "cancelled"}


class Api:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def logs(self, generation_id: str) -> list[dict[str, Any]]:
        items, after = [], ""
        while True:
            page = self.call("GET", f"/generations/{generation_id}/logs?after={after}&limit=200")
            items += page["items"]
            if not page["items"]:
                return items
            after = page["next_cursor"]


def start_stack(state: Path, args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    from infra.local import free_port

    state.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.executable,
        "-m",
        "infra.local",
        "--port",
        str(args.port or free_port()),
        "--site-port",
        str(free_port()),
        "--state-dir",
        str(state),
        "--workers",
        str(args.workers),
        "--chaos",
        str(args.chaos),
        "--worker-timeout",
        str(args.worker_timeout),
        "--schedule-interval",
        "5",
    ]
    with open(state / "supervisor.log", "ab") as log:  # the child keeps its own copy
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    stack_file = state / "stack.json"
    deadline = time.monotonic() + 180
    while not stack_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the local stack did not start; see {state / 'supervisor.log'}")
        time.sleep(0.2)
    return proc, json.loads(stack_file.read_text())


def run(args: argparse.Namespace) -> dict[str, Any]:
    state = Path(args.state_dir).resolve()
    shutil.rmtree(state, ignore_errors=True)
    proc, stack = start_stack(state, args)
    try:
        engine = create_engine(stack["database_url"])
        with engine.begin() as conn:
            conn.execute(text(COUNT_OUTPUT_WRITES))
        api = Api(stack["api_url"], stack["token"])
        started = time.monotonic()
        ids = []
        for n in range(args.generations):
            order = api.call(
                "POST",
                "/orders",
                {
                    "business_name": f"Soak Business {n}",
                    "segment": ["bakery", "dentist", "law firm"][n % 3],
                    "services": ["One", "Two"],
                    "locale": ["pt-BR", "en"][n % 2],
                },
            )
            ids.append(api.call("POST", f"/orders/{order['id']}/generations")["id"])
        created_s = time.monotonic() - started
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                active = conn.execute(
                    text("SELECT count(*) FROM generations WHERE status IN ('queued', 'running')")
                ).scalar()
            if not active:
                break
            time.sleep(1)
        elapsed_s = time.monotonic() - started
        # Messages of dead workers come back after the visibility timeout and are then no-ops: wait for them.
        drain_deadline = time.monotonic() + int(stack["SITEGEN_VISIBILITY_TIMEOUT_S"]) + 30
        while time.monotonic() < drain_deadline and queue_depth(api):
            time.sleep(1)
        return check(api, engine, state, ids, created_s, elapsed_s, args)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def queue_depth(api: Api) -> int:
    queue = api.call("GET", "/queue")
    return int(queue["visible"] + queue["in_flight"] + queue["delayed"])


def check(
    api: Api,
    engine: Any,
    state: Path,
    ids: list[str],
    created_s: float,
    elapsed_s: float,
    args: argparse.Namespace,
) -> dict[str, Any]:
    statuses: Counter[str] = Counter()
    lost: list[str] = []
    stuck: list[str] = []
    unexplained: list[str] = []
    duplicated: list[str] = []
    attempts: Counter[int] = Counter()
    for gid in ids:
        try:
            gen = api.call("GET", f"/generations/{gid}")
        except Exception as exc:  # noqa: BLE001 - any failure to show it counts as lost
            lost.append(f"{gid}: {exc}")
            continue
        statuses[gen["status"]] += 1
        attempts.update(p["attempts"] for p in gen["phases"] if p["status"] != "pending")
        if gen["status"] not in TERMINAL:
            stuck.append(gid)
            continue
        events = Counter((line["event"], line["phase"]) for line in api.logs(gid) if line["event"])
        duplicated += [
            f"{gid}: {e} {p} x{n}" for (e, p), n in events.items() if e == "phase_succeeded" and n > 1
        ]
        if gen["status"] == "failed" and (
            not gen["error"] or sum(n for (e, _), n in events.items() if e == "generation_failed") != 1
        ):
            unexplained.append(gid)
    with engine.connect() as conn:
        writes = conn.execute(
            text("SELECT generation_id, phase, count(*) FROM output_writes GROUP BY 1, 2 HAVING count(*) > 1")
        ).all()
        outbox = conn.execute(text("SELECT count(*) FROM outbox")).scalar()
        reasons = Counter(
            r for (r,) in conn.execute(text("SELECT error FROM generations WHERE status = 'failed'"))
        )
    duplicated += [f"{g}: output of {p} stored x{n}" for g, p, n in writes]
    deaths = sum(
        log.read_text(errors="replace").count("chaos: worker exits")
        for log in (state / "logs").glob("worker-*.log")
    )
    result = {
        "generations": len(ids),
        "workers": args.workers,
        "chaos": args.chaos,
        "statuses": dict(statuses),
        "lost": lost,
        "stuck": stuck,
        "duplicated": duplicated,
        "unexplained_failures": unexplained,
        "failure_reasons": dict(reasons),
        "worker_deaths": deaths,
        "phase_attempts": dict(sorted(attempts.items())),
        "outbox_left": outbox,
        "queue_left": queue_depth(api),
        "create_seconds": round(created_s, 1),
        "elapsed_seconds": round(elapsed_s, 1),
    }
    result["ok"] = not (lost or stuck or duplicated or unexplained or outbox or result["queue_left"])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--generations", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--chaos", type=float, default=0.2)
    parser.add_argument("--state-dir", default=".sitegen-soak")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--worker-timeout", type=int, default=0, help="see infra.local (default 10 s under chaos)"
    )
    parser.add_argument(
        "--timeout", type=float, default=900, help="seconds to wait for every generation to end"
    )
    args = parser.parse_args()
    result = run(args)
    (Path(args.state_dir) / "soak.json").write_text(json.dumps(result, indent=2))
    width = max(len(k) for k in result)
    for key, value in result.items():
        shown = len(value) if isinstance(value, list) else value
        print(f"{key:<{width}}  {shown}")
    for key in ("lost", "stuck", "duplicated", "unexplained_failures"):
        for item in result[key][:10]:
            print(f"  {key}: {item}")
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
