"""HTTP schemas for AI configs and routing. The API key is write-only: accepted, never returned."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, field_validator

from chalicelib.ai.doctor import Finding
from chalicelib.ai.registry import KNOWN_PROVIDERS, unknown_provider_message

URL_PATTERN = r"^https?://[^\s/?#]+[^\s]*$"
ACCOUNT_PATTERN = r"^[A-Za-z0-9_-]+$"  # it goes into a URL path


class AIParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=32000)
    timeout_s: float | None = Field(default=None, ge=1, le=110)  # below the worker's 120 s timeout


def _provider(value: str) -> str:
    name = value.strip().lower()
    if name not in KNOWN_PROVIDERS:
        raise ValueError(unknown_provider_message(value))
    return name


_KEY_CHARS = re.compile(r"[\x21-\x7e]+")


def _clean_key(value: Any) -> Any:
    """Pasted keys often carry a line break: trimmed. Anything else that is not a printable ASCII
    character would break the request header (and land in an error message): refused, unechoed."""
    if isinstance(value, str):
        value = value.strip()
        if not _KEY_CHARS.fullmatch(value):
            raise ValueError("must be printable ASCII characters without spaces or line breaks")
    return value


ApiKey = Annotated[SecretStr, BeforeValidator(_clean_key)]


class AIConfigCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True)

    name: str = Field(min_length=1, max_length=100)
    # documented as an enum so clients (and the fuzz test) know the names; the validator takes any case
    provider: str = Field(min_length=1, max_length=40, json_schema_extra={"enum": list(KNOWN_PROVIDERS)})
    model: str | None = Field(default=None, min_length=1, max_length=200)
    base_url: str | None = Field(default=None, max_length=500, pattern=URL_PATTERN)
    account_id: str | None = Field(default=None, min_length=1, max_length=100, pattern=ACCOUNT_PATTERN)
    api_key: ApiKey | None = Field(default=None, min_length=1, max_length=4096)
    enabled: bool = True
    params: AIParams = Field(default_factory=AIParams)

    @field_validator("provider")
    @classmethod
    def _known(cls, value: str) -> str:
        return _provider(value)


class AIConfigUpdate(BaseModel):
    """Only the fields sent change. `api_key: null` removes the key; model/base_url/account_id may be
    cleared with null; in `params`, a null value removes that parameter."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True)

    name: str | None = Field(default=None, min_length=1, max_length=100)
    provider: str | None = Field(default=None, min_length=1, max_length=40)
    model: str | None = Field(default=None, min_length=1, max_length=200)
    base_url: str | None = Field(default=None, max_length=500, pattern=URL_PATTERN)
    account_id: str | None = Field(default=None, min_length=1, max_length=100, pattern=ACCOUNT_PATTERN)
    api_key: ApiKey | None = Field(default=None, min_length=1, max_length=4096)
    enabled: bool | None = None
    params: AIParams | None = None

    @field_validator("provider")
    @classmethod
    def _known(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("cannot be null")
        return _provider(value)

    @field_validator("name", "enabled", "params")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null")
        return value


class AIConfigPublic(BaseModel):
    id: str
    name: str
    provider: str
    model: str | None
    base_url: str | None
    account_id: str | None
    enabled: bool
    params: dict[str, Any]
    has_api_key: bool
    api_key_hint: str | None  # "…abcd": at most the last 4 characters
    created_at: datetime
    updated_at: datetime


class AIConfigList(BaseModel):
    items: list[AIConfigPublic]


class TaskRoutes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    planning: str | None
    copywriting: str | None
    coding: str | None
    review: str | None


class RoutingPublic(BaseModel):
    routes: TaskRoutes
    fallback: str | None


class RoutingUpdate(BaseModel):
    """The whole routing table: every task type and the fallback, each a config id or null."""

    model_config = ConfigDict(extra="forbid")

    routes: TaskRoutes
    fallback: str | None


class TestResult(BaseModel):
    __test__ = False  # not a pytest class

    ok: bool
    latency_ms: float | None = None
    error: str | None = None
    status: int | None = None  # the HTTP status the provider answered with, if it answered


class ConfigSpend(BaseModel):
    """What one AI config's calls cost over the window, from the usage each phase and part recorded."""

    config_id: str
    runs: int = Field(description="phases and parts it answered (a per-page phase counts once per page)")
    calls: int = Field(description="model calls, repairs included")
    tokens_in: int
    tokens_out: int
    cost_usd: float | None = Field(
        description="the sum of the known costs; null when no run had a known price"
    )
    cost_complete: bool = Field(description="false when some run's model has no known price")


class SpendReport(BaseModel):
    days: int
    since: datetime
    items: list[ConfigSpend] = Field(description="one per config that ran in the window, most tokens first")


class DoctorReport(BaseModel):
    findings: list[Finding]
