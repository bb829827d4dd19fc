"""AI configs as an attacker holding a valid token would use them (issue 12, items 1, 2, 3 and 5):
refused endpoints, the key that must not follow a changed endpoint, and a test call that cannot read
or scan other hosts."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import text

from chalicelib.ai import egress
from chalicelib.ai.api_models import AIConfigCreate, AIConfigUpdate
from chalicelib.domain.errors import InvalidInput
from chalicelib.services import ai_configs as svc
from infra.local import free_port
from tests.ai.conftest import FakeProvider, Scripted
from tests.ai.helpers import OPENAI_KEY, openai_reply
from tests.support.ai_configs import openai_config, secret_value, stored_ref

ISSUE_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:8000/",
    "http://0x7f000001/",
    "http://user:pw@10.0.0.5:5432/#",
    "https://evil.example/v1?x=",
    "https://10.0.0.5/v1",
    "https://[fd00:ec2::254]/v1",
    "http://models.example.com/v1",
]


@pytest.fixture()
def public_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(egress.ALLOW_PRIVATE_ENV, raising=False)


@pytest.mark.parametrize("url", ISSUE_URLS)
def test_a_refused_base_url_is_a_400_at_create_and_update(client: Any, public_only: None, url: str) -> None:
    body = {
        "name": "Attacker",
        "provider": "openai_compatible",
        "model": "m",
        "base_url": url,
        "api_key": "k-12345678",
    }
    response = client.request("POST", "/ai/configs", body)
    assert response.status_code == 400, response.body
    error = json.loads(response.body)
    assert error["code"] == "validation_error" and error["details"][0]["field"] == "base_url"
    assert b"pw" not in response.body and b"k-12345678" not in response.body

    created = client.json(
        "POST",
        "/ai/configs",
        {
            "name": "Fine",
            "provider": "openai_compatible",
            "model": "m",
            "base_url": "https://203.0.113.7.nip.example/v1",
        },
        expect=201,
    )
    patched = client.request("PATCH", f"/ai/configs/{created['id']}", {"base_url": url})
    assert patched.status_code == 400 and json.loads(patched.body)["details"][0]["field"] == "base_url"
    assert (
        client.json("GET", f"/ai/configs/{created['id']}")["base_url"] == "https://203.0.113.7.nip.example/v1"
    )


def test_with_the_setting_a_self_hosted_model_on_loopback_is_accepted(client: Any) -> None:
    created = client.json(
        "POST",
        "/ai/configs",
        {
            "name": "Ollama",
            "provider": "openai_compatible",
            "model": "llama3",
            "base_url": "http://127.0.0.1:11434/v1",
            "api_key": "local-key-1234",
        },
        expect=201,
    )
    assert created["base_url"] == "http://127.0.0.1:11434/v1"
    metadata = client.request(
        "PATCH",
        f"/ai/configs/{created['id']}",
        {"base_url": "http://169.254.169.254/v1", "api_key": "local-key-1234"},
    )
    assert metadata.status_code == 400 and "metadata" in json.loads(metadata.body)["message"]


# --- the key never follows a changed endpoint ------------------------------------------------------
@pytest.mark.parametrize(
    "change",
    [{"base_url": "FAKE"}, {"provider": "openai_compatible", "base_url": "FAKE"}, {"provider": "anthropic"}],
)
def test_changing_where_requests_go_needs_the_key_again(
    ai: Any, fake: FakeProvider, change: dict[str, str]
) -> None:
    """Reproduced: a PATCH of base_url kept the key, and the next test sent `Authorization: Bearer <key>`
    to the attacker's server."""
    created = svc.create_config(ai, openai_config())
    ref = stored_ref(ai, created.id)
    patch = {k: fake.url + "/v1" if v == "FAKE" else v for k, v in change.items()}
    with pytest.raises(InvalidInput, match="send api_key again") as info:
        svc.update_config(ai, created.id, AIConfigUpdate.model_validate(patch))
    assert info.value.details["field"] == "api_key"
    assert svc.get_config(ai, created.id).base_url is None and stored_ref(ai, created.id) == ref
    svc.test_config(ai, created.id)  # still aimed at the official host (unreachable here)
    assert fake.requests == []

    moved = svc.update_config(
        ai, created.id, AIConfigUpdate.model_validate({**patch, "api_key": "sk-new-key-00001111"})
    )
    assert (
        moved.api_key_hint == "\u20261111"
        and secret_value(ai, stored_ref(ai, created.id)) == "sk-new-key-00001111"
    )


def test_a_cloudflare_account_change_needs_the_key_again(ai: Any) -> None:
    created = svc.create_config(
        ai,
        AIConfigCreate(
            name="CF", provider="cloudflare", model="@cf/x", account_id="acc1", api_key="cf-token-123456789"
        ),
    )
    with pytest.raises(InvalidInput, match="changing account_id"):
        svc.update_config(ai, created.id, AIConfigUpdate(account_id="attacker"))
    assert (
        svc.update_config(ai, created.id, AIConfigUpdate(account_id="acc1")).account_id == "acc1"
    )  # unchanged


