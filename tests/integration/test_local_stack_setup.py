"""Local stack start-up pieces: ports that are taken, and the stable admin and printer keys."""

import json
import logging
from pathlib import Path

import pytest
from local_stack.keys import install_local_keys
from local_stack.ports import PortInUseError, listen, port_of, reserve
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tarroitus.services.clients import authenticate

PEPPER = "local-development-pepper"


def test_reserve_refuses_a_requested_port_that_is_taken() -> None:
    # Given
    taken = listen("127.0.0.1", 0)
    try:
        # When / Then
        with pytest.raises(PortInUseError, match=f"API: port {port_of(taken)} on 127.0.0.1 is in use"):
            reserve("127.0.0.1", requested=port_of(taken), default=8000, what="API")
    finally:
        taken.close()


def test_reserve_moves_off_a_taken_default_port(caplog: pytest.LogCaptureFixture) -> None:
    # Given
    taken = listen("127.0.0.1", 0)
    try:
        # When
        with caplog.at_level(logging.WARNING, logger="local_stack"):
            moved = reserve("127.0.0.1", requested=None, default=port_of(taken), what="moto server")
        # Then
        assert port_of(moved) != port_of(taken)
        assert f"moto server: port {port_of(taken)} is in use, using {port_of(moved)} instead" in caplog.text
        moved.close()
    finally:
        taken.close()


def test_local_keys_are_stable_across_starts_and_reinstalled_without_the_file(
    committed_db: Engine, tmp_path: Path
) -> None:
    # Given: a first start
    first = install_local_keys(committed_db, pepper=PEPPER, state_dir=tmp_path)

    # When: a second start, then a start after the keys file was deleted
    second = install_local_keys(committed_db, pepper=PEPPER, state_dir=tmp_path)
    stored = json.loads((tmp_path / "keys.json").read_text())
    (tmp_path / "keys.json").unlink()
    third = install_local_keys(committed_db, pepper=PEPPER, state_dir=tmp_path)

    # Then
    assert second == first
    assert stored == {"admin": first.admin, "printer": first.printer}
    assert (tmp_path / "keys.json").stat().st_mode & 0o777 == 0o600
    assert third.admin != first.admin and third.printer != first.printer
    with Session(committed_db) as session:
        assert authenticate(session, api_key=first.printer, pepper=PEPPER) is None
        admin = authenticate(session, api_key=third.admin, pepper=PEPPER)
        printer = authenticate(session, api_key=third.printer, pepper=PEPPER)
    assert admin is not None and admin.name == "local-admin"
    assert printer is not None and printer.name == "local-printer"
