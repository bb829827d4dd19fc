"""After exercising everything, the test API keys appear in no return value, error or output."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from chalicelib.ai.api_models import AIConfigCreate, AIConfigUpdate
from chalicelib.ai.registry import build_provider
from chalicelib.domain.errors import PhaseError, SitegenError
from chalicelib.services import ai_configs as svc
from tests.ai.conftest import FakeProvider, Scripted
from tests.ai.helpers import (
    ANTHROPIC_KEY,
    CLOUDFLARE_KEY,
    OPENAI_KEY,
    Store,
    brief_request,
    config,
    openai_reply,
)
from tests.support.ai_configs import routing
from tests.support.stack import TEMPLATE_ID, reset_database

KEYS = (OPENAI_KEY, ANTHROPIC_KEY, CLOUDFLARE_KEY, "sk-rotated-SECRET-5555666677778888")


class Evidence:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def keep(self, value: Any) -> Any:
        self.texts.append(value.model_dump_json() if isinstance(value, BaseModel) else repr(value))
        return value

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return self.keep(fn(*args))
        except (PhaseError, SitegenError, ValidationError) as exc:
            self.texts += [
                str(exc),
                repr(exc),
                repr(getattr(exc, "details", None)),
                getattr(exc, "reason", ""),
            ]
            return None

    def leaks(self) -> list[str]:
        return [key for key in KEYS for text in self.texts if key in text]


def echoing_errors(key: str) -> list[Scripted]:
    return [
        Scripted(401, {"error": {"message": f"Incorrect API key provided: {key}"}}),
        Scripted(429, {"error": {"message": f"rate limit for Bearer {key}"}}, {"Retry-After": "1"}),
        Scripted(
            500,
            f"internal error, auth header was Authorization: Bearer {key}",
            {"Content-Type": "text/plain"},
        ),
        Scripted(200, {"success": False, "errors": [{"code": 1, "message": f"token {key} invalid"}]}),
    ]


def test_keys_never_leak(deps: Any, fake: FakeProvider, capfd: pytest.CaptureFixture[str]) -> None:
    ev = Evidence()
    assert (
        ev.leaks() == [] and Evidence().keep(OPENAI_KEY) and "sk-" in OPENAI_KEY
    )  # the scanner sees raw keys

    created = ev.call(
        svc.create_config,
        deps,
        AIConfigCreate(
            name="GPT", provider="openai", model="gpt-4o-mini", base_url=fake.url, api_key=OPENAI_KEY
        ),
    )
    cf = ev.call(
        svc.create_config,
        deps,
        AIConfigCreate(
            name="CF",
            provider="cloudflare",
            model="@cf/meta/llama-3.1-8b-instruct",
            account_id="acc",
            base_url=fake.url,
            api_key=CLOUDFLARE_KEY,
        ),
    )
    ev.call(
        svc.create_config,
        deps,
        AIConfigCreate(name="GPT", provider="openai", model="m", api_key=ANTHROPIC_KEY),
    )
    ev.call(
        lambda: AIConfigCreate(name="x", provider="openai", api_key=ANTHROPIC_KEY, params={"max_tokens": -1})
    )
    ev.call(lambda: AIConfigUpdate.model_validate({"name": None, "api_key": ANTHROPIC_KEY}))
    ev.call(svc.list_configs, deps)
    ev.call(svc.get_config, deps, created.id)
    ev.call(svc.put_routing, deps, routing(coding=created.id, copywriting=cf.id))
    ev.call(svc.get_routing, deps)

    for _ in range(2):  # the Ping call, through every failure shape, for both configs
        for scripted in echoing_errors(OPENAI_KEY):
            fake.reply(scripted)
            ev.call(svc.test_config, deps, created.id)
    for scripted in echoing_errors(CLOUDFLARE_KEY):
        fake.reply(scripted)
        ev.call(svc.test_config, deps, cf.id)
    fake.reply(Scripted(body=openai_reply({"ok": True})))
    assert ev.call(svc.test_config, deps, created.id).ok

    anthropic = build_provider(
        config("anthropic", fake.url, model="claude-sonnet-4"), lambda: Store(ANTHROPIC_KEY)
    )
    for scripted in echoing_errors(ANTHROPIC_KEY):
        fake.reply(scripted)
        ev.call(anthropic.generate, brief_request())

    ev.call(svc.update_config, deps, created.id, AIConfigUpdate(api_key=KEYS[3]))
    ev.call(svc.doctor, deps)
    ev.call(svc.delete_config, deps, created.id)  # routed: conflict
    ev.call(svc.put_routing, deps, routing(copywriting=TEMPLATE_ID))
    ev.call(svc.delete_config, deps, created.id)
    ev.call(svc.update_config, deps, cf.id, AIConfigUpdate.model_validate({"api_key": None}))

    out, err = capfd.readouterr()
    ev.texts += [out, err]
    sent = {r.headers.get("authorization", "") + r.headers.get("x-api-key", "") for r in fake.requests}
    assert any(OPENAI_KEY in s for s in sent) and any(CLOUDFLARE_KEY in s for s in sent)  # keys were in play
    assert any(ANTHROPIC_KEY in s for s in sent)
    assert len(ev.texts) > 30
    assert ev.leaks() == []
    reset_database(deps)
