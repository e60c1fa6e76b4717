"""template.yaml: validity, functions and their handlers, layers, settings, IAM, schedules, alarms, storage."""

import ast
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file

from tarroitus.settings import Settings
from tests.events import scheduler_event
from tests.infrastructure.conftest import PROJECT_ROOT, TEMPLATE

#: Logical id -> folder under functions/ (STYLE: PascalCase name + "Function").
FUNCTIONS = {
    "ApiFunction": "api",
    "SierraSyncFunction": "sierra_sync",
    "SierraWritebackFunction": "sierra_writeback",
    "EtlFunction": "etl",
    "MigrateFunction": "migrate",
}
SCHEDULED = ("SierraSyncFunction", "SierraWritebackFunction", "EtlFunction")
DEAD_LETTER_QUEUE = "JobsDeadLetterQueue"
#: AWS-managed policies SAM attaches for logs, VPC networking and X-Ray; their actions take no resource ARNs.
ALLOWED_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}
#: The template's one role of its own: RDS Enhanced Monitoring, with the AWS-managed policy made for it.
MONITORING_ROLE = "DatabaseMonitoringRole"
MONITORING_POLICY = {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"}
#: What the CustomerManagedKey parameter puts under the stack's KMS key (resource type -> key property).
UNDER_DATA_KEY = {
    "AWS::SecretsManager::Secret": "KmsKeyId",
    "AWS::Logs::LogGroup": "KmsKeyId",
    "AWS::SNS::Topic": "KmsMasterKeyId",
}
#: checkov findings the template suppresses on purpose (each with its reason beside it), by resource.
SUPPRESSED_FINDINGS = {
    "Database": {"CKV_AWS_161"},
    "ParquetBucket": {"CKV_AWS_18"},
    **{logical_id: {"CKV_AWS_116"} for logical_id in FUNCTIONS},
}
#: Example values for what CloudFormation resolves at deploy time.
DEPLOYED_VALUES = {
    "ENV": "prod",
    "DB_HOST": "tarroitus.abcdefghijkl.eu-north-1.rds.amazonaws.com",
    "DB_PORT": "5432",
    "DB_NAME": "tarroitus",
    "DB_USER": "tarroitus",
    "DB_PASSWORD_SECRET_ARN": "arn:aws:secretsmanager:eu-north-1:123456789012:secret:db-AbCdEf",
    "SIERRA_API_ENDPOINT": "https://sierra.example.org/iii/sierra-api/v6",
    "SIERRA_API_CREDENTIALS_SECRET_ARN": "arn:aws:secretsmanager:eu-north-1:123456789012:secret:sierra-AbCdEf",
    "API_KEY_PEPPER": "q8Xn2Lr5Tz0Wc7Vb4Nm1Kj6Hg3Fd9Sa8Pq2Lw5Er7Ty0Ui3Op6As9Df1Gh4Jk7Lz",
    "PARQUET_BUCKET": "tarroitus-parquetbucket-1a2b3c4d5e6f",
    "ADMIN_API_KEY_SECRET_ARN": "arn:aws:secretsmanager:eu-north-1:123456789012:secret:admin-AbCdEf",
    "CORS_ORIGINS": "https://labels.example.org",
    "SYNC_FUNCTION_NAME": "tarroitus-prod-SierraSyncFunction-AbCdEfGh1234",
}


def _ref(value: Any) -> str | None:
    """The logical id a `!Ref` / `!GetAtt` points at."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return str(target[0] if isinstance(target, list) else target.split(".")[0])
    return None


def _environment(template: dict[str, Any], function: dict[str, Any]) -> dict[str, Any]:
    merged = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    merged.update(function.get("Environment", {}).get("Variables", {}))
    return merged


def _deployed_value(template: dict[str, Any], name: str, value: Any) -> str:
    """A literal as is, a parameter's default, else an example of what CloudFormation resolves."""
    if isinstance(value, str):
        return value
    parameter = template["Parameters"].get(value.get("Ref", "")) if isinstance(value, dict) else None
    if parameter is not None and "Default" in parameter:
        return str(parameter["Default"])
    return DEPLOYED_VALUES[name]


def _unconditional(statement: dict[str, Any]) -> dict[str, Any]:
    """A policy statement; a conditional one (`!If [condition, statement, NoValue]`) as its statement."""
    if "Fn::If" in statement:
        _, statement, otherwise = statement["Fn::If"]
        assert otherwise == {"Ref": "AWS::NoValue"}, statement
    return statement


def _statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        _unconditional(statement)
        for policy in function.get("Policies", [])
        if isinstance(policy, dict)
        for statement in policy.get("Statement", [])
    ]


