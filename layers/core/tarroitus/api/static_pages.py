"""Static pages of the package (the dashboard, the print station): each an index.html and its assets in one folder.

Markup the pages share (the sign-in form) is written once in `partials/` and put in by a `{{partial:<file>}}` line.

Each asset has a version, a prefix of its SHA-256. `index.html` names its assets with
`{{version:<file>}}` placeholders, filled in here, so a page refers to exactly the files it was
deployed with and those can be cached for a year: a new deployment changes their URLs. The page
itself is revalidated on every load (`no-cache` with an ETag) so that a deployment shows at once.
"""

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fastapi import Request, Response

from tarroitus.errors import NotFoundError

PAGES_PACKAGE = "tarroitus.api"
INDEX_FILE = "index.html"
INDEX_MEDIA_TYPE = "text/html; charset=utf-8"
REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"

VERSION_PLACEHOLDER = re.compile(r"\{\{version:([\w.-]+)\}\}")
PARTIALS_DIRECTORY = "partials"
PARTIAL_PLACEHOLDER = re.compile(r"^\{\{partial:([\w.-]+)\}\}\n", re.MULTILINE)


@dataclass(frozen=True)
class StaticPage:
    """A page: its folder under tarroitus/api/ and every file it may load, with its content type."""

    directory: str
    asset_media_types: tuple[tuple[str, str], ...]

    @property
    def media_types(self) -> dict[str, str]:
        """Content type by asset name; nothing else in the folder is served."""
        return dict(self.asset_media_types)


DASHBOARD = StaticPage(
    "dashboard",
    (
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("i18n.json", "application/json"),
        ("favicon.svg", "image/svg+xml"),
    ),
)
STATION = StaticPage(
    "station",
    (
        ("station.js", "text/javascript; charset=utf-8"),
        ("station.css", "text/css; charset=utf-8"),
        ("i18n.json", "application/json"),
        ("favicon.svg", "image/svg+xml"),
    ),
)


@dataclass(frozen=True)
class Asset:
    """One file as served: its bytes, content type and content version."""

    body: bytes
    media_type: str
    version: str

    @property
    def etag(self) -> str:
        """A strong ETag: the content version, quoted."""
        return f'"{self.version}"'


def make_asset(body: bytes, media_type: str) -> Asset:
    """An asset whose version is the first 16 hex digits of its SHA-256."""
    return Asset(body=body, media_type=media_type, version=hashlib.sha256(body).hexdigest()[:16])


def read_partial(name: str) -> str:
    """The markup every page shares under this name (`partials/<name>`), such as the sign-in form."""
    return resources.files(PAGES_PACKAGE).joinpath(PARTIALS_DIRECTORY, name).read_text("utf-8")


def read_page_file(page: StaticPage, name: str) -> bytes:
    """The bytes of one file of `page` in the installed package."""
    return resources.files(PAGES_PACKAGE).joinpath(page.directory, name).read_bytes()


@cache
def static_assets(page: StaticPage) -> dict[str, Asset]:
    """Every asset of `page` by file name, read once per process."""
    return {name: make_asset(read_page_file(page, name), media_type) for name, media_type in page.asset_media_types}


@cache
def index_page(page: StaticPage) -> Asset:
    """The page's index.html with each `{{partial:<file>}}` line replaced by that shared markup and each
    `{{version:<file>}}` by that asset's version."""
    assets = static_assets(page)

    def version_of(match: re.Match[str]) -> str:
        return assets[match.group(1)].version

    template = PARTIAL_PLACEHOLDER.sub(
        lambda match: read_partial(match.group(1)), read_page_file(page, INDEX_FILE).decode()
    )
    html = VERSION_PLACEHOLDER.sub(version_of, template)
    return make_asset(html.encode("utf-8"), INDEX_MEDIA_TYPE)


def page_headers(*, img_src: str = "'self'") -> dict[str, str]:
    """Security headers of a page and its assets: scripts, styles and requests to this origin only."""
    policy = "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {img_src}",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


def asset_response(
    request: Request, asset: Asset, *, headers: dict[str, str], cache_control: str, if_none_match: str | None
) -> Response:
    """The asset with its headers, or 304 without a body when the client holds this version already."""
    headers = {**headers, "Cache-Control": cache_control, "ETag": asset.etag}
    held = {tag.strip().removeprefix("W/") for tag in (if_none_match or "").split(",")}
    if asset.etag in held or "*" in held:
        return Response(status_code=304, headers=headers)
    body = b"" if request.method == "HEAD" else asset.body
    response = Response(content=body, media_type=asset.media_type, headers=headers)
    if request.method == "HEAD":
        response.headers["Content-Length"] = str(len(asset.body))
    return response


def versioned_asset_response(
    request: Request, asset: Asset | None, *, headers: dict[str, str], version: str | None, if_none_match: str | None
) -> Response:
    """An asset asked for by name: cached for a year when asked for by its current version, else revalidated.

    404 when there is no such asset.
    """
    if asset is None:
        raise NotFoundError("Not Found")
    cache_control = IMMUTABLE if version == asset.version else REVALIDATE
    return asset_response(request, asset, headers=headers, cache_control=cache_control, if_none_match=if_none_match)
