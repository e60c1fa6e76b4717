"""GraphQL analytics (admins): the figures of /api/v1/analytics, from the aggregate tables the ETL refreshes and,
for labels per day and the finish-date forecast, live from the operational tables.

`analytics` is a namespace: its fields resolve only once the root field has let an admin through.
"""

import uuid
from datetime import UTC, date, datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from tarroitus.api.analytics_schemas import (
    ClassificationDistributionPublic,
    ClassificationSharePublic,
    DataStatusPublic,
    DayPrintsPublic,
    EtlRunPublic,
    ForecastPublic,
    LabellingForecastPublic,
    ProgressGroupPublic,
    ProgressPublic,
    StationThroughputPublic,
    TableStatusPublic,
    WritebackDayPublic,
    WritebackErrorPublic,
    WritebackFailuresPublic,
)
from tarroitus.api.graphql.context import GraphQLContext
from tarroitus.api.graphql.limits import bounded
from tarroitus.api.graphql.types import nullable_field, object_type_of
from tarroitus.services import analytics as analytics_service
from tarroitus.services import forecast as forecast_service

Context = strawberry.Info[GraphQLContext, None]
DateFrom = Annotated[date | None, strawberry.argument(description="First UTC day, inclusive")]
DateTo = Annotated[date | None, strawberry.argument(description="Last UTC day, inclusive")]


ProgressGroup = object_type_of(
    ProgressGroupPublic, "Items, labelled, written-back and needing a reprint, of one location or item type"
)
AnalyticsProgress = object_type_of(
    ProgressPublic,
    "Items labelled, written back and needing a reprint against all items not deleted",
    name="AnalyticsProgress",
)
DayPrints = object_type_of(DayPrintsPublic, "Labels printed on one UTC day, and by how many clients")
StationThroughput = object_type_of(
    StationThroughputPublic, "One client's printing: totals, active days and hours, busiest hour"
)
WritebackDay = object_type_of(WritebackDayPublic, "Writeback attempts on one UTC day")
WritebackErrorCount = object_type_of(
    WritebackErrorPublic,
    "One Sierra error over the range: how often, and its latest message",
    name="WritebackErrorCount",
)
WritebackFailures = object_type_of(
    WritebackFailuresPublic, "Writeback successes and failures per day, and the most frequent Sierra errors"
)
ClassificationShare = object_type_of(
    ClassificationSharePublic, "Labels printed with one classification (or prefix) and their share of all labels"
)
ClassificationDistribution = object_type_of(ClassificationDistributionPublic, "The most printed classifications")
TableStatus = object_type_of(TableStatusPublic, "What the Parquet export holds of one table")


@strawberry.experimental.pydantic.type(
    model=EtlRunPublic, all_fields=True, description="One ETL run with its per-step counts and outcomes"
)
class EtlRun:
    """The REST data status's last run; its counts as a JSON object."""

    counts: JSON


DataStatus = object_type_of(
    DataStatusPublic, "What the Parquet history holds and where; query it with Athena for anything more"
)


@strawberry.experimental.pydantic.type(
    model=LabellingForecastPublic,
    all_fields=True,
    description="The forecast of one location (scope location) or the whole collection (scope total)",
)
class LabellingForecast:
    """A forecast of the REST forecast; its scope and reason as strings."""

    scope: str
    no_estimate_reason: str | None


Forecast = object_type_of(
    ForecastPublic, "The finish-date forecast, counted live: overall and per location, largest first"
)


def resolve_progress(info: Context) -> ProgressPublic:
    """Progress from the aggregate tables."""
    progress = analytics_service.read_progress(info.context.session)
    return ProgressPublic.model_validate(progress)


def resolve_prints_per_day(
    info: Context, date_from: DateFrom = None, date_to: DateTo = None, client_id: uuid.UUID | None = None
) -> list[DayPrintsPublic]:
    """Labels per day, oldest first (days without prints are absent)."""
    days = analytics_service.read_prints_per_day(
        info.context.session, date_from=date_from, date_to=date_to, client_id=client_id
    )
    return [DayPrintsPublic.model_validate(day) for day in days]


def resolve_client_throughput(info: Context) -> list[StationThroughputPublic]:
    """Labels per station, with active days and hours."""
    stations = analytics_service.read_client_throughput(info.context.session)
    return [StationThroughputPublic.model_validate(station) for station in stations]


def resolve_writeback_failures(
    info: Context, date_from: DateFrom = None, date_to: DateTo = None, top: int = 10
) -> WritebackFailuresPublic:
    """Outcomes per day and the `top` Sierra error codes."""
    failures = analytics_service.read_writeback_failures(
        info.context.session, date_from=date_from, date_to=date_to, top=bounded("top", top, 1, 100)
    )
    return WritebackFailuresPublic.model_validate(failures)


def resolve_classifications(
    info: Context, prefix_length: int | None = None, limit: int = 100
) -> ClassificationDistributionPublic:
    """The most printed classifications and their shares."""
    distribution = analytics_service.read_classification_distribution(
        info.context.session,
        prefix_length=None if prefix_length is None else bounded("prefixLength", prefix_length, 1, 32),
        limit=bounded("limit", limit, 1, 1000),
    )
    return ClassificationDistributionPublic.model_validate(distribution)


def resolve_data_status(info: Context) -> DataStatusPublic:
    """What the Parquet history holds."""
    status = analytics_service.read_data_status(info.context.session, settings=info.context.settings)
    return DataStatusPublic.model_validate(status)


def resolve_forecast(info: Context) -> ForecastPublic:
    """The finish-date forecast as of now."""
    report = forecast_service.read_forecast(info.context.session, now=datetime.now(UTC))
    return ForecastPublic.model_validate(report)


@strawberry.type(description="Analytics (admins): aggregates the ETL refreshes, labels per day and the forecast live")
class Analytics:
    progress = nullable_field(
        resolve_progress, AnalyticsProgress, "Items labelled and written back, overall, per location and per item type"
    )
    prints_per_day = nullable_field(
        resolve_prints_per_day,
        DayPrints,
        "Labels printed per UTC day in a date range, optionally of one client",
        many=True,
    )
    client_throughput = nullable_field(
        resolve_client_throughput, StationThroughput, "Every client that printed, busiest first", many=True
    )
    writeback_failures = nullable_field(
        resolve_writeback_failures,
        WritebackFailures,
        "Writeback successes and failures per UTC day, and the most frequent errors",
    )
    classifications = nullable_field(
        resolve_classifications,
        ClassificationDistribution,
        "Printed labels per classification (or classification prefix), most first",
    )
    data_status = nullable_field(
        resolve_data_status, DataStatus, "The exported date range, rows per table, the last ETL run, the S3 location"
    )
    forecast = nullable_field(
        resolve_forecast,
        Forecast,
        "Items to label, labelled, the 7- and 28-day rates and the finish date, overall and per location",
    )


def resolve_analytics() -> Analytics:
    """The analytics namespace; its fields do the reading."""
    return Analytics()
