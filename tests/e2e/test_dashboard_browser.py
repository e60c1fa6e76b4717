"""The operator dashboard in headless Chromium against the API served by uvicorn over real PostgreSQL.

Signs in with an admin key, checks the figures against the API, retries a dead-lettered writeback
and sees it requeued (in the page and in the database), and saves screenshots under
tests/e2e/artifacts/. Skipped only when Debian's chromium is not installed (.ci/run installs it).
"""

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright import sync_api
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tarroitus.domain import WritebackStatus
from tarroitus.models import Item, WritebackEntry
from tarroitus.repositories.transactions import session_scope
from tarroitus.settings import Settings
from tests.dashboard_seed import DEAD_ERRORS, SeededProject, seed_project
from tests.e2e.browser import chromium_page, requires_chromium, screenshot, served_api

CHART_DAYS = 30

pytestmark = requires_chromium


@pytest.fixture
def project(committed_db: Engine) -> SeededProject:
    with session_scope(committed_db) as session:
        return seed_project(session)


@pytest.fixture
def base_url(settings: Settings, project: SeededProject) -> Iterator[str]:
    assert project.admin_key
    with served_api(settings) as url:
        yield url


@pytest.fixture
def page(base_url: str) -> Iterator[Any]:
    """A Finnish-language page that may reach only the API under test; anything else is aborted and recorded."""
    with chromium_page(base_url, locale="fi-FI", viewport={"width": 1280, "height": 900}) as opened:
        yield opened


def api_get(base_url: str, path: str, key: str) -> Any:
    response = httpx.get(f"{base_url}{path}", headers={"X-API-Key": key}, timeout=10)
    response.raise_for_status()
    return response.json()


def number_in(page: Any, test_id: str) -> int:
    """The integer shown in a figure, whatever the locale's digit grouping."""
    text = page.get_by_test_id(test_id).inner_text()
    digits = re.sub(r"\D", "", text)
    assert digits, f"{test_id} shows {text!r}"
    return int(digits)


def sign_in(page: Any, key: str) -> None:
    page.fill("#api-key", key)
    page.click("#signin-form button[type=submit]")


#: A machine name (snake_case), a run outcome or count name, or JSON punctuation in the text an operator reads.
RAW_TEXT = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|\b(?:claimed|succeeded|partial|snapshot|events)\b|[{}\[\]\"]")


def assert_no_raw_keys(page: Any) -> None:
    text = page.locator("#dashboard").inner_text()
    raw = RAW_TEXT.findall(text)
    assert raw == [], raw


def assert_forecast_panel(page: Any, base_url: str, key: str) -> None:
    """The forecast panel shows the API's forecast, and its CSV button downloads the API's CSV."""
    forecast = api_get(base_url, "/api/v1/analytics/forecast", key)
    total = forecast["total"]
    assert number_in(page, "forecast-to-label") == total["items_to_label"] == 34
    assert number_in(page, "forecast-labelled") == total["items_labelled"] == 26
    assert number_in(page, "forecast-remaining") == total["items_remaining"] == 8
    assert total["labelled_last_7_days"] > 0
    finish = date.fromisoformat(total["finish_date"])
    assert page.get_by_test_id("forecast-finish").inner_text() == f"{finish.day}.{finish.month}.{finish.year}"
    rate = page.get_by_test_id("forecast-rate-7").inner_text()
    assert rate == f"{round(total['rate_7_days'], 1):g}".replace(".", ",") + " päivässä"
    rows = page.locator("[data-testid=forecast-location]")
    assert [row.get_attribute("data-location") for row in rows.all()] == [
        entry["location_code"] for entry in forecast["by_location"]
    ]
    with page.expect_download() as download:
        page.get_by_test_id("forecast-csv").click()
    saved = download.value
    expected = httpx.get(f"{base_url}/api/v1/analytics/forecast.csv", headers={"X-API-Key": key}, timeout=10)
    assert saved.suggested_filename == f"tarroitus-forecast-{forecast['today']}.csv"
    assert Path(saved.path()).read_bytes() == expected.content


