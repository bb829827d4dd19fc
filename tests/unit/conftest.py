"""tests/unit is the fast tier (with tests/contract: `make test-fast`), except the modules below."""

from __future__ import annotations

import pytest

# Unit tests of tooling that start servers or sweep many cases: minutes, not seconds.
SLOW_MODULES = {"test_moto_server.py"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
