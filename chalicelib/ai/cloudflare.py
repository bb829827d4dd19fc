"""Cloudflare Workers AI over REST: POST .../accounts/{account_id}/ai/run/{model}, JSON mode."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel

from chalicelib.ai.base import ResolvedConfig
from chalicelib.ai.chat import ChatProvider, Reply
from chalicelib.ai.http import error_detail
from chalicelib.ai.schema_shapes import strict
from chalicelib.domain.errors import PermanentError, RetryableError

CLOUDFLARE_BASE_URL = "https://api.cloudflare.com"


class CloudflareProvider(ChatProvider):
    name = "cloudflare"

    def __init__(self, config: ResolvedConfig, api_key: str | None) -> None:
        if not config.account_id:
            raise PermanentError(f"AI config {config.name!r} (cloudflare) has no account_id set")
        super().__init__(config, api_key)
        base = (config.base_url or CLOUDFLARE_BASE_URL).rstrip("/")
        self.url = (
            f"{base}/client/v4/accounts/{quote(config.account_id, safe='')}"
            f"/ai/run/{quote(self.model, safe='/@')}"
        )

    def _body(self, system: str, turns: list[dict[str, Any]], schema: type[BaseModel]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "messages": [{"role": "system", "content": system}, *turns],
            "response_format": {"type": "json_schema", "json_schema": strict(schema.model_json_schema())},
            "max_tokens": self.max_tokens,
        }
        if self.temperature is not None:
            body["temperature"] = self.temperature
        return body

    def _send(
        self, system: str, turns: list[dict[str, Any]], schema: type[BaseModel], timeout: float
    ) -> Reply:
        headers = {"Authorization": f"Bearer {self._api_key or ''}"}
        data = self._post(headers, self._body(system, turns, schema), timeout)
        if not isinstance(data, dict):
            raise RetryableError("Workers AI returned a response that is not a JSON object")
        if data.get("success") is False:
            raise RetryableError(f"Workers AI reported a failure{self._quoted(error_detail(data))}")
        result = data.get("result")
        if not isinstance(result, dict):
            raise RetryableError("Workers AI returned a response without a result")
        response = result.get("response")
        content: Any = (
            response if isinstance(response, (dict, list)) else ("" if response is None else str(response))
        )
        usage = result.get("usage") or {}
        if isinstance(content, str) and int(usage.get("completion_tokens") or 0) >= self.max_tokens:
            raise self.cut_off("completion_tokens reached it")  # Workers AI has no finish reason to read
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        return Reply(
            content=content,
            tokens_in=int(usage.get("prompt_tokens") or 0),
            tokens_out=int(usage.get("completion_tokens") or 0),
            assistant={"role": "assistant", "content": text},
        )
