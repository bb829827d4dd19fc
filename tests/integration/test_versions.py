"""Versions of an order's site: one live address, auto_publish, publish and rollback, the pointer the
serving side follows, keep-the-last-N. Chalice test client, real Postgres, moto's S3 and SQS."""

from __future__ import annotations

import json
import re

import pytest

from chalicelib.adapters.s3_sites import S3SiteStore
from tests.support.orders import ORDER, generate
from tests.support.stack import drain, logs


def pointer(aws, order_id: str) -> str | None:
    try:
        body = aws.s3.get_object(Bucket=aws.resources.bucket, Key=f"live/{order_id}.json")["Body"].read()
    except aws.s3.exceptions.NoSuchKey:
        return None
    return json.loads(body)["generation_id"]


def file(aws, generation_id: str, path: str) -> str:
    return (
        aws.s3.get_object(Bucket=aws.resources.bucket, Key=f"sites/{generation_id}/{path}")["Body"]
        .read()
        .decode()
    )


def keys(aws, generation_id: str) -> list[str]:
    found = aws.s3.list_objects_v2(Bucket=aws.resources.bucket, Prefix=f"sites/{generation_id}/")
    return [o["Key"] for o in found.get("Contents", [])]


def test_a_success_goes_live_at_the_orders_one_address(client, aws, deps):
    order = client.json("POST", "/orders", ORDER, expect=201)
    live_url = f"https://sites.test/{aws.resources.bucket}/o/{order['id']}/"
    assert (
        order["auto_publish"] is True
        and order["live_url"] == live_url
        and order["live_generation_id"] is None
    )
    assert client.json("GET", f"/orders/{order['id']}/versions")["items"] == []

    first = generate(client, aws, order["id"])
    second = generate(client, aws, order["id"])
    assert client.json("GET", f"/orders/{order['id']}")["live_url"] == live_url  # the same address, always
    assert pointer(aws, order["id"]) == second["id"]
    versions = client.json("GET", f"/orders/{order['id']}/versions")
    assert versions["live_url"] == live_url and versions["live_generation_id"] == second["id"]
    assert versions["serving_generation_id"] == second["id"] and versions["switch_pending"] is False
    assert [(v["generation_id"], v["number"], v["live"]) for v in versions["items"]] == [
        (second["id"], 2, True),
        (first["id"], 1, False),
    ]
    newest = versions["items"][0]
    assert newest["pages"] == ["index.html", "servicos.html", "sobre.html", "contato.html"]
    assert newest["preview_url"] == second["site_url"] and newest["preview_url"].endswith(
        f"/sites/{second['id']}/index.html"
    )
    assert newest["published_at"] and newest["finished_at"] and newest["files_deleted_at"] is None
    assert versions["items"][1]["published_at"]  # it was live before the second one
    events = [line["event"] for line in logs(client, second["id"])]
    assert events[-2:] == ["version_published", "generation_succeeded"]
    assert live_url in next(
        line["message"] for line in logs(client, second["id"]) if line["event"] == "generation_succeeded"
    )


def test_every_version_is_built_for_the_live_address(client, aws, deps):
    order = client.json("POST", "/orders", ORDER, expect=201)
    gen = generate(client, aws, order["id"])
    live = f"https://sites.test/{aws.resources.bucket}/o/{order['id']}/"
    robots = file(aws, gen["id"], "robots.txt")
    assert f"Sitemap: {live}sitemap.xml" in robots  # absolute, as the sitemaps protocol requires
    locs = re.findall(r"<loc>([^<]+)</loc>", file(aws, gen["id"], "sitemap.xml"))
    assert locs == [live, f"{live}servicos.html", f"{live}sobre.html", f"{live}contato.html"]
    page = file(aws, gen["id"], "servicos.html")
    assert f'<meta property="og:url" content="{live}servicos.html">' in page
    # the page asks for its own version's stylesheet, whatever is live when the browser fetches it
    assert f'href="styles.css?v={gen["id"]}"' in page and f'href="favicon.svg?v={gen["id"]}"' in page
    assert 'href="servicos.html"' in page  # links between pages stay relative: the preview works too


def test_with_auto_publish_off_a_version_waits_as_a_preview_until_published(client, aws, deps):
    order = client.json("POST", "/orders", {**ORDER, "auto_publish": False}, expect=201)
    assert order["auto_publish"] is False
    gen = generate(client, aws, order["id"])
    assert pointer(aws, order["id"]) is None
    versions = client.json("GET", f"/orders/{order['id']}/versions")
    assert versions["live_generation_id"] is None and versions["items"][0]["live"] is False
    assert versions["items"][0]["published_at"] is None and versions["items"][0]["preview_url"]
    assert any(
        line["event"] == "generation_succeeded" and "auto_publish is off" in line["message"]
        for line in logs(client, gen["id"])
    )

    published = client.json("POST", f"/orders/{order['id']}/versions/{gen['id']}/publish")
    assert published["live_generation_id"] == gen["id"] and published["items"][0]["live"] is True
    assert pointer(aws, order["id"]) == gen["id"]
    assert client.json("GET", f"/orders/{order['id']}")["live_generation_id"] == gen["id"]
    assert "version_published" in [line["event"] for line in logs(client, gen["id"])]


