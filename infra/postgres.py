"""A PostgreSQL server for local runs and tests: DATABASE_URL when given, else an embedded one.

`python -m infra.postgres guard DATA_DIR`, started by the local stack's supervisor with a pipe on its
stdin, stops the embedded server once that pipe closes: the supervisor is gone, however it died
(pg_ctl detaches PostgreSQL, so it would not go down with the supervisor's children).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from infra.lifeline import alive, wait_gone


def _clear_stale_state(data_dir: Path) -> None:
    """After a kill -9: postmaster.pid names a dead server, which pgserver would try to reuse, and
    .handle_pids.json still lists the dead process as a user of the server, so the next owner's clean
    exit would leave PostgreSQL running. Drop both; PostgreSQL recovers from its WAL on start."""
    _live_handles(data_dir)
    pid = _postmaster(data_dir)
    if pid is not None and not alive(pid):
        for name in ("postmaster.pid", ".s.PGSQL.5432", ".s.PGSQL.5432.lock"):
            (data_dir / name).unlink(missing_ok=True)


def _live_handles(data_dir: Path) -> list[int]:
    """The processes pgserver lists as users of the server (.handle_pids.json), minus dead ones (dropped)."""
    handles = data_dir / ".handle_pids.json"
    try:
        pids = [int(pid) for pid in json.loads(handles.read_text()) if alive(int(pid))]
        handles.write_text(json.dumps(pids))
        return pids
    except (OSError, ValueError, TypeError):
        return []


def _postmaster(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def server_pid(data_dir: Path) -> int | None:
    """The pid of the running PostgreSQL of data_dir (postmaster.pid, checked against the process's
    command line, so a reused pid is never taken for it), else None."""
    import psutil

    pid = _postmaster(data_dir)
    try:
        if pid is not None and alive(pid) and str(data_dir) in psutil.Process(pid).cmdline():
            return pid
    except psutil.Error:
        pass
    return None


def stop_orphaned(data_dir: Path, timeout_s: float = 10) -> None:
    """Stop the server of data_dir when no live process uses it any more, as its last user's clean exit
    would have: a fast shutdown (SIGINT), then SIGKILL if it is still up after timeout_s."""
    pid = server_pid(data_dir)
    if pid is None or _live_handles(data_dir):
        return
    for sig in (signal.SIGINT, signal.SIGKILL):  # a fast shutdown, else none
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if not wait_gone([pid], timeout_s):
            return


def guard(data_dir: Path) -> None:
    """Wait for stdin to close (its writer, the supervisor, exited), then stop the server if orphaned."""
    while sys.stdin.buffer.read(4096):
        pass
    stop_orphaned(data_dir)


def embedded(data_dir: Path) -> tuple[str, Any]:
    """Start (or reuse) the embedded server whose data lives in data_dir. Returns (url, server)."""
    import pgserver  # only the local stack and tests need it

    data_dir.mkdir(parents=True, exist_ok=True)
    _clear_stale_state(data_dir)
    server = pgserver.get_server(str(data_dir), cleanup_mode="stop")
    return f"postgresql+pg8000://postgres@/postgres?unix_sock={data_dir}/.s.PGSQL.5432", server


def create_database(admin_url: str, name: str) -> str:
    """Create database `name` (dropping an old one) and return its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


if __name__ == "__main__":
    if sys.argv[1:2] != ["guard"] or len(sys.argv) != 3:
        sys.exit("usage: python -m infra.postgres guard DATA_DIR")
    guard(Path(sys.argv[2]).resolve())
