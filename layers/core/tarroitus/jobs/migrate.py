"""Deploy-time database work: the schema at head, and the first admin client from its secret."""

from typing import Any

from aws_lambda_powertools import Logger
from sqlalchemy import Engine

from tarroitus.aws_secrets import get_json_secret, put_json_secret
from tarroitus.db import get_engine
from tarroitus.migrate import current_revision, head_revision, is_known_revision, upgrade_to_head
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.api_keys import generate_api_key
from tarroitus.services.clients import ensure_admin_client
from tarroitus.settings import Settings

logger = Logger(child=True)

DEFAULT_ADMIN_NAME = "admin"


def run(settings: Settings) -> dict[str, str]:
    """Upgrade the schema to head, then install the admin key held in ADMIN_API_KEY_SECRET_ARN (if set)."""
    engine = get_engine(settings)
    revision = upgrade_schema(engine)
    admin = install_admin_key(settings, engine) if settings.admin_api_key_secret_arn else "not configured"
    return {"revision": revision, "admin_client": admin}


def upgrade_schema(engine: Engine) -> str:
    """Apply pending migrations; a database already past this code's head is left alone.

    That happens when CloudFormation rolls a deploy back after its migration succeeded: the old
    code's Update must succeed too, or the stack is stuck in UPDATE_ROLLBACK_FAILED. Migrations are
    therefore written to be compatible with the previous release.
    """
    current = current_revision(engine)
    if current is not None and not is_known_revision(current):
        logger.warning("database is newer than this code; not migrating", extra={"revision": current})
        return current
    revision = upgrade_to_head(engine)
    logger.info("schema at head", extra={"revision": revision, "head": head_revision()})
    return revision


def install_admin_key(settings: Settings, engine: Engine) -> str:
    """Make the secret's key the admin client's key, first writing a new key into the secret when it has none."""
    secret_arn = settings.admin_api_key_secret_arn
    if not secret_arn:
        raise ValueError("ADMIN_API_KEY_SECRET_ARN is not set")
    secret: dict[str, Any] = get_json_secret(secret_arn, settings)
    name = str(secret.get("name") or DEFAULT_ADMIN_NAME)
    api_key = str(secret.get("api_key") or "")
    if not api_key:
        # Written before the database commit: if the commit fails, the next run installs this key.
        api_key = generate_api_key()
        put_json_secret(secret_arn, {**secret, "name": name, "api_key": api_key}, settings)
    with session_scope(engine) as session:
        installed = ensure_admin_client(
            session, name=name, api_key=api_key, pepper=settings.api_key_pepper.get_secret_value()
        )
    outcome = str(installed.outcome.value)
    logger.info("admin client", extra={"client": name, "outcome": outcome})
    return outcome
