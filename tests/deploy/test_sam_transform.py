"""AWS's own SAM transform (aws-sam-translator, in `.venv-sam`) turns each stage's packaged template
into the plain CloudFormation a deploy would create, and cfn-lint finds nothing wrong with that either:
what `chalice package` writes is checked past the transform, up to the `aws cloudformation deploy`
that cannot run here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.package import function_setting
from tests.deploy.conftest import ROOT, tool_python
from tests.support.template import FUNCTIONS, resources_of


@pytest.fixture(scope="session")
def transformed(packaged_paths: dict[str, Path]) -> dict[str, Path]:
    sam_python = tool_python(".venv-sam", "the SAM transform")
    paths = {}
    for stage, folder in packaged_paths.items():
        sam = json.dumps(yaml.safe_load((folder / "sam.yaml").read_text()), default=str)
        result = subprocess.run(
            [str(sam_python), str(ROOT / "infra" / "sam_transform.py")],
            input=sam,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        paths[stage] = folder / "cloudformation.json"
        paths[stage].write_text(result.stdout)
    return paths


def load(transformed: dict[str, Path], stage: str) -> dict[str, Any]:
    return json.loads(transformed[stage].read_text())


def test_the_transform_leaves_only_plain_cloudformation(transformed, stage):
    template = load(transformed, stage)
    kinds = {r["Type"] for r in template["Resources"].values()}
    assert not any(k.startswith("AWS::Serverless::") for k in kinds), kinds
    assert "Transform" not in template
    assert {
        "AWS::Lambda::Function",
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::Deployment",
        "AWS::Lambda::EventSourceMapping",
        "AWS::Events::Rule",
        "AWS::SQS::Queue",
    } <= kinds


def test_cfn_lint_finds_nothing_in_the_transformed_template(transformed, stage):
    lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(lint), "--format", "parseable", "--", str(transformed[stage])], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_function_keeps_its_settings_through_the_transform(transformed, stage):
    functions = resources_of(load(transformed, stage), "AWS::Lambda::Function")
    assert set(functions) == set(FUNCTIONS)
    for logical, name in FUNCTIONS.items():
        p = functions[logical]["Properties"]
        assert p["MemorySize"] == function_setting(stage, name, "lambda_memory_size") == 256
        timeout = p["Timeout"]
        if name == "run_phase":  # a parameter, so the queue's visibility timeout is derived from it
            assert timeout == {"Ref": "WorkerTimeoutSeconds"}
            timeout = load(transformed, stage)["Parameters"]["WorkerTimeoutSeconds"]["Default"]
        assert timeout == function_setting(stage, name, "lambda_timeout")
        assert p["Code"] == {"S3Bucket": "sitegen-artifacts", "S3Key": "sitegen/deployment.zip"}


def test_the_queues_feed_their_functions_one_message_at_a_time_with_a_cap(transformed, stage):
    template = load(transformed, stage)
    mappings = {
        m["Properties"]["FunctionName"]["Ref"]: m["Properties"]
        for m in resources_of(template, "AWS::Lambda::EventSourceMapping").values()
    }
    assert set(mappings) == {"RunPhase", "OnDeadLetter"}
    workers = int(
        function_setting(stage, "run_phase", "environment_variables")["SITEGEN_WORKER_MAX_CONCURRENCY"]
    )
    assert mappings["RunPhase"]["ScalingConfig"] == {"MaximumConcurrency": workers}
    assert mappings["OnDeadLetter"]["ScalingConfig"] == {"MaximumConcurrency": 2}
    for mapping in mappings.values():
        assert mapping["BatchSize"] == 1
    assert "GenerationQueue" in json.dumps(mappings["RunPhase"]["EventSourceArn"])
    assert "DeadLetterQueue" in json.dumps(mappings["OnDeadLetter"]["EventSourceArn"])


def test_the_api_keeps_its_gateway_responses_and_authorizer(transformed, stage):
    template = load(transformed, stage)
    (api,) = resources_of(template, "AWS::ApiGateway::RestApi").values()
    body = api["Properties"]["Body"]
    responses = body["x-amazon-apigateway-gateway-responses"]
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["statusCode"] == "404"
    assert json.loads(missing["responseTemplates"]["application/json"])["code"] == "not_found"
    assert "$context" not in json.dumps(responses)  # nothing of the request (e.g. its token) echoed back
    assert "Bearer" in json.dumps(body["securityDefinitions"])


def test_the_api_stage_keeps_access_logs_and_tracing_and_waits_for_the_log_role(transformed, stage):
    template = load(transformed, stage)
    (stage_resource,) = resources_of(template, "AWS::ApiGateway::Stage").values()
    p = stage_resource["Properties"]
    assert p["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    assert p["TracingEnabled"] == {"Ref": "ApiTracing"}
    # Stage -> Deployment -> RestApi -> ApiGatewayLogRoleReady -> ApiGatewayAccount (when the stack sets it).
    (deployment,) = resources_of(template, "AWS::ApiGateway::Deployment")
    assert p["DeploymentId"] == {"Ref": deployment}
    (api,) = resources_of(template, "AWS::ApiGateway::RestApi").values()
    assert api["DependsOn"] == "ApiGatewayLogRoleReady"
    assert "ApiGatewayAccount" in json.dumps(template["Resources"]["ApiGatewayLogRoleReady"]["Metadata"])


def test_the_sweeper_keeps_its_dead_letter_queue_and_no_retries(transformed, stage):
    template = load(transformed, stage)
    functions = resources_of(template, "AWS::Lambda::Function")
    assert functions["Sweep"]["Properties"]["DeadLetterConfig"] == {
        "TargetArn": {"Fn::GetAtt": ["SweepDeadLetterQueue", "Arn"]}
    }
    assert [n for n, f in functions.items() if "DeadLetterConfig" in f["Properties"]] == ["Sweep"]
    (config,) = resources_of(template, "AWS::Lambda::EventInvokeConfig").values()
    p = config["Properties"]
    assert p["FunctionName"] == {"Ref": "Sweep"} and p["Qualifier"] == "$LATEST"
    assert (p["MaximumRetryAttempts"], p["MaximumEventAgeInSeconds"]) == (0, 60)
