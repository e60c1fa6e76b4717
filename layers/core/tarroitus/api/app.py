"""The FastAPI application factory: the one place the API is wired to the jobs it can start."""

from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from tarroitus.api.auth_limit import AuthBlockedError, FailedAuthLimiter, handle_auth_blocked
from tarroitus.api.body_limit import BodySizeLimitMiddleware
from tarroitus.api.deps import SyncStarter
from tarroitus.api.errors import install_error_handlers
from tarroitus.api.routes import (
    analytics,
    clients,
    docs,
    graphql,
    items,
    labels,
    legacy,
    legacy_sync,
    overrides,
    pages,
    private,
    rendered_labels,
    status,
    sync,
    utils,
    writeback,
)
from tarroitus.api.security_headers import SecurityHeadersMiddleware
from tarroitus.domain import SyncMode
from tarroitus.error_reporting import configure as configure_error_reporting
from tarroitus.settings import Settings, get_settings

API_V1_PREFIX = "/api/v1"


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


def create_app(settings: Settings | None = None, *, sync_starter: SyncStarter = start_sync_job) -> FastAPI:
    """Build the app; no I/O happens until the first request. `sync_starter` starts a sync run on demand."""
    settings = settings or get_settings()
    configure_error_reporting(settings)
    app = FastAPI(
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
    app.include_router(build_api_router(settings), prefix=API_V1_PREFIX)
    app.include_router(legacy.router)
    app.include_router(legacy_sync.router)
    app.include_router(pages.router)
    app.include_router(docs.router)
    return app


def build_api_router(settings: Settings) -> APIRouter:
    """Every /api/v1 router; the diagnostics exist only when ENV=local."""
    router = APIRouter()
    router.include_router(utils.router)
    router.include_router(items.router)
    router.include_router(overrides.router)
    router.include_router(labels.router)
    router.include_router(rendered_labels.router)
    router.include_router(clients.router)
    router.include_router(status.router)
    router.include_router(sync.router)
    router.include_router(writeback.router)
    router.include_router(analytics.router)
    router.include_router(graphql.router)
    if settings.env == "local":
        router.include_router(private.router)
    return router
