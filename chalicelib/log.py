"""sitegen's one logging module: one JSON line on stdout per call, which CloudWatch Logs keeps per function.

    from chalicelib import log as logger          # `log` is often a ProgressLog in this code base

    logger.info("webhook created", webhook_id=wid)      # {"level": "info", "message": "webhook created", ...}
    with logger.context(request_id=..., generation_id=..., phase=..., part=..., attempt=...):
        ...                                          # every line inside carries those fields
    logger.metric("phase_duration", 812.5, "Milliseconds", phase="content")   # a CloudWatch EMF line

A line is `level`, `message`, the call's own fields in their order, then the context's fields that the
call did not give (a field given as None is filled from the context). The context lives in a
`contextvars.ContextVar`: the handlers in app.py and services/worker.py set it when they start on an
event and it is gone when they return, raise or nest out; nothing leaks into the next invocation.
`attempt` is the SQS message's receive count (the phase's own attempt number is in the progress log).

No secrets: every string in a line (message, fields, context) passes KEY_SHAPES, the shapes of a
bearer token or an `sk-` key, as the AI layer's reasons do (chalicelib/ai/http.py `redact`).
"""

from __future__ import annotations

import contextvars
import json
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

KEY_SHAPES = re.compile(r"(?i)\bbearer\s+\S+|\bsk-[A-Za-z0-9_*\-]{6,}")
NAMESPACE = "sitegen"
CONTEXT_FIELDS = ("request_id", "generation_id", "phase", "part", "attempt")
_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("sitegen_log_context")


@contextmanager
def context(**fields: Any) -> Iterator[None]:
    """Add fields (those not None) to every line written inside; the outer context comes back on exit."""
    token = _context.set({**_fields(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def current() -> dict[str, Any]:
    return dict(_fields())


def _fields() -> dict[str, Any]:
    return _context.get({})  # never changed in place: context() sets a new dict


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


def line(level: str, message: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The line a call writes, before JSON: see the module's docstring."""
    out: dict[str, Any] = {"level": level, "message": message, **fields}
    for key, value in _fields().items():
        if out.get(key) is None:
            out[key] = value
    return clean(out)  # type: ignore[no-any-return]


def write(level: str, message: str, **fields: Any) -> None:
    _emit(line(level, message, fields))


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
    doc: dict[str, Any] = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [sorted(dimensions)],
                    "Metrics": [{"Name": name, "Unit": unit}],
                }
            ],
        },
        name: value,
        **dimensions,
    }
    for key, val in _fields().items():
        doc.setdefault(key, val)
    _emit(clean(doc))


def _emit(doc: dict[str, Any]) -> None:
    print(json.dumps(doc, default=str), file=sys.stdout, flush=True)
