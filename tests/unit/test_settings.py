"""Settings: every documented variable parses, bad values stop start-up naming the variable."""

import pytest
from pydantic import ValidationError

from tarroitus.settings import Settings

PRODUCTION_BASE = {
    "ENV": "prod",
    "DB_HOST": "db.internal",
    "DB_PASSWORD": "s3cr3t-Value",
    "SIERRA_API_CLIENT_KEY": "real-key",
    "SIERRA_API_CLIENT_SECRET": "real-secret",
    "API_KEY_PEPPER": "a-long-random-pepper",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*PRODUCTION_BASE, "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def make(monkeypatch: pytest.MonkeyPatch, **environment: str) -> Settings:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return Settings()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("1", True), ("yes", True), ("on", True), ("false", False), ("0", False), ("no", False)],
)
def test_settings_boolean_flags_parse_explicitly(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    # Given / When
    settings = make(monkeypatch, SIERRA_UPDATE_SET_INVDA=raw, SIERRA_UPDATE_SET_IUSE3=raw)
    # Then
    assert settings.sierra_update_set_invda is expected
    assert settings.sierra_update_set_iuse3 is expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DB_PORT", "abc"),
        ("DB_PORT", "70000"),
        ("SIERRA_UPDATE_SET_INVDA", "maybe"),
        ("SIERRA_API_CLIENT_POOL_SIZE", "0"),
        ("SIERRA_UPDATE_CONCURRENCY", "0"),
        ("SIERRA_UPDATE_CALL_NUMBER_MARC_TAG", "99"),
        ("SIERRA_UPDATE_INVDA_FIELD_NUMBER", "1000"),
        ("SIERRA_UPDATE_IUSE3_VALUE", ""),
        ("SIERRA_API_MAINTENANCE_THRESHOLD", "0"),
        ("SIERRA_API_CLIENT_TIMEOUT_SECONDS", "-1"),
        ("FULL_SYNC_BATCH_SIZE", "2001"),
        ("SIERRA_API_ENDPOINT", "not a url"),
        ("LOG_LEVEL", "LOUD"),
        ("ENV", "moon"),
    ],
)
def test_settings_invalid_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    # Given
    monkeypatch.setenv(name, value)
    # When
    with pytest.raises(ValidationError) as caught:
        Settings()
    # Then
    assert name.lower() in str(caught.value)


def test_settings_every_documented_variable_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given
    environment = {
        "ENV": "local",
        "DB_HOST": "h",
        "DB_PORT": "6543",
        "DB_USER": "u",
        "DB_PASSWORD": "p",
        "DB_NAME": "n",
        "FULL_SYNC_BATCH_SIZE": "500",
        "SIERRA_API_ENDPOINT": "https://sierra.example.org/iii/sierra-api/v6/",
        "SIERRA_API_CLIENT_KEY": "k",
        "SIERRA_API_CLIENT_SECRET": "s",
        "SIERRA_API_CLIENT_POOL_SIZE": "4",
        "SIERRA_API_CLIENT_TIMEOUT_SECONDS": "12.5",
        "SIERRA_API_CLIENT_RETRIES": "2",
        "SIERRA_UPDATE_INTERVAL_SECONDS": "45",
        "SIERRA_UPDATE_MISFIRE_GRACE_TIME_SECONDS": "90",
        "SIERRA_UPDATE_BATCH_SIZE_LIMIT": "20",
        "SIERRA_UPDATE_SET_INVDA": "false",
        "SIERRA_UPDATE_SET_IUSE3": "true",
        "SIERRA_UPDATE_CONCURRENCY": "3",
        "SIERRA_UPDATE_CALL_NUMBER_MARC_TAG": "090",
        "SIERRA_UPDATE_INVDA_FIELD_NUMBER": "63",
        "SIERRA_UPDATE_IUSE3_VALUE": "2",
        "SIERRA_API_MAINTENANCE_THRESHOLD": "7",
        "LOG_LEVEL": "DEBUG",
        "SENTRY_DSN": "https://key@sentry.example.org/1",
        "SENTRY_RELEASE": "1.2.3",
        "PARQUET_BUCKET": "tarroitus-data",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
    }
    # When
    settings = make(monkeypatch, **environment)
    # Then
    assert (settings.db_host, settings.db_port, settings.db_user, settings.db_name) == ("h", 6543, "u", "n")
    assert settings.full_sync_batch_size == 500
    assert settings.sierra_base_url == "https://sierra.example.org/iii/sierra-api/v6"
    assert settings.sierra_api_client_pool_size == 4
    assert settings.sierra_api_client_timeout_seconds == 12.5
    assert settings.sierra_api_client_retries == 2
    assert settings.sierra_update_interval_seconds == 45
    assert settings.sierra_update_misfire_grace_time_seconds == 90
    assert settings.sierra_update_batch_size_limit == 20
    assert settings.sierra_update_set_invda is False
    assert settings.sierra_update_set_iuse3 is True
    assert settings.sierra_update_concurrency == 3
    assert settings.sierra_update_call_number_marc_tag == "090"
    assert settings.sierra_update_invda_field_number == 63
    assert settings.sierra_update_iuse3_value == "2"
    assert settings.sierra_api_maintenance_threshold == 7
    assert settings.log_level == "DEBUG"
    assert settings.sentry_release == "1.2.3"
    assert settings.parquet_bucket == "tarroitus-data"
    assert str(settings.aws_endpoint_url) == "http://127.0.0.1:5000/"


