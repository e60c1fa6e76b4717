"""Which database to talk to: a configured server, a secret in AWS, or the embedded one locally."""

from urllib.parse import quote

from tarroitus.settings import Settings


def resolve_database_url(settings: Settings) -> str:
    """The SQLAlchemy URL: DATABASE_URL, else DB_HOST (password from DB_PASSWORD or its secret), else embedded."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    if settings.db_host is not None:
        password = _database_password(settings)
        credentials = quote(settings.db_user, safe="") + (":" + quote(password, safe="") if password else "")
        return f"postgresql+psycopg://{credentials}@{settings.db_host}:{settings.db_port}/{settings.db_name}"
    if not settings.is_development:
        raise RuntimeError("no database configured: set DATABASE_URL or DB_HOST")
    from tarroitus.embedded_db import ensure_embedded_database

    return ensure_embedded_database(settings.embedded_db_dir, settings.db_name)


def _database_password(settings: Settings) -> str:
    if settings.db_password_secret_arn:
        from tarroitus.aws_secrets import get_json_secret

        secret = get_json_secret(settings.db_password_secret_arn, settings)
        return str(secret["password"])
    return settings.db_password.get_secret_value() if settings.db_password else ""
