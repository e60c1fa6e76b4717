"""The print station in headless Chromium against the API served by uvicorn over real PostgreSQL.

A scanner is a keyboard: the test types each barcode and Enter into the page. Headless Chromium cannot
complete a print dialog (`window.print()` starts a print job that never ends), so an init script records
each call instead, with the label and the @page rule in force at that moment; the print layout itself is
checked by printing the page to PDF with Chromium's own print pipeline. Everything else is real: the
look-ups, the label SVGs, the reports with their Idempotency-Keys, the heartbeat and the database rows.
Screenshots go to tests/e2e/artifacts/ (station.png, station-double-scan.png, station-duplicates.png, label.png,
labels.png).
"""

import base64
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright import sync_api
from pypdf import PdfReader
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tarroitus.domain import ClientRole, WritebackStatus
from tarroitus.models import Client, Item, LabelEvent, WritebackEntry
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.labels.layout import PRESETS
from tarroitus.services.labels.render import POINTS_PER_MM
from tarroitus.settings import Settings
from tests.e2e.browser import chromium_page, requires_chromium, screenshot, served_api
from tests.factories import make_client, make_item

pytestmark = [requires_chromium, pytest.mark.slow]

#: Records each print instead of the print dialog headless Chromium cannot finish.
RECORD_PRINTS = """
window.__prints = [];
window.print = () => {
  const label = document.getElementById("print-label");
  const rules = document.adoptedStyleSheets.flatMap((sheet) => Array.from(sheet.cssRules, (rule) => rule.cssText));
  window.__prints.push({ src: label.getAttribute("src"), width: label.style.width, rules });
};
"""


@dataclass(frozen=True)
class Shelf:
    """The items the test scans, by role, and the printer key."""

    key: str
    station_id: Any
    items: dict[str, Item]


@pytest.fixture
def shelf(committed_db: Engine) -> Shelf:
    with session_scope(committed_db) as session:
        station, key = make_client(session, role=ClientRole.PRINTER, name="pasila-asema-1")
        printed_at = datetime.now(UTC) - timedelta(days=3)
        items = {
            "book": make_item(session, classification="84.2", signum="KIV", best_title="Seitsemän veljestä"),
            "unclassified": make_item(session, classification=None, signum="MUU", best_title="Luokittelematon"),
            "deleted": make_item(session, deleted=True, best_title="Poistettu kirja"),
            "printed": make_item(
                session, classification="99.1", signum="TOL", print_count=2, last_printed_at=printed_at
            ),
            "outdated": make_item(session, classification="99.1", signum="VAL", best_title="Vänrikki Stoolin tarinat"),
            "lost_answer": make_item(session, classification="1.42", signum="SNE", best_title="Filosofian historia"),
            # Printed as 38.0 before its bib was reclassified: the label on the book is outdated.
            "stale": make_item(
                session,
                classification="38.1",
                signum="ABC",
                best_title="Vanha tarra",
                print_count=1,
                last_printed_at=printed_at,
                last_printed_classification="38.0",
            ),
            "cd": make_item(
                session,
                classification="78.891",
                signum="SIB",
                material_code="3",
                material_name="CD-levy",
                best_title="Sinfoniat 1-7",
            ),
        }
        twin = make_item(
            session, barcode=items["cd"].barcode, classification="78.891", signum="SIB", best_title="Sinfoniat, vihko"
        )
        items["twin"] = twin
        return Shelf(key=key, station_id=station.id, items=items)


@pytest.fixture
def base_url(settings: Settings, shelf: Shelf) -> Iterator[str]:
    assert shelf.key
    with served_api(settings) as url:
        yield url


@pytest.fixture
def page(base_url: str) -> Iterator[Any]:
    with chromium_page(base_url, locale="fi-FI", viewport={"width": 1366, "height": 900}) as opened:
        opened.add_init_script(RECORD_PRINTS)
        yield opened


def scan(page: Any, barcode: str) -> None:
    """What a keyboard-wedge scanner does: type the code, then Enter."""
    page.keyboard.type(barcode)
    page.keyboard.press("Enter")


def wait_for_banner(page: Any, message: str) -> Any:
    banner = page.locator(f"#banner[data-message={message}]")
    sync_api.expect(banner).to_be_visible()
    return banner


def prints(page: Any) -> list[dict[str, Any]]:
    printed: list[dict[str, Any]] = page.evaluate("window.__prints")
    return printed


