"""The SAM template, parsed with CloudFormation's tags, and the tools that validate and transform it."""

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = PROJECT_ROOT / "template.yaml"
SAM_TRANSLATE = Path(__file__).resolve().parent / "sam_translate.py"
SAM_MISSING = "sam is not installed (CI installs it: ./scripts/uv tool install aws-sam-cli)"


def sam_executable() -> Path | None:
    """The SAM CLI on PATH, or where `uv tool install` puts it."""
    found = shutil.which("sam")
    if found:
        return Path(found)
    uv = os.environ.get("UV") or str(PROJECT_ROOT / "scripts" / "uv")
    bin_dir = subprocess.run([uv, "tool", "dir", "--bin"], capture_output=True, text=True, check=False).stdout.strip()
    candidate = Path(bin_dir) / "sam" if bin_dir else None
    return candidate if candidate is not None and candidate.exists() else None


def sam_python(sam: Path) -> Path | None:
    """The interpreter a pip- or uv-installed SAM CLI runs on (it carries samtranslator)."""
    first_line = sam.resolve().read_bytes().split(b"\n", 1)[0].decode("utf-8", "replace")
    interpreter = Path(first_line.removeprefix("#!").strip()) if first_line.startswith("#!") else None
    return interpreter if interpreter is not None and interpreter.exists() else None


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """template.yaml as a dict, intrinsic tags (`!Ref`, `!If`...) in their long `Fn::` form."""
    parsed: dict[str, Any] = cfn_yaml.load(str(TEMPLATE))
    return parsed


@pytest.fixture(scope="session")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    """The template's resources by logical id."""
    return dict(template["Resources"])


@pytest.fixture(scope="session")
def functions(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every AWS::Serverless::Function's properties, by logical id."""
    return {
        logical_id: resource.get("Properties", {})
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


@pytest.fixture(scope="session")
def sam() -> Path:
    """The SAM CLI, or a skip saying why not."""
    executable = sam_executable()
    if executable is None:
        pytest.skip(SAM_MISSING)
    return executable


@pytest.fixture(scope="session")
def translated(sam: Path) -> dict[str, Any]:
    """The template after the SAM transform (what CloudFormation deploys)."""
    interpreter = sam_python(sam)
    if interpreter is None:
        pytest.skip(f"cannot find the Python that {sam} runs on, to run the SAM translator")
    environment = {**os.environ, "AWS_DEFAULT_REGION": "eu-north-1"}
    completed = subprocess.run(
        [str(interpreter), str(SAM_TRANSLATE), str(TEMPLATE)],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout)
    return result
