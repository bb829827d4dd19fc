"""sitegen's edges: HTTP routes, the queue handler and the schedule. Each is a few lines."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import Any

from chalice import AuthResponse, Chalice, CORSConfig, Rate, Response
from chalice.app import AuthRequest, CloudWatchEvent, Request, SQSEvent

from chalicelib import edge
from chalicelib import log as logger
from chalicelib.auth import ADMIN, ORDERS, TOKEN_TTL_S
from chalicelib.bootstrap import get_deps

# Each route, handler and schedule imports its service and models itself, when it first runs: the API
# never loads the phase pipeline and the site builder, the worker never loads the request schemas, and
# `import app` costs little more than importing chalice (docs/benchmarks.md, bench/coldstart.py).

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

Unauthorized: type[Exception]
try:  # chalice local and chalice.test turn this into a 401; on Lambda, "Unauthorized" does.
    from chalice.local import NotAuthorizedError

    class _LocalUnauthorized(NotAuthorizedError):
        def __init__(self) -> None:
            super().__init__({"x-amzn-ErrorType": "UnauthorizedException"}, b'{"message":"Unauthorized"}')

        def __str__(self) -> str:
            return "Unauthorized"

    Unauthorized = _LocalUnauthorized
except ImportError:  # pragma: no cover - the Lambda runtime ships only chalice.app

    class _LambdaUnauthorized(Exception):
        def __init__(self) -> None:
            super().__init__("Unauthorized")

    Unauthorized = _LambdaUnauthorized


# API Gateway keeps an answer for TOKEN_TTL_S, the authorizer re-reads the tokens as often (auth.py).
@app.authorizer(ttl_seconds=TOKEN_TTL_S)
def bearer(auth_request: AuthRequest) -> AuthResponse:
    scope = get_deps().token_scope(auth_request.token)
    if scope is None:
        raise Unauthorized()
    return AuthResponse(routes=["*"], principal_id="crm", context={"scope": scope})


def _req() -> Request:
    request = app.current_request
    if request is None:  # Chalice sets it before it calls any route
        raise RuntimeError("no current request")
    return request


def _max_body() -> int:
    return get_deps().settings.max_body_bytes


def needs(scope: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """The scope a route needs (chalicelib/auth.py): a token without it gets a 403 JSON error. Every
    route behind the authorizer says which (tests/integration/test_scopes.py checks it)."""

    def wrap(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def scoped(*args: Any, **kwargs: Any) -> Response:
            edge.require_scope(_req(), scope)
            return view(*args, **kwargs)

        scoped.__dict__["scope"] = scope  # functools.wraps carries it to the route's outer wrappers
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
    from chalicelib.services import status

    result = status.health(get_deps())
    return edge.ok(result, 200 if result.status == "ok" else 503)


@app.route("/me", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ORDERS)
def me() -> Response:
    """What this token may do, for the dashboard to show only that."""
    from chalicelib import api_models

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
    from chalicelib import api_models
    from chalicelib.services import orders

    command = edge.parse_body(_req(), api_models.OrderCreate, _max_body())
    return edge.ok(orders.create_order(get_deps(), command), 201)


@app.route("/orders", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ORDERS)
def list_orders() -> Response:
    from chalicelib.services import orders

    limit = edge.int_param(_req(), "limit", 20, 1, 100)
    return edge.ok(orders.list_orders(get_deps(), limit, edge.str_param(_req(), "cursor")))


@app.route("/orders/{order_id}", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ORDERS)
def get_order(order_id: str) -> Response:
    from chalicelib.services import orders

    return edge.ok(orders.get_order(get_deps(), order_id))


@app.route("/orders/{order_id}", methods=["PATCH"], authorizer=bearer, content_types=BODY_TYPES)
@edge.endpoint
@needs(ORDERS)
def update_order(order_id: str) -> Response:
    from chalicelib import api_models
    from chalicelib.services import orders

    command = edge.parse_body(_req(), api_models.OrderUpdate, _max_body())
    return edge.ok(orders.update_order(get_deps(), order_id, command))


@app.route("/orders/{order_id}/versions", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ORDERS)
def list_versions(order_id: str) -> Response:
    from chalicelib.services import versions

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
    from chalicelib.services import versions

    return edge.ok(versions.publish(get_deps(), order_id, generation_id))


@app.route("/orders/{order_id}/generations", methods=["POST"], authorizer=bearer, content_types=BODY_TYPES)
@edge.endpoint
@needs(ORDERS)
def start_generation(order_id: str) -> Response:
    from chalicelib.services import generations

    key = _req().headers.get("idempotency-key")
    return edge.ok(generations.start_generation(get_deps(), order_id, key), 202)


@app.route("/orders/{order_id}/generations", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ORDERS)
def list_generations(order_id: str) -> Response:
    from chalicelib.services import generations

    return edge.ok(generations.list_generations(get_deps(), order_id))


@app.route("/generations/{generation_id}", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ORDERS)
def get_generation(generation_id: str) -> Response:
    from chalicelib.services import generations

    return edge.ok(generations.get_generation(get_deps(), generation_id))


@app.route("/generations/{generation_id}/logs", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ORDERS)
def generation_logs(generation_id: str) -> Response:
    from chalicelib.services import status

    limit = edge.int_param(_req(), "limit", 100, 1, status.MAX_LOG_PAGE)
    return edge.ok(status.log_page(get_deps(), generation_id, edge.str_param(_req(), "after"), limit))


@app.route(
    "/generations/{generation_id}/retry", methods=["POST"], authorizer=bearer, content_types=BODY_TYPES
)
@edge.endpoint
@needs(ORDERS)
def retry_generation(generation_id: str) -> Response:
    from chalicelib.services import generations

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
    from chalicelib import api_models
    from chalicelib.services import regenerate

    body = (
        edge.parse_body(_req(), api_models.PageRegenerate, _max_body())
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
    from chalicelib.services import generations

    return edge.ok(generations.cancel_generation(get_deps(), generation_id), 202)


@app.route("/queue", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ORDERS)
def queue() -> Response:
    from chalicelib.services import status

    return edge.ok(status.queue_stats(get_deps()))


@app.route("/queue/dead-letters", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def list_dead_letters() -> Response:
    from chalicelib.services import dead_letters

    return edge.ok(dead_letters.list_pending(get_deps(), edge.int_param(_req(), "limit", 100, 1, 500)))


@app.route("/queue/dead-letter/redrive", methods=["POST"], authorizer=bearer, content_types=BODY_TYPES)
@edge.endpoint
@needs(ADMIN)
def redrive_dead_letters() -> Response:
    from chalicelib.services import dead_letters

    return edge.ok(dead_letters.redrive(get_deps()))


@app.route("/ai/configs", methods=["POST"], authorizer=bearer, content_types=BODY_TYPES)
@edge.endpoint
@needs(ADMIN)
def create_ai_config() -> Response:
    from chalicelib.ai import api_models as ai_models
    from chalicelib.services import ai_configs

    command = edge.parse_body(_req(), ai_models.AIConfigCreate, _max_body())
    return edge.ok(ai_configs.create_config(get_deps(), command), 201)


@app.route("/ai/configs", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def list_ai_configs() -> Response:
    from chalicelib.services import ai_configs

    return edge.ok(ai_configs.list_configs(get_deps()))


@app.route("/ai/configs/{config_id}", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def get_ai_config(config_id: str) -> Response:
    from chalicelib.services import ai_configs

    return edge.ok(ai_configs.get_config(get_deps(), config_id))


@app.route("/ai/configs/{config_id}", methods=["PATCH"], authorizer=bearer, content_types=BODY_TYPES)
@edge.endpoint
@needs(ADMIN)
def update_ai_config(config_id: str) -> Response:
    from chalicelib.ai import api_models as ai_models
    from chalicelib.services import ai_configs

    command = edge.parse_body(_req(), ai_models.AIConfigUpdate, _max_body())
    return edge.ok(ai_configs.update_config(get_deps(), config_id, command))


@app.route("/ai/configs/{config_id}", methods=["DELETE"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def delete_ai_config(config_id: str) -> Response:
    from chalicelib.services import ai_configs

    ai_configs.delete_config(get_deps(), config_id)
    return Response(body="", status_code=204)


@app.route("/ai/configs/{config_id}/test", methods=["POST"], authorizer=bearer, content_types=BODY_TYPES)
@edge.endpoint
@needs(ADMIN)
def test_ai_config(config_id: str) -> Response:
    from chalicelib.services import ai_configs

    return edge.ok(ai_configs.test_config(get_deps(), config_id))


@app.route("/ai/spend", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def ai_spend() -> Response:
    from chalicelib.services import ai_configs

    return edge.ok(ai_configs.spend(get_deps(), edge.int_param(_req(), "days", 7, 1, 90)))


@app.route("/ai/routing", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def get_ai_routing() -> Response:
    from chalicelib.services import ai_configs

    return edge.ok(ai_configs.get_routing(get_deps()))


@app.route("/ai/routing", methods=["PUT"], authorizer=bearer, content_types=BODY_TYPES)
@edge.endpoint
@needs(ADMIN)
def put_ai_routing() -> Response:
    from chalicelib.ai import api_models as ai_models
    from chalicelib.services import ai_configs

    command = edge.parse_body(_req(), ai_models.RoutingUpdate, _max_body())
    return edge.ok(ai_configs.put_routing(get_deps(), command))


@app.route("/ai/doctor", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def ai_doctor() -> Response:
    from chalicelib.services import ai_configs

    return edge.ok(ai_configs.doctor(get_deps()))


@app.route("/webhooks", methods=["POST"], authorizer=bearer, content_types=BODY_TYPES)
@edge.endpoint
@needs(ADMIN)
def create_webhook() -> Response:
    from chalicelib import api_models
    from chalicelib.services import webhooks

    command = edge.parse_body(_req(), api_models.WebhookCreate, _max_body())
    return edge.ok(webhooks.create_webhook(get_deps(), command), 201)


@app.route("/webhooks", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def list_webhooks() -> Response:
    from chalicelib.services import webhooks

    return edge.ok(webhooks.list_webhooks(get_deps()))


@app.route("/webhooks/{webhook_id}", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def get_webhook(webhook_id: str) -> Response:
    from chalicelib.services import webhooks

    return edge.ok(webhooks.get_webhook(get_deps(), webhook_id))


@app.route("/webhooks/{webhook_id}", methods=["DELETE"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def delete_webhook(webhook_id: str) -> Response:
    from chalicelib.services import webhooks

    webhooks.delete_webhook(get_deps(), webhook_id)
    return Response(body="", status_code=204)


@app.route(
    "/webhooks/{webhook_id}/rotate-secret", methods=["POST"], authorizer=bearer, content_types=BODY_TYPES
)
@edge.endpoint
@needs(ADMIN)
def rotate_webhook_secret(webhook_id: str) -> Response:
    from chalicelib.services import webhooks

    return edge.ok(webhooks.rotate_secret(get_deps(), webhook_id))


@app.route("/webhooks/{webhook_id}/deliveries", methods=["GET"], authorizer=bearer)
@edge.endpoint
@needs(ADMIN)
def webhook_deliveries(webhook_id: str) -> Response:
    from chalicelib.services import webhooks

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
    from chalicelib.services import webhooks

    return edge.ok(webhooks.redeliver(get_deps(), webhook_id, delivery_id), 202)


@app.on_sqs_message(queue=QUEUE, batch_size=1, maximum_concurrency=WORKER_CONCURRENCY)
def run_phase(event: SQSEvent) -> None:
    from chalicelib.services import worker

    context: Any = event.context  # the Lambda context object (chalice types it as a dict)
    for record in event:  # batch size 1: Chalice cannot report partial batch failures
        with logger.context(request_id=_request_id(event), receive_count=_receive_count(record)):
            worker.handle_message(get_deps(), record.body, context.get_remaining_time_in_millis())


@app.on_sqs_message(queue=DEAD_LETTER_QUEUE, batch_size=1, maximum_concurrency=2)
def on_dead_letter(event: SQSEvent) -> None:
    from chalicelib.services import dead_letters

    for record in event:  # never raises: see chalicelib/services/dead_letters.py
        reason = (record.to_dict().get("messageAttributes", {}).get("reason") or {}).get("stringValue")
        with logger.context(request_id=_request_id(event), receive_count=_receive_count(record)):
            dead_letters.handle_dead_letter(get_deps(), record.to_dict()["messageId"], record.body, reason)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def sweep(event: CloudWatchEvent) -> None:
    from chalicelib.services import sweeper

    with logger.context(request_id=_request_id(event)):
        sweeper.sweep(get_deps())


@app.middleware("http")
def _api_log_context(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """The API's lines carry the request id of their invocation too."""
    with logger.context(request_id=getattr(event.lambda_context, "aws_request_id", None)):
        return get_response(event)


def _request_id(event: Any) -> str | None:
    """The Lambda request id of this invocation, for every log line it writes."""
    return getattr(event.context, "aws_request_id", None)


def _receive_count(record: Any) -> int | None:
    count = record.to_dict().get("attributes", {}).get("ApproximateReceiveCount")
    return int(count) if str(count).isdigit() else None
