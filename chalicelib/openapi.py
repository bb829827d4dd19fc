"""The OpenAPI 3 document of the HTTP API, built from the same pydantic schemas the routes use."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from pydantic.json_schema import models_json_schema

from chalicelib.ai.api_models import (  # noqa: E402
    AIConfigCreate,
    AIConfigList,
    AIConfigPublic,
    AIConfigUpdate,
    DoctorReport,
    RoutingPublic,
    RoutingUpdate,
    SpendReport,
    TestResult,
)
from chalicelib.api_models import (
    DeadLetterList,
    ErrorPublic,
    GenerationList,
    GenerationPublic,
    HealthPublic,
    LivenessPublic,
    LogPage,
    OrderCreate,
    OrderList,
    OrderPublic,
    OrderUpdate,
    PageRegenerate,
    QueuePublic,
    RedrivePublic,
    ScopePublic,
    VersionList,
    WebhookCreate,
    WebhookDeliveryList,
    WebhookDeliveryPublic,
    WebhookList,
    WebhookPublic,
    WebhookWithSecret,
)

MODELS = (
    AIConfigCreate,
    AIConfigList,
    AIConfigPublic,
    AIConfigUpdate,
    DoctorReport,
    RoutingPublic,
    RoutingUpdate,
    SpendReport,
    TestResult,
    DeadLetterList,
    ErrorPublic,
    GenerationList,
    GenerationPublic,
    HealthPublic,
    LivenessPublic,
    LogPage,
    OrderCreate,
    OrderList,
    OrderPublic,
    OrderUpdate,
    PageRegenerate,
    QueuePublic,
    RedrivePublic,
    ScopePublic,
    VersionList,
    WebhookCreate,
    WebhookDeliveryList,
    WebhookDeliveryPublic,
    WebhookList,
    WebhookPublic,
    WebhookWithSecret,
)


def _ref(model: type) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(model: type, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Bad request",
        401: "Missing or wrong token",
        403: "The token's scope does not allow this",
        404: "Unknown id",
        409: "Conflict",
        413: "Body too large",
        422: "Validation error",
        503: "A dependency is down",
    }
    return {str(c): _json(ErrorPublic, text[c]) for c in codes}


def _param(name: str, where: str = "path", schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "schema": schema or {"type": "string"}}


def _op(
    summary: str,
    responses: dict[str, Any],
    params: list[dict[str, Any]] | None = None,
    body: type | None = None,
    public: bool = False,
    scope: str = "orders",
) -> dict[str, Any]:
    """`scope`: the token scope the route needs (chalicelib/auth.py); an admin route may answer 403."""
    op: dict[str, Any] = {"summary": summary, "responses": responses, "parameters": params or []}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    if public:
        op["security"] = []
    else:
        op["x-sitegen-scope"] = scope
        if scope == "admin":
            op["responses"] = {**responses, **_errors(403)}
    return op


ORDER_ID, GEN_ID = _param("order_id"), _param("generation_id")
PAGE = [
    _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 100}),
    _param("cursor", "query"),
]
LOGS = [_param("after", "query"), _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500})]
IDEMPOTENCY = _param("Idempotency-Key", "header", {"type": "string", "maxLength": 200})

PATHS: dict[str, dict[str, Any]] = {
    "/health": {
        "get": _op("Liveness (no dependency is touched)", {"200": _json(LivenessPublic, "Up")}, public=True)
    },
    "/health/dependencies": {
        "get": _op(
            "Health of every dependency (kept for 5 s)",
            {
                "200": _json(HealthPublic, "All up"),
                **_errors(401),
                "503": _json(HealthPublic, "Names what is down"),
            },
        )
    },
    "/me": {
        "get": _op("The scope of this token", {"200": _json(ScopePublic, "orders or admin"), **_errors(401)})
    },
    "/openapi.json": {
        "get": _op("This document", {"200": {"description": "OpenAPI 3 document"}}, public=True)
    },
    "/orders": {
        "post": _op(
            "Create an order",
            {"201": _json(OrderPublic, "Created"), **_errors(400, 401, 409, 413, 422)},
            body=OrderCreate,
        ),
        "get": _op(
            "List orders, newest first", {"200": _json(OrderList, "A page"), **_errors(400, 401)}, PAGE
        ),
    },
    "/orders/{order_id}": {
        "get": _op("One order", {"200": _json(OrderPublic, "The order"), **_errors(401, 404)}, [ORDER_ID]),
        "patch": _op(
            "Change the order's settings (auto_publish)",
            {"200": _json(OrderPublic, "Changed"), **_errors(400, 401, 404, 413, 422)},
            [ORDER_ID],
            body=OrderUpdate,
        ),
    },
    "/orders/{order_id}/versions": {
        "get": _op(
            "Versions of the order's site (succeeded generations), newest first: which is live, when "
            "each was made and published, pages, preview URL",
            {"200": _json(VersionList, "Versions"), **_errors(401, 404)},
            [ORDER_ID],
        )
    },
    "/orders/{order_id}/versions/{generation_id}/publish": {
        "post": _op(
            "Make a version live at the order's live_url: publish a preview, or roll back to an older "
            "version (one atomic switch)",
            {"200": _json(VersionList, "Versions after the switch"), **_errors(401, 404, 409)},
            [ORDER_ID, GEN_ID],
        )
    },
    "/orders/{order_id}/generations": {
        "post": _op(
            "Generate the site (enqueue)",
            {"202": _json(GenerationPublic, "Queued"), **_errors(400, 401, 404, 409)},
            [ORDER_ID, IDEMPOTENCY],
        ),
        "get": _op(
            "The order's generations",
            {"200": _json(GenerationList, "Newest first"), **_errors(401, 404)},
            [ORDER_ID],
        ),
    },
    "/generations/{generation_id}": {
        "get": _op(
            "One generation with its phases",
            {"200": _json(GenerationPublic, "State"), **_errors(401, 404)},
            [GEN_ID],
        )
    },
    "/generations/{generation_id}/logs": {
        "get": _op(
            "Log lines after a cursor, oldest first",
            {"200": _json(LogPage, "A page"), **_errors(400, 401, 404)},
            [GEN_ID, *LOGS],
        )
    },
    "/generations/{generation_id}/retry": {
        "post": _op(
            "Resend: resume at the first phase that did not succeed",
            {"202": _json(GenerationPublic, "Queued again"), **_errors(401, 404, 409)},
            [GEN_ID],
        )
    },
    "/generations/{generation_id}/pages/{slug}/regenerate": {
        "post": _op(
            "Regenerate one page (optional instructions); the other pages are reused, the whole site "
            "is reviewed and published as a new generation",
            {"202": _json(GenerationPublic, "Queued"), **_errors(400, 401, 404, 409, 413, 422)},
            [GEN_ID, _param("slug")],
            body=PageRegenerate,
        )
    },
    "/generations/{generation_id}/cancel": {
        "post": _op(
            "Cancel: no further phase starts",
            {"202": _json(GenerationPublic, "Cancelled"), **_errors(401, 404, 409)},
            [GEN_ID],
        )
    },
    "/queue": {
        "get": _op(
            "Queue depth, dead letters, age of the oldest waiting phase",
            {"200": _json(QueuePublic, "Counts"), **_errors(401, 503)},
        )
    },
    "/queue/dead-letters": {
        "get": _op(
            "Dead letters waiting for a redrive, oldest first: generation, order, phase, part, reason, age",
            {"200": _json(DeadLetterList, "The letters"), **_errors(400, 401, 503)},
            [_param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500})],
            scope="admin",
        )
    },
    "/queue/dead-letter/redrive": {
        "post": _op(
            "Send dead letters back; generations they had failed are resumed",
            {"200": _json(RedrivePublic, "What was moved"), **_errors(401, 503)},
            scope="admin",
        )
    },
}


CONFIG_ID = _param("config_id")
PATHS.update(
    {
        "/ai/configs": {
            "post": _op(
                "Add an AI provider config (api_key is write-only)",
                {"201": _json(AIConfigPublic, "Created"), **_errors(400, 401, 409, 413, 422)},
                body=AIConfigCreate,
                scope="admin",
            ),
            "get": _op(
                "AI configs (keys masked)",
                {"200": _json(AIConfigList, "All configs"), **_errors(401)},
                scope="admin",
            ),
        },
        "/ai/configs/{config_id}": {
            "get": _op(
                "One AI config",
                {"200": _json(AIConfigPublic, "The config"), **_errors(401, 404)},
                [CONFIG_ID],
                scope="admin",
            ),
            "patch": _op(
                "Change an AI config",
                {"200": _json(AIConfigPublic, "Changed"), **_errors(400, 401, 404, 409, 413, 422)},
                [CONFIG_ID],
                body=AIConfigUpdate,
                scope="admin",
            ),
            "delete": _op(
                "Delete an AI config (409 while routed)",
                {"204": {"description": "Deleted"}, **_errors(401, 404, 409)},
                [CONFIG_ID],
                scope="admin",
            ),
        },
        "/ai/configs/{config_id}/test": {
            "post": _op(
                "One cheap call to the provider",
                {"200": _json(TestResult, "ok, latency_ms, error"), **_errors(401, 404)},
                [CONFIG_ID],
                scope="admin",
            )
        },
        "/ai/routing": {
            "get": _op(
                "Task type -> config", {"200": _json(RoutingPublic, "Routes"), **_errors(401)}, scope="admin"
            ),
            "put": _op(
                "Set the routes",
                {"200": _json(RoutingPublic, "Routes"), **_errors(400, 401, 413, 422)},
                body=RoutingUpdate,
                scope="admin",
            ),
        },
        "/ai/spend": {
            "get": _op(
                "Tokens and cost per AI config over the last days (default 7), from the usage each phase and part "
                "recorded",
                {"200": _json(SpendReport, "Per config"), **_errors(400, 401)},
                [_param("days", "query", {"type": "integer", "minimum": 1, "maximum": 90})],
                scope="admin",
            )
        },
        "/ai/doctor": {
            "get": _op(
                "Configuration findings",
                {"200": _json(DoctorReport, "Findings"), **_errors(401)},
                scope="admin",
            )
        },
    }
)

WEBHOOK_ID = _param("webhook_id")
PATHS.update(
    {
        "/webhooks": {
            "post": _op(
                "Add a webhook: a URL and the events it wants. The answer carries the signing secret, "
                "this once",
                {"201": _json(WebhookWithSecret, "Created"), **_errors(400, 401, 413, 422)},
                body=WebhookCreate,
                scope="admin",
            ),
            "get": _op(
                "Webhooks (never their secrets)",
                {"200": _json(WebhookList, "All webhooks"), **_errors(401)},
                scope="admin",
            ),
        },
        "/webhooks/{webhook_id}": {
            "get": _op(
                "One webhook",
                {"200": _json(WebhookPublic, "The webhook"), **_errors(400, 401, 404)},
                [WEBHOOK_ID],
                scope="admin",
            ),
            "delete": _op(
                "Delete a webhook and its deliveries",
                {"204": {"description": "Deleted"}, **_errors(400, 401, 404)},
                [WEBHOOK_ID],
                scope="admin",
            ),
        },
        "/webhooks/{webhook_id}/rotate-secret": {
            "post": _op(
                "A new signing secret, shown this once; the old one stops signing at once",
                {"200": _json(WebhookWithSecret, "Rotated"), **_errors(400, 401, 404)},
                [WEBHOOK_ID],
                scope="admin",
            )
        },
        "/webhooks/{webhook_id}/deliveries": {
            "get": _op(
                "The webhook's deliveries, newest first: status, attempts, last response code and time",
                {"200": _json(WebhookDeliveryList, "A page"), **_errors(400, 401, 404)},
                [
                    WEBHOOK_ID,
                    _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 100}),
                    _param("cursor", "query"),
                ],
                scope="admin",
            )
        },
        "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver": {
            "post": _op(
                "Send a delivery again (same event id and body), with a fresh 24 hours of retries",
                {"202": _json(WebhookDeliveryPublic, "Queued"), **_errors(400, 401, 404, 409)},
                [WEBHOOK_ID, _param("delivery_id")],
                scope="admin",
            )
        },
    }
)


@lru_cache(maxsize=1)
def document() -> str:
    inputs = (
        OrderCreate,
        OrderUpdate,
        AIConfigCreate,
        AIConfigUpdate,
        RoutingUpdate,
        PageRegenerate,
        WebhookCreate,
    )
    _, schemas = models_json_schema(
        [(m, "validation" if m in inputs else "serialization") for m in MODELS],
        ref_template="#/components/schemas/{model}",
    )
    doc = {
        "openapi": "3.1.0",  # pydantic emits JSON Schema 2020-12 (`{"type": "null"}`): 3.1, not 3.0
        "info": {
            "title": "sitegen API",
            "version": "1.0.0",
            "description": "Generate small-business websites in phases; follow progress and logs.",
        },
        "paths": PATHS,
        "components": {
            "schemas": schemas["$defs"],
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
    return json.dumps(doc)
