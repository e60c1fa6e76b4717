"""Functions without the analytics layer must not import what only that layer carries."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tarroitus.api.app import create_app
from tarroitus.settings import Settings
from tests.infrastructure.conftest import PROJECT_ROOT

ANALYTICS_MODULES = {"polars", "_polars_runtime_32", "pyarrow", "pandas", "numpy"}
CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
import handler
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _functions_without_analytics() -> list[str]:
    from cfnlint.decode import cfn_yaml

    template: dict[str, Any] = cfn_yaml.load(str(PROJECT_ROOT / "template.yaml"))
    return sorted(
        resource["Properties"]["CodeUri"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
        and {"Ref": "AnalyticsLayer"} not in resource["Properties"].get("Layers", [])
    )


def _run_in_fresh_interpreter(function_dir: Path, child: str, environment: dict[str, str]) -> Any:
    """What `child` prints last (JSON), run by a new interpreter in the function's folder, as a cold start."""
    completed = subprocess.run(
        [sys.executable, "-c", child, str(function_dir)],
        capture_output=True,
        text=True,
        check=False,
        cwd=function_dir,
        env={**os.environ, "ENV": "test", "POWERTOOLS_SERVICE_NAME": "tarroitus", **environment},
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("code_uri", _functions_without_analytics())
def test_handler_without_the_analytics_layer_imports_no_analytics_package(code_uri: str) -> None:
    # Given: a fresh interpreter, as a Lambda cold start
    assert (PROJECT_ROOT / code_uri / "handler.py").is_file(), f"{code_uri}/handler.py is missing"
    # When
    imported = set(_run_in_fresh_interpreter(PROJECT_ROOT / code_uri, CHILD, {}))
    # Then
    assert imported & ANALYTICS_MODULES == set()


#: What the API must not load at a cold start (bench/cold_start.py: < 600 ms of imports): the AWS SDK
#: (the X-Ray SDK patches it when something first imports it), the Sierra client and httpx, the sync
#: engine, GraphQL (strawberry, graphql-core), Alembic and polars; each comes with the route that needs it.
LAZY_IN_THE_API = {
    "boto3",
    # Powertools imports the bare botocore package (a few milliseconds) to register its user agent.
    "botocore.client",
    "httpx",
    "strawberry",
    "graphql",
    "alembic",
    "polars",
    # The Sentry SDK (most of a second): only once SENTRY_DSN is set (tarroitus/error_reporting.py).
    "sentry_sdk",
    "tarroitus.sierra.client",
    "tarroitus.jobs.sierra_sync",
    "tarroitus.services.sync.changes",
    "tarroitus.services.sync.full",
    "tarroitus.services.sync.pages",
}
MODULES_CHILD = """
import json, sys
import handler
print(json.dumps(sorted(sys.modules)))
"""
LAMBDA_CHILD = """
import json, sys
import handler
imported = set(sys.modules)
import boto3, botocore.client, httpx
print(json.dumps({
    "imported": sorted(imported),
    "xray_botocore": hasattr(botocore.client, "_xray_enabled"),
    "xray_httpx": "aws_xray_sdk.ext.httpx.patch" in sys.modules,
}))
"""


def test_api_handler_imports_no_route_only_dependency_and_traces_them_once_imported() -> None:
    # Given: a fresh interpreter configured like the Lambda, so Powertools Tracer is on and would patch
    api = PROJECT_ROOT / "functions" / "api"
    lambda_like = {
        "POWERTOOLS_TRACE_DISABLED": "false",
        "AWS_LAMBDA_FUNCTION_NAME": "tarroitus-test-ApiFunction",
        "LAMBDA_TASK_ROOT": str(api),
    }
    # When
    result = _run_in_fresh_interpreter(api, LAMBDA_CHILD, lambda_like)
    # Then: none of them at import; the AWS SDK and httpx are traced as soon as something imports them
    imported = {name for name in result["imported"] for lazy in LAZY_IN_THE_API if f"{name}.".startswith(f"{lazy}.")}
    assert imported == set()
    assert result["xray_botocore"] is True
    assert result["xray_httpx"] is True


#: What the operators' route groups read through, loaded with them: the analytics and forecast read models,
#: the writeback queue and its dry run, the uploads, the classification overrides.
LAZY_WITH_THE_ROUTE_GROUPS = {
    "tarroitus.api.analytics_schemas",
    "tarroitus.services.analytics",
    "tarroitus.services.forecast",
    "tarroitus.services.writeback.queue",
    "tarroitus.services.writeback.dry_run",
    "tarroitus.services.sync.uploads",
    "tarroitus.services.overrides",
}


def test_api_handler_imports_no_lazy_route_group(settings: Settings) -> None:
    # Given: the route groups a print station never calls, each loaded by the first request under its prefix
    groups = create_app(settings.model_copy(update={"env": "local"})).route_groups
    lazy = {group.module for group in groups} | LAZY_WITH_THE_ROUTE_GROUPS
    api = PROJECT_ROOT / "functions" / "api"
    lambda_like = {"AWS_LAMBDA_FUNCTION_NAME": "tarroitus-test-ApiFunction", "LAMBDA_TASK_ROOT": str(api)}
    # When
    imported = set(_run_in_fresh_interpreter(api, MODULES_CHILD, lambda_like))
    # Then
    assert "tarroitus.api.routes.items" in imported
    assert {group.module for group in groups} >= {"tarroitus.api.routes.analytics", "tarroitus.api.routes.clients"}
    assert imported & lazy == set()


def test_no_tracer_in_the_package_or_the_handlers_patches_on_creation() -> None:
    # Given: Powertools' Tracers share one configuration, so a single Tracer() created with auto_patch on
    # would import and patch every library the X-Ray SDK supports at start-up (tarroitus/tracing.py)
    sources = [*(PROJECT_ROOT / "layers" / "core" / "tarroitus").rglob("*.py"), *PROJECT_ROOT.glob("functions/*/*.py")]
    # When
    eager = [
        f"{source.relative_to(PROJECT_ROOT)}:{node.lineno}"
        for source in sources
        for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "Tracer"
        and not any(
            keyword.arg == "auto_patch" and getattr(keyword.value, "value", None) is False for keyword in node.keywords
        )
    ]
    # Then
    assert eager == []
