"""`chalice local`, minus the echo of the Authorization header: `python -m infra.chalice_local --port P`.

Chalice's API Gateway emulation answers a request for a path that matches no route with a 403; when
the request carries an `Authorization` header, the body repeats that header whole ("... Authorization
header requires 'Credential' parameter ... Authorization=Bearer <token>"), as API Gateway's default
MISSING_AUTHENTICATION_TOKEN gateway response does. A client with a typo in a URL then gets its API
token back in an error body, which proxies, browser consoles and CRM logs keep.

This runs chalice's own CLI (`chalice local --no-autoreload`, same options, same server, same stage
config) with one change: a request that matches no route gets a fixed 404
`{"code": "not_found", "message": ..., "details": null}` (the API's error shape) that never contains
anything from the request. Production needs the same answer from API Gateway: a GatewayResponse for
MISSING_AUTHENTICATION_TOKEN with a static body (see tests/integration/test_no_secrets.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from chalice import local

ROOT = Path(__file__).resolve().parents[1]
NO_ROUTE = json.dumps(
    {"code": "not_found", "message": "no route matches this method and path", "details": None}
).encode()


class NoRoute(local.LocalGatewayException):
    CODE = 404


class QuietGateway(local.LocalGateway):
    """LocalGateway whose answer to an unknown route carries nothing from the request."""

    def handle_request(self, method: str, path: str, headers: dict[str, Any], body: bytes | None) -> Any:
        try:
            self.event_converter.create_lambda_event(method=method, path=path, headers={}, body=None)
        except ValueError:  # what LocalGateway.handle_request turns into the echoing 403
            raise NoRoute(
                {"Content-Type": "application/json", "x-amzn-ErrorType": "NotFoundException"}, NO_ROUTE
            ) from None
        return super().handle_request(method, path, headers, body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="local")
    parser.add_argument("--project-dir", default=str(ROOT))
    parser.add_argument(
        "--no-autoreload",
        action="store_true",
        help="accepted for `chalice local` parity; this launcher never reloads",
    )
    args = parser.parse_args(argv)
    # ChaliceRequestHandler builds a `local.LocalGateway` per request, looked up by name at that time.
    local.LocalGateway = QuietGateway  # type: ignore[misc]  # deliberate patch of chalice local's class

    from chalice.cli import main as chalice_main  # what the `chalice` console script runs

    sys.argv = [
        "chalice",
        "--project-dir",
        args.project_dir,
        "local",
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--stage",
        args.stage,
        "--no-autoreload",
    ]
    return chalice_main()


if __name__ == "__main__":
    sys.exit(main())
