"""ensure_admin_client (the migrate function's first admin) and `python -m tarroitus clients`."""

import subprocess
import sys
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tarroitus.cli import main
from tarroitus.domain import ClientRole
from tarroitus.errors import ConflictError
from tarroitus.models import Client
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.clients import AdminKeyOutcome, authenticate, ensure_admin_client
from tarroitus.settings import DEVELOPMENT_PEPPER
from tests.database import PROJECT_ROOT
from tests.factories import make_client

SECRET_KEY = "admin-key-from-the-secret-0001"


def test_ensure_admin_client_creates_then_changes_nothing(db_session: Session) -> None:
    # Given / When
    first = ensure_admin_client(db_session, name="bootstrap-admin", api_key=SECRET_KEY, pepper=DEVELOPMENT_PEPPER)
    again = ensure_admin_client(db_session, name="bootstrap-admin", api_key=SECRET_KEY, pepper=DEVELOPMENT_PEPPER)
    # Then
    assert (first.outcome, again.outcome) == (AdminKeyOutcome.CREATED, AdminKeyOutcome.UNCHANGED)
    assert first.client.id == again.client.id
    assert first.client.role is ClientRole.ADMIN
    assert authenticate(db_session, api_key=SECRET_KEY, pepper=DEVELOPMENT_PEPPER) == first.client


def test_ensure_admin_client_replaces_the_key_when_the_secret_changed(db_session: Session) -> None:
    # Given
    installed = ensure_admin_client(db_session, name="bootstrap-admin", api_key=SECRET_KEY, pepper=DEVELOPMENT_PEPPER)
    installed.client.revoked_at = datetime.now(UTC)
    # When
    replaced = ensure_admin_client(
        db_session, name="bootstrap-admin", api_key=SECRET_KEY + "-v2", pepper=DEVELOPMENT_PEPPER
    )
    # Then
    assert replaced.outcome is AdminKeyOutcome.KEY_REPLACED
    assert authenticate(db_session, api_key=SECRET_KEY, pepper=DEVELOPMENT_PEPPER) is None
    assert authenticate(db_session, api_key=SECRET_KEY + "-v2", pepper=DEVELOPMENT_PEPPER) == installed.client


def test_ensure_admin_client_leaves_a_revoked_same_key_revoked(db_session: Session) -> None:
    # Given
    installed = ensure_admin_client(db_session, name="bootstrap-admin", api_key=SECRET_KEY, pepper=DEVELOPMENT_PEPPER)
    installed.client.revoked_at = datetime.now(UTC)
    # When
    again = ensure_admin_client(db_session, name="bootstrap-admin", api_key=SECRET_KEY, pepper=DEVELOPMENT_PEPPER)
    # Then
    assert again.outcome is AdminKeyOutcome.UNCHANGED
    assert authenticate(db_session, api_key=SECRET_KEY, pepper=DEVELOPMENT_PEPPER) is None


def test_ensure_admin_client_refuses_to_promote_or_steal(db_session: Session) -> None:
    # Given
    make_client(db_session, role=ClientRole.PRINTER, name="station-admin")
    make_client(db_session, role=ClientRole.PRINTER, name="holder", api_key="station-key-0123456789")
    # When / Then
    with pytest.raises(ConflictError) as promoted:
        ensure_admin_client(db_session, name="station-admin", api_key=SECRET_KEY, pepper=DEVELOPMENT_PEPPER)
    with pytest.raises(ConflictError) as stolen:
        ensure_admin_client(db_session, name="new-admin", api_key="station-key-0123456789", pepper=DEVELOPMENT_PEPPER)
    assert (promoted.value.code, stolen.value.code) == ("client_exists", "key_in_use")


