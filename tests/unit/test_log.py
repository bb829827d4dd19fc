"""chalicelib/log.py: one JSON line per call, the handlers' context on every line, no key-shaped secrets."""

from __future__ import annotations

import json
import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib import log as logger
from infra.lambda_events import LambdaContext, schedule_event, sqs_event

GEN = "16fd2706-8baf-433b-82eb-8c7fada847da"


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    out = capsys.readouterr().out
    assert out.endswith("\n") or out == ""
    return [json.loads(text) for text in out.splitlines()]


def test_a_call_is_one_json_line_level_message_then_its_fields_in_order(capsys):
    logger.info("sweeper", republished=1, backlog=0)
    logger.warning("enqueue failed", error="ConnectionError")
    logger.error("dead letter recorded", generation_id=None, ids=(1, 2), when=uuid.UUID(GEN))
    out = capsys.readouterr().out
    assert out.count("\n") == 3
    assert out.splitlines()[0] == '{"level": "info", "message": "sweeper", "republished": 1, "backlog": 0}'
    second, third = (json.loads(text) for text in out.splitlines()[1:])
    assert second == {"level": "warning", "message": "enqueue failed", "error": "ConnectionError"}
    assert third == {
        "level": "error",
        "message": "dead letter recorded",
        "ids": [1, 2],
        "when": GEN,
    }  # None: left out


def test_a_field_named_like_a_log_record_attribute_is_written_not_refused(capsys):
    logger.info("webhook created", name="CRM production", module="orders")
    [line] = lines(capsys)
    assert (line["name_"], line["module_"]) == ("CRM production", "orders")


def test_outside_a_context_no_context_field_is_written(capsys):
    logger.info("plain")
    [line] = lines(capsys)
    assert not set(line) & set(logger.CONTEXT_FIELDS)
    assert logger.current() == {}


def test_the_context_adds_its_known_fields_after_the_calls_own(capsys):
    with logger.context(request_id="req-1", generation_id=GEN, phase="content", part=None, attempt=2):
        logger.info("message handled", outcome="succeeded", generation_id=None)
        logger.info("explicit wins", phase="content/about")
    first, second = lines(capsys)
    assert list(first) == ["level", "message", "outcome", "generation_id", "request_id", "phase", "attempt"]
    assert first["generation_id"] == GEN and first["request_id"] == "req-1" and first["attempt"] == 2
    assert "part" not in first  # unknown: absent, not null
    assert second["phase"] == "content/about"


def test_contexts_nest_and_each_exit_restores_the_outer_one_even_on_an_error(capsys):
    with logger.context(request_id="req-1"):
        with logger.context(generation_id=GEN, phase="code", part="about"):
            logger.info("inner")
        logger.info("outer")
        with pytest.raises(RuntimeError), logger.context(generation_id="other"):
            raise RuntimeError("boom")
        assert logger.current() == {"request_id": "req-1"}
    logger.info("after")
    inner, outer, after = lines(capsys)
    assert (inner["request_id"], inner["generation_id"], inner["part"]) == ("req-1", GEN, "about")
    assert outer["request_id"] == "req-1" and "generation_id" not in outer
    assert not set(after) & set(logger.CONTEXT_FIELDS)


def test_bind_adds_to_the_innermost_context_until_it_ends_and_nothing_outside_one(capsys):
    logger.bind(attempt=9)  # outside any context: nothing to add to, and nothing outlives it
    assert logger.current() == {}
    with logger.context(request_id="req-1", receive_count=1):
        logger.info("before the claim")
        with logger.context(generation_id=GEN):
            logger.bind(attempt=2, part=None)
            logger.info("claimed")
        logger.info("after")
    logger.info("outside")
    before, claimed, after, outside = lines(capsys)
    assert "attempt" not in before
    assert (claimed["attempt"], claimed["receive_count"], claimed["generation_id"]) == (2, 1, GEN)
    assert "part" not in claimed  # None adds nothing
    assert "attempt" not in after and "generation_id" not in after
    assert not set(outside) & set(logger.CONTEXT_FIELDS)


def test_a_line_built_from_an_exception_carrying_a_key_does_not_carry_the_key(capsys):
    key = "sk-proj-4fJ9x2LmQ8zR7vT1"
    exc = RuntimeError(f"upstream said 401 for Authorization: Bearer {key} (key {key})")
    with logger.context(request_id="req-1"):
        logger.error("old versions' files not deleted", order_id=GEN, **logger.failure(exc), extra=[str(exc)])
    out = capsys.readouterr().out
    assert key not in out and "Bearer" not in out
    [line] = [json.loads(text) for text in out.splitlines()]  # still one valid JSON line
    assert line["error"] == "RuntimeError" and line["detail"].startswith(
        "upstream said 401 for Authorization: "
    )
    assert "[redacted]" in line["detail"] and "[redacted]" in line["extra"][0]


def test_a_metric_is_an_emf_line_with_the_context_as_properties(capsys):
    with logger.context(generation_id=GEN, phase="content", request_id="req-1"):
        logger.metric("phase_duration", 812.5, "Milliseconds", phase="content")
    [line] = lines(capsys)
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert directive == {
        "Namespace": "sitegen",
        "Dimensions": [["phase"]],
        "Metrics": [{"Name": "phase_duration", "Unit": "Milliseconds"}],
    }
    assert isinstance(line["_aws"]["Timestamp"], int)
    assert line["phase_duration"] == [812.5] and line["phase"] == "content"
    assert line["generation_id"] == GEN and line["request_id"] == "req-1"


