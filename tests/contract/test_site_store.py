"""The SiteStore and LivePointer contracts, for the fakes and for S3."""

from __future__ import annotations

import pytest

from tests.support.contract_harness import BASE_URL, PointerHarness, SiteHarness

PREFIX = "sites/3f1c9a52-8d0e-4b7a-9a41-0c2b8e5d7f10"
ORDER = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


def test_publish_writes_every_file_with_the_type_its_extension_gives(sites: SiteHarness) -> None:
    sites.store.ping()  # the bucket is there
    url = sites.store.publish(
        PREFIX, [("index.html", "text/plain", b"<h1>hi</h1>"), ("styles.css", "text/html", b"a{}")]
    )
    assert url == f"{BASE_URL}/{PREFIX}/index.html" == sites.store.url(PREFIX)
    index, css = sites.read(f"{PREFIX}/index.html"), sites.read(f"{PREFIX}/styles.css")
    assert index is not None and index[0].startswith("text/html") and index[1] == b"<h1>hi</h1>"
    assert css is not None and css[0].startswith("text/css")


def test_publish_never_replaces_a_file(sites: SiteHarness) -> None:
    sites.store.publish(PREFIX, [("index.html", "text/html", b"first")])
    sites.store.publish(PREFIX, [("index.html", "text/html", b"second"), ("about.html", "text/html", b"a")])
    index = sites.read(f"{PREFIX}/index.html")
    assert index is not None and index[1] == b"first"
    assert sites.read(f"{PREFIX}/about.html") is not None


@pytest.mark.parametrize("path", ["../escape.html", "/etc/passwd.html", "tool.exe"])
def test_a_path_that_could_leave_the_prefix_or_a_bad_type_writes_nothing(
    sites: SiteHarness, path: str
) -> None:
    with pytest.raises(ValueError, match="refusing to publish"):
        sites.store.publish(PREFIX, [("index.html", "text/html", b"ok"), (path, "text/html", b"bad")])
    assert sites.read(f"{PREFIX}/index.html") is None


def test_delete_removes_the_files_and_counts_them(sites: SiteHarness) -> None:
    sites.store.publish(PREFIX, [("index.html", "text/html", b"i"), ("about.html", "text/html", b"a")])
    assert sites.store.delete(PREFIX, ["index.html", "about.html"]) == 2
    assert sites.read(f"{PREFIX}/index.html") is None and sites.read(f"{PREFIX}/about.html") is None
    assert sites.store.delete(PREFIX, ["index.html"]) == 1  # already gone: not an error


def test_the_live_pointer_switches_atomically_per_order(pointers: PointerHarness) -> None:
    assert pointers.pointer.get(ORDER) is None
    pointers.pointer.put(ORDER, "gen-1")
    pointers.pointer.put("another-order", "gen-9")
    assert pointers.pointer.get(ORDER) == "gen-1"
    pointers.pointer.put(ORDER, "gen-2")
    assert pointers.pointer.get(ORDER) == "gen-2"
    assert pointers.pointer.get("another-order") == "gen-9"
