"""The FastAPI application factory: the one place the API is wired to the jobs it can start."""

from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from tarroitus.api.auth_limit import AuthBlockedError, FailedAuthLimiter, handle_auth_blocked
from tarroitus.api.body_limit import BodySizeLimitMiddleware
from tarroitus.api.deps import SyncStarter
from tarroitus.api.errors import install_error_handlers
from tarroitus.api.lazy_routes import LazyRouteGroup, LazyRoutesApp
from tarroitus.api.routes import docs, items, labels, legacy, pages, rendered_labels, status, utils
from tarroitus.api.security_headers import SecurityHeadersMiddleware
from tarroitus.domain import SyncMode
from tarroitus.error_reporting import configure as configure_error_reporting
from tarroitus.settings import Settings, get_settings

API_V1_PREFIX = "/api/v1"


def _lazy(path_prefix: str, module: str) -> LazyRouteGroup:
    return LazyRouteGroup(path_prefix=path_prefix, module=f"tarroitus.api.routes.{module}")


#: What a print station never calls (the operators' routes and the sync agent's upload), loaded on the
#: first request under the prefix (tarroitus/api/lazy_routes.py). Look-ups on both protocols, prints,
#: rendered labels, heartbeats and status, health and the pages stay eager.
CLASSIFICATION_OVERRIDES = _lazy(f"{API_V1_PREFIX}/items/classification-overrides", "overrides")
CLIENTS = _lazy(f"{API_V1_PREFIX}/clients", "clients")
SYNC = _lazy(f"{API_V1_PREFIX}/sync", "sync")
WRITEBACK = _lazy(f"{API_V1_PREFIX}/writeback", "writeback")
ANALYTICS = _lazy(f"{API_V1_PREFIX}/analytics", "analytics")
GRAPHQL = _lazy(f"{API_V1_PREFIX}/graphql", "graphql")
DIAGNOSTICS = _lazy(f"{API_V1_PREFIX}/private/diagnostics", "private")
LEGACY_SYNC = _lazy("/sync", "legacy_sync")


def unique_operation_id(route: APIRoute) -> str:
    """`<tag>-<function name>`: stable OpenAPI operation ids for generated clients and schema diffs."""
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


def start_sync_job(
    settings: Settings, *, mode: SyncMode | None, schedule: Callable[..., Any]
) -> Literal["lambda", "in_process"]:
    """The sync job's `start`, loaded on the first request that starts a run (not with the API's cold start)."""
    from tarroitus.jobs import sierra_sync

    return sierra_sync.start(settings, mode=mode, schedule=schedule)


def create_app(settings: Settings | None = None, *, sync_starter: SyncStarter = start_sync_job) -> LazyRoutesApp:
    """Build the app; no I/O happens until the first request. `sync_starter` starts a sync run on demand."""
    settings = settings or get_settings()
    configure_error_reporting(settings)
    app = LazyRoutesApp(
        title="Tarroitus",
        summary="Label data, print events, Sierra sync and writeback for a library relabelling project.",
        version="0.1.0",
        openapi_url=f"{API_V1_PREFIX}/openapi.json",
        # Served by routes/docs.py, with Swagger UI and ReDoc from the package instead of a CDN.
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=unique_operation_id,
    )
    app.state.settings = settings
    app.state.sync_starter = sync_starter
    app.state.auth_limiter = FailedAuthLimiter(
        limit=settings.auth_failure_limit, window_seconds=settings.auth_failure_window_seconds
    )
    install_error_handlers(app)
    app.add_exception_handler(AuthBlockedError, handle_auth_blocked)
    # Added before CORS so that CORS wraps it and 413 answers carry the CORS headers too.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_body_bytes)
    # Outside the body limit, so that its 413 answers carry the security headers as well.
    app.add_middleware(SecurityHeadersMiddleware)
    # CORS is closed unless CORS_ORIGINS lists origins: no Access-Control-Allow-Origin is ever sent otherwise.
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-API-Key"],
        )
    include_api_routes(app, settings)
    app.include_router(legacy.router)
    app.include_lazy_router(LEGACY_SYNC)
    app.include_router(pages.router)
    app.include_router(docs.router)
    return app


def include_api_routes(app: LazyRoutesApp, settings: Settings) -> None:
    """Every /api/v1 router, in the order routes are matched; the diagnostics exist only when ENV=local.

    Each is included in the app itself, not under one /api/v1 router: FastAPI rebuilds an included
    router's routes whenever a router below it changes, so a lazy group loading rebuilds only its own.
    """
    api_routes: list[APIRouter | LazyRouteGroup] = [
        utils.router,
        items.router,
        CLASSIFICATION_OVERRIDES,
        labels.router,
        rendered_labels.router,
        CLIENTS,
        status.router,
        SYNC,
        WRITEBACK,
        ANALYTICS,
        GRAPHQL,
    ]
    if settings.env == "local":
        api_routes.append(DIAGNOSTICS)
    for routes in api_routes:
        if isinstance(routes, LazyRouteGroup):
            app.include_lazy_router(routes, prefix=API_V1_PREFIX)
        else:
            app.include_router(routes, prefix=API_V1_PREFIX)
