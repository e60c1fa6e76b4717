"""Response schemas of /api/v1/analytics."""

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class _FromAttributes(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ProgressGroupPublic(_FromAttributes):
    """One location or item type: `code` is the location code or the item type number."""

    code: str | None
    name: str | None
    items_total: int
    items_labelled: int
    items_written_back: int
    items_reprint_needed: int


class ProgressPublic(_FromAttributes):
    """Items labelled (printed at least once), written back and needing a reprint (label outdated), against all
    items not deleted."""

    items_total: int
    items_labelled: int
    items_written_back: int
    items_reprint_needed: int
    by_location: list[ProgressGroupPublic]
    by_item_type: list[ProgressGroupPublic]


class DayPrintsPublic(_FromAttributes):
    """Labels printed on one UTC day, and by how many clients."""

    day: date
    labels: int
    clients: int


class PrintsPerDayPublic(BaseModel):
    """Labels per day over the requested range (days without prints are absent)."""

    date_from: date | None
    date_to: date | None
    total_labels: int
    days: list[DayPrintsPublic]


class StationThroughputPublic(_FromAttributes):
    """One client's printing: totals, active days and hours, labels per active hour, busiest hour."""

    client_id: uuid.UUID | None
    client_name: str | None
    labels: int
    active_days: int
    active_hours: int
    labels_per_active_hour: float
    busiest_hour_labels: int
    first_printed_at: datetime
    last_printed_at: datetime


class ClientThroughputPublic(BaseModel):
    """Every client that printed, busiest first."""

    clients: list[StationThroughputPublic]


class WritebackDayPublic(_FromAttributes):
    """Writeback attempts on one UTC day."""

    day: date
    succeeded: int
    failed: int
    items: int


class WritebackErrorPublic(_FromAttributes):
    """One Sierra error over the range: how often, and its latest message."""

    sierra_code: int | None
    http_status: int | None
    failures: int
    last_error: str | None


class WritebackFailuresPublic(_FromAttributes):
    """Writeback successes and failures per day, and the most frequent Sierra errors."""

    days: list[WritebackDayPublic]
    top_errors: list[WritebackErrorPublic]


class ClassificationSharePublic(_FromAttributes):
    """Labels printed with one classification (or prefix) and their share of all labels."""

    classification: str
    labels: int
    share: float


class ClassificationDistributionPublic(_FromAttributes):
    """The most printed classifications."""

    total_labels: int
    classifications: list[ClassificationSharePublic]


class TableStatusPublic(_FromAttributes):
    """One exported table: snapshot (rows of the newest day) or events (rows over all days)."""

    table: str
    kind: str
    location: str
    first_dt: date | None
    last_dt: date | None
    partitions: int
    rows: int
    bytes: int


class EtlRunPublic(_FromAttributes):
    """The last ETL run with its per-step counts and outcomes."""

    started_at: datetime
    finished_at: datetime | None
    outcome: str
    counts: dict[str, Any]
    error: str | None


class DataStatusPublic(_FromAttributes):
    """What the Parquet history holds and where: query it with Athena for anything beyond these figures."""

    location: str | None
    first_dt: date | None
    last_dt: date | None
    tables: list[TableStatusPublic]
    last_run: EtlRunPublic | None
    exported_until: datetime | None
