"""The model simulator's faults: which one a request gets (seeded, so a run can be replayed), and the
answers they spoil. Pure apart from the seeded random source.

Each fault has a rate in 0..1; every request draws once per fault, in FAULTS order, and the first one
drawn that applies wins:
- `rate_429`: HTTP 429 with `Retry-After: 1`, at once.
- `rate_500`: HTTP 500, at once.
- `rate_hang`: no answer at all: the connection stays open until the client gives up (or the
  simulator stops).
- `rate_bad_json`: an answer that breaks the schema (a required field left out; for Chat Completions
  and Workers AI sometimes text that is not JSON). Only on the FIRST attempt of a conversation, never
  on a JSON-repair turn, so the client's one repair round always succeeds.
- `rate_a11y`: PageMarkup only: HTML with an accessibility error (the first <h2> becomes an <h4>, a
  skipped heading level). Only when the request carries no `findings_to_fix`, so the repair round
  after the review's findings succeeds. The code part's own check finds it.
- `rate_vague_link`: PageMarkup only, same conditions: a link whose text says nothing of where it
  goes ("clique aqui"). No deterministic check flags it; the simulated reviewer does: a Review answer
  reports an error for every page of the site under review that holds such a link (`review_notes`),
  so the review sends those pages back to the coding model (the review rounds), and the rewrite,
  which carries the findings, comes back clean.
"""

from __future__ import annotations

import json
import random
import re
import threading
from typing import Any

FAULTS = ("rate_429", "rate_500", "rate_hang", "rate_bad_json", "rate_a11y", "rate_vague_link")


class Faults:
    def __init__(self, seed: int = 0, **rates: float) -> None:
        self.rates = dict.fromkeys(FAULTS, 0.0)
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.set(None, **rates)

    def set(self, seed: int | None = None, **rates: float) -> dict[str, float]:
        """Change some rates (and reseed, if asked). Raises ValueError for an unknown fault or a bad rate."""
        unknown = set(rates) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown fault(s) {', '.join(sorted(unknown))}; known: {', '.join(FAULTS)}")
        for name, rate in rates.items():
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
                raise ValueError(f"{name} must be a number from 0 to 1, not {rate!r}")
        with self._lock:
            self.rates.update({name: float(rate) for name, rate in rates.items()})
            if seed is not None:
                self._random.seed(seed)
            return dict(self.rates)

    def draw(self, *, repair: bool, markup: bool, fixing: bool) -> str | None:
        """The fault this request gets, if any (without the `rate_` prefix)."""
        with self._lock:
            drawn = [name for name in FAULTS if self._random.random() < self.rates[name]]
            variant = self._random.random()
        slip = markup and not fixing
        applies = {"rate_bad_json": not repair, "rate_a11y": slip, "rate_vague_link": slip}
        hit = next((name for name in drawn if applies.get(name, True)), None)
        if hit == "rate_bad_json":
            return "bad_json:not_json" if variant < 0.3 else "bad_json:missing_field"
        return hit.removeprefix("rate_") if hit else None


def break_schema(answer: dict[str, Any], schema: dict[str, Any] | None, variant: str) -> dict[str, Any] | str:
    """An answer that fails validation: a required field left out, or (`not_json`) cut-off prose."""
    if variant == "not_json":
        text = json.dumps(answer, ensure_ascii=False)
        return "Sure! Here is the JSON you asked for:\n{" + text[1 : len(text) // 2]
    required = (schema or {}).get("required") or list(answer)
    field = next((name for name in required if name in answer), next(iter(answer), None))
    return {k: v for k, v in answer.items() if k != field}


_FIRST_H2 = re.compile(r"<h2(\b[^>]*)>(.*?)</h2>", re.S)


def break_a11y(answer: dict[str, Any]) -> dict[str, Any]:
    """A PageMarkup answer with a skipped heading level: its first <h2> as an <h4> (or an <h4> added)."""
    html = str(answer.get("main_html", ""))
    broken, count = _FIRST_H2.subn(r"<h4\1>\2</h4>", html, count=1)
    if not count:
        broken = html + "\n<h4>More</h4>"
    return {**answer, "main_html": broken}


VAGUE_LINK = '<p><a href="index.html">clique aqui</a></p>'
VAGUE_LINK_FINDING = 'the link text "clique aqui" does not say where the link goes (WCAG 2.4.4)'


def break_link_text(answer: dict[str, Any]) -> dict[str, Any]:
    """A PageMarkup answer with a link whose text says nothing (to the home page, so links stay valid)."""
    return {**answer, "main_html": str(answer.get("main_html", "")) + "\n" + VAGUE_LINK}


def review_notes(answer: dict[str, Any], code: dict[str, Any] | None) -> dict[str, Any]:
    """The simulated reviewer: a Review answer with an error for each HTML file of the site under
    review (`inputs.code`) that holds a vague link, as a hosted reviewer would flag it."""
    flagged = [
        f["path"]
        for f in (code or {}).get("files", [])
        if str(f.get("path", "")).endswith(".html") and VAGUE_LINK in str(f.get("body", ""))
    ]
    if not flagged:
        return answer
    found = [{"severity": "error", "file": path, "message": VAGUE_LINK_FINDING} for path in flagged]
    return {**answer, "passed": False, "findings": [*answer.get("findings", []), *found]}
