"""The one HTTP layer for AI providers: POST JSON, classify failures, never leak a key.

429, 408, 5xx (incl. Anthropic's 529), timeouts and connection errors are retryable (honouring
Retry-After); any other status, 401/403 included, is permanent. Reasons are redacted: the values of
auth headers, and anything shaped like a bearer token or an `sk-` key, never appear in them.

Before anything is sent the URL passes chalicelib/ai/egress.py; the connection goes to the address
checked there (TLS still verifies the certificate against the host name, sent as SNI and `Host`), so a
name that resolves elsewhere a moment later (DNS rebinding) changes nothing. Redirects are not
followed. At most MAX_RESPONSE_BYTES of an answer are read, within the call's time budget; a
provider's own error text is quoted only when it comes from its official host, so a config pointed at
some other server cannot read that server's answers through sitegen.
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import urllib3

from chalicelib.ai import egress
from chalicelib.ai.egress import EndpointRefused, host_label, resolve, url_problem
from chalicelib.domain.errors import PermanentError, PhaseError, RetryableError
from chalicelib.log import KEY_SHAPES  # the one definition of a key's shapes

AUTH_HEADERS = ("authorization", "x-api-key", "api-key")
DETAIL_LIMIT = 300
MAX_RESPONSE_BYTES = 4 * 1024 * 1024  # a site's coding answer is ~40 KB; the functions have 256 MB
CHUNK_BYTES = 64 * 1024
MAX_POOLS = 8
CA_CERTS: str | None = None  # None: the system's trust store (tests point it at their own CA)
_POOLS: OrderedDict[tuple[str, str, str, int], urllib3.HTTPConnectionPool] = OrderedDict()
_POOLS_LOCK = threading.Lock()


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return KEY_SHAPES.sub("[redacted]", text)


def header_secrets(headers: dict[str, str]) -> list[str]:
    values = [v for k, v in headers.items() if k.lower() in AUTH_HEADERS and v]
    return values + [
        v.split(None, 1)[1] for v in values if v.lower().startswith("bearer ") and " " in v.strip()
    ]


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
            return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)[
                :DETAIL_LIMIT
            ]
        if payload.get("message"):
            return str(payload["message"])[:DETAIL_LIMIT]
    return " ".join(str(payload).split())[:DETAIL_LIMIT]


def http_status(exc: BaseException) -> int | None:
    """The HTTP status a provider answered with, for an error raised here; None if it never answered."""
    return getattr(exc, "http_status", None)


def _answered(exc: PhaseError, status: int) -> PhaseError:
    exc.__dict__["http_status"] = status  # read by http_status(); the domain's errors do not declare it
    return exc


def _status_error(
    url: str, status: int, headers: dict[str, str], payload: Any, secrets: list[str]
) -> PhaseError:
    host = host_label(url)
    detail = f": {redact(error_detail(payload), secrets)}" if egress.is_official(url) else ""
    if status in (401, 403):
        return _answered(PermanentError(f"{host} rejected the credentials (HTTP {status}){detail}"), status)
    if status == 429 or status == 408 or status >= 500:
        kind = {429: "rate limited", 408: "request timeout", 529: "overloaded"}.get(status, "server error")
        return _answered(
            RetryableError(f"{host} {kind} (HTTP {status}){detail}", retry_after=retry_after(headers)), status
        )
    return _answered(PermanentError(f"{host} refused the request (HTTP {status}){detail}"), status)


def _pool(scheme: str, host: str, address: str, port: int) -> urllib3.HTTPConnectionPool:
    """A connection pool to one checked address, reused across warm invocations."""
    key = (scheme, host, address, port)
    with _POOLS_LOCK:
        pool = _POOLS.pop(key, None)
        if pool is None and scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                address,
                port,
                maxsize=4,
                retries=False,
                server_hostname=host,
                assert_hostname=host,
                cert_reqs="CERT_REQUIRED",
                ca_certs=CA_CERTS,
            )
        elif pool is None:
            pool = urllib3.HTTPConnectionPool(address, port, maxsize=4, retries=False)
        _POOLS[key] = pool
        while len(_POOLS) > MAX_POOLS:
            _POOLS.popitem(last=False)[1].close()
    return pool


def _open(
    url: str, addresses: list[str], body: bytes, headers: dict[str, str], timeout: urllib3.Timeout
) -> urllib3.BaseHTTPResponse:
    """Send to the first address that takes the connection (the request is sent once at most)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for n, address in enumerate(addresses):
        pool = _pool(parts.scheme, parts.hostname or "", address, port)
        try:
            return pool.urlopen(
                "POST",
                parts.path or "/",
                body=body,
                headers=headers,
                timeout=timeout,
                retries=False,
                redirect=False,
                assert_same_host=False,
                preload_content=False,
                decode_content=False,
            )
        except urllib3.exceptions.ConnectTimeoutError:  # NewConnectionError too: nothing was sent
            if n == len(addresses) - 1:
                raise
    raise AssertionError("no address to connect to")  # resolve() never returns an empty list


