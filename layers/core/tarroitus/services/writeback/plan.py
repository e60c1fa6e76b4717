"""What to PUT to Sierra for one labelled item: only the parts that change, or nothing when it is already done.

Pure: takes the item as Sierra's JSON (`fixedFields`, `varFields`), the classification to write, the
options, the time of the write and the time the item was queued. A real Sierra replaces, for each `fieldTag`
present in a PUT body, all of the item's varFields with that tag and keeps the others, and refuses a varField
with an empty `subfields` list. So a body carries only the call-number group and never echoes other fields.

The plan has up to three parts, each a piece of the PUT body, so that a part Sierra refuses (HTTP 400) can be
told apart from the parts it accepts (:data:`WRITE_PARTS` is the order they are tried in alone):

- ``call_number``: ``{"varFields": [<one c field>]}``. The classification goes into the item's first `c` field
  with text (whatever its marcTag: 090, 091, 092 or 099; a field without one carries plain content), the
  number part replaced and the genre or collection text after it kept (:mod:`tarroitus.services.writeback.call_number`);
  a field without subfield ``a`` gets one in front. An item without a `c` field gets a new one with the
  configured marcTag. Sending the one field replaces the whole `c` group, so the item ends with exactly one
  call number; an item with several `c` fields is written even when the first one is already right.
- ``inventory_date`` (when enabled): ``{"inventoryDate": ...}`` in UTC without fractions. GET does not return
  `inventoryDate`; the fixed field that mirrors it (69 INVDA by default, a setting) shows it. It counts as done
  when that field is not older than the moment the item was queued, to the second (to the day when Sierra
  gives only a date): then a write that reached Sierra before its outcome was recorded is not repeated, and a
  reprint, queued later, stamps a new date.
- ``internal_use`` (when the policy is to set it): ``{"fixedFields": {<number>: {"label", "value"}}}`` with the
  label Sierra returned for that field (``""`` when absent); done when the field already holds the value.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Self

from tarroitus.services.writeback.call_number import replace_in_marked_text, replace_number_part
from tarroitus.settings import Settings

CALL_NUMBER_FIELD_TAG = "c"
CALL_NUMBER_SUBFIELD = "a"
SIERRA_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
SUBFIELD_MARKER = "|"

PART_CALL_NUMBER = "call_number"
PART_INVENTORY_DATE = "inventory_date"
PART_INTERNAL_USE = "internal_use"
#: Every part a writeback may PUT, in the order they are written one by one after Sierra refuses a body.
WRITE_PARTS = (PART_CALL_NUMBER, PART_INVENTORY_DATE, PART_INTERNAL_USE)


@dataclass(frozen=True)
class WritebackOptions:
    """Which parts a writeback sets besides the call number, and the library's field conventions."""

    call_number_marc_tag: str = "099"
    set_inventory_date: bool = True
    inventory_date_field_number: int = 69
    set_internal_use: bool = True
    internal_use_value: str = "1"
    internal_use_field_number: int = 93

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """The options the SIERRA_UPDATE_* settings select."""
        return cls(
            call_number_marc_tag=settings.sierra_update_call_number_marc_tag,
            set_inventory_date=settings.sierra_update_set_invda,
            inventory_date_field_number=settings.sierra_update_invda_field_number,
            set_internal_use=settings.sierra_update_set_iuse3,
            internal_use_value=settings.sierra_update_iuse3_value,
            internal_use_field_number=settings.sierra_update_iuse3_field_number,
        )


@dataclass(frozen=True)
class WritebackPlan:
    """The parts of an item's PUT body still to write (in WRITE_PARTS order), the parts Sierra already holds,
    and the item's call number before and after."""

    parts: Mapping[str, Mapping[str, Any]]
    in_place: tuple[str, ...]
    current_call_number: str | None
    resulting_call_number: str

    @property
    def done(self) -> bool:
        """True when Sierra already holds everything: nothing to PUT."""
        return not self.parts

    @property
    def part_names(self) -> tuple[str, ...]:
        """The parts to write, in WRITE_PARTS order."""
        return tuple(self.parts)

    def body(self, names: Iterable[str] | None = None) -> dict[str, Any]:
        """The PUT body of the given parts (all of them by default)."""
        wanted = self.part_names if names is None else tuple(names)
        body: dict[str, Any] = {}
        for name in wanted:
            body.update(self.parts[name])
        return body


def plan_writeback(
    item: Mapping[str, Any],
    *,
    classification: str,
    options: WritebackOptions,
    now: datetime,
    queued_at: datetime,
) -> WritebackPlan:
    """The parts of the item that must change for it to carry `classification`."""
    if not classification.strip():
        raise ValueError("the classification to write is empty")
    parts: dict[str, Mapping[str, Any]] = {}
    call_fields = call_number_fields(item.get("varFields"))
    current = _chosen_call_number_field(call_fields)
    planned = (
        _with_classification(current, classification)
        if current is not None
        else _new_call_number_field(classification, options.call_number_marc_tag)
    )
    if len(call_fields) != 1 or planned != current:
        parts[PART_CALL_NUMBER] = {"varFields": [planned]}
    fixed_fields = item.get("fixedFields")
    inventory_field = str(options.inventory_date_field_number)
    if options.set_inventory_date and not _inventoried_since(fixed_fields, inventory_field, queued_at):
        parts[PART_INVENTORY_DATE] = {"inventoryDate": format_sierra_datetime(now)}
    if options.set_internal_use:
        internal_use = _planned_internal_use(
            fixed_fields, str(options.internal_use_field_number), options.internal_use_value
        )
        if internal_use is not None:
            parts[PART_INTERNAL_USE] = internal_use
    wanted = (
        PART_CALL_NUMBER,
        *((PART_INVENTORY_DATE,) if options.set_inventory_date else ()),
        *((PART_INTERNAL_USE,) if options.set_internal_use else ()),
    )
    return WritebackPlan(
        parts=parts,
        in_place=tuple(name for name in wanted if name not in parts),
        current_call_number=call_number_text(current) if current is not None else _top_level_call_number(item),
        resulting_call_number=call_number_text(planned),
    )


