"""The packaged template's non-Lambda resources deploy into moto's CloudFormation, and they are the
very resources the local stack and the other tests make from infra/template.yaml."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from infra.resources import deploy, infrastructure, load_template

# What moto 5.2.5's CloudFormation does not implement: it skips these, with a warning.
MOTO_SKIPS = {
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::ResponseHeadersPolicy",
    "AWS::CloudFront::KeyValueStore",
    "AWS::CloudFront::Function",
    "AWS::S3::BucketPolicy",
    "AWS::SecretsManager::Secret",
    "AWS::CloudWatch::Alarm",
    "AWS::SNS::Subscription",
}


@pytest.fixture()
def session():
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


def test_non_lambda_part_of_the_package_is_infra_template_yaml(template):
    packaged, source = infrastructure(template), infrastructure(load_template())
    assert packaged["Resources"] == source["Resources"]
    assert packaged["Conditions"] == source["Conditions"]
    assert set(packaged["Parameters"]) == set(source["Parameters"])
    kinds = {r["Type"] for r in packaged["Resources"].values()}
    assert not [k for k in kinds if k.startswith(("AWS::Serverless::", "AWS::Lambda::", "AWS::IAM::"))]
    assert {
        "AWS::SQS::Queue",
        "AWS::DynamoDB::Table",
        "AWS::S3::Bucket",
        "AWS::CloudFront::Distribution",
        "AWS::SecretsManager::Secret",
        "AWS::CloudWatch::Alarm",
        "AWS::SNS::Topic",
    } <= kinds
    assert "Globals" not in packaged and "Transform" not in packaged


def test_packaged_non_lambda_resources_deploy_into_moto(template, stage, session):
    from moto.cloudformation.parsing import get_model_map

    kinds = {r["Type"] for r in infrastructure(template)["Resources"].values()}
    assert kinds - set(get_model_map()) == kinds & MOTO_SKIPS  # moto creates all the others
    resources = deploy(session, stage, template=template)  # what the local stack does, with this template
    stack = session.client("cloudformation").describe_stacks(StackName=f"sitegen-{stage}")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert params["Stage"] == stage and params["VisibilityTimeoutSeconds"] == "720"

    sqs = session.client("sqs")
    queue = sqs.get_queue_attributes(
        QueueUrl=sqs.get_queue_url(QueueName=f"sitegen-{stage}-generation")["QueueUrl"],
        AttributeNames=["All"],
    )["Attributes"]
    dlq_url = sqs.get_queue_url(QueueName=f"sitegen-{stage}-generation-dlq")["QueueUrl"]
    dlq = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]
    assert (
        queue["VisibilityTimeout"]
        == str(template["Parameters"]["VisibilityTimeoutSeconds"]["Default"])
        == "720"
    )
    assert json.loads(queue["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq["QueueArn"],
        "maxReceiveCount": 5,
    }
    assert dlq["MessageRetentionPeriod"] == "1209600"
    assert queue["SqsManagedSseEnabled"] == dlq["SqsManagedSseEnabled"] == "true"

    table = session.client("dynamodb").describe_table(TableName=f"sitegen-{stage}-logs")["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["generation_id", "cursor"]
    backups = session.client("dynamodb").describe_continuous_backups(TableName=resources.logs_table)
    assert (
        backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
        == "ENABLED"
    )

    s3 = session.client("s3")
    bucket = resources.bucket
    assert bucket == f"sitegen-{stage}-sites-123456789012"
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert set(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values()) == {True}
    assert (
        s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    )  # applied by deploy, as moto skips it
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    log_bucket = outputs["AccessLogBucketName"]  # generated name; CloudFront and the site bucket log there
    assert log_bucket != bucket and log_bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert session.client("sns").list_topics()["Topics"][0]["TopicArn"].endswith(f":sitegen-{stage}-alarms")


def test_deploy_for_the_local_stack_takes_parameter_overrides(session):
    resources = deploy(
        session, "local", parameters={"WorkerTimeoutSeconds": "10", "VisibilityTimeoutSeconds": "60"}
    )
    sqs, dynamodb = session.client("sqs"), session.client("dynamodb")
    attrs = sqs.get_queue_attributes(QueueUrl=resources.queue_url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "60"
    assert resources.queue_name == "sitegen-local-generation"
    assert resources.dlq_url.endswith("/sitegen-local-generation-dlq")
    assert resources.logs_table == "sitegen-local-logs"
    assert resources.bucket == "sitegen-local-sites-123456789012"
    ttl = dynamodb.describe_time_to_live(TableName=resources.logs_table)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    assert deploy(session, "local") == resources  # a second call reuses the stack
