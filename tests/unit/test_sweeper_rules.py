"""The sweeper's decisions that need no database (chalicelib/domain/sweep_rules.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.sweep_rules import backlog_holds_rows, budget_cutoff, lease_holds

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    "expires, holds",
    [
        (NOW + SECOND, True),  # its invocation is presumed alive: a duplicate is a no-op
        (NOW, False),  # over: a delivery takes the run over
        (NOW - SECOND, False),
        (None, False),  # a fanned-out phase holds no lease of its own
    ],
)
def test_lease_holds_until_it_ends(expires, holds):
    assert lease_holds(expires, NOW) is holds


def test_the_budget_cutoff_is_the_budget_before_now():
    assert budget_cutoff(NOW, 1800) == NOW - timedelta(minutes=30)
    assert budget_cutoff(NOW, 3600) == NOW - timedelta(hours=1)


@pytest.mark.parametrize(
    "queued, webhooks, rows, holds",
    [
        (5, 0, 5, True),  # as many messages as rows: they are likely those rows' messages
        (9, 0, 3, True),
        (4, 0, 5, False),  # fewer: some rows' messages were lost, republish
        (0, 0, 1, False),
        (6, 3, 5, False),  # webhook deliveries' messages are no backlog of phases
        (8, 3, 5, True),
        (2, 5, 0, True),  # never below zero
    ],
)
def test_a_backlog_holds_the_rows_when_it_has_as_many_phase_messages(queued, webhooks, rows, holds):
    assert backlog_holds_rows(queued, webhooks, rows) is holds
