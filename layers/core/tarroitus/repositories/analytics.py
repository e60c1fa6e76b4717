"""Analytics tables: the Parquet partition registry, aggregate refreshes (INSERT ... SELECT) and their reads.

Aggregates are computed by PostgreSQL from the operational tables. Daily tables are replaced
from a given UTC day on; the others are replaced whole. Callers run a refresh in one
transaction, so readers see either the old or the new figures, never a mix.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Integer, Row, column, delete, func, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.orm import Session

from tarroitus.db import Base
from tarroitus.models import (
    AnalyticsClassification,
    AnalyticsProgress,
    AnalyticsStationThroughput,
    AnalyticsWritebackDaily,
    AnalyticsWritebackError,
    EtlPartition,
    JobState,
    LabelEvent,
)


def upsert_partition(
    session: Session,
    *,
    table_name: str,
    dt: date,
    row_count: int,
    file_count: int,
    byte_count: int,
    manifest_key: str,
    run_token: str,
    written_at: datetime,
) -> None:
    """Record (or replace) a committed partition."""
    values = {
        "row_count": row_count,
        "file_count": file_count,
        "byte_count": byte_count,
        "manifest_key": manifest_key,
        "run_token": run_token,
        "written_at": written_at,
    }
    statement = insert(EtlPartition).values(table_name=table_name, dt=dt, **values)
    session.execute(statement.on_conflict_do_update(index_elements=["table_name", "dt"], set_=values))


def list_partition_days(session: Session, *, table_name: str, since: date | None = None) -> list[date]:
    """Days with a committed partition of the table, from `since` on."""
    statement = select(EtlPartition.dt).where(EtlPartition.table_name == table_name).order_by(EtlPartition.dt)
    if since is not None:
        statement = statement.where(EtlPartition.dt >= since)
    return list(session.scalars(statement))


def summarise_partitions(session: Session) -> Sequence[Row[Any]]:
    """Per table: first and last day, partitions, rows and bytes over all days, and rows of the newest day."""
    statement = (
        select(
            EtlPartition.table_name,
            func.min(EtlPartition.dt).label("first_dt"),
            func.max(EtlPartition.dt).label("last_dt"),
            func.count().label("partitions"),
            func.sum(EtlPartition.row_count).label("rows_total"),
            func.sum(EtlPartition.byte_count).label("bytes_total"),
            func.array_agg(aggregate_order_by(EtlPartition.row_count, EtlPartition.dt.desc()))[1].label("rows_newest"),
        )
        .group_by(EtlPartition.table_name)
        .order_by(EtlPartition.table_name)
    )
    return session.execute(statement).all()


@dataclass(frozen=True)
class _Aggregate:
    """An aggregate table and the INSERT ... SELECT that fills it.

    A daily table (`event_time` set) is replaced from a UTC day on: its `insert` holds `{since}`, the
    condition on the event time it is read from.
    """

    model: type[Base]
    insert: str
    event_time: str | None = None


_AGGREGATES = (
    _Aggregate(
        AnalyticsWritebackDaily,
        "INSERT INTO analytics_writeback_daily (day, succeeded, failed, items)"
        " SELECT (attempted_at AT TIME ZONE 'UTC')::date,"
        " count(*) FILTER (WHERE outcome <> ALL(:failures)), count(*) FILTER (WHERE outcome = ANY(:failures)),"
        " count(DISTINCT item_record_id) FROM writeback_attempts WHERE {since} GROUP BY 1",
        event_time="attempted_at",
    ),
    _Aggregate(
        AnalyticsWritebackError,
        "INSERT INTO analytics_writeback_errors (day, sierra_code, http_status, failures, last_error)"
        " SELECT (attempted_at AT TIME ZONE 'UTC')::date, sierra_code, http_status, count(*),"
        " (array_agg(error ORDER BY attempted_at DESC, id DESC))[1]"
        " FROM writeback_attempts WHERE {since} AND outcome = ANY(:failures) GROUP BY 1, 2, 3",
        event_time="attempted_at",
    ),
    # Items total, labelled (printed at least once), written back and needing a reprint, per location and item type.
    _Aggregate(
        AnalyticsProgress,
        "INSERT INTO analytics_progress (location_code, location_name, itype_code_num, item_type_name,"
        " items_total, items_labelled, items_written_back, items_reprint_needed)"
        " SELECT i.location_code, i.location_name, i.itype_code_num, i.item_type_name, count(*),"
        " count(p.item_record_id), count(*) FILTER (WHERE w.status = 'done'),"
        " count(*) FILTER (WHERE i.reprint_needed)"
        " FROM items i"
        " LEFT JOIN (SELECT DISTINCT item_record_id FROM label_events) p ON p.item_record_id = i.item_record_id"
        " LEFT JOIN writeback_queue w ON w.item_record_id = i.item_record_id"
        " WHERE NOT i.deleted GROUP BY 1, 2, 3, 4",
    ),
    _Aggregate(
        AnalyticsClassification,
        "INSERT INTO analytics_classifications (classification, labels)"
        " SELECT classification, count(*) FROM label_events GROUP BY 1",
    ),
    # Per station: labels, active days and hours, the busiest hour, the first and last print.
    _Aggregate(
        AnalyticsStationThroughput,
        "WITH hourly AS ("
        "  SELECT client_id, date_trunc('hour', printed_at AT TIME ZONE 'UTC') AS hour, count(*) AS labels,"
        "  min(printed_at) AS first_at, max(printed_at) AS last_at FROM label_events GROUP BY 1, 2)"
        " INSERT INTO analytics_station_throughput (client_id, client_name, labels, active_days, active_hours,"
        " busiest_hour_labels, first_printed_at, last_printed_at)"
        " SELECT h.client_id, c.name, sum(h.labels), count(DISTINCT h.hour::date), count(*), max(h.labels),"
        " min(h.first_at), max(h.last_at)"
        " FROM hourly h LEFT JOIN clients c ON c.id = h.client_id GROUP BY 1, 2",
    ),
)


def refresh_aggregates(session: Session, *, since: datetime | None, failure_outcomes: Sequence[str]) -> dict[str, int]:
    """Replace every aggregate table, the daily ones from `since` (a UTC midnight; None: everything); rows
    inserted per table. Writeback attempts with one of `failure_outcomes` count as failures."""
    return {
        aggregate.model.__tablename__: _replace(session, aggregate, since=since, failure_outcomes=failure_outcomes)
        for aggregate in _AGGREGATES
    }


def _replace(
    session: Session, aggregate: _Aggregate, *, since: datetime | None, failure_outcomes: Sequence[str]
) -> int:
    """Delete the table's rows (a daily table's from the day of `since` on), then insert them again; the number
    of rows inserted."""
    deletion = delete(aggregate.model)
    insertion = aggregate.insert
    if aggregate.event_time is not None:
        if since is not None:
            deletion = deletion.where(column("day") >= since.date())
        insertion = insertion.format(since=f"{aggregate.event_time} >= :since" if since is not None else "TRUE")
    session.execute(deletion)
    result = session.execute(text(insertion), {"since": since, "failures": list(failure_outcomes)})
    return int(result.rowcount)  # type: ignore[attr-defined]


def list_progress(session: Session) -> Sequence[AnalyticsProgress]:
    """Every progress row, by location and item type."""
    statement = select(AnalyticsProgress).order_by(
        AnalyticsProgress.location_code.nulls_last(), AnalyticsProgress.itype_code_num.nulls_last()
    )
    return session.scalars(statement).all()


def list_prints_per_day(
    session: Session, *, date_from: date | None, date_to: date | None, client_id: uuid.UUID | None
) -> Sequence[Row[Any]]:
    """(day, labels, clients) per UTC day in the range, oldest first, live from `label_events`.

    Live rather than from `analytics_prints_daily`, so today's labels show as they are printed and the
    per-day figures agree with the live progress counts; the range bounds `printed_at` so its index applies.
    A client since deleted (no client id) counts as one client.
    """
    day = func.date(func.timezone("UTC", LabelEvent.printed_at)).label("day")
    statement = (
        select(
            day,
            func.count().label("labels"),
            (
                func.count(LabelEvent.client_id.distinct()) + func.bool_or(LabelEvent.client_id.is_(None)).cast(Integer)
            ).label("clients"),
        )
        .group_by(day)
        .order_by(day)
    )
    if client_id is not None:
        statement = statement.where(LabelEvent.client_id == client_id)
    if date_from is not None:
        statement = statement.where(LabelEvent.printed_at >= _utc_midnight(date_from))
    if date_to is not None:
        statement = statement.where(LabelEvent.printed_at < _utc_midnight(date_to + timedelta(days=1)))
    return session.execute(statement).all()


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def list_labelling_by_location(
    session: Session, *, week_start: datetime, month_start: datetime, now: datetime
) -> Sequence[Row[Any]]:
    """Per location, live: items to label, labelled, needing a reprint, and first printed since two instants.

    Items to label are those not deleted with a classification to print; labelled ones were printed at least
    once. An item's first print is its earliest label event. Only events after `month_start` are read (through
    the `printed_at` index); an item printed before it as well has no first print in either window.
    Columns: location_code, location_name, items_to_label, items_labelled, items_reprint_needed,
    first_printed_week (first print in (week_start, now]) and first_printed_month (in (month_start, now]).
    """
    statement = text(
        "WITH recent AS ("
        "  SELECT e.item_record_id, min(e.printed_at) AS first_printed_at FROM label_events e"
        "  WHERE e.printed_at > :month_start AND e.printed_at <= :now GROUP BY e.item_record_id),"
        " first_prints AS ("
        "  SELECT r.item_record_id, r.first_printed_at FROM recent r WHERE NOT EXISTS ("
        "   SELECT 1 FROM label_events p WHERE p.item_record_id = r.item_record_id AND p.printed_at <= :month_start))"
        " SELECT i.location_code, i.location_name, count(*) AS items_to_label,"
        " count(*) FILTER (WHERE i.print_count > 0) AS items_labelled,"
        " count(*) FILTER (WHERE i.reprint_needed) AS items_reprint_needed,"
        " count(f.item_record_id) FILTER (WHERE f.first_printed_at > :week_start) AS first_printed_week,"
        " count(f.item_record_id) AS first_printed_month"
        " FROM items i LEFT JOIN first_prints f ON f.item_record_id = i.item_record_id"
        " WHERE NOT i.deleted"
        " AND COALESCE(NULLIF(btrim(i.classification_override), ''), NULLIF(btrim(i.classification), '')) IS NOT NULL"
        " GROUP BY 1, 2 ORDER BY 1 NULLS LAST, 2 NULLS LAST"
    )
    params = {"week_start": week_start, "month_start": month_start, "now": now}
    return session.execute(statement, params).all()


def list_station_throughput(session: Session) -> Sequence[AnalyticsStationThroughput]:
    """Every station, busiest first."""
    statement = select(AnalyticsStationThroughput).order_by(
        AnalyticsStationThroughput.labels.desc(), AnalyticsStationThroughput.client_name
    )
    return session.scalars(statement).all()


def list_writeback_days(
    session: Session, *, date_from: date | None, date_to: date | None
) -> Sequence[AnalyticsWritebackDaily]:
    """Writeback successes and failures per day in the range, oldest first."""
    statement = select(AnalyticsWritebackDaily).order_by(AnalyticsWritebackDaily.day)
    return session.scalars(_in_range(statement, AnalyticsWritebackDaily.day, date_from, date_to)).all()


def list_top_writeback_errors(
    session: Session, *, date_from: date | None, date_to: date | None, limit: int
) -> Sequence[Row[Any]]:
    """(sierra_code, http_status, failures, last_error) over the range, most frequent first."""
    errors = AnalyticsWritebackError
    statement = (
        select(
            errors.sierra_code,
            errors.http_status,
            func.sum(errors.failures).label("failures"),
            func.array_agg(aggregate_order_by(errors.last_error, errors.day.desc()))[1].label("last_error"),
        )
        .group_by(errors.sierra_code, errors.http_status)
        .order_by(func.sum(errors.failures).desc(), errors.sierra_code.nulls_last(), errors.http_status.nulls_last())
        .limit(limit)
    )
    return session.execute(_in_range(statement, errors.day, date_from, date_to)).all()


def list_classifications(session: Session, *, prefix_length: int | None, limit: int) -> Sequence[Row[Any]]:
    """(classification or its first `prefix_length` characters, labels), most printed first."""
    key = (
        func.left(AnalyticsClassification.classification, prefix_length)
        if prefix_length is not None
        else AnalyticsClassification.classification
    ).label("classification")
    statement = (
        select(key, func.sum(AnalyticsClassification.labels).label("labels"))
        .group_by(key)
        .order_by(func.sum(AnalyticsClassification.labels).desc(), key)
        .limit(limit)
    )
    return session.execute(statement).all()


def count_printed_labels(session: Session) -> int:
    """All printed labels, over every classification."""
    return int(session.scalar(select(func.coalesce(func.sum(AnalyticsClassification.labels), 0))) or 0)


def _in_range(statement: Any, column: Any, date_from: date | None, date_to: date | None) -> Any:
    if date_from is not None:
        statement = statement.where(column >= date_from)
    if date_to is not None:
        statement = statement.where(column <= date_to)
    return statement


def get_job_state(session: Session, *, job_name: str) -> JobState | None:
    """A job's state row, or None before its first run (read-only: creates nothing)."""
    return session.get(JobState, job_name)
