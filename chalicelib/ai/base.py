"""The provider port: given a phase's inputs, return its validated output and what it cost."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from chalicelib.domain.order import OrderData
from chalicelib.domain.phases import Phase, TaskType


@dataclass(frozen=True)
class ResolvedConfig:
    """An AI config as routed for one task; the API key is fetched only when a provider needs it."""

    id: uuid.UUID
    name: str
    provider: str
    model: str | None
    base_url: str | None = None
    account_id: str | None = None
    secret_ref: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


def resolved_from(row: Any) -> ResolvedConfig:
    """From an `ai_configs` row (anything with its attributes)."""
    return ResolvedConfig(
        row.id,
        row.name,
        row.provider,
        row.model,
        row.base_url,
        row.account_id,
        row.secret_ref,
        dict(row.params or {}),
    )


@dataclass(frozen=True)
class AIRequest:
    phase: Phase
    task: TaskType
    order: OrderData
    inputs: dict[str, BaseModel]
    schema: type[BaseModel]
    part: str | None = None  # one page's slug (or "styles") when the phase runs one part per page
    findings: tuple[str, ...] = ()  # a repair round: the review's errors in `previous`, to be fixed
    previous: BaseModel | None = None  # the answer those findings are about
    instructions: str | None = None  # the user's wishes for a regenerated page: data, never rules


@dataclass(frozen=True)
class AIResult:
    output: BaseModel
    usage: dict[str, Any]


class Provider(Protocol):
    def generate(self, request: AIRequest) -> AIResult: ...
