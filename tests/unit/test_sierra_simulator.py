"""The Sierra simulator against shared/SIERRA.md, over plain HTTP (no SierraClient involved)."""

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sierra_simulator import BIB_ID_BASE, ITEM_ID_BASE, FaultConfig, SierraStore, SimulatorConfig
from sierra_simulator.seed import BIB_CORE_FIELDS, ITEM_CORE_FIELDS
from sierra_simulator.store import BIB_FIELD_ORDER, ITEM_FIELD_ORDER, RecordQuery, join_fragments

from tests import sierra_fixtures
from tests.sierra_fixtures import RunningSimulator

# Bound here so that this module runs on its own; tests/conftest.py may register the same fixtures.
sierra_simulator_factory = sierra_fixtures.sierra_simulator_factory
sierra_simulator_session = sierra_fixtures.sierra_simulator_session
sierra_simulator = sierra_fixtures.sierra_simulator

FIXED_NOW = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
ERROR_KEYS = {"code", "specificCode", "httpStatus", "name", "description"}


@pytest.fixture
def api(sierra_simulator: RunningSimulator) -> Iterator[httpx.Client]:
    """An httpx client on the simulator's API root, with a valid bearer token."""
    token = sierra_simulator.raw_token()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=sierra_simulator.base_url, headers=headers, timeout=10) as client:
        yield client


