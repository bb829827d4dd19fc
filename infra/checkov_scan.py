"""Scan a packaged template with checkov, offline: `.venv-checkov/bin/python infra/checkov_scan.py sam.yaml`
prints checkov's JSON report (exit code 0 whatever it found: tests/deploy/test_checkov.py judges the
failures against the accepted list). More arguments go to checkov, e.g. `--output cli` to read it.

It runs in its own virtualenv (`make setup` makes `.venv-checkov` from requirements-checkov.txt) because
checkov pins an older boto3 than the app's. Standard library and checkov only.

checkov would ask its vendor's platform for guidelines and check metadata, and PyPI for a newer
release; unreachable, it only warns. Here it is told not to (no API key, `--skip-download`,
BC_SKIP_MAPPING, CKV_SKIP_PACKAGE_UPDATE_CHECK), and every socket is refused in this process: an attempt
to reach the network is printed to stderr as `network attempt: ...` and makes the exit code 3, so
the scan cannot depend on a network, hang on one, or pass with a warning because one was missing.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any, NoReturn

OFFLINE_ENV = {"BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE", "LOG_LEVEL": "WARNING"}
NO_PLATFORM = ("BC_API_KEY", "CKV_API_KEY", "PRISMA_API_URL", "BC_API_URL")
NETWORK_ATTEMPT = 3
attempts: list[str] = []


def refuse(what: str) -> Any:
    def refused(*args: Any, **kwargs: Any) -> NoReturn:
        target = next((a for a in args if not isinstance(a, socket.socket)), "?")
        attempts.append(f"{what} {target!r}")
        print(f"network attempt: {what} {target!r}", file=sys.stderr, flush=True)
        raise OSError(f"checkov_scan: no network ({what})")

    return refused


def offline() -> None:
    for name, value in OFFLINE_ENV.items():
        os.environ[name] = value
    for name in NO_PLATFORM:
        os.environ.pop(name, None)
    socket.socket.connect = refuse("connect")  # type: ignore[method-assign]  # deliberate: no network
    socket.socket.connect_ex = refuse("connect")  # type: ignore[method-assign]  # deliberate: no network
    socket.create_connection = refuse("connect")
    socket.getaddrinfo = refuse("resolve")
    socket.gethostbyname = refuse("resolve")


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit(f"usage: {sys.argv[0]} <template> [checkov arguments]")
    offline()
    from checkov.main import Checkov

    extra = sys.argv[2:] or ["--output", "json"]
    argv = [
        "--file",
        sys.argv[1],
        "--framework",
        "cloudformation",
        "--skip-download",
        "--soft-fail",
        "--compact",
        *extra,
    ]
    code = Checkov(argv).run()
    sys.stdout.flush()
    sys.exit(NETWORK_ATTEMPT if attempts else code or 0)


if __name__ == "__main__":
    main()
