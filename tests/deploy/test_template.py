"""The packaged template: it parses, passes cfn-lint, and holds the resources and settings the system needs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from chalicelib.adapters.s3_sites import SITE_HEADERS_CSP
from infra.package import function_setting
from tests.support.template import FUNCTIONS, props, resources_of, role_of

# The first custom domain when the stage has one (and its certificate), else the distribution's own name.
SITE_BASE_URL = {
    "Fn::If": [
        "HasSiteDomain",
        {"Fn::Sub": ["https://${Name}", {"Name": {"Fn::Select": [0, {"Ref": "SiteDomainNames"}]}}]},
        {"Fn::Sub": "https://${SiteDistribution.DomainName}"},
    ]
}


def test_it_parses_as_one_sam_template_without_yaml_aliases(packaged_paths, template, stage):
    text = (packaged_paths[stage] / "sam.yaml").read_text()
    assert "&id0" not in text and "*id0" not in text  # CloudFormation rejects YAML anchors
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    assert (packaged_paths[stage] / "deployment.zip").stat().st_size > 1_000_000
    assert template["Parameters"]["Stage"]["Default"] == stage
    assert template["Parameters"]["Stage"]["AllowedValues"] == [stage]


def test_cfn_lint_finds_no_errors_or_warnings(packaged_paths, stage):
    lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(lint), "--format", "parseable", "--", str(packaged_paths[stage] / "sam.yaml")],
        capture_output=True,
        text=True,
    )
    # Exit code: 2 = errors, 4 = warnings (informational findings, e.g. I3011, are not included).
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_api_and_every_function(template, stage):
    assert props(template, "RestAPI")["StageName"] == "api"
    functions = resources_of(template, "AWS::Serverless::Function")
    assert set(functions) == set(FUNCTIONS)
    for logical, name in FUNCTIONS.items():
        p = functions[logical]["Properties"]
        assert p["FunctionName"] == {"Fn::Sub": f"sitegen-${{Stage}}-{name}"}
        assert p["Role"] == {"Fn::GetAtt": [role_of(name), "Arn"]}
        assert p["Runtime"] == "python3.11"
    globals_env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert globals_env["SITEGEN_QUEUE_URL"] == {"Ref": "GenerationQueue"}
    assert globals_env["SITEGEN_LOGS_TABLE"] == {"Ref": "LogsTable"}
    assert globals_env["SITEGEN_SITE_BUCKET"] == {"Ref": "SiteBucket"}
    assert (
        globals_env["SITEGEN_SITE_BASE_URL"] == SITE_BASE_URL == template["Outputs"]["SiteBaseUrl"]["Value"]
    )
    assert globals_env["SITEGEN_SECRETS_PREFIX"] == {"Fn::Sub": "sitegen/${Stage}/ai/"}
    assert globals_env["SITEGEN_WEBHOOK_SECRETS_PREFIX"] == {"Fn::Sub": "sitegen/${Stage}/webhooks/"}
    # The authorizer alone gets the token digests, and never the database.
    bearer_env = props(template, "Bearer")["Environment"]["Variables"]
    assert bearer_env["SITEGEN_API_TOKEN_SECRET_ID"] == {"Ref": "ApiTokenSecret"}
    assert bearer_env["SITEGEN_DATABASE_SECRET_ID"] == ""
    for logical in set(FUNCTIONS) - {"Bearer"}:
        assert "SITEGEN_API_TOKEN_SECRET_ID" not in props(template, logical).get("Environment", {}).get(
            "Variables", {}
        )


def test_gateway_answers_unknown_routes_without_echoing_the_request(template):
    by_type = props(template, "RestAPI")["GatewayResponses"]
    assert set(by_type) == {"MISSING_AUTHENTICATION_TOKEN", "INVALID_SIGNATURE"}
    for response in by_type.values():
        body = response["ResponseTemplates"]["application/json"]
        assert "$" not in body  # static: no $context.error.message, nothing from the request
    assert by_type["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == 404


def test_queue_redrive_and_visibility_derived_from_the_worker_timeout(template, stage):
    queue, dlq = props(template, "GenerationQueue"), props(template, "DeadLetterQueue")
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]},
        "maxReceiveCount": {"Ref": "MaxReceiveCount"},
    }
    assert queue["VisibilityTimeout"] == {"Ref": "VisibilityTimeoutSeconds"}
    assert props(template, "RunPhase")["Timeout"] == {"Ref": "WorkerTimeoutSeconds"}
    params = template["Parameters"]
    worker_timeout = function_setting(stage, "run_phase", "lambda_timeout")
    assert params["WorkerTimeoutSeconds"]["Default"] == worker_timeout
    assert params["VisibilityTimeoutSeconds"]["Default"] == 6 * worker_timeout
    assert dlq["MessageRetentionPeriod"] == 1209600 > queue["MessageRetentionPeriod"]
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["SITEGEN_WORKER_TIMEOUT_S"] == {"Ref": "WorkerTimeoutSeconds"}  # checked at cold start
    assert env["SITEGEN_VISIBILITY_TIMEOUT_S"] == {"Ref": "VisibilityTimeoutSeconds"}


def test_event_sources_and_schedule(template):
    [(_, worker)] = props(template, "RunPhase")["Events"].items()
    assert worker["Type"] == "SQS"
    assert worker["Properties"]["Queue"] == {
        "Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${GenerationQueue.QueueName}"
    }
    assert worker["Properties"]["BatchSize"] == 1
    [(_, dead)] = props(template, "OnDeadLetter")["Events"].items()
    assert dead["Properties"]["Queue"] == {
        "Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${DeadLetterQueue.QueueName}"
    }
    assert dead["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 2}
    [(_, schedule)] = props(template, "Sweep")["Events"].items()
    assert schedule == {"Type": "Schedule", "Properties": {"Schedule": "rate(1 minute)"}}


def test_the_sweepers_failed_ticks_go_to_their_own_queue_without_retries(template):
    sweep = props(template, "Sweep")
    assert sweep["DeadLetterQueue"] == {
        "Type": "SQS",
        "TargetArn": {"Fn::GetAtt": ["SweepDeadLetterQueue", "Arn"]},
    }
    # The next tick, a minute later, does the same work: no retry, and no tick older than a minute.
    assert sweep["EventInvokeConfig"] == {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}
    queue = props(template, "SweepDeadLetterQueue")
    assert queue["QueueName"] == {"Fn::Sub": "sitegen-${Stage}-sweep-dlq"}
    assert queue["MessageRetentionPeriod"] == 1209600 and "RedrivePolicy" not in queue
    # Only the sweeper is invoked asynchronously; the others are called by API Gateway or polled from SQS.
    assert [
        n
        for n in FUNCTIONS
        if "DeadLetterQueue" in props(template, n) or "EventInvokeConfig" in props(template, n)
    ] == ["Sweep"]


def test_logs_table_on_demand_with_ttl_and_point_in_time_recovery(template):
    table = props(template, "LogsTable")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_site_bucket_is_private_encrypted_and_served_by_cloudfront(template):
    bucket = props(template, "SiteBucket")
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    allow, deny = props(template, "SiteBucketPolicy")["PolicyDocument"]["Statement"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"} and allow["Action"] == "s3:GetObject"
    assert "${SiteDistribution}" in allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    config = props(template, "SiteDistribution")["DistributionConfig"]
    assert config["Origins"][0]["OriginAccessControlId"] == {"Fn::GetAtt": ["SiteOriginAccessControl", "Id"]}
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    headers = props(template, "SiteHeaders")["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    # Production serves sites with the same Content-Security-Policy as the local site server.
    assert headers["ContentSecurityPolicy"]["ContentSecurityPolicy"] == SITE_HEADERS_CSP


def test_site_bucket_keeps_replaced_and_deleted_pages_for_30_days(template):
    p = props(template, "SiteBucket")
    assert p["VersioningConfiguration"] == {"Status": "Enabled"}
    [rule] = p["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled" and "Prefix" not in rule and "Filter" not in rule  # the whole bucket
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert rule["ExpiredObjectDeleteMarker"] is True
    assert "ExpirationInDays" not in rule  # current versions, i.e. published sites, never expire


def test_cloudfront_and_the_site_bucket_write_access_logs_to_a_private_bucket_that_expires_them(template):
    config = props(template, "SiteDistribution")["DistributionConfig"]
    assert config["Logging"] == {
        "Bucket": {"Fn::GetAtt": ["AccessLogBucket", "DomainName"]},
        "Prefix": "cloudfront/",
        "IncludeCookies": False,
    }
    assert props(template, "SiteBucket")["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": "AccessLogBucket"},
        "LogFilePrefix": "s3/sites/",
    }
    logs = template["Resources"]["AccessLogBucket"]
    assert logs["DeletionPolicy"] == logs["UpdateReplacePolicy"] == "Retain"
    p = logs["Properties"]
    assert "BucketName" not in p  # generated: a stage made again gets a new one next to the retained one
    assert (
        set(p["PublicAccessBlockConfiguration"].values()) == {True}
        and len(p["PublicAccessBlockConfiguration"]) == 4
    )
    # SSE-S3: S3 does not deliver server access logs to an SSE-KMS bucket.
    assert p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    # CloudFront's standard logs come with an ACL, so ACLs must be on; the bucket still owns the objects.
    assert p["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerPreferred"}]
    [rule] = p["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled" and rule["ExpirationInDays"] == {"Ref": "LogRetentionInDays"}
    [statement] = props(template, "AccessLogBucketPolicy")["PolicyDocument"]["Statement"]
    assert (
        statement["Principal"] == {"Service": "logging.s3.amazonaws.com"}
        and statement["Action"] == "s3:PutObject"
    )
    assert statement["Resource"] == {"Fn::Sub": "${AccessLogBucket.Arn}/s3/sites/*"}
    assert statement["Condition"]["ArnLike"] == {"aws:SourceArn": {"Fn::GetAtt": ["SiteBucket", "Arn"]}}


def test_sites_need_tls_1_2_on_a_custom_domain_and_stay_on_cloudfront_net_without_one(template):
    params, config = template["Parameters"], props(template, "SiteDistribution")["DistributionConfig"]
    assert params["SiteCertificateArn"]["Default"] == "" and params["SiteDomainNames"]["Default"] == ""
    pattern = re.compile(params["SiteCertificateArn"]["AllowedPattern"])
    assert pattern.match(
        "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    )
    assert pattern.match("") and not pattern.match("arn:aws:acm:eu-west-1:123456789012:certificate/0a1b")
    domain, custom, default = config["ViewerCertificate"]["Fn::If"]
    assert domain == "HasSiteDomain"
    assert custom == {
        "AcmCertificateArn": {"Ref": "SiteCertificateArn"},
        "SslSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }
    assert default == {"CloudFrontDefaultCertificate": True}
    assert config["Aliases"] == {
        "Fn::If": ["HasSiteDomain", {"Ref": "SiteDomainNames"}, {"Ref": "AWS::NoValue"}]
    }
    # Both or neither: a certificate without names (or names without one) leaves the default.
    assert template["Conditions"]["HasSiteDomain"] == {
        "Fn::And": [
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "SiteCertificateArn"}, ""]}]},
            {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "SiteDomainNames"}]}, ""]}]},
        ]
    }


def test_secrets_hold_placeholders_only(template):
    secrets = resources_of(template, "AWS::SecretsManager::Secret")
    assert set(secrets) == {"ApiTokenSecret", "DatabaseSecret"}
    assert secrets["DatabaseSecret"]["Condition"] == "CreateDatabaseSecret"
    assert {s["Properties"]["SecretString"] for s in secrets.values()} == {"unset"}
    assert props(template, "ApiTokenSecret")["Name"] == {"Fn::Sub": "sitegen/${Stage}/api-token-sha256"}


def test_alarms_on_dead_letters_queue_age_and_worker_errors(template):
    alarms = {
        (p["Namespace"], p["MetricName"], str(p["Dimensions"][0]["Value"])): p
        for p in (r["Properties"] for r in resources_of(template, "AWS::CloudWatch::Alarm").values())
    }
    dlq_name = "{'Fn::GetAtt': ['DeadLetterQueue', 'QueueName']}"
    queue_name = "{'Fn::GetAtt': ['GenerationQueue', 'QueueName']}"
    worker = "{'Fn::Sub': 'sitegen-${Stage}-run_phase'}"
    for key in [
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", dlq_name),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage", queue_name),
        ("AWS/Lambda", "Errors", worker),
        ("AWS/Lambda", "Throttles", worker),
    ]:
        assert key in alarms, key
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        assert alarm["TreatMissingData"] == "notBreaching"


def test_every_function_and_the_api_have_a_log_group_with_the_stages_retention(template, stage):
    groups = {
        r["Properties"]["LogGroupName"]["Fn::Sub"]: r["Properties"]["RetentionInDays"]
        for r in resources_of(template, "AWS::Logs::LogGroup").values()
    }
    retention = function_setting(stage, "run_phase", "log_retention_in_days")
    assert retention in (14, 90)
    assert template["Parameters"]["LogRetentionInDays"]["Default"] == retention
    assert groups == {
        **{f"/aws/lambda/${{{logical}}}": retention for logical in FUNCTIONS},
        "/aws/apigateway/sitegen-${Stage}/access": {"Ref": "LogRetentionInDays"},
    }


def test_the_api_stage_writes_access_logs_without_the_authorization_header(template):
    api = template["Resources"]["RestAPI"]
    setting = api["Properties"]["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    fields = json.loads(setting["Format"])  # one JSON object a request
    assert {"requestId", "ip", "status", "route", "latencyMs", "errorType"} <= set(fields)
    assert all(v.startswith("$context.") for v in fields.values())
    # For an unknown route API Gateway's error message quotes the request's Authorization header.
    assert not [v for v in fields.values() if v == "$context.error.message" or "header" in v.lower()]
    # The stage is made after API Gateway's account has its log role (when this stack sets it).
    assert api["DependsOn"] == "ApiGatewayLogRoleReady"
    ready = template["Resources"]["ApiGatewayLogRoleReady"]
    assert ready["Metadata"] == {
        "ApiGatewayAccount": {"Fn::If": ["SetsApiGatewayLogRole", {"Ref": "ApiGatewayAccount"}, ""]}
    }


def test_api_tracing_is_a_parameter_on_in_prod(template, stage):
    assert props(template, "RestAPI")["TracingEnabled"] == {"Ref": "ApiTracing"}
    tracing = template["Parameters"]["ApiTracing"]
    assert tracing["AllowedValues"] == ["true", "false"]
    assert tracing["Default"] == {"prod": "true", "dev": "false"}[stage]


def test_parameters_for_database_and_vpc(template):
    params = template["Parameters"]
    for name in ("DatabaseSecretArn", "DatabaseHost", "SubnetIds", "SecurityGroupIds"):
        assert params[name]["Default"] == ""
    assert params["SubnetIds"]["Type"] == "CommaDelimitedList"
    vpc = template["Globals"]["Function"]["VpcConfig"]["Fn::If"]
    assert vpc[0] == "HasVpc" and vpc[1] == {
        "SubnetIds": {"Ref": "SubnetIds"},
        "SecurityGroupIds": {"Ref": "SecurityGroupIds"},
    }
    assert vpc[2] == {"Ref": "AWS::NoValue"}
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["SITEGEN_DATABASE_SECRET_ID"] == {
        "Fn::If": ["CreateDatabaseSecret", {"Ref": "DatabaseSecret"}, {"Ref": "DatabaseSecretArn"}]
    }
    assert env["SITEGEN_DATABASE_HOST"] == {"Ref": "DatabaseHost"}


def test_stage_throttling_and_the_authorizers_result_ttl(template):
    from chalicelib.auth import TOKEN_TTL_S

    api = props(template, "RestAPI")
    limits = {(s["ResourcePath"], s["HttpMethod"]): s for s in api["MethodSettings"]}
    everything, health = limits[("/*", "*")], limits[("/~1health", "GET")]  # GET /health needs no token
    assert 0 < everything["ThrottlingRateLimit"] <= everything["ThrottlingBurstLimit"]
    assert 0 < health["ThrottlingRateLimit"] < everything["ThrottlingRateLimit"]
    authorizer = api["DefinitionBody"]["securityDefinitions"]["bearer"]["x-amazon-apigateway-authorizer"]
    assert (
        authorizer["authorizerResultTtlInSeconds"] == TOKEN_TTL_S <= 300
    )  # as often as the tokens are re-read
