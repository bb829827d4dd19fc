"""Alembic environment: DATABASE_URL decides where migrations go."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine, pool

from chalicelib.db.models import Base

url = context.config.attributes.get("url") or os.environ["DATABASE_URL"]
engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
