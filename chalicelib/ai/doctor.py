"""Find AI configuration mistakes before a generation trips on them. Pure: data in, findings out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from chalicelib.ai.egress import host_label, url_problem
from chalicelib.ai.registry import KNOWN_PROVIDERS, closest_provider, missing_settings, needs_key
from chalicelib.domain.phases import TASK_OF, TaskType

Severity = Literal["error", "warning", "info"]
ORDER = {"error": 0, "warning": 1, "info": 2}
# Words in a config's name or model that say which provider it was meant for.
HINTS: tuple[tuple[re.Pattern[str], str, frozenset[str]], ...] = (
    (
        re.compile(r"gpt-oss"),
        "an open-weight GPT-OSS model",
        frozenset({"cloudflare", "openai_compatible", "openai"}),
    ),
    (
        re.compile(r"\b(claude|anthropic)\b"),
        "Anthropic (Claude)",
        frozenset({"anthropic", "openai_compatible"}),
    ),
    (
        re.compile(r"\b(openai|chatgpt|gpt)\b(?!-oss)"),
        "OpenAI (GPT)",
        frozenset({"openai", "openai_compatible"}),
    ),
    (re.compile(r"cloudflare|workers[ -]?ai|@cf/|@hf/"), "Cloudflare Workers AI", frozenset({"cloudflare"})),
    (
        re.compile(r"\b(llama|mistral|qwen|gemma|deepseek)"),
        "an open-weight model",
        frozenset({"cloudflare", "openai_compatible"}),
    ),
)
SETTING_WORDS = {"model": "a model", "account_id": "an account_id", "base_url": "a base_url"}


class Finding(BaseModel):
    severity: Severity
    code: str
    message: str
    config_id: str | None = None
    task: str | None = None
    suggestion: str | None = None  # unknown_provider: the known provider closest to the one stored


@dataclass(frozen=True)
class ConfigInfo:
    id: str
    name: str
    provider: str
    model: str | None
    base_url: str | None
    account_id: str | None
    has_api_key: bool
    enabled: bool


def _phases_of(task: str) -> str:
    return ", ".join(p.value for p, t in TASK_OF.items() if t is not None and t.value == task) or task


def _config_findings(c: ConfigInfo) -> list[Finding]:
    found: list[Finding] = []

    def add(severity: Severity, code: str, message: str) -> None:
        found.append(Finding(severity=severity, code=code, message=message, config_id=c.id))

    if c.provider not in KNOWN_PROVIDERS:
        guess = closest_provider(c.provider)
        hint = f" Did you mean {guess!r}?" if guess else ""
        add(
            "error",
            "unknown_provider",
            f"AI config {c.name!r} uses provider {c.provider!r}, which sitegen does not "
            f"know.{hint} Known providers: {', '.join(KNOWN_PROVIDERS)}.",
        )
        found[-1].suggestion = guess
        return found
    for field, text in (("name", c.name), ("model", c.model or "")):
        meant, providers = next(
            ((m, p) for pattern, m, p in HINTS if pattern.search(text.lower())), ("", None)
        )
        if providers is not None and c.provider not in providers:  # the first (most specific) hint decides
            add(
                "warning",
                "name_provider_mismatch",
                f"AI config {c.name!r} has a {field} ({text!r}) that suggests "
                f"{meant}, but its provider is {c.provider!r}. Check the provider and model are what you meant.",
            )
    for setting in missing_settings(c.provider, c.model, c.base_url, c.account_id):
        add(
            "error",
            f"missing_{setting}",
            f"AI config {c.name!r} ({c.provider}) has no {setting}; it needs "
            f"{SETTING_WORDS[setting]} to make any call.",
        )
    if needs_key(c.provider) and not c.has_api_key:
        add(
            "error",
            "missing_api_key",
            f"AI config {c.name!r} ({c.provider}) has no API key; every call will fail until one is set.",
        )
    if c.base_url and not re.match(r"^https?://[^/\s]+", c.base_url):
        add("error", "invalid_base_url", f"AI config {c.name!r} has a base_url that is not an http(s) URL.")
    elif c.base_url:
        problem = url_problem(c.base_url, sends_key=c.has_api_key)  # the form only: no lookup here
        if problem:
            add(
                "error",
                "unsafe_base_url",
                f"AI config {c.name!r} ({host_label(c.base_url)}): {problem}. Every "
                "call will be refused until it is changed.",
            )
    return found


def _route_findings(configs: dict[str, ConfigInfo], routes: dict[str, str | None]) -> list[Finding]:
    found: list[Finding] = []
    fallback_id = routes.get("fallback")
    fallback = configs.get(fallback_id) if fallback_id else None
    usable_fallback = fallback if fallback and fallback.enabled else None
    then = (
        f" Those phases will use the fallback {usable_fallback.name!r} instead."
        if usable_fallback
        else " There is no usable fallback, so those phases will fail."
    )
    for task in [t.value for t in TaskType] + ["fallback"]:
        config_id = routes.get(task)
        config = configs.get(config_id) if config_id else None
        where = "The fallback route" if task == "fallback" else f"Task {task!r} ({_phases_of(task)})"
        tail = "" if task == "fallback" else then
        severity: Severity = "warning" if usable_fallback or task == "fallback" else "error"
        if config_id and config is None:
            found.append(
                Finding(
                    severity=severity,
                    code="route_to_missing_config",
                    task=task,
                    config_id=config_id,
                    message=f"{where} points to AI config {config_id}, which does not exist.{tail}",
                )
            )
        elif config is not None and not config.enabled:
            found.append(
                Finding(
                    severity=severity,
                    code="route_to_disabled_config",
                    task=task,
                    config_id=config_id,
                    message=f"{where} points to AI config {config.name!r}, which is disabled.{tail}",
                )
            )
        elif config_id is None and task != "fallback":
            if usable_fallback:
                found.append(
                    Finding(
                        severity="info",
                        code="uses_fallback",
                        task=task,
                        message=f"{where} has no route; it uses the fallback {usable_fallback.name!r}.",
                    )
                )
            else:
                found.append(
                    Finding(
                        severity="error",
                        code="no_route",
                        task=task,
                        message=f"{where} has no route "
                        "and there is no usable fallback: generations will fail at that phase.",
                    )
                )
    return found


def diagnose(configs: Sequence[ConfigInfo], routes: dict[str, str | None]) -> list[Finding]:
    """Findings, errors first. `routes` maps each task type (and "fallback") to a config id or None."""
    by_id = {c.id: c for c in configs}
    findings = [f for c in configs for f in _config_findings(c)]
    findings += _route_findings(by_id, routes)
    routed = {config_id for config_id in routes.values() if config_id}
    for c in configs:
        if c.id not in routed:
            findings.append(
                Finding(
                    severity="info",
                    code="unused_config",
                    config_id=c.id,
                    message=f"AI config {c.name!r} is not routed to any task.",
                )
            )
    return sorted(findings, key=lambda f: ORDER[f.severity])
