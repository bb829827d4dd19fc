"""Token scopes, token re-reads and the health endpoints (issue 12, items 9, 10 and 11)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import auth
from chalicelib.auth import ADMIN, ORDERS, TOKEN_TTL_S, TokenCache, merge_scopes, scope_of, split_scope
from chalicelib.config import get_settings, hash_token, read_token_scopes
from tests.support.orders import ORDER

ORDERS_TOKEN = "orders-token-0123456789"
CONFIG_ID = "00000000-0000-4000-8000-000000000001"
ADMIN_ROUTES = {
    ("POST", "/queue/dead-letter/redrive"),
    ("POST", "/ai/configs"),
    ("GET", "/ai/configs"),
    ("GET", "/ai/configs/{config_id}"),
    ("PATCH", "/ai/configs/{config_id}"),
    ("DELETE", "/ai/configs/{config_id}"),
    ("POST", "/ai/configs/{config_id}/test"),
    ("GET", "/ai/routing"),
    ("PUT", "/ai/routing"),
    ("GET", "/ai/doctor"),
    ("GET", "/queue/dead-letters"),
    ("GET", "/ai/spend"),  # the operator views (issue 15)
    ("POST", "/webhooks"),
    ("GET", "/webhooks"),
    ("GET", "/webhooks/{webhook_id}"),  # webhooks hold
    ("DELETE", "/webhooks/{webhook_id}"),
    ("POST", "/webhooks/{webhook_id}/rotate-secret"),  # secrets
    ("GET", "/webhooks/{webhook_id}/deliveries"),
    ("POST", "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"),
}


@pytest.fixture()
def scoped(client: Any, deps: Any) -> Any:
    """The test client, with an `orders` token accepted next to the usual (admin) one."""
    digest = hash_token(ORDERS_TOKEN)
    deps.settings = deps.settings.model_copy(
        update={"token_hashes": deps.settings.token_hashes | {digest}, "token_scopes": {digest: ORDERS}}
    )
    deps.__dict__.pop("tokens", None)
    return client


def test_every_route_behind_the_token_names_its_scope() -> None:
    from app import app

    scopes = {
        (method, path): getattr(entry.view_function, "scope", None)
        for path, methods in app.routes.items()
        for method, entry in methods.items()
        if entry.authorizer
    }
    assert None not in scopes.values(), [route for route, scope in scopes.items() if scope is None]
    assert {route for route, scope in scopes.items() if scope == ADMIN} == ADMIN_ROUTES
    assert set(scopes.values()) == {ORDERS, ADMIN}


def test_an_orders_token_gets_a_403_json_error_on_every_admin_route(scoped: Any) -> None:
    for method, path in sorted(ADMIN_ROUTES):
        body = {"name": "x", "provider": "template"} if method in ("POST", "PATCH", "PUT") else None
        response = scoped.request(method, path.replace("{config_id}", CONFIG_ID), body, token=ORDERS_TOKEN)
        assert response.status_code == 403, (method, path, response.body)
        error = json.loads(response.body)
        assert error["code"] == "forbidden" and "admin" in error["message"], error
        assert response.headers["Content-Type"] == "application/json"
    assert [c["name"] for c in scoped.json("GET", "/ai/configs")["items"]] == [
        "Offline template"
    ]  # nothing made


def test_an_orders_token_does_what_the_crm_frontend_needs(scoped: Any) -> None:
    assert scoped.json("GET", "/me", token=ORDERS_TOKEN) == {"scope": ORDERS}
    order = scoped.json("POST", "/orders", ORDER, expect=201, token=ORDERS_TOKEN)
    gen = scoped.json("POST", f"/orders/{order['id']}/generations", expect=202, token=ORDERS_TOKEN)
    assert scoped.json("GET", f"/generations/{gen['id']}", token=ORDERS_TOKEN)["id"] == gen["id"]
    assert scoped.json("GET", f"/generations/{gen['id']}/logs", token=ORDERS_TOKEN)["items"]
    scoped.json("POST", f"/generations/{gen['id']}/cancel", expect=202, token=ORDERS_TOKEN)
    assert scoped.json("GET", "/queue", token=ORDERS_TOKEN)["queue"]
    assert scoped.json("GET", "/health/dependencies", token=ORDERS_TOKEN)["status"] == "ok"
    assert scoped.json("GET", "/me") == {"scope": ADMIN}  # the usual token, without a suffix


def test_entries_may_end_with_a_scope_and_default_to_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    assert split_scope("tokenA") == ("tokenA", ADMIN) and split_scope("tokenB:orders") == ("tokenB", ORDERS)
    assert split_scope(" tokenC:ADMIN ") == ("tokenC", ADMIN)
    assert split_scope("tok:other") == ("tok:other", ADMIN)  # not a scope: part of the token
    assert merge_scopes([("d", ADMIN), ("d", ORDERS)]) == {"d": ORDERS}  # listed twice: the narrower
    monkeypatch.setenv("SITEGEN_API_TOKENS", "tokenA,tokenB:orders")
    monkeypatch.setenv(
        "SITEGEN_API_TOKEN_SHA256", f"{hash_token('tokenC')}:orders,{hash_token('tokenD').upper()}"
    )
    monkeypatch.delenv("SITEGEN_API_TOKEN", raising=False)
    monkeypatch.delenv("SITEGEN_API_TOKEN_SECRET_ID", raising=False)
    assert read_token_scopes() == {
        hash_token("tokenA"): ADMIN,
        hash_token("tokenB"): ORDERS,
        hash_token("tokenC"): ORDERS,
        hash_token("tokenD"): ADMIN,
    }
    get_settings.cache_clear()
    try:
        settings = get_settings()
        assert (
            settings.token_scopes[hash_token("tokenB")] == ORDERS
            and hash_token("tokenA") in settings.token_hashes
        )
    finally:
        get_settings.cache_clear()


def test_the_tokens_secret_takes_scopes_too() -> None:
    from chalicelib.adapters.stage_secrets import token_scopes

    a, b = hash_token("a"), hash_token("b")
    assert token_scopes(f"{a}:orders, {b.upper()} ,junk:orders,{'0' * 63}:admin") == {a: ORDERS, b: ADMIN}


def test_scope_checks_compare_every_digest() -> None:
    scopes = {hash_token("a"): ADMIN, hash_token("b"): ORDERS}
    assert scope_of("Bearer b", scopes) == ORDERS and scope_of("bearer  a ", scopes) == ADMIN
    assert (
        scope_of("Bearer c", scopes) is None
        and scope_of("Basic a", scopes) is None
        and scope_of(None, scopes) is None
    )
    assert auth.allows(ADMIN, ORDERS) and auth.allows(ORDERS, ORDERS) and not auth.allows(ORDERS, ADMIN)
    assert not auth.allows(None, ORDERS) and not auth.allows("root", ORDERS)


# --- a revoked token stops working without a cold start -------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_digests_are_read_again_after_the_ttl() -> None:
    """They were cached for the container's life: a revoked token worked until a cold start."""
    accepted = {hash_token("old"): ADMIN, hash_token("new"): ADMIN}
    reads: list[int] = []
    clock = Clock()

    def load() -> dict[str, str]:
        reads.append(1)
        return dict(accepted)

    cache = TokenCache(load, ttl_s=TOKEN_TTL_S, initial=dict(accepted), clock=clock)
    del accepted[hash_token("old")]  # revoked
    assert scope_of("Bearer old", cache.current()) == ADMIN and reads == []  # within the TTL
    clock.now += TOKEN_TTL_S
    assert (
        scope_of("Bearer old", cache.current()) is None and scope_of("Bearer new", cache.current()) == ADMIN
    )
    assert len(reads) == 1


