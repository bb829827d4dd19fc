"""The distribution's viewer-request function (infra/template.yaml LiveRouter, CloudFront Functions'
JavaScript 2.0 runtime with a KeyValueStore) run under node on the same cases as the local site
server's router (infra/site_server.py route): both send a request to the same key of the bucket."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from infra.site_server import route

ROOT = Path(__file__).resolve().parents[2]
ORDER = "0f8fad5b-d9cb-469f-a165-70867728950e"
LIVE = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
OLDER = "16fd2706-8baf-433b-82eb-8c7fada847da"
POINTERS = {ORDER: LIVE}  # one order with a live version; any other order has none

CASES = [  # (host, path, expected: key, or ("redirect", location), or 404)
    (f"{ORDER}.sites.example.com", "/", f"sites/{LIVE}/index.html"),
    (f"{ORDER}.localhost:8001", "/robots.txt", f"sites/{LIVE}/robots.txt"),
    (f"{ORDER}.sites.example.com", "/sobre.html", f"sites/{LIVE}/sobre.html"),
    (f"{ORDER.upper()}.sites.example.com", "/sitemap.xml", f"sites/{LIVE}/sitemap.xml"),
    ("d111.cloudfront.net", f"/o/{ORDER}/", f"sites/{LIVE}/index.html"),
    ("d111.cloudfront.net", f"/o/{ORDER}/servicos.html", f"sites/{LIVE}/servicos.html"),
    ("d111.cloudfront.net", f"/o/{ORDER}", ("redirect", f"/o/{ORDER}/")),
    # a page's stylesheet and favicon come from the page's own version, whatever is live
    ("d111.cloudfront.net", f"/o/{ORDER}/styles.css?v={OLDER}", f"sites/{OLDER}/styles.css"),
    (f"{ORDER}.sites.example.com", f"/favicon.svg?v={OLDER}", f"sites/{OLDER}/favicon.svg"),
    # ... and nothing else does: a page, or a version that is not an id, follows the pointer
    (f"{ORDER}.sites.example.com", f"/index.html?v={OLDER}", f"sites/{LIVE}/index.html"),
    (f"{ORDER}.sites.example.com", "/styles.css?v=../x", f"sites/{LIVE}/styles.css"),
    # previews: a version's own files, on any host
    ("d111.cloudfront.net", f"/sites/{OLDER}/index.html", f"sites/{OLDER}/index.html"),
    ("d111.cloudfront.net", f"/sites/{OLDER}/", f"sites/{OLDER}/index.html"),
    # no live version, not an order, not a site
    ("d111.cloudfront.net", f"/o/{OLDER}/", 404),
    (f"{OLDER}.sites.example.com", "/", 404),
    ("d111.cloudfront.net", "/o/not-an-id/", 404),
    ("d111.cloudfront.net", "/", 404),
    ("d111.cloudfront.net", "/robots.txt", 404),
    ("d111.cloudfront.net", "/live/x.json", 404),
    ("d111.cloudfront.net", f"/o/{ORDER}/../../live/{ORDER}.json", 404),
]

HARNESS = """
const POINTERS = %s;
const cf = { kvs: () => ({ get: async (key) => {
  if (Object.prototype.hasOwnProperty.call(POINTERS, key)) return POINTERS[key];
  throw new Error('The key ' + key + ' was not found.');
} }) };
%s
const cases = %s;
const out = [];
for (const [host, path] of cases) {
  const q = path.indexOf('?');
  const uri = q < 0 ? path : path.slice(0, q);
  const querystring = {};
  if (q >= 0) for (const pair of path.slice(q + 1).split('&')) {
    const [k, v] = pair.split('=');
    querystring[k] = { value: decodeURIComponent(v || '') };
  }
  const r = await handler({ request: { uri, querystring, headers: { host: { value: host } } } });
  if (r.statusCode === 301) out.push(['redirect', r.headers.location.value]);
  else if (r.statusCode) out.push(r.statusCode);
  else out.push(r.uri.slice(1));
}
console.log(JSON.stringify(out));
"""


def expected(case: tuple) -> object:
    return list(case[2]) if isinstance(case[2], tuple) else case[2]


def python_route(host: str, path: str) -> object:
    result = route(host, path, POINTERS.get)
    if result.redirect:
        return ["redirect", result.redirect]
    return result.key if result.key else result.status


def function_code() -> str:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "infra" / "template.yaml").read_text(), Loader=Loader)
    return str(template["Resources"]["LiveRouter"]["Properties"]["FunctionCode"])


def test_the_local_site_server_routes_as_the_distribution_does():
    assert [python_route(host, path) for host, path, _ in CASES] == [expected(c) for c in CASES]


def test_the_cloudfront_function_routes_every_case(tmp_path):
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is needed to run the CloudFront function (.ci/run installs Debian's nodejs)")
        pytest.skip("node is not installed")
    code = function_code()
    assert code.startswith("import cf from 'cloudfront';") and "async function handler(event)" in code
    assert len(code.encode()) < 10_240  # CloudFront Functions' code size limit
    script = tmp_path / "router.mjs"
    body = code.replace("import cf from 'cloudfront';", "")
    script.write_text(HARNESS % (json.dumps(POINTERS), body, json.dumps([[h, p] for h, p, _ in CASES])))
    result = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [expected(c) for c in CASES]
