"""Small, deterministic text helpers shared by the provider and the renderer."""

from __future__ import annotations

import re


def squash(text: str | None) -> str:
    """Collapse runs of whitespace and trim; None becomes ""."""
    return " ".join((text or "").split())


def clip(text: str | None, limit: int) -> str:
    """Fit ``text`` in ``limit`` characters, cutting at a word boundary and adding "…"."""
    text = squash(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def first_sentence(text: str | None) -> str:
    """The first sentence of ``text`` (or all of it when there is no sentence end)."""
    text = squash(text)
    match = re.search(r"[.!?](\s|$)", text)
    return text[: match.start() + 1] if match else text


def join_list(items: list[str], conjunction: str) -> str:
    """ "a", "a and b", "a, b and c" (``conjunction`` includes its spaces)."""
    items = [squash(item) for item in items if squash(item)]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + conjunction + items[-1]


def initials(name: str) -> str:
    """Up to two initials for a monogram ("Padaria Pão Quente" -> "PP")."""
    words = re.findall(r"[^\W_]+", name)
    return "".join(word[0] for word in words[:2]).upper() or "•"


def digits(text: str | None) -> str:
    """Only the digits of ``text`` (for wa.me links)."""
    return re.sub(r"\D", "", text or "")


def tel_href(phone: str) -> str:
    """A tel: URI keeping a leading "+" and the digits."""
    number = re.sub(r"[^\d+]", "", phone)
    return "tel:" + (number[0] + number[1:].replace("+", "") if number else "")


def inline(text: str) -> str:
    """Lower-case the first letter for use mid-sentence, unless it looks like an acronym ("TI")."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def capitalized(text: str) -> str:
    """Upper-case the first letter only."""
    return text[:1].upper() + text[1:]