def test_a_failed_re_read_keeps_the_last_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    clock = Clock()

    def load() -> dict[str, str]:
        raise ConnectionError("secrets manager unreachable")

    cache = TokenCache(load, ttl_s=10, initial={hash_token("t"): ADMIN}, clock=clock)
    clock.now += 11
    assert scope_of("Bearer t", cache.current()) == ADMIN
    assert "could not re-read the API tokens" in capsys.readouterr().out
    with pytest.raises(ConnectionError):
        TokenCache(load).current()  # at cold start there is nothing to keep: fail loudly


def test_the_authorizer_re_reads_through_the_deps_loader(scoped: Any, deps: Any) -> None:
    accepted = dict(deps.tokens.current())
    deps.token_loader = lambda: dict(accepted)
    deps.__dict__.pop("tokens", None)
    assert scoped.request("GET", "/orders", token=ORDERS_TOKEN).status_code == 200
    del accepted[hash_token(ORDERS_TOKEN)]
    deps.tokens._expires = float("-inf")  # the TTL has passed
    assert scoped.request("GET", "/orders", token=ORDERS_TOKEN).status_code == 401


def test_the_authorizer_result_ttl_matches_the_re_read() -> None:
    from app import bearer

    assert bearer.config.ttl_seconds == TOKEN_TTL_S <= 300


# --- health ----------------------------------------------------------------------------------------
def test_the_public_health_check_touches_no_dependency(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.services import status

    def probe(deps: Any) -> Any:
        raise AssertionError("GET /health must not probe anything")

    monkeypatch.setattr(status, "_probe", probe)
    assert client.json("GET", "/health", token=None) == {
        "status": "ok",
        "instance": None,
    }  # the local stack's run id, null here


def test_the_deep_checks_need_the_token_and_are_kept_a_few_seconds(
    client: Any, deps: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.services import status

    assert client.request("GET", "/health/dependencies", token=None).status_code == 401
    probes: list[int] = []
    real = status._probe

    def counted(deps: Any) -> Any:
        probes.append(1)
        return real(deps)

    monkeypatch.setattr(status, "_probe", counted)
    for _ in range(5):
        health = client.json("GET", "/health/dependencies")
        assert health["status"] == "ok" and set(health["checks"]) == {"database", "queue", "logs", "sites"}
    assert probes == [1]
    deps.__dict__["_health"] = (0.0, deps.__dict__["_health"][1])  # HEALTH_CACHE_S has passed
    client.json("GET", "/health/dependencies")
    assert probes == [1, 1]