def test_rollback_is_publishing_an_older_version_and_publishing_the_live_one_changes_nothing(
    client, aws, deps
):
    order = client.json("POST", "/orders", ORDER, expect=201)
    first = generate(client, aws, order["id"])
    second = generate(client, aws, order["id"])
    rolled = client.json("POST", f"/orders/{order['id']}/versions/{first['id']}/publish")
    assert rolled["live_generation_id"] == first["id"] and pointer(aws, order["id"]) == first["id"]
    assert [v["live"] for v in rolled["items"]] == [False, True]
    before = rolled["items"][1]["published_at"]
    again = client.json("POST", f"/orders/{order['id']}/versions/{first['id']}/publish")
    assert again["items"][1]["published_at"] == before and pointer(aws, order["id"]) == first["id"]
    forward = client.json("POST", f"/orders/{order['id']}/versions/{second['id']}/publish")
    assert forward["live_generation_id"] == second["id"] and pointer(aws, order["id"]) == second["id"]
    # files of both versions are still there, untouched
    assert len(keys(aws, first["id"])) == len(keys(aws, second["id"])) == 8


def test_turning_auto_publish_off_keeps_the_live_version_when_a_new_one_succeeds(client, aws, deps):
    order = client.json("POST", "/orders", ORDER, expect=201)
    first = generate(client, aws, order["id"])
    changed = client.json("PATCH", f"/orders/{order['id']}", {"auto_publish": False})
    assert changed["auto_publish"] is False and changed["live_generation_id"] == first["id"]
    generate(client, aws, order["id"])
    assert pointer(aws, order["id"]) == first["id"]
    assert client.json("GET", f"/orders/{order['id']}/versions")["live_generation_id"] == first["id"]


def test_publish_and_patch_refuse_what_is_not_there_or_not_a_version(client, aws, deps):
    order = client.json("POST", "/orders", {**ORDER, "auto_publish": False}, expect=201)
    other = client.json("POST", "/orders", ORDER, expect=201)
    missing = "00000000-0000-4000-8000-00000000abcd"
    gen = client.json("POST", f"/orders/{order['id']}/generations", expect=202)  # queued: not a version yet
    refused = client.json("POST", f"/orders/{order['id']}/versions/{gen['id']}/publish", expect=409)
    assert refused["code"] == "conflict" and "succeeded" in refused["message"]
    drain(client, aws)
    assert (
        client.json("POST", f"/orders/{other['id']}/versions/{gen['id']}/publish", expect=404)["code"]
        == "not_found"
    )
    assert (
        client.json("POST", f"/orders/{missing}/versions/{gen['id']}/publish", expect=404)["code"]
        == "not_found"
    )
    assert (
        client.json("POST", f"/orders/{order['id']}/versions/{missing}/publish", expect=404)["code"]
        == "not_found"
    )
    assert (
        client.json("POST", f"/orders/{order['id']}/versions/not-an-id/publish", expect=404)["code"]
        == "not_found"
    )
    assert client.json("GET", f"/orders/{missing}/versions", expect=404)["code"] == "not_found"
    assert pointer(aws, order["id"]) is None and pointer(aws, other["id"]) is None

    for body in (
        {"auto_publish": "yes"},
        {},
        {"auto_publish": True, "live_url": "x"},
        {"auto_publish": None},
    ):
        bad = client.json("PATCH", f"/orders/{order['id']}", body, expect=422)
        assert bad["code"] == "validation_error" and bad["details"], body
    assert client.json("PATCH", f"/orders/{order['id']}", raw="[1]", expect=400)["code"] == "invalid_json"
    assert (
        client.json("PATCH", f"/orders/{missing}", {"auto_publish": True}, expect=404)["code"] == "not_found"
    )
    assert (
        client.json("POST", "/orders", {**ORDER, "auto_publish": "no"}, expect=422)["code"]
        == "validation_error"
    )


