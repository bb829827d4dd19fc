"""Input that used to get a 5xx: each case here was found by the fuzz test (tests/integration/test_fuzz.py)
or while fixing what it found. Every one must now be a 4xx JSON error with a message."""

from __future__ import annotations

import json

import pytest

from tests.support.orders import ORDER


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.body[:500])
    assert response.headers["Content-Type"].startswith("application/json")
    error = json.loads(response.body)
    assert error["code"] == code and error["message"]
    return error


@pytest.mark.parametrize(
    "path,body,field",
    [
        (
            "/orders",
            {"business_name": "0", "segment": "\u0000"},
            "segment",
        ),  # the fuzzer's first find: was 503
        ("/orders", {**ORDER, "services": ["bread", "cakes\u0000"]}, "services.1"),
        ("/orders", {**ORDER, "contact": {"city": "S\u0000o Paulo"}}, "contact.city"),
        ("/orders", {**ORDER, "external_ref": "crm\u0000-1"}, "external_ref"),
        ("/orders", {**ORDER, "odd\u0000key": 1}, "odd\u0000key"),
        ("/ai/configs", {"name": "x\u0000", "provider": "template"}, "name"),
        (
            "/ai/configs",
            {
                "name": "x",
                "provider": "openai_compatible",
                "model": "m",
                "base_url": "http://127.0.0.1:9/\u0000",
            },
            "base_url",
        ),
    ],
)
def test_nul_characters_in_a_body_are_422_not_a_database_error(client, path, body, field):
    error = error_of(client.request("POST", path, body), 422, "validation_error")
    assert [d["field"] for d in error["details"]] == [field]


def test_nul_characters_in_a_patch_are_422(client):
    created = client.json("POST", "/ai/configs", {"name": "Patch me", "provider": "template"}, expect=201)
    response = client.request("PATCH", f"/ai/configs/{created['id']}", {"model": "m\u0000"})
    assert error_of(response, 422, "validation_error")["details"][0]["field"] == "model"
    assert client.json("GET", f"/ai/configs/{created['id']}")["model"] is None


@pytest.mark.parametrize("depth", [1000, 20000])
def test_deeply_nested_json_is_400(client, depth):
    raw = '{"business_name": ' + "[" * depth + "]" * depth + "}"
    error = error_of(client.request("POST", "/orders", raw=raw), 400, "invalid_json")
    assert "nested too deeply" in error["message"]


@pytest.mark.parametrize(
    "query",
    [
        "limit=%C2%B2",  # "²".isdigit() is true, int("²") raises: was 500
        "limit=%D9%A3",  # an Arabic-Indic 3: int() would take it
        "limit=" + "9" * 5000,  # past int()'s digit limit: was 500
        "cursor=%C2%B2",  # was 500
        "cursor=" + "9" * 30,  # past bigint: was 503 from Postgres
        "cursor=9223372036854775808",
        "cursor=" + "9" * 5000,  # was 500
    ],
)
def test_odd_numbers_in_the_orders_query_are_400(client, query):
    error_of(client.request("GET", f"/orders?{query}"), 400, "validation_error")


def test_the_largest_bigint_cursor_is_still_a_cursor(client):
    created = client.json("POST", "/orders", ORDER, expect=201)
    assert [o["id"] for o in client.json("GET", "/orders?cursor=9223372036854775807")["items"]] == [
        created["id"]
    ]


@pytest.mark.parametrize("query", ["limit=%C2%B2", "limit=" + "9" * 5000, "after=%00"])
def test_odd_log_page_params_are_400(client, query):
    order = client.json("POST", "/orders", ORDER, expect=201)
    gen = client.json("POST", f"/orders/{order['id']}/generations", expect=202)
    error_of(client.request("GET", f"/generations/{gen['id']}/logs?{query}"), 400, "validation_error")
