"""The fast tier's checks of how a failed phase is judged: what is retryable, how long to wait (the
backoff and a provider's Retry-After), and that its log lines are written once (with the fake log
store). No PostgreSQL, no AWS."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import OperationalError

from chalicelib.ai import http
from chalicelib.domain import lifecycle
from chalicelib.domain.errors import PermanentError, RetryableError
from chalicelib.services import pipeline
from chalicelib.services.progress import ProgressLog
from tests.support.fakes import FakeLogStore

GEN = "3f1c9a52-8d0e-4b7a-9a41-0c2b8e5d7f10"
OFFICIAL = "https://api.openai.com/v1/chat/completions"


# --- backoff (its jitter, Retry-After floor and cap: tests/unit/test_lifecycle.py) -----------------
def test_backoff_with_base_zero_retries_at_once_unless_told_to_wait() -> None:
    assert lifecycle.backoff_seconds(0, 4, None) == 0
    assert lifecycle.backoff_seconds(0, 4, 7.0) == 7


# --- what a phase's exception means --------------------------------------------------------------
def test_a_phase_error_is_kept_as_it_is() -> None:
    permanent = PermanentError("review found 2 errors")
    retryable = RetryableError("rate limited", retry_after=3.0)
    assert pipeline._classify(permanent) is permanent and not permanent.retryable
    assert pipeline._classify(retryable) is retryable and retryable.retry_after == 3.0


def test_a_database_error_is_retryable_and_named() -> None:
    error = pipeline._classify(OperationalError("SELECT 1", {}, ConnectionResetError("reset by peer")))
    assert error.retryable
    assert error.reason.startswith("database error (ConnectionResetError)")


def test_output_that_fails_validation_is_retryable_and_says_where() -> None:
    class Out(BaseModel):
        title: str

    with pytest.raises(ValidationError) as caught:
        Out.model_validate({"title": 3})
    error = pipeline._classify(caught.value)
    assert error.retryable
    assert "output failed validation: 1 error(s)" in error.reason and "('title',)" in error.reason


def test_any_other_exception_is_retryable_and_redacted() -> None:
    error = pipeline._classify(ConnectionError("refused with Authorization: Bearer abc.def.ghi"))
    assert error.retryable
    assert error.reason.startswith("ConnectionError: ") and "abc.def.ghi" not in error.reason


# --- a provider's HTTP answer ----------------------------------------------------------------------
@pytest.mark.parametrize("status", [429, 408, 500, 502, 503, 529])
def test_rate_limits_timeouts_and_server_errors_are_retryable(status: int) -> None:
    error = http._status_error(
        OFFICIAL, status, {"retry-after": "12"}, {"error": {"message": "slow down"}}, []
    )
    assert isinstance(error, RetryableError) and error.retry_after == 12.0
    assert http.http_status(error) == status and "slow down" in error.reason


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_other_answers_are_permanent_and_never_wait(status: int) -> None:
    error = http._status_error(OFFICIAL, status, {"retry-after": "12"}, {"error": "bad"}, [])
    assert isinstance(error, PermanentError) and error.retry_after is None
    assert http.http_status(error) == status


def test_a_rejected_key_is_named_without_the_key() -> None:
    key = "sk-live-0123456789abcdef"
    error = http._status_error(OFFICIAL, 401, {}, {"error": {"message": f"Incorrect API key {key}"}}, [key])
    assert "rejected the credentials (HTTP 401)" in error.reason and key not in error.reason


def test_an_unofficial_host_s_own_words_are_not_quoted() -> None:
    error = http._status_error("https://llm.example.net/v1/chat", 500, {}, {"error": "internal text"}, [])
    assert error.retryable and "internal text" not in error.reason


def test_retry_after_in_its_three_forms() -> None:
    assert http.retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert http.retry_after({"retry-after": "9"}) == 9.0
    assert http.retry_after({"retry-after": "-4"}) == 0.0
    past = format_datetime(datetime(2001, 1, 1, tzinfo=UTC), usegmt=True)
    assert http.retry_after({"retry-after": past}) == 0.0
    assert http.retry_after({"retry-after": "soon"}) is None
    assert http.retry_after({}) is None


# --- the failure's log lines -----------------------------------------------------------------------
def test_a_failure_s_lines_are_written_once_however_often_it_is_announced() -> None:
    store = FakeLogStore()
    failed_at = datetime(2026, 1, 1, 12, 0, 5, tzinfo=UTC)
    for _ in range(3):  # the message redelivered, the sweeper, the dead-letter handler
        log = ProgressLog(store, GEN)
        log.lifecycle("phase_failed", failed_at, "Phase code failed: boom", phase="code", level="error")
        log.generation_failed(failed_at, "boom")
    assert [(x.event, x.level) for x in store.all(GEN)] == [
        ("phase_failed", "error"),
        ("generation_failed", "error"),
    ]


def test_each_retry_attempt_is_its_own_line() -> None:
    store = FakeLogStore()
    at = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    log = ProgressLog(store, GEN)
    assert log.lifecycle("phase_retrying", at, "retry 1", phase="code", key="1") is True
    assert log.lifecycle("phase_retrying", at, "retry 2", phase="code", key="2") is True
    assert log.lifecycle("phase_retrying", at, "retry 1 again", phase="code", key="1") is False
    assert [x.message for x in store.all(GEN)] == ["retry 1", "retry 2"]


def test_a_log_store_that_is_down_never_takes_the_phase_down(capsys: pytest.CaptureFixture[str]) -> None:
    store = FakeLogStore()
    store.down = ConnectionError("dynamodb unreachable")
    log = ProgressLog(store, GEN)
    assert log.generation_failed(datetime(2026, 1, 1, tzinfo=UTC), "boom") is None
    log.info("progress", phase="code")
    log.flush()
    out = capsys.readouterr().out
    assert "log store unavailable" in out and "boom" in out and "progress" in out
    store.down = None
    assert store.all(GEN) == []
