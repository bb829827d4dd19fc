"""A PostgreSQL server for local runs and tests: DATABASE_URL when given, else an embedded one."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _alive(pid: int) -> bool:
    import psutil  # pgserver's own dependency

    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _clear_stale_state(data_dir: Path) -> None:
    """After a kill -9: postmaster.pid names a dead server, which pgserver would try to reuse, and
    .handle_pids.json still lists the dead process as a user of the server, so the next owner's clean
    exit would leave PostgreSQL running. Drop both; PostgreSQL recovers from its WAL on start."""
    handles = data_dir / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
        handles.write_text(json.dumps([pid for pid in pids if _alive(int(pid))]))
    except (OSError, ValueError, TypeError):
        pass
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    if not _alive(pid):
        for name in ("postmaster.pid", ".s.PGSQL.5432", ".s.PGSQL.5432.lock"):
            (data_dir / name).unlink(missing_ok=True)


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
