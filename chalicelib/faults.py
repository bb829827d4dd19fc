"""Named fault points in the phase path, inert unless SITEGEN_FAULTS enables them.

SITEGEN_FAULTS is a comma-separated list of:
  after_claim               crash (InjectedFault) at that point, every time
  after_claim@sitemap       ... only while running that phase (log writes also match by event:
                            during_log_write@generation_failed)
  once:after_claim@sitemap  ... only the first time (per process)
  exit:after_claim          the process dies there (os._exit, no cleanup)
  chaos:0.2                 each phase invocation dies (os._exit) with probability 0.2, at a random point

InjectedFault derives from BaseException: like a real crash, no `except Exception` in the app stops it.
"""

from __future__ import annotations

import os
import random

POINTS = (
    "before_claim",
    "after_claim",
    "after_ai_call",
    "before_commit",
    "after_commit",
    "after_send",
    "during_log_write",
)
_fired: set[str] = set()


class InjectedFault(BaseException):
    pass


def fault(point: str, *targets: str | None) -> None:
    spec = os.environ.get("SITEGEN_FAULTS")
    if not spec:
        return
    for item in spec.split(","):
        mode, _, target = item.strip().rpartition(":")
        if mode == "chaos":
            if random.random() < float(target) / len(POINTS):
                print(f'{{"level": "warning", "message": "chaos: worker exits at {point}"}}', flush=True)
                os._exit(70)
            continue
        name, _, only_phase = target.partition("@")
        if name != point or (only_phase and only_phase not in targets):
            continue
        if mode == "once":
            if item in _fired:
                continue
            _fired.add(item)
        if mode == "exit":
            os._exit(70)
        raise InjectedFault(f"injected fault at {point}" + (f" ({only_phase})" if only_phase else ""))
