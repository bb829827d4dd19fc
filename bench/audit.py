"""The review gate on hostile input (issue 12): how long the audit of one page takes on HTML that once
made it quadratic (tests/support/sites.py HOSTILE_HTML, each in the standard site's index.html), and a
site over the size limit, which is refused before anything is parsed. Pure CPU: no stack, no I/O."""

from __future__ import annotations

import timeit
from typing import Any

MAX_AUDIT_S = 1.0  # a hostile page of up to the file limit; the worker's timeout is 120 s
MAX_OVERSIZE_MS = 50.0  # refused by adding lengths, before any parsing


def _best(fn: Any, repeats: int) -> float:
    return min(timeit.repeat(fn, number=1, repeat=repeats))


def run(repeats: int) -> dict[str, Any]:
    from chalicelib.phases.outputs import SiteFile, SiteFiles
    from chalicelib.website.checks import check_site
    from chalicelib.website.files import MAX_SITE_BYTES
    from tests.support.sites import HOSTILE_HTML, PT_ORDER, body, build, mutate

    site = build(PT_ORDER)
    inputs = {}
    for unit, count in HOSTILE_HTML.items():
        hostile = mutate(site, "index.html", "</html>", unit * count)
        inputs[f"{unit!r} x {count}"] = {
            "bytes": len(body(hostile, "index.html").encode()),
            "seconds": round(_best(lambda h=hostile: check_site(h), repeats), 3),
        }
    clean_s = _best(lambda: check_site(site), repeats)
    pages = [SiteFile(path=f"p{n}.html", content_type="text/html", body="<a" * 100_000) for n in range(6)]
    oversize = SiteFiles(files=[*site.files, *pages])
    assert sum(len(f.body) for f in oversize.files) > MAX_SITE_BYTES
    worst = max(x["seconds"] for x in inputs.values())
    return {
        "repeats": repeats,
        "hostile": inputs,
        "worst_hostile_s": worst,
        "clean_site_s": round(clean_s, 3),
        "oversize_site_ms": round(_best(lambda: check_site(oversize), repeats) * 1000, 2),
        "budget": {"audit_s": MAX_AUDIT_S, "oversize_ms": MAX_OVERSIZE_MS},
    }
