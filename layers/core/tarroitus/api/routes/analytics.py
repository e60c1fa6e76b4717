"""Analytics for administrators: from the aggregate tables the ETL job refreshes, and live counts where a
figure must match the progress view (labels per day, the finish-date forecast)."""

import uuid
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from tarroitus.api.analytics_schemas import (
    ClassificationDistributionPublic,
    ClientThroughputPublic,
    DataStatusPublic,
    ForecastPublic,
    PrintsPerDayPublic,
    ProgressPublic,
    StationThroughputPublic,
    WritebackFailuresPublic,
)
from tarroitus.api.auth import require_role
from tarroitus.api.deps import SessionDep, SettingsDep
from tarroitus.api.schemas import error_responses
from tarroitus.domain import ClientRole
from tarroitus.services import analytics, forecast

router = APIRouter(
    prefix="/analytics",
    tags=["analytics"],
    dependencies=[Depends(require_role(ClientRole.ADMIN))],
    responses=error_responses(401, 403),
)

DateFrom = Annotated[date | None, Query(description="First UTC day, inclusive")]
DateTo = Annotated[date | None, Query(description="Last UTC day, inclusive")]
PrefixLength = Annotated[int | None, Query(ge=1, le=32, description="Group by this many leading characters")]


@router.get("/progress", response_model=ProgressPublic)
def read_progress(session: SessionDep) -> ProgressPublic:
    """Items labelled and written back against the total, per location and per item type."""
    return ProgressPublic.model_validate(analytics.read_progress(session))


@router.get("/prints_per_day", response_model=PrintsPerDayPublic, responses=error_responses(422))
def read_prints_per_day(
    session: SessionDep, date_from: DateFrom = None, date_to: DateTo = None, client_id: uuid.UUID | None = None
) -> PrintsPerDayPublic:
    """Labels printed per UTC day in a date range, optionally of one client."""
    days = analytics.read_prints_per_day(session, date_from=date_from, date_to=date_to, client_id=client_id)
    return PrintsPerDayPublic.model_validate(
        {"date_from": date_from, "date_to": date_to, "total_labels": sum(d.labels for d in days), "days": days},
        from_attributes=True,
    )


@router.get("/client_throughput", response_model=ClientThroughputPublic)
def read_client_throughput(session: SessionDep) -> ClientThroughputPublic:
    """Per printer station: labels, active days and hours, labels per active hour, busiest hour."""
    stations = analytics.read_client_throughput(session)
    return ClientThroughputPublic(clients=[StationThroughputPublic.model_validate(s) for s in stations])


@router.get("/writeback_failures", response_model=WritebackFailuresPublic, responses=error_responses(422))
def read_writeback_failures(
    session: SessionDep,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    top: Annotated[int, Query(ge=1, le=100, description="How many error codes to list")] = 10,
) -> WritebackFailuresPublic:
    """Writeback successes and failures per UTC day, with the most frequent Sierra error codes."""
    failures = analytics.read_writeback_failures(session, date_from=date_from, date_to=date_to, top=top)
    return WritebackFailuresPublic.model_validate(failures)


@router.get("/classifications", response_model=ClassificationDistributionPublic, responses=error_responses(422))
def read_classifications(
    session: SessionDep,
    prefix_length: Annotated[
        int | None, Query(ge=1, le=32, description="Group by this many leading characters")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ClassificationDistributionPublic:
    """Printed labels per classification (or classification prefix), most printed first."""
    distribution = analytics.read_classification_distribution(session, prefix_length=prefix_length, limit=limit)
    return ClassificationDistributionPublic.model_validate(distribution)


@router.get("/data_status", response_model=DataStatusPublic)
def read_data_status(session: SessionDep, settings: SettingsDep) -> DataStatusPublic:
    """The exported date range, rows per table, the last ETL run and the S3 location of the Parquet."""
    return DataStatusPublic.model_validate(analytics.read_data_status(session, settings=settings))


@router.get("/forecast", response_model=ForecastPublic)
def read_forecast(session: SessionDep) -> ForecastPublic:
    """Items to label, labelled, the 7- and 28-day rates and the projected finish date, overall and per location."""
    return ForecastPublic.model_validate(forecast.read_forecast(session, now=datetime.now(UTC)))


@router.get(
    "/forecast.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The total row, then one row per location"}},
)
def read_forecast_csv(session: SessionDep) -> Response:
    """The forecast as CSV (a header row, the total, then each location) for a spreadsheet."""
    report = forecast.read_forecast(session, now=datetime.now(UTC))
    return Response(
        content=forecast.forecast_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="tarroitus-forecast-{report.today.isoformat()}.csv"'},
    )
