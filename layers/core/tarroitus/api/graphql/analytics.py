"""GraphQL analytics (admins): the figures of /api/v1/analytics, from the aggregate tables the ETL refreshes and,
for labels per day and the finish-date forecast, live from the operational tables.

`analytics` is a namespace: its fields resolve only once the root field has let an admin through.
"""

import uuid
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON

from tarroitus.api.graphql.context import GraphQLContext
from tarroitus.api.graphql.limits import bounded
from tarroitus.services import analytics as analytics_service
from tarroitus.services import forecast as forecast_service

Context = strawberry.Info[GraphQLContext, None]
DateFrom = Annotated[date | None, strawberry.argument(description="First UTC day, inclusive")]
DateTo = Annotated[date | None, strawberry.argument(description="Last UTC day, inclusive")]


@strawberry.type(description="Items, labelled, written-back and needing a reprint, of one location or item type")
class ProgressGroup:
    code: str | None
    name: str | None
    items_total: int
    items_labelled: int
    items_written_back: int
    items_reprint_needed: int


@strawberry.type(description="Items labelled, written back and needing a reprint against all items not deleted")
class AnalyticsProgress:
    items_total: int
    items_labelled: int
    items_written_back: int
    items_reprint_needed: int
    by_location: list[ProgressGroup]
    by_item_type: list[ProgressGroup]


@strawberry.type(description="Labels printed on one UTC day, and by how many clients")
class DayPrints:
    day: date
    labels: int
    clients: int


@strawberry.type(description="One client's printing: totals, active days and hours, busiest hour")
class StationThroughput:
    client_id: uuid.UUID | None
    client_name: str | None
    labels: int
    active_days: int
    active_hours: int
    labels_per_active_hour: float
    busiest_hour_labels: int
    first_printed_at: datetime
    last_printed_at: datetime


@strawberry.type(description="Writeback attempts on one UTC day")
class WritebackDay:
    day: date
    succeeded: int
    failed: int
    items: int


@strawberry.type(description="One Sierra error over the range: how often, and its latest message")
class WritebackErrorCount:
    sierra_code: int | None
    http_status: int | None
    failures: int
    last_error: str | None


@strawberry.type(description="Writeback successes and failures per day, and the most frequent Sierra errors")
class WritebackFailures:
    days: list[WritebackDay]
    top_errors: list[WritebackErrorCount]


@strawberry.type(description="Labels printed with one classification (or prefix) and their share of all labels")
class ClassificationShare:
    classification: str
    labels: int
    share: float


@strawberry.type(description="The most printed classifications")
class ClassificationDistribution:
    total_labels: int
    classifications: list[ClassificationShare]


@strawberry.type(description="What the Parquet export holds of one table")
class TableStatus:
    table: str
    kind: str = strawberry.field(description='"snapshot" (rows of the newest day) or "events" (rows of all days)')
    location: str
    first_dt: date | None
    last_dt: date | None
    partitions: int
    rows: int
    bytes: int


@strawberry.type(description="One ETL run with its per-step counts and outcomes")
class EtlRun:
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    counts: JSON
    error: str | None


@strawberry.type(description="What the Parquet history holds and where; query it with Athena for anything more")
class DataStatus:
    location: str | None
    first_dt: date | None
    last_dt: date | None
    tables: list[TableStatus]
    last_run: EtlRun | None
    exported_until: datetime | None


@strawberry.type(description="The forecast of one location (scope location) or the whole collection (scope total)")
class LabellingForecast:
    scope: str
    location_code: str | None
    location_name: str | None
    items_to_label: int = strawberry.field(description="Items not deleted with a classification to print")
    items_labelled: int = strawberry.field(description="Of those, printed at least once")
    items_remaining: int
    items_reprint_needed: int
    labelled_last_7_days: int = strawberry.field(description="Items first printed in the 7 days ending now")
    labelled_last_28_days: int = strawberry.field(description="Items first printed in the 28 days ending now")
    rate_7_days: float
    rate_28_days: float
    days_to_finish: int | None
    finish_date: date | None = strawberry.field(description="today (UTC) + ceil(remaining / 7-day rate)")
    no_estimate_reason: str | None = strawberry.field(
        description="Why there is no finish date: nothing_left, or no_recent_labelling (7-day rate zero)"
    )


@strawberry.type(description="The finish-date forecast, counted live: overall and per location, largest first")
class Forecast:
    as_of: datetime
    today: date
    rate_days: int
    total: LabellingForecast
    by_location: list[LabellingForecast]


def _progress_group(group: analytics_service.ProgressGroup) -> ProgressGroup:
    return ProgressGroup(**asdict(group))


