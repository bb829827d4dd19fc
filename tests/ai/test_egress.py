"""Where AI requests may go (issue 12, items 1 and 4): SSRF through a config's base_url, connecting to
the address that was checked, and answers too big or too slow to read."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.ai import egress, http
from chalicelib.ai.egress import EndpointRefused, address_problem, host_label, url_problem
from chalicelib.ai.http import post_json
from chalicelib.ai.registry import build_provider
from chalicelib.domain.errors import PermanentError, RetryableError
from tests.ai.conftest import FakeProvider, Scripted
from tests.ai.helpers import OPENAI_KEY, Store, brief_request, config, openai_reply

# The examples, and the other spellings of the same places.
REFUSED_HOSTS = [
    "169.254.169.254",
    "[::1]",
    "0x7f000001",
    "2130706433",
    "127.1",
    "017700000001",
    "localhost",
    "127.0.0.1",
    "[::ffff:127.0.0.1]",
    "[::ffff:a9fe:a9fe]",
    "[64:ff9b::a9fe:a9fe]",
    "[2002:a9fe:a9fe::]",
    "10.0.0.5",
    "192.168.1.10",
    "172.16.0.1",
    "100.64.0.1",
    "[fd00:ec2::254]",
    "[fe80::1]",
    "224.0.0.1",
    "0.0.0.0",
    "[::]",
    "255.255.255.255",
    "198.18.0.1",
]


@pytest.fixture()
def public_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """As a deployed stage runs: the setting the tests' loopback servers need is not there."""
    monkeypatch.delenv(egress.ALLOW_PRIVATE_ENV, raising=False)


@pytest.fixture()
def resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[str]]]:
    """Made-up DNS names: name -> the answers to give, one per lookup (the last one repeats); an answer
    may hold several addresses, comma-separated."""
    names: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kw: Any) -> Any:
        if host in names:
            answers = names[host]
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in answer.split(",")
            ]
        return real(host, port, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield names


# --- the URL's form ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url,words",
    [
        ("http://user:pw@10.0.0.5:5432/#", "user name or password"),
        ("https://user@api.openai.com/v1", "user name or password"),
        ("https://api.openai.com/v1?", "query"),
        ("https://evil.example/x?/chat/completions", "query"),
        ("https://api.openai.com/v1#", "fragment"),
        ("https://api.openai.com/v1#frag", "fragment"),
        ("ftp://api.openai.com/v1", "http(s) URL"),
        ("https://evil.example\\@api.openai.com/", "backslashes"),
        ("https://ex\u00e4mple.com/v1", "ASCII"),
        ("https://api.openai.com:99999/v1", "not a valid URL"),
    ],
)
def test_userinfo_query_fragment_and_odd_urls_are_refused(url: str, words: str) -> None:
    problem = url_problem(url, sends_key=True)
    assert problem is not None and words in problem and "pw" not in problem


