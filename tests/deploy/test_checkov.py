"""checkov (in `.venv-checkov`, offline: infra/checkov_scan.py) scans each stage's packaged template; every
failure it reports must be on the committed list of accepted ones (checkov_accepted.txt, each with its
reason), and every entry on that list must still fail, so the list says exactly what is accepted."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.conftest import ROOT, STAGES, tool_python
from tests.support.template import resources_of

ACCEPTED = Path(__file__).with_name("checkov_accepted.txt")
LINE = re.compile(r"^(?P<check>CKV2?_AWS_\d+) (?P<resources>\*|[A-Za-z0-9@,]+): (?P<reason>\S.{9,199})$")


@dataclass(frozen=True)
class Accepted:
    check: str
    resource: str  # a logical id, or "*"
    stage: str | None  # None: every stage
    reason: str

    def covers(self, check: str, resource: str, stage: str) -> bool:
        return self.check == check and self.resource in ("*", resource) and self.stage in (None, stage)


def accepted_list() -> list[Accepted]:
    entries = []
    for number, line in enumerate(ACCEPTED.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = LINE.match(line)
        assert match, f"{ACCEPTED.name}:{number}: not `<check id> <resources>: <reason>`: {line!r}"
        for spec in match["resources"].split(","):
            resource, _, stage = spec.partition("@")
            assert resource and (stage in ("",) + STAGES), f"{ACCEPTED.name}:{number}: {spec!r}"
            entries.append(Accepted(match["check"], resource, stage or None, match["reason"]))
    return entries


@pytest.fixture(scope="session")
def reports(packaged_paths: dict[str, Path]) -> dict[str, dict[str, Any]]:
    checkov_python = tool_python(".venv-checkov", "checkov")
    out = {}
    for stage, folder in packaged_paths.items():
        result = subprocess.run(
            [str(checkov_python), str(ROOT / "infra" / "checkov_scan.py"), str(folder / "sam.yaml")],
            capture_output=True,
            text=True,
            timeout=300,
        )
        # 3: checkov tried to reach the network (infra/checkov_scan.py refuses every socket and says so).
        assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-3000:]}"
        assert "network attempt" not in result.stderr, result.stderr[-3000:]
        out[stage] = json.loads(result.stdout)
    return out


def failures(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(check id, logical id) -> the check's name, for each failed check."""
    return {
        (c["check_id"], c["resource"].split(".", 1)[1]): c["check_name"]
        for c in report["results"]["failed_checks"]
    }


def test_the_scan_ran_offline_over_every_resource(reports, template, stage):
    report = reports[stage]
    assert report["check_type"] == "cloudformation"
    summary = report["summary"]
    assert summary["checkov_version"] == "3.3.30"
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] == len(template["Resources"])
    passed = {(c["check_id"], c["resource"]) for c in report["results"]["passed_checks"]}
    # It really evaluated our resources: the site bucket's public access block, the functions' reserved concurrency.
    assert {
        ("CKV_AWS_53", "AWS::S3::Bucket.SiteBucket"),
        ("CKV_AWS_56", "AWS::S3::Bucket.SiteBucket"),
        ("CKV_AWS_115", "AWS::Serverless::Function.RunPhase"),
    } <= passed
    assert summary["passed"] > summary["failed"]


def test_checkov_finds_no_failure_that_is_not_accepted(reports, stage):
    accepted = accepted_list()
    new = [
        f"{check} {resource}: {name}"
        for (check, resource), name in sorted(failures(reports[stage]).items())
        if not any(a.covers(check, resource, stage) for a in accepted)
    ]
    assert not new, (
        f"{stage}: checkov failures not in {ACCEPTED.name} (fix them, or accept each with a reason):\n"
        + "\n".join(new)
    )


def test_every_accepted_failure_still_fails(reports):
    found = {stage: failures(reports[stage]) for stage in STAGES}
    stale = []
    for entry in accepted_list():
        for stage in [entry.stage] if entry.stage else STAGES:
            if not any(entry.covers(check, resource, stage) for check, resource in found[stage]):
                stale.append(f"{entry.check} {entry.resource}@{stage}")
    assert not stale, f"accepted in {ACCEPTED.name} but no longer failing (remove them):\n" + "\n".join(stale)


def test_the_accepted_list_is_one_reason_per_failure_and_documented():
    entries = accepted_list()
    keys = [(e.check, e.resource, e.stage) for e in entries]
    assert len(keys) == len(set(keys)), "an entry is repeated"
    docs = (ROOT / "docs" / "deployment.md").read_text()
    undocumented = sorted({e.check for e in entries} - set(re.findall(r"CKV2?_AWS_\d+", docs)))
    assert not undocumented, f"docs/deployment.md does not mention {undocumented}"


def test_every_queue_is_sse_sqs_encrypted(template):
    """CKV_AWS_27 is accepted as a false positive on this ground: it must stay true."""
    queues = resources_of(template, "AWS::SQS::Queue")
    assert len(queues) >= 2
    for name, queue in queues.items():
        assert queue["Properties"].get("SqsManagedSseEnabled") is True, name
        assert "KmsMasterKeyId" not in queue["Properties"], name


def test_the_alarm_topic_does_not_use_the_aws_managed_sns_key(template):
    """CKV_AWS_26 is accepted because the free fix breaks alarms: CloudWatch cannot publish to a topic
    encrypted with alias/aws/sns (that key's policy cannot be changed to admit cloudwatch.amazonaws.com)."""
    topic = resources_of(template, "AWS::SNS::Topic")["AlarmTopic"]["Properties"]
    assert "aws/sns" not in json.dumps(topic.get("KmsMasterKeyId", ""))
    alarms = resources_of(template, "AWS::CloudWatch::Alarm")
    assert alarms and all(a["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms.values())