@pytest.mark.slow
def test_dashboard_shows_the_project_and_retries_a_dead_letter(
    page: Any, base_url: str, project: SeededProject, committed_db: Engine
) -> None:
    # Given: the signed-out page, refusing a wrong key
    page.goto(base_url)
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#signin").is_visible()
    sign_in(page, "not-the-admin-key-000")
    sync_api.expect(page.locator("#signin-error")).to_have_text("Avainta ei hyväksytty.")

    # When: the operator signs in
    sign_in(page, project.admin_key)
    page.wait_for_selector("#panel-writeback[data-state=ready] [data-testid=dead-letter]")

    # Then: the key is in session storage only, and the figures are the API's
    assert page.evaluate("sessionStorage.getItem('tarroitus.adminKey')") == project.admin_key
    assert page.evaluate("localStorage.getItem('tarroitus.adminKey')") is None
    status = api_get(base_url, "/api/v1/status", project.admin_key)
    items = status["items"]
    assert number_in(page, "progress-total") == items["total"] == 37
    assert number_in(page, "progress-classified") == items["with_classification"] == 34
    assert number_in(page, "progress-labelled") == items["printed"] == 26
    assert number_in(page, "progress-written-back") == items["written_back"] == 15
    assert number_in(page, "progress-failed") == items["writeback_failed"] == 2
    assert number_in(page, "writeback-depth") == status["writeback_queue"]["depth"] == 9
    writeback = api_get(base_url, "/api/v1/writeback", project.admin_key)
    assert number_in(page, "writeback-dead") == writeback["dead"] == 2
    assert number_in(page, "writeback-done") == writeback["done"]
    stations = page.locator("[data-testid=stations] tbody tr")
    assert stations.count() == 3
    shown = {
        row.get_attribute("data-station"): row.get_by_test_id("station-status").inner_text() for row in stations.all()
    }
    assert shown == {"itis-3": "Ei ole koskaan yhdistänyt", "kallio-2": "Ei näkynyt hetkeen", "pasila-1": "Paikalla"}
    assert number_in(page, "reprint-count") == items["reprint_needed"] == 2
    reprint_rows = page.locator("[data-testid=reprint-item]")
    assert [int(row.get_attribute("data-item-id")) for row in reprint_rows.all()] == project.reprint_item_ids
    assert [row.get_by_test_id("reprint-current").inner_text() for row in reprint_rows.all()] == [
        "99.9 A4K",
        "99.1 ZZZ",
    ]
    dead_rows = page.locator("[data-testid=dead-letter]")
    assert sorted(int(row.get_attribute("data-item-id")) for row in dead_rows.all()) == sorted(project.dead_item_ids)
    first_dead = page.locator(f"[data-testid=dead-letter][data-item-id='{project.dead_item_ids[0]}']")
    with Session(committed_db) as session:
        dead_item = session.get(Item, project.dead_item_ids[0])
        assert dead_item is not None and dead_item.barcode and dead_item.item_number and dead_item.best_title
        cells = first_dead.locator("td").all_inner_texts()
        assert cells[:4] == [dead_item.barcode, dead_item.best_title, dead_item.item_number, "pas"]
        assert str(dead_item.item_record_id) not in first_dead.inner_text()
    code, message = DEAD_ERRORS[0]
    assert f"koodi {code} · {message}" in first_dead.inner_text()
    parts = first_dead.get_by_test_id("dead-letter-parts").inner_text()
    assert parts == "Kirjattu: luokka, sisäkäyttö · Torjuttu: inventointipäivä"
    today = datetime.now(UTC).date()
    chart_range = f"date_from={today - timedelta(days=CHART_DAYS - 1)}&date_to={today}"
    per_day = api_get(base_url, f"/api/v1/analytics/prints_per_day?{chart_range}", project.admin_key)
    bars = page.locator("[data-testid=prints-chart] rect.chart-bar")
    assert bars.count() == CHART_DAYS
    shown_days = {bar.get_attribute("data-day"): int(bar.get_attribute("data-labels")) for bar in bars.all()}
    assert (
        {day: labels for day, labels in shown_days.items() if labels}
        == {day["day"]: day["labels"] for day in per_day["days"]}
        == project.printed_per_day
    )
    assert page.get_by_test_id("chart-summary").inner_text() == f"Viimeiset {CHART_DAYS} päivää: 26 tarraa"
    assert page.locator("#panel-data").get_attribute("data-state") == "ready"
    assert page.locator("#panel-data [data-testid=panel-state]").inner_text() == "Mitään ei ole vielä viety."
    sync_served = httpx.get(f"{base_url}/api/v1/sync", headers={"X-API-Key": project.admin_key}).status_code != 404
    if sync_served:
        assert page.get_by_test_id("sync-mode").inner_text() == "Muutokset"
    else:
        expected = "Ei saatavilla: tämä palvelin ei vielä tarjoa osoitetta /api/v1/sync."
        assert page.locator("#panel-sync[data-state=not-available] [data-testid=panel-state]").inner_text() == expected
    sync_job = page.locator("#panel-jobs [data-job=sierra_sync]").inner_text()
    assert "Onnistui" in sync_job
    counts_cell = page.locator("#panel-jobs [data-job=sierra_sync] td").nth(4).inner_text()
    assert set(counts_cell.split(", ")) == {"31 nidettä", "12 bibliografista tietuetta", "1 poistettu"}
    progress_labelled = page.locator("#panel-progress .progress-row").first.inner_text()
    assert re.search(r"26\s*/\s*37 \(70\s%\)", progress_labelled), progress_labelled
    assert_forecast_panel(page, base_url, project.admin_key)
    assert_no_raw_keys(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    screenshot(page, "dashboard.png")

    # When: the operator retries the first dead letter
    first_dead.get_by_test_id("retry").click()

    # Then: the page reports it, the row is gone, and the database has it queued again with fresh attempts
    sync_api.expect(page.locator("#writeback-message")).to_have_text("Palautettu jonoon: 1")
    sync_api.expect(first_dead).to_have_count(0)
    sync_api.expect(page.get_by_test_id("writeback-dead")).to_have_text("1")
    with Session(committed_db) as session:
        requeued = session.get(WritebackEntry, project.dead_item_ids[0])
        untouched = session.get(WritebackEntry, project.dead_item_ids[1])
        assert requeued is not None and untouched is not None
        assert (requeued.status, requeued.attempts) == (WritebackStatus.QUEUED, 0)
        assert untouched.status is WritebackStatus.DEAD
    assert (
        number_in(page, "writeback-depth")
        == api_get(base_url, "/api/v1/status", project.admin_key)["writeback_queue"]["depth"]
        == 10
    )

    # When: the operator switches to English
    page.select_option("#language", "en")

    # Then: the same figures, in English, with nothing loaded from anywhere else and no script or CSP errors
    sync_api.expect(page.locator("#progress-heading")).to_have_text("Progress")
    sync_api.expect(page.locator("#writeback-message")).to_have_text("Queued again: 1")
    assert number_in(page, "progress-total") == items["total"]
    assert page.get_by_test_id("chart-summary").inner_text() == f"Last {CHART_DAYS} days: 26 labels"
    sync_api.expect(page.locator("#forecast-heading")).to_have_text("Finish-date forecast")
    assert "Succeeded" in page.locator("#panel-jobs [data-job=sierra_sync]").inner_text()
    assert_no_raw_keys(page)
    assert page.locator("[data-testid=dead-letter] [data-testid=retry]").inner_text() == "Retry"
    screenshot(page, "dashboard-retried-en.png")
    assert page.outside_requests == []
    assert page.problems == []

    # When: the operator signs out
    page.click("#signout")

    # Then: the key is forgotten
    assert page.locator("#signin").is_visible()
    assert page.evaluate("sessionStorage.getItem('tarroitus.adminKey')") is None
