"""The operator dashboard: a static page at `/` and its assets under `/dashboard/`, with caching and security headers.

The page is revalidated on every load (`no-cache` with an ETag) so that a deployment shows at
once; the assets it names carry their content version (`?v=`) and are cached for a year.
The page signs in with an admin key and calls /api/v1 itself; serving it needs no key.
"""

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from tarroitus.api.dashboard_assets import Asset, index_page, static_assets
from tarroitus.errors import NotFoundError

router = APIRouter(tags=["dashboard"], include_in_schema=False)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"

IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match")]


def asset_response(request: Request, asset: Asset, *, cache_control: str, if_none_match: str | None) -> Response:
    """The asset with its headers, or 304 without a body when the client holds this version already."""
    headers = {**SECURITY_HEADERS, "Cache-Control": cache_control, "ETag": asset.etag}
    held = {tag.strip().removeprefix("W/") for tag in (if_none_match or "").split(",")}
    if asset.etag in held or "*" in held:
        return Response(status_code=304, headers=headers)
    body = b"" if request.method == "HEAD" else asset.body
    response = Response(content=body, media_type=asset.media_type, headers=headers)
    if request.method == "HEAD":
        response.headers["Content-Length"] = str(len(asset.body))
    return response


def versioned_asset_response(
    request: Request, asset: Asset | None, *, version: str | None, if_none_match: str | None
) -> Response:
    """An asset asked for by name: cached for a year when asked for by its current version, else revalidated.

    404 when there is no such asset.
    """
    if asset is None:
        raise NotFoundError("Not Found")
    cache_control = IMMUTABLE if version == asset.version else REVALIDATE
    return asset_response(request, asset, cache_control=cache_control, if_none_match=if_none_match)


@router.api_route("/", methods=["GET", "HEAD"], response_class=Response)
def read_dashboard(request: Request, if_none_match: IfNoneMatch = None) -> Response:
    """The dashboard page."""
    return asset_response(request, index_page(), cache_control=REVALIDATE, if_none_match=if_none_match)


@router.api_route("/dashboard/{name}", methods=["GET", "HEAD"], response_class=Response)
def read_dashboard_asset(
    request: Request,
    name: str,
    v: Annotated[str | None, Query(max_length=64, description="The asset's content version")] = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """A dashboard asset; cached for a year when asked for by its current version, else revalidated."""
    return versioned_asset_response(request, static_assets().get(name), version=v, if_none_match=if_none_match)
