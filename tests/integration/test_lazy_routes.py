"""Lazy route groups: the first request under a group's prefix is answered as by an app with every group loaded."""

import threading
from collections.abc import Callable

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from mangum import Mangum
from sqlalchemy.orm import Session

from tarroitus.api.app import create_app
from tarroitus.api.lazy_routes import LazyRouteGroup, LazyRoutesApp
from tarroitus.domain import ClientRole
from tarroitus.settings import Settings
from tests.api_helpers import key_header, share_session
from tests.events import FakeLambdaContext, http_api_event, response_json
from tests.factories import make_client

#: (method, path, query, the role whose key is sent or None): one request under each lazy group's prefix,
#: with answers from 200 to a refused key, a 404 and a 405 under the prefix, and a redirect to the slashless path.
FIRST_REQUESTS = [
    ("GET", "/api/v1/clients", None, ClientRole.ADMIN),
    ("GET", "/api/v1/clients", None, None),
    ("GET", "/api/v1/clients/", None, ClientRole.ADMIN),
    ("GET", "/api/v1/analytics/progress", None, ClientRole.PRINTER),
    ("GET", "/api/v1/analytics/no-such-report", None, ClientRole.ADMIN),
    ("GET", "/api/v1/analytics/data_status", None, ClientRole.ADMIN),
    ("DELETE", "/api/v1/writeback", None, ClientRole.ADMIN),
    ("GET", "/api/v1/writeback", None, ClientRole.ADMIN),
    ("GET", "/api/v1/sync", None, ClientRole.PRINTER),
    ("POST", "/api/v1/items/classification-overrides", None, None),
    ("GET", "/api/v1/graphql", {"query": "{ __typename }"}, ClientRole.PRINTER),
    ("GET", "/sync", None, None),
    ("GET", "/api/v1/private/diagnostics/nothing", None, None),
]
REQUEST_IDS = [f"{method} {path}{' with ' + role if role else ''}" for method, path, _, role in FIRST_REQUESTS]


def loaded_paths(app: LazyRoutesApp) -> set[str]:
    """The paths the app's router serves now (not `app.routes`, which loads every group)."""
    return {str(context.path) for context in iter_route_contexts(app.router.routes)}


@pytest.fixture
def local_settings(settings: Settings) -> Settings:
    """ENV=local, so that the diagnostics group exists too."""
    return settings.model_copy(update={"env": "local"})


@pytest.fixture
def build_app(local_settings: Settings, db_session: Session) -> Callable[[], LazyRoutesApp]:
    def build() -> LazyRoutesApp:
        app = create_app(local_settings)
        share_session(app, db_session)
        return app

    return build


@pytest.fixture
def keys(db_session: Session) -> dict[ClientRole, str]:
    return {role: make_client(db_session, role=role, name=f"lazy-{role}")[1] for role in ClientRole}


def headers_for(keys: dict[ClientRole, str], role: ClientRole | None) -> dict[str, str]:
    return key_header(keys[role]) if role else {}


