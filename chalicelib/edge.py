"""HTTP edge helpers: parse requests into pydantic models, turn exceptions into one JSON error shape.

Shape of every error: {"code": "...", "message": "...", "details": [...] | null} (+ extra fields).
"""

from __future__ import annotations

import functools
import json
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from chalice import Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from chalicelib.db.errors import sqlstate
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound, SitegenError

M = TypeVar("M", bound=BaseModel)
JSON: dict[str, str | list[str]] = {"Content-Type": "application/json"}  # chalice's HeadersType
STATUS = {NotFound: 404, Conflict: 409, InvalidInput: 400}


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details, self.extra = status, code, message, details, extra


def error(
    status: int, code: str, message: str, details: list[dict[str, Any]] | None = None, **extra: Any
) -> Response:
    body = {"code": code, "message": message, "details": details, **extra}
    return Response(body=json.dumps(body), status_code=status, headers=JSON)


def ok(model: BaseModel, status: int = 200) -> Response:
    return Response(body=model.model_dump_json(), status_code=status, headers=JSON)


def parse_body(request: Any, model: type[M], max_bytes: int) -> M:
    raw = request.raw_body or b""
    if len(raw) > max_bytes:
        raise ApiError(413, "payload_too_large", f"request body is larger than {max_bytes} bytes")
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_json", f"request body is not valid JSON: {exc}") from None
    except RecursionError:  # e.g. a thousand nested [
        raise ApiError(400, "invalid_json", "request body is nested too deeply") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "request body must be a JSON object")
    nul = _nul_field(data)
    if nul is not None:  # Postgres text and jsonb cannot hold U+0000
        raise ApiError(
            422,
            "validation_error",
            "request body is invalid",
            [{"field": nul, "message": "must not contain the NUL character (\\u0000)"}],
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        raise ApiError(422, "validation_error", "request body is invalid", details) from None


def _nul_field(data: Any) -> str | None:
    """The dotted path of the first key or string value holding a NUL character, else None.
    Iterative: the body may be nested almost as deep as the JSON parser allows."""
    stack: list[tuple[tuple[Any, ...], Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str) and "\x00" in value:
            return ".".join(str(p) for p in path)
        if isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    return ".".join(str(p) for p in (*path, key))
                stack.append(((*path, key), item))
        elif isinstance(value, list):
            stack.extend(((*path, i), item) for i, item in enumerate(value))
    return None


def int_param(request: Any, name: str, default: int, low: int, high: int) -> int:
    raw = (request.query_params or {}).get(name)
    if raw is None or raw == "":
        return default
    # isascii: "²".isdigit() is true but int("²") fails; the length bound keeps int() cheap
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or not low <= int(raw) <= high:
        raise ApiError(
            400,
            "validation_error",
            f"{name} must be an integer from {low} to {high}",
            [{"field": name, "message": "out of range"}],
        )
    return int(raw)


def token_scope(request: Any) -> str | None:
    """The scope the authorizer gave the request's token (its context), None if there is none."""
    return ((getattr(request, "context", None) or {}).get("authorizer") or {}).get("scope")


def require_scope(request: Any, needed: str) -> None:
    from chalicelib.auth import allows

    granted = token_scope(request)
    if not allows(granted, needed):
        raise ApiError(
            403,
            "forbidden",
            f"this token's scope ({granted or 'none'}) does not allow this; "
            f"it needs a token with the {needed} scope",
        )


def str_param(request: Any, name: str) -> str | None:
    return (request.query_params or {}).get(name) or None


def endpoint(view: Callable[..., Response]) -> Callable[..., Response]:
    """Wrap a route: specific exceptions become 4xx/503 JSON; anything else a 500 without internals."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except ApiError as exc:
            return error(exc.status, exc.code, exc.message, exc.details, **exc.extra)
        except SitegenError as exc:
            details = (
                [{"field": exc.details["field"], "message": exc.message}] if "field" in exc.details else None
            )
            extra = {k: v for k, v in exc.details.items() if k != "field"}
            return error(STATUS.get(type(exc), 400), exc.code, exc.message, details, **extra)
        except Exception as exc:
            if sqlstate(exc).startswith("23"):  # a constraint another request's change made true meanwhile
                _report(exc)
                return error(
                    409,
                    "conflict",
                    "another request changed the same data meanwhile; read it again and retry",
                )
            if _unavailable(exc):  # an outage: worth retrying. A database error from a bug is a 500.
                _report(exc)
                return error(
                    503, "dependency_unavailable", "a backing service is unavailable; try again shortly"
                )
            _report(exc)
            return error(500, "internal_error", "internal error; it has been logged")

    return wrapper


# SQLSTATE classes that mean "the server is not there for you right now": connection exceptions,
# insufficient resources, operator intervention (shutdown, cannot connect now), system errors.
OUTAGE_SQLSTATES = ("08", "53", "57P", "58")


def _unavailable(exc: Exception) -> bool:
    if isinstance(exc, (ConnectionError, TimeoutError)):  # e.g. a socket reset under the driver
        return True
    if isinstance(exc, DBAPIError):
        code = sqlstate(exc)
        return (
            isinstance(exc, (OperationalError, InterfaceError))
            or exc.connection_invalidated
            or exc.statement is None  # failed while connecting (e.g. "not accepting connections")
            or code.startswith(OUTAGE_SQLSTATES)
        )
    return type(exc).__module__.startswith(("pg8000", "botocore", "urllib3"))


def _report(exc: BaseException) -> None:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code") if hasattr(exc, "response") else None
    print(
        json.dumps(
            {
                "level": "error",
                "message": "request failed",
                "error": type(exc).__name__,
                "code": code,
                "where": traceback.format_tb(exc.__traceback__)[-3:],
            }
        ),
        file=sys.stdout,
        flush=True,
    )
