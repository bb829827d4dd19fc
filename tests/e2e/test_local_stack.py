"""The real local stack over real sockets: supervisor, moto server, chalice local, worker, sites."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest

from infra.local import free_port, wait_http
from tests.support.local_stack import ROOT, LocalStack
from tests.support.orders import ORDER


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    local = LocalStack(tmp_path_factory.mktemp("stack"), ["--schedule-interval", "2"]).start()
    yield local
    local.stop()


def test_in_flight_work_is_resumed_before_the_api_and_workers_start(stack):
    """Resuming voids every lease and sends every active generation again: run beside the API (it was
    the scheduler's first step), it sent a generation created meanwhile twice, and that generation's
    first phase could start before its "queued" line was written (seen once in CI)."""
    logs = stack.state_dir / "logs"
    assert "resumed in-flight generations" in (logs / "resume.log").read_text()
    assert "resumed in-flight generations" not in (logs / "scheduler.log").read_text()


def test_curl_flow_create_generate_follow_logs_open_site(stack):
    health = stack.call("GET", "/health", token=None)
    assert health["status"] == "ok" and health["instance"] == stack.info["instance"]  # this run's own API
    assert stack.call("GET", "/orders", token="nope", expect=401) == {"message": "Unauthorized"}
    order = stack.call(
        "POST", "/orders", {**ORDER, "locale": "en", "business_name": "Austin Pipes & Co"}, expect=201
    )
    gen = stack.call("POST", f"/orders/{order['id']}/generations", expect=202)

    seen, cursor = [], ""
    for _ in range(300):
        page = stack.call("GET", f"/generations/{gen['id']}/logs?after={cursor}&limit=5")
        seen += page["items"]
        cursor = page["next_cursor"]
        if seen and seen[-1]["event"] in ("generation_succeeded", "generation_failed"):
            break
    assert seen[0]["event"] == "generation_queued"
    assert seen[-1]["event"] == "generation_succeeded"
    assert len({line["cursor"] for line in seen}) == len(seen)  # paging never repeats a line

    done = stack.wait_for(gen["id"], ("succeeded",))
    assert done["site_url"].startswith(stack.info["sites_url"])
    with urllib.request.urlopen(done["site_url"], timeout=10) as response:
        html = response.read().decode()
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Austin Pipes &amp; Co" in html and '<html lang="en">' in html
    queue = stack.call("GET", "/queue")
    assert queue["visible"] == 0 and queue["dead_letter"] == 0


def test_restart_on_the_same_state_dir_keeps_orders_and_resumes_in_flight(stack):
    stack.stop()
    stack.extra_args = ["--schedule-interval", "2", "--workers", "0"]  # nobody consumes the queue
    stack.start()
    order = stack.call("POST", "/orders", {**ORDER, "business_name": "Survives Restarts"}, expect=201)
    gen = stack.call("POST", f"/orders/{order['id']}/generations", expect=202)
    assert stack.call("GET", f"/generations/{gen['id']}")["status"] == "queued"
    stack.stop(signal.SIGHUP)  # the queue (moto, in memory) is gone with it; Postgres keeps the generation
    assert stack.proc.returncode == 0  # SIGHUP (its terminal closed) stops it cleanly, as SIGTERM does

    stack.extra_args = ["--schedule-interval", "2"]
    stack.start()
    assert stack.call("GET", f"/orders/{order['id']}")["business_name"] == "Survives Restarts"
    assert stack.wait_for(gen["id"], ("succeeded",))["progress"] == 1.0


def test_a_second_supervisor_on_the_same_state_dir_refuses_in_one_line(stack):
    other = LocalStack(stack.state_dir, port=free_port(), site_port=free_port())
    result = subprocess.run(
        other.argv(), cwd=ROOT, env=other.environ(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1, result
    assert result.stderr.splitlines() == [
        f"sitegen cannot start: another sitegen runs on {stack.state_dir.resolve()} "
        f"(supervisor pid {stack.proc.pid}); stop it first, or pass another "
        "--state-dir"
    ], result.stderr
    assert (
        stack.call("GET", "/health", token=None)["instance"] == stack.info["instance"]
    )  # the running one untouched


@pytest.mark.parametrize("option", ["port", "site_port"])
def test_a_port_held_by_another_process_is_one_clear_error_before_anything_starts(tmp_path, option):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        local = LocalStack(tmp_path / "stack", **{option: port})
        result = subprocess.run(
            local.argv(), cwd=ROOT, env=local.environ(), capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 1, result
    flag = "--" + option.replace("_", "-")
    assert result.stderr.splitlines() == [
        f"sitegen cannot start: port {port} is already in use by pid "
        f"{psutil.Process().pid} ({' '.join(psutil.Process().cmdline())[:100]}); "
        f"stop that or pass another {flag}"
    ], result.stderr
    assert "sitegen is up" not in result.stdout and not (tmp_path / "stack" / "pg").exists()


def test_kill_9_of_the_supervisor_alone_leaves_nothing_and_a_restart_serves_the_same_data(tmp_path):
    """An OOM kill or a closed terminal's SIGKILL hits the supervisor only: its children die with it
    (PR_SET_PDEATHSIG), the PostgreSQL guard stops the server, and the next start on the same port and
    state dir finds nothing to clean up."""
    stack = LocalStack(tmp_path / "stack", ["--schedule-interval", "2"]).start()
    processes: list[psutil.Process] = []
    try:
        order = stack.call("POST", "/orders", {**ORDER, "business_name": "Outlived By Nothing"}, expect=201)
        first = stack.call("POST", f"/orders/{order['id']}/generations", expect=202)
        stack.wait_for(first["id"], ("succeeded",))
        pids = json.loads((stack.state_dir / "pids.json").read_text())
        assert {
            "api",
            "moto",
            "sites",
            "worker-0",
            "dead-letters",
            "scheduler",
            "postgres",
            "pg-guard",
        } <= set(pids)
        processes = [psutil.Process(pid) for name, pid in pids.items() if name != "supervisor"]
        processes += [
            child for proc in processes for child in proc.children(recursive=True)
        ]  # postgres backends
        old = stack.info

        assert stack.proc is not None
        stack.proc.send_signal(signal.SIGKILL)  # the supervisor alone
        stack.proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while (left := [p for p in processes if running(p)]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert left == [], (
            f"outlived the supervisor: {[(p.pid, ' '.join(p.cmdline()).strip()) for p in left]}"
        )

        stack.start()
        assert stack.info["api_url"] == old["api_url"] and stack.info["instance"] != old["instance"]
        assert stack.call("GET", "/health", token=None)["instance"] == stack.info["instance"]
        assert "left running" not in (stack.state_dir / "supervisor.log").read_text()  # nothing was
        assert stack.call("GET", f"/orders/{order['id']}")["business_name"] == "Outlived By Nothing"
        assert stack.call("GET", f"/generations/{first['id']}")["status"] == "succeeded"
        again = stack.call("POST", f"/orders/{order['id']}/generations", expect=202)
        assert stack.wait_for(again["id"], ("succeeded",))["progress"] == 1.0
    finally:
        stack.stop()
        for proc in processes:  # when the test failed: nothing of the first run is left to other tests
            if running(proc):
                proc.kill()


def test_what_a_crashed_run_left_running_is_stopped_on_start(tmp_path):
    """As when a supervisor without PR_SET_PDEATHSIG (another OS, an older version) died: pids.json names
    a process of the stack that still runs, here one holding the API's port."""
    stack = LocalStack(tmp_path / "stack", ["--schedule-interval", "2"])
    stack.argv()  # picks the ports
    stack.state_dir.mkdir(parents=True)
    left = subprocess.Popen(
        [sys.executable, "-m", "infra.site_server", "--port", str(stack.port)],
        cwd=ROOT,
        env=stack.environ(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_http(f"http://127.0.0.1:{stack.port}/", timeout_s=30)
        (stack.state_dir / "pids.json").write_text(json.dumps({"api": left.pid}))
        stack.start()
        assert left.wait(timeout=10) == -signal.SIGKILL
        log = (stack.state_dir / "supervisor.log").read_text()
        assert (
            f"stopping what the last run on {stack.state_dir.resolve()} left running: api (pid {left.pid})"
            in log
        )
        assert stack.call("GET", "/health", token=None)["instance"] == stack.info["instance"]
    finally:
        stack.stop()
        if left.poll() is None:
            left.kill()


def running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE  # PID 1 may never reap an orphan
    except psutil.NoSuchProcess:
        return False
