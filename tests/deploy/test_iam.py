"""IAM in the packaged template: one role and one policy per function, the policy kept in the repo
(.chalice/policy-<function>.json), no `*` in any action, every resource named."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from infra.resources import references
from tests.support.template import FUNCTIONS, props, resources_of, role_of

CHALICE = Path(__file__).resolve().parents[2] / ".chalice"
VPC_ACCESS = {
    "Fn::If": [
        "HasVpc",
        [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"}],
        {"Ref": "AWS::NoValue"},
    ]
}
# A wildcard may only end an ARN whose service, region, account and name prefix are fixed:
# log streams of one log group (`:*`), object keys under one prefix, secrets under one name prefix.
NAMED_WILDCARD = re.compile(
    r"^arn:\$\{AWS::Partition\}:[a-z0-9-]+:[^*]*[^*:/]+(:\*|/\*)$|^\$\{[A-Za-z]+\.Arn\}/[a-z]+/\*$"
)


def repo_policy(function: str) -> dict[str, Any]:
    return json.loads((CHALICE / f"policy-{function}.json").read_text())


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


def test_config_uses_one_policy_file_per_function_and_no_generated_policy():
    config = json.loads((CHALICE / "config.json").read_text())
    assert config["autogen_policy"] is False
    assert {name: c["iam_policy_file"] for name, c in config["lambda_functions"].items()} == {
        name: f"policy-{name}.json" for name in FUNCTIONS.values()
    }
    for stage in config["stages"].values():
        assert "autogen_policy" not in stage and "iam_role_arn" not in stage


def test_each_function_has_its_own_role_with_the_policy_from_the_repo(template):
    roles = resources_of(template, "AWS::IAM::Role")
    assert set(roles) == {role_of(name) for name in FUNCTIONS.values()} | {"ApiGatewayLogRole"}
    assert not [
        r
        for r in template["Resources"].values()
        if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::User", "AWS::IAM::Group")
    ]
    for logical, name in FUNCTIONS.items():
        assert props(template, logical)["Role"] == {"Fn::GetAtt": [role_of(name), "Arn"]}
        role = roles[role_of(name)]["Properties"]
        assert role["AssumeRolePolicyDocument"]["Statement"] == [
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Sid": "",
            }
        ]
        [policy] = role["Policies"]
        assert policy["PolicyDocument"] == repo_policy(name)
        assert role.get("ManagedPolicyArns", VPC_ACCESS) == VPC_ACCESS  # only AWS's ENI policy, only in a VPC


def test_no_wildcard_actions_and_every_resource_named(template):
    known = set(template["Resources"]) | set(template["Parameters"])
    for name in FUNCTIONS.values():
        for statement in repo_policy(name)["Statement"]:
            where = f"{name}: {statement.get('Sid')}"
            assert set(statement) == {"Sid", "Effect", "Action", "Resource"}, where
            assert statement["Effect"] == "Allow", where
            assert statement["Action"] and all(
                re.fullmatch(r"[a-z0-9-]+:[A-Za-z]+", a) for a in statement["Action"]
            ), where
            resource = statement["Resource"]
            assert isinstance(resource, dict), f"{where}: a literal resource ({resource!r})"
            assert references(resource) and references(resource) <= known, where
            for text in strings_in(resource):
                assert "*" not in text or NAMED_WILDCARD.match(text), f"{where}: {text}"


def test_function_policies_grant_what_each_function_does_and_no_more():
    """The shape of least privilege, by function (what each one calls is in chalicelib/adapters)."""

    def grants(function: str) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for s in repo_policy(function)["Statement"]:
            named = {"/ai/": "ai-keys", "/webhooks/": "webhook-secrets"}
            for target in references(s["Resource"]) | {
                t for t in strings_in(s["Resource"]) if any(n in t for n in named)
            }:
                out.setdefault(next((v for k, v in named.items() if k in target), target), set()).update(
                    s["Action"]
                )
        return out

    own_logs = {"logs:CreateLogStream", "logs:PutLogEvents"}
    # who publishes a version (the worker on success, the API on publish/rollback, the sweeper when a
    # pointer write failed) switches the live pointer and prunes old versions' files
    switch = {"cloudfront-keyvaluestore:DescribeKeyValueStore", "cloudfront-keyvaluestore:PutKey"}

    def site_writes(function: str) -> dict[str, set[str]]:
        return {
            target: set(s["Action"])
            for s in repo_policy(function)["Statement"]
            for target in strings_in(s["Resource"])
            if target.startswith("${SiteBucket.Arn}/")
        }

    write_logs = {"dynamodb:PutItem", "dynamodb:Query"}  # TransactWriteItems' puts; the last line number
    db = {"secretsmanager:GetSecretValue"}
    assert grants("bearer") == {"ApiTokenSecret": {"secretsmanager:GetSecretValue"}, "Stage": own_logs}
    worker = grants("run_phase")
    assert worker["GenerationQueue"] == {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:SendMessage",
    }
    assert worker["DeadLetterQueue"] == {"sqs:SendMessage"}
    assert worker["LogsTable"] == write_logs and worker["SiteBucket"] == {"s3:PutObject", "s3:DeleteObject"}
    assert site_writes("run_phase") == {
        "${SiteBucket.Arn}/sites/*": {"s3:PutObject", "s3:DeleteObject"},
        "${SiteBucket.Arn}/live/*": {"s3:PutObject"},
    }
    for function in ("run_phase", "api_handler", "sweep"):
        assert grants(function)["LiveVersions"] == switch, function
    for function in ("api_handler", "sweep"):  # they switch pointers and prune; they never write a version
        assert site_writes(function) == {
            "${SiteBucket.Arn}/sites/*": {"s3:DeleteObject"},
            "${SiteBucket.Arn}/live/*": {"s3:PutObject"},
        }, function
    assert not [f for f in ("bearer", "on_dead_letter") if "LiveVersions" in grants(f) or site_writes(f)]
    assert worker["ai-keys"] == {"secretsmanager:GetSecretValue"}
    assert worker["webhook-secrets"] == {"secretsmanager:GetSecretValue"}  # signs deliveries, never writes
    dead = grants("on_dead_letter")
    assert set(dead) == {"Stage", "DeadLetterQueue", "LogsTable", "DatabaseSecret", "DatabaseSecretArn"}
    assert dead["DatabaseSecret"] == db and dead["LogsTable"] == write_logs
    sweep = grants("sweep")
    assert sweep["GenerationQueue"] == {"sqs:SendMessage"} and "DeadLetterQueue" not in sweep
    assert sweep["SweepDeadLetterQueue"] == {
        "sqs:SendMessage"
    }  # Lambda sends failed ticks there as the function
    assert not [
        f
        for f in ("api_handler", "bearer", "run_phase", "on_dead_letter")
        if "SweepDeadLetterQueue" in grants(f)
    ]
    api = grants("api_handler")
    assert api["SiteBucket"] == {"s3:ListBucket", "s3:DeleteObject", "s3:PutObject"}  # health; prune; pointer
    assert api["DeadLetterQueue"] == {"sqs:GetQueueAttributes"}
    assert (
        "secretsmanager:GetSecretValue" not in api["webhook-secrets"]
    )  # writes secrets, never reads them back
    assert not [f for f in ("bearer", "on_dead_letter", "sweep") if "webhook-secrets" in grants(f)]
    assert "ApiTokenSecret" not in api and "ApiTokenSecret" not in worker


def test_the_only_other_role_is_api_gateways_log_role_made_on_request_and_kept(template):
    """API Gateway logs through one role per account and region (account settings), for all its APIs: AWS's
    own policy for it, trusted by apigateway.amazonaws.com only, made when SetApiGatewayLogRole is true
    (the default) and retained with the stack gone, as the account setting still points at it."""
    role = template["Resources"]["ApiGatewayLogRole"]
    assert role["Condition"] == "SetsApiGatewayLogRole"
    assert template["Conditions"]["SetsApiGatewayLogRole"] == {
        "Fn::Equals": [{"Ref": "SetApiGatewayLogRole"}, "true"]
    }
    assert template["Parameters"]["SetApiGatewayLogRole"]["Default"] == "true"
    assert role["DeletionPolicy"] == role["UpdateReplacePolicy"] == "Retain"
    p = role["Properties"]
    assert p["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    assert p["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"}
    ]
    assert "Policies" not in p
    account = template["Resources"]["ApiGatewayAccount"]
    assert account["Condition"] == "SetsApiGatewayLogRole"
    assert account["Properties"] == {"CloudWatchRoleArn": {"Fn::GetAtt": ["ApiGatewayLogRole", "Arn"]}}
