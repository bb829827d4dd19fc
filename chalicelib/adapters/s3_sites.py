"""Generated sites in S3, served from SITEGEN_SITE_BASE_URL (CloudFront in production)."""
from __future__ import annotations

from typing import Any

# Served pages get a restrictive policy: no scripts except inline JSON-LD data, nothing external.
SITE_HEADERS_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self' mailto:; "
    "base-uri 'none'; frame-ancestors *"
)


class S3SiteStore:
    def __init__(self, client: Any, bucket: str, base_url: str) -> None:
        self._client = client
        self._bucket = bucket
        self._base_url = base_url.rstrip("/")

    def publish(self, prefix: str, files: list[tuple[str, str, bytes]]) -> str:
        for path, content_type, body in files:
            self._client.put_object(
                Bucket=self._bucket, Key=f"{prefix}/{path}", Body=body, ContentType=content_type,
                CacheControl="no-cache",
            )
        return f"{self._base_url}/{prefix}/index.html"

    def ping(self) -> None:
        self._client.head_bucket(Bucket=self._bucket)
