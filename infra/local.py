"""The whole stack on one machine: `python -m infra.local [--port 8000] [--state-dir .sitegen]`.

PostgreSQL (DATABASE_URL, else embedded), moto in server mode with the resources from
infra/template.yaml, `chalice local` for the HTTP routes, queue workers, the dead-letter worker and
the scheduler, all under this supervisor. Ctrl-C / SIGTERM / SIGHUP stops every child; a supervisor
killed outright takes them with it (infra/lifeline.py). One supervisor per state dir: what a crashed
one left running there is stopped on start.

`--workers N --chaos P`: each worker process dies (os._exit, no cleanup) at a random fault point
with probability P per phase invocation; the supervisor starts another. `--worker-timeout S`
plays the worker Lambda's timeout (default 120 s; 10 s under chaos so dead workers' messages come
back quickly); the queue's visibility timeout is 6x that and the AI call timeout half of it.

`--model-sim [--sim-ttft S] [--sim-tps N]`: the model simulator (infra/model_sim.py) as a child, with an
AI config for it created through the API and every task routed to it.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from infra.lifeline import die_with_parent, leftovers, wait_gone

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StartError(Exception):
    """The stack cannot start; the message says why in one line."""


def wait_http(url: str, timeout_s: float = 60) -> bytes:
    """The body of the first answer from url (any status)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as err:
            return bytes(err.read())  # it answered
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up within {timeout_s}s")


