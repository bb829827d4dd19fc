"""OpenAI Chat Completions with Structured Outputs, and any server that speaks the same API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from chalicelib.ai.base import ResolvedConfig
from chalicelib.ai.chat import ChatProvider, Reply
from chalicelib.ai.schema_shapes import strict
from chalicelib.domain.errors import PermanentError, RetryableError

OPENAI_BASE_URL = "https://api.openai.com/v1"


class OpenAIProvider(ChatProvider):
    name = "openai"
    token_param = "max_completion_tokens"  # what current OpenAI models accept (o-series and gpt-5 included)

    def __init__(self, config: ResolvedConfig, api_key: str | None) -> None:
        super().__init__(config, api_key)
        self.url = (config.base_url or OPENAI_BASE_URL).rstrip("/") + "/chat/completions"

    def _body(self, system: str, turns: list[dict[str, Any]], schema: type[BaseModel]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "system", "content": system}, *turns],
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": schema.__name__,
                    "schema": strict(schema.model_json_schema()),
                    "strict": True,
                },
            },
            self.token_param: self.max_tokens,
        }
        if self.temperature is not None:
            body["temperature"] = self.temperature
        return body

    def _send(
        self, system: str, turns: list[dict[str, Any]], schema: type[BaseModel], timeout: float
    ) -> Reply:
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        data = self._post(headers, self._body(system, turns, schema), timeout)
        choices = data.get("choices") if isinstance(data, dict) else None
        if not choices or not isinstance(choices[0], dict):
            raise RetryableError(f"{self.name} returned a response without choices")
        choice = choices[0]
        message = choice.get("message") or {}
        if message.get("refusal"):
            raise PermanentError(f"the model refused to answer{self._quoted(message['refusal'])}")
        finish = choice.get("finish_reason")
        if finish == "length":
            raise self.cut_off("finish_reason 'length'")
        if finish == "content_filter":
            raise PermanentError("the answer was blocked by the provider's content filter")
        content = message.get("content")
        text = content if isinstance(content, str) else ""
        usage = data.get("usage") or {}
        return Reply(
            content=text,
            tokens_in=int(usage.get("prompt_tokens") or 0),
            tokens_out=int(usage.get("completion_tokens") or 0),
            assistant={"role": "assistant", "content": text},
        )


class OpenAICompatibleProvider(OpenAIProvider):
    """Any base_url speaking Chat Completions (vLLM, Ollama, LM Studio, OpenRouter...). Key optional."""

    name = "openai_compatible"
    token_param = "max_tokens"  # what most compatible servers understand

    def __init__(self, config: ResolvedConfig, api_key: str | None) -> None:
        if not config.base_url:
            raise PermanentError(f"AI config {config.name!r} (openai_compatible) has no base_url set")
        super().__init__(config, api_key)
