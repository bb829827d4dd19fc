"""The packaged template of each stage, made once per test session by the real `chalice package`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.package import package

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")


def tool_python(venv: str, tool: str) -> Path:
    """The Python of a tool's own virtualenv (`make setup` makes it); the test skips without it, except in CI."""
    python = ROOT / venv / "bin" / "python"
    if not python.exists():
        reason = f"no {venv} ({tool}'s virtualenv): run `make setup`"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"{reason} (CI=true: this test must run, not skip)", pytrace=False)
        pytest.skip(reason)
    return python


@pytest.fixture(scope="session")
def packaged_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """stage -> dist folder. The first run pip-downloads the Lambda wheels (~25 s); Chalice caches the
    dependency zip in .chalice/deployments, so the second stage takes a few seconds."""
    return {stage: package(stage, tmp_path_factory.mktemp(f"dist-{stage}")).parent for stage in STAGES}


@pytest.fixture(scope="session")
def templates(packaged_paths: dict[str, Path]) -> dict[str, dict[str, Any]]:
    return {stage: yaml.safe_load((path / "sam.yaml").read_text()) for stage, path in packaged_paths.items()}


@pytest.fixture(params=STAGES)
def stage(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture()
def template(templates: dict[str, dict[str, Any]], stage: str) -> dict[str, Any]:
    return templates[stage]