def _assert_sierra_error(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert response.status_code == status, body
    assert set(body) == ERROR_KEYS
    assert (body["httpStatus"], body["code"]) == (status, code)
    return body


def _live_item_ids(simulator: RunningSimulator, count: int) -> list[int]:
    ids: list[int] = []
    item_id = simulator.store.first_item_id
    while len(ids) < count:
        raw = simulator.store.get_item_raw(item_id)
        if raw is not None and not raw.get("deleted"):
            ids.append(item_id)
        item_id += 1
    return ids


# ----- Authentication ---------------------------------------------------------------------------


def test_simulator_token_with_basic_auth(sierra_simulator: RunningSimulator) -> None:
    # Given the configured key and secret
    config = sierra_simulator.config

    # When a token is requested with the client-credentials grant
    response = httpx.post(
        sierra_simulator.base_url + "/token",
        auth=(config.client_key, config.client_secret),
        data={"grant_type": "client_credentials"},
    )

    # Then it is a bearer token with Sierra's expiry
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert len(body["access_token"]) > 20


def test_simulator_token_wrong_credentials_is_401_error_body(sierra_simulator: RunningSimulator) -> None:
    # Given / When a wrong secret is used
    response = httpx.post(
        sierra_simulator.base_url + "/token",
        auth=(sierra_simulator.config.client_key, "wrong"),
        data={"grant_type": "client_credentials"},
    )

    # Then an OAuth error comes back with 401, as real servers answer the token endpoint
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client", "error_description": "Invalid client credentials"}


def test_simulator_token_needs_client_credentials_grant(sierra_simulator: RunningSimulator) -> None:
    # Given / When the grant type is missing
    config = sierra_simulator.config
    response = httpx.post(sierra_simulator.base_url + "/token", auth=(config.client_key, config.client_secret))

    # Then it is an OAuth bad request
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_simulator_api_without_token_is_401_120(sierra_simulator: RunningSimulator) -> None:
    # Given / When no Authorization header is sent
    response = httpx.get(sierra_simulator.base_url + "/items", params={"limit": 1})

    # Then
    _assert_sierra_error(response, 401, 120)


def test_simulator_api_with_unknown_token_is_401_123(sierra_simulator: RunningSimulator) -> None:
    # Given / When a token the simulator never issued is sent
    response = httpx.get(
        sierra_simulator.base_url + "/items/1000000", headers={"Authorization": "Bearer not-a-real-token"}
    )

    # Then it is the invalid/expired token answer
    body = _assert_sierra_error(response, 401, 123)
    assert body["description"] == "invalid_grant"


def test_simulator_expire_tokens_invalidates_issued_tokens(
    sierra_simulator: RunningSimulator, api: httpx.Client
) -> None:
    # Given a working token
    assert api.get("/items/1000000").status_code == 200

    # When every token is expired through the control endpoint
    control = httpx.post(sierra_simulator.url + "/_simulator/faults", json={"expire_tokens": True})

    # Then the old token is refused and a new one works
    assert control.status_code == 200
    _assert_sierra_error(api.get("/items/1000000"), 401, 123)
    fresh = sierra_simulator.raw_token()
    assert api.get("/items/1000000", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_simulator_token_ttl_expires_tokens_early(sierra_simulator: RunningSimulator) -> None:
    # Given tokens that really live 0.2 s although they advertise an hour
    sierra_simulator.set_faults(token_ttl_seconds=0.2)
    token = sierra_simulator.raw_token()
    headers = {"Authorization": f"Bearer {token}"}
    first = httpx.get(sierra_simulator.base_url + "/items/1000000", headers=headers)

    # When the lifetime has passed
    time.sleep(0.3)
    second = httpx.get(sierra_simulator.base_url + "/items/1000000", headers=headers)

    # Then the token worked, then was refused as expired
    assert first.status_code == 200
    _assert_sierra_error(second, 401, 123)


# ----- GET /items -------------------------------------------------------------------------------


def test_simulator_items_page_shape_and_order(api: httpx.Client) -> None:
    # Given / When a page is listed from an open id range
    response = api.get("/items", params={"id": "[1000010,]", "limit": 25})

    # Then entries ascend by id from the range start, and total counts this page's entries
    body = response.json()
    ids = [int(entry["id"]) for entry in body["entries"]]
    assert response.status_code == 200
    assert ids == list(range(1000010, 1000035))
    assert (body["total"], body["start"]) == (25, 0)
    assert all(isinstance(entry["id"], str) for entry in body["entries"])


def test_simulator_items_default_limit_is_50(api: httpx.Client) -> None:
    # Given / When no limit is given
    body = api.get("/items").json()

    # Then Sierra's default page size applies
    assert len(body["entries"]) == 50


def test_simulator_items_offset_skips_entries(api: httpx.Client) -> None:
    # Given / When the second page of a closed range is asked by offset
    body = api.get("/items", params={"id": "[1000000,1000099]", "limit": 30, "offset": 90}).json()

    # Then only the last 10 remain, and start echoes the offset
    assert [int(entry["id"]) for entry in body["entries"]] == list(range(1000090, 1000100))
    assert body["start"] == 90


def test_simulator_items_id_list_and_single_id(api: httpx.Client) -> None:
    # Given / When ids are given as a list (unordered, one unknown) and as a single id
    listed = api.get("/items", params={"id": "1000005,1000002,999", "limit": 10}).json()
    single = api.get("/items", params={"id": "1000007"}).json()

    # Then the known ones come back ascending
    assert [entry["id"] for entry in listed["entries"]] == ["1000002", "1000005"]
    assert [entry["id"] for entry in single["entries"]] == ["1000007"]


def test_simulator_items_limit_above_2000_is_400(api: httpx.Client) -> None:
    # Given / When
    response = api.get("/items", params={"limit": 2001})

    # Then
    _assert_sierra_error(response, 400, 108)


def test_simulator_items_limit_2000_is_served(sierra_simulator: RunningSimulator, api: httpx.Client) -> None:
    # Given / When the maximum page is asked for
    body = api.get("/items", params={"id": f"[{sierra_simulator.store.first_item_id},]", "limit": 2000}).json()

    # Then every seeded item fits in it
    assert len(body["entries"]) == sierra_simulator.store.item_count == 2000


def test_simulator_items_empty_result_is_404_107(sierra_simulator: RunningSimulator, api: httpx.Client) -> None:
    # Given / When a range after the last item is listed
    response = api.get("/items", params={"id": f"[{sierra_simulator.store.last_item_id + 1},]"})

    # Then Sierra's not-found error stands for the empty page
    body = _assert_sierra_error(response, 404, 107)
    assert body["name"] == "Record not found"


@pytest.mark.parametrize(
    "params",
    [
        {"updatedDate": "[2026-01-01T00:00:00.123Z,]"},
        {"updatedDate": "[2026-01-01,2026-01-02]"},
        {"deletedDate": "[2026-01-01T00:00:00Z,]"},
        {"deleted": "yes"},
        {"id": "[abc,]"},
        {"fields": "id,noSuchField"},
        {"unknownParam": "1"},
    ],
)
def test_simulator_items_invalid_parameters_are_400(api: httpx.Client, params: dict[str, str]) -> None:
    # Given / When an invalid parameter is sent
    response = api.get("/items", params=params)

    # Then it is refused with Sierra's body
    _assert_sierra_error(response, 400, 108)


def test_simulator_items_fields_default_and_explicit(api: httpx.Client) -> None:
    # Given / When the same item is listed with default, explicit and default-plus fields
    default = api.get("/items", params={"id": "1000001", "fields": "default"}).json()["entries"][0]
    explicit = api.get("/items", params={"id": "1000001", "fields": "id,barcode"}).json()["entries"][0]
    extended = api.get("/items", params={"id": "1000001", "fields": "default,fixedFields,varFields"}).json()

    # Then default leaves out fixedFields/varFields, explicit gives just those keys, default+ adds them
    assert "fixedFields" not in default
    assert "varFields" not in default
    assert {"id", "updatedDate", "bibIds", "location", "status", "itemType"} <= set(default)
    assert set(explicit) <= {"id", "barcode"}
    assert {"fixedFields", "varFields"} <= set(extended["entries"][0])


def test_simulator_items_deleted_filter_and_stubs(sierra_simulator: RunningSimulator, api: httpx.Client) -> None:
    # Given the seeded items, some of them deleted
    first, last = sierra_simulator.store.first_item_id, sierra_simulator.store.last_item_id
    everything = api.get("/items", params={"id": f"[{first},]", "limit": 2000}).json()["entries"]

    # When filtering on deleted
    deleted = api.get("/items", params={"id": f"[{first},{last}]", "deleted": "true", "limit": 2000}).json()
    live = api.get("/items", params={"id": f"[{first},{last}]", "deleted": "false", "limit": 2000}).json()

    # Then deleted items are stubs (id, deletedDate, deleted) and the filters split the set
    stubs = [entry for entry in everything if entry["deleted"]]
    assert stubs
    assert all(set(stub) == {"id", "deletedDate", "deleted"} for stub in stubs)
    assert deleted["entries"] == stubs
    assert len(live["entries"]) + len(stubs) == len(everything)


def test_simulator_items_suppressed_filter(api: httpx.Client) -> None:
    # Given / When suppressed items are listed
    body = api.get("/items", params={"suppressed": "true", "limit": 2000}).json()

    # Then some exist and all are suppressed
    assert body["entries"]
    assert all(entry["suppressed"] is True for entry in body["entries"])


def test_simulator_items_updated_date_window(sierra_simulator_factory: Callable[..., RunningSimulator]) -> None:
    # Given items edited at a fixed time (after every seeded updatedDate)
    simulator = sierra_simulator_factory(clock=lambda: FIXED_NOW)
    simulator.store.edit_item(1000009, callNumber="84.2 ABC")
    simulator.store.edit_item(1000004, barcode="123")
    headers = {"Authorization": f"Bearer {simulator.raw_token()}"}
    url = simulator.base_url + "/items"

    # When windows around, before and at that second are listed (ranges are inclusive)
    around = httpx.get(url, headers=headers, params={"updatedDate": "[2026-05-06T07:00:00Z,2026-05-06T08:00:00Z]"})
    exact = httpx.get(url, headers=headers, params={"updatedDate": "2026-05-06T07:08:09Z"})
    before = httpx.get(url, headers=headers, params={"updatedDate": "[2026-05-06T07:00:00Z,2026-05-06T07:08:08Z]"})

    # Then only the edited items match, ascending, and an empty window is 404/107
    assert [entry["id"] for entry in around.json()["entries"]] == ["1000004", "1000009"]
    assert [entry["id"] for entry in exact.json()["entries"]] == ["1000004", "1000009"]
    assert around.json()["entries"][0]["updatedDate"] == "2026-05-06T07:08:09Z"
    _assert_sierra_error(before, 404, 107)


def test_simulator_items_updated_date_matches_seeded_records(sierra_simulator: RunningSimulator) -> None:
    # Given a window over part of the seeded history, and the items a full scan puts in it
    store = sierra_simulator.store
    low, high = datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 6, 30, tzinfo=UTC)
    expected = []
    for item_id in range(store.first_item_id, store.last_item_id + 1):
        updated = (store.get_item_raw(item_id) or {}).get("updatedDate")
        if updated and low <= datetime.strptime(updated, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) <= high:
            expected.append(item_id)

    # When the store is queried through its date index
    _, body = store.render_items(RecordQuery(updated=(int(low.timestamp()), int(high.timestamp())), limit=2000), {"id"})

    # Then the index finds exactly those items
    assert expected
    assert [int(entry["id"]) for entry in json.loads(body)["entries"]] == expected


def test_simulator_items_deleted_date_filter_day_granularity(
    sierra_simulator: RunningSimulator, api: httpx.Client
) -> None:
    # Given an item deleted on 2026-02-03
    sierra_simulator.store.delete_item(1000020, deleted_on=date(2026, 2, 3))

    # When deletions are listed by day
    that_day = api.get("/items", params={"deletedDate": "[2026-02-03,2026-02-03]"})
    single_day = api.get("/items", params={"deletedDate": "2026-02-03"})
    next_day = api.get("/items", params={"deletedDate": "[2026-02-04,]"})

    # Then the day matches, inclusively, and later days do not
    assert that_day.json()["entries"] == [{"id": "1000020", "deletedDate": "2026-02-03", "deleted": True}]
    assert single_day.json()["entries"] == that_day.json()["entries"]
    _assert_sierra_error(next_day, 404, 107)


def test_simulator_items_bib_ids_filter(sierra_simulator: RunningSimulator, api: httpx.Client) -> None:
    # Given a bib with several items
    store = sierra_simulator.store
    bib_id = next(
        bib_id
        for bib_id in range(store.first_bib_id, store.first_bib_id + store.bib_count)
        if len(store.item_ids_for_bib(bib_id)) >= 3
    )

    # When its items are listed
    body = api.get("/items", params={"bibIds": str(bib_id), "limit": 100}).json()

    # Then they are exactly the bib's items, each pointing back at it
    assert [int(entry["id"]) for entry in body["entries"]] == store.item_ids_for_bib(bib_id)
    assert all(entry.get("bibIds", [str(bib_id)]) == [str(bib_id)] for entry in body["entries"])


# ----- GET /items/{id} --------------------------------------------------------------------------


def test_simulator_get_item_and_errors(sierra_simulator: RunningSimulator, api: httpx.Client) -> None:
    # Given / When an existing, an unknown and a malformed id are fetched
    found = api.get("/items/1000003", params={"fields": "id,barcode,callNumber,varFields"})
    unknown = api.get(f"/items/{sierra_simulator.store.last_item_id + 1}")
    malformed = api.get("/items/i1000003")

    # Then the item comes back, then Sierra's 404/107 and 400/116
    assert found.status_code == 200
    assert found.json()["id"] == "1000003"
    _assert_sierra_error(unknown, 404, 107)
    _assert_sierra_error(malformed, 400, 116)


def test_simulator_item_call_number_follows_var_field_c(api: httpx.Client) -> None:
    # Given / When items are read with varFields
    entries = api.get("/items", params={"limit": 200, "fields": "callNumber,barcode,varFields,deleted"}).json()

    # Then callNumber is varField c as |a... (or its plain content), and barcode is varField b
    tags: Counter[str | None] = Counter()
    for entry in entries["entries"]:
        if entry["deleted"]:
            continue
        call_fields = [field for field in entry["varFields"] if field["fieldTag"] == "c"]
        barcode_fields = [field for field in entry["varFields"] if field["fieldTag"] == "b"]
        if call_fields:
            (call_field,) = call_fields
            tags[call_field.get("marcTag")] += 1
            if "subfields" in call_field:
                assert entry["callNumber"] == "|a" + call_field["subfields"][0]["content"]
            else:
                assert entry["callNumber"] == call_field["content"]
                assert "|" not in entry["callNumber"]
        else:
            assert "callNumber" not in entry
        assert entry.get("barcode") == (barcode_fields[0]["content"] if barcode_fields else None)
    assert tags["099"] > 150


# ----- PUT /items/{id} --------------------------------------------------------------------------


def test_simulator_put_fixed_fields_merge_and_bump_updated_date(
    sierra_simulator_factory: Callable[..., RunningSimulator],
) -> None:
    # Given an item and a fixed clock
    simulator = sierra_simulator_factory(clock=lambda: FIXED_NOW)
    item_id = _live_item_ids(simulator, 1)[0]
    before = simulator.store.get_item_raw(item_id)
    assert before is not None
    headers = {"Authorization": f"Bearer {simulator.raw_token()}"}

    # When fixed field 93 is set
    response = httpx.put(
        f"{simulator.base_url}/items/{item_id}",
        headers=headers,
        json={"fixedFields": {"93": {"label": "IUSE3", "value": "1"}}},
    )

    # Then 204, field 93 changed, every other fixed field kept, updatedDate bumped
    after = simulator.store.get_item_raw(item_id)
    assert after is not None
    assert response.status_code == 204
    assert response.content == b""
    assert after["fixedFields"]["93"] == {"label": "IUSE3", "value": "1"}
    assert {key: value for key, value in after["fixedFields"].items() if key != "93"} == {
        key: value for key, value in before["fixedFields"].items() if key != "93"
    }
    assert after["updatedDate"] == "2026-05-06T07:08:09Z" != before["updatedDate"]
    assert after["varFields"] == before["varFields"]


@pytest.mark.parametrize(
    "body",
    [
        {"fixedFields": {"93": {"value": "1"}}},
        {"fixedFields": {"93": {"label": "IUSE3"}}},
        {"fixedFields": {"x": {"label": "IUSE3", "value": "1"}}},
        {"varFields": [{"marcTag": "099", "subfields": [{"tag": "a", "content": "1"}]}]},
        {"varFields": [{"fieldTag": "c"}]},
        {"varFields": {"fieldTag": "c"}},
        {"inventoryDate": "2026-11-22T09:00:00.123Z"},
        {"callNumber": "|a84.2"},
    ],
)
def test_simulator_put_invalid_content_is_400_and_changes_nothing(
    sierra_simulator: RunningSimulator, api: httpx.Client, body: dict[str, Any]
) -> None:
    # Given an item
    item_id = _live_item_ids(sierra_simulator, 1)[0]
    before = sierra_simulator.store.get_item_raw(item_id)

    # When an invalid change is PUT
    response = api.put(f"/items/{item_id}", json=body)

    # Then it is refused and the record is untouched, but the attempt is logged
    _assert_sierra_error(response, 400, 105)
    assert sierra_simulator.store.get_item_raw(item_id) == before
    assert [(entry.item_id, entry.status) for entry in sierra_simulator.store.put_log] == [(item_id, 400)]


def test_simulator_put_malformed_json_is_400_113(sierra_simulator: RunningSimulator, api: httpx.Client) -> None:
    # Given / When a body that is not JSON is PUT
    response = api.put("/items/1000001", content=b"{not json", headers={"Content-Type": "application/json"})

    # Then it is Sierra's invalid-JSON error, and the attempt is logged with the raw text
    _assert_sierra_error(response, 400, 113)
    assert [(entry.status, entry.body) for entry in sierra_simulator.store.put_log] == [(400, "{not json")]


def test_simulator_put_needs_json_content_type(sierra_simulator: RunningSimulator, api: httpx.Client) -> None:
    # Given / When a JSON body is PUT as plain text
    response = api.put(
        "/items/1000001", content=b'{"inventoryDate": "2026-01-01"}', headers={"Content-Type": "text/plain"}
    )

    # Then it is Sierra's unsupported media type, and nothing was logged or changed
    _assert_sierra_error(response, 415, 126)
    assert sierra_simulator.store.put_log == []
    assert sierra_simulator.store.overlay_item_count == 0


def test_simulator_put_var_fields_replace_only_the_field_tags_sent(
    sierra_simulator: RunningSimulator, api: httpx.Client
) -> None:
    # Given an item with a barcode, a note and two call-number fields (090 and 099)
    item_id = _live_item_ids(sierra_simulator, 1)[0]
    barcode = {"fieldTag": "b", "content": "31234000000001"}
    note = {"fieldTag": "x", "content": "Kansi korjattu"}
    old_call_numbers = [
        {"fieldTag": "c", "marcTag": "090", "ind1": " ", "ind2": " ", "subfields": [{"tag": "a", "content": "84.2"}]},
        {"fieldTag": "c", "marcTag": "099", "ind1": " ", "ind2": " ", "subfields": [{"tag": "a", "content": "1.4"}]},
    ]
    sierra_simulator.store.edit_item(item_id, varFields=[barcode, *old_call_numbers, note])

    # When only a new call number varField is sent
    new_field = {
        "fieldTag": "c",
        "marcTag": "090",
        "ind1": " ",
        "ind2": " ",
        "subfields": [{"tag": "a", "content": "78.891 X"}],
    }
    response = api.put(f"/items/{item_id}", json={"varFields": [new_field]})

    # Then both c fields were replaced by the one sent, in place; the other tags stayed as they were
    after = sierra_simulator.store.get_item_raw(item_id)
    assert after is not None
    assert response.status_code == 204
    assert after["varFields"] == [barcode, new_field, note]
    assert after["callNumber"] == "|a78.891 X"
    assert after["barcode"] == "31234000000001"


def test_simulator_put_of_an_empty_subfield_list_is_400(sierra_simulator: RunningSimulator, api: httpx.Client) -> None:
    # Given an item whose record carries a note field with no subfields, as some real records do
    item_id = next(
        item_id
        for item_id in _live_item_ids(sierra_simulator, 400)
        if any(
            field.get("subfields") == [] for field in (sierra_simulator.store.get_item_raw(item_id) or {})["varFields"]
        )
    )
    before = sierra_simulator.store.get_item_raw(item_id)
    assert before is not None

    # When its varFields are sent back as they were read
    response = api.put(f"/items/{item_id}", json={"varFields": before["varFields"]})

    # Then Sierra refuses them and changes nothing
    body = _assert_sierra_error(response, 400, 105)
    assert "subfields is empty" in body["description"]
    assert sierra_simulator.store.get_item_raw(item_id) == before


def test_simulator_refuses_the_put_keys_it_is_told_to(sierra_simulator: RunningSimulator, api: httpx.Client) -> None:
    # Given Sierra refusing inventoryDate on one item
    first, second = _live_item_ids(sierra_simulator, 2)
    sierra_simulator.set_faults(refused_put_keys={"inventoryDate": [first]})

    # When
    refused = api.put(f"/items/{first}", json={"inventoryDate": "2026-11-22T09:00:00Z"})
    accepted = api.put(f"/items/{second}", json={"inventoryDate": "2026-11-22T09:00:00Z"})
    other_key = api.put(f"/items/{first}", json={"fixedFields": {"93": {"label": "IUSE3", "value": "1"}}})

    # Then only that key on that item is refused
    _assert_sierra_error(refused, 400, 105)
    assert (accepted.status_code, other_key.status_code) == (204, 204)
    assert sierra_simulator.store.refused_puts == 1
    assert sierra_simulator.stats()["puts_refused"] == 1


def test_simulator_put_inventory_date_sets_invda(sierra_simulator: RunningSimulator, api: httpx.Client) -> None:
    # Given an item
    item_id = _live_item_ids(sierra_simulator, 3)[2]

    # When inventoryDate is PUT
    response = api.put(f"/items/{item_id}", json={"inventoryDate": "2026-11-22T09:00:00Z"})

    # Then fixed field 69 INVDA holds it, and a GET does not return inventoryDate
    after = sierra_simulator.store.get_item_raw(item_id)
    assert after is not None
    assert response.status_code == 204
    assert after["fixedFields"]["69"] == {"label": "INVDA", "value": "2026-11-22T09:00:00Z"}
    assert "inventoryDate" not in api.get(f"/items/{item_id}", params={"fields": "default,fixedFields"}).json()


def test_simulator_inventory_date_field_is_configurable(
    sierra_simulator_factory: Callable[..., RunningSimulator],
) -> None:
    # Given a Sierra mirroring the inventory date in fixed field 63
    simulator = sierra_simulator_factory(item_count=20, inventory_date_field="63")
    item_id = _live_item_ids(simulator, 1)[0]
    headers = {"Authorization": f"Bearer {simulator.raw_token()}"}

    # When
    response = httpx.put(
        f"{simulator.base_url}/items/{item_id}", headers=headers, json={"inventoryDate": "2026-11-22T09:00:00Z"}
    )

    # Then
    after = simulator.store.get_item_raw(item_id)
    assert after is not None
    assert response.status_code == 204
    assert after["fixedFields"]["63"]["value"] == "2026-11-22T09:00:00Z"


def test_simulator_put_unknown_or_deleted_item_is_404(sierra_simulator: RunningSimulator, api: httpx.Client) -> None:
    # Given a deleted item
    sierra_simulator.store.delete_item(1000030)

    # When both it and an unknown id are PUT
    deleted = api.put("/items/1000030", json={"inventoryDate": "2026-01-01"})
    unknown = api.put(f"/items/{sierra_simulator.store.last_item_id + 1}", json={"inventoryDate": "2026-01-01"})

    # Then both are Sierra's not-found
    _assert_sierra_error(deleted, 404, 107)
    _assert_sierra_error(unknown, 404, 107)


def test_simulator_put_log_counts_duplicates(sierra_simulator: RunningSimulator, api: httpx.Client) -> None:
    # Given / When the same item is written twice and another once
    ids = _live_item_ids(sierra_simulator, 2)
    for item_id in (ids[0], ids[1], ids[0]):
        assert api.put(f"/items/{item_id}", json={"inventoryDate": "2026-01-01"}).status_code == 204

    # Then the log shows the duplicate
    assert sierra_simulator.store.put_counts() == {ids[0]: 2, ids[1]: 1}
    assert sierra_simulator.store.put_log[0].body == {"inventoryDate": "2026-01-01"}


def test_simulator_concurrent_puts_are_all_applied(sierra_simulator: RunningSimulator, api: httpx.Client) -> None:
    # Given 100 items and 8 threads sharing one connection pool
    ids = _live_item_ids(sierra_simulator, 100)

    # When they are PUT concurrently
    def put(item_id: int) -> int:
        body = {"fixedFields": {"93": {"label": "IUSE3", "value": "1"}}}
        return api.put(f"/items/{item_id}", json=body).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(put, ids))

    # Then every PUT succeeded and is visible
    assert statuses == [204] * 100
    for item_id in ids:
        raw = sierra_simulator.store.get_item_raw(item_id)
        assert raw is not None
        assert raw["fixedFields"]["93"]["value"] == "1"


