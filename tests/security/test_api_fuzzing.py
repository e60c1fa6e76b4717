"""Schemathesis over the OpenAPI schema, in-process through ASGI, with a valid key of each role.

The roles: admin, printer, sync agent.
Every operation gets schema-valid and schema-violating requests (positive and negative
generation). Checks: no 5xx, every status documented, every body and content type as documented.
The case count per role is written to the terminal summary as `schemathesis: role=... cases=... 5xx=0`.
"""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session

from tarroitus.api.app import create_app
from tarroitus.domain import ClientRole
from tarroitus.settings import get_settings
from tests.api_helpers import share_session
from tests.factories import make_client, make_item
from tests.security.fuzz_counts import CASES

pytestmark = pytest.mark.slow

#: Examples per operation and role: about 40 operations x 3 roles stays near a minute.
MAX_EXAMPLES = 20
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def seed_with_key(session: Session, role: ClientRole) -> str:
    """Items to find (printable, unclassified, deleted) and a key of the role."""
    make_item(session)
    make_item(session, classification=None, signum=None)
    make_item(session, deleted=True)
    return make_client(session, role=role)[1]


@pytest.fixture
def admin_key(db_session: Session) -> str:
    return seed_with_key(db_session, ClientRole.ADMIN)


@pytest.fixture
def printer_key(db_session: Session) -> str:
    return seed_with_key(db_session, ClientRole.PRINTER)


@pytest.fixture
def sync_key(db_session: Session) -> str:
    return seed_with_key(db_session, ClientRole.SYNC)


def build_app() -> FastAPI:
    """The app the schema is loaded from; each test points its sessions at the test's rolled-back one."""
    application = create_app(get_settings().model_copy(update={"auth_failure_limit": 1_000_000}))
    return application


APP = build_app()
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)


@pytest.fixture(autouse=True)
def shared_session(db_session: Session) -> Iterator[None]:
    """Every request of the test runs in a savepoint of the test's session, rolled back afterwards."""

    share_session(APP, db_session)
    yield
    APP.dependency_overrides.clear()


FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def call_and_check(case: Any, api_key: str, role: ClientRole) -> None:
    """Send the case with the key, count it, and run the checks on the response."""
    headers = {"X-API-Key": api_key}
    try:
        response = case.call(headers=headers)
    except Exception:
        # The in-process transport re-raises what the app did not handle: that is a 5xx too.
        CASES[(role.value, "5xx")] += 1
        raise
    CASES[(role.value, "5xx" if response.status_code >= 500 else "ok")] += 1
    case.validate_response(response, checks=CHECKS, headers=headers)


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_conforms_to_its_schema_as_admin(case: Any, admin_key: str) -> None:
    # Given: a generated request, sent with an admin key
    # When / Then
    call_and_check(case, admin_key, ClientRole.ADMIN)


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_conforms_to_its_schema_as_printer(case: Any, printer_key: str) -> None:
    # Given: a generated request, sent with a printer key
    # When / Then
    call_and_check(case, printer_key, ClientRole.PRINTER)


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_conforms_to_its_schema_as_sync_agent(case: Any, sync_key: str) -> None:
    # Given: a generated request, sent with a sync agent's key
    # When / Then
    call_and_check(case, sync_key, ClientRole.SYNC)
