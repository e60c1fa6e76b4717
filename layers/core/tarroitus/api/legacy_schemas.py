"""Response bodies of the legacy protocol, field for field as existing printer stations read them."""

from typing import Any

from pydantic import BaseModel

from tarroitus.services.items import LegacyItemView


class LegacyItem(BaseModel):
    """`GET /itemdata/{barcode}`: the station prints `classification` left and `shelfmark` right."""

    item_record_id: int
    item_number: str | None
    barcode: str | None
    bib_number: str | None
    best_author: str | None
    best_title: str | None
    itype_code_num: int | None
    item_type_name: str | None
    material_code: str | None
    material_name: str | None
    classification: str | None
    shelfmark: str

    @classmethod
    def of(cls, found: LegacyItemView) -> "LegacyItem":
        """The legacy body of an item: its record's fields, its effective classification, its signum as `shelfmark`."""
        record = {name: getattr(found.item, name) for name in cls.model_fields if hasattr(found.item, name)}
        return cls.model_validate({**record, "classification": found.classification, "shelfmark": found.signum})


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
