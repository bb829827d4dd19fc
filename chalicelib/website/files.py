"""What files a generated site may have: safe paths, a fixed content type per extension, size limits.

The model chooses a site's paths and bodies, never how they are served: the type comes from the
extension (this table), and a path can only name a place under the site's own prefix.
"""

from __future__ import annotations

import posixpath
import re

MAX_FILE_BYTES = 256 * 1024  # a generated page is 6-40 KB; the parser's time grows with the size
MAX_SITE_BYTES = 1024 * 1024  # checked before any file is parsed
MAX_PATH_CHARS = 120
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
}
SCRIPTABLE = frozenset({".html", ".htm", ".svg", ".xml"})  # what a browser may run script in: all checked
_PATH_CHARS = re.compile(r"^[a-z0-9._/-]+$")


def extension(path: str) -> str:
    return posixpath.splitext(path)[1].lower()


def content_type_for(path: str) -> str | None:
    """The type a file is served with, from its extension; None for a type a site may not have."""
    return CONTENT_TYPES.get(extension(path))


def path_problem(path: str) -> str | None:
    """Why `path` may not be a site file's path, or None. Paths stay under the site's prefix."""
    if not path or len(path) > MAX_PATH_CHARS:
        return f"path must be 1 to {MAX_PATH_CHARS} characters"
    if path.startswith("/"):
        return "path must not start with /"
    if "//" in path:
        return "path must not contain //"
    if any(segment in (".", "..") for segment in path.split("/")):
        return 'path must not contain "." or ".." segments'
    if path.endswith("/"):
        return "path must name a file, not a folder"
    if not _PATH_CHARS.match(path):
        return "path may use only a-z, 0-9, '.', '_', '-' and '/'"
    return None


def typed_files(files: list[tuple[str, str, bytes]]) -> list[tuple[str, str, bytes]]:
    """(path, type, body) with the type the path's extension gives, whatever type a file came with;
    ValueError, before anything is written, for a path that could leave the site's prefix or a type a
    site may not have. What every site store does first."""
    typed = []
    for path, _, body in files:
        content_type, problem = content_type_for(path), path_problem(path)
        if problem or content_type is None:
            raise ValueError(f"refusing to publish {path[:120]!r}: {problem or 'a type a site may not have'}")
        typed.append((path, content_type, body))
    return typed
