"""/docs (Swagger UI) and /redoc (ReDoc) load their scripts, styles and icon from this server only."""

import re
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

ASSET_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""")
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


def referenced_assets(html: str) -> list[str]:
    """Every URL the page's tags load (scripts, styles, icons)."""
    return [first or second for first, second in ASSET_REFERENCE.findall(html)]


@pytest.mark.parametrize(("page", "marker"), [("/docs", "SwaggerUIBundle"), ("/redoc", "<redoc")])
def test_docs_pages_load_only_same_origin_assets_and_those_are_served(
    client: TestClient, page: str, marker: str
) -> None:
    # When
    response = client.get(page)
    # Then: the page names its assets by path on this server, and each is served
    assert response.status_code == 200
    assert marker in response.text
    assets = referenced_assets(response.text)
    assert assets, response.text
    assert [asset for asset in assets if urlsplit(asset).scheme or urlsplit(asset).netloc] == []
    assert "googleapis" not in response.text and "jsdelivr" not in response.text
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.content) > 1000, asset
        suffix = PurePosixPath(urlsplit(asset).path).suffix
        assert served.headers["content-type"].startswith(CONTENT_TYPES[suffix]), asset
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable", asset


def test_docs_assets_are_only_the_known_files(client: TestClient) -> None:
    # When
    unknown = client.get("/docs/assets/core.py")
    escaping = client.get("/docs/assets/..%2F__init__.py")
    # Then
    assert unknown.status_code == 404
    assert escaping.status_code == 404
