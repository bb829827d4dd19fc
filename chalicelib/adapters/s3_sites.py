"""Generated sites in S3, served from SITEGEN_SITE_BASE_URL (CloudFront in production)."""
from __future__ import annotations

from typing import Any

from chalicelib.website.files import content_type_for, path_problem

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
        """Each file is served with the type its extension gives (website/files.py), whatever type it came
        with; a path that could leave `prefix`, or a type a site may not have, is refused before any write."""
        typed = []
        for path, _, body in files:
            content_type = content_type_for(path)
            problem = path_problem(path) or (None if content_type else "a type a site may not have")
            if problem:
                raise ValueError(f"refusing to publish {path[:120]!r}: {problem}")
            typed.append((path, content_type, body))
        for path, content_type, body in typed:
            self._client.put_object(
                Bucket=self._bucket, Key=f"{prefix}/{path}", Body=body, ContentType=content_type,
                CacheControl="no-cache",
            )
        return f"{self._base_url}/{prefix}/index.html"

    def ping(self) -> None:
        self._client.head_bucket(Bucket=self._bucket)
