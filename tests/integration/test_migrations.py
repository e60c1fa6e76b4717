"""Migrations: upgrade on an empty database, downgrade to nothing, upgrade again."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

from tarroitus import models
from tarroitus.db import Base
from tarroitus.migrate import current_revision, downgrade_to_base, head_revision, upgrade_to_head
from tests import database


@pytest.fixture
def empty_engine() -> Iterator[Engine]:
    name = "tarroitus_migrations_check"
    scratch_url = database.sqlalchemy_url(database.admin_uri(), name)
    admin = create_engine(database.sqlalchemy_url(database.admin_uri(), "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    engine = create_engine(scratch_url)
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def test_migrations_upgrade_creates_every_model_table(empty_engine: Engine) -> None:
    # Given
    assert current_revision(empty_engine) is None
    # When
    revision = upgrade_to_head(empty_engine)
    # Then
    assert revision == head_revision()
    assert models
    tables = set(inspect(empty_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_migrations_downgrade_to_base_removes_everything(empty_engine: Engine) -> None:
    # Given
    upgrade_to_head(empty_engine)
    # When
    downgrade_to_base(empty_engine)
    # Then
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    with empty_engine.connect() as connection:
        enum_types = connection.execute(text("SELECT typname FROM pg_type WHERE typtype = 'e'")).scalars().all()
    assert enum_types == []
    assert upgrade_to_head(empty_engine) == head_revision()


def test_migrations_match_the_models(engine: Engine) -> None:
    # Given
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    # When
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    # Then
    assert differences == []


def test_stale_labels_migration_takes_each_printed_items_label_from_its_last_print(empty_engine: Engine) -> None:
    # Given: a database before the migration, with items printed (one twice, one by a legacy station without
    # a classification) and changed since
    from alembic import command

    from tarroitus.migrate import alembic_config

    config = alembic_config()
    with empty_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
    with empty_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO items (item_record_id, classification, signum, print_count) VALUES"
                " (1, '84.2', 'KIV', 2), (2, '85.1', 'KIV', 1), (3, '84.2', 'KIV', 0), (4, '84.2', 'KIV', 1)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO label_events (item_record_id, classification, signum, printed_at) VALUES"
                " (1, '80.1', 'OLD', '2026-11-01T10:00:00Z'), (1, '84.2', 'KIV', '2026-11-02T10:00:00Z'),"
                " (2, '84.2', 'KIV', '2026-11-02T10:00:00Z'), (4, '', 'KIV', '2026-11-02T10:00:00Z')"
            )
        )
    # When
    upgrade_to_head(empty_engine)
    # Then
    with empty_engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT item_record_id, last_printed_classification, last_printed_signum, reprint_needed"
                " FROM items ORDER BY item_record_id"
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        (1, "84.2", "KIV", False),
        (2, "84.2", "KIV", True),
        (3, None, None, False),
        (4, None, "KIV", True),
    ]
