"""The one HTTP layer for AI providers: POST JSON, classify failures, never leak a key.

429, 408, 5xx (incl. Anthropic's 529), timeouts and connection errors are retryable (honouring
Retry-After); any other status, 401/403 included, is permanent. Reasons are redacted: the values of
auth headers, and anything shaped like a bearer token or an `sk-` key, never appear in them.
"""
from __future__ import annotations

import email.utils
import json
import re
import time
from typing import Any, Iterable
from urllib.parse import urlsplit

import urllib3

from chalicelib.domain.errors import PermanentError, RetryableError

_POOL = urllib3.PoolManager(retries=False, maxsize=4)  # reused across warm invocations
AUTH_HEADERS = ("authorization", "x-api-key", "api-key")
KEY_SHAPES = re.compile(r"(?i)\bbearer\s+\S+|\bsk-[A-Za-z0-9_*\-]{6,}")
DETAIL_LIMIT = 300


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return KEY_SHAPES.sub("[redacted]", text)


def header_secrets(headers: dict[str, str]) -> list[str]:
    values = [v for k, v in headers.items() if k.lower() in AUTH_HEADERS and v]
    return values + [v.split(None, 1)[1] for v in values if v.lower().startswith("bearer ") and " " in v.strip()]


def retry_after(headers: dict[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `Retry-After` as seconds or an HTTP-date."""
    if headers.get("retry-after-ms"):
        try:
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        except ValueError:
            pass
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


def error_detail(payload: Any) -> str:
    """The provider's own words from an error body (OpenAI, Anthropic, Cloudflare shapes), short."""
    if isinstance(payload, dict):
        err = payload.get("error")
        if isinstance(err, dict):
            return str(err.get("message") or err.get("type") or err)[:DETAIL_LIMIT]
        if isinstance(err, str):
            return err[:DETAIL_LIMIT]
        errors = payload.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)[:DETAIL_LIMIT]
        if payload.get("message"):
            return str(payload["message"])[:DETAIL_LIMIT]
    return " ".join(str(payload).split())[:DETAIL_LIMIT]


def _status_error(host: str, status: int, headers: dict[str, str], payload: Any, secrets: list[str]) -> Exception:
    detail = redact(error_detail(payload), secrets)
    if status in (401, 403):
        return PermanentError(f"{host} rejected the credentials (HTTP {status}): {detail}")
    if status == 429 or status == 408 or status >= 500:
        kind = {429: "rate limited", 408: "request timeout", 529: "overloaded"}.get(status, "server error")
        return RetryableError(f"{host} {kind} (HTTP {status}): {detail}", retry_after=retry_after(headers))
    return PermanentError(f"{host} refused the request (HTTP {status}): {detail}")


def post_json(url: str, headers: dict[str, str], body: dict[str, Any], connect_timeout: float = 5.0,
              read_timeout: float = 60.0) -> tuple[int, dict[str, str], Any]:
    """POST `body` as JSON; returns (status, lower-cased headers, parsed JSON) for a 2xx, else raises."""
    host = urlsplit(url).netloc or url
    secrets = header_secrets(headers)
    all_headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "User-Agent": "sitegen", **headers}
    timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
    try:
        response = _POOL.request("POST", url, body=json.dumps(body).encode(), headers=all_headers,
                                 timeout=timeout, redirect=False, retries=False)
    except urllib3.exceptions.NewConnectionError:  # refused, DNS... (a ConnectTimeoutError subclass)
        raise RetryableError(f"could not connect to {host} (connection failed)") from None
    except urllib3.exceptions.ConnectTimeoutError:
        raise RetryableError(f"could not connect to {host} within {connect_timeout:g}s") from None
    except urllib3.exceptions.ReadTimeoutError:
        raise RetryableError(f"no response from {host} within {read_timeout:g}s (read timeout)") from None
    except urllib3.exceptions.HTTPError as exc:
        raise RetryableError(f"connection to {host} failed ({type(exc).__name__})") from None
    except ValueError:  # e.g. a header value with a line break; its text would carry the key
        raise PermanentError(f"the request to {host} could not be sent: a header value is invalid "
                             "(check the API key for spaces or line breaks)") from None
    response_headers = {k.lower(): v for k, v in response.headers.items()}
    raw = response.data
    try:
        payload: Any = json.loads(raw) if raw else None
        parsed = True
    except (ValueError, UnicodeDecodeError):
        payload, parsed = raw[:DETAIL_LIMIT].decode("utf-8", "replace"), False
    if not 200 <= response.status < 300:
        raise _status_error(host, response.status, response_headers, payload, secrets)
    if not parsed or payload is None:
        raise RetryableError(f"{host} returned HTTP {response.status} with a body that is not JSON")
    return response.status, response_headers, payload
