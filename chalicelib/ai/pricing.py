"""USD per 1M input/output tokens, per model, in one table; override or extend with SITEGEN_AI_PRICES.

SITEGEN_AI_PRICES is JSON: {"model-id": [input, output]} or {"model-id": {"input": x, "output": y}}.
A model id matches its exact entry or else the longest entry it starts with (dated snapshots,
"-latest" aliases). Unknown models cost None: unknown, not free.
"""

from __future__ import annotations

import json
import os
import sys
from functools import lru_cache

Price = tuple[float, float]

PRICES: dict[str, Price] = {
    # OpenAI
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "o4-mini": (1.10, 4.40),
    # Anthropic
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-opus-4": (15.00, 75.00),
    "claude-opus-4-5": (5.00, 25.00),
    # Cloudflare Workers AI (billed in neurons; these are Cloudflare's per-token equivalents)
    "@cf/meta/llama-3.1-8b-instruct": (0.28, 0.83),
    "@cf/meta/llama-3.1-8b-instruct-fast": (0.05, 0.38),
    "@cf/meta/llama-3.3-70b-instruct-fp8-fast": (0.29, 2.25),
    "@cf/mistralai/mistral-small-3.1-24b-instruct": (0.35, 0.56),
    # Offline
    "template-v1": (0.0, 0.0),
}


@lru_cache(maxsize=4)
def _overrides(raw: str) -> dict[str, Price]:
    try:
        data = json.loads(raw)
        return {
            str(model): (float(v["input"]), float(v["output"]))
            if isinstance(v, dict)
            else (float(v[0]), float(v[1]))
            for model, v in data.items()
        }
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        print(
            json.dumps(
                {
                    "level": "warning",
                    "message": "SITEGEN_AI_PRICES ignored: not valid JSON prices",
                    "error": type(exc).__name__,
                }
            ),
            file=sys.stdout,
            flush=True,
        )
        return {}


def price_table() -> dict[str, Price]:
    raw = os.environ.get("SITEGEN_AI_PRICES", "").strip()
    return {**PRICES, **_overrides(raw)} if raw else dict(PRICES)


def price_of(model: str | None) -> Price | None:
    if not model:
        return None
    table = price_table()
    if model in table:
        return table[model]
    matches = [name for name in table if model.startswith(name)]
    return table[max(matches, key=len)] if matches else None


def estimate_cost(model: str | None, tokens_in: int, tokens_out: int) -> float | None:
    """USD for one call (or a sum of calls), rounded to a millionth of a dollar; None if unpriced."""
    price = price_of(model)
    if price is None:
        return None
    return round((tokens_in * price[0] + tokens_out * price[1]) / 1_000_000, 6)
