"""Where sitegen may send a request to an AI provider (a config's `base_url` is the caller's choice).

A URL is refused when it carries userinfo, a query or a fragment, when it is plain http while a key
would be sent, and when its host resolves to anything but a public unicast address: loopback, private,
link-local, unique-local, shared (CGNAT), multicast, reserved and cloud metadata addresses, in every
notation the resolver accepts (`0x7f000001`, `2130706433`, `127.1`, `[::ffff:127.0.0.1]`, NAT64 and
6to4 forms of them). The HTTP layer connects to the address checked here, never to a fresh lookup.

`SITEGEN_AI_ALLOW_PRIVATE_NETWORKS=1` allows private addresses and plain http, for a self-hosted model
(Ollama, vLLM). Deployed stages leave it unset; the local stack and the tests set it. Metadata,
multicast, broadcast and unspecified addresses stay refused even then.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from urllib.parse import urlsplit

from chalicelib.domain.errors import PermanentError, RetryableError

ALLOW_PRIVATE_ENV = "SITEGEN_AI_ALLOW_PRIVATE_NETWORKS"
# The providers' own hosts: only their error text is ever shown (chalicelib/ai/http.py).
OFFICIAL_HOSTS = frozenset({"api.openai.com", "api.anthropic.com", "api.cloudflare.com"})
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Instance metadata, credentials and platform endpoints (AWS EC2/ECS/DNS, GCP, Azure, Alibaba, Oracle).
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "169.254.169.253",
        "169.254.169.123",
        "fd00:ec2::254",
        "fd00:ec2::23",
        "168.63.129.16",
        "100.100.100.200",
        "192.0.0.192",
    )
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
SAVE_LOOKUP_S = 2.0  # the longest saving a config waits for its host to resolve
PRIVATE_HINT = f"set {ALLOW_PRIVATE_ENV}=1 only where a self-hosted model runs on a private network"


class EndpointRefused(PermanentError):
    """The URL may not be called. Said before any request is made; the reason names the host only."""


def private_networks_allowed() -> bool:
    return os.environ.get(ALLOW_PRIVATE_ENV, "").strip().lower() in ("1", "true", "yes")


def host_label(url: str) -> str:
    """`host` or `host:port` of a URL, never its userinfo (for messages)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "an invalid URL"
    if not host:
        return "an invalid URL"
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port else host


def is_official(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return parts.scheme == "https" and parts.hostname in OFFICIAL_HOSTS and parts.port in (None, 443)
    except ValueError:
        return False


def url_problem(url: str, sends_key: bool, field: str = "base_url", allow_query: bool = False) -> str | None:
    """What is wrong with calling `url` (no I/O), or None. Never echoes userinfo. `field` names it in the
    message; a webhook's URL may carry a query (`allow_query`), a provider's base URL may not."""
    if not url.isascii() or any(c <= " " or c in "\\\x7f" for c in url):
        return f"{field} must be plain ASCII without spaces, control characters or backslashes (use punycode)"
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port  # port raises ValueError when it is not a number
    except ValueError:
        return f"{field} is not a valid URL"
    if parts.scheme not in ("http", "https") or not host:
        return f"{field} must be an http(s) URL with a host"
    if "@" in parts.netloc:
        return f"{field} must not carry a user name or password"
    if not allow_query and (parts.query or "?" in url):
        return f"{field} must not have a query (?...)"
    if parts.fragment or "#" in url:
        return f"{field} must not have a fragment (#...)"
    if port == 0:
        return f"{field} has port 0"
    if parts.scheme == "http" and not private_networks_allowed():
        what = "a key is sent" if sends_key else "requests leave sitegen"
        return f"{field} must use https ({host_label(url)} is plain http and {what}); {PRIVATE_HINT}"
    return None


def address_problem(ip: IPAddress) -> str | None:
    """Why `ip` may not be called, or None."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return address_problem(embedded)
    if ip in METADATA:
        return "a cloud metadata address"
    if ip.is_multicast or ip.is_unspecified or ip == ipaddress.IPv4Address("255.255.255.255"):
        return "a multicast, broadcast or unspecified address"
    if private_networks_allowed() or ip.is_global:
        return None
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    return "a private or reserved address"


def resolve(url: str) -> list[str]:
    """The addresses to connect to for `url`'s host, every one of them allowed; IPv4 first.
    Raises EndpointRefused for a refused address, RetryableError when the name does not resolve."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise RetryableError(f"could not resolve {host_label(url)}") from None
    addresses: list[str] = []
    for _family, *_, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        problem = address_problem(ip)
        if problem:  # one bad address refuses the host: the resolver might hand out that one next time
            raise EndpointRefused(
                f"{host_label(url)} resolves to {problem}; sitegen does not send requests "
                f"there ({PRIVATE_HINT})"
            )
        if str(ip) not in addresses:
            addresses.append(str(ip))
    if not addresses:
        raise RetryableError(f"could not resolve {host_label(url)}")
    return sorted(addresses, key=lambda a: ":" in a)


def check_url(url: str, sends_key: bool, wait_s: float = SAVE_LOOKUP_S) -> None:
    """For a config being saved: the URL's form, and its host's addresses if they resolve within
    `wait_s` (a name that does not resolve now is checked again at every call, before anything is
    sent, so a slow resolver cannot hold up the request). Raises EndpointRefused."""
    problem = url_problem(url, sends_key)
    if problem:
        raise EndpointRefused(problem)
    outcome: list[BaseException | None] = []

    def lookup() -> None:
        try:
            resolve(url)
            outcome.append(None)
        except (EndpointRefused, RetryableError) as exc:
            outcome.append(exc)

    worker = threading.Thread(target=lookup, daemon=True)
    worker.start()
    worker.join(wait_s)
    if outcome and isinstance(outcome[0], EndpointRefused):
        raise outcome[0]
