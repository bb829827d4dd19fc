"""Known providers, what each one needs, and how to build one from a routed config."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from chalicelib.ai.base import Provider, ResolvedConfig
from chalicelib.domain.errors import PermanentError, PhaseError, RetryableError

if TYPE_CHECKING:  # chat.py loads the HTTP client: only a provider that is built needs it
    from chalicelib.ai.chat import ChatProvider


class SecretStore(Protocol):
    def get(self, ref: str) -> str: ...


@dataclass(frozen=True)
class ProviderSpec:
    key: Literal["none", "optional", "required"]
    requires: tuple[str, ...] = ()  # settings that must be set: model, account_id, base_url


SPECS: dict[str, ProviderSpec] = {
    "template": ProviderSpec("none"),
    "openai": ProviderSpec("required", ("model",)),
    "anthropic": ProviderSpec("required", ("model",)),
    "cloudflare": ProviderSpec("required", ("model", "account_id")),
    "openai_compatible": ProviderSpec("optional", ("model", "base_url")),
}
KNOWN_PROVIDERS: tuple[str, ...] = tuple(SPECS)


def closest_provider(name: str) -> str | None:
    matches = difflib.get_close_matches(name.strip().lower(), KNOWN_PROVIDERS, n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown_provider_message(name: str) -> str:
    guess = closest_provider(name)
    hint = f"; did you mean {guess!r}?" if guess else ""
    return f"provider {name!r} is not supported{hint} (known: {', '.join(KNOWN_PROVIDERS)})"


def needs_key(provider: str) -> bool:
    spec = SPECS.get(provider)
    return spec is not None and spec.key == "required"


def missing_settings(
    provider: str, model: str | None, base_url: str | None, account_id: str | None
) -> list[str]:
    spec = SPECS.get(provider)
    values = {"model": model, "base_url": base_url, "account_id": account_id}
    return [name for name in spec.requires if not values[name]] if spec else []


def build_provider(
    config: ResolvedConfig,
    secrets: Callable[[], SecretStore] | None = None,
    max_timeout_s: float | None = None,
) -> Provider:
    """`secrets` is called (and the key fetched) only for a provider that uses a key. A config's
    `timeout_s` is clamped to `max_timeout_s` (the stage's provider timeout, which the start-up check
    keeps below the function's timeout), so no config can outlast the Lambda that makes the call."""
    if config.provider == "template":
        from chalicelib.ai.template import TemplateProvider

        return TemplateProvider(config)
    if config.provider not in SPECS:
        raise PermanentError(f"AI config {config.name!r}: {unknown_provider_message(config.provider)}")
    missing = missing_settings(config.provider, config.model, config.base_url, config.account_id)
    if missing:
        raise PermanentError(f"AI config {config.name!r} ({config.provider}) has no {', '.join(missing)} set")
    provider = _chat_provider(config.provider)(config, _api_key(config, secrets))
    if max_timeout_s is not None:
        provider.timeout_s = min(provider.timeout_s, max_timeout_s)
    return provider


def _chat_provider(name: str) -> type[ChatProvider]:
    """A chat provider's class, imported when first used (each module brings its HTTP client)."""
    if name == "openai":
        from chalicelib.ai.openai import OpenAIProvider

        return OpenAIProvider
    if name == "openai_compatible":
        from chalicelib.ai.openai import OpenAICompatibleProvider

        return OpenAICompatibleProvider
    if name == "anthropic":
        from chalicelib.ai.anthropic import AnthropicProvider

        return AnthropicProvider
    from chalicelib.ai.cloudflare import CloudflareProvider

    return CloudflareProvider


def _api_key(config: ResolvedConfig, secrets: Callable[[], SecretStore] | None) -> str | None:
    if SPECS[config.provider].key == "none":
        return None
    if not config.secret_ref:
        if needs_key(config.provider):
            raise PermanentError(
                f"AI config {config.name!r} ({config.provider}) has no API key; "
                f"set one with PATCH /ai/configs/{config.id}"
            )
        return None
    if secrets is None:
        raise PermanentError(f"AI config {config.name!r} has an API key but no secret store is available")
    try:
        return secrets().get(config.secret_ref)
    except LookupError:
        raise PermanentError(
            f"the API key of AI config {config.name!r} is missing from the secret store; "
            f"set it again with PATCH /ai/configs/{config.id}"
        ) from None
    except PhaseError:
        raise
    except Exception as exc:  # throttling, network: the store is fine, try again later
        raise RetryableError(
            f"could not read the API key of AI config {config.name!r} ({type(exc).__name__})"
        ) from None
