"""Helpers for sync tests: page budgets, running a sync, and the rows the simulator's data should give.

`expected_rows` derives each item's row from the simulator's raw JSON on its own terms, so the
comparison checks the sync's mapping rather than repeating it.
"""

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sierra_simulator import SierraStore
from sqlalchemy import Engine, text

from tarroitus.domain import SyncMode
from tarroitus.jobs.sierra_sync import SyncOptions, sync_from_sierra
from tarroitus.repositories.item_upserts import SYNC_COLUMNS
from tarroitus.services.signum import compute_signum
from tarroitus.sierra import SierraClient

UNLIMITED_PAGES = 1_000_000


class PageBudget:
    """A budget that lets `pages` pages start and then reports the time as spent; `on_page(n)` runs before page n."""

    def __init__(self, pages: int = UNLIMITED_PAGES, on_page: Callable[[int], None] | None = None) -> None:
        self.pages = pages
        self.on_page = on_page
        self.calls = 0

    def allows(self, seconds: float) -> bool:
        """True for the first `pages` pages."""
        self.calls += 1
        if self.on_page is not None:
            self.on_page(self.calls)
        return self.calls <= self.pages


def run_sync(
    engine: Engine,
    client: SierraClient,
    *,
    budget: PageBudget | None = None,
    batch_size: int = 2000,
    mode: SyncMode | None = None,
    lookback_seconds: int = 300,
) -> dict[str, Any]:
    """One sync run against `client` with test options."""
    options = SyncOptions(batch_size=batch_size, lookback=timedelta(seconds=lookback_seconds), lease_seconds=300)
    return sync_from_sierra(engine, client, options=options, budget=budget or PageBudget(), mode=mode)


def stored_rows(engine: Engine) -> dict[int, dict[str, Any]]:
    """Every item row's synced columns, by id."""
    with engine.connect() as connection:
        result = connection.execute(text(f"SELECT {', '.join(SYNC_COLUMNS)} FROM items"))
        return {row["item_record_id"]: dict(row) for row in result.mappings()}


def row_versions(engine: Engine) -> dict[int, str]:
    """Each item's physical tuple address (an UPDATE always moves it) to prove a rerun wrote nothing."""
    with engine.connect() as connection:
        return {row[0]: row[1] for row in connection.execute(text("SELECT item_record_id, ctid::text FROM items"))}


def _sierra_check_digit(number: int) -> str:
    weighted = 0
    for position, digit in enumerate(reversed(str(number))):
        weighted += (position + 2) * int(digit)
    return "x" if weighted % 11 == 10 else str(weighted % 11)


def _blank_to_none(value: Any) -> Any:
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _call_number(value: str | None) -> str | None:
    if value is None:
        return None
    parts = [part.strip() for part in re.split(r"\|[a-z]", value)]
    return " ".join(part for part in parts if part) or None


def _bib_columns(bib: dict[str, Any] | None) -> dict[str, Any]:
    if bib is None or bib.get("deleted"):
        return {}
    var_fields = bib.get("varFields", [])
    main_entry = [field for field in var_fields if field.get("marcTag") in {"100", "110", "111", "130", "245"}]
    classes = [
        " ".join(sub["content"] for sub in field["subfields"]) for field in var_fields if field.get("marcTag") == "097"
    ]
    bib_id = int(bib["id"])
    return {
        "bib_number": f"b{bib_id}{_sierra_check_digit(bib_id)}",
        "best_author": _blank_to_none(bib.get("author")),
        "best_title": _blank_to_none(bib.get("title")),
        "material_code": bib["materialType"]["code"],
        "material_name": bib["materialType"]["value"],
        "classification": max(classes) if classes else None,
        "signum": compute_signum(main_entry),
        "main_entry": main_entry,
    }


def expected_row(store: SierraStore, item_id: int, bibs: dict[int, dict[str, Any] | None]) -> dict[str, Any] | None:
    """The row the sync should store for one simulator item (None when the id does not exist)."""
    raw = store.get_item_raw(item_id)
    if raw is None:
        return None
    row: dict[str, Any] = dict.fromkeys(SYNC_COLUMNS)
    row.update(item_record_id=item_id, suppressed=False, deleted=False)
    if raw.get("deleted"):
        row.update(deleted=True, deleted_at=_moment(raw["deletedDate"]))
        return row
    bib_id = int(raw["bibIds"][0]) if raw.get("bibIds") else None
    if bib_id is not None and bib_id not in bibs:
        bibs[bib_id] = store.get_bib_raw(bib_id)
    row.update(_bib_columns(bibs.get(bib_id) if bib_id is not None else None))
    row.update(
        item_number=f"i{item_id}{_sierra_check_digit(item_id)}",
        barcode=_blank_to_none(raw.get("barcode")),
        bib_record_id=bib_id,
        itype_code_num=int(raw["fixedFields"]["61"]["value"]),
        item_type_name=raw["itemType"],
        location_code=raw["location"]["code"],
        location_name=raw["location"]["name"],
        status_code=raw["status"]["code"],
        status_name=raw["status"]["display"],
        call_number=_call_number(raw.get("callNumber")),
        suppressed=raw["suppressed"],
        sierra_created_at=_moment(raw["createdDate"]),
        sierra_updated_at=_moment(raw["updatedDate"]),
    )
    return row


def expected_rows(store: SierraStore) -> dict[int, dict[str, Any]]:
    """The rows a complete sync of the simulator should store, by id."""
    bibs: dict[int, dict[str, Any] | None] = {}
    rows = {}
    for item_id in range(store.first_item_id, store.last_item_id + 1):
        row = expected_row(store, item_id, bibs)
        if row is not None:
            rows[item_id] = row
    return rows


def differences(actual: dict[int, dict[str, Any]], expected: dict[int, dict[str, Any]]) -> list[str]:
    """Field-by-field differences, for a readable assertion message (first 20)."""
    found = [f"missing item {item_id}" for item_id in expected.keys() - actual.keys()]
    found += [f"unexpected item {item_id}" for item_id in actual.keys() - expected.keys()]
    for item_id in sorted(expected.keys() & actual.keys()):
        for column in SYNC_COLUMNS:
            if actual[item_id][column] != expected[item_id][column]:
                found.append(f"{item_id}.{column}: {actual[item_id][column]!r} != {expected[item_id][column]!r}")
    return found[:20]