def check_port_free(port: int, option: str) -> None:
    """As the servers bind it (127.0.0.1, SO_REUSEADDR): fails only if something listens there."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return
        except OSError:
            pass
    raise StartError(f"port {port} is already in use{port_holder(port)}; stop that or pass another {option}")


def port_holder(port: int) -> str:
    """' by pid N (command)' for the process listening on port, when it can be seen; else ''."""
    import psutil

    try:
        for conn in psutil.net_connections("tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
                return f" by pid {conn.pid} ({' '.join(psutil.Process(conn.pid).cmdline())[:100]})"
    except psutil.Error:
        pass
    return ""


def check_own_api(api_url: str, instance: str) -> None:
    """The API on api_url must be this run's chalice local (its /health names this run's instance id),
    not a process left holding the port."""
    try:
        answered = json.loads(wait_http(f"{api_url}/health")).get("instance")
    except (ValueError, AttributeError):
        answered = None
    if answered != instance:
        port = int(api_url.rsplit(":", 1)[1])
        raise StartError(f"port {port} is answered by another process, not this run's API{port_holder(port)}")


def token_for(state: Path) -> tuple[str, bool]:
    if os.environ.get("SITEGEN_API_TOKEN"):
        return os.environ["SITEGEN_API_TOKEN"], False
    path = state / "token"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip(), True


class Supervisor:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.state = Path(args.state_dir).resolve()
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.env: dict[str, str] = {}
        self.pg_server = None
        self.stopping = False
        self.instance = secrets.token_hex(8)  # /health of this run's API names it

    def spawn(
        self, name: str, argv: list[str], env: dict[str, str] | None = None, guard: bool = False
    ) -> None:
        """A guard outlives the supervisor until the pipe on its stdin closes; every other child dies with it."""
        with open(self.state / "logs" / f"{name}.log", "ab") as log:  # the child keeps its own copy
            self.children[name] = subprocess.Popen(
                argv,
                cwd=ROOT,
                env={**self.env, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                stdin=subprocess.PIPE if guard else None,
                preexec_fn=None if guard else die_with_parent(),
            )
        self.write_pids()

    def claim_state_dir(self) -> None:
        """One supervisor per state dir: a lock held for the supervisor's life. Then stop what a previous
        run there left running (its supervisor died before it could)."""
        self.lock = open(self.state / "supervisor.lock", "a+")  # noqa: SIM115  held (flock) for the supervisor's life
        try:
            fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.lock.seek(0)
            raise StartError(
                f"another sitegen runs on {self.state} (supervisor pid {self.lock.read().strip()}); "
                "stop it first, or pass another --state-dir"
            ) from None
        self.lock.truncate(0)
        self.lock.write(f"{os.getpid()}\n")
        self.lock.flush()
        left = leftovers(self.state)
        if not left:
            return
        print(
            f"stopping what the last run on {self.state} left running: "
            + ", ".join(f"{name} (pid {pid})" for name, pid in left.items()),
            flush=True,
        )
        for name, pid in left.items():
            if name != "postgres":
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)  # what the supervisor's death does to its children
        if "postgres" in left:
            from infra.postgres import stop_orphaned

            stop_orphaned(self.state / "pg")
        if still := wait_gone(list(left.values()), 10):
            raise StartError(f"processes of the last run on {self.state} did not stop: pids {still}")

    def write_pids(self) -> None:
        """pids.json: every process of the stack (the next start stops what a crash left; a test kills them
        all with SIGKILL)."""
        pids = {name: proc.pid for name, proc in self.children.items()}
        pids["supervisor"] = os.getpid()
        if self.pg_server is not None:
            postmaster = self.state / "pg" / "postmaster.pid"
            if postmaster.exists():
                pids["postgres"] = int(postmaster.read_text().split()[0])
        (self.state / "pids.json").write_text(json.dumps(pids, indent=2))

    def timeouts(self) -> dict[str, str]:
        worker_s = self.args.worker_timeout or (10 if self.args.chaos else 120)
        return {
            "SITEGEN_WORKER_TIMEOUT_S": str(worker_s),
            "SITEGEN_VISIBILITY_TIMEOUT_S": str(6 * worker_s),
            "SITEGEN_PROVIDER_TIMEOUT_S": str(max(1, min(60, worker_s // 2))),
        }

    def start(self) -> dict[str, str]:
        (self.state / "logs").mkdir(parents=True, exist_ok=True)
        self.claim_state_dir()
        site_port = self.args.site_port or self.args.port + 1
        check_port_free(self.args.port, "--port")
        check_port_free(site_port, "--site-port")
        database_url = os.environ.get("DATABASE_URL")
        if not database_url:
            from infra.postgres import embedded

            database_url, self.pg_server = embedded(self.state / "pg")
            self.spawn("pg-guard", [PY, "-m", "infra.postgres", "guard", str(self.state / "pg")], guard=True)
        from chalicelib.db.migrate import upgrade

        upgrade(database_url)

        moto_port = free_port()
        aws_url = f"http://127.0.0.1:{moto_port}"
        base_env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "PYTHONUNBUFFERED": "1",
        }
        base_env.pop("AWS_PROFILE", None)
        base_env.setdefault("SITEGEN_AI_ALLOW_PRIVATE_NETWORKS", "1")  # a model on localhost is normal here
        self.env = base_env
        self.spawn("moto", [PY, "-m", "infra.moto_server", "-H", "127.0.0.1", "-p", str(moto_port)])
        wait_http(f"{aws_url}/moto-api/")

        import boto3

        from infra.resources import deploy

        timeouts = self.timeouts()
        resources = deploy(
            boto3.Session(region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local"),
            "local",
            endpoint_url=aws_url,
            parameters={
                "WorkerTimeoutSeconds": timeouts["SITEGEN_WORKER_TIMEOUT_S"],
                "VisibilityTimeoutSeconds": timeouts["SITEGEN_VISIBILITY_TIMEOUT_S"],
            },
        )
        token, generated = token_for(self.state)
        api_url = f"http://127.0.0.1:{self.args.port}"
        sites_url = f"http://127.0.0.1:{site_port}"
        self.env = {
            **base_env,
            "AWS_ENDPOINT_URL": aws_url,
            "DATABASE_URL": database_url,
            "SITEGEN_QUEUE_URL": resources.queue_url,
            "SITEGEN_DLQ_URL": resources.dlq_url,
            "SITEGEN_QUEUE_NAME": resources.queue_name,
            "SITEGEN_LOGS_TABLE": resources.logs_table,
            "SITEGEN_SITE_BUCKET": resources.bucket,
            "SITEGEN_SITE_BASE_URL": sites_url,
            # each order's live site at the root of its own host: browsers (and curl) resolve *.localhost
            # to this machine, and the site server routes by the host's first label (infra/site_server.py)
            "SITEGEN_LIVE_URL": os.environ.get("SITEGEN_LIVE_URL")
            or f"http://{{order}}.localhost:{site_port}/",
            "SITEGEN_API_TOKEN": token,
            "SITEGEN_DB_POOL_SIZE": "4",
            **timeouts,
            "SITEGEN_AI_ALLOW_PRIVATE_NETWORKS": "1",  # AI configs may point at loopback (the model simulator)
            "SITEGEN_INSTANCE_ID": self.instance,
        }
        self.resume_in_flight()
        # chalice local, minus its echo of the Authorization header on unknown routes (infra/chalice_local.py)
        self.spawn(
            "api",
            [
                PY,
                "-m",
                "infra.chalice_local",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.args.port),
                "--stage",
                "local",
            ],
        )
        self.spawn("sites", [PY, "-m", "infra.site_server", "--port", str(site_port)])
        for n in range(self.args.workers):
            self.spawn_worker(f"worker-{n}")
        self.spawn("dead-letters", [PY, "-m", "infra.worker", "--role", "dead-letters"])
        self.spawn(
            "scheduler",
            [PY, "-m", "infra.worker", "--role", "scheduler", "--interval", str(self.args.schedule_interval)],
        )
        check_own_api(api_url, self.instance)
        wait_http(f"{sites_url}/")
        sim = self.start_model_sim(api_url, token) if getattr(self.args, "model_sim", False) else {}
        info = {
            "api_url": api_url,
            "sites_url": sites_url,
            "aws_endpoint_url": aws_url,
            "region": "us-east-1",
            "queue_url": resources.queue_url,
            "dlq_url": resources.dlq_url,
            "logs_table": resources.logs_table,
            "bucket": resources.bucket,
            "token": token,
            "database_url": database_url,
            "live_url_template": self.env["SITEGEN_LIVE_URL"],
            "workers": self.args.workers,
            "chaos": self.args.chaos,
            "instance": self.instance,
            **timeouts,
            **sim,
        }
        stack_file = self.state / "stack.json"
        stack_file.write_text(json.dumps(info, indent=2))
        stack_file.chmod(0o600)
        print(f"sitegen is up: {api_url}  (open {api_url}/ for the dashboard)", flush=True)
        # The token itself is never printed (logs keep console output): say where it is.
        where = f"{self.state / 'token'} (generated)" if generated else "SITEGEN_API_TOKEN"
        print(f"API token: in {where}; also in {stack_file}", flush=True)
        print(f"stack details: {stack_file}; logs: {self.state / 'logs'}", flush=True)
        return info

    def resume_in_flight(self) -> None:
        """Re-enqueue what an earlier run on this state dir left in flight, before the API and the
        workers start. Run beside them (it was the scheduler's first step), it could send a generation
        created meanwhile a second time, its first phase then starting before its "queued" line."""
        with open(self.state / "logs" / "resume.log", "ab") as log:
            done = subprocess.run(
                [PY, "-m", "infra.worker", "--role", "resume"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=120,
                preexec_fn=die_with_parent(),
            )
        if done.returncode != 0:
            raise StartError(
                f"re-enqueueing in-flight generations failed (exit {done.returncode}): see "
                f"{self.state / 'logs' / 'resume.log'}"
            )

    def start_model_sim(self, api_url: str, token: str) -> dict[str, str]:
        """--model-sim: the model simulator as a child, and every task routed to it through the API."""
        from infra.sim_setup import api_caller, route_to_sim

        port, ttft, tps = free_port(), self.args.sim_ttft, self.args.sim_tps
        sim_url, sim_log = f"http://127.0.0.1:{port}", self.state / "logs" / "model-sim.jsonl"
        self.spawn(
            "model-sim",
            [
                PY,
                "-m",
                "infra.model_sim",
                "--port",
                str(port),
                "--ttft",
                str(ttft),
                "--tps",
                str(tps),
                "--log",
                str(sim_log),
            ],
        )
        wait_http(f"{sim_url}/_sim/health")
        config_id = route_to_sim(api_caller(api_url, token), sim_url, tps)
        print(
            f"model simulator: {sim_url} ({ttft:g} s to first token, {tps:g} tokens/s), every task routed to it; "
            f"timings in {sim_log}",
            flush=True,
        )
        return {"model_sim_url": sim_url, "model_sim_log": str(sim_log), "model_sim_config_id": config_id}

    def spawn_worker(self, name: str) -> None:
        chaos = {"SITEGEN_FAULTS": f"chaos:{self.args.chaos}"} if self.args.chaos else {}
        self.spawn(name, [PY, "-m", "infra.worker", "--role", "worker"], env=chaos)

    def watch(self) -> None:
        while not self.stopping:
            for name, proc in list(self.children.items()):
                code = proc.poll()
                if code is None:
                    continue
                if name.startswith("worker-"):  # a worker may die (chaos, crash): start another
                    print(f"{name} exited with {code}; restarting", flush=True)
                    self.spawn_worker(name)
                else:
                    print(
                        f"{name} exited with {code}; stopping the stack (see {self.state / 'logs'})",
                        flush=True,
                    )
                    return
            time.sleep(0.5)

    def stop(self) -> None:
        self.stopping = True
        guard = self.children.pop(
            "pg-guard", None
        )  # last: it stops PostgreSQL if this process dies meanwhile
        for proc in self.children.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.children.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if self.pg_server is not None:
            self.pg_server.cleanup()
        if guard is not None and guard.stdin is not None:
            guard.stdin.close()  # PostgreSQL is down: the guard finds nothing to stop and exits
            guard.wait(timeout=10)


def main() -> None:
    from infra.model_sim import DEFAULT_TPS, DEFAULT_TTFT

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--state-dir", default=".sitegen")
    parser.add_argument(
        "--site-port", type=int, default=0, help="generated sites' origin (default: port + 1)"
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--schedule-interval", type=float, default=60.0)
    parser.add_argument(
        "--chaos",
        type=float,
        default=0.0,
        metavar="P",
        help="each worker dies at a random fault point with probability P per phase (0..1)",
    )
    parser.add_argument(
        "--worker-timeout",
        type=int,
        default=0,
        metavar="S",
        help="the worker's timeout in seconds (default 120, or 10 with --chaos)",
    )
    parser.add_argument(
        "--model-sim",
        action="store_true",
        help="start the model simulator (infra/model_sim.py) and route every AI task to it",
    )
    parser.add_argument(
        "--sim-ttft",
        type=float,
        default=DEFAULT_TTFT,
        metavar="S",
        help=f"the simulator's time to first token (default {DEFAULT_TTFT} s)",
    )
    parser.add_argument(
        "--sim-tps",
        type=float,
        default=DEFAULT_TPS,
        metavar="N",
        help=f"the simulator's output tokens a second (default {DEFAULT_TPS:g})",
    )
    args = parser.parse_args()
    if args.sim_ttft < 0 or args.sim_tps <= 0:
        parser.error("--sim-ttft must be at least 0 and --sim-tps above 0")
    if not 0 <= args.chaos < 1:
        parser.error("--chaos must be at least 0 and below 1")
    if args.worker_timeout and args.worker_timeout < 2:
        parser.error("--worker-timeout must be at least 2 seconds")
    supervisor = Supervisor(args)

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)  # its terminal closed
    failed = False
    try:
        supervisor.start()
        supervisor.watch()
    except KeyboardInterrupt:
        pass
    except StartError as err:
        print(f"sitegen cannot start: {err}", file=sys.stderr, flush=True)
        failed = True
    finally:
        supervisor.stop()
        print("sitegen stopped", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
