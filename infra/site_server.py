"""Serve generated sites from the site bucket on their own origin, as CloudFront does in production:
`python -m infra.site_server --port 8001`. Adds a restrictive Content-Security-Policy and nosniff."""
from __future__ import annotations

import argparse
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

import boto3

from chalicelib.adapters.s3_sites import SITE_HEADERS_CSP

BUCKET = os.environ.get("SITEGEN_SITE_BUCKET", "")
s3 = boto3.client("s3")


class SiteHandler(BaseHTTPRequestHandler):
    server_version = "sitegen-sites"

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        key = unquote(urlsplit(self.path).path).lstrip("/")
        if key.endswith("/"):
            key += "index.html"
        if not key.startswith("sites/") or ".." in key.split("/"):
            return self._send(404, b"not found", "text/plain; charset=utf-8")
        try:
            obj = s3.get_object(Bucket=BUCKET, Key=key)
        except s3.exceptions.NoSuchKey:
            return self._send(404, b"not found", "text/plain; charset=utf-8")
        self._send(200, obj["Body"].read(), obj.get("ContentType", "application/octet-stream"))

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", SITE_HEADERS_CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        print(f"{self.address_string()} {format % args}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    ThreadingHTTPServer((args.host, args.port), SiteHandler).serve_forever()


if __name__ == "__main__":
    main()
