"""The queue handler's service: parse one message, run its phase, route poison to the dead letters."""

from __future__ import annotations

import time

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from chalicelib import log as logger
from chalicelib.domain.commands import DeliverWebhook, RunPhase, parse_command
from chalicelib.ports import Deps
from chalicelib.services.parts import dispatch
from chalicelib.services.pipeline import UnknownGeneration, report
from chalicelib.services.progress import ProgressLog

_checked_deps: int | None = None  # id() of the Deps whose AI configs this container has checked


def check_ai_configs_once(deps: Deps) -> int:
    """At a worker's start (a container's first message): log the config doctor's errors, so a typo
    or a route to a disabled config is in the worker's log before it fails a phase. Never raises;
    returns how many errors it logged."""
    global _checked_deps
    if _checked_deps == id(deps):
        return 0
    _checked_deps = id(deps)
    from chalicelib.services.ai_configs import doctor

    try:
        errors = [f for f in doctor(deps).findings if f.severity == "error"]
    except Exception as exc:  # the database may be down: the phase itself will say so
        logger.warning("AI config check skipped", error=type(exc).__name__)
        return 0
    for finding in errors:
        logger.error(
            f"AI config problem: {finding.message}",
            code=finding.code,
            config_id=finding.config_id,
            task=finding.task,
        )
    return len(errors)


def handle_message(deps: Deps, body: str, remaining_ms: int) -> str:
    """Every line written while the message is handled names its generation, phase and part (or its
    webhook delivery); the handler in app.py adds the request id and the attempt."""
    check_ai_configs_once(deps)  # before the context: its lines are the container's, not the message's
    try:
        command = parse_command(body)
    except ValidationError:
        fields: dict[str, str | None] = {}
    else:
        fields = _log_fields(command)
    with logger.context(**fields):
        started = time.monotonic()
        outcome = _handle_message(deps, body, remaining_ms)
        if phase := fields.get("phase"):
            _phase_metrics(outcome, phase, time.monotonic() - started)
        return outcome


def _log_fields(command: RunPhase | DeliverWebhook) -> dict[str, str | None]:
    if isinstance(command, DeliverWebhook):
        return {"delivery_id": str(command.webhook_delivery_id)}
    return {"generation_id": str(command.generation_id), "phase": command.phase.value, "part": command.part}


def _phase_metrics(outcome: str, phase: str, seconds: float) -> None:
    """EMF: how long a phase's message took, and whether it failed or will be retried."""
    logger.metric("phase_duration", round(seconds * 1000, 1), "Milliseconds", phase=phase)
    if outcome.startswith("failed"):
        logger.metric("phase_failures", 1, phase=phase)
    elif outcome.startswith("retrying"):
        logger.metric("phase_retries", 1, phase=phase)


def _handle_message(deps: Deps, body: str, remaining_ms: int) -> str:
    try:
        command = parse_command(body)
    except ValidationError as exc:
        return _dead_letter(deps, body, f"malformed message: {_first_error(exc)}")
    if isinstance(command, DeliverWebhook):
        return _deliver_webhook(deps, command, remaining_ms)
    try:
        outcome = dispatch(deps, command, remaining_ms)
    except UnknownGeneration as exc:
        return _dead_letter(deps, body, str(exc))
    except (
        DBAPIError
    ) as exc:  # Postgres unreachable: nothing could be recorded there, so say it where users look
        _database_unavailable(deps, command, exc)
        raise  # the message comes back after the visibility timeout; a held lease has expired by then
    report(outcome, command)
    return outcome


def _deliver_webhook(deps: Deps, command: DeliverWebhook, remaining_ms: int) -> str:
    """A webhook delivery shares the queue (and its concurrency, dead letters and redrive) with phases."""
    from chalicelib.services.webhook_delivery import deliver

    try:
        outcome = deliver(deps, command, remaining_ms)
    except DBAPIError as exc:  # nothing recorded: the message comes back; the sweeper also resends it
        logger.error(
            f"database unavailable ({type(exc.orig).__name__ if exc.orig else type(exc).__name__}); "
            "the webhook delivery will run again",
            delivery_id=str(command.webhook_delivery_id),
        )
        raise
    logger.info("webhook delivery handled", delivery_id=str(command.webhook_delivery_id), outcome=outcome)
    return outcome


def _database_unavailable(deps: Deps, command: RunPhase, exc: DBAPIError) -> None:
    reason = f"database unavailable ({type(exc.orig).__name__ if exc.orig else type(exc).__name__})"
    logger.error(reason, generation_id=str(command.generation_id), phase=command.label())
    log = ProgressLog(deps.logs, str(command.generation_id))
    log.info(
        f"Phase {command.label()}: {reason}; it will run again when the queue redelivers it",
        phase=command.phase.value,
        level="error",
        part=command.part,
    )
    log.flush()


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "body"
    return f"{where}: {err['msg']}"


def _dead_letter(deps: Deps, body: str, reason: str) -> str:
    # Raises if the dead-letter queue is unreachable: the message then stays on the queue and the
    # redrive policy moves it after maxReceiveCount deliveries. Nothing is lost either way.
    deps.queue.send_dead_letter(body[:10_000], reason)
    logger.error("message sent to the dead-letter queue", reason=reason, body=body[:500])
    return f"dead-lettered: {reason}"
