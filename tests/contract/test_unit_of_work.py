"""The UnitOfWork contract against the real one on PostgreSQL (chalicelib/db/uow.py): rolled back unless
committed, committed work persists, an exception rolls back, and a failed statement does not poison the
next unit of work on the same pool. Needs the embedded server: `make test-fast` skips it (marker
`postgres`, set for every test that uses the database_url fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

from chalicelib.db.uow import UnitOfWork
from chalicelib.ports import UnitOfWork as UnitOfWorkPort

TABLE = "contract_uow_probe"


@pytest.fixture()
def uow_factory(database_url: str) -> Iterator[Any]:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE IF NOT EXISTS {TABLE} (name text PRIMARY KEY)"))
        conn.execute(text(f"TRUNCATE {TABLE}"))
    factory = sessionmaker(engine, expire_on_commit=False)

    def make() -> UnitOfWorkPort:
        return UnitOfWork(factory)

    yield make
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {TABLE}"))
    engine.dispose()


def names(make: Any) -> list[str]:
    with make() as uow:
        return [row[0] for row in uow.session.execute(text(f"SELECT name FROM {TABLE} ORDER BY name"))]


def insert(uow: UnitOfWorkPort, name: str) -> None:
    uow.session.execute(text(f"INSERT INTO {TABLE} (name) VALUES (:n)"), {"n": name})


def test_work_not_committed_is_rolled_back(uow_factory: Any) -> None:
    with uow_factory() as uow:
        insert(uow, "forgotten")
    assert names(uow_factory) == []


def test_committed_work_persists(uow_factory: Any) -> None:
    with uow_factory() as uow:
        insert(uow, "kept")
        uow.commit()
        insert(uow, "after the commit, not committed")
    assert names(uow_factory) == ["kept"]


def test_an_exception_rolls_back_and_propagates(uow_factory: Any) -> None:
    with pytest.raises(RuntimeError, match="boom"), uow_factory() as uow:
        insert(uow, "half done")
        raise RuntimeError("boom")
    assert names(uow_factory) == []


def test_a_failed_statement_does_not_poison_the_next_unit_of_work(uow_factory: Any) -> None:
    with uow_factory() as uow:
        insert(uow, "dup")
        uow.commit()
    with pytest.raises(DBAPIError), uow_factory() as uow:  # the pool has one connection: the same one next
        insert(uow, "dup")
    with uow_factory() as uow:
        insert(uow, "next")
        uow.commit()
    assert names(uow_factory) == ["dup", "next"]
