"""The sweeper's decisions that need no database: plain data in, a decision out (unit-tested).

The sweeper (chalicelib/services/sweeper.py) applies them; where a rule selects rows in SQL, the
threshold it compares with comes from here.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def lease_holds(lease_expires_at: datetime | None, now: datetime) -> bool:
    """A running run's lease still holds: its invocation is presumed alive, so a duplicate delivery
    is a no-op. Once it no longer holds, a delivery takes the run over (and the sweeper's rule 1, in
    SQL, re-enqueues a run whose lease ended before now). A run without a lease (a fanned-out phase:
    its parts hold theirs) holds none."""
    return lease_expires_at is not None and lease_expires_at > now


def budget_cutoff(now: datetime, budget_s: int) -> datetime:
    """A generation whose budget started (at its start or its last Resend) before this instant is
    over its total time budget; the sweeper's rule 2 selects them in SQL with it."""
    return now - timedelta(seconds=budget_s)


def backlog_holds_rows(queued: int, webhook_messages: int, rows_waiting: int) -> bool:
    """The queue holds at least as many phase messages as outbox rows wait (webhook deliveries'
    messages share the queue but are none of them): the rows' messages are likely in that backlog,
    so nothing is republished this time."""
    return max(0, queued - webhook_messages) >= rows_waiting
