"""Start the real local stack (python -m infra.local) as a subprocess and talk to it over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.local import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LocalStack:
    state_dir: Path
    extra_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    info: dict[str, Any] = field(default_factory=dict)
    port: int = 0  # chosen on the first start, kept by restarts (as `make run` keeps them)
    site_port: int = 0

    def argv(self) -> list[str]:
        self.port, self.site_port = self.port or free_port(), self.site_port or free_port()
        return [
            sys.executable,
            "-m",
            "infra.local",
            "--port",
            str(self.port),
            "--site-port",
            str(self.site_port),
            "--state-dir",
            str(self.state_dir),
            *self.extra_args,
        ]

    def environ(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "SITEGEN_FAULTS")}
        return {**env, **self.env}

    def start(self, timeout_s: float = 120) -> LocalStack:
        stack_file = self.state_dir / "stack.json"
        stack_file.unlink(missing_ok=True)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.state_dir / "supervisor.log", "ab")  # noqa: SIM115  the supervisor's stdout while it runs
        self.proc = subprocess.Popen(
            self.argv(),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=self.environ(),
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while not stack_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"local stack did not start: {(self.state_dir / 'supervisor.log').read_text()[-3000:]}"
                )
            time.sleep(0.2)
        self.info = json.loads(stack_file.read_text())
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig) if sig == signal.SIGKILL else self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = "default",
        expect: int | None = 200,
    ) -> Any:
        headers = {"Content-Type": "application/json"}
        if token == "default":
            token = self.info["token"]
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.info["api_url"] + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as err:
            status, payload = err.code, err.read()
        if expect is not None:
            assert status == expect, (status, payload[:500])
        return json.loads(payload) if payload else None

    def wait_for(
        self, generation_id: str, statuses: tuple[str, ...], timeout_s: float = 60
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            gen = self.call("GET", f"/generations/{generation_id}")
            if gen["status"] in statuses:
                return gen
            time.sleep(0.2)
        raise AssertionError(f"generation {generation_id} not in {statuses} after {timeout_s}s: {gen}")
