"""The static pages (dashboard, print station): content types, caching and security headers, locally and through the
Lambda handler."""

import base64
import importlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tarroitus.api.static_pages import DASHBOARD, STATION, StaticPage, read_page_file, read_partial, static_assets
from tarroitus.services.labels.layout import PRESETS
from tarroitus.settings import Settings
from tests.events import FakeLambdaContext, http_api_event

IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Served:
    """A page as served: where, its assets' path, its script, and the image sources its policy admits."""

    page: StaticPage
    path: str
    assets: str
    script: str
    img_src: str

    def __str__(self) -> str:
        return self.page.directory

    @property
    def asset_url(self) -> re.Pattern[str]:
        return re.compile(rf'(?:src|href|content)="({self.assets}/([\w.-]+)\?v=([0-9a-f]+))"')


DASHBOARD_SERVED = Served(DASHBOARD, "/", "/dashboard", "app.js", "'self'")
STATION_SERVED = Served(STATION, "/station", "/station", "station.js", "'self' blob:")
PAGES = pytest.mark.parametrize("served", [DASHBOARD_SERVED, STATION_SERVED], ids=str)


@pytest.fixture
def lambda_handler(settings: Settings) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    assert settings.env == "test", "the handler must be imported with the test settings"
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = importlib.import_module(
        "functions.api.handler"
    ).lambda_handler
    return handler


def assert_security_headers(headers: Any, img_src: str = "'self'") -> None:
    policy = headers["content-security-policy"]
    directives = dict(directive.strip().split(" ", 1) for directive in policy.split(";"))
    assert directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["default-src"] == "'none'"
    assert directives["connect-src"] == "'self'"
    assert directives["img-src"] == img_src
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


@PAGES
def test_page_is_html_revalidated_on_every_load(client: TestClient, served: Served) -> None:
    # When
    response = client.get(served.path)
    # Then
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert re.fullmatch(r'"[0-9a-f]{16}"', response.headers["etag"])
    assert_security_headers(response.headers, served.img_src)
    assert "<title>Tarroitus</title>" in response.text
    assert "{{" not in response.text


@PAGES
def test_page_names_each_asset_by_its_current_version(client: TestClient, served: Served) -> None:
    # Given
    page = client.get(served.path).text
    media_types = served.page.media_types
    # When
    referenced = {name: (url, version) for url, name, version in served.asset_url.findall(page)}
    # Then
    assert set(referenced) == set(media_types)
    for name, (url, version) in referenced.items():
        response = client.get(url)
        assert response.status_code == 200, name
        assert response.headers["content-type"] == media_types[name]
        assert response.headers["cache-control"] == IMMUTABLE
        assert response.headers["etag"] == f'"{version}"'
        assert response.content == read_page_file(served.page, name)
        assert_security_headers(response.headers, served.img_src)


@PAGES
@pytest.mark.parametrize("query", ["", "?v=0000000000000000", "?v=old"])
def test_asset_without_its_current_version_is_revalidated(client: TestClient, served: Served, query: str) -> None:
    # When
    response = client.get(f"{served.assets}/{served.script}{query}")
    # Then
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"


@pytest.mark.parametrize("path", ["/", "/dashboard/app.css", "/station", "/station/station.css"])
def test_page_answers_304_when_the_client_holds_the_version(client: TestClient, path: str) -> None:
    # Given
    etag = client.get(path).headers["etag"]
    # When
    unchanged = client.get(path, headers={"If-None-Match": etag})
    changed = client.get(path, headers={"If-None-Match": '"0123456789abcdef"'})
    # Then
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    assert changed.status_code == 200 and changed.content


@PAGES
def test_page_head_answers_headers_only(client: TestClient, served: Served) -> None:
    # When
    response = client.head(served.path)
    # Then
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(client.get(served.path).content))
    assert response.headers["content-type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/index.html",
        "/dashboard/missing.js",
        "/dashboard/..%2Fapp.py",
        "/dashboard/",
        "/dashboard/station.js",
        "/station/index.html",
        "/station/app.js",
        "/station/..%2Fdashboard%2Fapp.js",
    ],
)
def test_pages_serve_only_their_listed_assets(client: TestClient, path: str) -> None:
    # When
    response = client.get(path)
    # Then
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_station_with_a_trailing_slash_redirects_to_the_page(client: TestClient) -> None:
    # When
    response = client.get("/station/", follow_redirects=False)
    # Then
    assert response.status_code == 307
    assert response.headers["location"].endswith("/station")


