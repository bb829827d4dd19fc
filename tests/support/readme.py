"""Code the README prints, run as it is printed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_verify():
    """The README's 10-line verification snippet, run as it is printed there."""
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"<!-- webhook-verify -->\n```python\n(.*?)```", readme, re.S)
    assert found, "the README has no webhook-verify snippet"
    snippet = found.group(1)
    assert len(snippet.strip().splitlines()) <= 10
    scope: dict = {}
    exec(snippet, scope)  # noqa: S102 - the README's own code
    return scope["verify"]
