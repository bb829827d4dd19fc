"""Fixtures for the failure tests: a clock that can jump, a count of stored phase outputs, and the
offline AI provider with scripted failures."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from chalicelib.ai.template import TemplateProvider
from infra.write_counter import COUNT_OUTPUT_WRITES, DROP_WRITE_COUNTER
from tests.support.stack import FakeClock


@pytest.fixture()
def clock(deps):
    deps.clock = FakeClock()
    return deps.clock


@pytest.fixture()
def output_writes(deps):
    """Count every time a phase's output is stored (a phase_run turning succeeded), by phase."""
    with deps.engine.begin() as conn:
        conn.execute(text(COUNT_OUTPUT_WRITES))

    def counts():
        with deps.engine.connect() as conn:
            return dict(conn.execute(text("SELECT phase, count(*) FROM output_writes GROUP BY phase")).all())

    yield counts
    with deps.engine.begin() as conn:
        conn.execute(text(DROP_WRITE_COUNTER))


class ScriptedProvider(TemplateProvider):
    """The real offline provider, with scripted failures or edits for chosen phases."""

    script: dict[str, list] = {}

    def generate(self, request):
        actions = self.script.get(request.phase.value)
        if actions:
            action = actions.pop(0)
            if isinstance(action, Exception):
                raise action
            if callable(action):
                return action(request, super().generate(request))
        return super().generate(request)


@pytest.fixture()
def scripted(deps):
    ScriptedProvider.script = {}
    deps.provider_override = ScriptedProvider
    yield ScriptedProvider.script
    deps.provider_override = None
