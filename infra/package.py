"""One CloudFormation (SAM) template for a stage: `python -m infra.package --stage dev [--out dist/dev]`.

Runs `chalice package` with infra/template.yaml merged in (functions, API, roles from
.chalice/policy-<function>.json, event sources, schedule, log groups + the queue, dead-letter queue,
logs table, site bucket and CloudFront, secrets, alarms), then:

- pins the `Stage` parameter to the Chalice stage (names in the template and the stage's
  settings can't disagree);
- takes the worker's timeout from .chalice/config.json and derives the queue's visibility timeout
  from it (6x, AWS's advice for SQS event sources);
- takes the stage's log retention for the API's access logs, and turns the API's tracing on in prod;
- writes YAML without anchors/aliases (CloudFormation does not accept them).

The output folder holds `sam.yaml` and `deployment.zip`; `make deploy` uploads and deploys them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
MERGE_TEMPLATE = ROOT / "infra" / "template.yaml"
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
VISIBILITY_FACTOR = 6
WORKER = "run_phase"
TRACED_STAGES = ("prod",)  # X-Ray tracing of the API (the ApiTracing parameter's default)


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def function_setting(stage: str, function: str, name: str) -> Any:
    """A setting as Chalice resolves it for one function of one stage."""
    from chalice.config import Config

    config = Config(
        chalice_stage=stage, function_name=function, config_from_disk=json.loads(CHALICE_CONFIG.read_text())
    )
    return getattr(config, name)


def finish(template: dict[str, Any], stage: str) -> dict[str, Any]:
    """Pin the stage and derive the timeouts (the template Chalice wrote, changed in place)."""
    params = template["Parameters"]
    params["Stage"]["Default"] = stage
    params["Stage"]["AllowedValues"] = [stage]
    params["Stage"].pop("AllowedPattern", None)
    worker_timeout = int(function_setting(stage, WORKER, "lambda_timeout"))
    params["WorkerTimeoutSeconds"]["Default"] = worker_timeout
    params["VisibilityTimeoutSeconds"]["Default"] = VISIBILITY_FACTOR * worker_timeout
    params["LogRetentionInDays"]["Default"] = int(
        function_setting(stage, "api_handler", "log_retention_in_days")
    )
    params["ApiTracing"]["Default"] = "true" if stage in TRACED_STAGES else "false"
    return template


def package(stage: str, out: Path) -> Path:
    """Write <out>/sam.yaml and <out>/deployment.zip; return the template's path."""
    if stage not in json.loads(CHALICE_CONFIG.read_text()).get("stages", {}):
        raise SystemExit(f"no stage {stage!r} in {CHALICE_CONFIG}")
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("sam.yaml", "deployment.zip"):
        (out / stale).unlink(missing_ok=True)
    # The region only picks the service principals' DNS suffix (amazonaws.com for every commercial one).
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"}
    chalice = Path(sys.executable).parent / "chalice"
    subprocess.run(
        [
            str(chalice),
            "package",
            "--stage",
            stage,
            "--pkg-format",
            "cloudformation",
            "--template-format",
            "yaml",
            "--merge-template",
            str(MERGE_TEMPLATE),
            str(out.resolve()),
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    path = out / "sam.yaml"
    template = finish(yaml.safe_load(path.read_text()), stage)
    path.write_text(yaml.dump(template, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=120))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--out", default="", help="output folder (default dist/<stage>)")
    args = parser.parse_args()
    started = time.monotonic()
    path = package(args.stage, Path(args.out or f"dist/{args.stage}"))
    resources = yaml.safe_load(path.read_text())["Resources"]
    print(f"{path}: {len(resources)} resources, {time.monotonic() - started:.1f}s", flush=True)


if __name__ == "__main__":
    main()
