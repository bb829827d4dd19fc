"""Every string and list a model (or a phase) writes into a phase output has a maximum length (issue 12,
item 4): a provider's answer cannot grow a stored output, a log line or a review without bound."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from chalicelib.phases import outputs
from chalicelib.phases.outputs import Brief, SiteFile
from chalicelib.website.files import MAX_FILE_BYTES

MODELS = [
    m
    for _, m in inspect.getmembers(outputs, inspect.isclass)
    if issubclass(m, BaseModel) and m.__module__ == outputs.__name__
]


def unbounded(node: Any, defs: dict[str, Any], where: str) -> list[str]:
    if isinstance(node, dict):
        if "$ref" in node:
            return []  # its own model is checked on its own
        found = []
        kind = node.get("type")
        if kind == "string" and "maxLength" not in node and "enum" not in node and "const" not in node:
            found.append(where)
        if kind == "array" and "maxItems" not in node:
            found.append(where)
        for key in ("items", "anyOf", "allOf", "oneOf"):
            if key in node:
                items = node[key] if isinstance(node[key], list) else [node[key]]
                found += [
                    f for n, item in enumerate(items) for f in unbounded(item, defs, f"{where}.{key}[{n}]")
                ]
        for name, prop in (node.get("properties") or {}).items():
            found += unbounded(prop, defs, f"{where}.{name}")
        return found
    return []


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_string_and_list_has_a_maximum_length(model: type[BaseModel]) -> None:
    schema = model.model_json_schema()
    assert unbounded(schema, schema.get("$defs", {}), model.__name__) == []


def test_the_limits_bite() -> None:
    with pytest.raises(ValidationError):
        Brief(business_name="b", tagline="t", audience="a", tone="t", key_messages=["x" * 301], locale="en")
    with pytest.raises(ValidationError):
        SiteFile(path="index.html", content_type="text/html", body="x" * (MAX_FILE_BYTES + 1))
    assert (
        SiteFile.model_fields["body"].metadata[0].max_length == MAX_FILE_BYTES
    )  # the gate's limit, in bytes
