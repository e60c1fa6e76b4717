"""Response bodies of the legacy protocol, field for field as existing printer stations read them."""

from typing import Any, Self, get_type_hints

from pydantic import BaseModel, create_model

from tarroitus.repositories.items import ItemRecord
from tarroitus.services.items import LegacyItemView
from tarroitus.services.sync.item_mapping import LEGACY_UPLOAD_COLUMNS

LEGACY_RECORD_FIELDS = tuple(
    column for column in LEGACY_UPLOAD_COLUMNS if column not in {"bib_record_id", "shelfmark_json"}
)
"""The item's fields the legacy answer carries: the legacy protocol's item, as its sync agent uploads it, less the
bib record id (stations never saw it) and the main entry (the answer holds the signum computed from it instead)."""


class LegacyItemAnswer(BaseModel):
    """What `LegacyItem` answers with besides the record's fields, and how it is made."""

    @classmethod
    def of(cls, found: LegacyItemView) -> Self:
        """The legacy body of an item: its record's fields, its effective classification, its signum as `shelfmark`."""
        record = {name: getattr(found.item, name) for name in LEGACY_RECORD_FIELDS}
        return cls.model_validate({**record, "classification": found.classification, "shelfmark": found.signum})


_RECORD_TYPES = get_type_hints(ItemRecord)
_RECORD_FIELDS: dict[str, Any] = {name: (_RECORD_TYPES[name], ...) for name in LEGACY_RECORD_FIELDS}

LegacyItem = create_model(
    "LegacyItem",
    __base__=LegacyItemAnswer,
    __doc__="`GET /itemdata/{barcode}`: the station prints `classification` left and `shelfmark` right.",
    __module__=__name__,
    **_RECORD_FIELDS,
    shelfmark=(str, ...),
)
"""The legacy answer of an item: a projection of its record (`ItemRecord`), and its signum as `shelfmark`."""


class LegacyUpdated(BaseModel):
    """`PUT /itemdata/{item_record_id}`: the print was recorded."""

    updated: bool = True


class LegacySyncStatus(BaseModel):
    """`POST /status`: the sync state; timestamps are ISO 8601, "" when unset."""

    full_sync_completed_at: str
    initialized_at: str
    last_sync_run_completed_at: str
    sync_changes_since: str
    sync_mode: str


class LegacyError(BaseModel):
    """The legacy protocol's error body: FastAPI's `{"detail": ...}`, a message or validation errors."""

    detail: str | list[dict[str, Any]]


def legacy_error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the legacy error body for each status code."""
    return {status: {"model": LegacyError} for status in status_codes}
