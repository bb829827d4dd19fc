"""The SecretStore contract, for the fake and for Secrets Manager; and the Clock's."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from chalicelib.bootstrap import utcnow
from chalicelib.ports import Clock
from tests.support.contract_harness import SECRET_PREFIX, SecretHarness
from tests.support.fakes import FakeClock


def test_put_returns_the_ref_and_get_reads_it(secrets: SecretHarness) -> None:
    ref = secrets.store.put("cfg-1", "sk-first-value")
    assert ref == secrets.store.ref_for("cfg-1") == f"{SECRET_PREFIX}cfg-1"
    assert secrets.store.get(ref) == "sk-first-value"


def test_put_again_overwrites(secrets: SecretHarness) -> None:
    ref = secrets.store.put("cfg-1", "old")
    assert secrets.store.put("cfg-1", "new") == ref
    assert secrets.store.get(ref) == "new"


def test_a_deleted_secret_is_unreadable_until_put_again(secrets: SecretHarness) -> None:
    ref = secrets.store.put("cfg-1", "value")
    secrets.store.delete(ref)
    with pytest.raises(KeyError):
        secrets.store.get(ref)
    secrets.store.delete(ref)  # twice: not an error
    assert secrets.store.put("cfg-1", "restored") == ref
    assert secrets.store.get(ref) == "restored"


def test_an_unknown_secret_is_a_key_error_and_deleting_it_is_not_an_error(secrets: SecretHarness) -> None:
    with pytest.raises(KeyError):
        secrets.store.get(f"{SECRET_PREFIX}never")
    secrets.store.delete(f"{SECRET_PREFIX}never")


@pytest.mark.parametrize("clock", [utcnow, FakeClock()], ids=["real", "fake"])
def test_a_clock_gives_an_aware_utc_datetime(clock: Clock) -> None:
    now = clock()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert now.astimezone(UTC) == now


def test_the_fake_clock_stands_still_until_moved() -> None:
    clock = FakeClock()
    start = clock()
    assert clock() == start
    assert clock.advance(90) == start + timedelta(seconds=90) == clock()
    with pytest.raises(ValueError):
        FakeClock(start.replace(tzinfo=None))
