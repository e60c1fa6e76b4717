"""The simulator's record store: deterministic base records plus an overlay of changed ones.

Base items and bibs come from `SeedCatalogue` on demand; any record edited through the test
helpers, written by `PUT /items/{id}` or deleted is materialised into the overlay and served from
there. Date filters use sorted indexes of the base dates, built lazily on first use (a couple of
seconds for a million items), merged with the overlay. All public methods are thread-safe.
"""

import json
import re
import threading
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from heapq import merge
from types import EllipsisType
from typing import Any, NamedTuple

from .seed import BIB_CORE_FIELDS, BIB_ID_BASE, ITEM_CORE_FIELDS, ITEM_ID_BASE, SeedCatalogue, iso_datetime

ITEM_FIELD_ORDER = (
    "id",
    "updatedDate",
    "createdDate",
    "deletedDate",
    "deleted",
    "suppressed",
    "bibIds",
    "location",
    "status",
    "volumes",
    "barcode",
    "callNumber",
    "itemType",
    "fixedFields",
    "varFields",
)
ITEM_DEFAULT_FIELDS = frozenset(ITEM_FIELD_ORDER) - {"fixedFields", "varFields"}
BIB_FIELD_ORDER = (
    "id",
    "updatedDate",
    "createdDate",
    "deletedDate",
    "deleted",
    "suppressed",
    "available",
    "lang",
    "title",
    "author",
    "materialType",
    "bibLevel",
    "publishYear",
    "catalogDate",
    "country",
    "fixedFields",
    "varFields",
    "marc",
)
BIB_DEFAULT_FIELDS = frozenset(BIB_FIELD_ORDER) - {"fixedFields", "varFields", "marc"}
_KEY_PREFIX = {name: f'"{name}":' for name in (*ITEM_FIELD_ORDER, *BIB_FIELD_ORDER)}
_INVENTORY_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?$")
_PUT_KEYS = frozenset(
    {"fixedFields", "varFields", "inventoryDate", "barcodes", "callNumbers", "location", "status", "itemType"}
)

DateBounds = tuple[int | None, int | None]


class StoreError(Exception):
    """A request the store refuses, with the Sierra error it maps to."""

    def __init__(self, http_status: int, code: int, name: str, description: str = "") -> None:
        super().__init__(f"{http_status} {code} {name}: {description}")
        self.http_status = http_status
        self.code = code
        self.name = name
        self.description = description


def not_found(description: str = "") -> StoreError:
    """Sierra's 404 / 107."""
    return StoreError(404, 107, "Record not found", description)


def bad_request(description: str, code: int = 105) -> StoreError:
    """A 400 with one of Sierra's bad-request codes."""
    return StoreError(400, code, "Bad JSON/XML Syntax" if code == 113 else "Invalid request", description)


class Attrs(NamedTuple):
    """The attributes filters look at."""

    created: int | None
    updated: int | None
    deleted: bool
    suppressed: bool
    deleted_day: int | None


@dataclass
class RecordQuery:
    """A parsed `GET /items` or `GET /bibs` query (dates as epoch seconds, deletedDate as day ordinals)."""

    ids: list[int] | None = None
    id_lo: int | None = None
    id_hi: int | None = None
    updated: DateBounds | None = None
    created: DateBounds | None = None
    deleted_days: DateBounds | None = None
    deleted: bool | None = None
    suppressed: bool | None = None
    bib_ids: list[int] | None = None
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True)
class PutLogEntry:
    """One `PUT /items/{id}` received, whatever its outcome."""

    item_id: int
    body: Any
    status: int
    received_at: datetime


@dataclass
class _Overlay:
    record: dict[str, Any]
    fragments: dict[str, str]
    attrs: Attrs


@dataclass
class _DateIndex:
    timestamps: list[int]
    ids: list[int]
    cache: dict[tuple[int, int], list[int]] = field(default_factory=dict)


def _loads(text: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text)
    return value


