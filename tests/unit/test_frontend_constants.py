"""The dashboard's ES modules (chalicelib/frontend/ui, no build step): the copy of a server constant they
keep matches the server's, and every module they import is one the API serves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chalicelib.domain.phases import ACTIVE
from chalicelib.static import frontend_file

UI = Path(__file__).resolve().parents[2] / "chalicelib" / "frontend" / "ui"
IMPORT = re.compile(r"^import\s[^;]*?\sfrom\s'([^']+)';", re.MULTILINE)
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


def test_every_module_imported_is_served_as_javascript() -> None:
    """The API serves /ui/{name}, one path segment: an import of a file it cannot serve breaks the page."""
    index = (UI.parent / "index.html").read_text(encoding="utf-8")
    todo, seen = ["ui/app.js"], set()
    assert 'src="ui/app.js"' in index
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        response = frontend_file(name)
        assert response.status_code == 200, name
        assert response.headers["Content-Type"] == "text/javascript; charset=utf-8", name
        for target in IMPORT.findall(str(response.body)):
            assert target.startswith("./") and target.endswith(".js"), f"{name} imports {target}"
            todo.append("ui/" + target.removeprefix("./"))
    assert {"ui/order.js", "ui/order_state.js", "ui/status.js", "ui/i18n_en.js", "ui/i18n_pt-BR.js"} <= seen
    # every module in ui/ is reached from app.js: none is left behind unused
    assert {f"ui/{path.name}" for path in UI.glob("*.js")} == seen


def test_a_nested_path_is_not_served() -> None:
    """Why the modules are flat (order_*.js, i18n_<lang>.js): a nested path is refused."""
    assert frontend_file("ui/order/state.js").status_code == 404
