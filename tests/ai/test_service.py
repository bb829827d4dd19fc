"""The AI config service against the real Postgres and moto Secrets Manager (the `deps` fixture)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import text

from chalicelib.ai.api_models import AIConfigCreate, AIConfigUpdate
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound
from chalicelib.services import ai_configs as svc
from tests.ai.conftest import FakeProvider, Scripted
from tests.ai.helpers import OPENAI_KEY, openai_reply
from tests.support.ai_configs import openai_config, routing, secret_value, stored_ref
from tests.support.stack import TEMPLATE_ID


def test_create_keeps_the_key_in_secrets_manager_only(ai: Any) -> None:
    created = svc.create_config(ai, openai_config(params={"temperature": 0.4}))
    assert created.has_api_key is True and created.api_key_hint == "\u2026WXYZ"
    assert OPENAI_KEY not in created.model_dump_json() and created.params == {"temperature": 0.4}
    with ai.engine.connect() as conn:
        row = (
            conn.execute(text("SELECT * FROM ai_configs WHERE id = CAST(:i AS uuid)"), {"i": created.id})
            .mappings()
            .one()
        )
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


def readable(deps: Any, ref: str | None) -> bool:
    assert ref is not None, "no secret stored"
    try:
        deps.secrets.get(ref)
        return True
    except KeyError:  # missing, or scheduled for deletion
        return False


def test_update_rotates_and_removes_the_key(ai: Any) -> None:
    created = svc.create_config(ai, openai_config())
    first = stored_ref(ai, created.id)
    rotated = svc.update_config(ai, created.id, AIConfigUpdate(api_key="sk-rotated-key-00001111"))
    second = stored_ref(ai, created.id)
    assert (
        second is not None and second != first and second.startswith(f"sitegen/ai/{created.id}-")
    )  # a new secret per key
    assert rotated.api_key_hint == "\u20261111" and secret_value(ai, second) == "sk-rotated-key-00001111"
    assert not readable(ai, first)  # the old key is forgotten once the change committed
    assert rotated.updated_at >= created.updated_at

    with pytest.raises(InvalidInput, match="needs an api_key"):  # openai cannot work without one
        svc.update_config(ai, created.id, AIConfigUpdate.model_validate({"api_key": None}))
    assert stored_ref(ai, created.id) == second and readable(ai, second)

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
    ref = stored_ref(ai, local.id)
    removed = svc.update_config(ai, local.id, AIConfigUpdate.model_validate({"api_key": None}))
    assert removed.has_api_key is False and removed.api_key_hint is None and not readable(ai, ref)
    again = svc.update_config(ai, local.id, AIConfigUpdate(api_key="local-key-5678"))
    assert again.has_api_key and secret_value(ai, stored_ref(ai, local.id)) == "local-key-5678"


def test_a_key_change_that_fails_leaves_the_stored_key_as_it_was(ai: Any) -> None:
    """The database refuses the change (a real error, raised by a trigger) after the new key was stored:
    the config keeps its key, the new secret is forgotten."""
    created = svc.create_config(ai, openai_config())
    ref = stored_ref(ai, created.id)
    with ai.engine.begin() as conn:
        conn.execute(
            text("""
            CREATE FUNCTION refuse_config_change() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'disk quota exceeded (injected)'; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER refuse_config_change BEFORE UPDATE ON ai_configs
              FOR EACH ROW EXECUTE FUNCTION refuse_config_change();""")
        )
    try:
        with pytest.raises(Exception, match="disk quota exceeded"):
            svc.update_config(ai, created.id, AIConfigUpdate(api_key="sk-never-stored-99998888"))
    finally:
        with ai.engine.begin() as conn:
            conn.execute(
                text("DROP TRIGGER refuse_config_change ON ai_configs; DROP FUNCTION refuse_config_change();")
            )
    assert stored_ref(ai, created.id) == ref and secret_value(ai, ref) == OPENAI_KEY
    assert svc.get_config(ai, created.id).api_key_hint == "\u2026WXYZ"
    live = [
        x["Name"]
        for x in ai.client("secretsmanager").list_secrets()["SecretList"]
        if not x.get("DeletedDate")
    ]
    assert live == [ref]  # the new key's secret did not outlive the failed change


def test_update_fields_and_params(ai: Any) -> None:
    created = svc.create_config(ai, openai_config(params={"temperature": 0.4, "max_tokens": 1000}))
    changed = svc.update_config(
        ai,
        created.id,
        AIConfigUpdate.model_validate(
            {
                "name": "GPT 4o",
                "model": "gpt-4o",
                "enabled": False,
                "params": {"temperature": None, "timeout_s": 30},
            }
        ),
    )
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
    with ai.engine.begin() as conn:  # a row from before the API refused keyless openai configs
        conn.execute(
            text("UPDATE ai_configs SET secret_ref = NULL WHERE id = CAST(:i AS uuid)"), {"i": created.id}
        )
    result = svc.test_config(ai, created.id)
    assert not result.ok and "has no API key" in (result.error or "")


def test_doctor_reports_the_old_mistakes_from_the_database(ai: Any) -> None:
    with ai.engine.begin() as conn:  # legacy row the API would refuse today
        conn.execute(
            text(
                "INSERT INTO ai_configs (id, name, provider, model, enabled, params) VALUES "
                "(gen_random_uuid(), 'Workers', 'cloudflarre', '@cf/meta/llama-3.1-8b-instruct', true, '{}')"
            )
        )
    gpt = svc.create_config(
        ai,
        AIConfigCreate(
            name="OpenAI GPT-4o",
            provider="cloudflare",
            account_id="acc1",
            model="@cf/meta/llama-3.1-8b-instruct",
            api_key="cf-token-123456789",
        ),
    )
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


def test_routing_to_a_config_that_is_being_deleted_is_a_4xx_not_a_database_error(ai: Any) -> None:
    """PUT /ai/routing while DELETE /ai/configs/X is between its lock and its commit."""
    import threading

    from sqlalchemy import create_engine

    doomed = svc.create_config(ai, openai_config(name="Doomed"))
    other = create_engine(ai.engine.url)  # the other request's connections: not from the app's small pool
    deleting = other.connect()
    deleting.begin()
    deleting.execute(
        text("SELECT 1 FROM ai_configs WHERE id = CAST(:i AS uuid) FOR UPDATE"), {"i": doomed.id}
    )
    outcome: list[BaseException | object] = []

    def route() -> None:
        try:
            outcome.append(svc.put_routing(ai, routing(coding=doomed.id)))
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            outcome.append(exc)

    router = threading.Thread(target=route, daemon=True)
    router.start()
    deadline = time.monotonic() + 20
    with other.connect() as watch:  # wait until the routing request waits on the delete's lock
        while (
            time.monotonic() < deadline
            and not watch.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            ).scalar()
        ):
            time.sleep(0.05)
    deleting.execute(text("DELETE FROM ai_configs WHERE id = CAST(:i AS uuid)"), {"i": doomed.id})
    deleting.commit()
    deleting.close()
    router.join(timeout=20)
    other.dispose()
    assert len(outcome) == 1 and isinstance(outcome[0], (InvalidInput, Conflict)), outcome
    assert svc.get_routing(ai).routes.coding == TEMPLATE_ID