def _flatten_resources(resource: Any) -> list[Any]:
    """The concrete resource values of a statement, both branches of an `!If` included."""
    if isinstance(resource, list):
        return [leaf for item in resource for leaf in _flatten_resources(item)]
    if isinstance(resource, dict) and "Fn::If" in resource:
        return _flatten_resources(resource["Fn::If"][1]) + _flatten_resources(resource["Fn::If"][2])
    return [resource]


def _alarms(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }


def _rate_seconds(expression: str) -> int:
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
    assert match, f"not a rate expression: {expression}"
    unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
    return int(match.group(1)) * unit


def test_template_parses_with_cloudformation_tags(template: dict[str, Any]) -> None:
    # Given / When: the session fixture parsed it
    # Then
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    assert template["Globals"]["Function"]["Layers"] == [
        {"Ref": "CoreLayer"},
        {"Fn::If": ["ReportErrors", {"Ref": "ErrorReportingLayer"}, {"Ref": "AWS::NoValue"}]},
    ]


def test_template_error_reporting_layer_exists_only_with_a_sentry_dsn(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # Given / When
    condition = template["Conditions"]["ReportErrors"]
    # Then: no DSN, no layer (and no sentry-sdk in any function's bundle)
    assert condition == {"Fn::Not": [{"Fn::Equals": [{"Ref": "SentryDsn"}, ""]}]}
    assert resources["ErrorReportingLayer"]["Condition"] == "ReportErrors"
    assert template["Parameters"]["SentryDsn"]["Default"] == ""
    assert template["Parameters"]["SentryDsn"]["NoEcho"] is True


def test_template_passes_sam_validate_lint(sam: Path) -> None:
    # Given: the installed SAM CLI, offline
    command = [str(sam), "validate", "--lint", "--template-file", str(TEMPLATE), "--region", "eu-north-1"]
    # When
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_ROOT,
        timeout=180,
        env={"PATH": str(sam.parent), "HOME": str(Path.home()), "SAM_CLI_TELEMETRY": "0"},
    )
    # Then
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "is a valid SAM Template" in completed.stdout


def test_template_passes_cfn_lint() -> None:
    # Given / When
    matches = lint_file(TEMPLATE, ManualArgs(regions=["eu-north-1"]))
    # Then
    assert [str(match) for match in matches] == []


def test_template_declares_the_five_functions(functions: dict[str, dict[str, Any]]) -> None:
    # Given / When / Then
    assert set(functions) == set(FUNCTIONS)


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_template_function_code_and_handler_exist(
    template: dict[str, Any], functions: dict[str, dict[str, Any]], logical_id: str
) -> None:
    # Given
    function = functions[logical_id]
    handler = function.get("Handler", template["Globals"]["Function"]["Handler"])
    module, _, attribute = handler.rpartition(".")
    # When
    code_dir = PROJECT_ROOT / function["CodeUri"]
    handler_file = code_dir / f"{module}.py"
    # Then
    assert function["CodeUri"] == f"functions/{FUNCTIONS[logical_id]}"
    assert handler_file.is_file(), f"{handler_file.relative_to(PROJECT_ROOT)} is missing"
    tree = ast.parse(handler_file.read_text())
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert attribute in defined