# ----- POST /items/query ------------------------------------------------------------------------


def _field_query(tag: str, value: str) -> dict[str, Any]:
    return {
        "target": {"record": {"type": "item"}, "field": {"tag": tag}},
        "expr": {"op": "equals", "operands": [value]},
    }


def test_simulator_barcode_query_finds_every_item_with_it(
    sierra_simulator: RunningSimulator, api: httpx.Client
) -> None:
    # Given a seeded duplicate barcode
    store = sierra_simulator.store
    raws = [store.get_item_raw(item_id) or {} for item_id in range(ITEM_ID_BASE, ITEM_ID_BASE + 2000)]
    barcodes = Counter(raw.get("barcode") for raw in raws if not raw.get("deleted"))
    duplicate = next(barcode for barcode, count in barcodes.items() if barcode and count > 1)
    query = _field_query("b", duplicate)

    # When it is queried
    body = api.post("/items/query", params={"offset": 0, "limit": 10}, json=query).json()

    # Then both items are linked
    ids = [int(entry["link"].rsplit("/", 1)[1]) for entry in body["entries"]]
    assert len(ids) == barcodes[duplicate]
    assert all((store.get_item_raw(item_id) or {}).get("barcode") == duplicate for item_id in ids)
    assert body["entries"][0]["link"].startswith(sierra_simulator.base_url + "/items/")


