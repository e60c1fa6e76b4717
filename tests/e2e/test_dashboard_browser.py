"""The operator dashboard in headless Chromium against the API served by uvicorn over real PostgreSQL.

Signs in with an admin key, checks the figures against the API, retries a dead-lettered writeback
and sees it requeued (in the page and in the database), and saves screenshots under
tests/e2e/artifacts/. Skipped only when Debian's chromium is not installed (.ci/run installs it).
"""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright import sync_api
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tarroitus.domain import WritebackStatus
from tarroitus.models import WritebackEntry
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
    code, message = DEAD_ERRORS[0]
    assert f"[{code}] {message}" in first_dead.inner_text()
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
    assert page.locator("#panel-jobs [data-job=sierra_sync]").inner_text().count("succeeded") == 1
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
    assert page.locator("[data-testid=dead-letter] [data-testid=retry]").inner_text() == "Retry"
    screenshot(page, "dashboard-retried-en.png")
    assert page.outside_requests == []
    assert page.problems == []

    # When: the operator signs out
    page.click("#signout")

    # Then: the key is forgotten
    assert page.locator("#signin").is_visible()
    assert page.evaluate("sessionStorage.getItem('tarroitus.adminKey')") is None
