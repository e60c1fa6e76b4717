"""GET /api/v1/items/{item_id}/label (SVG or PDF) and GET /api/v1/label-sizes, in-process and through the handler."""

import base64
import importlib
import io
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tarroitus.domain import ClientRole
from tarroitus.models import LabelEvent
from tarroitus.repositories.transactions import session_scope
from tarroitus.services.labels.layout import PRESETS
from tarroitus.services.labels.render import POINTS_PER_MM
from tarroitus.settings import Settings
from tests.api_helpers import assert_api_error, key_header
from tests.events import FakeLambdaContext, http_api_event
from tests.factories import make_client, make_item

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def printer_key(db_session: Session) -> str:
    return make_client(db_session, role=ClientRole.PRINTER)[1]


def label_url(item_id: int, query: str = "") -> str:
    return f"/api/v1/items/{item_id}/label{'?' + query if query else ''}"


def svg_of(body: bytes) -> tuple[ElementTree.Element, list[str]]:
    root = ElementTree.fromstring(body)
    return root, [text.text or "" for text in root.iter(f"{SVG}text")]


def pdf_page_mm(body: bytes) -> tuple[float, float, list[str]]:
    page = PdfReader(io.BytesIO(body), strict=True).pages[0]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    return round(width / POINTS_PER_MM, 2), round(height / POINTS_PER_MM, 2), page.extract_text().split()


def test_label_is_svg_on_the_default_preset(client: TestClient, db_session: Session, printer_key: str) -> None:
    # Given
    item = make_item(db_session, classification="84.2", classification_override="85.1", signum="KIV")
    # When
    response = client.get(label_url(item.item_record_id), headers=key_header(printer_key))
    # Then
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"] == f'inline; filename="label-{item.item_record_id}.svg"'
    assert (response.headers["x-label-preset"], response.headers["x-label-width-mm"]) == ("brother-ql-29", "29")
    root, texts = svg_of(response.content)
    assert (root.get("width"), root.get("height")) == ("29mm", "12mm")
    assert texts == ["85.1", "KIV"]


@pytest.mark.parametrize(
    ("query", "accept"),
    [("", "application/pdf"), ("format=pdf", "image/svg+xml"), ("", "text/html, application/*;q=0.5")],
)
def test_label_is_pdf_when_asked(
    client: TestClient, db_session: Session, printer_key: str, query: str, accept: str
) -> None:
    # Given
    item = make_item(db_session, classification="84.2", signum="ÄIJ")
    # When
    response = client.get(label_url(item.item_record_id, query), headers={**key_header(printer_key), "Accept": accept})
    # Then
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert pdf_page_mm(response.content) == (29, 12, ["84.2", "ÄIJ"])


@pytest.mark.parametrize(
    "accept", ["image/svg+xml, application/pdf;q=0.5", "*/*", "image/*", "application/pdf;q=0.2, */*"]
)
def test_label_is_svg_when_the_accept_header_prefers_it(
    client: TestClient, db_session: Session, printer_key: str, accept: str
) -> None:
    # Given
    item = make_item(db_session)
    # When
    response = client.get(label_url(item.item_record_id), headers={**key_header(printer_key), "Accept": accept})
    # Then
    assert response.headers["content-type"] == "image/svg+xml"


