"""The queue handler's service: parse one message, run its phase, route poison to the dead letters."""
from __future__ import annotations

import json
import sys

from pydantic import ValidationError

from chalicelib.bootstrap import Deps
from chalicelib.domain.commands import RunPhase
from chalicelib.services.pipeline import UnknownGeneration, report, run_phase


def handle_message(deps: Deps, body: str, remaining_ms: int) -> str:
    try:
        command = RunPhase.model_validate_json(body)
    except ValidationError as exc:
        return _dead_letter(deps, body, f"malformed message: {_first_error(exc)}")
    try:
        outcome = run_phase(deps, command, remaining_ms)
    except UnknownGeneration as exc:
        return _dead_letter(deps, body, str(exc))
    report(outcome, command)
    return outcome


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "body"
    return f"{where}: {err['msg']}"


def _dead_letter(deps: Deps, body: str, reason: str) -> str:
    # Raises if the dead-letter queue is unreachable: the message then stays on the queue and the
    # redrive policy moves it after maxReceiveCount deliveries. Nothing is lost either way.
    deps.queue.send_dead_letter(body[:10_000], reason)
    print(json.dumps({"level": "error", "message": "message sent to the dead-letter queue",
                      "reason": reason, "body": body[:500]}), file=sys.stdout, flush=True)
    return f"dead-lettered: {reason}"
