"""Anthropic Messages API. The answer comes back as the input of one forced tool call, so it is JSON
that follows the schema; a repair replies to that tool call with an error result."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from chalicelib.ai.base import ResolvedConfig
from chalicelib.ai.chat import ChatProvider, Reply
from chalicelib.ai.schema_shapes import compact
from chalicelib.domain.errors import PermanentError, RetryableError

ANTHROPIC_BASE_URL = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"
TOOL = "submit_answer"


class AnthropicProvider(ChatProvider):
    name = "anthropic"

    def __init__(self, config: ResolvedConfig, api_key: str | None) -> None:
        super().__init__(config, api_key)
        self.url = (config.base_url or ANTHROPIC_BASE_URL).rstrip("/") + "/v1/messages"

    def _body(self, system: str, turns: list[dict[str, Any]], schema: type[BaseModel]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "system": system,
            "messages": turns,
            "tools": [
                {
                    "name": TOOL,
                    "description": "Submit the answer; its input must follow the schema.",
                    "input_schema": compact(schema.model_json_schema()),
                }
            ],
            "tool_choice": {"type": "tool", "name": TOOL},
        }
        if self.temperature is not None:
            body["temperature"] = min(1.0, float(self.temperature))  # Anthropic accepts 0..1
        return body

    def _send(
        self, system: str, turns: list[dict[str, Any]], schema: type[BaseModel], timeout: float
    ) -> Reply:
        headers = {"x-api-key": self._api_key or "", "anthropic-version": ANTHROPIC_VERSION}
        data = self._post(headers, self._body(system, turns, schema), timeout)
        if not isinstance(data, dict) or not isinstance(data.get("content"), list):
            raise RetryableError("anthropic returned a response without content")
        stop = data.get("stop_reason")
        if stop == "max_tokens":
            raise self.cut_off("stop_reason 'max_tokens'")
        if stop == "refusal":
            raise PermanentError("the model refused to answer (stop_reason 'refusal')")
        blocks = [b for b in data["content"] if isinstance(b, dict)]
        tool = next((b for b in blocks if b.get("type") == "tool_use"), None)
        content: Any = tool.get("input") if tool else "".join(str(b.get("text", "")) for b in blocks)
        usage = data.get("usage") or {}
        return Reply(
            content=content if content is not None else "",
            tokens_in=int(usage.get("input_tokens") or 0),
            tokens_out=int(usage.get("output_tokens") or 0),
            assistant={"role": "assistant", "content": blocks},
            tool_use_id=str(tool.get("id")) if tool else None,
        )

    def _feedback(self, reply: Reply, message: str) -> list[dict[str, Any]]:
        if reply.tool_use_id is None:
            return super()._feedback(reply, message)
        result = {
            "type": "tool_result",
            "tool_use_id": reply.tool_use_id,
            "is_error": True,
            "content": message,
        }
        return [reply.assistant, {"role": "user", "content": [result]}]