def format_sierra_datetime(moment: datetime) -> str:
    """A moment as Sierra writes it: UTC, seconds, ``Z`` (``2026-11-22T09:00:00Z``)."""
    if moment.tzinfo is None:
        raise ValueError("a Sierra timestamp needs a timezone-aware datetime")
    return moment.astimezone(UTC).strftime(SIERRA_DATETIME_FORMAT)


def parse_sierra_moment(value: object) -> datetime | date | None:
    """A Sierra date-time (aware, UTC when no offset) or date, or None when `value` is neither."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == len("2026-11-22"):
            return date.fromisoformat(text)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def call_number_fields(var_fields: object) -> list[Mapping[str, Any]]:
    """The item's call-number varFields (fieldTag ``c``), in record order."""
    if not isinstance(var_fields, list):
        return []
    return [
        field for field in var_fields if isinstance(field, Mapping) and field.get("fieldTag") == CALL_NUMBER_FIELD_TAG
    ]


def call_number_text(field: Mapping[str, Any]) -> str:
    """A call-number varField as Sierra's `callNumber` shows it: subfields as ``|a84.2|hHEI``, or the plain content."""
    subfields = field.get("subfields")
    if isinstance(subfields, list):
        return "".join(
            f"{SUBFIELD_MARKER}{sub.get('tag', '')}{sub.get('content', '')}"
            for sub in subfields
            if isinstance(sub, Mapping)
        )
    content = field.get("content")
    return content if isinstance(content, str) else ""


def _chosen_call_number_field(fields: list[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The first call-number field with text, else the first one, else None."""
    for field in fields:
        if call_number_text(field).replace(SUBFIELD_MARKER, "").strip():
            return field
    return fields[0] if fields else None


def _top_level_call_number(item: Mapping[str, Any]) -> str | None:
    value = item.get("callNumber")
    return value if isinstance(value, str) and value.strip() else None


def _new_call_number_field(classification: str, marc_tag: str) -> dict[str, Any]:
    return {
        "fieldTag": CALL_NUMBER_FIELD_TAG,
        "marcTag": marc_tag,
        "ind1": " ",
        "ind2": " ",
        "subfields": [{"tag": CALL_NUMBER_SUBFIELD, "content": classification.strip()}],
    }


def _with_classification(field: Mapping[str, Any], classification: str) -> dict[str, Any]:
    updated = dict(field)
    subfields = field.get("subfields")
    if isinstance(subfields, list):
        updated["subfields"] = _with_classification_in_subfields(subfields, classification)
        return updated
    content = field.get("content")
    # Plain content may carry subfield markers (`|a84.2|hHEI`) or none (`84.2 HEI`); only subfield a changes.
    updated["content"] = replace_in_marked_text(content if isinstance(content, str) else "", classification)
    return updated


def _with_classification_in_subfields(subfields: list[Any], classification: str) -> list[Any]:
    result = [dict(subfield) for subfield in subfields if isinstance(subfield, Mapping)]
    for index, subfield in enumerate(result):
        if subfield.get("tag") == CALL_NUMBER_SUBFIELD:
            content = subfield.get("content")
            text = content if isinstance(content, str) else ""
            result[index] = {**subfield, "content": replace_number_part(text, classification)}
            return result
    return [{"tag": CALL_NUMBER_SUBFIELD, "content": classification.strip()}, *result]


def _inventoried_since(fixed_fields: object, number: str, queued_at: datetime) -> bool:
    field = _fixed_field(fixed_fields, number)
    recorded = parse_sierra_moment(field.get("value")) if field else None
    if recorded is None:
        return False
    queued_utc = queued_at.astimezone(UTC)
    if isinstance(recorded, datetime):
        return recorded >= queued_utc.replace(microsecond=0)
    return recorded >= queued_utc.date()


def _planned_internal_use(fixed_fields: object, number: str, value: str) -> dict[str, Any] | None:
    current = _fixed_field(fixed_fields, number)
    if current is not None and str(current.get("value")).strip() == value:
        return None
    label = current.get("label") if current is not None else None
    return {"fixedFields": {number: {"label": label if isinstance(label, str) else "", "value": value}}}


def _fixed_field(fixed_fields: object, number: str) -> Mapping[str, Any] | None:
    if not isinstance(fixed_fields, Mapping):
        return None
    field = fixed_fields.get(number)
    return field if isinstance(field, Mapping) else None