def events_of(engine: Engine, item: Item) -> list[LabelEvent]:
    with Session(engine) as session:
        query = select(LabelEvent).where(LabelEvent.item_record_id == item.item_record_id).order_by(LabelEvent.id)
        return list(session.scalars(query))


def recent_row(page: Any, item: Item, state: str) -> Any:
    return page.locator(f"[data-testid=recent-print][data-item-id='{item.item_record_id}'][data-state={state}]")


def page_rule(printed: dict[str, Any]) -> str:
    return next(rule for rule in printed["rules"] if rule.startswith("@page"))


def sign_in(page: Any, base_url: str, key: str) -> None:
    page.goto(f"{base_url}/station")
    page.wait_for_selector("body[data-ready=true]")
    page.fill("#api-key", key)
    page.click("#signin-form button[type=submit]")
    sync_api.expect(page.locator("#connection[data-state=online]")).to_be_visible()


def test_station_signs_in_with_a_printer_key_and_sends_heartbeats(
    page: Any, base_url: str, shelf: Shelf, committed_db: Engine
) -> None:
    # Given: the signed-out page refuses a wrong key
    page.goto(f"{base_url}/station")
    page.wait_for_selector("body[data-ready=true]")
    page.fill("#api-key", "trt_not-a-key-0000000000")
    page.click("#signin-form button[type=submit]")
    sync_api.expect(page.locator("#signin-error")).to_have_text("Avainta ei hyväksytty.")
    # When
    sign_in(page, base_url, shelf.key)
    # Then: the key is in session storage only, and the heartbeat named the station and its labels
    assert page.evaluate("sessionStorage.getItem('tarroitus.printerKey')") == shelf.key
    assert page.evaluate("localStorage.getItem('tarroitus.printerKey')") is None
    sync_api.expect(page.locator("#connection")).to_have_text("Yhteys kunnossa · pasila-asema-1")
    with Session(committed_db) as session:
        station = session.get(Client, shelf.station_id)
        assert station is not None and station.last_seen_at is not None
        assert station.client_version is not None and station.client_version.startswith("station-")
        assert station.printer_state == "browser station; labels brother-ql-29; reports waiting 0"
    assert page.locator("#scan-input").evaluate("input => input === document.activeElement")