def test_model_tokens_are_a_metric_per_direction_and_phase(capsys):
    from chalicelib.domain.phases import Phase
    from chalicelib.services.pipeline import usage_metrics

    usage_metrics(Phase.CODE, {"tokens_in": 1200, "tokens_out": 0, "provider": "openai"})
    usage_metrics(Phase.CONTENT, {"tokens_in": 300, "tokens_out": 450})
    written = [(x["phase"], x["direction"], x["model_tokens"]) for x in lines(capsys)]
    assert written == [("code", "in", [1200]), ("content", "in", [300]), ("content", "out", [450])]


# --- the handlers set the context -------------------------------------------------------------------
@pytest.fixture()
def app_module(monkeypatch):
    import app

    monkeypatch.setattr(app, "get_deps", lambda: SimpleNamespace())
    return app


def test_the_queue_handler_and_the_worker_put_request_generation_phase_part_and_attempt_on_lines(
    app_module, monkeypatch, capsys
):
    from chalicelib.services import worker

    def dispatch(deps: Any, command: Any, remaining_ms: int) -> str:
        logger.info("received")
        logger.bind(attempt=2)  # what the pipeline does once its claim knows the run's attempt
        logger.info("claimed")
        return "retrying in 4s: provider timed out"

    monkeypatch.setattr(worker, "dispatch", dispatch)
    monkeypatch.setattr(worker, "check_ai_configs_once", lambda deps: 0)
    body = json.dumps({"generation_id": GEN, "phase": "content", "part": "about"})
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "r",
        "Body": body,
        "Attributes": {"ApproximateReceiveCount": "3"},
    }
    context = LambdaContext("run_phase", 60)
    app_module.app.handler_map["run_phase"](sqs_event([message], "arn:aws:sqs:us-east-1:1:q"), context)
    out = lines(capsys)
    claimed, handled = (next(x for x in out if x.get("message") == m) for m in ("claimed", "message handled"))
    received = next(x for x in out if x.get("message") == "received")
    assert received["receive_count"] == 3 and "attempt" not in received
    for line in (claimed, handled):
        assert line["request_id"] == context.aws_request_id
        assert (line["generation_id"], line["phase"], line["part"], line["attempt"]) == (
            GEN,
            "content",
            "about",
            2,
        )
        assert line["receive_count"] == 3  # a retry is a new message: the two counts differ
    assert handled["outcome"] == "retrying in 4s: provider timed out"
    metrics = {x["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]: x for x in out if "_aws" in x}
    assert set(metrics) == {"phase_duration", "phase_retries"}
    assert metrics["phase_retries"]["phase_retries"] == [1] and metrics["phase_duration"]["part"] == "about"
    assert logger.current() == {}  # cleared after the invocation


def test_the_sweeper_and_dead_letter_handlers_put_the_request_id_on_lines(app_module, monkeypatch, capsys):
    from chalicelib.services import dead_letters, sweeper

    monkeypatch.setattr(sweeper, "sweep", lambda deps: logger.info("sweeper"))
    seen: list[tuple[str, str]] = []

    def handle_dead_letter(deps: Any, message_id: str, body: str, reason: str | None) -> str:
        seen.append((message_id, body))
        logger.error("dead letter recorded", reason=reason)
        return "recorded"

    monkeypatch.setattr(dead_letters, "handle_dead_letter", handle_dead_letter)
    sweep_context, dead_context = LambdaContext("sweep", 60), LambdaContext("on_dead_letter", 60)
    app_module.app.handler_map["sweep"](schedule_event(), sweep_context)
    message = {"MessageId": "m-2", "ReceiptHandle": "r", "Body": "{}", "Attributes": {}}
    app_module.app.handler_map["on_dead_letter"](
        sqs_event([message], "arn:aws:sqs:us-east-1:1:dlq"), dead_context
    )
    swept, dead = lines(capsys)
    assert swept == {"level": "info", "message": "sweeper", "request_id": sweep_context.aws_request_id}
    assert dead["request_id"] == dead_context.aws_request_id and dead["receive_count"] == 1
    assert seen == [("m-2", "{}")]
    assert logger.current() == {}


def test_the_progress_log_falls_back_to_stdout_lines_in_the_same_shape(capsys):
    from datetime import UTC, datetime

    from chalicelib.services.progress import ProgressLog

    class Down:
        def put_many(self, lines: Any) -> None:
            raise ConnectionError("dynamodb unreachable")

        def put_once(self, line: Any) -> bool:
            raise ConnectionError("dynamodb unreachable")

    down: Any = Down()  # only the two writes: a whole LogStore is not needed here
    with logger.context(request_id="req-1"):
        ProgressLog(down, GEN).lifecycle(
            "phase_started", datetime.now(UTC), "Phase content started", phase="content"
        )
    warning, line = lines(capsys)
    assert (
        warning["message"] == "log store unavailable; writing to stdout"
        and warning["error"] == "ConnectionError"
    )
    assert (line["message"], line["event"], line["phase"], line["generation_id"]) == (
        "Phase content started",
        "phase_started",
        "content",
        GEN,
    )
    assert line["request_id"] == "req-1"


def test_the_api_middleware_puts_the_request_id_on_lines(app_module, capsys):
    assert app_module._api_log_context in app_module.app._get_middleware_handlers("http")
    request = SimpleNamespace(lambda_context=SimpleNamespace(aws_request_id="api-req-1"))

    def route(event: Any) -> str:
        logger.info("webhook created")
        return "response"

    assert app_module._api_log_context(request, route) == "response"
    [line] = lines(capsys)
    assert line == {"level": "info", "message": "webhook created", "request_id": "api-req-1"}
    assert logger.current() == {}
