"""Classification overrides: an administrator loads a mapping of item -> classification."""

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from pydantic import BaseModel, Field

from tarroitus.api.auth import AdminClient
from tarroitus.api.deps import SessionDep, SettingsDep
from tarroitus.api.schemas import error_responses
from tarroitus.errors import PayloadTooLargeError
from tarroitus.services.overrides import load_classification_overrides, require_no_rejections

router = APIRouter(prefix="/items", tags=["items"])


class OverrideLoadPublic(BaseModel):
    """What loading a mapping did."""

    rows: int = Field(description="Data rows in the file")
    applied: int = Field(description="Overrides set (0 on a dry run)")
    changed: int = Field(description="Items whose override actually changed")
    dry_run: bool


@router.post(
    "/classification-overrides",
    response_model=OverrideLoadPublic,
    responses=error_responses(400, 401, 403, 413, 422),
)
def create_classification_overrides(
    session: SessionDep,
    settings: SettingsDep,
    _admin: AdminClient,
    file: Annotated[UploadFile, File(description="CSV or Parquet: item_record_id and/or barcode, classification")],
    dry_run: Annotated[bool, Query(description="Validate only; apply nothing")] = False,
) -> OverrideLoadPublic:
    """Validate every row and apply all overrides, or none: a 422 lists each rejected row and why."""
    data = file.file.read(settings.max_request_body_bytes + 1)
    if len(data) > settings.max_request_body_bytes:
        raise PayloadTooLargeError(f"The file exceeds {settings.max_request_body_bytes} bytes")
    report = require_no_rejections(
        load_classification_overrides(
            session, data=data, dry_run=dry_run, max_inflated_bytes=settings.max_upload_inflated_bytes
        )
    )
    return OverrideLoadPublic(rows=report.rows, applied=report.applied, changed=report.changed, dry_run=report.dry_run)
