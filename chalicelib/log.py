"""sitegen's one logging module: one JSON line on stdout per call, which CloudWatch Logs keeps per function.

    from chalicelib import log as logger          # `log` is often a ProgressLog in this code base

    logger.info("webhook created", webhook_id=wid)      # {"level": "info", "message": "webhook created", ...}
    with logger.context(request_id=..., generation_id=..., phase=..., part=..., receive_count=...):
        ...                                          # every line inside carries those fields
        logger.bind(attempt=2)                       # and, from here to the context's end, this one
    logger.metric("phase_duration", 812.5, "Milliseconds", phase="content")   # a CloudWatch EMF line

Lines are written by aws-lambda-powertools' Logger and metrics by its EMF `single_metric` (why, and
what they cost at cold start: docs/benchmarks.md, "Logging: powertools or our own"). Both are imported
on the first line, not with the module: a function that writes nothing (the authorizer) never pays.

A line is `level` (lower case), `message`, the call's own fields in their order, then the context's
fields that the call did not give (a field given as None is filled from the context; one still None is
left out). The context lives in a `contextvars.ContextVar`: the handlers in app.py and
services/worker.py set it when they start on an event, and it is gone when they return, raise or nest
out; nothing leaks into the next invocation. `attempt` is the run's own attempt number (the phase's or
the part's, as in the progress log and `GET /generations/{id}`), bound once the claim knows it;
`receive_count` is the SQS message's. They differ: a retry is a new message, received once.

No secrets: every string in a line (message, fields, context) passes KEY_SHAPES, the shapes of a
bearer token or an `sk-` key, as the AI layer's reasons do (chalicelib/ai/http.py `redact`).
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

KEY_SHAPES = re.compile(r"(?i)\bbearer\s+\S+|\bsk-[A-Za-z0-9_*\-]{6,}")
NAMESPACE = "sitegen"
LOGGER_NAME = "sitegen_log"  # not "sitegen": that is Chalice's app logger, with its own plain-text handler
CONTEXT_FIELDS = ("request_id", "generation_id", "phase", "part", "attempt", "receive_count")
# A LogRecord's own attributes (and powertools' root keys) cannot be extra fields: such a field is
# written with a trailing underscore instead of making the logging call raise.
_TAKEN = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "level",
    "location",
    "timestamp",
}
_LEVELS = ("debug", "info", "warning", "error", "critical")
_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("sitegen_log_context")


@contextmanager
def context(**fields: Any) -> Iterator[None]:
    """Add fields (those not None) to every line written inside; the outer context comes back on exit."""
    token = _context.set({**_fields(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def bind(**fields: Any) -> None:
    """Add fields (those not None) to the innermost context() until it ends: what a handler learns on
    the way (the run's attempt, known after the claim). Outside any context() it does nothing, so
    nothing outlives an invocation."""
    if _context.get(None) is not None:
        _context.set({**_fields(), **{k: v for k, v in fields.items() if v is not None}})


def current() -> dict[str, Any]:
    return dict(_fields())


def _fields() -> dict[str, Any]:
    return _context.get({})  # never changed in place: context() and bind() set a new dict


def clean(value: Any) -> Any:
    """A JSON-ready copy of value with key-shaped strings redacted."""
    if isinstance(value, str):
        return KEY_SHAPES.sub("[redacted]", value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [clean(v) for v in value]
    return clean(str(value))


def write(level: str, message: str, **fields: Any) -> None:
    """One line at level (debug, info, warning, error, critical): see the module's docstring."""
    extra = dict(fields)
    for key, value in _fields().items():
        if extra.get(key) is None:
            extra[key] = value
    extra = {(f"{k}_" if k in _TAKEN else k): v for k, v in clean(extra).items()}
    getattr(_logger(), level if level in _LEVELS else "info")(clean(message), extra=extra)


def info(message: str, **fields: Any) -> None:
    write("info", message, **fields)


def warning(message: str, **fields: Any) -> None:
    write("warning", message, **fields)


def error(message: str, **fields: Any) -> None:
    write("error", message, **fields)


def failure(exc: BaseException) -> dict[str, str]:
    """The fields that describe an exception: its type and (redacted when written) its first 300 characters."""
    return {"error": type(exc).__name__, "detail": str(exc)[:300]}


def metric(name: str, value: float, unit: str = "Count", **dimensions: str) -> None:
    """One CloudWatch embedded-metric-format line: `name` in namespace sitegen by the given dimensions
    (keep them few-valued: phase, outcome); the context's fields ride along as properties to search by."""
    from aws_lambda_powertools.metrics import single_metric

    with single_metric(name=name, unit=unit, value=value, namespace=NAMESPACE) as emf:  # type: ignore[arg-type]
        for key, val in dimensions.items():
            emf.add_dimension(name=key, value=str(val))
        for key, val in clean(_fields()).items():
            if key not in dimensions:
                emf.add_metadata(key=key, value=val)


class _Stdout:
    """sys.stdout as it is at each write (a test's capture, a redirected stream), not at start."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def _lower_level(record: logging.LogRecord) -> bool:
    record.levelname = record.levelname.lower()  # "info", as the progress log and every line before
    return True


@functools.cache
def _logger() -> Logger:
    from aws_lambda_powertools import Logger

    logger = Logger(
        service=LOGGER_NAME,
        stream=_Stdout(),  # type: ignore[arg-type]
        log_record_order=["level", "message"],
        json_serializer=functools.partial(json.dumps, default=str),
    )
    # CloudWatch stamps each line and names its function: these would only sit between message and fields.
    logger.remove_keys(["location", "timestamp", "service"])
    logger.addFilter(_lower_level)
    logging.getLogger(LOGGER_NAME).propagate = False  # the Lambda runtime's root handler would write it again
    return logger