def _copy(record: Mapping[str, Any]) -> dict[str, Any]:
    return _loads(json.dumps(record))


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _parse_ts(value: object) -> int | None:
    if not isinstance(value, str) or not value:
        return None
    return int(datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def _record_attrs(record: Mapping[str, Any]) -> Attrs:
    deleted_date = record.get("deletedDate")
    return Attrs(
        created=_parse_ts(record.get("createdDate")),
        updated=_parse_ts(record.get("updatedDate")),
        deleted=bool(record.get("deleted")),
        suppressed=bool(record.get("suppressed")),
        deleted_day=date.fromisoformat(deleted_date).toordinal() if deleted_date else None,
    )


def _in(value: int | None, bounds: DateBounds) -> bool:
    if value is None:
        return False
    low, high = bounds
    return (low is None or value >= low) and (high is None or value <= high)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _call_number_from(var_fields: list[dict[str, Any]]) -> str | None:
    for var_field in var_fields:
        if var_field.get("fieldTag") == "c":
            subfields = var_field.get("subfields")
            if subfields is not None:
                return "".join(f"|{sub.get('tag', '')}{sub.get('content', '')}" for sub in subfields)
            return str(var_field.get("content", ""))
    return None


def _barcode_from(var_fields: list[dict[str, Any]]) -> str | None:
    for var_field in var_fields:
        if var_field.get("fieldTag") == "b":
            return str(var_field.get("content", ""))
    return None


class SierraStore:
    """Items and bibs of one simulated Sierra, with test helpers and a log of PUTs."""

    def __init__(
        self,
        *,
        item_count: int = 5000,
        seed: int = 1,
        intl_use_label: str = "IUSE3",
        inventory_date_field: str = "69",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.catalogue = SeedCatalogue(item_count=item_count, seed=seed, intl_use_label=intl_use_label)
        self.inventory_date_field = inventory_date_field
        self.clock: Callable[[], datetime] = clock or _utcnow
        self.put_log: list[PutLogEntry] = []
        self.refused_puts = 0
        self._lock = threading.RLock()
        self._items: dict[int, _Overlay] = {}
        self._bibs: dict[int, _Overlay] = {}
        self._item_overlay_ids: list[int] = []
        self._bib_overlay_ids: list[int] = []
        self._item_indexes: dict[str, _DateIndex] = {}
        self._bib_indexes: dict[str, _DateIndex] = {}
        self._base_deleted_items: list[int] | None = None

    # ----- Sizes and ids -------------------------------------------------------------------------

    @property
    def item_count(self) -> int:
        """Number of item ids (deleted ones included)."""
        return self.catalogue.item_count

    @property
    def bib_count(self) -> int:
        """Number of bib ids."""
        return self.catalogue.bib_count

    @property
    def first_item_id(self) -> int:
        """The lowest item id."""
        return ITEM_ID_BASE

    @property
    def last_item_id(self) -> int:
        """The highest item id."""
        return ITEM_ID_BASE + self.catalogue.item_count - 1

    @property
    def first_bib_id(self) -> int:
        """The lowest bib id."""
        return BIB_ID_BASE

    def bib_id_for_item(self, item_id: int) -> int | None:
        """The item's current `bibIds[0]`."""
        raw = self.get_item_raw(item_id)
        if raw is None or not raw.get("bibIds"):
            return None
        return int(raw["bibIds"][0])

    def item_ids_for_bib(self, bib_id: int) -> list[int]:
        """Ids of the items attached to the bib (base attachment, plus overlay records pointing at it)."""
        with self._lock:
            ids = set(self.catalogue.item_ids_for_bib(bib_id)) if self.catalogue.has_bib(bib_id) else set()
            for item_id, overlay in self._items.items():
                bib_ids = overlay.record.get("bibIds") or []
                if str(bib_id) in bib_ids:
                    ids.add(item_id)
                else:
                    ids.discard(item_id)
            return sorted(ids)

    def warm_indexes(self) -> None:
        """Build the date indexes now instead of on the first date query."""
        self._item_index("updated")
        self._item_index("created")
        self._bib_index("updated")

    # ----- Raw access and test helpers -----------------------------------------------------------

    def get_item_raw(self, item_id: int) -> dict[str, Any] | None:
        """The item with every field as a dict (a copy), or None when the id does not exist."""
        with self._lock:
            fragments = self._item_fragments(item_id)
            return None if fragments is None else _loads(join_fragments(fragments, ITEM_FIELD_ORDER))

    def get_bib_raw(self, bib_id: int) -> dict[str, Any] | None:
        """The bib with every field as a dict (a copy), or None when the id does not exist."""
        with self._lock:
            overlay = self._bibs.get(bib_id)
            if overlay is not None:
                return _copy(overlay.record)
            if not self.catalogue.has_bib(bib_id):
                return None
            return _loads(join_fragments(self.catalogue.bib_fragments(bib_id), BIB_FIELD_ORDER))

    def edit_item(self, item_id: int, *, updated_at: datetime | None = None, **changes: Any) -> dict[str, Any]:
        """Change an item as staff would in Sierra (top-level JSON keys; `barcode`/`callNumber` also
        update varFields b/c) and bump its updatedDate. Returns the new record."""
        with self._lock:
            record = self._materialise_item(item_id)
            if record.get("deleted"):
                raise not_found(f"item {item_id} is deleted")
            for key, value in changes.items():
                if key == "barcode":
                    _set_var_content(record, "b", None if value is None else str(value))
                elif key == "callNumber":
                    _set_call_number(record, value)
                else:
                    record[key] = value
            self._derive_item_fields(record)
            self._stamp_updated(record, updated_at)
            self._save_item(item_id, record)
            return _copy(record)

    def delete_item(self, item_id: int, *, deleted_on: date | None = None) -> None:
        """Delete an item: from now on it is a stub with `deletedDate` and `deleted: true`."""
        with self._lock:
            self._materialise_item(item_id)
            self._save_item(item_id, self._deleted_stub(item_id, deleted_on))

    def edit_bib(
        self,
        bib_id: int,
        *,
        updated_at: datetime | None = None,
        classification: str | list[str] | EllipsisType | None = ...,
        **changes: Any,
    ) -> dict[str, Any]:
        """Change a bib (top-level JSON keys, e.g. `varFields`); `classification` replaces its 097 fields
        (None removes them). Bumps the bib's updatedDate only: its items' updatedDate does not change."""
        with self._lock:
            record = self._materialise_bib(bib_id)
            record.update(changes)
            if classification is not ...:
                classes = [classification] if isinstance(classification, str) else list(classification or [])
                kept = [var for var in record.get("varFields", []) if var.get("marcTag") != "097"]
                kept.extend(
                    {
                        "fieldTag": "c",
                        "marcTag": "097",
                        "ind1": " ",
                        "ind2": " ",
                        "subfields": [{"tag": "a", "content": value}],
                    }
                    for value in classes
                )
                record["varFields"] = kept
            self._stamp_updated(record, updated_at)
            self._save_bib(bib_id, record)
            return _copy(record)

    def delete_bib(self, bib_id: int, *, deleted_on: date | None = None) -> None:
        """Delete a bib (its items keep pointing at it, as after a careless deletion in Sierra)."""
        with self._lock:
            self._materialise_bib(bib_id)
            self._save_bib(bib_id, self._deleted_stub(bib_id, deleted_on))

    def _stamp_updated(self, record: dict[str, Any], updated_at: datetime | None) -> None:
        record["updatedDate"] = iso_datetime(int((updated_at or self.clock()).timestamp()))

    def _deleted_stub(self, record_id: int, deleted_on: date | None) -> dict[str, Any]:
        """What Sierra keeps of a deleted item or bib: its id and the day (today when not given)."""
        day = deleted_on or self.clock().astimezone(UTC).date()
        return {"id": str(record_id), "deletedDate": day.isoformat(), "deleted": True}

    def reset(self) -> None:
        """Drop every change, deletion and logged PUT: back to the seeded state."""
        with self._lock:
            self._items.clear()
            self._bibs.clear()
            self._item_overlay_ids.clear()
            self._bib_overlay_ids.clear()
            self.put_log.clear()
            self.refused_puts = 0

    def put_counts(self) -> dict[int, int]:
        """Successful PUTs per item id (duplicates show up as counts above 1)."""
        with self._lock:
            counts: dict[int, int] = {}
            for entry in self.put_log:
                if entry.status == 204:
                    counts[entry.item_id] = counts.get(entry.item_id, 0) + 1
            return counts

    @property
    def overlay_item_count(self) -> int:
        """How many items differ from their seeded version."""
        return len(self._items)

    @property
    def overlay_bib_count(self) -> int:
        """How many bibs differ from their seeded version."""
        return len(self._bibs)

    # ----- API operations ------------------------------------------------------------------------

    def render_items(self, query: RecordQuery, fields: Iterable[str]) -> tuple[int, bytes]:
        """`GET /items`: (number of entries, response body); raises 404/107 when nothing matches."""
        order = [name for name in ITEM_FIELD_ORDER if name in set(fields)]
        with self._lock:
            ids = self._select(query, self._item_candidates(query), self._item_attrs, self._item_bib_matches(query))
            if not ids:
                raise not_found()
            entries = ",".join(self._items_json(ids, order))
        body = f'{{"total":{len(ids)},"start":{query.offset},"entries":[{entries}]}}'
        return len(ids), body.encode()

    def render_item(self, item_id: int, fields: Iterable[str]) -> bytes:
        """`GET /items/{id}`."""
        order = [name for name in ITEM_FIELD_ORDER if name in set(fields)]
        with self._lock:
            fragments = self._item_fragments(item_id)
            if fragments is None:
                raise not_found(f"item {item_id}")
            return join_fragments(fragments, order).encode()

    def render_bibs(self, query: RecordQuery, fields: Iterable[str]) -> tuple[int, bytes]:
        """`GET /bibs`: (number of entries, response body); raises 404/107 when nothing matches."""
        order = [name for name in BIB_FIELD_ORDER if name in set(fields)]
        with self._lock:
            ids = self._select(query, self._bib_candidates(query), self._bib_attrs, None)
            if not ids:
                raise not_found()
            wanted = set(order)
            if BIB_CORE_FIELDS <= wanted <= BIB_CORE_FIELDS | {"varFields"}:
                # Fast path for the field set the sync asks for.
                bib_json, bibs, var = self.catalogue.bib_json, self._bibs, "varFields" in wanted
                parts = [
                    join_fragments(bibs[bib_id].fragments, order)
                    if bib_id in bibs
                    else bib_json(bib_id, var_fields=var)
                    for bib_id in ids
                ]
            else:
                parts = [self._bib_json(bib_id, order) for bib_id in ids]
            entries = ",".join(parts)
        body = f'{{"total":{len(ids)},"start":{query.offset},"entries":[{entries}]}}'
        return len(ids), body.encode()

    def render_bib(self, bib_id: int, fields: Iterable[str]) -> bytes:
        """`GET /bibs/{id}`."""
        wanted = set(fields)
        order = [name for name in BIB_FIELD_ORDER if name in wanted]
        with self._lock:
            if bib_id not in self._bibs and not self.catalogue.has_bib(bib_id):
                raise not_found(f"bib {bib_id}")
            return self._bib_json(bib_id, order).encode()

    def find_items_by_barcode(self, barcode: str) -> list[int]:
        """Ids of live items whose barcode equals `barcode`, ascending."""
        with self._lock:
            found = {
                item_id
                for item_id in self.catalogue.item_ids_for_barcode(barcode)
                if item_id not in self._items and not self.catalogue.item_core(item_id)[2]
            }
            found.update(
                item_id
                for item_id, overlay in self._items.items()
                if not overlay.attrs.deleted and overlay.record.get("barcode") == barcode
            )
            return sorted(found)

    def put_item(self, item_id: int, raw_body: bytes, *, refused_keys: Iterable[str] = ()) -> None:
        """`PUT /items/{id}`: validate, apply the changed fields, bump updatedDate; logs every attempt.

        A body holding any of `refused_keys` is refused with 400 (a fault: Sierra refusing that part)."""
        status = 204
        body: Any = None
        try:
            try:
                body = json.loads(raw_body)
            except (ValueError, UnicodeDecodeError) as exc:
                body = raw_body.decode("utf-8", "replace")
                raise bad_request(f"Invalid JSON: {exc}", code=113) from exc
            refused = sorted(set(body) & set(refused_keys)) if isinstance(body, dict) else []
            if refused:
                self.refused_puts += 1
                raise bad_request(f"{refused[0]} cannot be changed on item {item_id}")
            with self._lock:
                self._apply_put(item_id, body)
        except StoreError as exc:
            status = exc.http_status
            raise
        finally:
            with self._lock:
                self.put_log.append(PutLogEntry(item_id, body, status, self.clock()))

    # ----- PUT -----------------------------------------------------------------------------------

    def _apply_put(self, item_id: int, body: Any) -> None:
        if not isinstance(body, dict):
            raise bad_request("Invalid JSON: the body must be a JSON object", code=113)
        unknown = sorted(set(body) - _PUT_KEYS)
        if unknown:
            raise bad_request(f"Unrecognized field(s): {', '.join(unknown)}")
        fragments = self._item_fragments(item_id)
        if fragments is None or fragments.get("deleted") == "true":
            raise not_found(f"item {item_id}")
        fixed = _validate_fixed_fields(body.get("fixedFields"))
        var_fields = _validate_var_fields(body.get("varFields"))
        if "inventoryDate" in body:
            value = body["inventoryDate"]
            if not isinstance(value, str) or not _INVENTORY_DATE.match(value):
                raise bad_request("inventoryDate must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ")
            # GET never returns inventoryDate; the fixed field that mirrors it is a local convention.
            fixed = {**(fixed or {}), self.inventory_date_field: {"label": "INVDA", "value": value}}
        record = self._materialise_item(item_id)
        if fixed:
            merged = {**record.get("fixedFields", {}), **fixed}
            record["fixedFields"] = {key: merged[key] for key in sorted(merged, key=int)}
        if var_fields is not None:
            record["varFields"] = replace_field_groups(record.get("varFields", []), var_fields)
        self._apply_simple_put_fields(record, body)
        self._derive_item_fields(record)
        self._stamp_updated(record, None)
        self._save_item(item_id, record)

    @staticmethod
    def _apply_simple_put_fields(record: dict[str, Any], body: Mapping[str, Any]) -> None:
        for key, var_tag in (("barcodes", "b"), ("callNumbers", "c")):
            if key in body:
                values = body[key]
                if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
                    raise bad_request(f"{key} must be a list of strings")
                kept = [var for var in record.get("varFields", []) if var.get("fieldTag") != var_tag]
                record["varFields"] = kept + [{"fieldTag": var_tag, "content": value} for value in values]
        if "location" in body:
            if not isinstance(body["location"], str):
                raise bad_request("location must be a location code")
            record["location"] = {"code": body["location"], "name": body["location"]}
        if "status" in body:
            if not isinstance(body["status"], str):
                raise bad_request("status must be a status code")
            record["status"] = {"code": body["status"], "display": body["status"]}
        if "itemType" in body:
            if not isinstance(body["itemType"], int) or isinstance(body["itemType"], bool):
                raise bad_request("itemType must be an integer")
            record.setdefault("fixedFields", {})["61"] = {"label": "I TYPE", "value": str(body["itemType"])}

    @staticmethod
    def _derive_item_fields(record: dict[str, Any]) -> None:
        """Top-level barcode and callNumber follow varFields b and c, as in Sierra."""
        var_fields = record.get("varFields", [])
        barcode = _barcode_from(var_fields)
        call_number = _call_number_from(var_fields)
        for key, value in (("barcode", barcode), ("callNumber", call_number)):
            if value is None:
                record.pop(key, None)
            else:
                record[key] = value

    # ----- Overlay -------------------------------------------------------------------------------

    def _materialise_item(self, item_id: int) -> dict[str, Any]:
        overlay = self._items.get(item_id)
        if overlay is not None:
            return _copy(overlay.record)
        if not self.catalogue.has_item(item_id):
            raise not_found(f"item {item_id}")
        return _loads(join_fragments(self.catalogue.item_fragments(item_id), ITEM_FIELD_ORDER))

    def _save_item(self, item_id: int, record: dict[str, Any]) -> None:
        fragments = {name: _dumps(record[name]) for name in ITEM_FIELD_ORDER if name in record}
        if item_id not in self._items:
            insort(self._item_overlay_ids, item_id)
        self._items[item_id] = _Overlay(record, fragments, _record_attrs(record))

    def _materialise_bib(self, bib_id: int) -> dict[str, Any]:
        overlay = self._bibs.get(bib_id)
        if overlay is not None:
            return _copy(overlay.record)
        if not self.catalogue.has_bib(bib_id):
            raise not_found(f"bib {bib_id}")
        return _loads(join_fragments(self.catalogue.bib_fragments(bib_id), BIB_FIELD_ORDER))

    def _save_bib(self, bib_id: int, record: dict[str, Any]) -> None:
        if bib_id not in self._bibs:
            insort(self._bib_overlay_ids, bib_id)
        fragments = {name: _dumps(record[name]) for name in BIB_FIELD_ORDER if name in record}
        self._bibs[bib_id] = _Overlay(record, fragments, _record_attrs(record))

    # ----- Items: fragments, attributes, candidates ----------------------------------------------

    def _item_fragments(self, item_id: int) -> dict[str, str] | None:
        overlay = self._items.get(item_id)
        if overlay is not None:
            return overlay.fragments
        if not self.catalogue.has_item(item_id):
            return None
        return self.catalogue.item_fragments(item_id)

    def _items_json(self, ids: list[int], order: list[str]) -> list[str]:
        wanted = set(order)
        fixed, var, volumes = "fixedFields" in wanted, "varFields" in wanted, "volumes" in wanted
        overlay = self._items
        catalogue = self.catalogue
        if ITEM_CORE_FIELDS == wanted and not any(item_id in overlay for item_id in ids):
            # The sync's page: every core field, nothing else, no edited record on it.
            return catalogue.items_json_core(ids)
        if ITEM_CORE_FIELDS <= wanted:
            # Every core field asked for, so a base item renders as one f-string.
            item_json = catalogue.item_json
            return [
                join_fragments(overlay[item_id].fragments, order)
                if item_id in overlay
                else item_json(item_id, volumes=volumes, fixed_fields=fixed, var_fields=var)
                for item_id in ids
            ]
        item_fragments = catalogue.item_fragments
        return [
            join_fragments(
                overlay[item_id].fragments
                if item_id in overlay
                else item_fragments(item_id, fixed_fields=fixed, var_fields=var),
                order,
            )
            for item_id in ids
        ]

    def _item_attrs(self, item_id: int) -> Attrs:
        overlay = self._items.get(item_id)
        if overlay is not None:
            return overlay.attrs
        created, updated, deleted, suppressed, deleted_day, _ = self.catalogue.item_core(item_id)
        if deleted:
            return Attrs(None, None, True, False, deleted_day)
        return Attrs(created, updated, False, suppressed, None)

    def _item_bib_matches(self, query: RecordQuery) -> Callable[[int], bool] | None:
        if query.bib_ids is None:
            return None
        wanted = {str(bib_id) for bib_id in query.bib_ids}

        def matches(item_id: int) -> bool:
            overlay = self._items.get(item_id)
            if overlay is not None:
                return bool(wanted.intersection(overlay.record.get("bibIds") or []))
            return str(self.catalogue.bib_id_for_item(item_id)) in wanted

        return matches

    def _item_candidates(self, query: RecordQuery) -> Iterator[int]:
        first, last = ITEM_ID_BASE, ITEM_ID_BASE + self.catalogue.item_count - 1
        if query.ids is not None:
            return iter(sorted({item_id for item_id in query.ids if first <= item_id <= last}))
        low = max(first, query.id_lo if query.id_lo is not None else first)
        if query.updated is not None:
            return self._indexed(self._item_index("updated"), query.updated, low, self._item_overlay_ids)
        if query.created is not None:
            return self._indexed(self._item_index("created"), query.created, low, self._item_overlay_ids)
        if query.deleted_days is not None or query.deleted is True:
            base = self._deleted_base_items()
            start = bisect_left(base, low)
            return _merge_unique(iter(base[start:]), self._overlay_from(self._item_overlay_ids, low))
        if query.bib_ids is not None:
            base_ids = sorted(
                {
                    item_id
                    for bib_id in query.bib_ids
                    if self.catalogue.has_bib(bib_id)
                    for item_id in self.catalogue.item_ids_for_bib(bib_id)
                }
            )
            return _merge_unique(iter(base_ids), self._overlay_from(self._item_overlay_ids, low))
        high = min(last, query.id_hi if query.id_hi is not None else last)
        return iter(range(low, high + 1))

    def _item_index(self, kind: str) -> _DateIndex:
        index = self._item_indexes.get(kind)
        if index is None:
            with self._lock:
                index = self._item_indexes.get(kind)
                if index is None:
                    index = self._build_item_index(kind)
                    self._item_indexes[kind] = index
        return index

    def _build_item_index(self, kind: str) -> _DateIndex:
        core = self.catalogue.item_core
        use_created = kind == "created"
        pairs: list[tuple[int, int]] = []
        deleted_ids = []
        for item_id in range(ITEM_ID_BASE, ITEM_ID_BASE + self.catalogue.item_count):
            created, updated, deleted, _, _, _ = core(item_id)
            if deleted:
                deleted_ids.append(item_id)
            else:
                pairs.append((created if use_created else updated, item_id))
        pairs.sort()
        self._base_deleted_items = deleted_ids
        return _DateIndex([ts for ts, _ in pairs], [item_id for _, item_id in pairs])

    def _deleted_base_items(self) -> list[int]:
        if self._base_deleted_items is None:
            self._item_index("updated")
        assert self._base_deleted_items is not None
        return self._base_deleted_items

    # ----- Bibs ----------------------------------------------------------------------------------

    def _bib_json(self, bib_id: int, order: list[str]) -> str:
        overlay = self._bibs.get(bib_id)
        fragments = overlay.fragments if overlay is not None else self.catalogue.bib_fragments(bib_id)
        if "marc" in order and fragments.get("deleted") != "true":
            record = overlay.record if overlay is not None else _loads(join_fragments(fragments, BIB_FIELD_ORDER))
            fragments = {**fragments, "marc": _dumps(_marc_json(record))}
        return join_fragments(fragments, order)

    def _bib_attrs(self, bib_id: int) -> Attrs:
        overlay = self._bibs.get(bib_id)
        if overlay is not None:
            return overlay.attrs
        created, updated, suppressed = self.catalogue.bib_core(bib_id)
        return Attrs(created, updated, False, suppressed, None)

    def _bib_candidates(self, query: RecordQuery) -> Iterator[int]:
        first, last = BIB_ID_BASE, BIB_ID_BASE + self.catalogue.bib_count - 1
        if query.ids is not None:
            return iter(sorted({bib_id for bib_id in query.ids if first <= bib_id <= last}))
        low = max(first, query.id_lo if query.id_lo is not None else first)
        if query.updated is not None:
            return self._indexed(self._bib_index("updated"), query.updated, low, self._bib_overlay_ids)
        if query.created is not None:
            return self._indexed(self._bib_index("created"), query.created, low, self._bib_overlay_ids)
        if query.deleted_days is not None or query.deleted is True:
            return self._overlay_from(self._bib_overlay_ids, low)
        high = min(last, query.id_hi if query.id_hi is not None else last)
        return iter(range(low, high + 1))

    def _bib_index(self, kind: str) -> _DateIndex:
        index = self._bib_indexes.get(kind)
        if index is None:
            with self._lock:
                index = self._bib_indexes.get(kind)
                if index is None:
                    position = 0 if kind == "created" else 1
                    core = self.catalogue.bib_core
                    pairs = sorted(
                        (core(bib_id)[position], bib_id)
                        for bib_id in range(BIB_ID_BASE, BIB_ID_BASE + self.catalogue.bib_count)
                    )
                    index = _DateIndex([ts for ts, _ in pairs], [bib_id for _, bib_id in pairs])
                    self._bib_indexes[kind] = index
        return index

    # ----- Selection -----------------------------------------------------------------------------

    @staticmethod
    def _overlay_from(overlay_ids: list[int], low: int) -> Iterator[int]:
        return iter(overlay_ids[bisect_left(overlay_ids, low) :])

    def _indexed(self, index: _DateIndex, bounds: DateBounds, low: int, overlay_ids: list[int]) -> Iterator[int]:
        start = 0 if bounds[0] is None else bisect_left(index.timestamps, bounds[0])
        end = len(index.timestamps) if bounds[1] is None else bisect_right(index.timestamps, bounds[1])
        key = (start, end)
        ids = index.cache.get(key)
        if ids is None:
            if len(index.cache) > 64:
                index.cache.clear()
            ids = sorted(index.ids[start:end])
            index.cache[key] = ids
        base = iter(ids[bisect_left(ids, low) :])
        return _merge_unique(base, self._overlay_from(overlay_ids, low))

    @staticmethod
    def _select(
        query: RecordQuery,
        candidates: Iterator[int],
        attrs_of: Callable[[int], Attrs],
        extra: Callable[[int], bool] | None,
    ) -> list[int]:
        """Candidates (ascending ids) that pass every filter, after `offset`, at most `limit`."""
        needs_attrs = (
            query.updated is not None
            or query.created is not None
            or query.deleted_days is not None
            or query.deleted is not None
            or query.suppressed is not None
        )
        high = query.id_hi
        low = query.id_lo
        skip = query.offset
        selected: list[int] = []
        for record_id in candidates:
            if high is not None and record_id > high:
                break
            if low is not None and record_id < low:
                continue
            if extra is not None and not extra(record_id):
                continue
            if needs_attrs and not _matches(query, attrs_of(record_id)):
                continue
            if skip:
                skip -= 1
                continue
            selected.append(record_id)
            if len(selected) >= query.limit:
                break
        return selected


def _matches(query: RecordQuery, attrs: Attrs) -> bool:
    if query.deleted is not None and attrs.deleted != query.deleted:
        return False
    if query.suppressed is not None and (attrs.deleted or attrs.suppressed != query.suppressed):
        return False
    if query.updated is not None and not _in(attrs.updated, query.updated):
        return False
    if query.created is not None and not _in(attrs.created, query.created):
        return False
    return query.deleted_days is None or _in(attrs.deleted_day, query.deleted_days)


def _merge_unique(first: Iterator[int], second: Iterator[int]) -> Iterator[int]:
    previous = None
    for value in merge(first, second):
        if value != previous:
            yield value
            previous = value


def join_fragments(fragments: Mapping[str, str], order: Iterable[str]) -> str:
    """One JSON object from pre-serialised field values, keys in `order` (absent ones skipped)."""
    return "{" + ",".join([_KEY_PREFIX[name] + fragments[name] for name in order if name in fragments]) + "}"


def _set_var_content(record: dict[str, Any], field_tag: str, content: str | None) -> None:
    kept = [var for var in record.get("varFields", []) if var.get("fieldTag") != field_tag]
    if content is not None:
        kept.insert(0, {"fieldTag": field_tag, "content": content})
    record["varFields"] = kept


def _set_call_number(record: dict[str, Any], value: Any) -> None:
    """Set varField c/099 |a (a leading `|a` is accepted and stripped); None removes it."""
    kept = [var for var in record.get("varFields", []) if var.get("fieldTag") != "c"]
    if value is not None:
        content = str(value).removeprefix("|a")
        kept.append(
            {
                "fieldTag": "c",
                "marcTag": "099",
                "ind1": " ",
                "ind2": " ",
                "subfields": [{"tag": "a", "content": content}],
            }
        )
    record["varFields"] = kept


def _validate_fixed_fields(value: Any) -> dict[str, dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("fixedFields must be an object keyed by field number")
    result: dict[str, dict[str, Any]] = {}
    for key, entry in value.items():
        if not (isinstance(key, str) and key.isdigit() and len(key) <= 3):
            raise bad_request(f"fixedFields key {key!r} is not a field number")
        if not isinstance(entry, dict) or "label" not in entry or "value" not in entry:
            raise bad_request(f"fixedFields[{key}] needs both label and value")
        if not isinstance(entry["label"], str):
            raise bad_request(f"fixedFields[{key}].label must be a string")
        if isinstance(entry["value"], (dict, list)):
            raise bad_request(f"fixedFields[{key}].value must be a scalar")
        result[key] = {"label": entry["label"], "value": entry["value"]}
    return result


def _validate_var_fields(value: Any) -> list[dict[str, Any]] | None:  # noqa: C901 - one check per rule
    if value is None:
        return None
    if not isinstance(value, list):
        raise bad_request("varFields must be a list")
    result = []
    for position, entry in enumerate(value):
        where = f"varFields[{position}]"
        if not isinstance(entry, dict):
            raise bad_request(f"{where} must be an object")
        tag = entry.get("fieldTag")
        if not isinstance(tag, str) or len(tag) != 1:
            raise bad_request(f"{where}.fieldTag must be one character")
        for key in ("marcTag", "ind1", "ind2"):
            if key in entry and not isinstance(entry[key], str):
                raise bad_request(f"{where}.{key} must be a string")
        if "marcTag" in entry and len(entry["marcTag"]) != 3:
            raise bad_request(f"{where}.marcTag must be three characters")
        has_content = isinstance(entry.get("content"), str)
        subfields = entry.get("subfields")
        if has_content == (subfields is not None):
            raise bad_request(f"{where} needs either content or subfields")
        if subfields is not None:
            if subfields == []:
                raise bad_request(f"{where}.subfields is empty: a field needs at least one subfield")
            if not isinstance(subfields, list) or not all(
                isinstance(sub, dict) and isinstance(sub.get("tag"), str) and isinstance(sub.get("content"), str)
                for sub in subfields
            ):
                raise bad_request(f"{where}.subfields must be a list of {{tag, content}} strings")
        clean = {key: entry[key] for key in ("fieldTag", "marcTag", "ind1", "ind2", "content") if key in entry}
        if subfields is not None:
            clean["subfields"] = [{"tag": sub["tag"], "content": sub["content"]} for sub in subfields]
        result.append(clean)
    return result


def replace_field_groups(current: list[dict[str, Any]], sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sierra's PUT of varFields: for each fieldTag sent, the item's fields with that tag are replaced by the
    ones sent (where the first of them stood); fields with other tags stay as they were."""
    tags = {field["fieldTag"] for field in sent}
    result: list[dict[str, Any]] = []
    placed: set[str] = set()
    for existing in current:
        tag = str(existing.get("fieldTag"))
        if tag not in tags:
            result.append(existing)
            continue
        if tag not in placed:
            placed.add(tag)
            result.extend(new for new in sent if new["fieldTag"] == tag)
    result.extend(new for new in sent if new["fieldTag"] not in placed)
    return result


def _marc_json(record: Mapping[str, Any]) -> dict[str, Any]:
    """A MARC-in-JSON view of the bib's MARC-tagged varFields."""
    fields: list[dict[str, Any]] = []
    leader = ""
    for var in record.get("varFields", []):
        if var.get("fieldTag") == "_":
            leader = var.get("content", "")
            continue
        tag = var.get("marcTag")
        if not tag:
            continue
        if "subfields" in var:
            value = {
                "subfields": [{sub["tag"]: sub["content"]} for sub in var["subfields"]],
                "ind1": var.get("ind1", " "),
                "ind2": var.get("ind2", " "),
            }
            fields.append({tag: value})
        else:
            fields.append({tag: var.get("content", "")})
    return {"leader": leader, "fields": fields}
