"""Route groups imported with the first request under their path prefix instead of at the cold start.

A print station only looks items up, prints, renders labels and reports; the operators' routes
(analytics, writeback, clients, overrides, sync, GraphQL) and the read models and services behind them
would otherwise make up about half of the API Lambda's import. Each such group is included where it
belongs in the route order as an empty router: the first request whose path is under the group's
prefix imports the module and includes its `router` into that slot, so routes are matched in the same
order, and 404 and 405 answers are the same, as in an app built with every group. Whatever enumerates
the routes (the OpenAPI document and its pages, tests) loads every group first. The loading runs inside
the app's middleware, innermost, so a group that fails to import is answered by the app's error
handlers like any other failure (and tried again by the next request).
"""

import importlib
import threading
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette._utils import get_route_path
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass(frozen=True)
class LazyRouteGroup:
    """The routes of `module`'s `router`, every one of them at `path_prefix` or below it."""

    path_prefix: str
    module: str

    def serves(self, path: str) -> bool:
        """Whether a request for `path` may match one of the group's routes (or its slash-toggled twin)."""
        return path == self.path_prefix or path.startswith(f"{self.path_prefix}/")


class LazyRoutesApp(FastAPI):
    """A FastAPI app whose lazy route groups load on the first request that may match them."""

    def __init__(self, **options: Any) -> None:
        self._slots: dict[LazyRouteGroup, APIRouter] = {}
        # Read without the lock on every request; replaced (never mutated) under it.
        self._pending: tuple[LazyRouteGroup, ...] = ()
        self._load_lock = threading.Lock()
        super().__init__(**options)
        # Added first, so every middleware added later wraps it.
        self.add_middleware(RouteGroupLoader, routes_app=self)

    def include_lazy_router(self, group: LazyRouteGroup, *, prefix: str = "") -> None:
        """Reserve the group's place in the route order; its module is imported on first use."""
        slot = APIRouter()
        self.include_router(slot, prefix=prefix)
        self._slots[group] = slot
        self._pending = (*self._pending, group)

    @property
    def route_groups(self) -> tuple[LazyRouteGroup, ...]:
        """Every lazy group of the app, loaded or not."""
        return tuple(self._slots)

    def load_route_groups(self, *, path: str | None = None) -> None:
        """Include the pending groups that may serve `path` (every pending group when None), each once."""
        wanted = [group for group in self._pending if path is None or group.serves(path)]
        if not wanted:
            return
        with self._load_lock:
            for group in wanted:
                if group in self._pending:
                    self._slots[group].include_router(importlib.import_module(group.module).router)
                    self._pending = tuple(pending for pending in self._pending if pending != group)

    @property
    def routes(self) -> list[BaseRoute]:
        """Every route, the lazy groups' included: for the OpenAPI document and anything listing routes."""
        self.load_route_groups()
        return super().routes

    @property
    def has_pending_groups(self) -> bool:
        """Whether some group is still to be loaded."""
        return bool(self._pending)


class RouteGroupLoader:
    """ASGI middleware loading the lazy groups that may serve the request's path before it is routed."""

    def __init__(self, app: ASGIApp, *, routes_app: LazyRoutesApp) -> None:
        self.app, self.routes_app = app, routes_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.routes_app.has_pending_groups and scope["type"] in ("http", "websocket"):
            # The path as the router matches it (without the root path), as FastAPI's routing reads it.
            self.routes_app.load_route_groups(path=get_route_path(scope))
        await self.app(scope, receive, send)