def test_station_scan_print_report_and_double_scan(
    page: Any, base_url: str, shelf: Shelf, committed_db: Engine
) -> None:
    items = shelf.items
    sign_in(page, base_url, shelf.key)

    # When: a barcode no item has, an item without a classification, a deleted one
    scan(page, "31234999999999")
    wait_for_banner(page, "not_found")
    scan(page, items["unclassified"].barcode)
    wait_for_banner(page, "no_classification")
    sync_api.expect(page.get_by_test_id("classification")).to_have_text("Ei uutta luokkaa")
    scan(page, items["deleted"].barcode)
    wait_for_banner(page, "deleted")
    # Then: nothing printed, nothing recorded
    assert prints(page) == []
    assert not page.locator("#preview-row").is_visible()

    # When: an item printed before: shown, not printed, until "Print again"
    scan(page, items["printed"].barcode)
    wait_for_banner(page, "printed_before")
    assert prints(page) == []
    page.get_by_test_id("print-again").click()
    sync_api.expect(recent_row(page, items["printed"], "recorded")).to_have_count(1)
    assert len(prints(page)) == 1
    assert len(events_of(committed_db, items["printed"])) == 1

    # When: a barcode two items share; the worker picks the CD
    scan(page, items["cd"].barcode)
    wait_for_banner(page, "duplicates")
    choices = page.locator("[data-testid=choices] button")
    assert choices.count() == 2
    screenshot(page, "station-duplicates.png")
    page.locator(f"[data-testid=choices] button[data-item-id='{items['cd'].item_record_id}']").click()
    sync_api.expect(recent_row(page, items["cd"], "recorded")).to_have_count(1)
    # Then: the CD label of the preset, on a page of its size
    cd_label = PRESETS["brother-ql-29"].cd
    assert (
        page_rule(prints(page)[-1]) == f"@page {{ size: {cd_label.width_mm}mm {cd_label.height_mm}mm; margin: 0px; }}"
    )
    assert [len(events_of(committed_db, items[name])) for name in ("cd", "twin")] == [1, 0]

    # When: the label changes between the look-up and the report
    def change_label_then_send(route: Any) -> None:
        with session_scope(committed_db) as session:
            item = session.get(Item, items["outdated"].item_record_id)
            assert item is not None
            item.classification = "99.2"
        page.unroute(f"**/api/v1/items/{items['outdated'].item_record_id}/labels", change_label_then_send)
        route.fallback()

    page.route(f"**/api/v1/items/{items['outdated'].item_record_id}/labels", change_label_then_send)
    scan(page, items["outdated"].barcode)
    # Then: 409 label_outdated: the worker is told to discard the printed label, and the new one is printed
    banner = wait_for_banner(page, "outdated")
    sync_api.expect(banner).to_contain_text("99.1 VAL")
    sync_api.expect(recent_row(page, items["outdated"], "recorded")).to_have_count(1)
    sync_api.expect(recent_row(page, items["outdated"], "outdated")).to_have_count(1)
    sync_api.expect(page.get_by_test_id("classification")).to_have_text("99.2")
    assert [(event.classification, event.signum) for event in events_of(committed_db, items["outdated"])] == [
        ("99.2", "VAL")
    ]

    # When: the answer to a report is lost on the way back; the station retries with the same key
    keys_sent: list[str] = []

    def lose_first_answer(route: Any) -> None:
        keys_sent.append(route.request.headers["idempotency-key"])
        if len(keys_sent) == 1:
            route.fetch()  # the server records the print
            route.abort()  # and the station never hears of it
        else:
            route.fallback()

    page.route(f"**/api/v1/items/{items['lost_answer'].item_record_id}/labels", lose_first_answer)
    scan(page, items["lost_answer"].barcode)
    # Then: one print recorded, under the station's key, answered as a replay
    row = recent_row(page, items["lost_answer"], "recorded")
    sync_api.expect(row).to_have_count(1)
    assert len(keys_sent) == 2 and keys_sent[0] == keys_sent[1]
    assert row.get_attribute("data-key") == keys_sent[0]
    assert row.get_attribute("data-replayed") == "true"
    assert [event.idempotency_key for event in events_of(committed_db, items["lost_answer"])] == [keys_sent[0]]

    # When: the item's earlier label is outdated (the item API says reprint_needed)
    scan(page, items["stale"].barcode)
    # Then: printed at once, with a warning to replace the old label; the new print clears the state
    wait_for_banner(page, "stale")
    sync_api.expect(recent_row(page, items["stale"], "recorded")).to_have_count(1)
    with Session(committed_db) as session:
        reprinted = session.get(Item, items["stale"].item_record_id)
        assert reprinted is not None
        assert (reprinted.reprint_needed, reprinted.last_printed_classification) == (False, "38.1")

    # When: the book
    before = len(prints(page))
    scan(page, items["book"].barcode)
    wait_for_banner(page, "recorded")
    # Then: shown large, printed once at the chosen label size, recorded once, queued for writeback
    sync_api.expect(page.get_by_test_id("classification")).to_have_text("84.2")
    sync_api.expect(page.get_by_test_id("signum")).to_have_text("KIV")
    book_label = PRESETS["brother-ql-29"].book
    assert len(prints(page)) == before + 1
    assert (
        page_rule(prints(page)[-1])
        == f"@page {{ size: {book_label.width_mm}mm {book_label.height_mm}mm; margin: 0px; }}"
    )
    book_events = events_of(committed_db, items["book"])
    assert [(event.classification, event.signum, event.client_id) for event in book_events] == [
        ("84.2", "KIV", shelf.station_id)
    ]
    with Session(committed_db) as session:
        queued = session.get(WritebackEntry, items["book"].item_record_id)
        assert queued is not None and (queued.status, queued.classification) == (WritebackStatus.QUEUED, "84.2")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    screenshot(page, "station.png")
    # Then: Chromium prints the page as one label-sized page
    pdf = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True)))
    assert len(pdf.pages) == 1
    width_mm = float(pdf.pages[0].mediabox.width) / POINTS_PER_MM
    height_mm = float(pdf.pages[0].mediabox.height) / POINTS_PER_MM
    assert (round(width_mm), round(height_mm)) == (book_label.width_mm, book_label.height_mm)

    # When: the scanner reads the same book again
    scan(page, items["book"].barcode)
    # Then: nothing printed, nothing recorded twice, the writeback still queued once
    wait_for_banner(page, "double_scan")
    assert len(prints(page)) == before + 1
    assert len(events_of(committed_db, items["book"])) == 1
    with Session(committed_db) as session:
        entries = session.scalars(
            select(WritebackEntry).where(WritebackEntry.item_record_id == items["book"].item_record_id)
        ).all()
        assert [entry.status for entry in entries] == [WritebackStatus.QUEUED]
    screenshot(page, "station-double-scan.png")

    # When: the station is switched to English with the keyboard, then a scan starts outside the scan field
    page.focus("#language")
    page.keyboard.press("ArrowDown")
    sync_api.expect(page.locator("#language")).to_have_value("en")
    assert page.locator("#scan-input").evaluate("input => input === document.activeElement")
    page.click("#current-title")
    scan(page, items["book"].barcode)
    # Then
    sync_api.expect(wait_for_banner(page, "double_scan")).to_contain_text("was printed a moment ago")
    sync_api.expect(page.locator("#recent-heading")).to_have_text("Last prints")
    recorded = page.locator("[data-testid=recent-print][data-state=recorded]")
    assert recorded.count() == 6
    assert page.outside_requests == []
    assert page.problems == []

    # When: the worker signs out
    page.click("#signout")
    # Then: the key is forgotten
    assert page.locator("#signin").is_visible()
    assert page.evaluate("sessionStorage.getItem('tarroitus.printerKey')") is None