def _read(response: urllib3.BaseHTTPResponse, host: str, deadline: float) -> bytes:
    """The body, at most MAX_RESPONSE_BYTES, read before `deadline` (each wait is cut to what is left)."""
    length = (response.headers.get("content-length") or "").strip()
    if length.isdigit() and int(length) > MAX_RESPONSE_BYTES:
        raise PermanentError(
            f"{host} announced an answer of {int(length)} bytes; sitegen reads at most "
            f"{MAX_RESPONSE_BYTES} bytes"
        )
    if (response.headers.get("content-encoding") or "identity").strip().lower() != "identity":
        raise RetryableError(f"{host} sent a compressed answer although sitegen asked for none")
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise RetryableError(f"{host} did not finish its answer in time")
        sock = getattr(getattr(response, "connection", None), "sock", None)
        if sock is not None:
            sock.settimeout(max(0.01, left))
        chunk = response.read1(CHUNK_BYTES)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise PermanentError(
                f"{host} sent an answer larger than {MAX_RESPONSE_BYTES} bytes; sitegen stopped reading it"
            )
        chunks.append(chunk)


def _send(
    url: str,
    addresses: list[str],
    body: bytes,
    headers: dict[str, str],
    connect_timeout: float,
    read_timeout: float,
) -> urllib3.BaseHTTPResponse:
    """_open, with its failures as the phase errors they are (none of them carries a header's value)."""
    host = host_label(url)
    timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
    try:
        return _open(url, addresses, body, headers, timeout)
    except urllib3.exceptions.NewConnectionError:  # refused, unreachable (a ConnectTimeoutError subclass)
        raise RetryableError(f"could not connect to {host} (connection failed)") from None
    except urllib3.exceptions.ConnectTimeoutError:
        raise RetryableError(f"could not connect to {host} within {connect_timeout:g}s") from None
    except urllib3.exceptions.ReadTimeoutError:
        raise RetryableError(f"no response from {host} within {read_timeout:g}s (read timeout)") from None
    except urllib3.exceptions.HTTPError as exc:
        raise RetryableError(f"connection to {host} failed ({type(exc).__name__})") from None
    except ValueError:  # e.g. a header value with a line break; its text would carry the key
        raise PermanentError(
            f"the request to {host} could not be sent: a header value is invalid "
            "(check the API key for spaces or line breaks)"
        ) from None


def post_json(
    url: str,
    headers: dict[str, str],
    body: dict[str, Any],
    connect_timeout: float = 5.0,
    read_timeout: float = 60.0,
) -> tuple[int, dict[str, str], Any]:
    """POST `body` as JSON; returns (status, lower-cased headers, parsed JSON) for a 2xx, else raises.
    The whole call, answer included, takes at most about connect_timeout + read_timeout."""
    host = host_label(url)
    secrets = header_secrets(headers)
    problem = url_problem(url, sends_key=bool(secrets))
    if problem:
        raise EndpointRefused(problem)
    deadline = time.monotonic() + connect_timeout + read_timeout
    addresses = resolve(url)  # EndpointRefused, or RetryableError when the name does not resolve
    parts = urlsplit(url)
    all_headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Accept-Encoding": "identity",
        "User-Agent": "sitegen",
        **headers,
        "Host": parts.netloc,
    }
    response = _send(url, addresses, json.dumps(body).encode(), all_headers, connect_timeout, read_timeout)
    response_headers = {k.lower(): v for k, v in response.headers.items()}
    try:
        raw = _read(response, host, deadline)
    except PhaseError as exc:
        response.close()
        raise _answered(exc, response.status) from None
    except urllib3.exceptions.ReadTimeoutError:
        response.close()
        raise _answered(
            RetryableError(f"{host} did not finish its answer in time"), response.status
        ) from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        response.close()
        raise _answered(
            RetryableError(f"connection to {host} failed while reading ({type(exc).__name__})"),
            response.status,
        ) from None
    finally:
        response.release_conn()
    try:
        payload: Any = json.loads(raw) if raw else None
        parsed = True
    except (ValueError, UnicodeDecodeError, RecursionError):
        payload, parsed = raw[:DETAIL_LIMIT].decode("utf-8", "replace"), False
    if not 200 <= response.status < 300:
        raise _status_error(url, response.status, response_headers, payload, secrets)
    if not parsed or payload is None:
        raise _answered(
            RetryableError(f"{host} returned HTTP {response.status} with a body that is not JSON"),
            response.status,
        )
    return response.status, response_headers, payload
