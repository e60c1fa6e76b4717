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
        """The legacy body of an item: its effective classification, and its signum as `shelfmark`."""
        item = found.item
        return cls(
            item_record_id=item.item_record_id,
            item_number=item.item_number,
            barcode=item.barcode,
            bib_number=item.bib_number,
            best_author=item.best_author,
            best_title=item.best_title,
            itype_code_num=item.itype_code_num,
            item_type_name=item.item_type_name,
            material_code=item.material_code,
            material_name=item.material_name,
            classification=found.classification,
            shelfmark=found.signum,
        )


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
