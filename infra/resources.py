"""Create the template's resources in an AWS endpoint (moto, in tests and the local stack).

infra/template.yaml is also merged into the packaged template (infra/package.py); here only its
non-Lambda part is deployed: the entries that patch Chalice's functions and roles, and `Globals`,
are left out (`infrastructure`). moto's CloudFormation skips, with a warning, the types it does not
implement (CloudFront, Secrets Manager secrets, bucket policies, alarms): the local stack serves
sites itself and reads tokens and the database URL from its environment.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).with_name("template.yaml")
# What Chalice generates (functions, API, permissions, roles), and the patches to it.
LAMBDA_TYPES = ("AWS::Serverless::", "AWS::Lambda::", "AWS::IAM::", "AWS::ApiGateway::")
TEMPLATE_SECTIONS = (
    "AWSTemplateFormatVersion",
    "Description",
    "Parameters",
    "Conditions",
    "Resources",
    "Outputs",
)


@dataclass(frozen=True)
class Resources:
    queue_url: str
    queue_name: str
    dlq_url: str
    logs_table: str
    bucket: str


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (!Ref, !GetAtt a.b, !Sub ...) as their long forms."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    tag = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {tag: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass


def references(value: Any) -> set[str]:
    """Logical ids a piece of template refers to (Ref, GetAtt, ${...} in Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else str(inner).split(".", 1)[0])
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                local = set(inner[1]) if isinstance(inner, list) else set()
                found |= {m.split(".", 1)[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text)} - local
                if isinstance(inner, list):
                    found |= references(inner[1])
            else:
                found |= references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= references(inner)
    return {name for name in found if not name.startswith("AWS::")}


def infrastructure(template: dict[str, Any]) -> dict[str, Any]:
    """The non-Lambda part of a template (infra/template.yaml or the packaged one): no functions, API,
    roles, permissions, patches or Globals, nor anything that refers to them (e.g. Chalice's log groups)."""
    resources = dict(template.get("Resources", {}))
    dropped = {
        name
        for name, r in resources.items()
        if not str(r.get("Type", "")) or r["Type"].startswith(LAMBDA_TYPES)
    }
    while True:
        more = {
            name
            for name, r in resources.items()
            if name not in dropped and (references(r) | set(_depends_on(r))) & dropped
        }
        if not more:
            break
        dropped |= more
    kept = {k: v for k, v in template.items() if k in TEMPLATE_SECTIONS}
    kept["Resources"] = {k: v for k, v in resources.items() if k not in dropped}
    kept["Outputs"] = {k: v for k, v in template.get("Outputs", {}).items() if not references(v) & dropped}
    return kept


def _depends_on(resource: dict[str, Any]) -> list[str]:
    depends = resource.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else list(depends)


def stack_body(template: dict[str, Any]) -> str:
    """The infrastructure part, as moto's CloudFormation takes it (outputs on types it skips left out)."""
    body = infrastructure(template)
    from moto.cloudformation.parsing import get_model_map

    supported = set(get_model_map())
    skipped = {k for k, v in body["Resources"].items() if v["Type"] not in supported}
    body["Outputs"] = {k: v for k, v in body["Outputs"].items() if not references(v) & skipped}
    return json.dumps(body)


def deploy(
    session: Any,
    stage: str = "local",
    endpoint_url: str | None = None,
    parameters: dict[str, str] | None = None,
    template: dict[str, Any] | None = None,
) -> Resources:
    """Create (or reuse) the stack and return what the app needs. `parameters` override the template's
    defaults (e.g. WorkerTimeoutSeconds, VisibilityTimeoutSeconds); Stage is `stage`. `template`:
    infra/template.yaml unless given (a packaged one, in tests; only its non-Lambda part is used)."""
    template = template or load_template()
    cfn = session.client("cloudformation", endpoint_url=endpoint_url)
    name = f"sitegen-{stage}"
    try:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    except cfn.exceptions.ClientError:
        values = {**(parameters or {}), "Stage": stage}
        with warnings.catch_warnings():  # in-process moto warns once per type it skips
            warnings.filterwarnings("ignore", message=".*not supported by moto's CloudFormation")
            cfn.create_stack(
                StackName=name,
                TemplateBody=stack_body(template),
                Parameters=[{"ParameterKey": k, "ParameterValue": str(v)} for k, v in values.items()],
            )
            cfn.get_waiter("stack_create_complete").wait(
                StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
            )
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    out = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    # Outputs carry AWS-style URLs; ask the endpoint itself for the URLs it serves.
    queue_url = sqs.get_queue_url(QueueName=out["QueueName"])["QueueUrl"]
    dlq_url = sqs.get_queue_url(QueueName=out["DeadLetterQueueUrl"].rsplit("/", 1)[-1])["QueueUrl"]
    _settings_moto_skips(session, endpoint_url, template, out["LogsTableName"], out["SiteBucketName"])
    return Resources(queue_url, out["QueueName"], dlq_url, out["LogsTableName"], out["SiteBucketName"])


def _settings_moto_skips(
    session: Any, endpoint_url: str | None, template: dict[str, Any], table: str, bucket: str
) -> None:
    """moto's CloudFormation creates the table and the bucket but ignores these of their properties
    (TTL, point-in-time recovery, public access block, versioning): apply them as the template says."""
    table_props = template["Resources"]["LogsTable"]["Properties"]
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    ttl = table_props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        status = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        if status.get("TimeToLiveStatus") != "ENABLED":
            dynamodb.update_time_to_live(TableName=table, TimeToLiveSpecification=ttl)
    pitr = table_props.get("PointInTimeRecoverySpecification")
    if pitr:
        dynamodb.update_continuous_backups(TableName=table, PointInTimeRecoverySpecification=pitr)
    bucket_props = template["Resources"]["SiteBucket"]["Properties"]
    s3 = session.client("s3", endpoint_url=endpoint_url)
    block = bucket_props.get("PublicAccessBlockConfiguration")
    if block:
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=block)
    versioning = bucket_props.get("VersioningConfiguration")
    if versioning:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration=versioning)