def test_cli_create_admin_prints_a_working_key_once(committed_db: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    # Given / When
    exit_code = main(["clients", "create-admin", "--name", "first-admin"])
    # Then
    assert exit_code == 0
    printed = capsys.readouterr()
    api_key = printed.out.strip()
    assert api_key.startswith("trt_")
    assert api_key not in printed.err
    with session_scope(committed_db) as session:
        admin = authenticate(session, api_key=api_key, pepper=DEVELOPMENT_PEPPER)
        assert admin is not None
        assert (admin.name, admin.role) == ("first-admin", ClientRole.ADMIN)


def test_cli_create_admin_refuses_a_taken_name(committed_db: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    # Given
    assert main(["clients", "create-admin", "--name", "first-admin"]) == 0
    capsys.readouterr()
    # When
    exit_code = main(["clients", "create-admin", "--name", "first-admin"])
    # Then
    assert exit_code == 1
    printed = capsys.readouterr()
    assert printed.out == ""
    assert "first-admin" in printed.err
    with session_scope(committed_db) as session:
        assert len(session.scalars(select(Client)).all()) == 1


def test_cli_clients_list_shows_each_client(committed_db: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    # Given
    with session_scope(committed_db) as session:
        make_client(session, role=ClientRole.PRINTER, name="station-1")
        make_client(session, role=ClientRole.SYNC, name="etl-agent", revoked_at=datetime.now(UTC))
    # When
    exit_code = main(["clients", "list"])
    # Then
    assert exit_code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t") == ["name", "type", "key_id", "state", "last_seen"]
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert rows["etl-agent"][1::2] == ["sync", "revoked"]
    assert rows["station-1"][1::2] == ["printer", "active"]
    assert rows["station-1"][4] == "never"


@pytest.mark.parametrize("role", [ClientRole.PRINTER, ClientRole.SYNC])
def test_cli_create_registers_a_station_or_agent_with_its_role(
    committed_db: Engine, capsys: pytest.CaptureFixture[str], role: ClientRole
) -> None:
    # Given / When
    exit_code = main(["clients", "create", "--name", "lobby-station", "--role", role.value])
    # Then
    assert exit_code == 0
    printed = capsys.readouterr()
    api_key = printed.out.strip()
    assert api_key not in printed.err
    with session_scope(committed_db) as session:
        client = authenticate(session, api_key=api_key, pepper=DEVELOPMENT_PEPPER)
        assert client is not None
        assert (client.name, client.role) == ("lobby-station", role)


def test_cli_create_refuses_an_unknown_role(committed_db: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    # Given / When
    with pytest.raises(SystemExit) as refused:
        main(["clients", "create", "--name", "lobby-station", "--role", "superuser"])
    # Then
    assert refused.value.code == 2
    assert "superuser" in capsys.readouterr().err
    with session_scope(committed_db) as session:
        assert session.scalars(select(Client)).all() == []


def test_cli_revoke_stops_the_key_at_once(committed_db: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    # Given
    assert main(["clients", "create", "--name", "lobby-station", "--role", "printer"]) == 0
    api_key = capsys.readouterr().out.strip()
    # When
    exit_code = main(["clients", "revoke", "--name", "lobby-station"])
    # Then
    assert exit_code == 0
    with session_scope(committed_db) as session:
        assert authenticate(session, api_key=api_key, pepper=DEVELOPMENT_PEPPER) is None


@pytest.mark.parametrize(("name", "expected_in_error"), [("nobody", "nobody"), ("only-admin", "last active admin")])
def test_cli_revoke_refuses_an_unknown_name_and_the_last_admin(
    committed_db: Engine, capsys: pytest.CaptureFixture[str], name: str, expected_in_error: str
) -> None:
    # Given
    assert main(["clients", "create-admin", "--name", "only-admin"]) == 0
    api_key = capsys.readouterr().out.strip()
    # When
    exit_code = main(["clients", "revoke", "--name", name])
    # Then
    assert exit_code == 1
    assert expected_in_error in capsys.readouterr().err
    with session_scope(committed_db) as session:
        assert authenticate(session, api_key=api_key, pepper=DEVELOPMENT_PEPPER) is not None


def test_python_m_tarroitus_clients_create_admin_runs_as_a_command(committed_db: Engine) -> None:
    # Given / When
    completed = subprocess.run(
        [sys.executable, "-m", "tarroitus", "clients", "create-admin", "--name", "subprocess-admin"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
        timeout=60,
    )
    # Then
    assert completed.returncode == 0, completed.stderr
    with session_scope(committed_db) as session:
        assert authenticate(session, api_key=completed.stdout.strip(), pepper=DEVELOPMENT_PEPPER) is not None
