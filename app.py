"""sitegen's edges: HTTP routes, the queue handler and the schedule. Each is a few lines."""

from __future__ import annotations

import functools
import importlib
import json
import os
from collections.abc import Callable
from typing import Any

from chalice import AuthResponse, Chalice, CORSConfig, Rate, Response

from chalicelib import edge
from chalicelib.auth import ADMIN, ORDERS, TOKEN_TTL_S
from chalicelib.bootstrap import get_deps


class _Lazy:
    """A module imported on first use, so that each function loads only what its own paths need: the
    API never loads the phase pipeline and the site builder, the worker never loads the request
    schemas, and `import app` costs little more than importing chalice (docs/benchmarks.md)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


api_models, ai_models = _Lazy("chalicelib.api_models"), _Lazy("chalicelib.ai.api_models")
ai_configs, dead_letters = _Lazy("chalicelib.services.ai_configs"), _Lazy("chalicelib.services.dead_letters")
generations, orders = _Lazy("chalicelib.services.generations"), _Lazy("chalicelib.services.orders")
regenerate, versions = _Lazy("chalicelib.services.regenerate"), _Lazy("chalicelib.services.versions")
status, sweeper = _Lazy("chalicelib.services.status"), _Lazy("chalicelib.services.sweeper")
worker = _Lazy("chalicelib.services.worker")
webhooks = _Lazy("chalicelib.services.webhooks")

app = Chalice(app_name="sitegen")
app.api.cors = CORSConfig(
    allow_origin="*", allow_headers=["Authorization", "Idempotency-Key", "Content-Type"]
)
QUEUE = os.environ.get("SITEGEN_QUEUE_NAME", "sitegen-generation")
DEAD_LETTER_QUEUE = os.environ.get("SITEGEN_DLQ_NAME", f"{QUEUE}-dlq")
# Caps the worker's concurrent invocations, hence its Postgres connections (docs/deployment.md).
# Read when `chalice package` loads the app, from the stage's environment in .chalice/config.json.
WORKER_CONCURRENCY = int(os.environ.get("SITEGEN_WORKER_MAX_CONCURRENCY", "5"))
# curl -d sends form-urlencoded by default; bodies are always parsed as JSON whatever the label.
BODY_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"]

try:  # chalice local and chalice.test turn this into a 401; on Lambda, "Unauthorized" does.
    from chalice.local import NotAuthorizedError as _LocalUnauthorized

    class Unauthorized(_LocalUnauthorized):
        def __init__(self) -> None:
            super().__init__({"x-amzn-ErrorType": "UnauthorizedException"}, b'{"message":"Unauthorized"}')

        def __str__(self) -> str:
            return "Unauthorized"
except ImportError:  # pragma: no cover - the Lambda runtime ships only chalice.app

    class Unauthorized(Exception):  # type: ignore[no-redef]
        def __init__(self) -> None:
            super().__init__("Unauthorized")


# API Gateway keeps an answer for TOKEN_TTL_S, the authorizer re-reads the tokens as often (auth.py).
@app.authorizer(ttl_seconds=TOKEN_TTL_S)
def bearer(auth_request):  # type: ignore[no-untyped-def]
    scope = get_deps().token_scope(auth_request.token)
    if scope is None:
        raise Unauthorized()
    return AuthResponse(routes=["*"], principal_id="crm", context={"scope": scope})


def _req():  # type: ignore[no-untyped-def]
    return app.current_request


def needs(scope: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """The scope a route needs (chalicelib/auth.py): a token without it gets a 403 JSON error. Every
    route behind the authorizer says which (tests/integration/test_scopes.py checks it)."""

    def wrap(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def scoped(*args: Any, **kwargs: Any) -> Response:
            edge.require_scope(_req(), scope)
            return view(*args, **kwargs)

        scoped.scope = scope  # type: ignore[attr-defined]
        return scoped

    return wrap


@app.route("/health", methods=["GET"])
@edge.endpoint
def health() -> Response:
    """Liveness only, for anyone: it touches no dependency (the deep checks are behind the token).
    `instance` names the local stack's run (its supervisor checks it); null when deployed."""
    instance = os.environ.get("SITEGEN_INSTANCE_ID") or None
    return Response(
        body=json.dumps({"status": "ok", "instance": instance}), status_code=200, headers=edge.JSON
    )


@app.route("/health/dependencies", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ORDERS)
def health_dependencies() -> Response:
    result = status.health(get_deps())
    return edge.ok(result, 200 if result.status == "ok" else 503)


@app.route("/me", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ORDERS)
def me() -> Response:
    """What this token may do, for the dashboard to show only that."""
    return edge.ok(api_models.ScopePublic(scope=edge.token_scope(_req())))


@app.route("/openapi.json", methods=["GET"])
@edge.endpoint
def openapi() -> Response:
    from chalicelib.openapi import document

    return Response(body=document(), status_code=200, headers=edge.JSON)


@app.route("/", methods=["GET"])
def dashboard() -> Response:
    from chalicelib.static import frontend_file

    return frontend_file("index.html")


