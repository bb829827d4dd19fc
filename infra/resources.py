"""Create the template's resources in an AWS endpoint (moto, in tests and the local stack)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).with_name("template.yaml")


@dataclass(frozen=True)
class Resources:
    queue_url: str
    queue_name: str
    dlq_url: str
    logs_table: str
    bucket: str


def deploy(session: Any, stage: str = "local", endpoint_url: str | None = None,
           parameters: dict[str, str] | None = None) -> Resources:
    """Create (or reuse) the stack and return what the app needs. Works against moto and AWS.
    `parameters` overrides template parameters (e.g. shorter timeouts for the local stack)."""
    cfn = session.client("cloudformation", endpoint_url=endpoint_url)
    name = f"sitegen-{stage}"
    try:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    except cfn.exceptions.ClientError:
        cfn.create_stack(StackName=name, TemplateBody=TEMPLATE.read_text(),
                         Parameters=[{"ParameterKey": k, "ParameterValue": str(v)}
                                     for k, v in {"Stage": stage, **(parameters or {})}.items()])
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    out = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    # Outputs carry AWS-style URLs; ask the endpoint itself for the URLs it serves.
    queue_url = sqs.get_queue_url(QueueName=out["QueueName"])["QueueUrl"]
    dlq_url = sqs.get_queue_url(QueueName=out["DeadLetterQueueUrl"].rsplit("/", 1)[-1])["QueueUrl"]
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    # moto's CloudFormation leaves TTL disabled even when the template enables it.
    ttl = dynamodb.describe_time_to_live(TableName=out["LogsTableName"])["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") != "ENABLED":
        dynamodb.update_time_to_live(TableName=out["LogsTableName"],
                                     TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
    return Resources(queue_url, out["QueueName"], dlq_url, out["LogsTableName"], out["SiteBucketName"])
