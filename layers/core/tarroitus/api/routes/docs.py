"""The API's documentation pages, Swagger UI at /docs and ReDoc at /redoc, with their assets served from here.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, without integrity checks, and show a
blank page offline. The same files ship in the fastapi-offline wheel (swagger-ui-dist, Apache-2.0;
ReDoc, MIT): they are served under /docs/assets/, named with their content version and cached for a
year, so the pages load nothing from another host and need no other origin in a Content-Security-Policy.
"""

from functools import cache
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

from tarroitus.api.static_pages import Asset, make_asset, page_headers, versioned_asset_response

router = APIRouter(tags=["docs"], include_in_schema=False)

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
ASSETS_URL = "/docs/assets"
ASSETS_PACKAGE = "fastapi_offline"
ASSETS_DIR = "static"
#: The files the two pages load; nothing else in the package is served.
ASSET_MEDIA_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
ASSET_HEADERS = page_headers()


@cache
def docs_assets() -> dict[str, Asset]:
    """Every asset by file name, read from the installed fastapi-offline package once per process."""
    files = resources.files(ASSETS_PACKAGE).joinpath(ASSETS_DIR)
    return {name: make_asset(files.joinpath(name).read_bytes(), media) for name, media in ASSET_MEDIA_TYPES.items()}


def asset_url(request: Request, name: str) -> str:
    """The asset's same-origin URL with its content version, under the app's root path."""
    return f"{root_path(request)}{ASSETS_URL}/{name}?v={docs_assets()[name].version}"


def root_path(request: Request) -> str:
    """The prefix the app is served under (empty behind API Gateway's default stage)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def openapi_url(request: Request) -> str:
    """Where the pages read the OpenAPI document."""
    return f"{root_path(request)}{request.app.openapi_url}"


@router.get(DOCS_URL, response_class=HTMLResponse)
def read_swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI for the API."""
    return get_swagger_ui_html(
        openapi_url=openapi_url(request),
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=asset_url(request, "swagger-ui-bundle.js"),
        swagger_css_url=asset_url(request, "swagger-ui.css"),
        swagger_favicon_url=asset_url(request, "favicon.png"),
        oauth2_redirect_url=f"{root_path(request)}{OAUTH2_REDIRECT_URL}",
        swagger_ui_parameters=request.app.swagger_ui_parameters,
    )


@router.get(OAUTH2_REDIRECT_URL, response_class=HTMLResponse)
def read_swagger_ui_oauth2_redirect() -> HTMLResponse:
    """The page Swagger UI's OAuth2 sign-in returns to."""
    return get_swagger_ui_oauth2_redirect_html()


@router.get(REDOC_URL, response_class=HTMLResponse)
def read_redoc(request: Request) -> HTMLResponse:
    """ReDoc for the API, without Google's fonts."""
    return get_redoc_html(
        openapi_url=openapi_url(request),
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=asset_url(request, "redoc.standalone.js"),
        redoc_favicon_url=asset_url(request, "favicon.png"),
        with_google_fonts=False,
    )


@router.get(f"{ASSETS_URL}/{{name}}", response_class=Response)
def read_docs_asset(
    request: Request,
    name: str,
    v: Annotated[str | None, Query(max_length=64, description="The asset's content version")] = None,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> Response:
    """A docs asset; cached for a year when asked for by its current version, else revalidated."""
    asset = docs_assets().get(name)
    return versioned_asset_response(request, asset, headers=ASSET_HEADERS, version=v, if_none_match=if_none_match)
