"""The environment the local stack runs the functions with, and `infra/env.json` for `sam local`.

In-process, the API and the scheduled handlers read one environment: ENV=local, the simulator as
Sierra, moto as AWS (fake credentials), the bucket, the database. `env.json` gives the functions
that `sam local` runs in Docker the same services, reached through the Docker host's name.
SAM only overrides variables the template declares for a function; the others are listed anyway
so that they take effect once the template declares them (see docs/local.md).
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from local_stack.scheduler import REGION

#: Fake credentials: moto accepts any, and real ones must never reach it.
FAKE_AWS_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
#: Variables that would send the in-process functions elsewhere than the local services.
REMOVED_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "SIERRA_API_CREDENTIALS_SECRET_ARN", "SYNC_FUNCTION_NAME")
#: `make dev` defaults, each overridable from the shell: the ETL every five minutes (not daily) so the
#: analytics fill up during a session, and no EMF metric blobs between the log lines.
LOCAL_DEFAULTS = {"ETL_INTERVAL_SECONDS": "300", "POWERTOOLS_METRICS_DISABLED": "true"}
#: The name `sam local` containers reach this machine by (Docker Desktop).
DOCKER_HOST = "host.docker.internal"
POWERTOOLS = {
    "POWERTOOLS_SERVICE_NAME": "tarroitus",
    "POWERTOOLS_METRICS_NAMESPACE": "Tarroitus",
    "POWERTOOLS_TRACE_DISABLED": "true",
}
#: The template's logical ids of the functions, for env.json.
FUNCTIONS = ("ApiFunction", "SierraSyncFunction", "SierraWritebackFunction", "EtlFunction", "MigrateFunction")


@dataclass(frozen=True)
class LocalServices:
    """Where the stack's services listen, as seen from this machine."""

    sierra_url: str
    sierra_client_key: str
    sierra_client_secret: str
    aws_endpoint_url: str
    bucket: str
    parquet_prefix: str
    database_url: str
    #: (host, port, user, database) of a TCP door to the database; None when there is none.
    database_tcp: tuple[str, int, str, str] | None
    sierra_secret_arn: str
    admin_secret_arn: str
    database_secret_arn: str | None
    api_key_pepper: str
    log_level: str


def process_environment(
    *,
    database_url: str,
    sierra_url: str,
    sierra_client_key: str,
    sierra_client_secret: str,
    aws_endpoint_url: str,
    bucket: str,
) -> dict[str, str]:
    """The variables the in-process API and handlers run with (set before they read their settings)."""
    return {
        "ENV": "local",
        "DATABASE_URL": database_url,
        "SIERRA_API_ENDPOINT": sierra_url,
        "SIERRA_API_CLIENT_KEY": sierra_client_key,
        "SIERRA_API_CLIENT_SECRET": sierra_client_secret,
        "PARQUET_BUCKET": bucket,
        "AWS_ENDPOINT_URL": aws_endpoint_url,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        **FAKE_AWS_CREDENTIALS,
        **POWERTOOLS,
    }


def sam_environment(services: LocalServices, *, docker_host: str) -> dict[str, dict[str, str]]:
    """env.json: per function, the variables that point `sam local` containers at the local services."""
    common = {
        "ENV": "local",
        "LOG_LEVEL": services.log_level,
        "POWERTOOLS_LOG_LEVEL": services.log_level,
        **POWERTOOLS,
        "API_KEY_PEPPER": services.api_key_pepper,
        "SIERRA_API_ENDPOINT": _through(services.sierra_url, docker_host),
        "SIERRA_API_CREDENTIALS_SECRET_ARN": services.sierra_secret_arn,
        "SIERRA_API_CLIENT_KEY": services.sierra_client_key,
        "SIERRA_API_CLIENT_SECRET": services.sierra_client_secret,
        "AWS_ENDPOINT_URL": _through(services.aws_endpoint_url, docker_host),
        **_database_variables(services, docker_host),
    }
    extra: Mapping[str, Mapping[str, str]] = {
        # Empty: the API runs a requested sync in its own process, as `make dev` does, rather than
        # invoking a sync function in AWS.
        "ApiFunction": {"SYNC_FUNCTION_NAME": ""},
        "EtlFunction": {"PARQUET_BUCKET": services.bucket, "PARQUET_PREFIX": services.parquet_prefix},
        "MigrateFunction": {"ADMIN_API_KEY_SECRET_ARN": services.admin_secret_arn},
    }
    return {function: {**common, **extra.get(function, {})} for function in FUNCTIONS}


def write_env_json(path: Path, services: LocalServices, *, docker_host: str) -> None:
    """Write env.json for `sam local ... --env-vars` (the file holds local-only secrets; keep it out of git)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(sam_environment(services, docker_host=docker_host), indent=2) + "\n")


def _database_variables(services: LocalServices, docker_host: str) -> dict[str, str]:
    if services.database_tcp is None:
        return {}
    host, port, user, database = services.database_tcp
    return {
        "DB_HOST": docker_host if _is_loopback(host) else host,
        "DB_PORT": str(port),
        "DB_USER": user,
        "DB_NAME": database,
        # Empty: no secret (the embedded server trusts local connections); set when the server has a password.
        "DB_PASSWORD_SECRET_ARN": services.database_secret_arn or "",
    }


def _through(url: str, docker_host: str) -> str:
    """`url` with a loopback host replaced by the name containers reach this machine by."""
    parts = urlsplit(url)
    if not _is_loopback(parts.hostname or ""):
        return url
    netloc = docker_host + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _is_loopback(host: str) -> bool:
    return host in {"127.0.0.1", "localhost", "::1"}
