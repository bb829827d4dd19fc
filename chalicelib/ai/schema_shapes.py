"""Pydantic JSON schemas reshaped for the wire.

`compact` inlines $refs and drops titles: what the prompt and Anthropic's tool see, constraints kept.
`strict` is the subset OpenAI's `strict: true` accepts everywhere (and Workers AI JSON mode handles):
every object closed and fully required, no length/count/pattern keywords. Those constraints still
reach the model through the prompt, and our own validation (plus one repair) enforces them.
"""

from __future__ import annotations

from typing import Any

CONSTRAINTS = frozenset(
    {
        "default",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "uniqueItems",
        "examples",
    }
)
MAX_DEPTH = 32


def _resolve(node: Any, defs: dict[str, Any], depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError("schema is recursive or too deep to inline")
    if isinstance(node, list):
        return [_resolve(item, defs, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = _resolve(defs[ref.removeprefix("#/$defs/")], defs, depth + 1)
        siblings = {k: _resolve(v, defs, depth + 1) for k, v in node.items() if k != "$ref"}
        return {**target, **siblings}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$defs":
            continue
        if key == "properties" and isinstance(value, dict):  # keys here are field names, not keywords
            out[key] = {name: _resolve(sub, defs, depth + 1) for name, sub in value.items()}
        else:
            out[key] = _resolve(value, defs, depth + 1)
    return out


def _drop_in(schema: dict[str, Any], keywords: frozenset[str], close_objects: bool) -> dict[str, Any]:
    """_drop on a whole schema: a dict comes back a dict."""
    out = _drop(schema, keywords, close_objects)
    assert isinstance(out, dict)
    return out


def _drop(node: Any, keywords: frozenset[str], close_objects: bool) -> Any:
    if isinstance(node, list):
        return [_drop(item, keywords, close_objects) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in keywords:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _drop(sub, keywords, close_objects) for name, sub in value.items()}
        else:
            out[key] = _drop(value, keywords, close_objects)
    if close_objects and out.get("type") == "object" and isinstance(out.get("properties"), dict):
        out["required"] = list(out["properties"])
        out["additionalProperties"] = False
    return out


def compact(schema: dict[str, Any]) -> dict[str, Any]:
    inlined = _resolve(schema, schema.get("$defs", {}))
    return _drop_in(inlined, frozenset({"title"}), close_objects=False)


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    inlined = _resolve(schema, schema.get("$defs", {}))
    return _drop_in(inlined, CONSTRAINTS | {"title"}, close_objects=True)
