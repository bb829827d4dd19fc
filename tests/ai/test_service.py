"""The AI config service against the real Postgres and moto Secrets Manager (the `deps` fixture)."""
from __future__ import annotations

from typing import Any, Iterator

import pytest
from sqlalchemy import text

from chalicelib.ai.schemas import AIConfigCreate, AIConfigUpdate, RoutingUpdate
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound
from chalicelib.services import ai_configs as svc
from tests.ai.conftest import FakeProvider, Scripted
from tests.ai.helpers import OPENAI_KEY, openai_reply
from tests.support.stack import TEMPLATE_ID, reset_database

TASKS = ("planning", "copywriting", "coding", "review")


@pytest.fixture()
def ai(deps: Any) -> Iterator[Any]:
    yield deps  # `deps` starts from the migration's AI seed
    reset_database(deps)  # the database outlives the test: leave the seed as it was


def secret_value(deps: Any, ref: str) -> str:
    return str(deps.client("secretsmanager").get_secret_value(SecretId=ref)["SecretString"])


def openai_config(name: str = "GPT mini", key: str | None = OPENAI_KEY, **kw: Any) -> AIConfigCreate:
    return AIConfigCreate(name=name, provider="openai", model="gpt-4o-mini", api_key=key, **kw)


def routing(**routes: str | None) -> RoutingUpdate:
    current = {t: TEMPLATE_ID for t in TASKS}
    fallback = routes.pop("fallback", None)
    return RoutingUpdate(routes={**current, **routes}, fallback=fallback)


def test_create_keeps_the_key_in_secrets_manager_only(ai: Any) -> None:
    created = svc.create_config(ai, openai_config(params={"temperature": 0.4}))
    assert created.has_api_key is True and created.api_key_hint == "\u2026WXYZ"
    assert OPENAI_KEY not in created.model_dump_json() and created.params == {"temperature": 0.4}
    with ai.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM ai_configs WHERE id = CAST(:i AS uuid)"), {"i": created.id}).mappings().one()
    assert row["secret_ref"] == f"sitegen/ai/{created.id}" and row["api_key_last4"] == "WXYZ"
    assert all(OPENAI_KEY not in str(value) for value in row.values())
    assert secret_value(ai, row["secret_ref"]) == OPENAI_KEY
    assert svc.get_config(ai, created.id) == created
    assert [c.name for c in svc.list_configs(ai).items] == ["Offline template", "GPT mini"]


def test_short_keys_get_a_shorter_hint(ai: Any) -> None:
    created = svc.create_config(ai, openai_config(key="abcdefgh"))
    assert created.api_key_hint == "\u2026gh"


