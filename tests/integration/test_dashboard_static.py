"""The dashboard's static files: content types, caching and security headers, locally and through the Lambda handler."""

import base64
import importlib
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tarroitus.api.dashboard_assets import ASSET_MEDIA_TYPES, read_dashboard_file, static_assets
from tarroitus.settings import Settings
from tests.events import FakeLambdaContext, http_api_event

ASSET_URL = re.compile(r'(?:src|href|content)="(/dashboard/([\w.-]+)\?v=([0-9a-f]+))"')
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def lambda_handler(settings: Settings) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    assert settings.env == "test", "the handler must be imported with the test settings"
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = importlib.import_module(
        "functions.api.handler"
    ).lambda_handler
    return handler


def assert_security_headers(headers: Any) -> None:
    policy = headers["content-security-policy"]
    directives = dict(directive.strip().split(" ", 1) for directive in policy.split(";"))
    assert directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["default-src"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def test_dashboard_page_is_html_revalidated_on_every_load(client: TestClient) -> None:
    # When
    response = client.get("/")
    # Then
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert re.fullmatch(r'"[0-9a-f]{16}"', response.headers["etag"])
    assert_security_headers(response.headers)
    assert "<title>Tarroitus</title>" in response.text
    assert "{{" not in response.text


def test_dashboard_page_names_each_asset_by_its_current_version(client: TestClient) -> None:
    # Given
    page = client.get("/").text
    # When
    referenced = {name: (url, version) for url, name, version in ASSET_URL.findall(page)}
    # Then
    assert set(referenced) == set(ASSET_MEDIA_TYPES)
    for name, (url, version) in referenced.items():
        response = client.get(url)
        assert response.status_code == 200, name
        assert response.headers["content-type"] == ASSET_MEDIA_TYPES[name]
        assert response.headers["cache-control"] == IMMUTABLE
        assert response.headers["etag"] == f'"{version}"'
        assert response.content == read_dashboard_file(name)
        assert_security_headers(response.headers)


@pytest.mark.parametrize("query", ["", "?v=0000000000000000", "?v=old"])
def test_dashboard_asset_without_its_current_version_is_revalidated(client: TestClient, query: str) -> None:
    # When
    response = client.get(f"/dashboard/app.js{query}")
    # Then
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"


@pytest.mark.parametrize("path", ["/", "/dashboard/app.css"])
def test_dashboard_answers_304_when_the_client_holds_the_version(client: TestClient, path: str) -> None:
    # Given
    etag = client.get(path).headers["etag"]
    # When
    unchanged = client.get(path, headers={"If-None-Match": etag})
    changed = client.get(path, headers={"If-None-Match": '"0123456789abcdef"'})
    # Then
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    assert_security_headers(unchanged.headers)
    assert changed.status_code == 200 and changed.content


def test_dashboard_head_answers_headers_only(client: TestClient) -> None:
    # When
    response = client.head("/")
    # Then
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(client.get("/").content))
    assert response.headers["content-type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize(
    "path", ["/dashboard/index.html", "/dashboard/missing.js", "/dashboard/..%2Fapp.py", "/dashboard/"]
)
def test_dashboard_serves_only_its_listed_assets(client: TestClient, path: str) -> None:
    # When
    response = client.get(path)
    # Then
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_dashboard_page_has_no_inline_script_style_or_handlers() -> None:
    # Given
    page = read_dashboard_file("index.html").decode()
    script = read_dashboard_file("app.js").decode()
    # When
    script_tags = re.findall(r"<script\b[^>]*>(.*?)</script>", page, flags=re.S)
    # Then
    assert script_tags == [""]
    assert re.search(r'<script\b[^>]*\bsrc="/dashboard/app\.js', page)
    assert "<style" not in page
    assert not re.search(r"\sstyle=", page)
    assert not re.search(r"\son[a-z]+=", page)
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", page + script)
    assert "innerHTML" not in script and "eval(" not in script and "new Function" not in script


def test_dashboard_strings_exist_in_finnish_and_english() -> None:
    # Given
    strings = json.loads(read_dashboard_file("i18n.json"))
    page = read_dashboard_file("index.html").decode()
    script = read_dashboard_file("app.js").decode()
    # When
    used = set(re.findall(r'data-i18n="([\w.]+)"', page)) | set(re.findall(r'\bt\("([\w.]+)"', script))
    # Then
    assert set(strings) == {"fi", "en"}
    assert strings["fi"].keys() == strings["en"].keys()
    assert used, "the page uses translated strings"
    assert used <= strings["en"].keys()
    assert all(text.strip() for language in strings.values() for text in language.values())
    assert strings["fi"]["writeback.retry"] != strings["en"]["writeback.retry"]


def test_dashboard_needs_no_key_to_load(client: TestClient) -> None:
    # When
    responses = [client.get("/"), *(client.get(f"/dashboard/{name}") for name in ASSET_MEDIA_TYPES)]
    # Then
    assert [response.status_code for response in responses] == [200] * len(responses)


def test_dashboard_through_the_lambda_handler(
    lambda_handler: Callable[[dict[str, Any], Any], dict[str, Any]],
) -> None:
    # Given
    assets = static_assets()
    # When
    page = lambda_handler(http_api_event("GET", "/"), FakeLambdaContext())
    script = lambda_handler(
        http_api_event("GET", "/dashboard/app.js", query={"v": assets["app.js"].version}), FakeLambdaContext()
    )
    icon = lambda_handler(http_api_event("GET", "/dashboard/favicon.svg"), FakeLambdaContext())
    # Then
    assert page["statusCode"] == 200 and page["isBase64Encoded"] is False
    assert page["headers"]["content-type"] == "text/html; charset=utf-8"
    assert page["headers"]["cache-control"] == "no-cache"
    assert_security_headers(page["headers"])
    assert f"/dashboard/app.js?v={assets['app.js'].version}" in page["body"]
    assert script["statusCode"] == 200 and script["isBase64Encoded"] is False
    assert script["headers"]["content-type"] == "text/javascript; charset=utf-8"
    assert script["headers"]["cache-control"] == IMMUTABLE
    assert script["body"] == assets["app.js"].body.decode()
    assert icon["statusCode"] == 200 and icon["isBase64Encoded"] is True
    assert icon["headers"]["content-type"] == "image/svg+xml"
    assert base64.b64decode(icon["body"]) == assets["favicon.svg"].body


def test_dashboard_not_modified_through_the_lambda_handler(
    lambda_handler: Callable[[dict[str, Any], Any], dict[str, Any]],
) -> None:
    # Given
    first = lambda_handler(http_api_event("GET", "/"), FakeLambdaContext())
    # When
    again = lambda_handler(
        http_api_event("GET", "/", headers={"If-None-Match": first["headers"]["etag"]}), FakeLambdaContext()
    )
    # Then
    assert again["statusCode"] == 304
    assert again["body"] == ""
    assert again["headers"]["etag"] == first["headers"]["etag"]
