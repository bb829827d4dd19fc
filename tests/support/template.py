"""Reading the packaged template (infra/package.py): its functions, resources and their properties."""

from __future__ import annotations

from typing import Any

from chalice.utils import to_cfn_resource_name

FUNCTIONS = {
    "APIHandler": "api_handler",
    "Bearer": "bearer",
    "RunPhase": "run_phase",
    "OnDeadLetter": "on_dead_letter",
    "Sweep": "sweep",
}


def role_of(function: str) -> str:
    return to_cfn_resource_name(f"{function}_role")  # Chalice's name for the function's own role


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def props(template: dict[str, Any], name: str) -> dict[str, Any]:
    return template["Resources"][name]["Properties"]
