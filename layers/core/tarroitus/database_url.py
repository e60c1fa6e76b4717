"""Which database to talk to: a configured server, a secret in AWS, or the embedded one locally.

A DB_HOST server's URL carries no password: the engine asks `database_password` for it each time it
opens a connection, so the password comes from DB_PASSWORD, or from its secret (fetched once per
process and cached; fetched again when the database refuses it, as after a rotation).
"""

from sqlalchemy import URL

from tarroitus.settings import Settings


def resolve_database_url(settings: Settings) -> str | URL:
    """The SQLAlchemy URL: DATABASE_URL, else DB_HOST (without its password), else embedded."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    if settings.db_host is not None:
        return URL.create(
            "postgresql+psycopg",
            username=settings.db_user,
            host=settings.db_host,
            port=settings.db_port,
            database=settings.db_name,
        )
    if not settings.is_development:
        raise RuntimeError("no database configured: set DATABASE_URL or DB_HOST")
    from tarroitus.embedded_db import ensure_embedded_database

    return ensure_embedded_database(settings.embedded_db_dir, settings.db_name)


def has_password_source(settings: Settings) -> bool:
    """True when connections take their password from DB_PASSWORD or DB_PASSWORD_SECRET_ARN."""
    return settings.database_url is None and settings.db_host is not None


def database_password(settings: Settings, *, refresh: bool = False) -> str:
    """The DB_HOST server's password: its secret's `password` (cached; `refresh` fetches it anew), else DB_PASSWORD."""
    if settings.db_password_secret_arn:
        from tarroitus.aws_secrets import get_json_secret

        secret = get_json_secret(settings.db_password_secret_arn, settings, refresh=refresh)
        return str(secret["password"])
    return settings.db_password.get_secret_value() if settings.db_password else ""
