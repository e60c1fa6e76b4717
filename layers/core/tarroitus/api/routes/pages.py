"""The static pages: the operator dashboard at `/` (assets under `/dashboard/`) and the print station at `/station`.

Each page signs in with a key and calls /api/v1 itself, so serving it needs none. The station's label
preview and print view show the SVG the label route renders, fetched with the key and shown from a
`blob:` URL: the one source its policy admits beyond this origin.
"""

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from tarroitus.api.static_pages import (
    DASHBOARD,
    REVALIDATE,
    STATION,
    StaticPage,
    asset_response,
    index_page,
    page_headers,
    static_assets,
    versioned_asset_response,
)

router = APIRouter(tags=["pages"], include_in_schema=False)

IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match")]
AssetVersion = Annotated[str | None, Query(max_length=64, description="The asset's content version")]


def add_page_routes(page: StaticPage, *, page_path: str, assets_path: str, headers: dict[str, str]) -> None:
    """Serve `page` at `page_path` (revalidated on every load) and its assets under `assets_path`."""

    def read_page(request: Request, if_none_match: IfNoneMatch = None) -> Response:
        return asset_response(
            request, index_page(page), headers=headers, cache_control=REVALIDATE, if_none_match=if_none_match
        )

    def read_asset(request: Request, name: str, v: AssetVersion = None, if_none_match: IfNoneMatch = None) -> Response:
        asset = static_assets(page).get(name)
        return versioned_asset_response(request, asset, headers=headers, version=v, if_none_match=if_none_match)

    methods = ["GET", "HEAD"]
    router.add_api_route(page_path, read_page, methods=methods, response_class=Response, name=f"read_{page.directory}")
    router.add_api_route(
        f"{assets_path}/{{name}}",
        read_asset,
        methods=methods,
        response_class=Response,
        name=f"read_{page.directory}_asset",
    )


add_page_routes(DASHBOARD, page_path="/", assets_path="/dashboard", headers=page_headers())
add_page_routes(STATION, page_path="/station", assets_path="/station", headers=page_headers(img_src="'self' blob:"))
