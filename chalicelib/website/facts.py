"""The order facts every template step needs, normalized once (whitespace, fallbacks, locale)."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.order import OrderData
from chalicelib.website.copy import Copy, strings
from chalicelib.website.text import capitalized, clip, inline, squash


@dataclass(frozen=True)
class Facts:
    copy: Copy
    locale: str
    name: str
    segment: str  # as typed, for the start of a sentence
    segment_inline: str  # lower-cased first letter, for mid-sentence use
    city: str
    where: str  # " em Campinas" / " in Austin" / ""
    description: str
    services: list[str]  # what the order says it offers (may be empty)
    offer: list[str]  # services, or generic fallbacks when there are none

    def fmt(self, key: str, **extra: str) -> str:
        """Format the localized template ``key`` with the standard fields (and ``extra``)."""
        fields = {"name": self.name, "segment": self.segment_inline, "where": self.where, "city": self.city}
        fields.update(extra)
        return str(self.copy[key]).format(**fields)

    def sentence(self, key: str, **extra: str) -> str:
        """Like ``fmt`` but with the first letter capitalized."""
        return capitalized(self.fmt(key, **extra))


def facts_of(order: OrderData, name: str | None = None) -> Facts:
    copy = strings(order.locale)
    city = squash(order.contact.city)
    segment = squash(order.segment)
    services: list[str] = []
    for service in order.services:
        service = clip(service, 160)
        if service and service not in services:
            services.append(service)
    return Facts(
        copy=copy,
        locale=order.locale,
        name=clip(name or order.business_name, 200),
        segment=segment,
        segment_inline=inline(segment),
        city=city,
        where=str(copy["in_city"]).format(city=city) if city else "",
        description=squash(order.description),
        services=services,
        offer=services or list(copy["default_services"]),
    )
