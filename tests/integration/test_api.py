"""The HTTP contract through Chalice's test client: auth, validation, ids, conflicts, paging."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.support import stack as support
from tests.support.orders import ORDER

BAD_BODIES = [
    ({}, "business_name"),
    ({**ORDER, "business_name": ""}, "business_name"),
    ({**ORDER, "business_name": "x" * 201}, "business_name"),
    ({**ORDER, "segment": 12}, "segment"),
    ({**ORDER, "services": "bread"}, "services"),
    ({**ORDER, "services": ["x" * 101]}, "services"),
    ({**ORDER, "services": ["s"] * 21}, "services"),
    ({**ORDER, "contact": {"email": "not-an-email"}}, "contact.email"),
    ({**ORDER, "brand": {"primary_color": "red"}}, "brand.primary_color"),
    ({**ORDER, "locale": "fr-FR"}, "locale"),
    ({**ORDER, "surprise": True}, "surprise"),
    ({**ORDER, "description": "d" * 2001}, "description"),
]


def test_health_and_openapi_need_no_token(client):
    assert client.json("GET", "/health", token=None)["status"] == "ok"
    assert client.json("GET", "/openapi.json", token=None)["openapi"].startswith("3.")


@pytest.mark.parametrize("token", [None, "wrong-token", ""])
def test_missing_or_wrong_token_is_401_without_detail(client, token):
    response = client.request("GET", "/orders", token=token)
    assert response.status_code == 401
    assert json.loads(response.body) == {"message": "Unauthorized"}


@pytest.mark.parametrize("body,field", BAD_BODIES)
def test_invalid_order_is_422_naming_the_field(client, body, field):
    error = client.json("POST", "/orders", body, expect=422)
    assert error["code"] == "validation_error"
    assert field in [d["field"] for d in error["details"]]


@pytest.mark.parametrize(
    "raw,code",
    [
        (b"{not json", "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b"", "invalid_json"),
    ],
)
def test_malformed_json_is_400(client, raw, code):
    response = client.request("POST", "/orders", raw=raw)
    assert response.status_code == 400
    assert json.loads(response.body)["code"] == code


def test_oversized_body_is_413(client):
    response = client.request("POST", "/orders", raw=json.dumps({**ORDER, "description": "x" * 70_000}))
    assert response.status_code == 413
    assert json.loads(response.body)["code"] == "payload_too_large"


def test_order_round_trip_and_external_ref_unique(client):
    created = client.json("POST", "/orders", {**ORDER, "external_ref": "crm-42"}, expect=201)
    assert client.json("GET", f"/orders/{created['id']}") == created
    assert created["services"] == ORDER["services"] and created["locale"] == "pt-BR"
    conflict = client.json("POST", "/orders", {**ORDER, "external_ref": "crm-42"}, expect=409)
    assert conflict["code"] == "conflict" and "crm-42" in conflict["message"]


def test_defaults_applied(client):
    created = client.json("POST", "/orders", {"business_name": "A", "segment": "b"}, expect=201)
    assert created["locale"] == "pt-BR" and created["services"] == []
    assert created["brand"]["primary_color"].startswith("#")


def test_orders_page_by_cursor_newest_first(client):
    ids = [
        client.json("POST", "/orders", {**ORDER, "business_name": f"Shop {i}"}, expect=201)["id"]
        for i in range(5)
    ]
    seen, cursor = [], ""
    while True:
        page = client.json("GET", f"/orders?limit=2&cursor={cursor}")
        seen += [o["id"] for o in page["items"]]
        assert len(page["items"]) <= 2
        if not page["next_cursor"]:
            break
        cursor = page["next_cursor"]
    assert seen == list(reversed(ids))


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "cursor=abc"])
def test_bad_paging_params_are_400(client, query):
    assert client.json("GET", f"/orders?{query}", expect=400)["code"] == "validation_error"


@pytest.mark.parametrize(
    "path",
    [
        "/orders/{u}",
        "/orders/{u}/generations",
        "/generations/{u}",
        "/generations/{u}/logs",
        "/orders/not-a-uuid",
        "/generations/12345",
    ],
)
def test_unknown_ids_are_404(client, path):
    error = client.json("GET", path.format(u=uuid.uuid4()), expect=404)
    assert error["code"] == "not_found" and error["message"]


@pytest.mark.parametrize(
    "path", ["/orders/{u}/generations", "/generations/{u}/retry", "/generations/{u}/cancel"]
)
def test_unknown_ids_on_actions_are_404(client, path):
    assert client.json("POST", path.format(u=uuid.uuid4()), expect=404)["code"] == "not_found"


def test_two_generate_clicks_give_one_generation(client):
    order = client.json("POST", "/orders", ORDER, expect=201)
    first = client.json("POST", f"/orders/{order['id']}/generations", expect=202)
    second = client.json("POST", f"/orders/{order['id']}/generations", expect=409)
    assert second["active_generation_id"] == first["id"]
    assert len(client.json("GET", f"/orders/{order['id']}/generations")["items"]) == 1


def test_idempotency_key_replays_the_first_answer(client, aws):
    order = client.json("POST", "/orders", ORDER, expect=201)
    headers = {"Idempotency-Key": "click-1"}
    first = client.json("POST", f"/orders/{order['id']}/generations", expect=202, headers=headers)
    again = client.json("POST", f"/orders/{order['id']}/generations", expect=202, headers=headers)
    assert again == first
    queued = aws.sqs.get_queue_attributes(
        QueueUrl=aws.resources.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert queued["ApproximateNumberOfMessages"] == "1"


def test_retry_and_cancel_conflicts(client):
    order = client.json("POST", "/orders", ORDER, expect=201)
    gen = client.json("POST", f"/orders/{order['id']}/generations", expect=202)
    assert client.json("POST", f"/generations/{gen['id']}/retry", expect=409)["code"] == "conflict"
    cancelled = client.json("POST", f"/generations/{gen['id']}/cancel", expect=202)
    assert cancelled["status"] == "cancelled"
    assert client.json("POST", f"/generations/{gen['id']}/cancel", expect=409)["code"] == "conflict"
    newer = client.json("POST", f"/orders/{order['id']}/generations", expect=202)
    # resending the old one while a newer one runs: the one-active-per-order index answers, not a 500
    conflict = client.json("POST", f"/generations/{gen['id']}/retry", expect=409)
    assert conflict["code"] == "conflict" and newer["id"] in json.dumps(conflict)
    assert client.json("GET", f"/generations/{gen['id']}")["status"] == "cancelled"


def test_log_cursor_is_always_usable(client):
    order = client.json("POST", "/orders", ORDER, expect=201)
    gen = client.json("POST", f"/orders/{order['id']}/generations", expect=202)
    page = client.json("GET", f"/generations/{gen['id']}/logs")
    assert [i["event"] for i in page["items"]] == ["generation_queued"]
    empty = client.json("GET", f"/generations/{gen['id']}/logs?after={page['next_cursor']}")
    assert empty["items"] == [] and empty["next_cursor"] == page["next_cursor"]
    assert (
        client.json("GET", f"/generations/{gen['id']}/logs?limit=0", expect=400)["code"] == "validation_error"
    )


def test_a_log_page_carries_the_generations_status_and_version(client, aws):
    order = client.json("POST", "/orders", ORDER, expect=201)
    gen = client.json("POST", f"/orders/{order['id']}/generations", expect=202)
    page = client.json("GET", f"/generations/{gen['id']}/logs")
    assert (page["generation_status"], page["generation_updated_at"]) == ("queued", gen["updated_at"])
    assert (
        support.deliver_one(client, aws) == 1
    )  # one phase runs: the generation changes, so does its version
    now = client.json("GET", f"/generations/{gen['id']}")
    page = client.json("GET", f"/generations/{gen['id']}/logs?after={page['next_cursor']}")
    assert (page["generation_status"], page["generation_updated_at"]) == (now["status"], now["updated_at"])
    assert now["updated_at"] != gen["updated_at"] and now["phases"][0]["status"] == "succeeded"


def test_queue_counts(client):
    order = client.json("POST", "/orders", ORDER, expect=201)
    client.json("POST", f"/orders/{order['id']}/generations", expect=202)
    queue = client.json("GET", "/queue")
    assert queue["visible"] == 1 and queue["dead_letter"] == 0 and queue["queue"].endswith("generation")


def test_openapi_documents_every_route_and_nothing_else(client):
    from app import app

    doc = client.json("GET", "/openapi.json", token=None)
    undocumented = {"/", "/ui/{name}"}  # the dashboard's static files, not API
    routes = {
        (path, method.lower())
        for path, methods in app.routes.items()
        if path not in undocumented
        for method in methods
    }
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert routes == documented
    for _path, ops in doc["paths"].items():
        for op in ops.values():
            for ref in json.dumps(op).split('"$ref": "')[1:]:
                assert ref.split('"')[0].rsplit("/", 1)[-1] in doc["components"]["schemas"]


def test_ai_routes_mask_keys_and_check_routing(client):
    created = client.json(
        "POST",
        "/ai/configs",
        {"name": "Coder", "provider": "openai", "model": "gpt-4o-mini", "api_key": "sk-test-SECRETKEY1234"},
        expect=201,
    )
    assert created["has_api_key"] is True and "SECRETKEY" not in json.dumps(created)
    listed = client.request("GET", "/ai/configs")
    assert "SECRETKEY" not in listed.body.decode()
    typo = client.json(
        "POST", "/ai/configs", {"name": "x", "provider": "cloudflarre", "model": "m"}, expect=422
    )
    assert "cloudflare" in json.dumps(typo)
    routing = client.json("GET", "/ai/routing")
    bad = {**routing, "routes": {**routing["routes"], "coding": str(uuid.uuid4())}}
    assert client.json("PUT", "/ai/routing", bad, expect=400)["code"] == "validation_error"
    assert isinstance(client.json("GET", "/ai/doctor")["findings"], list)
    assert client.request("DELETE", f"/ai/configs/{created['id']}").status_code == 204


def test_deleting_a_routed_config_is_a_409_naming_the_tasks_that_use_it(client):
    created = client.json("POST", "/ai/configs", {"name": "Routed", "provider": "template"}, expect=201)
    routing = client.json("GET", "/ai/routing")
    client.json(
        "PUT",
        "/ai/routing",
        {**routing, "routes": {**routing["routes"], "coding": created["id"]}, "fallback": created["id"]},
    )
    refused = client.json("DELETE", f"/ai/configs/{created['id']}", expect=409)
    assert refused["code"] == "conflict" and refused["tasks"] == ["coding", "fallback"]
    assert "routed for coding, fallback" in refused["message"]
    client.json("PUT", "/ai/routing", routing)
    assert client.request("DELETE", f"/ai/configs/{created['id']}").status_code == 204
