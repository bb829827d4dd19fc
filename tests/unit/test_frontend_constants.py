"""The dashboard's ES modules (chalicelib/frontend/ui, no build step): the copy of a server constant they
keep matches the server's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chalicelib.domain.phases import ACTIVE

UI = Path(__file__).resolve().parents[2] / "chalicelib" / "frontend" / "ui"
ACTIVE_SET = re.compile(r"^export const ACTIVE_STATUSES = new Set\(\[([^\]]*)\]\);$", re.MULTILINE)


def active_statuses(source: str) -> list[str]:
    """The strings in status.js's `ACTIVE_STATUSES = new Set([...])`."""
    found = ACTIVE_SET.findall(source)
    assert len(found) == 1, "status.js must declare ACTIVE_STATUSES once, as new Set(['...', ...])"
    items = [item.strip() for item in found[0].split(",") if item.strip()]
    assert all(re.fullmatch(r"'[a-z_]+'", item) for item in items), items
    return [item.strip("'") for item in items]


def test_active_statuses_match_the_domain() -> None:
    statuses = active_statuses((UI / "status.js").read_text(encoding="utf-8"))
    assert len(statuses) == len(set(statuses))
    assert set(statuses) == {str(status) for status in ACTIVE}


def test_a_differing_copy_is_found() -> None:
    source = "export const ACTIVE_STATUSES = new Set(['queued']);\n"
    assert set(active_statuses(source)) != {str(status) for status in ACTIVE}


def test_no_module_keeps_its_own_copy() -> None:
    """The others import ACTIVE_STATUSES from status.js rather than list the statuses again."""
    copies = [
        path.name
        for path in UI.glob("*.js")
        if path.name != "status.js" and re.search(r"\[\s*'queued',\s*'running'\s*\]", path.read_text("utf-8"))
    ]
    assert copies == []


@pytest.mark.parametrize(
    "source", ["const ACTIVE_STATUSES = ['queued'];\n", "export const ACTIVE = new Set([]);\n"]
)
def test_an_unreadable_declaration_fails(source: str) -> None:
    with pytest.raises(AssertionError):
        active_statuses(source)
