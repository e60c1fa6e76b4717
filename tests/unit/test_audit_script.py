"""scripts/audit.py: a vulnerability fails the audit, an unusable advisory service only warns."""

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit.py"


@pytest.fixture(scope="module")
def audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pip_audit_json(*dependencies: dict[str, object]) -> dict[str, object]:
    """pip-audit's `--format json` document."""
    return {"dependencies": list(dependencies), "fixes": []}


def test_audit_vulnerable_pin_fails_and_names_the_advisory(audit: ModuleType) -> None:
    # Given
    document = pip_audit_json(
        {"name": "fastapi", "version": "0.165.0", "vulns": []},
        {"name": "jinja2", "version": "2.4", "vulns": [{"id": "PYSEC-2019-217", "fix_versions": ["2.10.1"]}]},
    )
    # When
    status, lines = audit.verdict(audit.parse_report(document), "", strict=False)
    # Then
    assert status == 1
    assert "VULNERABLE jinja2==2.4: PYSEC-2019-217 (fixed in: 2.10.1)" in lines
    assert lines[-1] == "audit: 2 packages checked, 1 vulnerable, 0 skipped"


def test_audit_clean_lock_passes(audit: ModuleType) -> None:
    # Given
    document = pip_audit_json({"name": "fastapi", "version": "0.165.0", "vulns": []})
    # When
    status, lines = audit.verdict(audit.parse_report(document), "", strict=True)
    # Then
    assert (status, lines) == (0, ["audit: 1 packages checked, 0 vulnerable, 0 skipped"])


def test_audit_skipped_packages_warn_and_fail_only_when_strict(audit: ModuleType) -> None:
    # Given: an index mirror that does not serve PyPI's per-version JSON API
    skip_reason = "Dependency not found on PyPI and could not be audited"
    document = pip_audit_json({"name": "alembic", "skip_reason": skip_reason})
    report = audit.parse_report(document)
    # When
    relaxed, lines = audit.verdict(report, "", strict=False)
    strict, _ = audit.verdict(report, "", strict=True)
    # Then
    assert (relaxed, strict) == (0, 1)
    assert lines[0].startswith("WARNING: 1 of 1 locked packages could not be checked")


def test_audit_unreachable_service_warns_but_other_crashes_fail(audit: ModuleType) -> None:
    # Given
    offline = "Traceback ...\nrequests.exceptions.ConnectionError: Max retries exceeded with url: /v1/query"
    broken = "Traceback ...\nValueError: invalid requirement"
    # When
    offline_status, offline_lines = audit.verdict(None, offline, strict=False)
    broken_status, _ = audit.verdict(None, broken, strict=False)
    # Then
    assert offline_status == 0
    assert offline_lines[0] == "WARNING: the advisory service is unreachable; nothing was audited."
    assert broken_status == 1
