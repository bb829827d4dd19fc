"""WCAG colour maths for readable text on brand colours."""

from __future__ import annotations

WHITE = "#ffffff"
NEAR_BLACK = "#111827"
AA_NORMAL = 4.5


def rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def to_hex(red: float, green: float, blue: float) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in (red, green, blue))


def luminance(color: str) -> float:
    """WCAG 2 relative luminance."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def on_color(background: str) -> str:
    """White or near-black, whichever reads better on ``background``."""
    return WHITE if contrast(background, WHITE) >= contrast(background, NEAR_BLACK) else NEAR_BLACK


def mix(color: str, other: str, weight: float) -> str:
    """``weight`` of ``other`` blended into ``color`` (0 = color, 1 = other)."""
    a, b = rgb(color), rgb(other)
    return to_hex(*(x + (y - x) * weight for x, y in zip(a, b, strict=False)))


def ink(color: str, background: str = WHITE) -> str:
    """``color`` darkened just enough to be readable as text on ``background`` (AA, 4.5:1)."""
    for step in range(11):
        candidate = mix(color, "#000000", step / 10)
        if contrast(candidate, background) >= AA_NORMAL:
            return candidate
    return NEAR_BLACK
