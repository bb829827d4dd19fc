"""The partial indexes' predicates: the models build them from the one definition of the active
statuses (chalicelib.domain.phases.ACTIVE); the migrations that made them are frozen history, so this
keeps what they spell out equal to that definition."""

from __future__ import annotations

import ast
from pathlib import Path

from chalicelib.db.models import ACTIVE_PREDICATE, FAILURE_UNLOGGED_PREDICATE, Base, status_in
from chalicelib.domain.phases import ACTIVE

VERSIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"


def _created_predicates(migration: str) -> dict[str, str]:
    """index name -> the text of its postgresql_where, for every op.create_index of a migration."""
    found: dict[str, str] = {}
    for node in ast.walk(ast.parse((VERSIONS / migration).read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "create_index":
            where = next((k.value for k in node.keywords if k.arg == "postgresql_where"), None)
            if isinstance(where, ast.Call) and isinstance(node.args[0], ast.Constant):
                found[str(node.args[0].value)] = str(ast.literal_eval(where.args[0]))
    return found


def test_the_active_predicate_is_built_from_the_active_statuses():
    assert ACTIVE_PREDICATE == "status IN ('queued', 'running')"
    assert status_in(tuple(s.value for s in ACTIVE)) == ACTIVE_PREDICATE


def test_the_models_indexes_use_the_predicates():
    wheres = {
        str(i.name): str(i.dialect_options["postgresql"]["where"])
        for i in Base.metadata.tables["generations"].indexes
    }
    assert wheres["uq_generations_one_active_per_order"] == ACTIVE_PREDICATE
    assert wheres["ix_generations_active"] == ACTIVE_PREDICATE
    assert wheres["ix_generations_failure_unlogged"] == FAILURE_UNLOGGED_PREDICATE


def test_migration_0001_spells_out_the_same_active_predicate():
    created = _created_predicates("0001_initial_schema.py")
    assert created["uq_generations_one_active_per_order"] == ACTIVE_PREDICATE
    assert created["ix_generations_active"] == ACTIVE_PREDICATE


def test_migration_0005_spells_out_the_same_failure_predicate():
    created = _created_predicates("0005_generation_budget_and_failure_line.py")
    assert created["ix_generations_failure_unlogged"] == FAILURE_UNLOGGED_PREDICATE
