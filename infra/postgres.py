"""A PostgreSQL server for local runs and tests: DATABASE_URL when given, else an embedded one."""
from __future__ import annotations

from pathlib import Path
from typing import Any


def _clear_stale_pid_file(data_dir: Path) -> None:
    """After a kill -9, postmaster.pid names a dead process and pgserver would try to reuse a server
    that is gone. PostgreSQL recovers from its WAL on start once the stale file is out of the way."""
    pid_file = data_dir / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    import psutil  # pgserver's own dependency

    try:
        alive = psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        alive = False
    if not alive:
        for name in ("postmaster.pid", ".s.PGSQL.5432", ".s.PGSQL.5432.lock"):
            (data_dir / name).unlink(missing_ok=True)


def embedded(data_dir: Path) -> tuple[str, Any]:
    """Start (or reuse) the embedded server whose data lives in data_dir. Returns (url, server)."""
    import pgserver  # only the local stack and tests need it

    data_dir.mkdir(parents=True, exist_ok=True)
    _clear_stale_pid_file(data_dir)
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
