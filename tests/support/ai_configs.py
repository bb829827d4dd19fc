"""AI config helpers for tests: a config body, a routing, what Secrets Manager and Postgres hold."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from chalicelib.ai.api_models import AIConfigCreate, RoutingUpdate
from tests.ai.helpers import OPENAI_KEY
from tests.support.stack import TEMPLATE_ID

TASKS = ("planning", "copywriting", "coding", "review")


def secret_value(deps: Any, ref: str | None) -> str:
    assert ref is not None, "no secret stored"
    return str(deps.client("secretsmanager").get_secret_value(SecretId=ref)["SecretString"])


def openai_config(name: str = "GPT mini", key: str | None = OPENAI_KEY, **kw: Any) -> AIConfigCreate:
    return AIConfigCreate(name=name, provider="openai", model="gpt-4o-mini", api_key=key, **kw)


def routing(**routes: str | None) -> RoutingUpdate:
    current = {t: TEMPLATE_ID for t in TASKS}
    fallback = routes.pop("fallback", None)
    return RoutingUpdate(routes={**current, **routes}, fallback=fallback)


def stored_ref(deps: Any, config_id: str) -> str | None:
    with deps.engine.connect() as conn:
        return conn.execute(
            text("SELECT secret_ref FROM ai_configs WHERE id = CAST(:i AS uuid)"), {"i": config_id}
        ).scalar()
