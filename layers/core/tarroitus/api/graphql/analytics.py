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
from tarroitus.services import analytics as analytics_service
from tarroitus.services import forecast as forecast_service

Context = strawberry.Info[GraphQLContext, None]
DateFrom = Annotated[date | None, strawberry.argument(description="First UTC day, inclusive")]
DateTo = Annotated[date | None, strawberry.argument(description="Last UTC day, inclusive")]


@strawberry.experimental.pydantic.type(
    model=ProgressGroupPublic,
    all_fields=True,
    description="Items, labelled, written-back and needing a reprint, of one location or item type",
)
class ProgressGroup:
    """A progress group of the REST analytics, field for field."""


@strawberry.experimental.pydantic.type(
    model=ProgressPublic,
    all_fields=True,
    description="Items labelled, written back and needing a reprint against all items not deleted",
)
class AnalyticsProgress:
    """The REST progress, field for field."""


@strawberry.experimental.pydantic.type(
    model=DayPrintsPublic, all_fields=True, description="Labels printed on one UTC day, and by how many clients"
)
class DayPrints:
    """A day of the REST labels per day, field for field."""


@strawberry.experimental.pydantic.type(
    model=StationThroughputPublic,
    all_fields=True,
    description="One client's printing: totals, active days and hours, busiest hour",
)
class StationThroughput:
    """A client of the REST throughput, field for field."""


@strawberry.experimental.pydantic.type(
    model=WritebackDayPublic, all_fields=True, description="Writeback attempts on one UTC day"
)
class WritebackDay:
    """A day of the REST writeback failures, field for field."""


@strawberry.experimental.pydantic.type(
    model=WritebackErrorPublic,
    all_fields=True,
    description="One Sierra error over the range: how often, and its latest message",
)
class WritebackErrorCount:
    """An error of the REST writeback failures, field for field."""


@strawberry.experimental.pydantic.type(
    model=WritebackFailuresPublic,
    all_fields=True,
    description="Writeback successes and failures per day, and the most frequent Sierra errors",
)
class WritebackFailures:
    """The REST writeback failures, field for field."""


@strawberry.experimental.pydantic.type(
    model=ClassificationSharePublic,
    all_fields=True,
    description="Labels printed with one classification (or prefix) and their share of all labels",
)
class ClassificationShare:
    """A classification of the REST distribution, field for field."""


@strawberry.experimental.pydantic.type(
    model=ClassificationDistributionPublic, all_fields=True, description="The most printed classifications"
)
class ClassificationDistribution:
    """The REST classification distribution, field for field."""


@strawberry.experimental.pydantic.type(
    model=TableStatusPublic, all_fields=True, description="What the Parquet export holds of one table"
)
class TableStatus:
    """A table of the REST data status, field for field."""


@strawberry.experimental.pydantic.type(
    model=EtlRunPublic, all_fields=True, description="One ETL run with its per-step counts and outcomes"
)
class EtlRun:
    """The REST data status's last run; its counts as a JSON object."""

    counts: JSON


@strawberry.experimental.pydantic.type(
    model=DataStatusPublic,
    all_fields=True,
    description="What the Parquet history holds and where; query it with Athena for anything more",
)
class DataStatus:
    """The REST data status, field for field."""


@strawberry.experimental.pydantic.type(
    model=LabellingForecastPublic,
    all_fields=True,
    description="The forecast of one location (scope location) or the whole collection (scope total)",
)
class LabellingForecast:
    """A forecast of the REST forecast; its scope and reason as strings."""

    scope: str
    no_estimate_reason: str | None


@strawberry.experimental.pydantic.type(
    model=ForecastPublic,
    all_fields=True,
    description="The finish-date forecast, counted live: overall and per location, largest first",
)
class Forecast:
    """The REST forecast, field for field."""


def resolve_progress(info: Context) -> AnalyticsProgress:
    """Progress from the aggregate tables."""
    progress = analytics_service.read_progress(info.context.session)
    return AnalyticsProgress.from_pydantic(ProgressPublic.model_validate(progress))


def resolve_prints_per_day(
    info: Context, date_from: DateFrom = None, date_to: DateTo = None, client_id: uuid.UUID | None = None
) -> list[DayPrints]:
    """Labels per day, oldest first (days without prints are absent)."""
    days = analytics_service.read_prints_per_day(
        info.context.session, date_from=date_from, date_to=date_to, client_id=client_id
    )
    return [DayPrints.from_pydantic(DayPrintsPublic.model_validate(day)) for day in days]


def resolve_client_throughput(info: Context) -> list[StationThroughput]:
    """Labels per station, with active days and hours."""
    stations = analytics_service.read_client_throughput(info.context.session)
    return [StationThroughput.from_pydantic(StationThroughputPublic.model_validate(station)) for station in stations]


def resolve_writeback_failures(
    info: Context, date_from: DateFrom = None, date_to: DateTo = None, top: int = 10
) -> WritebackFailures:
    """Outcomes per day and the `top` Sierra error codes."""
    failures = analytics_service.read_writeback_failures(
        info.context.session, date_from=date_from, date_to=date_to, top=bounded("top", top, 1, 100)
    )
    return WritebackFailures.from_pydantic(WritebackFailuresPublic.model_validate(failures))


def resolve_classifications(
    info: Context, prefix_length: int | None = None, limit: int = 100
) -> ClassificationDistribution:
    """The most printed classifications and their shares."""
    distribution = analytics_service.read_classification_distribution(
        info.context.session,
        prefix_length=None if prefix_length is None else bounded("prefixLength", prefix_length, 1, 32),
        limit=bounded("limit", limit, 1, 1000),
    )
    return ClassificationDistribution.from_pydantic(ClassificationDistributionPublic.model_validate(distribution))


def resolve_data_status(info: Context) -> DataStatus:
    """What the Parquet history holds."""
    status = analytics_service.read_data_status(info.context.session, settings=info.context.settings)
    return DataStatus.from_pydantic(DataStatusPublic.model_validate(status))


def resolve_forecast(info: Context) -> Forecast:
    """The finish-date forecast as of now."""
    report = forecast_service.read_forecast(info.context.session, now=datetime.now(UTC))
    return Forecast.from_pydantic(ForecastPublic.model_validate(report))


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