def test_simulator_barcode_query_unsupported_is_400(api: httpx.Client) -> None:
    # Given a query on another field
    query = _field_query("c", "x")

    # When / Then
    _assert_sierra_error(api.post("/items/query", json=query), 400, 105)
    _assert_sierra_error(
        api.post("/items/query", content=b"[]", headers={"Content-Type": "application/json"}), 400, 113
    )


# ----- Bibs -------------------------------------------------------------------------------------


def test_simulator_bibs_list_and_get(api: httpx.Client) -> None:
    # Given / When bibs are listed by range with varFields, and one is fetched
    listed = api.get("/bibs", params={"id": f"[{BIB_ID_BASE},]", "limit": 20, "fields": "default,varFields"}).json()
    single = api.get(f"/bibs/{BIB_ID_BASE + 3}", params={"fields": "id,title,varFields,marc"}).json()

    # Then entries ascend and carry their MARC main entry and title; marc mirrors varFields
    assert [int(entry["id"]) for entry in listed["entries"]] == list(range(BIB_ID_BASE, BIB_ID_BASE + 20))
    for entry in listed["entries"]:
        assert [field for field in entry["varFields"] if field.get("marcTag") == "245"]
    assert single["id"] == str(BIB_ID_BASE + 3)
    tags = [next(iter(field)) for field in single["marc"]["fields"]]
    assert "245" in tags


