"""`make package` and `make deploy` run what docs/deployment.md says (the deploy itself needs an AWS
account: here it is checked up to the commands it would run)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def dry_run(*args: str) -> str:
    result = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return " ".join(result.stdout.replace("\\\n", " ").split())


def test_make_package_writes_the_stage_folder():
    assert "-m infra.package --stage prod --out dist/prod" in dry_run("package", "STAGE=prod")


def test_make_deploy_packages_uploads_and_deploys_the_stage():
    commands = dry_run(
        "deploy", "STAGE=prod", "ARTIFACT_BUCKET=artifacts", "PARAMS=SubnetIds=subnet-a,subnet-b"
    )
    package = commands.index("-m infra.package --stage prod --out dist/prod")
    upload = commands.index(
        "aws cloudformation package --template-file dist/prod/sam.yaml --s3-bucket artifacts"
    )
    deploy = commands.index(
        "aws cloudformation deploy --template-file dist/prod/packaged.yaml "
        "--stack-name sitegen-prod --s3-bucket artifacts"
    )
    assert package < upload < deploy
    assert "--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND" in commands
    assert "--parameter-overrides SubnetIds=subnet-a,subnet-b" in commands


def test_make_deploy_refuses_without_an_artifact_bucket():
    result = subprocess.run(
        ["make", "deploy", "STAGE=prod", "ARTIFACT_BUCKET=", "-o", "package"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "ARTIFACT_BUCKET" in result.stderr


def test_make_lint_runs_ruff_and_mypy_from_the_venv_and_ci_runs_it_first():
    commands = dry_run("lint")
    for tool in (".venv/bin/ruff check .", ".venv/bin/ruff format --check .", ".venv/bin/mypy"):
        assert tool in commands, commands
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert ci.index("make lint") < ci.index("make test")