@app.route("/ui/{name}", methods=["GET"])
def dashboard_asset(name: str) -> Response:
    from chalicelib.static import frontend_file

    return frontend_file(f"ui/{name}")


@app.route("/orders", methods=["POST"], authorizer=bearer, content_types=BODY_TYPES)
@edge.endpoint
@needs(ORDERS)
def create_order() -> Response:
    command = edge.parse_body(_req(), api_models.OrderCreate, get_deps().settings.max_body_bytes)
    return edge.ok(orders.create_order(get_deps(), command), 201)


@app.route("/orders", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ORDERS)
def list_orders() -> Response:
    limit = edge.int_param(_req(), "limit", 20, 1, 100)
    return edge.ok(orders.list_orders(get_deps(), limit, edge.str_param(_req(), "cursor")))


@app.route("/orders/{order_id}", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ORDERS)
def get_order(order_id: str) -> Response:
    return edge.ok(orders.get_order(get_deps(), order_id))


@app.route("/orders/{order_id}", methods=["PATCH"], authorizer=bearer, content_types=BODY_TYPES)
@edge.endpoint
@needs(ORDERS)
def update_order(order_id: str) -> Response:
    command = edge.parse_body(_req(), api_models.OrderUpdate, get_deps().settings.max_body_bytes)
    return edge.ok(orders.update_order(get_deps(), order_id, command))


@app.route("/orders/{order_id}/versions", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ORDERS)
def list_versions(order_id: str) -> Response:
    return edge.ok(versions.list_versions(get_deps(), order_id))


@app.route(
    "/orders/{order_id}/versions/{generation_id}/publish",
    methods=["POST"],
    authorizer=bearer,
    content_types=BODY_TYPES,
)
@edge.endpoint
@needs(ORDERS)
def publish_version(order_id: str, generation_id: str) -> Response:
    return edge.ok(versions.publish(get_deps(), order_id, generation_id))


@app.route("/orders/{order_id}/generations", methods=["POST"], authorizer=bearer, content_types=BODY_TYPES)
@edge.endpoint
@needs(ORDERS)
def start_generation(order_id: str) -> Response:
    key = (_req().headers or {}).get("idempotency-key")
    return edge.ok(generations.start_generation(get_deps(), order_id, key), 202)


@app.route("/orders/{order_id}/generations", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ORDERS)
def list_generations(order_id: str) -> Response:
    return edge.ok(generations.list_generations(get_deps(), order_id))


@app.route("/generations/{generation_id}", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ORDERS)
def get_generation(generation_id: str) -> Response:
    return edge.ok(generations.get_generation(get_deps(), generation_id))


@app.route("/generations/{generation_id}/logs", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ORDERS)
def generation_logs(generation_id: str) -> Response:
    limit = edge.int_param(_req(), "limit", 100, 1, status.MAX_LOG_PAGE)
    return edge.ok(status.log_page(get_deps(), generation_id, edge.str_param(_req(), "after"), limit))


@app.route(
    "/generations/{generation_id}/retry", methods=["POST"], authorizer=bearer, content_types=BODY_TYPES
)
@edge.endpoint
@needs(ORDERS)
def retry_generation(generation_id: str) -> Response:
    return edge.ok(generations.retry_generation(get_deps(), generation_id), 202)


@app.route(
    "/generations/{generation_id}/pages/{slug}/regenerate",
    methods=["POST"],
    authorizer=bearer,
    content_types=BODY_TYPES,
)
@edge.endpoint
@needs(ORDERS)
def regenerate_page(generation_id: str, slug: str) -> Response:
    body = (
        edge.parse_body(_req(), api_models.PageRegenerate, get_deps().settings.max_body_bytes)
        if _req().raw_body
        else api_models.PageRegenerate()
    )
    return edge.ok(regenerate.regenerate_page(get_deps(), generation_id, slug, body.instructions), 202)


@app.route(
    "/generations/{generation_id}/cancel", methods=["POST"], authorizer=bearer, content_types=BODY_TYPES
)
@edge.endpoint
@needs(ORDERS)
def cancel_generation(generation_id: str) -> Response:
    return edge.ok(generations.cancel_generation(get_deps(), generation_id), 202)


@app.route("/queue", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ORDERS)
def queue() -> Response:
    return edge.ok(status.queue_stats(get_deps()))


