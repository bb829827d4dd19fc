"""Apply Alembic migrations: `python -m chalicelib.db.migrate [DATABASE_URL]`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["url"] = url
    command.upgrade(config, revision)


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else os.environ["DATABASE_URL"]
    upgrade(target)
    print("migrated to head")
