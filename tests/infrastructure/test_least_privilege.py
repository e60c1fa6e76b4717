"""Least privilege, as a table: every permission each function's role grants, and nothing else.

test_template.py checks that no statement uses wildcards and that S3 and secret access stays with the
functions that need it; this test pins each function's complete set of (action, resource) grants, so
a permission added to the template fails here until it is added to PERMISSIONS on purpose.
Resources are named by the template resources and parameters they refer to.
"""

import re
from typing import Any

DATABASE_SECRET = "DatabaseSecret|ExistingDbPasswordSecretArn"
SIERRA_SECRET = "SierraCredentialsSecret|SierraCredentialsSecretArn"
PARQUET_OBJECTS = "ParquetBucket|ParquetPrefix"

PERMISSIONS: dict[str, set[tuple[str, str]]] = {
    # The API reads keys and items from the database and starts sync runs; it reads Sierra only for the
    # writeback's dry run, and never touches S3.
    "ApiFunction": {
        ("secretsmanager:GetSecretValue", DATABASE_SECRET),
        ("secretsmanager:GetSecretValue", SIERRA_SECRET),
        ("lambda:InvokeFunction", "SierraSyncFunction"),
    },
    "SierraSyncFunction": {
        ("secretsmanager:GetSecretValue", DATABASE_SECRET),
        ("secretsmanager:GetSecretValue", SIERRA_SECRET),
    },
    "SierraWritebackFunction": {
        ("secretsmanager:GetSecretValue", DATABASE_SECRET),
        ("secretsmanager:GetSecretValue", SIERRA_SECRET),
    },
    # The ETL writes Parquet under its prefix only; it reads no Sierra credentials.
    "EtlFunction": {
        ("secretsmanager:GetSecretValue", DATABASE_SECRET),
        ("s3:ListBucket", "ParquetBucket"),
        ("s3:GetObject", PARQUET_OBJECTS),
        ("s3:PutObject", PARQUET_OBJECTS),
        ("s3:DeleteObject", PARQUET_OBJECTS),
        ("s3:AbortMultipartUpload", PARQUET_OBJECTS),
    },
    # Migrations install the admin key from its secret (and generate it on first deploy).
    "MigrateFunction": {
        ("secretsmanager:GetSecretValue", DATABASE_SECRET),
        ("secretsmanager:GetSecretValue", "AdminApiKeySecret"),
        ("secretsmanager:PutSecretValue", "AdminApiKeySecret"),
    },
}


def referenced_names(expression: Any) -> set[str]:
    """The template resources and parameters an intrinsic expression refers to (`Ref`, `GetAtt`, `Sub`)."""
    if isinstance(expression, list):
        return {name for item in expression for name in referenced_names(item)}
    if not isinstance(expression, dict):
        return set()
    names: set[str] = set()
    for key, value in expression.items():
        if key == "Ref":
            names.add(str(value))
        elif key == "Fn::GetAtt":
            names.add(str(value[0] if isinstance(value, list) else value.split(".")[0]))
        elif key == "Fn::Sub":
            text = value[0] if isinstance(value, list) else value
            names |= {match.split(".")[0] for match in re.findall(r"\$\{([^}!]+)\}", str(text))}
        elif key == "Fn::If":
            # The condition's name is not a resource; both branches are.
            names |= referenced_names(value[1:])
        else:
            names |= referenced_names(value)
    return names


def granted(function: dict[str, Any]) -> set[tuple[str, str]]:
    """Every (action, resource) pair the function's inline statements allow."""
    pairs = set()
    for policy in function.get("Policies", []):
        for statement in policy["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resource = "|".join(sorted(referenced_names(statement["Resource"])))
            pairs |= {(action, resource) for action in actions}
    return pairs


def test_least_privilege_every_function_gets_exactly_its_permissions(functions: dict[str, dict[str, Any]]) -> None:
    # Given / When
    actual = {logical_id: granted(function) for logical_id, function in functions.items()}
    # Then
    assert actual == PERMISSIONS


def test_least_privilege_policies_are_inline_allow_statements_on_each_function_own_role(
    functions: dict[str, dict[str, Any]],
) -> None:
    # Given / When
    for logical_id, function in functions.items():
        policies = function.get("Policies", [])
        # Then: no managed policy or SAM policy template (those grant more than is listed), no shared role
        assert "Role" not in function, logical_id
        assert all(isinstance(policy, dict) and set(policy) == {"Statement"} for policy in policies), logical_id
        assert all(statement["Effect"] == "Allow" for policy in policies for statement in policy["Statement"])


def test_least_privilege_resource_names_resolve_to_template_resources_or_parameters(template: dict[str, Any]) -> None:
    # Given
    known = set(template["Resources"]) | set(template.get("Parameters", {}))
    # When
    named = {name for grants in PERMISSIONS.values() for _, resource in grants for name in resource.split("|")}
    # Then: the table names real things, so a renamed secret cannot make it pass vacuously
    assert named <= known, named - known
