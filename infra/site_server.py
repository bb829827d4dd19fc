"""Serve generated sites from the site bucket on their own origin, as CloudFront does in production:
`python -m infra.site_server --port 8001`. Adds a restrictive Content-Security-Policy and nosniff.

Routing is that of the distribution's viewer-request function (infra/template.yaml `LiveRouter`; a
test runs both on the same cases):
- `/sites/<generation id>/...`: a version's own files (its preview), as they are;
- an order's live address, by host (`<order id>.<anything>`, e.g. `http://<order id>.localhost:8001/`:
  the site at the root of its host) or by path (`/o/<order id>/...`): the files of the order's live
  version, read from its pointer `live/<order id>.json` (CloudFront reads a KeyValueStore instead).
  A stylesheet or favicon asked for as `?v=<generation id>` comes from that version whatever is live
  by then: a page that was served just before a switch gets its own version's stylesheet.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import boto3

from chalicelib.adapters.s3_sites import SITE_HEADERS_CSP, S3LivePointer

BUCKET = os.environ.get("SITEGEN_SITE_BUCKET", "")
ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
LIVE_PATH = re.compile(r"^/o/([^/]+)(/.*)?$")
PINNED = (".css", ".svg")  # what a page asks for with ?v=<its version>


@dataclass(frozen=True)
class Route:
    key: str | None = None  # the bucket key to serve
    redirect: str | None = None  # or a location to send the browser to
    status: int = 200


def route(host: str, raw_path: str, live: Callable[[str], str | None]) -> Route:
    """Where a request goes. `live(order id)` reads the order's pointer (None: no live version)."""
    parts = urlsplit(raw_path)
    path = unquote(parts.path) or "/"
    if ".." in path.split("/"):
        return Route(status=404)
    if path.startswith("/sites/"):
        return Route(key=_index(path[1:]))
    label = host.split(".", 1)[0].lower() if "." in host else ""
    order, rest = (label, path) if ID.match(label) else (None, path)
    if order is None:
        match = LIVE_PATH.match(path)
        if match is None or not ID.match(match[1]):
            return Route(status=404)
        if match[2] is None:  # /o/<id>: the pages' relative links need the trailing slash
            return Route(redirect=f"/o/{match[1]}/", status=301)
        order, rest = match[1], match[2]
    pinned = parse_qs(parts.query).get("v", [""])[0]
    version = pinned if ID.match(pinned) and rest.endswith(PINNED) else live(order)
    if version is None:
        return Route(status=404)
    return Route(key=_index(f"sites/{version}{rest}"))


def _index(key: str) -> str:
    return key + "index.html" if key.endswith("/") else key


class SiteHandler(BaseHTTPRequestHandler):
    server_version = "sitegen-sites"
    s3: Any = None
    bucket = BUCKET

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self._serve(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        s3 = self.s3 or _client()
        pointer = S3LivePointer(s3, self.bucket)
        target = route(self.headers.get("Host", ""), self.path, pointer.get)
        if target.redirect:
            return self._send(
                target.status, b"", "text/plain; charset=utf-8", head, {"Location": target.redirect}
            )
        if target.key is None:
            return self._send(404, b"not found", "text/plain; charset=utf-8", head)
        try:
            obj = s3.get_object(Bucket=self.bucket, Key=target.key)
        except s3.exceptions.NoSuchKey:
            return self._send(404, b"not found", "text/plain; charset=utf-8", head)
        self._send(200, obj["Body"].read(), obj.get("ContentType", "application/octet-stream"), head)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        head: bool = False,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", SITE_HEADERS_CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-cache")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        print(f"{self.address_string()} {format % args}", flush=True)


_s3: Any = None


def _client() -> Any:
    global _s3
    if _s3 is None:
        _s3 = boto3.client("s3")
    return _s3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    ThreadingHTTPServer((args.host, args.port), SiteHandler).serve_forever()


if __name__ == "__main__":
    main()
