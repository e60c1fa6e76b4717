"""The auth matrix, generated from the app's routes: every route is public by name or declares its roles.

Each route's roles are read from its dependencies (`RoleRequirement`, `LegacyRoleRequirement`, the
barcode look-ups' `KeyedBarcodeLookup`, or `CurrentClient` alone for "any role"), then every route is
called with no key, a wrong key, a revoked key and a key of each role. A route added without a role dependency fails
`test_every_route_is_public_by_name_or_declares_its_roles` until it declares one or is added to
PUBLIC_ROUTES on purpose.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tarroitus.api.app import create_app
from tarroitus.api.auth import RoleRequirement, get_current_client
from tarroitus.api.barcode_lookup import KeyedBarcodeLookup, LegacyItemLookup
from tarroitus.api.legacy_auth import LEGACY_AUTH_FAILURE, LegacyRoleRequirement
from tarroitus.domain import ClientRole
from tarroitus.settings import Settings
from tests.api_helpers import share_session
from tests.factories import make_client

#: Routes anyone may call, on purpose: probes, the API description and its pages' assets, the dashboard's and the
#: print station's static pages and assets (each page signs in with a key and calls /api/v1 itself).
PUBLIC_ROUTES = {
    ("GET", "/"),
    ("GET", "/dashboard/{name}"),
    ("GET", "/station"),
    ("GET", "/station/{name}"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/docs/assets/{name}"),
    ("GET", "/redoc"),
    ("GET", "/api/v1/utils/health-check"),
    ("GET", "/api/v1/utils/readiness"),
    ("GET", "/healthz"),
    ("GET", "/readiness"),
}
#: Public only where ENV=local (the router is not mounted anywhere else; tests/integration/test_app.py).
LOCAL_ONLY_PUBLIC_ROUTES = {
    ("GET", "/api/v1/private/diagnostics/settings"),
    ("GET", "/api/v1/private/diagnostics/database"),
}
ALL_ROLES = frozenset(ClientRole)
SAMPLE_PATH_VALUES: dict[type, str] = {int: "1", uuid.UUID: str(uuid.uuid4()), str: "31234000000001"}


@dataclass(frozen=True)
class RouteAccess:
    """One operation and the roles its dependencies admit."""

    method: str
    path: str
    legacy: bool
    allowed: frozenset[ClientRole]
    url: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def dependency_calls(dependant: Dependant) -> Iterator[Any]:
    """Every dependency callable of a route, depth first."""
    for sub in dependant.dependencies:
        yield sub.call
        yield from dependency_calls(sub)


def sample_url(path: str, dependant: Dependant) -> str:
    """The route's path with a plausible value for each path parameter."""
    values = {param.name: SAMPLE_PATH_VALUES[param.field_info.annotation] for param in dependant.path_params}
    return path.format(**values)


def route_operations(app: FastAPI) -> Iterator[tuple[str, str, Dependant | None]]:
    """(method, path, dependant) for every operation the app serves, mounted routers included."""
    for context in iter_route_contexts(app.routes):
        dependant = getattr(context, "dependant", None)
        for method in sorted((context.methods or set()) - {"HEAD"}):
            yield method, str(context.path), dependant


def declared_access(method: str, path: str, dependant: Dependant | None) -> RouteAccess | None:
    """The roles the route's dependencies admit, or None when it has no authentication at all."""
    if dependant is None:
        return None
    calls = list(dependency_calls(dependant))
    requirements = [
        call for call in calls if isinstance(call, RoleRequirement | LegacyRoleRequirement | KeyedBarcodeLookup)
    ]
    if requirements:
        allowed = frozenset.intersection(*(requirement.allowed for requirement in requirements))
    elif get_current_client in calls:
        allowed = ALL_ROLES
    else:
        return None
    legacy = any(isinstance(requirement, LegacyRoleRequirement | LegacyItemLookup) for requirement in requirements)
    return RouteAccess(method, path, legacy, allowed, sample_url(path, dependant))


def protected_routes() -> list[RouteAccess]:
    """Every route that authenticates, in the app as deployed (ENV other than local)."""
    app = create_app(Settings(env="test"))
    routes = [declared_access(method, path, dependant) for method, path, dependant in route_operations(app)]
    return [route for route in routes if route is not None]


PROTECTED_ROUTES = protected_routes()


@pytest.fixture
def matrix_app(settings: Settings, db_session: Session) -> FastAPI:
    """The app on the rolled-back session; the failed-auth limit is out of the way (tested on its own)."""
    application = create_app(settings.model_copy(update={"auth_failure_limit": 100_000}))

    share_session(application, db_session)
    return application


@pytest.fixture
def matrix_client(matrix_app: FastAPI) -> TestClient:
    return TestClient(matrix_app, raise_server_exceptions=False)


def key_headers(route: RouteAccess, api_key: str | None) -> dict[str, str]:
    """The key in the header the route's protocol reads."""
    if api_key is None:
        return {}
    return {"x-api-key": api_key} if route.legacy else {"X-API-Key": api_key}


def assert_refused(route: RouteAccess, response: Any) -> None:
    """401 in the /api/v1 error shape, or the legacy protocol's 403."""
    if route.legacy:
        assert response.status_code == 403, response.text
        assert response.json() == {"detail": LEGACY_AUTH_FAILURE}
    else:
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "not_authenticated"


def test_every_route_is_public_by_name_or_declares_its_roles(settings: Settings) -> None:
    # Given: the app with every router mounted, local diagnostics included
    app = create_app(settings.model_copy(update={"env": "local"}))
    # When
    public = {
        (method, path)
        for method, path, dependant in route_operations(app)
        if not declared_access(method, path, dependant)
    }
    # Then
    assert public == PUBLIC_ROUTES | LOCAL_ONLY_PUBLIC_ROUTES
    assert len(PROTECTED_ROUTES) >= 10


def test_public_routes_answer_without_a_key(matrix_client: TestClient) -> None:
    # Given / When
    paths = [path for method, path in PUBLIC_ROUTES if method == "GET" and "{" not in path]
    statuses = {path: matrix_client.get(path).status_code for path in paths}
    # Then
    assert all(status == 200 for status in statuses.values()), statuses


@pytest.mark.parametrize("route", PROTECTED_ROUTES, ids=str)
def test_route_refuses_missing_wrong_and_revoked_keys(
    route: RouteAccess, matrix_client: TestClient, db_session: Session
) -> None:
    # Given
    _, revoked_key = make_client(db_session, role=ClientRole.ADMIN, revoked_at=datetime.now(UTC))
    wrong_key = "trt_" + uuid.uuid4().hex
    for api_key in (None, wrong_key, revoked_key):
        # When
        response = matrix_client.request(route.method, route.url, headers=key_headers(route, api_key))
        # Then
        assert_refused(route, response)


@pytest.mark.parametrize("route", PROTECTED_ROUTES, ids=str)
def test_route_admits_exactly_its_roles(route: RouteAccess, matrix_client: TestClient, db_session: Session) -> None:
    # Given
    keys = {role: make_client(db_session, role=role)[1] for role in ClientRole}
    for role, api_key in keys.items():
        # When
        response = matrix_client.request(route.method, route.url, headers=key_headers(route, api_key))
        # Then
        if role in route.allowed:
            assert response.status_code not in {401, 403}, (role, response.text)
            assert response.status_code < 500, (role, response.text)
        elif route.legacy:
            assert (response.status_code, response.json()) == (403, {"detail": LEGACY_AUTH_FAILURE}), role
        else:
            assert response.status_code == 403, (role, response.text)
            assert response.json()["error"]["code"] == "forbidden"