def test_moving_a_keyed_self_hosted_config_can_drop_its_key(ai: Any, fake: FakeProvider) -> None:
    local = svc.create_config(
        ai,
        AIConfigCreate(
            name="vLLM",
            provider="openai_compatible",
            model="llama3",
            base_url="http://127.0.0.1:8000/v1",
            api_key="local-key-1234",
        ),
    )
    moved = svc.update_config(
        ai, local.id, AIConfigUpdate.model_validate({"base_url": fake.url, "api_key": None})
    )
    assert moved.has_api_key is False and moved.base_url == fake.url
    fake.reply(Scripted(body=openai_reply({"ok": True})))
    assert svc.test_config(ai, local.id).ok and "authorization" not in fake.requests[0].headers


# --- the test call ----------------------------------------------------------------------------------
def keyed_on(ai: Any, url: str, **params: Any) -> str:
    name = f"GPT on {url}"[:100]
    return svc.create_config(ai, openai_config(name, base_url=url, params=params or {"timeout_s": 5})).id


def test_the_test_call_gives_another_hosts_status_not_its_answer(ai: Any, fake: FakeProvider) -> None:
    config_id = keyed_on(ai, fake.url)
    host = fake.url.removeprefix("http://")
    for status, body in (
        (404, "<h1>internal admin page: db password hunter2</h1>"),
        (500, {"error": {"message": "stack trace with internal-host-7"}}),
        (401, {"error": {"message": "Incorrect API key provided"}}),
    ):
        fake.reply(Scripted(status, body, {"Content-Type": "text/html"} if isinstance(body, str) else {}))
        result = svc.test_config(ai, config_id)
        assert (result.ok, result.status, result.error) == (False, status, f"{host} answered HTTP {status}")
    fake.reply(Scripted(200, "not json at all: secret-token-xyz", {"Content-Type": "text/plain"}))
    result = svc.test_config(ai, config_id)
    assert (
        result.status == 200
        and result.error == f"{host} answered HTTP 200, but not with what sitegen expects"
    )


def test_refused_timed_out_and_unreachable_look_the_same(
    ai: Any, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Distinct messages for refused, timed out and HTTP errors made /test a port scanner."""
    monkeypatch.setattr(svc, "TEST_READ_TIMEOUT_S", 0.3)
    closed = f"http://127.0.0.1:{free_port()}"
    refused = svc.test_config(ai, keyed_on(ai, closed))
    fake.reply(Scripted(body=openai_reply({"ok": True}), delay=1.0))
    timed_out = svc.test_config(ai, keyed_on(ai, fake.url))
    assert (
        refused.error == f"no usable answer from {closed.removeprefix('http://')}" and refused.status is None
    )
    assert timed_out.error == f"no usable answer from {fake.url.removeprefix('http://')}"
    assert timed_out.status is None


def test_the_official_hosts_own_words_are_shown(ai: Any, fake: FakeProvider, official_host: None) -> None:
    fake.reply(Scripted(401, {"error": {"message": f"Incorrect API key provided: {OPENAI_KEY}"}}))
    result = svc.test_config(ai, keyed_on(ai, fake.url))
    assert result.status == 401 and "Incorrect API key provided" in (result.error or "")
    assert OPENAI_KEY not in (result.error or "")


def test_the_test_call_has_its_own_short_timeout_and_no_repair_round(
    ai: Any, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It ran up to 60 s plus a repair round, behind an API function with a 15 s timeout."""
    assert svc.TEST_CONNECT_TIMEOUT_S + svc.TEST_READ_TIMEOUT_S < 15
    config_id = keyed_on(ai, fake.url, timeout_s=60)
    fake.reply(
        Scripted(body=openai_reply({"unexpected": "shape"})), Scripted(body=openai_reply({"ok": True}))
    )
    assert not svc.test_config(ai, config_id).ok and len(fake.requests) == 1  # no second (repair) request

    monkeypatch.setattr(svc, "TEST_READ_TIMEOUT_S", 0.5)
    fake.script[:] = [Scripted(body=openai_reply({"ok": True}), delay=3.0)]
    started = time.monotonic()
    assert not svc.test_config(ai, config_id).ok
    assert time.monotonic() - started < 2.5


def test_a_stored_url_that_is_now_refused_fails_the_test_clearly_and_sends_nothing(
    ai: Any, public_only: None
) -> None:
    config_id = keyed_on(ai, "https://api.example.com/v1")
    with ai.engine.begin() as conn:  # a row from before base_url was checked
        conn.execute(
            text(
                "UPDATE ai_configs SET base_url = 'https://169.254.169.254/latest' "
                "WHERE id = CAST(:i AS uuid)"
            ),
            {"i": config_id},
        )
    result = svc.test_config(ai, config_id)
    assert not result.ok and result.status is None and "cloud metadata address" in (result.error or "")
