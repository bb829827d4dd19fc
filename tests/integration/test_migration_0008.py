"""Migration 0008 on a database that has orders already: each order's newest succeeded generation becomes
its live version (what auto_publish would have done), with its pointer left for the sweeper to write."""

from __future__ import annotations

import os
import uuid
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from chalicelib.db.migrate import upgrade
from infra.postgres import create_database


def test_existing_orders_get_their_newest_succeeded_generation_live(database_url):
    admin = make_url(database_url).set(database="postgres").render_as_string(hide_password=False)
    url = create_database(admin, f"sitegen_migration_{os.getpid()}")
    upgrade(url, "0006")
    engine = create_engine(url)
    a, b = uuid.uuid4(), uuid.uuid4()
    a1, a2, a3, b1 = (uuid.uuid4() for _ in range(4))
    with engine.begin() as conn:
        for oid in (a, b):
            conn.execute(
                text(
                    "INSERT INTO orders (id, business_name, segment, services, contact, brand, locale) "
                    "VALUES (:id, 'x', 'y', '[]', '{}', '{}', 'en')"
                ),
                {"id": oid},
            )
        for gid, oid, status in (
            (a1, a, "succeeded"),
            (a2, a, "succeeded"),
            (a3, a, "failed"),
            (b1, b, "failed"),
        ):
            conn.execute(
                text(
                    "INSERT INTO generations (id, order_id, status, finished_at) VALUES (:id, :o, :s, now())"
                ),
                {"id": gid, "o": oid, "s": status},
            )
    upgrade(url, "0008")
    with engine.connect() as conn:
        orders = {
            r.id: r
            for r in conn.execute(
                text("SELECT id, auto_publish, live_generation_id, pointer_generation_id FROM orders")
            )
        }
        published: dict[Any, bool] = dict(
            conn.execute(text("SELECT id, published_at = finished_at FROM generations")).all()
        )
        behind = (
            conn.execute(
                text("SELECT id FROM orders WHERE live_generation_id IS DISTINCT FROM pointer_generation_id")
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert orders[a].live_generation_id == a2 and orders[a].auto_publish is True
    assert orders[a].pointer_generation_id is None and behind == [a]  # the sweeper writes its pointer
    assert orders[b].live_generation_id is None and orders[b].auto_publish is True
    assert published == {a1: None, a2: True, a3: None, b1: None}
