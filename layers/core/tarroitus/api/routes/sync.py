"""The Sierra sync: its state and runs, uploads from sync agents, and starting a run now."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Body, File, Form, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field

from tarroitus.api.auth import AdminClient, CurrentClient, SyncClient
from tarroitus.api.deps import SessionDep, SettingsDep, SyncStarterDep
from tarroitus.api.schemas import error_responses
from tarroitus.domain import SyncMode
from tarroitus.services.sync.state import read_sync_status
from tarroitus.services.sync.trigger import ensure_no_sync_running
from tarroitus.services.sync.uploads import UploadFormat, apply_agent_upload

router = APIRouter(prefix="/sync", tags=["sync"])


class SyncRunPublic(BaseModel):
    """One sync run: when, how it ended, and its counts."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    counts: dict[str, Any] | None
    error: str | None


class SyncStatusPublic(BaseModel):
    """Where the sync stands: mode, full-sync cursor, changes watermark, and the newest runs."""

    model_config = ConfigDict(from_attributes=True)

    mode: SyncMode
    full_sync_cursor: int = Field(description="The last item id the full pass has stored")
    full_sync_started_at: datetime | None
    full_sync_completed_at: datetime | None
    changes_since: datetime | None = Field(description="The changes watermark: changes after it are read next")
    last_run_started_at: datetime | None
    last_run_completed_at: datetime | None
    last_run_outcome: str | None
    last_run_counts: dict[str, Any] | None
    last_error: str | None
    recent_runs: list[SyncRunPublic] = Field(description="Newest first")


class SyncUploadPublic(BaseModel):
    """What an upload did."""

    upserted: int
    repeated: bool = Field(description="True when the same file and timestamp were applied before")
    sync_mode: SyncMode
    format: UploadFormat


class SyncRunRequest(BaseModel):
    """Which pass to run; "full" restarts a full pass when the sync is in changes mode."""

    mode: SyncMode | None = Field(default=None, description="None: the pass the sync state calls for")


class SyncRunStartedPublic(BaseModel):
    """Where the run was started."""

    mode: SyncMode | None
    target: str = Field(description='"lambda" (invoked asynchronously) or "in_process" (local development)')


@router.get("", response_model=SyncStatusPublic, responses=error_responses(401))
def read_sync(session: SessionDep, _client: CurrentClient) -> SyncStatusPublic:
    """The sync's mode, cursor, watermark and last runs."""
    return SyncStatusPublic.model_validate(read_sync_status(session))


@router.post("", response_model=SyncUploadPublic, responses=error_responses(400, 401, 403, 413, 422))
def create_sync_upload(
    session: SessionDep,
    settings: SettingsDep,
    client: SyncClient,
    file: Annotated[UploadFile, File(description="A gzip TSV batch (legacy columns) or a Parquet file")],
    timestamp: Annotated[
        datetime | None, Form(description="The batch's session start; advances the sync state like the legacy agent")
    ] = None,
) -> SyncUploadPublic:
    """Validate and upsert a batch of items; a bad file or timestamp is rejected whole and changes nothing."""
    result = apply_agent_upload(session, settings, upload=file.file, timestamp=timestamp, client_id=client.id)
    return SyncUploadPublic(
        upserted=result.upserted, repeated=result.repeated, sync_mode=result.sync_mode, format=result.file_format
    )


@router.post(
    "/run",
    response_model=SyncRunStartedPublic,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 409, 503),
)
def create_sync_run(
    session: SessionDep,
    settings: SettingsDep,
    _admin: AdminClient,
    start_sync: SyncStarterDep,
    background_tasks: BackgroundTasks,
    request: Annotated[SyncRunRequest | None, Body()] = None,
) -> SyncRunStartedPublic:
    """Start a sync run now, asynchronously; 409 while another run holds the lease."""
    mode = request.mode if request else None
    ensure_no_sync_running(session)
    return SyncRunStartedPublic(mode=mode, target=start_sync(settings, mode=mode, schedule=background_tasks.add_task))