def test_simulator_bib_updated_date_after_edit(sierra_simulator_factory: Callable[..., RunningSimulator]) -> None:
    # Given a bib whose classification is changed at a fixed time
    simulator = sierra_simulator_factory(clock=lambda: FIXED_NOW)
    simulator.store.edit_bib(BIB_ID_BASE + 5, classification="99.1 Etelä-Haaga -kokoelma")
    headers = {"Authorization": f"Bearer {simulator.raw_token()}"}

    # When bibs updated at that time are listed, and the items of the bib are checked
    body = httpx.get(
        simulator.base_url + "/bibs",
        headers=headers,
        params={"updatedDate": "[2026-05-06T00:00:00Z,]", "fields": "id,varFields"},
    ).json()
    items = [simulator.store.get_item_raw(item_id) for item_id in simulator.store.item_ids_for_bib(BIB_ID_BASE + 5)]

    # Then only that bib is found, with the new 097; its items' updatedDate did not change
    assert [entry["id"] for entry in body["entries"]] == [str(BIB_ID_BASE + 5)]
    classes = [field for field in body["entries"][0]["varFields"] if field.get("marcTag") == "097"]
    assert [field["subfields"][0]["content"] for field in classes] == ["99.1 Etelä-Haaga -kokoelma"]
    assert all(item is not None and item.get("updatedDate", "") < "2026" for item in items)


