"""The local site server (infra/site_server.py) on a real socket, reading moto's bucket: an order's live
address at the root of its host and under /o/<id>/, the switch on publish and rollback, pinned assets,
the headers crawlers and audit tools see."""

from __future__ import annotations

import http.client
import threading
from http.server import ThreadingHTTPServer

import pytest

from infra.site_server import SiteHandler
from tests.support.orders import ORDER, generate


@pytest.fixture()
def sites(aws):
    handler = type("Handler", (SiteHandler,), {"s3": aws.s3, "bucket": aws.resources.bucket})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def get(port: int, path: str, host: str | None = None, method: str = "GET") -> tuple[int, dict, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, headers={"Host": host or f"127.0.0.1:{port}"})
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def test_the_live_address_serves_the_live_version_and_switches_with_publish(client, aws, deps, sites):
    deps.settings = deps.settings.model_copy(
        update={"live_url_template": f"http://{{order}}.localhost:{sites}/"}
    )
    order = client.json("POST", "/orders", ORDER, expect=201)
    host = f"{order['id']}.localhost:{sites}"
    assert order["live_url"] == f"http://{host}/"
    assert get(sites, "/", host)[0] == 404  # no version yet
    first = generate(client, aws, order["id"])
    second = generate(client, aws, order["id"])

    status, headers, page = get(sites, "/", host)
    assert (
        status == 200
        and f"styles.css?v={second['id']}" in page
        and headers["content-type"].startswith("text/html")
    )
    assert (
        "connect-src 'self'" in headers["content-security-policy"]
    )  # Lighthouse reads robots.txt through it
    status, headers, robots = get(
        sites, "/robots.txt", host
    )  # at the root of the address, where crawlers look
    assert status == 200 and f"Sitemap: http://{host}/sitemap.xml" in robots
    status, _, sitemap = get(sites, "/sitemap.xml", host)
    assert status == 200 and f"<loc>http://{host}/sobre.html</loc>" in sitemap
    assert get(sites, "/sobre.html", host, method="HEAD")[0] == 200
    # the same live version by path, on the shared host
    status, _, by_path = get(sites, f"/o/{order['id']}/")
    assert status == 200 and by_path == page
    status, headers, _ = get(sites, f"/o/{order['id']}")
    assert status == 301 and headers["location"] == f"/o/{order['id']}/"

    client.json("POST", f"/orders/{order['id']}/versions/{first['id']}/publish")  # roll back
    status, _, page = get(sites, "/", host)
    assert status == 200 and f"styles.css?v={first['id']}" in page
    # a page served just before the switch still gets its own version's stylesheet
    pinned = get(sites, f"/styles.css?v={second['id']}", host)
    assert (
        pinned[0] == 200
        and pinned[2]
        == aws.s3.get_object(Bucket=aws.resources.bucket, Key=f"sites/{second['id']}/styles.css")["Body"]
        .read()
        .decode()
    )
    # each version's preview is its own files
    assert f"styles.css?v={second['id']}" in get(sites, f"/sites/{second['id']}/index.html")[2]


def test_what_is_not_a_live_site_is_not_found(aws, sites):
    assert get(sites, "/")[0] == 404
    assert get(sites, "/robots.txt")[0] == 404
    assert get(sites, "/o/0f8fad5b-d9cb-469f-a165-70867728950e/")[0] == 404
    assert get(sites, "/sites/0f8fad5b-d9cb-469f-a165-70867728950e/index.html")[0] == 404
    aws.s3.put_object(Bucket=aws.resources.bucket, Key="live/x.json", Body=b"{}")
    assert get(sites, "/live/x.json")[0] == 404
