"""Where a webhook may be sent, and the one POST that sends it: `check_url(url)` and `post(url, body, headers)`.

The address rules are AI configs' (chalicelib/ai/egress.py, the same setting
`SITEGEN_AI_ALLOW_PRIVATE_NETWORKS`): every address of the host must be public unicast in every notation;
cloud metadata, multicast, broadcast and unspecified addresses are always refused; the connection goes
to the address checked (DNS rebinding changes nothing) and TLS still verifies the host name; redirects
are not followed. The form differs in one point: a webhook URL may carry a query (receivers often put a
routing token there); userinfo and fragments are refused, and plain http only with that setting.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3

from chalicelib.ai.egress import ALLOW_PRIVATE_ENV, address_problem, host_label, url_problem

MAX_ANSWER_BYTES = 64 * 1024  # the answer's body is not used; read a little so the connection can be reused
HINT = f"{ALLOW_PRIVATE_ENV}=1 allows private networks and plain http (the local stack sets it)"
CA_CERTS: str | None = None  # None: the system's trust store (tests may point it at their own CA)


class UrlRefused(ValueError):
    """The URL may not be called. The message names the host at most, never userinfo."""


class DeliveryFailed(Exception):
    """The POST did not get a 2xx answer. `status` is the HTTP status when there was an answer."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.status = reason, status


@dataclass(frozen=True)
class Answer:
    status: int
    elapsed_ms: float


def _form_problem(url: str) -> str | None:
    return url_problem(url, sends_key=False, field="url", allow_query=True)  # the shared egress rules


def resolve(url: str) -> list[str]:
    """The addresses to connect to, every one allowed (IPv4 first). UrlRefused when one is refused (the
    resolver might hand that one out next time); DeliveryFailed when the name does not resolve."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise DeliveryFailed(f"could not resolve {host_label(url)}") from None
    addresses: list[str] = []
    for _family, *_, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        problem = address_problem(ip)
        if problem:
            raise UrlRefused(
                f"{host_label(url)} resolves to {problem}; sitegen does not send webhooks there ({HINT})"
            )
        if str(ip) not in addresses:
            addresses.append(str(ip))
    if not addresses:
        raise DeliveryFailed(f"could not resolve {host_label(url)}")
    return sorted(addresses, key=lambda a: ":" in a)


def check_url(url: str) -> None:
    """For a webhook being saved: its form, and its host's addresses if the name resolves now (one that
    does not resolve yet is checked again at every delivery). Raises UrlRefused."""
    problem = _form_problem(url)
    if problem:
        raise UrlRefused(problem)
    with contextlib.suppress(DeliveryFailed):
        resolve(url)


def post(url: str, body: bytes, headers: dict[str, str], timeout_s: float = 10.0) -> Answer:
    """POST `body` to the checked address of `url`, within about `timeout_s`. Returns the answer for a
    2xx; raises UrlRefused (the URL is not allowed now) or DeliveryFailed (anything else)."""
    problem = _form_problem(url)
    if problem:
        raise UrlRefused(problem)
    started = time.monotonic()
    addresses = resolve(url)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    all_headers = {
        "Content-Type": "application/json",
        "User-Agent": "sitegen-webhooks",
        **headers,
        "Host": parts.netloc,
    }
    timeout = urllib3.Timeout(connect=min(5.0, timeout_s), read=timeout_s)
    host = host_label(url)
    response = None
    for n, address in enumerate(addresses):
        pool = _pool(parts.scheme, parts.hostname or "", address, port)
        try:
            response = pool.urlopen(
                "POST",
                target,
                body=body,
                headers=all_headers,
                timeout=timeout,
                retries=False,
                redirect=False,
                assert_same_host=False,
                preload_content=False,
            )
            break
        except urllib3.exceptions.ConnectTimeoutError:  # NewConnectionError too: nothing was sent
            if n == len(addresses) - 1:
                raise DeliveryFailed(f"could not connect to {host}") from None
        except urllib3.exceptions.ReadTimeoutError:
            raise DeliveryFailed(f"no answer from {host} within {timeout_s:g}s") from None
        except urllib3.exceptions.SSLError:
            raise DeliveryFailed(f"TLS with {host} failed (certificate or protocol)") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise DeliveryFailed(f"connection to {host} failed ({type(exc).__name__})") from None
    assert response is not None
    try:
        response.read(MAX_ANSWER_BYTES)
    except (urllib3.exceptions.HTTPError, OSError):
        pass  # the status is what counts
    finally:
        response.release_conn()
    elapsed = round((time.monotonic() - started) * 1000, 1)
    if not 200 <= response.status < 300:
        kind = "redirect (not followed)" if 300 <= response.status < 400 else "error"
        raise DeliveryFailed(f"{host} answered HTTP {response.status} ({kind})", status=response.status)
    return Answer(response.status, elapsed)


_POOLS: dict[tuple[str, str, str, int], urllib3.HTTPConnectionPool] = {}


def _pool(scheme: str, host: str, address: str, port: int) -> urllib3.HTTPConnectionPool:
    """A small pool per checked address, reused across warm invocations (a few kept at most)."""
    key = (scheme, host, address, port)
    pool = _POOLS.get(key)
    if pool is None:
        if len(_POOLS) >= 8:
            _POOLS.pop(next(iter(_POOLS))).close()
        if scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                address,
                port,
                maxsize=2,
                retries=False,
                server_hostname=host,
                assert_hostname=host,
                cert_reqs="CERT_REQUIRED",
                ca_certs=CA_CERTS,
            )
        else:
            pool = urllib3.HTTPConnectionPool(address, port, maxsize=2, retries=False)
        _POOLS[key] = pool
    return pool
