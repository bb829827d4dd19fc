"""The model simulator's wire formats: read a request of each API into one `Call`, shape each API's reply.

Pure functions, no I/O. Three APIs:
- `openai`: Chat Completions (`response_format` json_schema; `max_completion_tokens` or `max_tokens`).
- `anthropic`: Messages with tool use (the answer is the input of the tool `tool_choice` names).
- `cloudflare`: Workers AI REST (`result.response` is the answer: an object, or a string when cut).

Tokens are estimated the same way everywhere: about 3.5 characters a token (`tokens`).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any

CHARS_PER_TOKEN = 3.5
APIS = ("openai", "anthropic", "cloudflare")


def tokens(text: str) -> int:
    """The simulator's token estimate for a text: ceil(characters / 3.5)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def answer_text(answer: dict[str, Any] | str) -> str:
    """The text a model writes for an answer (what output tokens are counted from)."""
    return answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)


@dataclass(frozen=True)
class Call:
    api: str
    model: str
    system: str
    messages: list[dict[str, Any]]  # without the system message
    schema: dict[str, Any] | None  # the JSON Schema the answer must follow, as the request states it
    schema_name: str | None  # OpenAI's json_schema name (the pydantic class name for sitegen)
    max_tokens: int | None
    tool: str | None = None  # anthropic: the tool to call


def _int(value: Any) -> int | None:
    return (
        int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None
    )


def _split_system(messages: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    system = "\n".join(
        str(m.get("content") or "") for m in messages if isinstance(m, dict) and m.get("role") == "system"
    )
    return system, [m for m in messages if isinstance(m, dict) and m.get("role") != "system"]


def read_call(api: str, body: dict[str, Any], model: str | None = None) -> Call:
    """One request body as a Call. Raises ValueError for a body that is not that API's shape."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise ValueError("the request has no messages")
    if api == "anthropic":
        tools = [t for t in body.get("tools") or [] if isinstance(t, dict)]
        choice = body.get("tool_choice") or {}
        name = choice.get("name") if isinstance(choice, dict) else None
        tool = next((t for t in tools if t.get("name") == name), tools[0] if tools else None)
        system = body.get("system")
        text = system if isinstance(system, str) else " ".join(texts(system or []))
        return Call(
            api,
            str(body.get("model") or ""),
            text,
            [m for m in body["messages"] if isinstance(m, dict)],
            tool.get("input_schema") if tool else None,
            None,
            _int(body.get("max_tokens")),
            str(tool["name"]) if tool else None,
        )
    system, messages = _split_system(body["messages"])
    fmt = body.get("response_format") or {}
    spec = fmt.get("json_schema") if isinstance(fmt, dict) else None
    if api == "cloudflare":  # Workers AI: json_schema is the schema itself
        schema, name = (spec if isinstance(spec, dict) else None), None
    else:
        spec = spec if isinstance(spec, dict) else {}
        schema, name = spec.get("schema"), spec.get("name")
    limit = _int(body.get("max_completion_tokens")) or _int(body.get("max_tokens"))
    return Call(api, str(model or body.get("model") or ""), system, messages, schema, name, limit)


def texts(content: Any) -> list[str]:
    """Every text in a message's content: a string, or blocks (text, tool_result, tool_use input)."""
    if isinstance(content, str):
        return [content]
    found: list[str] = []
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "tool_result":
            found += texts(block.get("content"))
        elif block.get("type") == "tool_use":
            found.append(json.dumps(block.get("input"), ensure_ascii=False))
        elif isinstance(block.get("text"), str):
            found.append(block["text"])
    return found


def user_texts(call: Call) -> list[str]:
    """The texts of the user turns, latest first."""
    return [
        text
        for m in reversed(call.messages)
        if m.get("role") == "user"
        for text in reversed(texts(m.get("content")))
    ]


def is_repair(call: Call) -> bool:
    """A follow-up in a conversation (the client replays the model's earlier answer): a repair turn."""
    return any(m.get("role") == "assistant" for m in call.messages)


def is_ping(call: Call) -> bool:
    """sitegen's connectivity test: the answer schema is Ping ({"ok": bool})."""
    if call.schema_name == "Ping":
        return True
    props = (call.schema or {}).get("properties")
    return isinstance(props, dict) and set(props) == {"ok"}


def prompt_tokens(call: Call) -> int:
    return tokens(call.system + "".join(text for m in call.messages for text in texts(m.get("content"))))


# --- replies -------------------------------------------------------------------------------------------
def reply(
    call: Call, n: int, answer: dict[str, Any] | str, cut_text: str | None, tokens_in: int, tokens_out: int
) -> dict[str, Any]:
    """The API's success body. `cut_text` is set when max_tokens cut the answer (then it is that text)."""
    if call.api == "anthropic":
        return _anthropic(call, n, answer, cut_text, tokens_in, tokens_out)
    if call.api == "cloudflare":
        response: Any = cut_text if cut_text is not None else answer
        return {
            "result": {"response": response, "usage": _openai_usage(tokens_in, tokens_out)},
            "success": True,
            "errors": [],
            "messages": [],
        }
    text = cut_text if cut_text is not None else answer_text(answer)
    return {
        "id": f"chatcmpl-sim-{n}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": call.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "finish_reason": "length" if cut_text is not None else "stop",
            }
        ],
        "usage": _openai_usage(tokens_in, tokens_out),
    }


def _openai_usage(tokens_in: int, tokens_out: int) -> dict[str, int]:
    return {
        "prompt_tokens": tokens_in,
        "completion_tokens": tokens_out,
        "total_tokens": tokens_in + tokens_out,
    }


def _anthropic(
    call: Call, n: int, answer: dict[str, Any] | str, cut_text: str | None, tokens_in: int, tokens_out: int
) -> dict[str, Any]:
    # A cut tool call is a tool_use block whose input could not be completed: {} (its partial JSON is
    # not an object yet), with stop_reason "max_tokens". Text (no tool, or an answer that is not JSON)
    # is a text block, cut like any text.
    if call.tool and isinstance(answer, dict):
        block: dict[str, Any] = {
            "type": "tool_use",
            "id": f"toolu_sim_{n}",
            "name": call.tool,
            "input": {} if cut_text is not None else answer,
        }
        stop = "tool_use"
    else:
        block, stop = (
            {"type": "text", "text": cut_text if cut_text is not None else answer_text(answer)},
            "end_turn",
        )
    return {
        "id": f"msg_sim_{n}",
        "type": "message",
        "role": "assistant",
        "model": call.model,
        "content": [block],
        "stop_reason": "max_tokens" if cut_text is not None else stop,
        "stop_sequence": None,
        "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out},
    }


ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
}


def error(api: str, status: int, message: str) -> dict[str, Any]:
    """The API's error body for `status`."""
    kind = ERROR_TYPES.get(status, "api_error")
    if api == "anthropic":
        return {"type": "error", "error": {"type": kind, "message": message}}
    if api == "cloudflare":
        return {
            "result": None,
            "success": False,
            "errors": [{"code": 10000 + status, "message": message}],
            "messages": [],
        }
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}
