"""What to PUT to Sierra for one labelled item: only the fields that change, or nothing when it is already done.

Pure: takes the item as Sierra's JSON (`fixedFields`, `varFields`, optionally `inventoryDate`), the
classification to write, the options, the time of the write and the time the item was queued.

- Call number: the first varField with `fieldTag` ``c`` and `marcTag` ``099`` (else the first ``c`` field
  without a MARC tag); its subfield ``a`` gets the classification by :mod:`tarroitus.services.call_number`.
  A field without subfield ``a`` gets one in front; an item without such a field gets one appended. Sierra
  replaces the whole varFields list on a PUT, so the body carries every varField, unchanged but for that one.
- Inventory date (when enabled): the top-level ``inventoryDate`` in UTC without fractions. It counts as done
  when the item's inventory date (``inventoryDate``, else fixed field 69 INVDA) is not older than the moment
  the item was queued, to the second (to the day when Sierra gives only a date): then a write that reached
  Sierra before its outcome was recorded is not repeated, and a reprint, queued later, stamps a new date.
- Internal-use flag (when enabled): fixed field `internal_use_field_number` with the label Sierra returned
  for it (``""`` when absent) and value ``"1"``; done when the value already is 1.
"""

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Self

from tarroitus.services.call_number import replace_in_marked_text, replace_number_part
from tarroitus.settings import Settings

CALL_NUMBER_FIELD_TAG = "c"
CALL_NUMBER_MARC_TAG = "099"
CALL_NUMBER_SUBFIELD = "a"
INVENTORY_DATE_FIXED_FIELD = "69"
INTERNAL_USE_VALUE = "1"
SIERRA_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class WritebackOptions:
    """Which fields a writeback sets besides the call number."""

    set_inventory_date: bool = True
    set_internal_use: bool = True
    internal_use_field_number: int = 93

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """The options the SIERRA_UPDATE_* settings select."""
        return cls(
            set_inventory_date=settings.sierra_update_set_invda,
            set_internal_use=settings.sierra_update_set_iuse3,
            internal_use_field_number=settings.sierra_update_iuse3_field_number,
        )


def plan_writeback(
    item: Mapping[str, Any],
    *,
    classification: str,
    options: WritebackOptions,
    now: datetime,
    queued_at: datetime,
) -> dict[str, Any] | None:
    """The minimal PUT body for the item, or None when Sierra already has everything."""
    if not classification.strip():
        raise ValueError("the classification to write is empty")
    body: dict[str, Any] = {}
    var_fields = _planned_var_fields(item.get("varFields"), classification)
    if var_fields is not None:
        body["varFields"] = var_fields
    if options.set_inventory_date and not _inventoried_since(item, queued_at):
        body["inventoryDate"] = format_sierra_datetime(now)
    if options.set_internal_use:
        internal_use = _planned_internal_use(item.get("fixedFields"), str(options.internal_use_field_number))
        if internal_use is not None:
            body["fixedFields"] = internal_use
    return body or None


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


def find_call_number_field(var_fields: object) -> int | None:
    """Index of the varField the call number goes in, or None when the item has none."""
    if not isinstance(var_fields, list):
        return None
    loose: int | None = None
    for index, field in enumerate(var_fields):
        if not isinstance(field, Mapping) or field.get("fieldTag") != CALL_NUMBER_FIELD_TAG:
            continue
        if field.get("marcTag") == CALL_NUMBER_MARC_TAG:
            return index
        if loose is None and not field.get("marcTag"):
            loose = index
    return loose


def _planned_var_fields(var_fields: object, classification: str) -> list[Any] | None:
    fields: list[Any] = copy.deepcopy(var_fields) if isinstance(var_fields, list) else []
    index = find_call_number_field(fields)
    if index is None:
        fields.append(_new_call_number_field(classification))
        return fields
    current = fields[index]
    updated = _with_classification(current, classification)
    if updated == current:
        return None
    fields[index] = updated
    return fields


def _new_call_number_field(classification: str) -> dict[str, Any]:
    return {
        "fieldTag": CALL_NUMBER_FIELD_TAG,
        "marcTag": CALL_NUMBER_MARC_TAG,
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
    # A plain-content field may carry subfield markers (`|a84.2|hHEI`); only subfield a changes.
    updated["content"] = replace_in_marked_text(content if isinstance(content, str) else "", classification)
    return updated


def _with_classification_in_subfields(subfields: list[Any], classification: str) -> list[Any]:
    result = list(subfields)
    for index, subfield in enumerate(result):
        if isinstance(subfield, Mapping) and subfield.get("tag") == CALL_NUMBER_SUBFIELD:
            content = subfield.get("content")
            text = content if isinstance(content, str) else ""
            result[index] = {**subfield, "content": replace_number_part(text, classification)}
            return result
    return [{"tag": CALL_NUMBER_SUBFIELD, "content": classification.strip()}, *result]


def _inventoried_since(item: Mapping[str, Any], queued_at: datetime) -> bool:
    recorded = parse_sierra_moment(item.get("inventoryDate"))
    if recorded is None:
        fixed = _fixed_field(item.get("fixedFields"), INVENTORY_DATE_FIXED_FIELD)
        recorded = parse_sierra_moment(fixed.get("value")) if fixed else None
    if recorded is None:
        return False
    queued_utc = queued_at.astimezone(UTC)
    if isinstance(recorded, datetime):
        return recorded >= queued_utc.replace(microsecond=0)
    return recorded >= queued_utc.date()


def _planned_internal_use(fixed_fields: object, number: str) -> dict[str, Any] | None:
    current = _fixed_field(fixed_fields, number)
    if current is not None and str(current.get("value")).strip() == INTERNAL_USE_VALUE:
        return None
    label = current.get("label") if current is not None else None
    return {number: {"label": label if isinstance(label, str) else "", "value": INTERNAL_USE_VALUE}}


def _fixed_field(fixed_fields: object, number: str) -> Mapping[str, Any] | None:
    if not isinstance(fixed_fields, Mapping):
        return None
    field = fixed_fields.get(number)
    return field if isinstance(field, Mapping) else None