def test_simulator_bibs_unknown_is_404_107(sierra_simulator: RunningSimulator, api: httpx.Client) -> None:
    # Given / When
    beyond = BIB_ID_BASE + sierra_simulator.store.bib_count
    listed = api.get("/bibs", params={"id": f"[{beyond},]"})
    single = api.get(f"/bibs/{beyond}")

    # Then
    _assert_sierra_error(listed, 404, 107)
    _assert_sierra_error(single, 404, 107)


# ----- Faults and control -----------------------------------------------------------------------


def test_simulator_maintenance_answers_503_117_until_turned_off(sierra_simulator: RunningSimulator) -> None:
    # Given a maintenance window
    control = httpx.post(sierra_simulator.url + "/_simulator/faults", json={"maintenance": True})
    assert control.json()["maintenance"] is True

    # When the token endpoint and the API are called, then maintenance ends
    token = httpx.post(sierra_simulator.base_url + "/token", data={"grant_type": "client_credentials"})
    items = httpx.get(sierra_simulator.base_url + "/items")
    httpx.post(sierra_simulator.url + "/_simulator/faults", json={"maintenance": False})

    # Then everything was 503/117, and works again afterwards
    _assert_sierra_error(token, 503, 117)
    _assert_sierra_error(items, 503, 117)
    assert sierra_simulator.raw_token()


@pytest.mark.parametrize(("status", "code"), [(500, 109), (503, 117), (409, 133)])
def test_simulator_error_rate_injects_sierra_codes(
    sierra_simulator: RunningSimulator, api: httpx.Client, status: int, code: int
) -> None:
    # Given an error rate of 1 for one status on item GETs
    sierra_simulator.set_faults(error_rates={status: 1.0}, methods=["GET"], path_prefix="/items")

    # When an item is read, and a bib
    response = api.get("/items/1000000")
    bib = api.get(f"/bibs/{BIB_ID_BASE}")

    # Then the item read failed with the right code; the bib was out of scope
    _assert_sierra_error(response, status, code)
    assert bib.status_code == 200
    assert sierra_simulator.stats()["faults_injected"] == {str(status): 1}


def test_simulator_error_rate_is_deterministic_for_a_seed(
    sierra_simulator_factory: Callable[..., RunningSimulator],
) -> None:
    # Given two simulators with the same seeded 30 % error rate
    outcomes = []
    for _ in range(2):
        simulator = sierra_simulator_factory(faults=FaultConfig(seed=7, error_rates={503: 0.3}, path_prefix="/items"))
        headers = {"Authorization": f"Bearer {simulator.raw_token()}"}

        # When the same 40 requests are made
        with httpx.Client(base_url=simulator.base_url, headers=headers) as client:
            outcomes.append([client.get("/items/1000000").status_code for _ in range(40)])

    # Then the same requests failed, some but not all
    assert outcomes[0] == outcomes[1]
    assert 0 < outcomes[0].count(503) < 40


