"""Known providers and how to build one from a routed config."""
from __future__ import annotations

from chalicelib.ai.base import Provider, ResolvedConfig
from chalicelib.domain.errors import PermanentError

KNOWN_PROVIDERS = ("template",)


def build_provider(config: ResolvedConfig, secrets: object = None) -> Provider:  # secrets: () -> SecretStore
    if config.provider == "template":
        from chalicelib.ai.template import TemplateProvider

        return TemplateProvider(config)
    raise PermanentError(
        f"AI config {config.name!r} uses provider {config.provider!r}, which is not supported "
        f"(known: {', '.join(KNOWN_PROVIDERS)})"
    )