def test_create_rejects_bad_data(ai: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        svc.create_config(ai, openai_config(key=None))
    assert info.value.details["field"] == "api_key"
    with pytest.raises(InvalidInput, match="needs account_id"):
        svc.create_config(ai, AIConfigCreate(name="cf", provider="cloudflare", model="@cf/x", api_key="k"))
    with pytest.raises(InvalidInput, match="needs base_url"):
        svc.create_config(ai, AIConfigCreate(name="local", provider="openai_compatible", model="llama3"))
    assert len(svc.list_configs(ai).items) == 1


def test_duplicate_name_is_a_conflict_and_stores_no_secret(ai: Any) -> None:
    svc.create_config(ai, openai_config())
    with pytest.raises(Conflict, match="already exists"):
        svc.create_config(ai, openai_config(key="sk-other-key-000000000"))
    secrets = ai.client("secretsmanager").list_secrets()["SecretList"]
    assert len(secrets) == 1


def test_update_rotates_and_removes_the_key(ai: Any) -> None:
    created = svc.create_config(ai, openai_config())
    ref = f"sitegen/ai/{created.id}"
    rotated = svc.update_config(ai, created.id, AIConfigUpdate(api_key="sk-rotated-key-00001111"))
    assert rotated.api_key_hint == "\u20261111" and secret_value(ai, ref) == "sk-rotated-key-00001111"
    assert rotated.updated_at >= created.updated_at

    removed = svc.update_config(ai, created.id, AIConfigUpdate.model_validate({"api_key": None}))
    assert removed.has_api_key is False and removed.api_key_hint is None
    with pytest.raises(KeyError):
        ai.secrets.get(ref)  # scheduled for deletion: unreadable

    again = svc.update_config(ai, created.id, AIConfigUpdate(api_key="sk-third-key-22223333"))
    assert again.has_api_key and secret_value(ai, ref) == "sk-third-key-22223333"


def test_update_fields_and_params(ai: Any) -> None:
    created = svc.create_config(ai, openai_config(params={"temperature": 0.4, "max_tokens": 1000}))
    changed = svc.update_config(ai, created.id, AIConfigUpdate.model_validate(
        {"name": "GPT 4o", "model": "gpt-4o", "enabled": False, "params": {"temperature": None, "timeout_s": 30}}))
    assert (changed.name, changed.model, changed.enabled) == ("GPT 4o", "gpt-4o", False)
    assert changed.params == {"max_tokens": 1000, "timeout_s": 30}
    assert changed.has_api_key  # untouched
    with pytest.raises(InvalidInput, match="needs account_id"):
        svc.update_config(ai, created.id, AIConfigUpdate(provider="cloudflare"))
    svc.create_config(ai, openai_config(name="Other"))
    with pytest.raises(Conflict):
        svc.update_config(ai, created.id, AIConfigUpdate(name="Other"))


def test_unknown_ids_are_not_found(ai: Any) -> None:
    for bad in ("00000000-0000-4000-8000-00000000dead", "not-a-uuid"):
        with pytest.raises(NotFound):
            svc.get_config(ai, bad)
        with pytest.raises(NotFound):
            svc.delete_config(ai, bad)
        with pytest.raises(NotFound):
            svc.update_config(ai, bad, AIConfigUpdate(enabled=False))


def test_routing_validation(ai: Any) -> None:
    created = svc.create_config(ai, openai_config())
    assert svc.get_routing(ai).routes.coding == TEMPLATE_ID and svc.get_routing(ai).fallback is None

    with pytest.raises(InvalidInput, match="does not exist") as info:
        svc.put_routing(ai, routing(coding="00000000-0000-4000-8000-00000000dead"))
    assert info.value.details["field"] == "routes.coding"
    with pytest.raises(InvalidInput, match="not an AI config id"):
        svc.put_routing(ai, routing(fallback="nope"))
    assert svc.get_routing(ai).routes.coding == TEMPLATE_ID  # nothing changed

    result = svc.put_routing(ai, routing(coding=created.id, fallback=TEMPLATE_ID, review=None))
    assert (result.routes.coding, result.routes.review, result.fallback) == (created.id, None, TEMPLATE_ID)
    assert svc.get_routing(ai) == result


def test_routing_to_a_disabled_config_is_refused(ai: Any) -> None:
    off = svc.create_config(ai, openai_config(enabled=False))
    with pytest.raises(InvalidInput, match="is disabled"):
        svc.put_routing(ai, routing(coding=off.id))


def test_delete_routed_config_is_a_conflict(ai: Any) -> None:
    created = svc.create_config(ai, openai_config())
    svc.put_routing(ai, routing(coding=created.id, fallback=created.id))
    with pytest.raises(Conflict, match="routed for coding, fallback") as info:
        svc.delete_config(ai, created.id)
    assert info.value.details["tasks"] == ["coding", "fallback"]

    svc.put_routing(ai, routing())
    svc.delete_config(ai, created.id)
    with pytest.raises(NotFound):
        svc.get_config(ai, created.id)
    with pytest.raises(KeyError):
        ai.secrets.get(f"sitegen/ai/{created.id}")


def test_config_test_makes_one_cheap_call(ai: Any, fake: FakeProvider) -> None:
    created = svc.create_config(ai, openai_config(base_url=fake.url + "/v1"))
    fake.reply(Scripted(body=openai_reply({"ok": True}, usage=(40, 5))))
    result = svc.test_config(ai, created.id)
    assert result.ok and result.error is None and result.latency_ms is not None and result.latency_ms > 0
    [request] = fake.requests
    assert request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert request.json["response_format"]["json_schema"]["name"] == "Ping"
    assert len(request.json["messages"][1]["content"]) < 100

    fake.reply(Scripted(401, {"error": {"message": f"Incorrect API key provided: {OPENAI_KEY}"}}))
    failed = svc.test_config(ai, created.id)
    assert not failed.ok and "HTTP 401" in (failed.error or "") and OPENAI_KEY not in (failed.error or "")


def test_config_test_of_the_template_and_of_an_incomplete_config(ai: Any) -> None:
    assert svc.test_config(ai, TEMPLATE_ID).ok
    created = svc.create_config(ai, openai_config())
    svc.update_config(ai, created.id, AIConfigUpdate.model_validate({"api_key": None}))
    result = svc.test_config(ai, created.id)
    assert not result.ok and "has no API key" in (result.error or "")


def test_doctor_reports_the_old_mistakes_from_the_database(ai: Any) -> None:
    with ai.engine.begin() as conn:  # legacy row the API would refuse today
        conn.execute(text("INSERT INTO ai_configs (id, name, provider, model, enabled, params) VALUES "
                          "(gen_random_uuid(), 'Workers', 'cloudflarre', '@cf/meta/llama-3.1-8b-instruct', true, '{}')"))
    gpt = svc.create_config(ai, AIConfigCreate(name="OpenAI GPT-4o", provider="cloudflare", account_id="acc1",
                                               model="@cf/meta/llama-3.1-8b-instruct", api_key="cf-token-123456789"))
    coder = svc.create_config(ai, openai_config(name="Coder"))
    svc.put_routing(ai, routing(coding=coder.id))
    svc.update_config(ai, coder.id, AIConfigUpdate(enabled=False))

    findings = svc.doctor(ai).findings
    found = {(f.severity, f.code, f.task) for f in findings}
    assert ("error", "unknown_provider", None) in found
    assert ("warning", "name_provider_mismatch", None) in found
    assert ("error", "route_to_disabled_config", "coding") in found
    assert any(f.code == "unused_config" and f.config_id == gpt.id for f in findings)
    unknown = next(f for f in findings if f.code == "unknown_provider")
    assert "Did you mean 'cloudflare'?" in unknown.message
