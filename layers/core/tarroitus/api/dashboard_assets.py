"""The dashboard's static files (api/dashboard/), read from the package once per process.

Each asset has a version, a prefix of its SHA-256. `index.html` names its assets with
`{{version:<file>}}` placeholders, filled in here, so a page refers to exactly the files it was
deployed with and those can be cached for a year: a new deployment changes their URLs.
"""

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

DASHBOARD_PACKAGE = "tarroitus.api"
DASHBOARD_DIR = "dashboard"
INDEX_FILE = "index.html"
INDEX_MEDIA_TYPE = "text/html; charset=utf-8"

#: Every file the page may load, with its content type; nothing else under dashboard/ is served.
ASSET_MEDIA_TYPES = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "i18n.json": "application/json",
    "favicon.svg": "image/svg+xml",
}

VERSION_PLACEHOLDER = re.compile(r"\{\{version:([\w.-]+)\}\}")


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


def read_dashboard_file(name: str) -> bytes:
    """The bytes of one file under api/dashboard/ in the installed package."""
    return resources.files(DASHBOARD_PACKAGE).joinpath(DASHBOARD_DIR, name).read_bytes()


@cache
def static_assets() -> dict[str, Asset]:
    """Every asset by file name."""
    return {name: make_asset(read_dashboard_file(name), media_type) for name, media_type in ASSET_MEDIA_TYPES.items()}


@cache
def index_page() -> Asset:
    """index.html with each `{{version:<file>}}` replaced by that asset's version."""
    assets = static_assets()

    def version_of(match: re.Match[str]) -> str:
        return assets[match.group(1)].version

    html = VERSION_PLACEHOLDER.sub(version_of, read_dashboard_file(INDEX_FILE).decode("utf-8"))
    return make_asset(html.encode("utf-8"), INDEX_MEDIA_TYPE)
