"""Machine-readable files and fragments: JSON-LD, sitemap.xml, robots.txt, favicon.svg."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from chalicelib.domain.order import OrderData
from chalicelib.website.colors import on_color
from chalicelib.website.text import initials, squash


def local_business(order: OrderData, name: str, description: str, base_url: str | None) -> dict[str, Any]:
    """schema.org LocalBusiness; fields the order does not have are left out."""
    contact = order.contact
    data: dict[str, Any] = {"@context": "https://schema.org", "@type": "LocalBusiness", "name": name}
    if description:
        data["description"] = description
    if base_url:
        data["url"] = base_url
    if contact.phone:
        data["telephone"] = squash(contact.phone)
    if contact.email:
        data["email"] = contact.email
    address = {"streetAddress": squash(contact.address), "addressLocality": squash(contact.city)}
    address = {key: value for key, value in address.items() if value}
    if address:
        data["address"] = {"@type": "PostalAddress", **address}
    if contact.city:
        data["areaServed"] = squash(contact.city)
    services = [squash(s) for s in order.services if squash(s)]
    if services:
        data["makesOffer"] = [
            {"@type": "Offer", "itemOffered": {"@type": "Service", "name": s}} for s in services
        ]
    return data


def json_ld_script(data: dict[str, Any]) -> str:
    """A <script type="application/ld+json"> that user text cannot break out of."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    text = text.replace("</", "<\\/").replace("<!--", "\\u003c!--")
    return f'<script type="application/ld+json">\n{text}\n</script>'


def page_url(path: str, base_url: str | None) -> str:
    """Absolute URL under ``base_url``, or the relative path when there is no base URL."""
    if base_url is None:
        return path
    base = base_url if base_url.endswith("/") else base_url + "/"
    return base if path == "index.html" else base + path


def sitemap_xml(paths: list[str], base_url: str | None) -> str:
    urls = "".join(f"  <url><loc>{escape(page_url(path, base_url))}</loc></url>\n" for path in paths)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{urls}</urlset>\n"
    )


def robots_txt(base_url: str | None) -> str:
    return f"User-agent: *\nAllow: /\n\nSitemap: {page_url('sitemap.xml', base_url)}\n"


def favicon_svg(primary_color: str, name: str) -> str:
    color = primary_color.lower()
    mark = escape(initials(name))
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" rx="14" fill="{color}"/>'
        f'<text x="32" y="42" text-anchor="middle" font-family="system-ui, Arial, sans-serif" '
        f'font-size="28" font-weight="700" fill="{on_color(color)}">{mark}</text></svg>\n'
    )