def test_label_answers_406_when_neither_format_is_acceptable(
    client: TestClient, db_session: Session, printer_key: str
) -> None:
    # Given
    item = make_item(db_session)
    headers = {**key_header(printer_key), "Accept": "text/html, application/pdf;q=0"}
    # When
    response = client.get(label_url(item.item_record_id), headers=headers)
    # Then
    assert_api_error(response, 406, "not_acceptable")


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_label_honours_each_preset_and_its_cd_label(
    client: TestClient, db_session: Session, printer_key: str, preset: str
) -> None:
    # Given
    book = make_item(db_session, material_code="a")
    cd = make_item(db_session, material_code="3", material_name="CD-levy")
    # When
    book_label = client.get(
        label_url(book.item_record_id, f"size={preset}&format=pdf"), headers=key_header(printer_key)
    )
    cd_label = client.get(label_url(cd.item_record_id, f"size={preset}"), headers=key_header(printer_key))
    # Then
    expected_book, expected_cd = PRESETS[preset].book, PRESETS[preset].cd
    assert pdf_page_mm(book_label.content)[:2] == (expected_book.width_mm, expected_book.height_mm)
    root, _ = svg_of(cd_label.content)
    assert (root.get("width"), root.get("height")) == (f"{expected_cd.width_mm:g}mm", f"{expected_cd.height_mm:g}mm")
    assert cd_label.headers["x-label-height-mm"] == f"{expected_cd.height_mm:g}"


def test_label_custom_size_is_used_for_every_material(
    client: TestClient, db_session: Session, printer_key: str
) -> None:
    # Given
    cd = make_item(db_session, material_code="3", classification="78.891", signum="ABB")
    # When
    response = client.get(
        label_url(cd.item_record_id, "width_mm=50&height_mm=20.5&text_height_mm=6&format=pdf"),
        headers=key_header(printer_key),
    )
    # Then
    assert response.status_code == 200, response.text
    assert pdf_page_mm(response.content) == (50, 20.5, ["78.891", "ABB"])
    assert response.headers["x-label-preset"] == "custom"


def test_label_custom_size_sets_cd_text_smaller(client: TestClient, db_session: Session, printer_key: str) -> None:
    # Given: a book and a CD with the same short label text
    book = make_item(db_session, material_code="a", classification="78", signum="SIB")
    cd = make_item(db_session, material_code="3", classification="78", signum="SIB")
    query = "width_mm=60&height_mm=18"
    # When
    sizes = []
    for item in (book, cd):
        response = client.get(label_url(item.item_record_id, query), headers=key_header(printer_key))
        root, _ = svg_of(response.content)
        group = root.find(f"{SVG}g")
        assert group is not None
        sizes.append(float(group.get("font-size", "0")))
    # Then: capitals half the height on the book's label, a third on the CD's
    book_size, cd_size = sizes
    assert book_size * 0.718 == pytest.approx(9, abs=0.01)
    assert cd_size * 0.718 == pytest.approx(6, abs=0.01)


def test_label_refuses_text_that_does_not_fit(client: TestClient, db_session: Session, printer_key: str) -> None:
    # Given
    item = make_item(db_session, classification="84.2 PITKÄ LISÄMERKINTÄ", signum="KIV")
    # When
    response = client.get(label_url(item.item_record_id), headers=key_header(printer_key))
    wider = client.get(label_url(item.item_record_id, "width_mm=80&height_mm=12"), headers=key_header(printer_key))
    # Then
    error = assert_api_error(response, 422, "label_does_not_fit")
    assert [detail["field"] for detail in error["details"]] == ["classification", "signum"]
    assert error["details"][0]["text"] == "84.2 PITKÄ LISÄMERKINTÄ"
    assert "84.2 PITKÄ LISÄMERKINTÄ" in error["message"]
    assert wider.status_code == 200
    assert svg_of(wider.content)[1] == ["84.2 PITKÄ LISÄMERKINTÄ", "KIV"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("width_mm=40", "query.height_mm"),
        ("height_mm=20", "query.width_mm"),
        ("text_height_mm=5", "query.width_mm"),
        ("size=brother-ql-29&width_mm=40&height_mm=20", "query.size"),
        ("size=a4", "query.size"),
        ("width_mm=40&height_mm=20&text_height_mm=30", "query.text_height_mm"),
        ("width_mm=0&height_mm=20", "query.width_mm"),
        ("width_mm=2&height_mm=20", "query.width_mm"),
        ("width_mm=40&height_mm=2", "query.height_mm"),
        ("format=png", "query.format"),
    ],
)
def test_label_refuses_bad_sizes_naming_the_parameter(
    client: TestClient, db_session: Session, printer_key: str, query: str, field: str
) -> None:
    # Given
    item = make_item(db_session)
    # When
    response = client.get(label_url(item.item_record_id, query), headers=key_header(printer_key))
    # Then
    assert response.status_code == 422, response.text
    assert field in [detail["field"] for detail in response.json()["error"]["details"]]


