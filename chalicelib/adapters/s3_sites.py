"""Generated sites in S3, served from SITEGEN_SITE_BASE_URL (CloudFront in production), and the
pointer that says which version of an order's site is live."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.website.files import typed_files

# Served pages get a restrictive policy: no scripts except inline JSON-LD data, nothing external.
# connect-src 'self': audit tools (Lighthouse) fetch /robots.txt from the page; the sites make no
# requests of their own.
SITE_HEADERS_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self' mailto:; base-uri 'none'; frame-ancestors *"
)
POINTER_PREFIX = "live/"  # live/<order id>.json: the local stack's stand-in for CloudFront's KeyValueStore


class S3SiteStore:
    def __init__(self, client: Any, bucket: str, base_url: str) -> None:
        self._client = client
        self._bucket = bucket
        self._base_url = base_url.rstrip("/")

    def publish(self, prefix: str, files: list[tuple[str, str, bytes]]) -> str:
        """Each file is served with the type its extension gives (website/files.py), whatever type it came
        with; a path that could leave `prefix`, or a type a site may not have, is refused before any write.
        A version's files are written once: `If-None-Match: *` makes S3 refuse to replace a key. A refusal
        means an earlier attempt of this same publish wrote the file (from the same stored code output),
        so it is skipped."""
        for path, content_type, body in typed_files(files):
            try:
                self._client.put_object(
                    Bucket=self._bucket,
                    Key=f"{prefix}/{path}",
                    Body=body,
                    ContentType=content_type,
                    CacheControl="no-cache",
                    IfNoneMatch="*",
                )
            except self._client.exceptions.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "PreconditionFailed":
                    raise
        return self.url(prefix)

    def url(self, prefix: str) -> str:
        return f"{self._base_url}/{prefix}/index.html"

    def delete(self, prefix: str, paths: list[str]) -> int:
        """Delete a version's files (keep-the-last-N), one DeleteObject a file: a site has at most 40, S3
        does not bill deletes, and each key is authorized on its own (`s3:DeleteObject` on `sites/*`).
        Returns how many were deleted; raises at the first that could not be."""
        for path in paths:
            self._client.delete_object(Bucket=self._bucket, Key=f"{prefix}/{path}")
        return len(paths)

    def ping(self) -> None:
        self._client.head_bucket(Bucket=self._bucket)


class S3LivePointer:
    """order -> live version as one small object per order, `live/<order id>.json`. A PutObject is
    atomic: a reader (the local site server) gets the old or the new pointer, never a mix."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def put(self, order_id: str, generation_id: str) -> None:
        body = json.dumps({"generation_id": generation_id, "prefix": f"sites/{generation_id}"}).encode()
        self._client.put_object(
            Bucket=self._bucket,
            Key=f"{POINTER_PREFIX}{order_id}.json",
            Body=body,
            ContentType="application/json",
            CacheControl="no-cache",
        )

    def get(self, order_id: str) -> str | None:
        try:
            obj = self._client.get_object(Bucket=self._bucket, Key=f"{POINTER_PREFIX}{order_id}.json")
        except self._client.exceptions.NoSuchKey:
            return None
        return str(json.loads(obj["Body"].read())["generation_id"])


class KvsLivePointer:
    """order -> live version in a CloudFront KeyValueStore, read by the distribution's viewer-request
    function (infra/template.yaml LiveRouter). One PutKey switches an order atomically. The KVS API
    signs with SigV4A, which botocore does only with awscrt installed (requirements.txt).
    PutKey needs the store's current ETag (optimistic concurrency over the whole store): a write that
    raced another one gets a conflict and is tried again with the new ETag."""

    ATTEMPTS = 5

    def __init__(self, client: Any, arn: str) -> None:
        self._client = client
        self._arn = arn

    def put(self, order_id: str, generation_id: str) -> None:
        for attempt in range(self.ATTEMPTS):
            etag = self._client.describe_key_value_store(KvsARN=self._arn)["ETag"]
            try:
                self._client.put_key(KvsARN=self._arn, Key=order_id, Value=generation_id, IfMatch=etag)
                return
            except self._client.exceptions.ConflictException:
                if attempt == self.ATTEMPTS - 1:
                    raise

    def get(self, order_id: str) -> str | None:
        try:
            return str(self._client.get_key(KvsARN=self._arn, Key=order_id)["Value"])
        except self._client.exceptions.ResourceNotFoundException:
            return None
