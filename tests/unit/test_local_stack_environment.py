"""env.json for `sam local` and the in-process environment of the local stack."""

from local_stack.environment import FUNCTIONS, LocalServices, process_environment, sam_environment


def services(**changes: object) -> LocalServices:
    values: dict[str, object] = {
        "sierra_url": "http://127.0.0.1:9009/iii/sierra-api/v6",
        "sierra_client_key": "simulator-key",
        "sierra_client_secret": "simulator-secret",
        "aws_endpoint_url": "http://127.0.0.1:5000",
        "bucket": "tarroitus-local",
        "parquet_prefix": "tarroitus",
        "database_url": "postgresql+psycopg://postgres:@/tarroitus?host=/data/postgres",
        "database_tcp": ("127.0.0.1", 5433, "postgres", "tarroitus"),
        "sierra_secret_arn": "arn:aws:secretsmanager:eu-north-1:123456789012:secret:tarroitus-local/sierra-abc",
        "admin_secret_arn": "arn:aws:secretsmanager:eu-north-1:123456789012:secret:tarroitus-local/admin-def",
        "database_secret_arn": None,
        "api_key_pepper": "local-development-pepper",
        "log_level": "INFO",
    }
    values.update(changes)
    return LocalServices(**values)  # type: ignore[arg-type]


def test_sam_environment_points_every_function_at_the_local_services_through_the_docker_host() -> None:
    # When
    env = sam_environment(services(), docker_host="host.docker.internal")

    # Then
    assert tuple(env) == FUNCTIONS
    for variables in env.values():
        assert variables["ENV"] == "local"
        assert variables["SIERRA_API_ENDPOINT"] == "http://host.docker.internal:9009/iii/sierra-api/v6"
        assert variables["AWS_ENDPOINT_URL"] == "http://host.docker.internal:5000"
        assert (variables["DB_HOST"], variables["DB_PORT"], variables["DB_PASSWORD_SECRET_ARN"]) == (
            "host.docker.internal",
            "5433",
            "",
        )
    assert env["EtlFunction"]["PARQUET_BUCKET"] == "tarroitus-local"
    assert "PARQUET_BUCKET" not in env["ApiFunction"]
    assert env["ApiFunction"]["SYNC_FUNCTION_NAME"] == ""
    assert env["MigrateFunction"]["ADMIN_API_KEY_SECRET_ARN"].endswith("tarroitus-local/admin-def")


def test_sam_environment_keeps_a_remote_database_and_omits_one_without_tcp() -> None:
    # Given
    remote = services(database_tcp=("db.internal", 5432, "tarroitus", "labels"), database_secret_arn="arn:db")
    socket_only = services(database_tcp=None)

    # When
    remote_env = sam_environment(remote, docker_host="127.0.0.1")["SierraSyncFunction"]
    socket_env = sam_environment(socket_only, docker_host="127.0.0.1")["SierraSyncFunction"]

    # Then
    assert (remote_env["DB_HOST"], remote_env["DB_NAME"], remote_env["DB_PASSWORD_SECRET_ARN"]) == (
        "db.internal",
        "labels",
        "arn:db",
    )
    assert not any(name.startswith("DB_") for name in socket_env)
    assert socket_env["SIERRA_API_ENDPOINT"].startswith("http://127.0.0.1:9009/")


def test_process_environment_uses_fake_credentials_and_the_simulator() -> None:
    # When
    env = process_environment(
        database_url="postgresql+psycopg://postgres:@/tarroitus?host=/tmp",
        sierra_url="http://127.0.0.1:9009/iii/sierra-api/v6",
        sierra_client_key="simulator-key",
        sierra_client_secret="simulator-secret",
        aws_endpoint_url="http://127.0.0.1:5000",
        bucket="tarroitus-local",
    )

    # Then
    assert (env["ENV"], env["AWS_ACCESS_KEY_ID"], env["POWERTOOLS_TRACE_DISABLED"]) == ("local", "testing", "true")
    assert (env["SIERRA_API_CLIENT_KEY"], env["PARQUET_BUCKET"]) == ("simulator-key", "tarroitus-local")