@pytest.mark.parametrize(("method", "path", "query", "role"), FIRST_REQUESTS, ids=REQUEST_IDS)
def test_first_request_under_a_lazy_prefix_is_answered_as_with_every_group_loaded(
    build_app: Callable[[], LazyRoutesApp],
    keys: dict[ClientRole, str],
    method: str,
    path: str,
    query: dict[str, str] | None,
    role: ClientRole | None,
) -> None:
    # Given: apps whose group under `path` is not loaded, called directly and through Mangum with an API
    # Gateway v2 event as in the API Lambda, and the same app with every group loaded (as if built eagerly)
    lazy, lazy_behind_mangum, eager = build_app(), build_app(), build_app()
    eager.load_route_groups()
    group = next(group for group in lazy.route_groups if group.serves(path))
    assert not any(group.serves(loaded) for loaded in loaded_paths(lazy) | loaded_paths(lazy_behind_mangum))
    headers = headers_for(keys, role)
    event = http_api_event(method, path, query=query, headers=headers)
    # When
    with TestClient(lazy, raise_server_exceptions=False) as first, TestClient(eager) as reference:
        answer = first.request(method, path, params=query, headers=headers, follow_redirects=False)
        expected = reference.request(method, path, params=query, headers=headers, follow_redirects=False)
    answer_through_mangum = Mangum(lazy_behind_mangum, lifespan="off")(event, FakeLambdaContext())
    expected_through_mangum = Mangum(eager, lifespan="off")(event, FakeLambdaContext())
    # Then: the same answers, and the group is now loaded, no other
    assert (answer.status_code, answer.headers.get("location"), answer.content) == (
        expected.status_code,
        expected.headers.get("location"),
        expected.content,
    )
    assert answer_through_mangum["statusCode"] == expected_through_mangum["statusCode"] == expected.status_code
    assert answer_through_mangum["headers"].get("location") == expected_through_mangum["headers"].get("location")
    assert response_json(answer_through_mangum) == response_json(expected_through_mangum)
    for app in (lazy, lazy_behind_mangum):
        loaded_groups = [each for each in app.route_groups if any(each.serves(served) for served in loaded_paths(app))]
        assert loaded_groups == [group]


def test_every_route_of_a_lazy_group_is_under_its_prefix(local_settings: Settings) -> None:
    # Given: a route outside its group's prefix would answer 404 until something else loaded the group
    app = create_app(local_settings)
    # When
    outside = [
        f"{context.path} ({group.module})"
        for context in iter_route_contexts(app.routes)
        for group in app.route_groups
        if context.endpoint.__module__ == group.module and not group.serves(str(context.path))
    ]
    # Then
    assert len(app.route_groups) == 8
    assert outside == []


def test_listing_the_routes_loads_every_group(local_settings: Settings) -> None:
    # Given
    app = create_app(local_settings)
    eager_paths = loaded_paths(app)
    # When
    every_path = {str(context.path) for context in iter_route_contexts(app.routes)}
    # Then
    assert "/api/v1/analytics/forecast.csv" not in eager_paths
    assert {"/api/v1/analytics/forecast.csv", "/api/v1/clients", "/sync", "/api/v1/graphql"} <= every_path
    assert loaded_paths(app) == every_path


def test_concurrent_first_requests_load_a_group_once(local_settings: Settings) -> None:
    # Given: eight threads that reach the first request under the same prefix together
    app = create_app(local_settings)
    start = threading.Barrier(8)

    def first_request() -> None:
        start.wait()
        app.load_route_groups(path="/api/v1/clients/1")

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    # When
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then: each route of the group once, and nothing else loaded
    clients_routes = [
        (str(context.path), frozenset(context.methods or ()))
        for context in iter_route_contexts(app.router.routes)
        if str(context.path).startswith("/api/v1/clients")
    ]
    assert len(clients_routes) == len(set(clients_routes)) == 5
    assert "/api/v1/analytics/progress" not in loaded_paths(app)


def test_a_group_that_fails_to_import_is_answered_in_the_error_shape(local_settings: Settings) -> None:
    # Given: a group whose module cannot be imported (a broken deployment)
    app = create_app(local_settings)
    app.include_lazy_router(LazyRouteGroup("/api/v1/broken", "tarroitus.api.routes.no_such_module"))
    # When
    with TestClient(app, raise_server_exceptions=False) as client:
        first, second = client.get("/api/v1/broken"), client.get("/api/v1/broken/again")
        health = client.get("/api/v1/utils/health-check")
    # Then: a 500 in the project's error shape, with no traceback, each time; the other routes unaffected
    for answer in (first, second):
        assert answer.status_code == 500
        assert answer.json() == {"error": {"code": "internal_error", "message": "Internal server error", "details": []}}
        assert "Traceback" not in answer.text
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert health.status_code == 200
