"""Response schemas of /api/v1/analytics: the services' read models under their public names and descriptions.

Each schema takes its fields from the read model it extends; only a field holding another read model is
declared again, to show that model's public schema.
"""

from datetime import date

from pydantic import BaseModel, ConfigDict

from tarroitus.services import analytics, forecast


class _FromAttributes(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ProgressGroupPublic(analytics.ProgressGroup, _FromAttributes):
    """One location or item type: `code` is the location code or the item type number."""


class ProgressPublic(analytics.Progress, _FromAttributes):
    """Items labelled (printed at least once), written back and needing a reprint (label outdated), against all
    items not deleted."""

    by_location: list[ProgressGroupPublic]
    by_item_type: list[ProgressGroupPublic]


class DayPrintsPublic(analytics.DayPrints, _FromAttributes):
    """Labels printed on one UTC day, and by how many clients."""


class PrintsPerDayPublic(BaseModel):
    """Labels per day over the requested range (days without prints are absent)."""

    date_from: date | None
    date_to: date | None
    total_labels: int
    days: list[DayPrintsPublic]


class StationThroughputPublic(analytics.StationThroughput, _FromAttributes):
    """One client's printing: totals, active days and hours, labels per active hour, busiest hour."""


class ClientThroughputPublic(BaseModel):
    """Every client that printed, busiest first."""

    clients: list[StationThroughputPublic]


class WritebackDayPublic(analytics.WritebackDay, _FromAttributes):
    """Writeback attempts on one UTC day."""


class WritebackErrorPublic(analytics.WritebackErrorCount, _FromAttributes):
    """One Sierra error over the range: how often, and its latest message."""


class WritebackFailuresPublic(analytics.WritebackFailures, _FromAttributes):
    """Writeback successes and failures per day, and the most frequent Sierra errors."""

    days: list[WritebackDayPublic]
    top_errors: list[WritebackErrorPublic]


class ClassificationSharePublic(analytics.ClassificationShare, _FromAttributes):
    """Labels printed with one classification (or prefix) and their share of all labels."""


class ClassificationDistributionPublic(analytics.ClassificationDistribution, _FromAttributes):
    """The most printed classifications."""

    classifications: list[ClassificationSharePublic]


class TableStatusPublic(analytics.TableStatus, _FromAttributes):
    """One exported table: snapshot (rows of the newest day) or events (rows over all days)."""


class EtlRunPublic(analytics.EtlRunStatus, _FromAttributes):
    """The last ETL run with its per-step counts and outcomes."""


class DataStatusPublic(analytics.DataStatus, _FromAttributes):
    """What the Parquet history holds and where: query it with Athena for anything beyond these figures."""

    tables: list[TableStatusPublic]
    last_run: EtlRunPublic | None


class LabellingForecastPublic(forecast.LabellingForecast, _FromAttributes):
    """One location's forecast (`scope` "location") or the whole collection's (`scope` "total")."""


class ForecastPublic(forecast.Forecast, _FromAttributes):
    """The finish-date forecast, counted live: the whole collection and each location (largest first)."""

    total: LabellingForecastPublic
    by_location: list[LabellingForecastPublic]