def test_settings_writeback_defaults_suit_a_real_sierra(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given / When
    settings = make(monkeypatch)
    # Then two writes at a time, new call numbers under 099, INVDA in 69, the flag 93 set to 1
    assert (settings.sierra_update_concurrency, settings.sierra_api_maintenance_threshold) == (2, 5)
    assert (settings.sierra_update_call_number_marc_tag, settings.sierra_update_invda_field_number) == ("099", 69)
    assert (settings.sierra_update_set_iuse3, settings.sierra_update_iuse3_value) == (True, "1")


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"SIERRA_UPDATE_CONCURRENCY": "5", "SIERRA_API_CLIENT_POOL_SIZE": "4"}, "sierra_update_concurrency"),
        ({"SIERRA_UPDATE_INVDA_FIELD_NUMBER": "93"}, "sierra_update_invda_field_number"),
    ],
)
def test_settings_refuse_writeback_settings_that_contradict(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], message: str
) -> None:
    # Given / When / Then
    with pytest.raises(ValidationError, match=message):
        make(monkeypatch, **environment)


def test_settings_database_url_scheme_is_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given / When
    settings = make(monkeypatch, DATABASE_URL="postgres://u:p@db:5432/tarroitus")
    # Then
    assert settings.database_url is not None
    assert settings.database_url.get_secret_value() == "postgresql+psycopg://u:p@db:5432/tarroitus"


def test_settings_production_accepts_real_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given / When
    settings = make(monkeypatch, **PRODUCTION_BASE)
    # Then
    assert settings.env == "prod"
    assert not settings.is_development


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DB_PASSWORD", ""),
        ("DB_PASSWORD", "changethis"),
        ("SIERRA_API_CLIENT_KEY", ""),
        ("SIERRA_API_CLIENT_SECRET", "secret"),
        ("API_KEY_PEPPER", "local-development-pepper"),
    ],
)
def test_settings_production_refuses_placeholder_secret(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    # Given
    environment = {**PRODUCTION_BASE, name: value}
    # When
    with pytest.raises(ValidationError) as caught:
        make(monkeypatch, **environment)
    # Then
    assert name in str(caught.value)


def test_settings_production_refuses_embedded_database(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given
    environment = {name: value for name, value in PRODUCTION_BASE.items() if name != "DB_HOST"}
    # When
    with pytest.raises(ValidationError) as caught:
        make(monkeypatch, **environment)
    # Then
    assert "DATABASE_URL or DB_HOST" in str(caught.value)


def test_settings_production_accepts_secret_arns_instead_of_values(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given
    environment = {
        "ENV": "prod",
        "DB_HOST": "db.internal",
        "DB_PASSWORD_SECRET_ARN": "arn:aws:secretsmanager:eu-north-1:1:secret:db",
        "SIERRA_API_CREDENTIALS_SECRET_ARN": "arn:aws:secretsmanager:eu-north-1:1:secret:sierra",
        "API_KEY_PEPPER": "a-long-random-pepper",
    }
    # When
    settings = make(monkeypatch, **environment)
    # Then
    assert settings.db_password is None
    assert settings.sierra_api_credentials_secret_arn is not None


def test_settings_cors_origins_split_on_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given / When
    settings = make(monkeypatch, CORS_ORIGINS="https://a.example.org, https://b.example.org")
    # Then
    assert settings.cors_origins == ["https://a.example.org", "https://b.example.org"]