def test_template_functions_run_python313_on_arm64_with_the_core_layer(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    # Given
    globals_ = template["Globals"]["Function"]
    # When / Then
    assert globals_["Runtime"] == "python3.13"
    assert globals_["Architectures"] == ["arm64"]
    assert globals_["Tracing"] == "Active"
    for logical_id, function in functions.items():
        assert "Runtime" not in function and "Architectures" not in function, logical_id
        assert {"Ref": "CoreLayer"} not in function.get("Layers", []), f"{logical_id}: core comes from Globals"


def test_template_analytics_layer_is_attached_to_the_etl_only(functions: dict[str, dict[str, Any]]) -> None:
    # Given / When
    with_analytics = {
        logical_id
        for logical_id, function in functions.items()
        if {"Ref": "AnalyticsLayer"} in function.get("Layers", [])
    }
    # Then
    assert with_analytics == {"EtlFunction"}


def test_template_layers_build_for_python313_arm64(resources: dict[str, Any]) -> None:
    # Given: the core layer through its Makefile (the locked set as is, without the runtime's AWS SDK),
    # the analytics layer through SAM's python builder
    layers = {
        "CoreLayer": ("layers/core", "makefile"),
        "AnalyticsLayer": ("layers/analytics", "python3.13"),
        "ErrorReportingLayer": ("layers/error_reporting", "makefile"),
    }
    # When / Then
    for logical_id, (content_uri, build_method) in layers.items():
        layer = resources[logical_id]
        assert layer["Type"] == "AWS::Serverless::LayerVersion"
        assert layer["Properties"]["ContentUri"] == content_uri
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
        assert layer["Metadata"] == {"BuildMethod": build_method, "BuildArchitecture": "arm64"}
        assert (PROJECT_ROOT / content_uri / "requirements.txt").is_file()
    core_build = (PROJECT_ROOT / "layers" / "core" / "Makefile").read_text()
    assert "build-CoreLayer:" in core_build
    assert "--no-deps" in core_build and "--only-binary=:all:" in core_build
    assert "--python-version 3.13" in core_build and "aarch64" in core_build
    error_reporting_build = (PROJECT_ROOT / "layers" / "error_reporting" / "Makefile").read_text()
    assert "build-ErrorReportingLayer:" in error_reporting_build and "--no-deps" in error_reporting_build


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_template_environment_names_are_settings(
    template: dict[str, Any], functions: dict[str, dict[str, Any]], logical_id: str
) -> None:
    # Given
    environment = _environment(template, functions[logical_id])
    # When
    unknown = [
        name for name in environment if not name.startswith("POWERTOOLS_") and name.lower() not in Settings.model_fields
    ]
    # Then
    assert unknown == []


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_template_environment_makes_valid_prod_settings(
    template: dict[str, Any], functions: dict[str, dict[str, Any]], logical_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: the function's variables, with deploy-time values where CloudFormation resolves them
    for field in Settings.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)
    environment = _environment(template, functions[logical_id])
    for name, value in environment.items():
        monkeypatch.setenv(name, _deployed_value(template, name, value))
    monkeypatch.setenv("ENV", "prod")
    # When
    settings = Settings()
    # Then: the production checks (real database, pepper, Sierra credentials) pass
    assert settings.env == "prod"
    assert settings.db_host is not None
    assert settings.db_password_secret_arn is not None
    assert settings.sierra_api_credentials_secret_arn is not None


def test_template_jobs_get_only_their_own_settings(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    # Given / When
    bucket_users = {name for name, f in functions.items() if "PARQUET_BUCKET" in _environment(template, f)}
    admin_key_users = {name for name, f in functions.items() if "ADMIN_API_KEY_SECRET_ARN" in _environment(template, f)}
    # Then
    assert bucket_users == {"EtlFunction"}
    assert admin_key_users == {"MigrateFunction"}


def test_template_inline_policies_name_their_resources(functions: dict[str, dict[str, Any]]) -> None:
    # Given / When
    wildcards = [
        (logical_id, statement.get("Sid"), resource)
        for logical_id, function in functions.items()
        for statement in _statements(function)
        for resource in _flatten_resources(statement["Resource"])
        if resource == "*" or (isinstance(resource, str) and "*" in resource)
    ]
    # Then
    assert wildcards == []
    for function in functions.values():
        for statement in _statements(function):
            assert statement["Effect"] == "Allow"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert all("*" not in action for action in actions), statement


def test_template_api_starts_sync_runs_through_the_sync_function(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    # Given
    api = functions["ApiFunction"]
    # When
    invokes = [statement for statement in _statements(api) if statement["Action"] == "lambda:InvokeFunction"]
    function_name_users = {name for name, f in functions.items() if "SYNC_FUNCTION_NAME" in _environment(template, f)}
    # Then: never an in-process sync inside the API's 29 seconds
    assert _ref(api["Environment"]["Variables"]["SYNC_FUNCTION_NAME"]) == "SierraSyncFunction"
    assert function_name_users == {"ApiFunction"}
    assert [_ref(statement["Resource"]) for statement in invokes] == ["SierraSyncFunction"]


def test_template_s3_access_is_limited_to_the_parquet_prefix(functions: dict[str, dict[str, Any]]) -> None:
    # Given
    statements = {statement["Sid"]: statement for statement in _statements(functions["EtlFunction"])}
    # When
    objects = statements["WriteParquetObjects"]
    listing = statements["ListParquetPrefix"]
    # Then
    assert objects["Resource"] == {"Fn::Sub": "${ParquetBucket.Arn}/${ParquetPrefix}/*"}
    assert listing["Resource"] == {"Fn::GetAtt": ["ParquetBucket", "Arn"]}
    assert listing["Condition"]["StringLike"]["s3:prefix"] == [{"Fn::Sub": "${ParquetPrefix}/*"}]
    for logical_id, function in functions.items():
        if logical_id != "EtlFunction":
            assert not any("s3:" in str(statement["Action"]) for statement in _statements(function)), logical_id


def test_template_translated_roles_have_no_wildcard_resources(translated: dict[str, Any]) -> None:
    # Given
    roles = {
        logical_id: resource["Properties"]
        for logical_id, resource in translated["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
    }
    # When
    wildcards = [
        (logical_id, policy["PolicyName"], resource)
        for logical_id, role in roles.items()
        for policy in role.get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
        for resource in _flatten_resources(_unconditional(statement)["Resource"])
        if resource == "*" or (isinstance(resource, str) and "*" in resource)
    ]
    monitoring = roles.pop(MONITORING_ROLE)
    managed = {arn for role in roles.values() for arn in role.get("ManagedPolicyArns", [])}
    # Then: five function roles and one role per schedule, each naming its resources, and the monitoring role
    assert len(roles) == len(FUNCTIONS) + len(SCHEDULED)
    assert wildcards == []
    assert managed <= ALLOWED_MANAGED_POLICIES
    assert monitoring["ManagedPolicyArns"] == [MONITORING_POLICY]
    assert "Policies" not in monitoring
    trusted = monitoring["AssumeRolePolicyDocument"]["Statement"]
    assert [statement["Principal"] for statement in trusted] == [{"Service": "monitoring.rds.amazonaws.com"}]


@pytest.mark.parametrize("logical_id", SCHEDULED)
def test_template_scheduled_jobs_run_one_at_a_time(functions: dict[str, dict[str, Any]], logical_id: str) -> None:
    # Given / When
    function = functions[logical_id]
    # Then
    assert function["ReservedConcurrentExecutions"] == 1


@pytest.mark.parametrize("logical_id", SCHEDULED)
def test_template_schedules_retry_and_dead_letter(functions: dict[str, dict[str, Any]], logical_id: str) -> None:
    # Given
    events = functions[logical_id]["Events"]
    # When
    schedules = [event["Properties"] for event in events.values() if event["Type"] == "ScheduleV2"]
    # Then
    assert len(schedules) == 1
    schedule = schedules[0]
    assert schedule["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert schedule["RetryPolicy"]["MaximumEventAgeInSeconds"] >= 60
    assert _ref(schedule["DeadLetterConfig"]["Arn"]) == DEAD_LETTER_QUEUE
    assert _ref(schedule["ScheduleExpression"]) is not None, "the rate is a parameter"
    assert "${AWS::StackName}" in schedule["Name"]["Fn::Sub"], "names must not clash between stacks"


@pytest.mark.parametrize("logical_id", SCHEDULED)
def test_template_schedule_input_is_the_eventbridge_shape_the_handlers_take(
    functions: dict[str, dict[str, Any]], logical_id: str
) -> None:
    # Given: the Scheduler fills in its context attributes
    schedule = next(event["Properties"] for event in functions[logical_id]["Events"].values())
    text = schedule["Input"]["Fn::Sub"]
    for placeholder, value in {
        "${AWS::AccountId}": "123456789012",
        "${AWS::Region}": "eu-north-1",
        "<aws.scheduler.execution-id>": "c2a3b4d5-0000-4000-8000-000000000000",
        "<aws.scheduler.scheduled-time>": "2026-11-23T03:15:00Z",
        "<aws.scheduler.schedule-arn>": "arn:aws:scheduler:eu-north-1:123456789012:schedule/default/x",
    }.items():
        text = text.replace(placeholder, value)
    # When
    delivered = json.loads(text)
    # Then
    expected = scheduler_event()
    assert set(delivered) == set(expected)
    assert delivered["source"] == expected["source"] == "aws.scheduler"
    assert delivered["detail-type"] == expected["detail-type"]
    assert delivered["time"] == "2026-11-23T03:15:00Z"


@pytest.mark.parametrize("logical_id", SCHEDULED)
def test_template_failed_job_invocations_go_to_the_dead_letter_queue(
    functions: dict[str, dict[str, Any]], logical_id: str
) -> None:
    # Given / When
    config = functions[logical_id]["EventInvokeConfig"]
    # Then
    assert config["DestinationConfig"]["OnFailure"]["Type"] == "SQS"
    assert _ref(config["DestinationConfig"]["OnFailure"]["Destination"]) == DEAD_LETTER_QUEUE
    assert config["MaximumRetryAttempts"] <= 1


@pytest.mark.parametrize(
    ("logical_id", "parameter"),
    [("SierraSyncFunction", "SyncScheduleExpression"), ("SierraWritebackFunction", "WritebackScheduleExpression")],
)
def test_template_frequent_jobs_finish_before_their_next_run(
    template: dict[str, Any], functions: dict[str, dict[str, Any]], logical_id: str, parameter: str
) -> None:
    # Given
    interval = _rate_seconds(template["Parameters"][parameter]["Default"])
    # When
    timeout = functions[logical_id]["Timeout"]
    # Then
    assert timeout < interval


def test_template_migrate_runs_on_every_core_layer_change_before_the_other_functions(
    resources: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    # Given
    migration = resources["MigrateOnDeploy"]
    # When
    properties = migration["Properties"]
    # Then
    assert migration["Type"].startswith("Custom::")
    assert _ref(properties["ServiceToken"]) == "MigrateFunction"
    assert properties["CoreLayerVersion"] == {"Ref": "CoreLayer"}
    assert properties["ServiceTimeout"] > functions["MigrateFunction"]["Timeout"]
    for logical_id in set(FUNCTIONS) - {"MigrateFunction"}:
        assert resources[logical_id]["DependsOn"] == "MigrateOnDeploy", logical_id
    migrate = functions["MigrateFunction"]
    assert migrate["EventInvokeConfig"]["MaximumRetryAttempts"] == 0, "a failed deploy step must not run again"
    assert migrate["ReservedConcurrentExecutions"] == 1


def test_template_api_takes_every_path_with_throttling_and_access_logs(
    resources: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    # Given
    event = functions["ApiFunction"]["Events"]["Api"]
    api = resources["HttpApi"]["Properties"]
    # When / Then: no Path and no Method is SAM's $default route
    assert event["Type"] == "HttpApi"
    assert "Path" not in event["Properties"] and "Method" not in event["Properties"]
    assert _ref(event["Properties"]["ApiId"]) == "HttpApi"
    assert event["Properties"]["TimeoutInMillis"] <= 30000
    assert functions["ApiFunction"]["Timeout"] * 1000 <= event["Properties"]["TimeoutInMillis"]
    assert set(api["DefaultRouteSettings"]) == {"ThrottlingRateLimit", "ThrottlingBurstLimit"}
    assert _ref(api["AccessLogSettings"]["DestinationArn"]) == "ApiAccessLogGroup"
    assert "CORS_ORIGINS" in functions["ApiFunction"]["Environment"]["Variables"]


def test_template_translated_api_has_the_default_route(translated: dict[str, Any]) -> None:
    # Given
    body = translated["Resources"]["HttpApi"]["Properties"]["Body"]
    # When
    route = body["paths"]["$default"]["x-amazon-apigateway-any-method"]
    # Then
    assert route["isDefaultRoute"] is True
    assert route["x-amazon-apigateway-integration"]["payloadFormatVersion"] == "2.0"
    assert "ApiFunctionAliaslive" in route["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]


def test_template_api_cold_start_options_exclude_each_other(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    # Given
    api = functions["ApiFunction"]
    # When
    snapstart_condition = api["SnapStart"]["Fn::If"][0]
    provisioned_condition = api["ProvisionedConcurrencyConfig"]["Fn::If"][0]
    # Then: one parameter picks at most one of them
    assert api["AutoPublishAlias"] == "live"
    assert template["Conditions"][snapstart_condition] == {"Fn::Equals": [{"Ref": "ApiColdStartMode"}, "snapstart"]}
    assert template["Conditions"][provisioned_condition] == {"Fn::Equals": [{"Ref": "ApiColdStartMode"}, "provisioned"]}


def test_template_alarms_cover_errors_throttles_and_dead_letters(resources: dict[str, Any]) -> None:
    # Given
    alarms = _alarms(resources)
    # When
    watched = {
        (alarm["Namespace"], alarm["MetricName"], _ref(dimension["Value"]) or dimension["Value"])
        for alarm in alarms.values()
        for dimension in alarm["Dimensions"]
    }
    # Then
    for logical_id in FUNCTIONS:
        assert ("AWS/Lambda", "Errors", logical_id) in watched
    for logical_id in ("ApiFunction", *SCHEDULED):
        assert ("AWS/Lambda", "Throttles", logical_id) in watched
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", DEAD_LETTER_QUEUE) in watched
    assert ("Tarroitus", "WritebackDeadLettered", "tarroitus") in watched
    assert ("AWS/ApiGateway", "5xx", "HttpApi") in watched
    for logical_id, alarm in alarms.items():
        assert [_ref(action) for action in alarm["AlarmActions"]] == ["AlarmTopic"], logical_id


def test_template_dead_letter_queue_is_encrypted_and_keeps_messages(resources: dict[str, Any]) -> None:
    # Given / When
    queue = resources[DEAD_LETTER_QUEUE]["Properties"]
    # Then
    assert queue["KmsMasterKeyId"] == "alias/aws/sqs"
    assert "SqsManagedSseEnabled" not in queue
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_template_bucket_is_encrypted_versioned_private_and_tls_only(resources: dict[str, Any]) -> None:
    # Given
    bucket = resources["ParquetBucket"]
    policy = resources["ParquetBucketPolicy"]["Properties"]
    # When
    properties = bucket["Properties"]
    deny = [statement for statement in policy["PolicyDocument"]["Statement"] if statement["Effect"] == "Deny"]
    # Then
    encryption = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert all(properties["PublicAccessBlockConfiguration"].values())
    assert len(properties["PublicAccessBlockConfiguration"]) == 4
    assert bucket["DeletionPolicy"] == "Retain"
    rules = properties["LifecycleConfiguration"]["Rules"]
    assert any("NoncurrentVersionExpiration" in rule for rule in rules)
    assert any("AbortIncompleteMultipartUpload" in rule for rule in rules)
    assert _ref(policy["Bucket"]) == "ParquetBucket"
    assert len(deny) == 1
    assert deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny[0]["Principal"] == "*"
    assert deny[0]["Action"] == "s3:*"


def test_template_database_is_private_encrypted_with_a_generated_password(resources: dict[str, Any]) -> None:
    # Given
    database = resources["Database"]
    secret = resources["DatabaseSecret"]["Properties"]
    # When
    properties = database["Properties"]
    # Then
    assert database["Condition"] == "CreateDatabase"
    assert properties["Engine"] == "postgres"
    assert properties["PubliclyAccessible"] is False
    assert properties["StorageEncrypted"] is True
    assert database["DeletionPolicy"] == "Snapshot"
    assert secret["GenerateSecretString"]["GenerateStringKey"] == "password"
    assert "DatabaseSecret" in properties["MasterUserPassword"]["Fn::Sub"]
    ingress = resources["DatabaseSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert [_ref(rule["SourceSecurityGroupId"]) for rule in ingress] == ["FunctionSecurityGroup"]


def test_template_database_is_multi_az_and_monitored_unless_turned_off(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # Given
    parameters = template["Parameters"]
    # When
    properties = resources["Database"]["Properties"]
    # Then: the defaults are what production needs; a dev stack opts out in samconfig.toml
    assert properties["MultiAZ"] == {"Ref": "DbMultiAz"}
    assert parameters["DbMultiAz"]["Default"] == "true"
    assert properties["MonitoringInterval"] == {"Ref": "DbMonitoringIntervalSeconds"}
    assert parameters["DbMonitoringIntervalSeconds"]["Default"] == 60
    assert 0 in parameters["DbMonitoringIntervalSeconds"]["AllowedValues"]
    assert properties["MonitoringRoleArn"] == {
        "Fn::If": ["MonitorDatabase", {"Fn::GetAtt": ["DatabaseMonitoringRole", "Arn"]}, {"Ref": "AWS::NoValue"}]
    }
    assert resources[MONITORING_ROLE]["Condition"] == "MonitorDatabase"


def test_template_customer_managed_key_encrypts_secrets_logs_environment_and_alarms(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # Given
    under_key = {"Fn::If": ["UseCustomerManagedKey", {"Fn::GetAtt": ["DataKey", "Arn"]}, {"Ref": "AWS::NoValue"}]}
    key = resources["DataKey"]
    # When
    covered = {
        logical_id: resource["Properties"].get(UNDER_DATA_KEY[resource["Type"]])
        for logical_id, resource in resources.items()
        if resource["Type"] in UNDER_DATA_KEY
    }
    # Then: every secret, log group and the topic, and every function's environment (it holds the pepper)
    assert {logical_id: value for logical_id, value in covered.items() if value != under_key} == {}
    assert len(covered) == 4 + 6 + 1
    assert template["Globals"]["Function"]["KmsKeyArn"] == under_key
    assert template["Parameters"]["CustomerManagedKey"]["Default"] == "true"
    assert template["Conditions"]["UseCustomerManagedKey"] == {"Fn::Equals": [{"Ref": "CustomerManagedKey"}, "true"]}
    assert key["Condition"] == "UseCustomerManagedKey"
    assert key["Properties"]["EnableKeyRotation"] is True
    # The retained pepper secret is encrypted with it, so the key outlives the stack too.
    assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == "Retain"
    assert resources["ApiKeyPepperSecret"]["DeletionPolicy"] == "Retain"


def test_template_data_key_policy_names_each_service_it_serves(resources: dict[str, Any]) -> None:
    # Given
    statements = resources["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
    # When
    principals = {statement["Sid"]: statement["Principal"] for statement in statements}
    by_service = {str(statement["Principal"].get("Service")): statement for statement in statements}
    # Then: the account's IAM policies (the functions' roles), CloudWatch Logs for this account's log
    # groups, and CloudWatch alarms publishing to the topic; no wildcard principal
    assert len(statements) == 3
    assert principals["AccountIamPolicies"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
    logs = by_service[str({"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"})]
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"
    }
    assert by_service["cloudwatch.amazonaws.com"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert all(statement["Principal"] != "*" for statement in statements)


def test_template_suppressed_scanner_findings_are_the_known_ones_each_with_its_reason(
    resources: dict[str, Any],
) -> None:
    # Given
    skips = {
        logical_id: resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
        for logical_id, resource in resources.items()
    }
    # When
    suppressed = {logical_id: {skip["id"] for skip in entries} for logical_id, entries in skips.items() if entries}
    # Then: a new suppression is a deliberate change here too, and says why in one line
    assert suppressed == SUPPRESSED_FINDINGS
    for logical_id, entries in skips.items():
        for skip in entries:
            assert set(skip) == {"id", "comment"}, logical_id
            assert len(skip["comment"]) > 40 and "\n" not in skip["comment"], logical_id


def test_template_pepper_comes_from_a_retained_generated_secret(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # Given
    secret = resources["ApiKeyPepperSecret"]
    # When
    pepper = template["Globals"]["Function"]["Environment"]["Variables"]["API_KEY_PEPPER"]
    # Then
    assert pepper == {"Fn::Sub": "{{resolve:secretsmanager:${ApiKeyPepperSecret}:SecretString:pepper}}"}
    assert secret["DeletionPolicy"] == "Retain"
    assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32


def test_template_outputs_the_api_url_and_the_bucket(template: dict[str, Any]) -> None:
    # Given / When
    outputs = template["Outputs"]
    # Then
    assert "${HttpApi}.execute-api" in outputs["ApiUrl"]["Value"]["Fn::Sub"]
    assert _ref(outputs["ParquetBucketName"]["Value"]) == "ParquetBucket"
    assert _ref(outputs["AdminApiKeySecretArn"]["Value"]) == "AdminApiKeySecret"
