"""Functions without the analytics layer must not import what only that layer carries."""

import json
import os
import subprocess
import sys
from typing import Any

import pytest

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


@pytest.mark.parametrize("code_uri", _functions_without_analytics())
def test_handler_without_the_analytics_layer_imports_no_analytics_package(code_uri: str) -> None:
    # Given: a fresh interpreter, as a Lambda cold start
    assert (PROJECT_ROOT / code_uri / "handler.py").is_file(), f"{code_uri}/handler.py is missing"
    environment = {**os.environ, "ENV": "test", "POWERTOOLS_SERVICE_NAME": "tarroitus"}
    # When
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, str(PROJECT_ROOT / code_uri)],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_ROOT / code_uri,
        env=environment,
        timeout=120,
    )
    # Then
    assert completed.returncode == 0, completed.stderr[-2000:]
    imported = set(json.loads(completed.stdout.strip().splitlines()[-1]))
    assert imported & ANALYTICS_MODULES == set()
