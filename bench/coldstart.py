"""Cold start: `import app` and the first invocation in fresh processes, next to the import of the
third-party modules app's import loads (its dependencies alone), in the same run; what the import pulls
in (-X importtime); whether anything touches the network or the database at import time.

Each figure is the median of `runs` fresh processes, the app and the dependency runs interleaved so
the machine's load hits both alike.

Run as a child: `python -m bench.coldstart app|deps <modules file>|importtime`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OWN = ("app", "chalicelib", "bench", "infra", "tests")
# Modules no request path of the API needs at import: each one here in `import app` is a finding.
SHOULD_BE_LAZY = (
    "boto3",
    "botocore",
    "pg8000",
    "urllib3",
    "chalicelib.website",
    "chalicelib.ai.openai",
    "chalicelib.ai.anthropic",
    "chalicelib.ai.cloudflare",
    "chalicelib.ai.template",
    "chalicelib.adapters",
    "moto",
    "alembic",
    "jsonschema",
)


def _stdlib() -> frozenset[str]:
    return frozenset(sys.stdlib_module_names) | {
        "__main__",
        "_distutils_hack",
        "sitecustomize",
        "usercustomize",
    }


def third_party(names: list[str]) -> list[str]:
    """Modules that are neither the standard library nor this project's, in load order."""
    std = _stdlib()
    return [
        n
        for n in names
        if n.split(".")[0] not in std and n.split(".")[0] not in OWN and not n.startswith("_cython")
    ]


