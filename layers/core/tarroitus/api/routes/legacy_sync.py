"""The sync agent's legacy protocol (LEGACY_API.md): `GET /sync` for the plan, `POST /sync` for a batch."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel

from tarroitus.api.deps import SessionDep, SettingsDep
from tarroitus.api.legacy_auth import LegacySyncAgent
from tarroitus.api.legacy_schemas import legacy_error_responses
from tarroitus.domain import SyncMode
from tarroitus.services.sync.state import read_sync_status
from tarroitus.services.sync.uploads import apply_agent_upload

router = APIRouter(tags=["legacy"])


class LegacyFullSyncPlan(BaseModel):
    """Full mode: send the items after `last_synced_id`, `batch_size` at a time."""

    sync_mode: Literal["SYNC_FULL"] = "SYNC_FULL"
    batch_size: int
    last_synced_id: int


class LegacyChangesSyncPlan(BaseModel):
    """Changes mode: send the items changed since `timestamp`."""

    sync_mode: Literal["SYNC_CHANGES"] = "SYNC_CHANGES"
    timestamp: str


class LegacyUploadResult(BaseModel):
    """How many rows of the batch were upserted."""

    upserted: int


@router.get("/sync", response_model=LegacyFullSyncPlan | LegacyChangesSyncPlan, responses=legacy_error_responses(403))
def read_legacy_sync(
    session: SessionDep, settings: SettingsDep, _agent: LegacySyncAgent
) -> LegacyFullSyncPlan | LegacyChangesSyncPlan:
    """What the sync agent should send next."""
    status = read_sync_status(session, runs=0)
    if status.mode is SyncMode.CHANGES and status.changes_since is not None:
        return LegacyChangesSyncPlan(timestamp=status.changes_since.isoformat())
    return LegacyFullSyncPlan(batch_size=settings.full_sync_batch_size, last_synced_id=status.full_sync_cursor)


@router.post("/sync", response_model=LegacyUploadResult, responses=legacy_error_responses(400, 403, 413))
def create_legacy_sync_batch(
    session: SessionDep,
    settings: SettingsDep,
    agent: LegacySyncAgent,
    file: Annotated[UploadFile, File(description="data.tsv.gz: gzip of a UTF-8 TSV with a header row")],
    timestamp: Annotated[datetime, Form(description="ISO 8601 with offset: the agent's session start")],
) -> LegacyUploadResult:
    """Upsert one gzip TSV batch and advance the sync state (a bad file or timestamp changes nothing)."""
    result = apply_agent_upload(
        session, settings, upload=file.file, timestamp=timestamp, client_id=agent.id, allowed_formats=("tsv.gz",)
    )
    return LegacyUploadResult(upserted=result.upserted)