def test_plain_http_needs_the_private_networks_setting(
    public_only: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "https" in (url_problem("http://models.example.com/v1", sends_key=True) or "")
    assert "https" in (url_problem("http://models.example.com/v1", sends_key=False) or "")
    assert url_problem("https://models.example.com/v1", sends_key=True) is None
    monkeypatch.setenv(egress.ALLOW_PRIVATE_ENV, "1")
    assert url_problem("http://127.0.0.1:11434/v1", sends_key=True) is None


def test_messages_name_the_host_never_the_userinfo() -> None:
    assert host_label("http://user:s3cret@10.0.0.5:5432/x") == "10.0.0.5:5432"
    assert (
        host_label("https://[::1]:8000/v1") == "[::1]:8000"
        and host_label("https://api.openai.com/v1") == "api.openai.com"
    )
    with pytest.raises(EndpointRefused) as info:
        post_json("http://user:s3cret@127.0.0.1:9/v1", {}, {})
    assert "s3cret" not in info.value.reason and "user" not in info.value.reason.replace("user name", "")


# --- the address, in every notation ------------------------------------------------------------------
@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_non_public_addresses_are_refused_in_every_notation(public_only: None, host: str) -> None:
    with pytest.raises(EndpointRefused) as info:
        egress.resolve(f"https://{host}:8443/v1")
    assert "sitegen does not send requests there" in info.value.reason


def test_a_public_address_is_allowed(public_only: None) -> None:
    assert address_problem(ipaddress.ip_address("93.184.215.14")) is None
    assert address_problem(ipaddress.ip_address("2606:4700::6810:84e5")) is None
    assert address_problem(ipaddress.ip_address("64:ff9b::5db8:d70e")) is None  # NAT64 of a public one


def test_with_the_setting_private_addresses_pass_but_metadata_never(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(egress.ALLOW_PRIVATE_ENV, "1")
    for allowed in ("127.0.0.1", "::1", "10.0.0.5", "192.168.1.10", "fd12::1"):
        assert address_problem(ipaddress.ip_address(allowed)) is None, allowed
    for refused in (
        "169.254.169.254",
        "fd00:ec2::254",
        "::ffff:169.254.169.254",
        "169.254.170.2",
        "224.0.0.1",
        "0.0.0.0",
    ):
        assert address_problem(ipaddress.ip_address(refused)) is not None, refused


def test_one_bad_answer_refuses_the_name(public_only: None, resolver: dict[str, list[str]]) -> None:
    resolver["mixed.test"] = ["93.184.215.14,10.0.0.5"]
    with pytest.raises(EndpointRefused, match="mixed.test resolves to a private"):
        egress.resolve("https://mixed.test/v1")


# --- nothing is sent to a refused address ------------------------------------------------------------
def test_without_the_setting_a_loopback_provider_is_refused_and_gets_no_request(
    public_only: None, fake: FakeProvider
) -> None:
    fake.reply(Scripted(body=openai_reply({"ok": True})))
    provider = build_provider(
        config("openai_compatible", fake.url + "/v1", model="llama3"), lambda: Store(OPENAI_KEY)
    )
    with pytest.raises(EndpointRefused) as info:
        provider.generate(brief_request())
    assert fake.requests == [] and "https" in info.value.reason
    https_loopback = build_provider(
        config("openai", f"https://127.0.0.1:{fake.port}/v1"), lambda: Store(OPENAI_KEY)
    )
    with pytest.raises(EndpointRefused, match="loopback"):
        https_loopback.generate(brief_request())
    assert fake.requests == []


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(
    public_only: None, resolver: dict[str, list[str]], fake: FakeProvider
) -> None:
    """DNS rebinding: the first answer is public, every later one is loopback. The request must go to
    the address that was checked (here unreachable), never to loopback."""
    resolver["rebind.test"] = ["93.184.215.14", "127.0.0.1"]
    started = time.monotonic()
    with pytest.raises(RetryableError, match="could not connect to rebind.test"):
        post_json(
            f"https://rebind.test:{fake.port}/v1/chat/completions",
            {},
            {"x": 1},
            connect_timeout=0.3,
            read_timeout=0.3,
        )
    assert fake.requests == [] and time.monotonic() - started < 5
    assert resolver["rebind.test"] == ["127.0.0.1"]  # looked up exactly once


def test_the_host_name_is_sent_to_the_address_that_was_checked(
    resolver: dict[str, list[str]], fake: FakeProvider
) -> None:
    resolver["models.test"] = ["127.0.0.1"]
    fake.reply(Scripted(body={"ok": True}))
    assert post_json(f"http://models.test:{fake.port}/v1/x", {}, {"a": 1})[2] == {"ok": True}
    [request] = fake.requests
    assert request.headers["host"] == f"models.test:{fake.port}" and request.path == "/v1/x"


def _certificate(tmp: Path, name: str) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / f"{name}.pem", tmp / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize("served_as,trusted", [("models.test", True), ("impostor.test", False)])
def test_tls_is_verified_against_the_host_name_while_connecting_to_the_checked_address(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    resolver: dict[str, list[str]],
    served_as: str,
    trusted: bool,
) -> None:
    cert, key = _certificate(tmp_path, served_as)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server = FakeProvider(tls=tls)
    monkeypatch.setattr(http, "CA_CERTS", str(cert))
    monkeypatch.setattr(http, "_POOLS", type(http._POOLS)())
    resolver["models.test"] = ["127.0.0.1"]
    try:
        server.reply(Scripted(body={"ok": True}))
        url = f"https://models.test:{server.port}/v1/x"
        if trusted:
            assert post_json(url, {"Authorization": "Bearer k-123456"}, {})[2] == {"ok": True}
            assert server.requests[0].headers["host"] == f"models.test:{server.port}"
        else:
            with pytest.raises(RetryableError, match="connection to models.test:[0-9]+ failed"):
                post_json(url, {"Authorization": "Bearer k-123456"}, {})
            assert server.requests == []
    finally:
        server.stop()


def test_redirects_are_not_followed(fake: FakeProvider) -> None:
    fake.reply(Scripted(307, {}, {"Location": "http://169.254.169.254/latest/meta-data/"}))
    with pytest.raises(PermanentError, match="HTTP 307"):
        post_json(fake.url + "/v1", {}, {})
    assert len(fake.requests) == 1


# --- answers too big or too slow -----------------------------------------------------------------
def test_an_answer_announced_too_big_is_not_read(fake: FakeProvider) -> None:
    fake.reply(Scripted(body=b" " * (http.MAX_RESPONSE_BYTES + 1)))
    with pytest.raises(PermanentError, match=f"announced an answer of {http.MAX_RESPONSE_BYTES + 1} bytes"):
        post_json(fake.url + "/v1", {}, {})


def test_an_endless_answer_is_cut_at_the_cap_without_holding_it(fake: FakeProvider) -> None:
    """A 200 MB reply took a worker from 34 MB to 434 MB: now at most MAX_RESPONSE_BYTES are kept."""
    chunk = b"[" * 65536
    fake.reply(Scripted(stream=lambda: (chunk for _ in range(200 * 16))))  # 200 MB, no Content-Length
    tracemalloc.start()
    try:
        with pytest.raises(PermanentError, match="larger than"):
            post_json(fake.url + "/v1", {}, {}, read_timeout=10)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * http.MAX_RESPONSE_BYTES, peak
    time.sleep(0.2)
    assert fake.streamed < 50 * 1024 * 1024  # the connection was dropped, not drained


def test_a_trickling_answer_ends_at_the_calls_deadline(fake: FakeProvider) -> None:
    def trickle() -> Iterator[bytes]:
        while True:
            time.sleep(0.1)
            yield b" "

    fake.reply(Scripted(stream=trickle))
    started = time.monotonic()
    with pytest.raises(RetryableError, match="did not finish its answer in time"):
        post_json(fake.url + "/v1", {}, {}, connect_timeout=0.5, read_timeout=1.0)
    assert (
        time.monotonic() - started < 3
    )  # each byte comes within the read timeout: only the deadline ends it


def test_a_compressed_answer_is_refused(fake: FakeProvider) -> None:
    fake.reply(Scripted(body=b"\x1f\x8b\x08\x00", headers={"Content-Encoding": "gzip"}))
    with pytest.raises(RetryableError, match="compressed"):
        post_json(fake.url + "/v1", {}, {})
    assert fake.requests[0].headers["accept-encoding"] == "identity"


def test_saving_a_config_waits_for_a_slow_resolver_only_so_long(
    monkeypatch: pytest.MonkeyPatch, public_only: None
) -> None:
    def slow(*args: Any, **kw: Any) -> Any:
        time.sleep(5)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", 443))]

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    started = time.monotonic()
    egress.check_url("https://slow.test/v1", sends_key=True, wait_s=0.3)  # accepted for now
    assert time.monotonic() - started < 1
    with pytest.raises(EndpointRefused):  # and refused at the call, before anything is sent
        egress.resolve("https://slow.test/v1")
