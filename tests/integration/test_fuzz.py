"""Fuzz every operation of the API's own OpenAPI document over real HTTP (schemathesis + hypothesis).

The stack is the real local one (`python -m infra.local`: chalice local on a real port, moto server,
Postgres, a worker), so what is checked is what the CRM sees. For each operation, valid (positive)
and invalid (negative) requests are generated from the document: bodies, path and query parameters,
headers, always with the valid token. Every response must be below 500, carry no traceback, and an
error (4xx) must be a JSON object with a non-empty `message`. The response must also match the
document: a listed status code, the listed content type, a body of the listed schema.

Path parameters are random (unknown ids) or, in part of the examples, real ids made for the run, so
the handlers past the 404 are fuzzed too. Those ids are chosen so the fuzzer can make no network call
outside this machine: the config that PATCH/DELETE may rewrite (e.g. to provider openai with any
base_url) is never routed nor tested, the config that POST .../test calls is never rewritten, and the
routing table only ever gets random (unknown, so refused) or null config ids.

Reproducible: hypothesis runs derandomized (the same examples every run) and without its database.
About 40 s on the 2-core machine (EXAMPLES per operation and mode).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chalicelib.openapi import document
from tests.support.local_stack import LocalStack
from tests.support.orders import ORDER

DOC = json.loads(document())
OPERATIONS = [(path, method) for path, ops in DOC["paths"].items() for method in ops]


def _can_be_invalid(op: dict[str, Any]) -> bool:
    """Negative (invalid) requests need something to get wrong: a body, a query parameter or a header
    other than the token. A path parameter is a string, and any string is a valid one."""
    return "requestBody" in op or any(p["in"] != "path" for p in op["parameters"])


CASES = [
    (path, method, mode)
    for path, method in OPERATIONS
    for mode in GenerationMode
    if mode == GenerationMode.POSITIVE or _can_be_invalid(DOC["paths"][path][method])
]
EXAMPLES = 50  # per operation and mode
CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]
TRACEBACK_MARKS = ("Traceback (most recent call last)", '.py", line ', 'File "/')


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Any:
    local = LocalStack(tmp_path_factory.mktemp("fuzz-stack"), ["--schedule-interval", "5"]).start()
    yield local
    local.stop()


@pytest.fixture(scope="module")
def real_ids(stack: LocalStack) -> dict[tuple[str, str], list[dict[str, str]]]:
    """Per operation, path parameters naming things that exist (see the module's docstring)."""
    order = stack.call("POST", "/orders", {**ORDER, "business_name": "Fuzz Bakery"}, expect=201)
    gen = stack.call("POST", f"/orders/{order['id']}/generations", expect=202)
    rewritable = stack.call(
        "POST", "/ai/configs", {"name": "fuzz-rewritable", "provider": "template"}, expect=201
    )
    testable = stack.call(
        "POST", "/ai/configs", {"name": "fuzz-testable", "provider": "template"}, expect=201
    )
    ids: dict[tuple[str, str], list[dict[str, str]]] = {}
    for path, method in OPERATIONS:
        if "{order_id}" in path:
            ids[(path, method)] = [{"order_id": order["id"]}]
        elif "{generation_id}" in path:
            ids[(path, method)] = [{"generation_id": gen["id"]}]
        elif path.endswith("/test") or method == "get" and "{config_id}" in path:
            ids[(path, method)] = [{"config_id": testable["id"]}]
        elif "{config_id}" in path:
            ids[(path, method)] = [{"config_id": rewritable["id"]}]
    return ids


@pytest.fixture(scope="module")
def schema(stack: LocalStack) -> Any:
    served = stack.call("GET", "/openapi.json", token=None)
    assert served == DOC  # the document the app serves is the one the operations were read from
    return schemathesis.openapi.from_dict(served)


def test_openapi_document_is_valid_openapi_3_1() -> None:
    validator = pytest.importorskip("openapi_spec_validator")  # installed with moto[server]
    assert DOC["openapi"].startswith("3.1")
    validator.validate(DOC)


def problems(status: int, headers: dict[str, list[str]], body: bytes) -> list[str]:
    found = []
    text = body.decode("utf-8", "replace")
    if status >= 500:
        found.append(f"HTTP {status}")
    if any(mark in text for mark in TRACEBACK_MARKS):
        found.append("a traceback in the body")
    if status >= 400:
        content_type = (headers.get("content-type") or [""])[0]
        if not content_type.startswith("application/json"):
            found.append(f"error with Content-Type {content_type!r}")
        try:
            data = json.loads(body)
        except ValueError:
            found.append("error body is not JSON")
        else:
            message = data.get("message") if isinstance(data, dict) else None
            if not isinstance(message, str) or not message.strip():
                found.append("error body has no message")
    return found


@pytest.mark.parametrize("path,method,mode", CASES, ids=[f"{m.upper()} {p} {g.value}" for p, m, g in CASES])
def test_fuzz_operation(
    path: str,
    method: str,
    mode: GenerationMode,
    stack: LocalStack,
    schema: Any,
    real_ids: dict[tuple[str, str], list[dict[str, str]]],
) -> None:
    operation = schema[path][method.upper()]
    base_url = stack.info["api_url"]
    auth = {"Authorization": f"Bearer {stack.info['token']}"}  # else the security scheme makes up tokens
    strategies = [operation.as_strategy(mode, headers=auth)]
    strategies += [
        operation.as_strategy(mode, headers=auth, path_parameters=fixed)
        for fixed in real_ids.get((path, method), [])
    ]
    seen: list[int] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )
    @given(case=st.one_of(strategies))
    def fuzz(case: Any) -> None:
        # A new connection per request: chalice local's keep-alive answers stall ~40 ms each (Nagle +
        # delayed ACK on its two writes), which would triple the run time.
        response = case.call(base_url=base_url, headers=auth, timeout=30)
        seen.append(response.status_code)
        found = problems(response.status_code, response.headers, response.content)
        # the reproduction leaves the token out: add -H 'Authorization: Bearer <token>'
        assert not found, (
            f"{found}: {case.as_curl_command(base_url=base_url)}\n"
            f"-> {response.status_code} {response.content[:500]!r}"
        )
        # and the document tells the truth: the status is listed, the body has the listed type and shape
        case.validate_response(response, checks=CONFORMANCE)

    fuzz()
    assert seen, "no request was sent"


def test_after_the_fuzzing_no_route_leads_off_this_machine(stack: LocalStack, real_ids: Any) -> None:
    """Runs last: what the fuzzer changed still routes every task, and the tested config, to offline
    providers (the safety the module's docstring describes held)."""
    configs = {c["id"]: c for c in stack.call("GET", "/ai/configs")["items"]}
    routing = stack.call("GET", "/ai/routing")
    routed = {cid for cid in [*routing["routes"].values(), routing["fallback"]] if cid}
    testable = real_ids[("/ai/configs/{config_id}/test", "post")][0]["config_id"]
    assert {configs[cid]["provider"] for cid in routed | {testable}} == {"template"}
