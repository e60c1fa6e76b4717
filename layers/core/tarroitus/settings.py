"""The one typed settings object, parsed from the environment once per process.

Every variable the original backend documented is here under the same name, plus what the
Lambda deployment needs (secret ARNs, bucket, endpoint override). Library code receives a
`Settings` instance; only entry points call `get_settings()`.
"""

from functools import lru_cache
from typing import Annotated, Literal, Self

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Environment = Literal["local", "test", "dev", "staging", "prod"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

#: Values that are never acceptable as a secret outside local development.
PLACEHOLDER_SECRETS = frozenset({"", "changethis", "changeme", "secret", "password", "postgres"})
#: Environments that may run on built-in defaults and placeholder secrets.
DEVELOPMENT_ENVIRONMENTS = frozenset({"local", "test"})
#: The API key pepper local development runs with; refused elsewhere.
DEVELOPMENT_PEPPER = "local-development-pepper"


class Settings(BaseSettings):
    """Process-wide configuration. Booleans accept true/false, 1/0, yes/no, on/off and nothing else."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False, frozen=True)

    env: Environment = "local"
    log_level: LogLevel = "INFO"
    sentry_dsn: SecretStr | None = None
    sentry_release: str | None = None

    # Database: DATABASE_URL wins; else DB_HOST and friends; else (local/test) an embedded server.
    database_url: SecretStr | None = None
    db_host: str | None = None
    db_port: int = Field(default=5432, ge=1, le=65535)
    db_user: str = "postgres"
    db_password: SecretStr | None = None
    db_name: str = "tarroitus"
    db_password_secret_arn: str | None = None
    db_pool_size: int = Field(default=2, ge=1, le=50)
    embedded_db_dir: str = ".data/postgres"

    # Sierra REST API v6.
    sierra_api_endpoint: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:9009/iii/sierra-api/v6")
    sierra_api_client_key: SecretStr | None = None
    sierra_api_client_secret: SecretStr | None = None
    sierra_api_credentials_secret_arn: str | None = None
    sierra_api_client_pool_size: int = Field(default=8, ge=1, le=100)
    sierra_api_client_timeout_seconds: float = Field(default=30.0, gt=0, le=900)
    sierra_api_client_retries: int = Field(default=5, ge=0, le=20)
    # Consecutive 503 answers that mean Sierra is in a maintenance window (see sierra/client.py).
    sierra_api_maintenance_threshold: int = Field(default=5, ge=1, le=100)

    # Sync.
    full_sync_batch_size: int = Field(default=2000, ge=1, le=2000)
    sync_changes_lookback_seconds: int = Field(default=300, ge=0, le=86400)
    sync_interval_seconds: int = Field(default=300, ge=10)
    sync_function_name: str | None = None
    # How far ahead of the server's clock an uploaded sync timestamp (the changes watermark) may be.
    sync_timestamp_max_future_seconds: int = Field(default=300, ge=0, le=86400)

    # Writeback.
    sierra_update_interval_seconds: int = Field(default=30, ge=1)
    sierra_update_misfire_grace_time_seconds: int = Field(default=60, ge=0)
    sierra_update_batch_size_limit: int = Field(default=200, ge=1, le=5000)
    sierra_update_concurrency: int = Field(default=2, ge=1, le=100)
    sierra_update_call_number_marc_tag: str = Field(default="099", pattern=r"^\d{3}$")
    sierra_update_set_invda: bool = True
    sierra_update_invda_field_number: int = Field(default=69, ge=1, le=999)
    # The internal-use policy: true sets the field to the value, false leaves it alone.
    sierra_update_set_iuse3: bool = True
    sierra_update_iuse3_value: str = Field(default="1", min_length=1, max_length=32)
    sierra_update_iuse3_field_number: int = Field(default=93, ge=1, le=999)
    sierra_update_max_attempts: int = Field(default=8, ge=1, le=100)
    sierra_update_backoff_base_seconds: float = Field(default=30.0, ge=0)

    # ETL and S3.
    parquet_bucket: str | None = None
    parquet_prefix: str = "tarroitus"
    etl_interval_seconds: int = Field(default=86400, ge=60)
    etl_batch_rows: int = Field(default=250_000, ge=1, le=5_000_000)
    etl_lookback_seconds: int = Field(default=3600, ge=0, le=7 * 86400)
    aws_endpoint_url: AnyHttpUrl | None = None
    aws_region: str = "eu-north-1"

    # API.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_request_body_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    # What an uploaded file (sync batch, override mapping) may hold once decompressed and decoded; 413 past it.
    max_upload_inflated_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    admin_api_key_secret_arn: str | None = None
    api_key_pepper: SecretStr = SecretStr(DEVELOPMENT_PEPPER)
    # Failed authentications per source address before 429 (per Lambda container; see api/auth_limit.py).
    auth_failure_limit: int = Field(default=20, ge=1, le=100_000)
    auth_failure_window_seconds: int = Field(default=60, ge=1, le=86_400)
    # Wall-clock seconds a GraphQL query may run; checked before each field (the API Lambda stops at 29 s).
    graphql_time_budget_seconds: float = Field(default=10.0, gt=0, le=25)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("database_url", mode="before")
    @classmethod
    def _normalise_scheme(cls, value: object) -> object:
        """Accept postgres:// and postgresql:// URLs and pin the psycopg 3 driver."""
        if isinstance(value, str):
            for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
                if value.startswith(prefix):
                    return "postgresql+psycopg://" + value.removeprefix(prefix)
        return value

    @model_validator(mode="after")
    def _writeback_fits_its_client(self) -> Self:
        if self.sierra_update_concurrency > self.sierra_api_client_pool_size:
            raise ValueError(
                "sierra_update_concurrency must not exceed sierra_api_client_pool_size: each concurrent write "
                "needs its own connection"
            )
        if self.sierra_update_invda_field_number == self.sierra_update_iuse3_field_number:
            raise ValueError("sierra_update_invda_field_number and sierra_update_iuse3_field_number must differ")
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Self:
        if self.env in DEVELOPMENT_ENVIRONMENTS:
            return self
        if self.database_url is None and self.db_host is None:
            raise ValueError(f"ENV={self.env} needs DATABASE_URL or DB_HOST: the embedded database is for local use")
        if self.database_url is None and self.db_password_secret_arn is None:
            _require_real_secret("DB_PASSWORD", self.db_password)
        _require_real_secret("API_KEY_PEPPER", self.api_key_pepper, forbidden=frozenset({DEVELOPMENT_PEPPER}))
        if self.sierra_api_credentials_secret_arn is None:
            _require_real_secret("SIERRA_API_CLIENT_KEY", self.sierra_api_client_key)
            _require_real_secret("SIERRA_API_CLIENT_SECRET", self.sierra_api_client_secret)
        return self

    @property
    def is_development(self) -> bool:
        """True where built-in defaults (embedded database, diagnostics) are allowed."""
        return self.env in DEVELOPMENT_ENVIRONMENTS

    @property
    def sierra_base_url(self) -> str:
        """The Sierra API base URL without a trailing slash."""
        return str(self.sierra_api_endpoint).rstrip("/")


def _require_real_secret(name: str, value: SecretStr | None, forbidden: frozenset[str] = frozenset()) -> None:
    if value is None or value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS | forbidden:
        raise ValueError(
            f"{name} is empty or a placeholder; set a real secret (or its *_SECRET_ARN) outside local/test"
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings parsed from the environment, once per process (tests call `get_settings.cache_clear()`)."""
    return Settings()