def test_simulator_latency_and_timeouts(sierra_simulator: RunningSimulator, api: httpx.Client) -> None:
    # Given 150 ms of latency on every request
    sierra_simulator.set_faults(latency_ms=150)

    # When a request is timed, then one that hangs 1 s is made with a 0.3 s timeout
    started = time.perf_counter()
    api.get("/items/1000000")
    elapsed = time.perf_counter() - started
    sierra_simulator.set_faults(latency_ms=0, fail_next=["timeout"], hang_seconds=1.0)
    with pytest.raises(httpx.ReadTimeout):
        api.get("/items/1000000", timeout=0.3)

    # Then the latency was applied and the hang outlasted the timeout
    assert elapsed >= 0.15
    assert sierra_simulator.stats()["faults_injected"] == {"timeout": 1}
    # (and the hung request is let finish here, not in the counters of the next test)
    deadline = time.monotonic() + 5
    while sierra_simulator.stats()["by_route"].get("GET /items/{id}", 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)


def test_simulator_fault_control_rejects_bad_settings(sierra_simulator: RunningSimulator) -> None:
    # Given / When impossible settings are posted
    unknown = httpx.post(sierra_simulator.url + "/_simulator/faults", json={"nonsense": 1})
    rate = httpx.post(sierra_simulator.url + "/_simulator/faults", json={"error_rates": {"503": 2}})
    status = httpx.post(sierra_simulator.url + "/_simulator/faults", json={"fail_next": [418]})

    # Then each is a 400 and the configuration is unchanged
    for response in (unknown, rate, status):
        _assert_sierra_error(response, 400, 105)
    assert httpx.get(sierra_simulator.url + "/_simulator/faults").json()["error_rates"] == {}


def test_simulator_stats_and_reset(sierra_simulator: RunningSimulator, api: httpx.Client) -> None:
    # Given some traffic and an edit
    api.get("/items/1000000")
    api.put("/items/1000000", json={"inventoryDate": "2026-01-01"})

    # When stats are read, then the simulator is reset over HTTP
    stats = httpx.get(sierra_simulator.url + "/_simulator/stats").json()
    reset = httpx.post(sierra_simulator.url + "/_simulator/reset")

    # Then the stats counted the requests, and the reset restored the seeded state
    assert stats["by_route"]["GET /items/{id}"] == 1
    assert stats["puts"] == 1
    assert stats["overlay_items"] == 1
    assert stats["items"] == 2000
    assert reset.status_code == 204
    assert sierra_simulator.store.overlay_item_count == 0
    assert sierra_simulator.store.put_log == []


def test_simulator_unknown_endpoint_has_error_body(api: httpx.Client) -> None:
    # Given / When
    response = api.get("/patrons/1")

    # Then even routing errors use Sierra's shape (and not code 107, so no one mistakes it for an empty page)
    body = _assert_sierra_error(response, 404, 0)
    assert body["name"] == "Not Found"


# ----- Seed data --------------------------------------------------------------------------------


def test_seed_is_deterministic_per_seed() -> None:
    # Given two stores with the same seed and one with another
    first, same, other = (
        SierraStore(item_count=300, seed=5),
        SierraStore(item_count=300, seed=5),
        SierraStore(item_count=300, seed=6),
    )

    # When / Then records match for the same seed and differ for another
    assert [first.get_item_raw(ITEM_ID_BASE + n) for n in range(300)] == [
        same.get_item_raw(ITEM_ID_BASE + n) for n in range(300)
    ]
    assert first.get_bib_raw(BIB_ID_BASE + 1) == same.get_bib_raw(BIB_ID_BASE + 1)
    assert first.get_item_raw(ITEM_ID_BASE + 1) != other.get_item_raw(ITEM_ID_BASE + 1)


def _main_entry(bib: dict[str, Any]) -> tuple[str, str, str]:
    fields = [field for field in bib["varFields"] if field.get("marcTag") in ("100", "110", "111")]
    if fields:
        return fields[0]["marcTag"], fields[0]["ind1"], fields[0]["subfields"][0]["content"]
    title = next(field for field in bib["varFields"] if field.get("marcTag") == "245")
    return "245", title["ind2"], title["subfields"][0]["content"]


def test_seed_bibs_cover_the_signum_cases() -> None:
    # Given the bibs of 20 000 seeded items
    store = SierraStore(item_count=20_000, seed=1)
    bibs = [store.get_bib_raw(bib_id) for bib_id in range(BIB_ID_BASE, BIB_ID_BASE + store.bib_count)]
    entries = [_main_entry(bib) for bib in bibs if bib is not None]
    kinds = Counter((tag, ind) for tag, ind, _ in entries)

    # When / Then every heading kind the signum rules know appears
    for kind in [("100", "1"), ("100", "0"), ("100", "3"), ("110", "2"), ("110", "1"), ("111", "2")]:
        assert kinds[kind] > 0, kind
    assert kinds[("245", "4")] and kinds[("245", "2")] and kinds[("245", " ")] and kinds[("245", "#")]
    articles = {text[: int(ind)] for tag, ind, text in entries if tag == "245" and ind.isdigit() and ind != "0"}
    assert {"The ", "A "} <= articles
    texts = "".join(text for _, _, text in entries)
    assert any("\u0400" <= ch <= "\u04ff" for ch in texts)  # Cyrillic
    assert any("\u0370" <= ch <= "\u03ff" for ch in texts)  # Greek
    assert any("\u4e00" <= ch <= "\u9fff" for ch in texts)  # CJK
    assert any(ch in texts for ch in "ÅÄÖ")
    assert kinds[("100", "1")] > len(entries) / 3


