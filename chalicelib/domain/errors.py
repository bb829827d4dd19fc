"""Domain exceptions. The HTTP edge maps them to status codes; nothing else knows HTTP."""

from __future__ import annotations


class SitegenError(Exception):
    code = "error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(SitegenError):
    code = "not_found"


class Conflict(SitegenError):
    code = "conflict"


class InvalidInput(SitegenError):
    code = "validation_error"


class PhaseError(Exception):
    """A phase could not complete. `retryable` decides between backoff and failing fast."""

    retryable = False

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class RetryableError(PhaseError):
    retryable = True


class PermanentError(PhaseError):
    retryable = False


class IllegalTransition(Exception):
    """A status change the state machine (chalicelib/domain/lifecycle.py) does not allow: a bug, not
    something a caller did, so no HTTP status maps to it."""

    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"cannot {action} from {status!r}")
        self.status = status
        self.action = action