@PAGES
def test_page_has_no_inline_script_style_or_handlers(served: Served) -> None:
    # Given
    page = read_page_file(served.page, "index.html").decode()
    script = read_page_file(served.page, served.script).decode()
    # When
    script_tags = re.findall(r"<script\b[^>]*>(.*?)</script>", page, flags=re.S)
    # Then
    assert script_tags == [""]
    assert re.search(rf'<script\b[^>]*\bsrc="{served.assets}/{re.escape(served.script)}', page)
    assert "<style" not in page
    assert not re.search(r"\sstyle=", page)
    assert not re.search(r"\son[a-z]+=", page)
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", page + script)
    assert "innerHTML" not in script and "eval(" not in script and "new Function" not in script


@PAGES
def test_page_strings_exist_in_finnish_and_english(served: Served) -> None:
    # Given
    strings = json.loads(read_page_file(served.page, "i18n.json"))
    page = read_page_file(served.page, "index.html").decode()
    script = read_page_file(served.page, served.script).decode()
    # When
    used = (
        set(re.findall(r'data-i18n(?:-aria)?="([\w.]+)"', page))
        | set(re.findall(r'\bt\("([\w.]+)"', script))
        | set(re.findall(r'"((?:banner|current|signin)\.[a-z_]+)"', script))
    )
    # Then
    assert set(strings) == {"fi", "en"}
    assert strings["fi"].keys() == strings["en"].keys()
    assert used, "the page uses translated strings"
    assert used <= strings["en"].keys(), used - strings["en"].keys()
    assert all(text.strip() for language in strings.values() for text in language.values())
    differing = [key for key in strings["en"] if strings["fi"][key] != strings["en"][key]]
    assert len(differing) > len(strings["en"]) / 2


def test_station_names_every_report_state_and_preset_in_both_languages() -> None:
    # Given
    strings = json.loads(read_page_file(STATION, "i18n.json"))
    script = read_page_file(STATION, "station.js").decode()
    # When
    states = set(re.findall(r'(?:state(?: =|:) |settle\(job, )"(\w+)"', script))
    # Then
    assert {"printing", "sending", "retrying", "recorded", "outdated", "failed"} <= states
    for language in ("fi", "en"):
        assert {f"recent.state.{name}" for name in states} <= strings[language].keys()
        assert {f"preset.{name}" for name in PRESETS} <= strings[language].keys()


def test_pages_need_no_key_to_load(client: TestClient) -> None:
    # When
    responses = [
        client.get("/"),
        client.get("/station"),
        *(client.get(f"/dashboard/{name}") for name in DASHBOARD.media_types),
        *(client.get(f"/station/{name}") for name in STATION.media_types),
    ]
    # Then
    assert [response.status_code for response in responses] == [200] * len(responses)


@PAGES
def test_page_through_the_lambda_handler(
    lambda_handler: Callable[[dict[str, Any], Any], dict[str, Any]], served: Served
) -> None:
    # Given
    assets = static_assets(served.page)
    # When
    page = lambda_handler(http_api_event("GET", served.path), FakeLambdaContext())
    script = lambda_handler(
        http_api_event("GET", f"{served.assets}/{served.script}", query={"v": assets[served.script].version}),
        FakeLambdaContext(),
    )
    icon = lambda_handler(http_api_event("GET", f"{served.assets}/favicon.svg"), FakeLambdaContext())
    # Then
    assert page["statusCode"] == 200 and page["isBase64Encoded"] is False
    assert page["headers"]["content-type"] == "text/html; charset=utf-8"
    assert page["headers"]["cache-control"] == "no-cache"
    assert_security_headers(page["headers"], served.img_src)
    assert f"{served.assets}/{served.script}?v={assets[served.script].version}" in page["body"]
    assert script["statusCode"] == 200 and script["isBase64Encoded"] is False
    assert script["headers"]["content-type"] == "text/javascript; charset=utf-8"
    assert script["headers"]["cache-control"] == IMMUTABLE
    assert script["body"] == assets[served.script].body.decode()
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


@PAGES
def test_page_holds_the_shared_sign_in_form(client: TestClient, served: Served) -> None:
    # Given
    sign_in = read_partial("signin.html")
    # When
    page = client.get(served.path).text
    # Then
    assert '<form id="signin-form">' in sign_in
    assert sign_in in page
    assert "{{partial:" not in page
