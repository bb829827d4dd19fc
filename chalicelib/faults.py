"""Named fault points, inert unless SITEGEN_FAULTS enables them.

SITEGEN_FAULTS="after_claim,after_commit"  -> raise InjectedFault at those points
SITEGEN_FAULTS="exit:after_claim"          -> the process dies there (os._exit, no cleanup)
SITEGEN_FAULTS="chaos:0.2"                 -> at every point, die with probability 0.2
"""
from __future__ import annotations

import os
import random

POINTS = (
    "before_claim", "after_claim", "after_ai_call", "before_commit", "after_commit",
    "after_send", "during_log_write",
)


class InjectedFault(RuntimeError):
    pass


def _spec() -> str:
    return os.environ.get("SITEGEN_FAULTS", "")


def fault(point: str) -> None:
    spec = _spec()
    if not spec:
        return
    if spec.startswith("chaos:"):
        if random.random() < float(spec.split(":", 1)[1]):
            print(f'{{"level": "warning", "message": "chaos: exiting at fault point {point}"}}', flush=True)
            os._exit(70)
        return
    for item in spec.split(","):
        mode, _, name = item.strip().rpartition(":")
        if name == point:
            if mode == "exit":
                os._exit(70)
            raise InjectedFault(f"injected fault at {point}")