def test_station_label_renders_in_chromium(base_url: str, shelf: Shelf) -> None:
    # Given: the book's label as the station prints it, at four device pixels per CSS pixel
    label = PRESETS["brother-ql-29"].book
    url = f"{base_url}/api/v1/items/{shelf.items['book'].item_record_id}/label?size=brother-ql-29"
    size = {"width": round(label.width_mm / 25.4 * 96), "height": round(label.height_mm / 25.4 * 96)}
    headers = {"X-API-Key": shelf.key}
    with chromium_page(base_url, viewport=size, device_scale_factor=4, extra_http_headers=headers) as opened:
        # When
        response = opened.goto(url)
        # Then: both texts drawn whole inside the label
        assert response is not None and response.status == 200
        assert response.headers["content-type"] == "image/svg+xml"
        texts = opened.locator("text")
        assert [texts.nth(index).text_content() for index in range(texts.count())] == ["84.2", "KIV"]
        boxes = [texts.nth(index).bounding_box() for index in range(texts.count())]
        for box in boxes:
            assert box is not None
            assert 0 <= box["x"] and box["x"] + box["width"] <= size["width"]
            assert 0 <= box["y"] and box["y"] + box["height"] <= size["height"]
        screenshot(opened, "label.png", full_page=False)
        assert opened.outside_requests == []


def test_station_labels_of_each_stock_side_by_side(base_url: str, shelf: Shelf) -> None:
    # Given: the book's and the CD's labels on three kinds of stock, rendered by the label route
    headers = {"X-API-Key": shelf.key}
    figures = []
    for preset in ("brother-ql-29", "brother-pt-12", "zebra-38x25"):
        for item in (shelf.items["book"], shelf.items["cd"]):
            response = httpx.get(
                f"{base_url}/api/v1/items/{item.item_record_id}/label?size={preset}", headers=headers, timeout=10
            )
            assert response.status_code == 200, response.text
            width, height = response.headers["x-label-width-mm"], response.headers["x-label-height-mm"]
            source = "data:image/svg+xml;base64," + base64.b64encode(response.content).decode()
            figures.append(
                f'<figure><img src="{source}" style="width:{float(width) * 4}mm;height:{float(height) * 4}mm">'
                f"<figcaption>{preset} · {width} x {height} mm · material {item.material_code}</figcaption></figure>"
            )
    sheet = (
        "<body style='margin:0;padding:24px;background:#e9edf2;font:14px sans-serif;display:flex;flex-wrap:wrap;"
        "gap:24px;align-items:flex-end'>" + "".join(figures) + "</body>"
    )
    style = "<style>img{display:block;background:#fff;box-shadow:0 1px 4px #0003}figure{margin:0}</style>"
    with chromium_page(base_url, viewport={"width": 1100, "height": 400}) as opened:
        # When
        opened.set_content(style + sheet)
        # Then
        images = opened.locator("img")
        assert images.count() == 6
        assert all(images.nth(index).evaluate("image => image.naturalWidth > 0") for index in range(6))
        screenshot(opened, "labels.png")
        assert opened.outside_requests == []
