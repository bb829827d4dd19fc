"""The whole stack on one machine: `python -m infra.local [--port 8000] [--state-dir .sitegen]`.

PostgreSQL (DATABASE_URL, else embedded), moto in server mode with the resources from
infra/template.yaml, `chalice local` for the HTTP routes, queue workers, the dead-letter worker and
the scheduler, all under this supervisor. Ctrl-C / SIGTERM stops every child.

`--workers N --chaos P`: each worker process dies (os._exit, no cleanup) at a random fault point
with probability P per phase invocation; the supervisor starts another. `--worker-timeout S`
plays the worker Lambda's timeout (default 120 s; 10 s under chaos so dead workers' messages come
back quickly); the queue's visibility timeout is 6x that and the AI call timeout half of it.
"""
from __future__ import annotations

import argparse
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

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up within {timeout_s}s")


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

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        log = open(self.state / "logs" / f"{name}.log", "ab")
        self.children[name] = subprocess.Popen(
            argv, cwd=ROOT, env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.write_pids()

    def write_pids(self) -> None:
        """pids.json: every process of the stack (a test kills them all with SIGKILL)."""
        pids = {name: proc.pid for name, proc in self.children.items()}
        pids["supervisor"] = os.getpid()
        if self.pg_server is not None:
            postmaster = self.state / "pg" / "postmaster.pid"
            if postmaster.exists():
                pids["postgres"] = int(postmaster.read_text().split()[0])
        (self.state / "pids.json").write_text(json.dumps(pids, indent=2))

    def timeouts(self) -> dict[str, str]:
        worker_s = self.args.worker_timeout or (10 if self.args.chaos else 120)
        return {"SITEGEN_WORKER_TIMEOUT_S": str(worker_s), "SITEGEN_VISIBILITY_TIMEOUT_S": str(6 * worker_s),
                "SITEGEN_PROVIDER_TIMEOUT_S": str(max(1, min(60, worker_s // 2)))}

    def start(self) -> dict[str, str]:
        (self.state / "logs").mkdir(parents=True, exist_ok=True)
        database_url = os.environ.get("DATABASE_URL")
        if not database_url:
            from infra.postgres import embedded

            database_url, self.pg_server = embedded(self.state / "pg")
        from chalicelib.db.migrate import upgrade

        upgrade(database_url)

        moto_port = free_port()
        aws_url = f"http://127.0.0.1:{moto_port}"
        base_env = {**os.environ, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "PYTHONUNBUFFERED": "1"}
        base_env.pop("AWS_PROFILE", None)
        base_env.setdefault("SITEGEN_AI_ALLOW_PRIVATE_NETWORKS", "1")  # a model on localhost is normal here
        self.env = base_env
        self.spawn("moto", [PY, "-m", "infra.moto_server", "-H", "127.0.0.1", "-p", str(moto_port)])
        wait_http(f"{aws_url}/moto-api/")

        import boto3

        from infra.resources import deploy

        timeouts = self.timeouts()
        resources = deploy(boto3.Session(region_name="us-east-1", aws_access_key_id="local",
                                         aws_secret_access_key="local"), "local", endpoint_url=aws_url,
                           parameters={"WorkerTimeoutSeconds": timeouts["SITEGEN_WORKER_TIMEOUT_S"],
                                       "VisibilityTimeoutSeconds": timeouts["SITEGEN_VISIBILITY_TIMEOUT_S"]})
        token, generated = token_for(self.state)
        api_url = f"http://127.0.0.1:{self.args.port}"
        site_port = self.args.site_port or self.args.port + 1
        sites_url = f"http://127.0.0.1:{site_port}"
        self.env = {
            **base_env, "AWS_ENDPOINT_URL": aws_url, "DATABASE_URL": database_url,
            "SITEGEN_QUEUE_URL": resources.queue_url, "SITEGEN_DLQ_URL": resources.dlq_url,
            "SITEGEN_QUEUE_NAME": resources.queue_name, "SITEGEN_LOGS_TABLE": resources.logs_table,
            "SITEGEN_SITE_BUCKET": resources.bucket, "SITEGEN_SITE_BASE_URL": sites_url,
            "SITEGEN_API_TOKEN": token, "SITEGEN_DB_POOL_SIZE": "4", **timeouts,
        }
        # chalice local, minus its echo of the Authorization header on unknown routes (infra/chalice_local.py)
        self.spawn("api", [PY, "-m", "infra.chalice_local", "--host", "127.0.0.1", "--port", str(self.args.port),
                           "--stage", "local"])
        self.spawn("sites", [PY, "-m", "infra.site_server", "--port", str(site_port)])
        for n in range(self.args.workers):
            self.spawn_worker(f"worker-{n}")
        self.spawn("dead-letters", [PY, "-m", "infra.worker", "--role", "dead-letters"])
        self.spawn("scheduler", [PY, "-m", "infra.worker", "--role", "scheduler",
                                 "--interval", str(self.args.schedule_interval)])
        wait_http(f"{api_url}/health")
        wait_http(f"{sites_url}/")
        info = {"api_url": api_url, "sites_url": sites_url, "aws_endpoint_url": aws_url, "region": "us-east-1",
                "queue_url": resources.queue_url, "dlq_url": resources.dlq_url, "logs_table": resources.logs_table,
                "bucket": resources.bucket, "token": token, "database_url": database_url,
                "workers": self.args.workers, "chaos": self.args.chaos, **timeouts}
        stack_file = self.state / "stack.json"
        stack_file.write_text(json.dumps(info, indent=2))
        stack_file.chmod(0o600)
        print(f"sitegen is up: {api_url}  (open {api_url}/ for the dashboard)", flush=True)
        # The token itself is never printed (logs keep console output): say where it is.
        where = f"{self.state / 'token'} (generated)" if generated else "SITEGEN_API_TOKEN"
        print(f"API token: in {where}; also in {stack_file}", flush=True)
        print(f"stack details: {stack_file}; logs: {self.state / 'logs'}", flush=True)
        return info

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
                    print(f"{name} exited with {code}; stopping the stack (see {self.state / 'logs'})", flush=True)
                    return
            time.sleep(0.5)

    def stop(self) -> None:
        self.stopping = True
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--state-dir", default=".sitegen")
    parser.add_argument("--site-port", type=int, default=0, help="generated sites' origin (default: port + 1)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--schedule-interval", type=float, default=60.0)
    parser.add_argument("--chaos", type=float, default=0.0, metavar="P",
                        help="each worker dies at a random fault point with probability P per phase (0..1)")
    parser.add_argument("--worker-timeout", type=int, default=0, metavar="S",
                        help="the worker's timeout in seconds (default 120, or 10 with --chaos)")
    args = parser.parse_args()
    if not 0 <= args.chaos < 1:
        parser.error("--chaos must be at least 0 and below 1")
    if args.worker_timeout and args.worker_timeout < 2:
        parser.error("--worker-timeout must be at least 2 seconds")
    supervisor = Supervisor(args)

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        supervisor.start()
        supervisor.watch()
    except KeyboardInterrupt:
        pass
    finally:
        supervisor.stop()
        print("sitegen stopped", flush=True)


if __name__ == "__main__":
    main()
