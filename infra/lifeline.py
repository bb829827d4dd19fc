"""No process of the local stack outlives its supervisor (infra/local.py), however the supervisor dies.

- Each child is started with `die_with_parent()`: Linux's PR_SET_PDEATHSIG makes the kernel SIGKILL
  it when the supervisor goes, also after a kill -9 (the queue design loses nothing to a killed
  worker). The signal fires when the *thread* that started the child exits: only the supervisor's
  main thread starts children.
- PostgreSQL is detached by pg_ctl, so `python -m infra.postgres guard` stops it (infra/postgres.py).
- On start, `leftovers()` finds what a previous run on the same state dir still has running (from
  its pids.json, on a platform without PR_SET_PDEATHSIG for example), for the supervisor to stop.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def alive(pid: int) -> bool:
    """Running, not a zombie (a dead orphan stays one where PID 1 does not reap)."""
    import psutil  # pgserver's own dependency

    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def wait_gone(pids: list[int], timeout_s: float) -> list[int]:
    """Wait until none of pids is alive, at most timeout_s; returns those still alive."""
    deadline = time.monotonic() + timeout_s
    while (left := [pid for pid in pids if alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def die_with_parent() -> Callable[[], None]:
    """A Popen preexec_fn: the child gets SIGKILL when the process that started it dies."""
    parent = os.getpid()

    def preexec() -> None:
        if _libc is not None:
            _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl: the signal will never come
            os._exit(1)

    return preexec


def leftovers(state: Path) -> dict[str, int]:
    """The processes of pids.json in state that are still running: {name: pid}. A pid counts only if its
    process is older than pids.json and runs one of the stack's programs (`-m infra.*`) or PostgreSQL
    on this state dir, so a pid reused since is never taken for the stack's."""
    import psutil

    path = state / "pids.json"
    try:
        pids, written = json.loads(path.read_text()), path.stat().st_mtime
    except (OSError, ValueError):
        return {}
    found = {}
    for name, pid in pids.items():
        try:
            proc = psutil.Process(pid)
            cmdline = proc.cmdline()
            ours = proc.create_time() <= written + 2 and any(
                part.startswith("infra.") or str(state) in part for part in cmdline
            )
        except psutil.Error:
            continue
        if pid != os.getpid() and ours and alive(pid):
            found[name] = pid
    return found