def test_label_of_unknown_deleted_or_unclassified_items(
    client: TestClient, db_session: Session, printer_key: str
) -> None:
    # Given
    deleted = make_item(db_session, deleted=True)
    unclassified = make_item(db_session, classification=None, classification_override=None)
    # When / Then
    assert_api_error(client.get(label_url(9_999_999_999), headers=key_header(printer_key)), 404, "item_not_found")
    assert_api_error(
        client.get(label_url(deleted.item_record_id), headers=key_header(printer_key)), 409, "item_deleted"
    )
    response = client.get(label_url(unclassified.item_record_id), headers=key_header(printer_key))
    assert_api_error(response, 409, "no_classification")


def test_label_is_for_printers_and_admins_and_records_nothing(client: TestClient, db_session: Session) -> None:
    # Given
    item = make_item(db_session)
    keys = {role: make_client(db_session, role=role)[1] for role in ClientRole}
    url = label_url(item.item_record_id)
    # When
    statuses = {role: client.get(url, headers=key_header(key)).status_code for role, key in keys.items()}
    anonymous = client.get(url)
    # Then
    assert statuses == {ClientRole.PRINTER: 200, ClientRole.ADMIN: 200, ClientRole.SYNC: 403}
    assert_api_error(anonymous, 401, "not_authenticated")
    events = db_session.scalar(select(func.count()).where(LabelEvent.item_record_id == item.item_record_id))
    db_session.refresh(item)
    assert (events, item.print_count, item.last_printed_at) == (0, 0, None)


def test_label_sizes_lists_the_presets(client: TestClient, printer_key: str) -> None:
    # When
    response = client.get("/api/v1/label-sizes", headers=key_header(printer_key))
    # Then
    assert response.status_code == 200
    body = response.json()
    assert body["default"] == "brother-ql-29"
    assert body["min_text_height_mm"] == 2.5
    by_name = {preset["name"]: preset for preset in body["data"]}
    assert set(by_name) == set(PRESETS)
    assert by_name["brother-ql-29"]["book"] == {"width_mm": 29, "height_mm": 12, "text_height_mm": 5.1}
    assert by_name["brother-ql-29"]["cd"]["text_height_mm"] < 5.1


def test_label_pdf_through_the_lambda_handler(settings: Settings, committed_db: Engine) -> None:
    # Given: committed data, because the handler opens its own connections
    assert settings.env == "test"
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = importlib.import_module(
        "functions.api.handler"
    ).lambda_handler
    with session_scope(committed_db) as session:
        item_id = make_item(session, classification="84.2", signum="KIV").item_record_id
        key = make_client(session, role=ClientRole.PRINTER)[1]
    # When
    pdf = handler(
        http_api_event("GET", label_url(item_id), headers={"x-api-key": key, "accept": "application/pdf"}),
        FakeLambdaContext(),
    )
    svg = handler(http_api_event("GET", label_url(item_id), headers={"x-api-key": key}), FakeLambdaContext())
    # Then: the PDF travels base64-encoded, as API Gateway needs for a binary body
    assert pdf["statusCode"] == 200 and pdf["isBase64Encoded"] is True
    assert pdf["headers"]["content-type"] == "application/pdf"
    assert pdf_page_mm(base64.b64decode(pdf["body"])) == (29, 12, ["84.2", "KIV"])
    assert svg["statusCode"] == 200
    body = base64.b64decode(svg["body"]) if svg["isBase64Encoded"] else svg["body"].encode()
    assert svg_of(body)[1] == ["84.2", "KIV"]
