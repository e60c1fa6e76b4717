"""Sierra sync Lambda: EventBridge Scheduler (or a manual `{"mode": "full"|"changes"}` event) runs one sync pass."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from tarroitus.error_reporting import configure as configure_error_reporting
from tarroitus.jobs import sierra_sync
from tarroitus.observability import COLD_START_METRIC, handler_invocation
from tarroitus.settings import get_settings
from tarroitus.tracing import trace_libraries_when_imported

logger = Logger()
tracer = Tracer(auto_patch=False)
trace_libraries_when_imported(tracer)
metrics = Metrics()

settings = get_settings()
configure_error_reporting(settings)

METRICS = {
    "items_read": "ItemsSynced",
    "inserted": "ItemsInserted",
    "updated": "ItemsUpdated",
    "deleted": "ItemsDeleted",
    "bib_items_updated": "ItemsUpdatedFromBibs",
    "pages": "SyncPages",
}


@handler_invocation(logger, correlation_id_path=correlation_paths.EVENT_BRIDGE)
@metrics.log_metrics(capture_cold_start_metric=COLD_START_METRIC)
@tracer.capture_lambda_handler(capture_response=False)
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    """Run one sync pass inside the invocation's remaining time and return its counts."""
    deadline = sierra_sync.deadline_for(context.get_remaining_time_in_millis())
    result = sierra_sync.run(settings, event=event.raw_event, deadline=deadline)
    for name, metric in METRICS.items():
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=result.get(name, 0))
    return result
