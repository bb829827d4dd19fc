"""What every chat-model provider shares: params, one repair round, usage, cost, redaction.

A subclass only speaks its wire format in `_send` (and, if it must, shapes the repair turn).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError

from chalicelib.ai import egress
from chalicelib.ai.base import AIRequest, AIResult, ResolvedConfig
from chalicelib.ai.http import post_json, redact
from chalicelib.ai.pricing import estimate_cost
from chalicelib.ai.prompts import PROMPT_VERSION, build_messages, repair_message
from chalicelib.domain.errors import PermanentError, PhaseError, RetryableError

CONNECT_TIMEOUT_S = 5.0
DEFAULT_TIMEOUT_S = 60.0
MAX_TIMEOUT_S = 110.0  # the worker function times out at 120 s
BUDGET_S = 105.0  # both calls (answer + repair) must fit in one invocation
MIN_REPAIR_S = 10.0
DEFAULT_MAX_TOKENS = 4096  # per call: one page or the stylesheet (tests/unit/test_part_sizes.py)


class InvalidOutput(Exception):
    """The model's answer is not JSON, or not the schema. Worth exactly one repair request."""


@dataclass
class Reply:
    content: str | dict[str, Any] | list[Any]  # text to parse, or JSON the API already parsed
    tokens_in: int
    tokens_out: int
    assistant: dict[str, Any]  # the assistant turn, replayed before a repair request
    tool_use_id: str | None = None


def describe(exc: ValidationError) -> str:
    errors = exc.errors()
    shown = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in errors[:8])
    return f"{len(errors)} schema error(s): {shown}" + (" ..." if len(errors) > 8 else "")


def parse_output(content: str | dict[str, Any] | list[Any], schema: type[BaseModel]) -> BaseModel:
    data: Any = content
    if isinstance(content, str):
        text = content.strip()
        if not text:
            raise InvalidOutput("the answer was empty")
        try:
            data = json.loads(text)
        except ValueError as exc:
            start, end = text.find("{"), text.rfind("}")  # tolerate fences or a sentence around it
            try:
                data = json.loads(text[start : end + 1]) if 0 <= start < end else None
            except ValueError:
                data = None
            if data is None:
                detail = (
                    f"{exc.msg} at line {exc.lineno} column {exc.colno}"
                    if isinstance(exc, json.JSONDecodeError)
                    else str(exc)
                )
                raise InvalidOutput(f"the answer is not valid JSON ({detail})") from None
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise InvalidOutput(describe(exc)) from None


class ChatProvider:
    name: ClassVar[str]
    url: str  # set by each subclass: where its requests go
    connect_timeout_s = CONNECT_TIMEOUT_S

    def __init__(self, config: ResolvedConfig, api_key: str | None) -> None:
        if not config.model:
            raise PermanentError(f"AI config {config.name!r} ({config.provider}) has no model set")
        self.config, self.model, self._api_key = config, config.model, api_key
        params = config.params or {}
        self.temperature: float | None = params.get("temperature")
        self.max_tokens = int(params.get("max_tokens") or DEFAULT_MAX_TOKENS)
        self.timeout_s = min(MAX_TIMEOUT_S, max(0.05, float(params.get("timeout_s") or DEFAULT_TIMEOUT_S)))

    # --- what a subclass provides ------------------------------------------------------------
    def _send(
        self, system: str, turns: list[dict[str, Any]], schema: type[BaseModel], timeout: float
    ) -> Reply:
        raise NotImplementedError

    def _feedback(self, reply: Reply, message: str) -> list[dict[str, Any]]:
        return [reply.assistant, {"role": "user", "content": message}]

    # --- what a subclass uses ----------------------------------------------------------------
    def _post(self, headers: dict[str, str], body: dict[str, Any], timeout: float) -> Any:
        return post_json(self.url, headers, body, self.connect_timeout_s, timeout)[2]

    def _quoted(self, text: Any) -> str:
        """ ": <the provider's words>" when they come from its official host, else nothing: another
        server's answer is not shown (chalicelib/ai/http.py)."""
        return f": {redact(str(text), [self._api_key])[:300]}" if egress.is_official(self.url) else ""

    # --- the shared flow ---------------------------------------------------------------------
    def generate(self, request: AIRequest) -> AIResult:
        system, user = build_messages(request)
        return self.run(system, user, request.schema, request.order.locale)

    def run(
        self, system: str, user: str, schema: type[BaseModel], locale: str = "en", repair: bool = True
    ) -> AIResult:
        """One call, and one repair call if the answer does not fit the schema and `repair`."""
        try:
            return self._run(system, user, schema, locale, repair)
        except PhaseError as exc:  # last line of defence: no reason ever carries the key
            reason = redact(exc.reason, [self._api_key])
            if reason == exc.reason:
                raise
            clean = type(exc)(reason, exc.retry_after)
            clean.__dict__.update({k: v for k, v in vars(exc).items() if k not in vars(clean)})  # http_status
            raise clean from None
        except Exception as exc:  # a surprise in a provider's answer: retry, and say what it was
            detail = f"{type(exc).__name__}{self._quoted(exc)}"
            raise RetryableError(
                f"{self.name} returned an answer sitegen could not read ({detail})"
            ) from None

    def _run(self, system: str, user: str, schema: type[BaseModel], locale: str, repair: bool) -> AIResult:
        started = time.monotonic()
        turns: list[dict[str, Any]] = [{"role": "user", "content": user}]
        reply = self._send(system, turns, schema, self.timeout_s)
        tokens_in, tokens_out, calls = reply.tokens_in, reply.tokens_out, 1
        try:
            output = parse_output(reply.content, schema)
        except InvalidOutput as first:
            if not repair:
                raise RetryableError(f"output was invalid: {first}") from None
            left = BUDGET_S - (time.monotonic() - started)
            if left < MIN_REPAIR_S:
                raise RetryableError(
                    f"output was invalid and no time was left for a repair: {first}"
                ) from None
            turns += self._feedback(reply, repair_message(str(first), locale))
            reply = self._send(system, turns, schema, min(self.timeout_s, left))
            tokens_in, tokens_out, calls = tokens_in + reply.tokens_in, tokens_out + reply.tokens_out, 2
            try:
                output = parse_output(reply.content, schema)
            except InvalidOutput as second:
                raise RetryableError(f"output stayed invalid after a repair: {second}") from None
        usage = {
            "provider": self.name,
            "model": self.model,
            "config_id": str(self.config.id),
            "tokens_in": tokens_in,
            "tokens_out": tokens_out,
            "latency_ms": round((time.monotonic() - started) * 1000, 2),
            "cost_usd": estimate_cost(self.model, tokens_in, tokens_out),
            "calls": calls,
            "prompt_version": PROMPT_VERSION,
        }
        return AIResult(output=output, usage=usage)

    def cut_off(self, reason: str) -> PermanentError:
        return PermanentError(
            f"the answer was cut off at max_tokens={self.max_tokens} ({reason}); raise "
            f"max_tokens in AI config {self.config.name!r}"
        )