def test_a_pointer_write_that_fails_is_shown_pending_and_made_by_the_sweeper(client, aws, deps, monkeypatch):
    from chalicelib.services.sweeper import sweep

    order = client.json("POST", "/orders", ORDER, expect=201)
    first = generate(client, aws, order["id"])
    second = generate(client, aws, order["id"])

    def down(order_id: str, generation_id: str) -> None:
        raise ConnectionError("pointer store unreachable")

    monkeypatch.setattr(deps.live_pointer, "put", down)
    rolled = client.json("POST", f"/orders/{order['id']}/versions/{first['id']}/publish")
    assert rolled["live_generation_id"] == first["id"] and rolled["switch_pending"] is True
    assert rolled["serving_generation_id"] == second["id"] and pointer(aws, order["id"]) == second["id"]
    assert sweep(deps).pointers == 0  # still down: nothing switched, nothing lost
    monkeypatch.undo()
    assert sweep(deps).pointers == 1
    assert pointer(aws, order["id"]) == first["id"]
    assert client.json("GET", f"/orders/{order['id']}/versions")["switch_pending"] is False
    assert sweep(deps).pointers == 0  # in step: nothing to do


def test_a_worker_that_dies_before_switching_leaves_it_to_the_sweeper(client, aws, deps, monkeypatch):
    from chalicelib.services import pipeline
    from chalicelib.services.sweeper import sweep

    order = client.json("POST", "/orders", ORDER, expect=201)
    monkeypatch.setattr(pipeline, "after_publish", lambda deps, oid, log=None: False)  # as if it died there
    gen = generate(client, aws, order["id"])
    assert pointer(aws, order["id"]) is None
    assert client.json("GET", f"/orders/{order['id']}/versions")["switch_pending"] is True
    assert sweep(deps).pointers == 1 and pointer(aws, order["id"]) == gen["id"]


def test_keep_the_last_n_deletes_older_files_but_never_the_live_version(client, aws, deps):
    deps.settings = deps.settings.model_copy(update={"keep_versions": 2})
    order = client.json("POST", "/orders", ORDER, expect=201)
    v1 = generate(client, aws, order["id"])
    client.json("PATCH", f"/orders/{order['id']}", {"auto_publish": False})
    v2, v3, v4 = (generate(client, aws, order["id"]) for _ in range(3))
    # v1 is live (auto_publish went off), v3 and v4 are the newest two: v2 goes
    client.json("POST", f"/orders/{order['id']}/versions/{v1['id']}/publish")
    versions = {v["generation_id"]: v for v in client.json("GET", f"/orders/{order['id']}/versions")["items"]}
    assert (
        keys(aws, v2["id"]) == []
        and versions[v2["id"]]["files_deleted_at"]
        and versions[v2["id"]]["preview_url"] is None
    )
    for kept in (v1, v3, v4):
        assert len(keys(aws, kept["id"])) == 8 and versions[kept["id"]]["files_deleted_at"] is None
    assert versions[v1["id"]]["live"] and pointer(aws, order["id"]) == v1["id"]
    gone = client.json("POST", f"/orders/{order['id']}/versions/{v2['id']}/publish", expect=409)
    assert "deleted" in gone["message"]
    # the pages of a version whose files are gone are still listed (from Postgres)
    assert versions[v2["id"]]["pages"] == ["index.html", "servicos.html", "sobre.html", "contato.html"]

    client.json("POST", f"/orders/{order['id']}/versions/{v4['id']}/publish")  # v1 is no longer live: it goes
    assert keys(aws, v1["id"]) == [] and len(keys(aws, v3["id"])) == 8 and len(keys(aws, v4["id"])) == 8


def test_a_versions_files_are_never_replaced(aws):
    store = S3SiteStore(aws.s3, aws.resources.bucket, "https://sites.test")
    store.publish("sites/x", [("index.html", "text/html", b"first")])
    assert (
        store.publish("sites/x", [("index.html", "text/html", b"second"), ("a.css", "text/css", b"a")])
        == "https://sites.test/sites/x/index.html"
    )
    body = aws.s3.get_object(Bucket=aws.resources.bucket, Key="sites/x/index.html")["Body"].read()
    assert body == b"first"
    assert store.delete("sites/x", ["index.html", "a.css"]) == 2
    assert keys(aws, "x") == []


@pytest.mark.parametrize(
    "template", ["http://{order}.localhost:8001/", "https://sites.example.com/o/{order}/"]
)
def test_the_live_url_setting(deps, template):
    deps.settings = deps.settings.model_copy(update={"live_url_template": template})
    assert deps.live_url("abc") == template.replace("{order}", "abc")


@pytest.mark.parametrize(
    "bad",
    ["https://sites.example.com/o/", "ftp://{order}.x/", "https://{order}.x", "https://{order}.x/{order}/"],
)
def test_a_live_url_setting_without_one_order_placeholder_is_refused(bad):
    from pydantic import ValidationError

    from chalicelib.config import Settings

    with pytest.raises(ValidationError, match="SITEGEN_LIVE_URL"):
        Settings(live_url_template=bad)