@app.route("/queue/dead-letters", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def list_dead_letters() -> Response:
    return edge.ok(dead_letters.list_pending(get_deps(), edge.int_param(_req(), "limit", 100, 1, 500)))


@app.route("/queue/dead-letter/redrive", methods=["POST"], authorizer=bearer, content_types=BODY_TYPES)
@edge.endpoint
@needs(ADMIN)
def redrive_dead_letters() -> Response:
    return edge.ok(dead_letters.redrive(get_deps()))


@app.route("/ai/configs", methods=["POST"], authorizer=bearer, content_types=BODY_TYPES)
@edge.endpoint
@needs(ADMIN)
def create_ai_config() -> Response:
    command = edge.parse_body(_req(), ai_models.AIConfigCreate, get_deps().settings.max_body_bytes)
    return edge.ok(ai_configs.create_config(get_deps(), command), 201)


@app.route("/ai/configs", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def list_ai_configs() -> Response:
    return edge.ok(ai_configs.list_configs(get_deps()))


@app.route("/ai/configs/{config_id}", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def get_ai_config(config_id: str) -> Response:
    return edge.ok(ai_configs.get_config(get_deps(), config_id))


@app.route("/ai/configs/{config_id}", methods=["PATCH"], authorizer=bearer, content_types=BODY_TYPES)
@edge.endpoint
@needs(ADMIN)
def update_ai_config(config_id: str) -> Response:
    command = edge.parse_body(_req(), ai_models.AIConfigUpdate, get_deps().settings.max_body_bytes)
    return edge.ok(ai_configs.update_config(get_deps(), config_id, command))


@app.route("/ai/configs/{config_id}", methods=["DELETE"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def delete_ai_config(config_id: str) -> Response:
    ai_configs.delete_config(get_deps(), config_id)
    return Response(body="", status_code=204)


@app.route("/ai/configs/{config_id}/test", methods=["POST"], authorizer=bearer, content_types=BODY_TYPES)
@edge.endpoint
@needs(ADMIN)
def test_ai_config(config_id: str) -> Response:
    return edge.ok(ai_configs.test_config(get_deps(), config_id))


@app.route("/ai/spend", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def ai_spend() -> Response:
    return edge.ok(ai_configs.spend(get_deps(), edge.int_param(_req(), "days", 7, 1, 90)))


@app.route("/ai/routing", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def get_ai_routing() -> Response:
    return edge.ok(ai_configs.get_routing(get_deps()))


@app.route("/ai/routing", methods=["PUT"], authorizer=bearer, content_types=BODY_TYPES)
@edge.endpoint
@needs(ADMIN)
def put_ai_routing() -> Response:
    command = edge.parse_body(_req(), ai_models.RoutingUpdate, get_deps().settings.max_body_bytes)
    return edge.ok(ai_configs.put_routing(get_deps(), command))


@app.route("/ai/doctor", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def ai_doctor() -> Response:
    return edge.ok(ai_configs.doctor(get_deps()))


@app.route("/webhooks", methods=["POST"], authorizer=bearer, content_types=BODY_TYPES)
@edge.endpoint
@needs(ADMIN)
def create_webhook() -> Response:
    command = edge.parse_body(_req(), api_models.WebhookCreate, get_deps().settings.max_body_bytes)
    return edge.ok(webhooks.create_webhook(get_deps(), command), 201)


@app.route("/webhooks", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def list_webhooks() -> Response:
    return edge.ok(webhooks.list_webhooks(get_deps()))


@app.route("/webhooks/{webhook_id}", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def get_webhook(webhook_id: str) -> Response:
    return edge.ok(webhooks.get_webhook(get_deps(), webhook_id))


@app.route("/webhooks/{webhook_id}", methods=["DELETE"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def delete_webhook(webhook_id: str) -> Response:
    webhooks.delete_webhook(get_deps(), webhook_id)
    return Response(body="", status_code=204)


@app.route(
    "/webhooks/{webhook_id}/rotate-secret", methods=["POST"], authorizer=bearer, content_types=BODY_TYPES
)
@edge.endpoint
@needs(ADMIN)
def rotate_webhook_secret(webhook_id: str) -> Response:
    return edge.ok(webhooks.rotate_secret(get_deps(), webhook_id))


@app.route("/webhooks/{webhook_id}/deliveries", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def webhook_deliveries(webhook_id: str) -> Response:
    limit = edge.int_param(_req(), "limit", 50, 1, 100)
    return edge.ok(webhooks.list_deliveries(get_deps(), webhook_id, limit, edge.str_param(_req(), "cursor")))


@app.route(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    methods=["POST"],
    authorizer=bearer,
    content_types=BODY_TYPES,
)
@edge.endpoint
@needs(ADMIN)
def redeliver_webhook(webhook_id: str, delivery_id: str) -> Response:
    return edge.ok(webhooks.redeliver(get_deps(), webhook_id, delivery_id), 202)


@app.on_sqs_message(queue=QUEUE, batch_size=1, maximum_concurrency=WORKER_CONCURRENCY)
def run_phase(event):  # type: ignore[no-untyped-def]
    for record in event:  # batch size 1: Chalice cannot report partial batch failures
        worker.handle_message(get_deps(), record.body, event.context.get_remaining_time_in_millis())


@app.on_sqs_message(queue=DEAD_LETTER_QUEUE, batch_size=1, maximum_concurrency=2)
def on_dead_letter(event):  # type: ignore[no-untyped-def]
    for record in event:  # never raises: see chalicelib/services/dead_letters.py
        reason = (record.to_dict().get("messageAttributes", {}).get("reason") or {}).get("stringValue")
        dead_letters.handle_dead_letter(get_deps(), record.to_dict()["messageId"], record.body, reason)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def sweep(event):  # type: ignore[no-untyped-def]
    sweeper.sweep(get_deps())