def test_seed_bibs_mostly_carry_097_classification() -> None:
    # Given the bibs of 20 000 seeded items
    store = SierraStore(item_count=20_000, seed=1)
    counts: Counter[int] = Counter()
    texts = []
    for bib_id in range(BIB_ID_BASE, BIB_ID_BASE + store.bib_count):
        bib = store.get_bib_raw(bib_id)
        assert bib is not None
        classes = [field["subfields"][0]["content"] for field in bib["varFields"] if field.get("marcTag") == "097"]
        counts[min(len(classes), 2)] += 1
        texts.extend(classes)

    # When / Then most have one, some none, some several, some with a collection text
    total = sum(counts.values())
    assert counts[1] > 0.7 * total
    assert 0 < counts[0] < 0.2 * total
    assert counts[2] > 0
    assert any(" " in text for text in texts)


def test_seed_items_have_realistic_quirks() -> None:
    # Given 20 000 seeded items
    store = SierraStore(item_count=20_000, seed=1)
    items = [store.get_item_raw(item_id) for item_id in range(ITEM_ID_BASE, ITEM_ID_BASE + 20_000)]
    live = [item for item in items if item is not None and not item["deleted"]]
    barcodes = Counter(item.get("barcode") for item in live)

    # When / Then duplicates, blanks, suppressed, deleted, INVDA and the 93 label are all present
    assert 0 < len(items) - len(live) < 0.02 * len(items)
    assert any(count > 1 for barcode, count in barcodes.items() if barcode)
    assert barcodes[""] > 0 and barcodes[None] > 0
    assert any(item["suppressed"] for item in live)
    assert any("69" in item["fixedFields"] for item in live)
    assert all(item["fixedFields"]["93"]["label"] == "IUSE3" for item in live)
    assert any(item.get("callNumber", "").count(",") == 1 for item in live)  # "123.45, 678.90 Text"
    call_fields = [field for item in live for field in item["varFields"] if field["fieldTag"] == "c"]
    tags = Counter(field.get("marcTag") for field in call_fields)
    assert tags["099"] > 0.8 * len(call_fields)
    assert 0.03 * len(call_fields) < tags["090"] < 0.07 * len(call_fields)
    assert 0.01 * len(call_fields) < tags["092"] < 0.05 * len(call_fields)
    assert 0.03 * len(call_fields) < tags[None] < 0.07 * len(call_fields)
    plain = [item for item in live if any(f["fieldTag"] == "c" and "content" in f for f in item["varFields"])]
    assert all(not item["callNumber"].startswith("|") for item in plain)
    empty = [item for item in live if any(field.get("subfields") == [] for field in item["varFields"])]
    assert 0.03 * len(live) < len(empty) < 0.07 * len(live)
    assert len({item["bibIds"][0] for item in live}) < len(live) / 2
    assert {item["location"]["code"] for item in live} >= {"h00aa", "h01aa"}
    assert any("duedate" in item["status"] for item in live)


def test_seed_intl_use_label_is_configurable() -> None:
    # Given a Sierra labelling field 93 "INTL USE" (standard), with IUSE3 in 74
    store = SierraStore(item_count=50, seed=1, intl_use_label="INTL USE")

    # When / Then
    item = next(
        item for item in (store.get_item_raw(ITEM_ID_BASE + n) for n in range(50)) if item and not item["deleted"]
    )
    assert item["fixedFields"]["93"]["label"] == "INTL USE"
    assert item["fixedFields"]["74"]["label"] == "IUSE3"


@pytest.mark.parametrize("seed", [1, 7])
def test_seed_fast_renderers_equal_the_field_by_field_ones(seed: int) -> None:
    # Given a store, and its fields in canonical order
    store = SierraStore(item_count=6000, seed=seed)
    catalogue = store.catalogue
    ids = list(range(ITEM_ID_BASE, ITEM_ID_BASE + 6000))
    core = [name for name in ITEM_FIELD_ORDER if name in ITEM_CORE_FIELDS]
    everything = list(ITEM_FIELD_ORDER)

    # When items are rendered by the batch fast path, the per-item fast path and field by field
    batch = catalogue.items_json_core(ids)
    single = [catalogue.item_json(item_id, volumes=True, fixed_fields=True, var_fields=True) for item_id in ids]

    # Then all agree byte for byte (the fast paths are what GET /items serves)
    assert batch == [join_fragments(catalogue.item_fragments(item_id), core) for item_id in ids]
    assert single == [join_fragments(catalogue.item_fragments(item_id), everything) for item_id in ids]
    bib_ids = range(BIB_ID_BASE, BIB_ID_BASE + store.bib_count)
    bib_order = [name for name in BIB_FIELD_ORDER if name in BIB_CORE_FIELDS or name == "varFields"]
    assert [catalogue.bib_json(bib_id, var_fields=True) for bib_id in bib_ids] == [
        join_fragments(catalogue.bib_fragments(bib_id), bib_order) for bib_id in bib_ids
    ]


def test_store_with_a_million_items_starts_in_seconds() -> None:
    # Given / When a million-item store is created and its first page rendered
    started = time.perf_counter()
    store = SierraStore(item_count=1_000_000, seed=1)
    count, _ = store.render_items(RecordQuery(id_lo=ITEM_ID_BASE, limit=2000), {"id", "barcode"})
    elapsed = time.perf_counter() - started

    # Then it is ready at once
    assert count == 2000
    assert store.last_item_id == ITEM_ID_BASE + 999_999
    assert elapsed < 5


def test_simulator_config_defaults_match_the_cli() -> None:
    # Given / When / Then the defaults used by tests and `python -m sierra_simulator` agree
    config = SimulatorConfig()
    assert (config.item_count, config.seed, config.token_expires_in) == (5000, 1, 3600)