def _health_event() -> dict[str, Any]:
    """GET /health/dependencies as API Gateway passes it on after the authorizer (its context included)."""
    return {
        "resource": "/health/dependencies",
        "path": "/health/dependencies",
        "httpMethod": "GET",
        "headers": {"Host": "localhost", "Accept": "application/json"},
        "multiValueHeaders": {"Host": ["localhost"], "Accept": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {
            "resourcePath": "/health/dependencies",
            "httpMethod": "GET",
            "path": "/api/health/dependencies",
            "stage": "api",
            "requestId": "bench",
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": {"principalId": "crm", "scope": "orders"},
        },
    }


# --- children -------------------------------------------------------------------------------
def _peak_rss_kb() -> int:
    """This process's own peak RSS (VmHWM). Not ru_maxrss: after fork + exec Linux carries the parent's
    high-water mark over into it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _child_app(invoke: bool) -> dict[str, Any]:
    import socket

    attempts: list[str] = []
    real_connect, real_create = socket.socket.connect, socket.create_connection

    def connect(self: Any, address: Any) -> None:
        attempts.append(repr(address))
        real_connect(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(repr(address))
        return real_create(address, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]  # a deliberate patch: counts connections
    socket.create_connection = create_connection
    before = set(sys.modules)
    t0, c0 = time.perf_counter(), time.process_time()
    import app  # noqa: F401

    t1, c1 = time.perf_counter(), time.process_time()
    from chalicelib import bootstrap

    result: dict[str, Any] = {
        "import_s": t1 - t0,
        "import_cpu_s": c1 - c0,
        "io_at_import": list(attempts),
        "deps_built_at_import": bootstrap._deps is not None,
        "modules_after_import": [m for m in sys.modules if m not in before],
    }
    if invoke:
        from infra.lambda_events import LambdaContext

        response = app.app(_health_event(), LambdaContext("api_handler", 30))
        t2, c2 = time.perf_counter(), time.process_time()
        result.update(
            {
                "first_invocation_s": t2 - t1,
                "first_invocation_cpu_s": c2 - c1,
                "status": response.get("statusCode"),
                "body": (response.get("body") or "")[:300],
                "modules_after_invocation": [m for m in sys.modules if m not in before],
                "connections_first_invocation": len(attempts) - len(result["io_at_import"]),
            }
        )
    result["maxrss_kb"] = _peak_rss_kb()
    return result


def _child_deps(path: str) -> dict[str, Any]:
    import importlib

    names = json.loads(Path(path).read_text())
    t0, c0 = time.perf_counter(), time.process_time()
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # a private module that only loads as part of its parent: the parent loads it
            failed.append(name)
    return {
        "import_s": time.perf_counter() - t0,
        "import_cpu_s": time.process_time() - c0,
        "failed": failed,
        "maxrss_kb": _peak_rss_kb(),
    }


# --- the parent -----------------------------------------------------------------------------
def _run_child(args: list[str], env: dict[str, str], extra: list[str] | None = None) -> dict[str, Any]:
    argv = [sys.executable, *(extra or []), "-m", "bench.coldstart", *args]
    out = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"{argv} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def importtime(env: dict[str, str], top: int = 12) -> dict[str, Any]:
    """What `import app` pulls in: cumulative time by top-level package and the costliest modules
    (the figures carry -X importtime's own overhead; compare them with each other)."""
    argv = [sys.executable, "-X", "importtime", "-c", "import app"]
    err = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120).stderr
    rows = []
    for line in err.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_field, cumulative_field, name = line[len("import time:") :].split("|")
        rows.append((name.strip(), int(self_field), int(cumulative_field), len(name) - len(name.lstrip())))
    by_package: dict[str, int] = {}
    for name, self_us, _, _ in rows:
        root = name.split(".")[0]
        key = name if root == "chalicelib" else root
        key = ".".join(key.split(".")[:2]) if root == "chalicelib" else key
        by_package[key] = by_package.get(key, 0) + self_us
    total = sum(r[1] for r in rows)
    return {
        "total_ms": round(total / 1000, 1),
        "by_package_ms": {
            k: round(v / 1000, 1) for k, v in sorted(by_package.items(), key=lambda kv: -kv[1])[:top]
        },
        "top_modules_self_ms": {r[0]: round(r[1] / 1000, 1) for r in sorted(rows, key=lambda r: -r[1])[:top]},
    }


def run(runs: int = 5, env_extra: dict[str, str] | None = None) -> dict[str, Any]:
    """env_extra: a reachable stack (DATABASE_URL, AWS_ENDPOINT_URL, queue, table, bucket) for the
    first invocation; without it the first invocation answers 503 (nothing reachable) and is still timed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "0", **(env_extra or {})}
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    env.setdefault("AWS_ACCESS_KEY_ID", "bench")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    _run_child(["app", "invoke"], env)  # compiles .pyc files, warms the page cache: not counted
    probe = _run_child(["app", "invoke"], env)
    with tempfile.TemporaryDirectory() as tmp:
        at_import = Path(tmp) / "import.json"
        at_import.write_text(json.dumps(third_party(probe["modules_after_import"])))
        at_invocation = Path(tmp) / "invocation.json"
        at_invocation.write_text(json.dumps(third_party(probe["modules_after_invocation"])))
        samples: dict[str, list[float]] = {
            k: []
            for k in (
                "app",
                "app_cpu",
                "app_first",
                "app_first_cpu",
                "deps",
                "deps_cpu",
                "deps_invocation",
                "deps_invocation_cpu",
            )
        }
        rss: dict[str, list[int]] = {"app_first": [], "deps_invocation": []}
        for _ in range(runs):
            a = _run_child(["app", "invoke"], env)
            samples["app"].append(a["import_s"])
            samples["app_cpu"].append(a["import_cpu_s"])
            samples["app_first"].append(a["import_s"] + a["first_invocation_s"])
            samples["app_first_cpu"].append(a["import_cpu_s"] + a["first_invocation_cpu_s"])
            rss["app_first"].append(a["maxrss_kb"])
            d = _run_child(["deps", str(at_import)], env)
            samples["deps"].append(d["import_s"])
            samples["deps_cpu"].append(d["import_cpu_s"])
            d2 = _run_child(["deps", str(at_invocation)], env)
            samples["deps_invocation"].append(d2["import_s"])
            samples["deps_invocation_cpu"].append(d2["import_cpu_s"])
            rss["deps_invocation"].append(d2["maxrss_kb"])
    # Imports are CPU work: the figures are CPU time, which others' load on a shared machine barely
    # moves (wall time is kept beside it). Of the runs, the fastest: noise only ever adds time.
    best = {k: min(v) for k, v in samples.items()}
    med = {k: statistics.median(v) for k, v in samples.items()}
    mods = probe["modules_after_import"]
    own = [m for m in mods if m.split(".")[0] in ("app", "chalicelib")]
    ms = lambda key: round(best[key] * 1000, 1)  # noqa: E731
    return {
        "runs": runs,
        "import_app_ms": ms("app_cpu"),
        "import_deps_ms": ms("deps_cpu"),
        "ratio": round(best["app_cpu"] / best["deps_cpu"], 3),
        "wall": {
            "import_app_ms": ms("app"),
            "import_deps_ms": ms("deps"),
            "ratio": round(best["app"] / best["deps"], 3),
            "median_import_app_ms": round(med["app"] * 1000, 1),
            "median_import_deps_ms": round(med["deps"] * 1000, 1),
        },
        "first_invocation": {
            "route": "GET /health/dependencies",
            "status": probe.get("status"),
            "import_plus_first_ms": ms("app_first_cpu"),
            "import_plus_first_wall_ms": ms("app_first"),
            "deps_of_invocation_import_ms": ms("deps_invocation_cpu"),
            "deps_of_invocation_import_wall_ms": ms("deps_invocation"),
            "ratio": round(best["app_first_cpu"] / best["deps_invocation_cpu"], 3),
            "maxrss_mb": round(statistics.median(rss["app_first"]) / 1024, 1),
            "deps_maxrss_mb": round(statistics.median(rss["deps_invocation"]) / 1024, 1),
        },
        "samples_ms": {k: [round(x * 1000, 1) for x in v] for k, v in samples.items()},
        "io_at_import": probe["io_at_import"],
        "deps_built_at_import": probe["deps_built_at_import"],
        "modules_at_import": {"total": len(mods), "third_party": len(third_party(mods)), "own": len(own)},
        "should_be_lazy_but_imported": sorted(
            {m for m in mods for lazy in SHOULD_BE_LAZY if m == lazy or m.startswith(lazy + ".")}
        ),
        "deps_modules_that_did_not_import_alone": d["failed"],
        "importtime": importtime(env),
    }


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "app":
        print(json.dumps(_child_app(invoke=len(sys.argv) > 2 and sys.argv[2] == "invoke")))
    elif mode == "deps":
        print(json.dumps(_child_deps(sys.argv[2])))
    else:
        raise SystemExit(f"unknown mode {mode}")
