"""Response schemas of /api/v1/analytics."""

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tarroitus.services.forecast import NoEstimateReason


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


class LabellingForecastPublic(_FromAttributes):
    """One location's forecast (`scope` "location") or the whole collection's (`scope` "total")."""

    scope: Literal["total", "location"]
    location_code: str | None
    location_name: str | None
    items_to_label: int = Field(description="Items not deleted with a classification to print")
    items_labelled: int = Field(description="Of those, printed at least once")
    items_remaining: int = Field(description="items_to_label - items_labelled")
    items_reprint_needed: int = Field(description="Labelled items whose label is outdated (not in items_remaining)")
    labelled_last_7_days: int = Field(description="Items first printed in the 7 days (168 h) ending now")
    labelled_last_28_days: int = Field(description="Items first printed in the 28 days ending now")
    rate_7_days: float = Field(description="labelled_last_7_days / 7, items per day")
    rate_28_days: float = Field(description="labelled_last_28_days / 28, items per day")
    days_to_finish: int | None = Field(description="ceil(items_remaining / rate_7_days); null with a reason")
    finish_date: date | None = Field(description="today (UTC) + days_to_finish; null with a reason")
    no_estimate_reason: NoEstimateReason | None = Field(
        description="Why there is no finish date: nothing_left, or no_recent_labelling (7-day rate zero)"
    )


class ForecastPublic(_FromAttributes):
    """The finish-date forecast, counted live: the whole collection and each location (largest first)."""

    as_of: datetime
    today: date
    rate_days: int = Field(description="The window (days) of the rate the finish date is computed from")
    total: LabellingForecastPublic
    by_location: list[LabellingForecastPublic]
