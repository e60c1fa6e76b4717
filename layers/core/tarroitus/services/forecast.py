"""The finish-date forecast: what is left to label, the recent pace, and the day labelling will be done.

Counted live from the operational tables (never from the ETL's aggregates), for the whole collection and
per location:

- items to label: items not deleted with a classification to print (the override, else the bib's 097);
- labelled: of those, printed at least once (a reprint-needed item is labelled; it is counted apart);
- the rate over the last 7 and 28 days: items of those first printed in the window ending now, per day;
- the finish date: today (UTC) + ceil(remaining / 7-day rate) days. The 7-day rate follows the pace the
  project runs at now (stations added or gone); the 28-day rate is shown beside it for comparison.

No estimate when nothing is left to label (`nothing_left`) or nothing was first printed in the last 7
days (`no_recent_labelling`).
"""

import csv
import enum
import io
from dataclasses import astuple, dataclass, fields
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from tarroitus.repositories import analytics as analytics_repository

RATE_DAYS = 7
COMPARISON_RATE_DAYS = 28
#: Characters a spreadsheet takes as the start of a formula when a cell begins with them.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class NoEstimateReason(enum.StrEnum):
    """Why a forecast has no finish date."""

    NOTHING_LEFT = "nothing_left"
    NO_RECENT_LABELLING = "no_recent_labelling"


@dataclass(frozen=True)
class LabellingForecast:
    """The forecast of one location (`scope` "location") or of the whole collection (`scope` "total")."""

    scope: str
    location_code: str | None
    location_name: str | None
    items_to_label: int
    items_labelled: int
    items_remaining: int
    items_reprint_needed: int
    labelled_last_7_days: int
    labelled_last_28_days: int
    rate_7_days: float
    rate_28_days: float
    days_to_finish: int | None
    finish_date: date | None
    no_estimate_reason: NoEstimateReason | None


@dataclass(frozen=True)
class Forecast:
    """The whole collection's forecast and each location's, as of one instant."""

    as_of: datetime
    today: date
    rate_days: int
    total: LabellingForecast
    by_location: list[LabellingForecast]


def _forecast(
    *,
    scope: str,
    location_code: str | None,
    location_name: str | None,
    to_label: int,
    labelled: int,
    reprint_needed: int,
    week: int,
    month: int,
    today: date,
) -> LabellingForecast:
    remaining = max(0, to_label - labelled)
    if remaining == 0:
        days, reason = None, NoEstimateReason.NOTHING_LEFT
    elif week == 0:
        days, reason = None, NoEstimateReason.NO_RECENT_LABELLING
    else:
        # ceil(remaining / (week / RATE_DAYS)) in integers, so no rounding of the rate moves the day.
        days, reason = -(-remaining * RATE_DAYS // week), None
    return LabellingForecast(
        scope=scope,
        location_code=location_code,
        location_name=location_name,
        items_to_label=to_label,
        items_labelled=labelled,
        items_remaining=remaining,
        items_reprint_needed=reprint_needed,
        labelled_last_7_days=week,
        labelled_last_28_days=month,
        rate_7_days=round(week / RATE_DAYS, 2),
        rate_28_days=round(month / COMPARISON_RATE_DAYS, 2),
        days_to_finish=days,
        finish_date=None if days is None else today + timedelta(days=days),
        no_estimate_reason=reason,
    )


def read_forecast(session: Session, *, now: datetime) -> Forecast:
    """The finish-date forecast as of `now`, overall and per location (largest to label first)."""
    moment = now.astimezone(UTC)
    today = moment.date()
    rows = analytics_repository.list_labelling_by_location(
        session,
        week_start=moment - timedelta(days=RATE_DAYS),
        month_start=moment - timedelta(days=COMPARISON_RATE_DAYS),
        now=moment,
    )
    by_location = [
        _forecast(
            scope="location",
            location_code=row.location_code,
            location_name=row.location_name,
            to_label=row.items_to_label,
            labelled=row.items_labelled,
            reprint_needed=row.items_reprint_needed,
            week=row.first_printed_week,
            month=row.first_printed_month,
            today=today,
        )
        for row in rows
    ]
    total = _forecast(
        scope="total",
        location_code=None,
        location_name=None,
        to_label=sum(row.items_to_label for row in rows),
        labelled=sum(row.items_labelled for row in rows),
        reprint_needed=sum(row.items_reprint_needed for row in rows),
        week=sum(row.first_printed_week for row in rows),
        month=sum(row.first_printed_month for row in rows),
        today=today,
    )
    by_location.sort(key=lambda entry: (-entry.items_to_label, entry.location_code or "", entry.location_name or ""))
    return Forecast(as_of=moment, today=today, rate_days=RATE_DAYS, total=total, by_location=by_location)


def forecast_csv(forecast: Forecast) -> str:
    """The forecast as CSV: a header, the total row, then one row per location; empty cells for no value."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([field.name for field in fields(LabellingForecast)])
    for entry in [forecast.total, *forecast.by_location]:
        writer.writerow([_cell(value) for value in astuple(entry)])
    return buffer.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    # Location names come from Sierra: keep a spreadsheet from running one as a formula.
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text