def resolve_progress(info: Context) -> AnalyticsProgress:
    """Progress from the aggregate tables."""
    progress = analytics_service.read_progress(info.context.session)
    return AnalyticsProgress(
        items_total=progress.items_total,
        items_labelled=progress.items_labelled,
        items_written_back=progress.items_written_back,
        items_reprint_needed=progress.items_reprint_needed,
        by_location=[_progress_group(group) for group in progress.by_location],
        by_item_type=[_progress_group(group) for group in progress.by_item_type],
    )


def resolve_prints_per_day(
    info: Context, date_from: DateFrom = None, date_to: DateTo = None, client_id: uuid.UUID | None = None
) -> list[DayPrints]:
    """Labels per day, oldest first (days without prints are absent)."""
    days = analytics_service.read_prints_per_day(
        info.context.session, date_from=date_from, date_to=date_to, client_id=client_id
    )
    return [DayPrints(**asdict(day)) for day in days]


def resolve_client_throughput(info: Context) -> list[StationThroughput]:
    """Labels per station, with active days and hours."""
    stations = analytics_service.read_client_throughput(info.context.session)
    return [StationThroughput(**asdict(station)) for station in stations]


def resolve_writeback_failures(
    info: Context, date_from: DateFrom = None, date_to: DateTo = None, top: int = 10
) -> WritebackFailures:
    """Outcomes per day and the `top` Sierra error codes."""
    failures = analytics_service.read_writeback_failures(
        info.context.session, date_from=date_from, date_to=date_to, top=bounded("top", top, 1, 100)
    )
    return WritebackFailures(
        days=[WritebackDay(**asdict(day)) for day in failures.days],
        top_errors=[WritebackErrorCount(**asdict(error)) for error in failures.top_errors],
    )


def resolve_classifications(
    info: Context, prefix_length: int | None = None, limit: int = 100
) -> ClassificationDistribution:
    """The most printed classifications and their shares."""
    distribution = analytics_service.read_classification_distribution(
        info.context.session,
        prefix_length=None if prefix_length is None else bounded("prefixLength", prefix_length, 1, 32),
        limit=bounded("limit", limit, 1, 1000),
    )
    return ClassificationDistribution(
        total_labels=distribution.total_labels,
        classifications=[ClassificationShare(**asdict(share)) for share in distribution.classifications],
    )


def resolve_data_status(info: Context) -> DataStatus:
    """What the Parquet history holds."""
    status = analytics_service.read_data_status(info.context.session, settings=info.context.settings)
    run = status.last_run
    return DataStatus(
        location=status.location,
        first_dt=status.first_dt,
        last_dt=status.last_dt,
        tables=[TableStatus(**asdict(table)) for table in status.tables],
        last_run=None if run is None else EtlRun(**{**asdict(run), "counts": cast(JSON, run.counts)}),
        exported_until=status.exported_until,
    )


def resolve_forecast(info: Context) -> Forecast:
    """The finish-date forecast as of now."""
    report = forecast_service.read_forecast(info.context.session, now=datetime.now(UTC))
    return Forecast(
        as_of=report.as_of,
        today=report.today,
        rate_days=report.rate_days,
        total=LabellingForecast(**asdict(report.total)),
        by_location=[LabellingForecast(**asdict(entry)) for entry in report.by_location],
    )


@strawberry.type(description="Analytics (admins): aggregates the ETL refreshes, labels per day and the forecast live")
class Analytics:
    # Nullable fields: one refused argument (say, a reversed date range) nulls that field, not its siblings.
    progress: AnalyticsProgress | None = strawberry.field(
        resolver=resolve_progress,
        description="Items labelled and written back, overall, per location and per item type",
    )
    prints_per_day: list[DayPrints] | None = strawberry.field(
        resolver=resolve_prints_per_day,
        description="Labels printed per UTC day in a date range, optionally of one client",
    )
    client_throughput: list[StationThroughput] | None = strawberry.field(
        resolver=resolve_client_throughput, description="Every client that printed, busiest first"
    )
    writeback_failures: WritebackFailures | None = strawberry.field(
        resolver=resolve_writeback_failures,
        description="Writeback successes and failures per UTC day, and the most frequent errors",
    )
    classifications: ClassificationDistribution | None = strawberry.field(
        resolver=resolve_classifications,
        description="Printed labels per classification (or classification prefix), most first",
    )
    data_status: DataStatus | None = strawberry.field(
        resolver=resolve_data_status,
        description="The exported date range, rows per table, the last ETL run, the S3 location",
    )
    forecast: Forecast | None = strawberry.field(
        resolver=resolve_forecast,
        description="Items to label, labelled, the 7- and 28-day rates and the finish date, overall and per location",
    )


def resolve_analytics() -> Analytics:
    """The analytics namespace; its fields do the reading."""
    return Analytics()
